//! Typed reading of one CSV row's cells: absent column = leave as is, empty cell = none.

use super::TransferError;
use crate::inventory::{InventoryError, Result as InvResult};
use std::str::FromStr;

/// One data row with its header, for typed reads that name the row and column on failure.
pub(super) struct Cells<'a> {
    pub row: usize,
    header: &'a [String],
    record: &'a csv::StringRecord,
}

impl<'a> Cells<'a> {
    pub fn new(row: usize, header: &'a [String], record: &'a csv::StringRecord) -> Self {
        Self { row, header, record }
    }

    fn raw(&self, column: &str) -> Option<&'a str> {
        let i = self.header.iter().position(|h| h == column)?;
        Some(super::unguard(self.record.get(i).unwrap_or("")))
    }

    /// The error for `column` in this row.
    pub fn error(&self, column: &str, message: impl Into<String>) -> TransferError {
        TransferError::Cell { row: self.row, column: column.to_string(), message: message.into() }
    }

    /// Turns an inventory refusal into an error naming this row and the refused field's column.
    pub fn refused(&self, e: InventoryError) -> TransferError {
        match e {
            InventoryError::Invalid(i) => self.error(&i.field, i.message),
            InventoryError::Conflict { field, message } => self.error(field, message),
            e @ InventoryError::NotFound { .. } => self.error("id", e.to_string()),
            other => TransferError::Inventory(other),
        }
    }

    /// Maps an inventory result with [`Cells::refused`].
    pub fn check<T>(&self, r: InvResult<T>) -> Result<T, TransferError> {
        r.map_err(|e| self.refused(e))
    }

    /// A required-when-present text: `Some(text)` if the column exists.
    pub fn text(&self, column: &str) -> Option<String> {
        self.raw(column).map(str::to_string)
    }

    /// An optional text: `Some(None)` for an empty cell.
    pub fn opt_text(&self, column: &str) -> Option<Option<String>> {
        self.raw(column).map(|s| Some(s.to_string()).filter(|s| !s.is_empty()))
    }

    /// A typed value; an empty cell is refused.
    pub fn value<T: FromStr>(&self, column: &str) -> Result<Option<T>, TransferError>
    where
        T::Err: std::fmt::Display,
    {
        match self.raw(column) {
            None => Ok(None),
            Some("") => Err(self.error(column, "must not be empty")),
            Some(s) => s.parse().map(Some).map_err(|e| self.error(column, format!("{s:?}: {e}"))),
        }
    }

    /// An optional typed value; an empty cell is `Some(None)`.
    pub fn opt_value<T: FromStr>(&self, column: &str) -> Result<Option<Option<T>>, TransferError>
    where
        T::Err: std::fmt::Display,
    {
        match self.raw(column) {
            None => Ok(None),
            Some("") => Ok(Some(None)),
            Some(s) => s.parse().map(|v| Some(Some(v))).map_err(|e| self.error(column, format!("{s:?}: {e}"))),
        }
    }

    /// A calendar day written `YYYY-MM-DD`; an empty cell is refused.
    pub fn date(&self, column: &str) -> Result<Option<chrono::NaiveDate>, TransferError> {
        match self.raw(column) {
            None => Ok(None),
            Some("") => Err(self.error(column, "must not be empty")),
            Some(s) => crate::time::parse_date(s).map(Some).map_err(|e| self.error(column, e)),
        }
    }

    /// An optional calendar day written `YYYY-MM-DD`; an empty cell is `Some(None)`.
    pub fn opt_date(&self, column: &str) -> Result<Option<Option<chrono::NaiveDate>>, TransferError> {
        match self.raw(column) {
            None => Ok(None),
            Some("") => Ok(Some(None)),
            Some(s) => crate::time::parse_date(s).map(|d| Some(Some(d))).map_err(|e| self.error(column, e)),
        }
    }

    /// An optional UTC time (RFC 3339 or a date).
    pub fn opt_time(&self, column: &str) -> Result<Option<Option<chrono::NaiveDateTime>>, TransferError> {
        match self.raw(column) {
            None => Ok(None),
            Some("") => Ok(Some(None)),
            Some(s) => crate::time::parse(s).map(|t| Some(Some(t))).map_err(|e| self.error(column, e)),
        }
    }

    /// A boolean written true/false, yes/no or 1/0.
    pub fn flag(&self, column: &str) -> Result<Option<bool>, TransferError> {
        match self.raw(column).map(|s| s.to_lowercase()) {
            None => Ok(None),
            Some(s) => match s.as_str() {
                "true" | "yes" | "1" => Ok(Some(true)),
                "false" | "no" | "0" => Ok(Some(false)),
                other => Err(self.error(column, format!("{other:?} is not true or false"))),
            },
        }
    }
}
