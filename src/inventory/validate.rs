//! Field checks shared by the inventory forms; each failure names its field.

use std::str::FromStr;

/// A field that failed validation, with a message a person can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct Invalid {
    /// The field's name as written in JSON and CSV.
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

impl Invalid {
    /// A failure for `field`.
    pub fn new(field: &str, message: impl Into<String>) -> Self {
        Self { field: field.to_string(), message: message.into() }
    }
}

const MAX_TEXT: usize = 2000;

/// Trims; an empty or missing required text is refused.
pub fn required(field: &str, value: &mut String) -> Result<(), Invalid> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(Invalid::new(field, "is required and must not be blank"));
    }
    if trimmed.len() > MAX_TEXT {
        return Err(Invalid::new(field, format!("must be at most {MAX_TEXT} characters")));
    }
    *value = trimmed.to_string();
    Ok(())
}

/// Trims an optional text; blank becomes none.
pub fn optional(field: &str, value: &mut Option<String>) -> Result<(), Invalid> {
    if let Some(v) = value.as_mut() {
        let trimmed = v.trim();
        if trimmed.len() > MAX_TEXT {
            return Err(Invalid::new(field, format!("must be at most {MAX_TEXT} characters")));
        }
        *v = trimmed.to_string();
    }
    if value.as_deref() == Some("") {
        *value = None;
    }
    Ok(())
}

/// Checks and lower-cases a required email address (emails match case-insensitively).
pub fn email(field: &str, value: &mut String) -> Result<(), Invalid> {
    required(field, value)?;
    if email_address::EmailAddress::from_str(value).is_err() {
        return Err(Invalid::new(field, format!("{value:?} is not an email address")));
    }
    *value = value.to_lowercase();
    Ok(())
}

/// Like [`email`] for an optional field; blank becomes none.
pub fn optional_email(field: &str, value: &mut Option<String>) -> Result<(), Invalid> {
    optional(field, value)?;
    if let Some(v) = value.as_mut() {
        email(field, v)?;
    }
    Ok(())
}

/// Checks an ISO 4217 code and upper-cases it.
pub fn currency(field: &str, value: &mut String) -> Result<(), Invalid> {
    let code = value.trim().to_uppercase();
    if iso_currency::Currency::from_code(&code).is_none() {
        return Err(Invalid::new(field, format!("{value:?} is not an ISO 4217 currency code such as USD or EUR")));
    }
    *value = code;
    Ok(())
}

/// Refuses a negative amount or count.
pub fn not_negative<T: PartialOrd + Default + Copy>(field: &str, value: Option<T>) -> Result<(), Invalid> {
    match value {
        Some(v) if v < T::default() => Err(Invalid::new(field, "must not be negative")),
        _ => Ok(()),
    }
}

/// Upper bound of `seats_purchased`: ten million seats, far above any real contract, and low
/// enough that seats × price × 12 months stays well inside 64-bit cents.
pub const MAX_SEATS: i64 = 10_000_000;
/// Upper bound of `unit_price_cents`: 1,000,000,000 minor units (ten million in major units)
/// per seat per billing period.
pub const MAX_UNIT_PRICE_CENTS: i64 = 1_000_000_000;

/// Refuses a count or amount above `max` (and below zero).
pub fn at_most(field: &str, value: Option<i64>, max: i64) -> Result<(), Invalid> {
    not_negative(field, value)?;
    match value {
        Some(v) if v > max => Err(Invalid::new(field, format!("must be at most {max}"))),
        _ => Ok(()),
    }
}

/// serde `deserialize_with` for a change-set field that cannot be cleared: absent stays absent
/// (with `#[serde(default)]`), a value is taken, and `null` is refused naming the field rather
/// than silently ignored.
pub fn not_null<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    match <Option<T> as serde::Deserialize>::deserialize(d)? {
        None => Err(serde::de::Error::custom(crate::time::NULL_REFUSED)),
        some => Ok(some),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_and_refuses() {
        let mut e = " Jane.Doe@Example.COM ".to_string();
        email("email", &mut e).unwrap();
        assert_eq!(e, "jane.doe@example.com");
        let mut bad = "jane".to_string();
        assert_eq!(email("email", &mut bad).unwrap_err().field, "email");
        let mut c = "eur".to_string();
        currency("currency", &mut c).unwrap();
        assert_eq!(c, "EUR");
        let mut c = "XYZ".to_string();
        assert!(currency("currency", &mut c).is_err());
        assert!(not_negative("seats_purchased", Some(-1i64)).is_err());
        assert!(not_negative("seats_purchased", Some(0i64)).is_ok());
        let mut blank = Some("  ".to_string());
        optional("vendor", &mut blank).unwrap();
        assert_eq!(blank, None);
        let mut empty = "   ".to_string();
        assert!(required("name", &mut empty).is_err());
        assert!(at_most("seats_purchased", Some(MAX_SEATS + 1), MAX_SEATS).is_err());
        assert!(at_most("seats_purchased", Some(MAX_SEATS), MAX_SEATS).is_ok());
    }
}
