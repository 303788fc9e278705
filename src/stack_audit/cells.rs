//! A sheet cell as the workbook and the CSV files both write it, so that the two always agree:
//! money stays integer minor units until it is written (a number with a currency format in
//! the workbook, a fixed-point decimal in CSV), yes/no is text, times are RFC 3339 text.

/// Longest text a cell holds: Excel refuses more than 32,767 characters in a cell.
pub const MAX_TEXT: usize = 32_000;

/// One cell of a sheet.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Nothing.
    Empty,
    /// Text.
    Text(String),
    /// A whole number.
    Int(i64),
    /// Money in minor units of a currency.
    Money {
        /// Minor units (cents).
        cents: i64,
        /// ISO 4217 code.
        currency: String,
    },
}

impl Cell {
    /// Text, cut at [`MAX_TEXT`] characters with a note saying so.
    pub fn text(s: impl Into<String>) -> Cell {
        let s: String = s.into();
        if s.chars().count() <= MAX_TEXT {
            return Cell::Text(s);
        }
        let cut: String = s.chars().take(MAX_TEXT).collect();
        Cell::Text(format!("{cut} … (cut at {MAX_TEXT} characters)"))
    }

    /// Optional text; none is empty.
    pub fn opt(s: &Option<String>) -> Cell {
        s.as_ref().map(Cell::text).unwrap_or(Cell::Empty)
    }

    /// An optional whole number.
    pub fn int(v: Option<i64>) -> Cell {
        v.map(Cell::Int).unwrap_or(Cell::Empty)
    }

    /// Yes or no.
    pub fn yes_no(v: bool) -> Cell {
        Cell::Text(if v { "yes" } else { "no" }.into())
    }

    /// Yes, no, or `unknown`.
    pub fn yes_no_unknown(v: Option<bool>) -> Cell {
        v.map(Cell::yes_no).unwrap_or_else(|| Cell::Text("unknown".into()))
    }

    /// Money when both amount and currency are known; a bare number without a currency.
    pub fn money(cents: Option<i64>, currency: Option<&str>) -> Cell {
        match (cents, currency) {
            (Some(cents), Some(c)) => Cell::Money { cents, currency: c.to_string() },
            (Some(cents), None) => Cell::Int(cents),
            (None, _) => Cell::Empty,
        }
    }

    /// The cell as CSV writes it.
    pub fn to_csv(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text(s) => s.clone(),
            Cell::Int(v) => v.to_string(),
            Cell::Money { cents, currency } => decimal(*cents, currency),
        }
    }
}

/// Digits after the decimal point for `currency` (2 when unknown).
pub fn exponent(currency: &str) -> u32 {
    u32::from(iso_currency::Currency::from_code(currency).and_then(|c| c.exponent()).unwrap_or(2))
}

/// Minor units as a fixed-point decimal (`1234.50`), computed in integers so it never varies.
pub fn decimal(cents: i64, currency: &str) -> String {
    let exp = exponent(currency);
    let unit = 10i64.pow(exp);
    let sign = if cents < 0 { "-" } else { "" };
    let (whole, frac) = (cents.unsigned_abs() / unit as u64, cents.unsigned_abs() % unit as u64);
    match exp {
        0 => format!("{sign}{whole}"),
        _ => format!("{sign}{whole}.{frac:0width$}", width = exp as usize),
    }
}

/// Minor units as the number a spreadsheet holds (`1234.5`).
pub fn number(cents: i64, currency: &str) -> f64 {
    cents as f64 / 10f64.powi(exponent(currency) as i32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_is_written_the_same_way_every_time() {
        assert_eq!(decimal(123450, "USD"), "1234.50");
        assert_eq!(decimal(-5, "EUR"), "-0.05");
        assert_eq!(decimal(1500, "JPY"), "1500");
        assert_eq!(decimal(1234, "KWD"), "1.234");
        assert_eq!(number(123450, "USD"), 1234.5);
        let long = "x".repeat(MAX_TEXT + 10);
        let Cell::Text(t) = Cell::text(long) else { panic!() };
        assert!(t.ends_with("(cut at 32000 characters)"));
    }
}
