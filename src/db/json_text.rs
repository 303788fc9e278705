//! `JsonText<T>`: a value stored as JSON in a TEXT column on both backends. A stored value that
//! does not parse as `T` is an error when the row is read, never an empty value in its place.

use super::conn::MultiBackend;
use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql};
use diesel::pg::Pg;
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::Text;
use diesel::sqlite::Sqlite;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::fmt::Debug;
use std::io::Write;

/// A typed value kept as JSON text (lists of ids, settings maps, evidence documents).
#[derive(Debug, Clone, Default, PartialEq, Eq, diesel::AsExpression, diesel::FromSqlRow)]
#[diesel(sql_type = Text)]
pub struct JsonText<T>(pub T);

impl<T> JsonText<T> {
    /// The value inside.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> From<T> for JsonText<T> {
    fn from(value: T) -> Self {
        JsonText(value)
    }
}

impl<T> std::ops::Deref for JsonText<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> std::ops::DerefMut for JsonText<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

// In JSON (audit log snapshots, API bodies) the value is itself, not a string of JSON.
impl<T: Serialize> Serialize for JsonText<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for JsonText<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        T::deserialize(d).map(JsonText)
    }
}

/// Why a stored JSON value was refused: names the Rust type so the log says which column.
#[derive(Debug, thiserror::Error)]
#[error("a stored JSON value is not a valid {type_name}: {source}")]
struct Corrupt {
    type_name: &'static str,
    source: serde_json::Error,
}

fn parse<T: DeserializeOwned>(text: &str) -> deserialize::Result<JsonText<T>> {
    serde_json::from_str(text)
        .map(JsonText)
        .map_err(|source| Box::new(Corrupt { type_name: std::any::type_name::<T>(), source }) as _)
}

impl<T, DB> FromSql<Text, DB> for JsonText<T>
where
    DB: Backend,
    String: FromSql<Text, DB>,
    T: DeserializeOwned,
{
    fn from_sql(bytes: DB::RawValue<'_>) -> deserialize::Result<Self> {
        parse(&String::from_sql(bytes)?)
    }
}

impl<T: Serialize + Debug> ToSql<Text, Sqlite> for JsonText<T> {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
        out.set_value(serde_json::to_string(&self.0)?);
        Ok(IsNull::No)
    }
}

impl<T: Serialize + Debug> ToSql<Text, Pg> for JsonText<T> {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        serde_json::to_writer(&mut *out, &self.0)?;
        out.flush()?;
        Ok(IsNull::No)
    }
}

// The connection enum's backend hands the value to whichever backend is connected.
impl<T: Serialize + Debug + Send + Sync + 'static> ToSql<Text, MultiBackend> for JsonText<T> {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, MultiBackend>) -> serialize::Result {
        out.set_value((Text, self));
        Ok(IsNull::No)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_corrupt_value_is_an_error_naming_the_type() {
        let err = parse::<Vec<i64>>("[1, 2").unwrap_err().to_string();
        assert!(err.contains("Vec<i64>"), "{err}");
        assert_eq!(parse::<Vec<i64>>("[1,2]").unwrap().0, vec![1, 2]);
    }

    #[test]
    fn serializes_as_the_value_itself() {
        let v = JsonText(vec!["a".to_string()]);
        assert_eq!(serde_json::to_string(&v).unwrap(), r#"["a"]"#);
    }
}
