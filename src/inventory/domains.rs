//! An app's web domains: a list in JSON, one comma-separated TEXT column in storage.

use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql};
use diesel::serialize::{self, Output, ToSql};
use diesel::sql_types::Text;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Domains an app is reached at (`zoom.us`, `zoom.com`), lower-case, no scheme.
/// Held in the stored form (joined by commas) so it binds to SQL without copying.
#[derive(Debug, Clone, Default, PartialEq, Eq, diesel::AsExpression, diesel::FromSqlRow)]
#[diesel(sql_type = Text)]
pub struct Domains(String);

impl Domains {
    /// Parses a list written with commas, semicolons or spaces between domains (CSV cells).
    pub fn parse_list(s: &str) -> Self {
        Self::from_iter(s.split([',', ';', ' ']))
    }

    /// The domains one by one.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.split(',').filter(|d| !d.is_empty())
    }

    /// The stored form: domains joined by commas.
    pub fn joined(&self) -> &str {
        &self.0
    }

    /// Lower-cases, strips schemes and paths, drops duplicates; refuses what is not a host name.
    pub fn normalise(&mut self) -> Result<(), String> {
        let mut out: Vec<String> = Vec::new();
        for d in self.iter() {
            let d = d.trim().to_lowercase();
            let d = d.rsplit("://").next().unwrap_or_default();
            let d = d.split('/').next().unwrap_or_default().to_string();
            let valid = d.contains('.')
                && d.len() <= 253
                && d.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
            if !valid {
                return Err(format!("{d:?} is not a domain name such as zoom.us"));
            }
            if !out.contains(&d) {
                out.push(d);
            }
        }
        self.0 = out.join(",");
        Ok(())
    }
}

impl<'a> FromIterator<&'a str> for Domains {
    fn from_iter<I: IntoIterator<Item = &'a str>>(iter: I) -> Self {
        let parts: Vec<&str> = iter.into_iter().map(str::trim).filter(|d| !d.is_empty()).collect();
        Domains(parts.join(","))
    }
}

impl Serialize for Domains {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

impl<'de> Deserialize<'de> for Domains {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let list = Vec::<String>::deserialize(d)?;
        Ok(list.iter().map(String::as_str).collect())
    }
}

impl utoipa::PartialSchema for Domains {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        <Vec<String> as utoipa::PartialSchema>::schema()
    }
}

impl utoipa::ToSchema for Domains {}

impl<DB> ToSql<Text, DB> for Domains
where
    DB: Backend,
    String: ToSql<Text, DB>,
{
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DB>) -> serialize::Result {
        self.0.to_sql(out)
    }
}

impl<DB> FromSql<Text, DB> for Domains
where
    DB: Backend,
    String: FromSql<Text, DB>,
{
    fn from_sql(bytes: DB::RawValue<'_>) -> deserialize::Result<Self> {
        Ok(Domains(String::from_sql(bytes)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises() {
        let mut d = Domains::parse_list("https://Zoom.us/signin; zoom.com zoom.us");
        d.normalise().unwrap();
        assert_eq!(d.joined(), "zoom.us,zoom.com");
        assert_eq!(serde_json::to_string(&d).unwrap(), r#"["zoom.us","zoom.com"]"#);
        let mut bad = Domains::parse_list("not a domain");
        assert!(bad.normalise().is_err());
    }
}
