//! CSV import and export of apps, subscriptions, people and accounts. A header row names the
//! columns; an import is all-or-nothing and its errors name the row and column. A file exported
//! here imports back unchanged: rows with an `id` update that record, rows without one create
//! a record (or update the one with the same natural key: app name, person email, account
//! external id), and read-only columns (timestamps, matched person) are accepted and ignored.

mod cells;
mod kinds;

use super::InventoryError;
use crate::audit::Actor;
use crate::db::Conn;
use cells::Cells;
use std::io::{Read, Write};

crate::text_enum!(
    /// What a CSV file holds.
    Kind {
        /// Apps.
        Apps => "apps",
        /// Subscriptions.
        Subscriptions => "subscriptions",
        /// People.
        People => "people",
        /// Accounts.
        Accounts => "accounts",
    }
);

/// Why an import or export failed; nothing was changed.
#[derive(Debug, thiserror::Error)]
pub enum TransferError {
    /// A cell's value was refused.
    #[error("row {row}, column {column}: {message}")]
    Cell {
        /// Data row, 1 = the first row after the header.
        row: usize,
        /// Column name.
        column: String,
        /// What is wrong.
        message: String,
    },
    /// The header names an unknown column or lacks a required one.
    #[error("column {column}: {message}")]
    Header {
        /// Column name.
        column: String,
        /// What is wrong.
        message: String,
    },
    /// The file is not CSV (bad quoting, ragged rows, not UTF-8).
    #[error("{0}")]
    Malformed(String),
    /// Storage failed.
    #[error(transparent)]
    Inventory(InventoryError),
    /// Writing the export failed.
    #[error("writing CSV failed: {0}")]
    Io(#[from] std::io::Error),
}

impl From<crate::db::DbError> for TransferError {
    fn from(e: crate::db::DbError) -> Self {
        TransferError::Inventory(e.into())
    }
}

impl From<diesel::result::Error> for TransferError {
    fn from(e: diesel::result::Error) -> Self {
        TransferError::Inventory(e.into())
    }
}

/// What an import did.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct ImportReport {
    /// Rows that created a record.
    pub created: usize,
    /// Rows that changed a record.
    pub updated: usize,
    /// Rows equal to the record already stored.
    pub unchanged: usize,
}

/// The outcome of one row.
enum Outcome {
    Created,
    Updated,
    Unchanged,
}

/// Writes every record of `kind` as CSV, header first, in id order.
pub fn export(conn: &mut Conn, kind: Kind, out: impl Write) -> Result<(), TransferError> {
    let mut w = csv::Writer::from_writer(out);
    let columns = kinds::columns(kind);
    w.write_record(columns).map_err(csv_io)?;
    kinds::export_rows(conn, kind, &mut |row: Vec<String>| {
        w.write_record(row.iter().map(|cell| guard(cell).into_owned())).map_err(csv_io)
    })?;
    w.flush()?;
    Ok(())
}

/// True for a cell a spreadsheet would run as a formula (`=`, `+`, `-`, `@`), or one that
/// already carries the guard quote in front of such a cell.
fn needs_guard(cell: &str) -> bool {
    match cell.as_bytes().first() {
        Some(b'=' | b'+' | b'-' | b'@') => true,
        Some(b'\'') => needs_guard(&cell[1..]),
        _ => false,
    }
}

/// Neutralises spreadsheet formula injection (OWASP "CSV injection") on export: a cell that a
/// spreadsheet would evaluate gets a leading `'`, which spreadsheets show as text.
pub fn guard(cell: &str) -> std::borrow::Cow<'_, str> {
    if needs_guard(cell) {
        std::borrow::Cow::Owned(format!("'{cell}"))
    } else {
        std::borrow::Cow::Borrowed(cell)
    }
}

/// Undoes [`guard`] on import, so an exported file imports back unchanged.
pub fn unguard(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if needs_guard(rest) => rest,
        _ => cell,
    }
}

fn csv_io(e: csv::Error) -> TransferError {
    match e.into_kind() {
        csv::ErrorKind::Io(io) => TransferError::Io(io),
        other => TransferError::Malformed(format!("{other:?}")),
    }
}

/// Reads CSV of `kind` and applies every row in one transaction: all rows or none.
pub fn import(conn: &mut Conn, actor: &Actor, kind: Kind, input: impl Read) -> Result<ImportReport, TransferError> {
    let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(input);
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| TransferError::Malformed(format!("the header row cannot be read: {e}")))?
        .iter()
        .map(|h| h.trim().trim_start_matches('\u{feff}').to_lowercase())
        .collect();
    check_header(kind, &header)?;
    let mut rows = Vec::new();
    let mut seen = std::collections::HashMap::new();
    for (i, rec) in reader.records().enumerate() {
        let rec = rec.map_err(|e| TransferError::Malformed(format!("row {}: {e}", i + 1)))?;
        // PostgreSQL cannot store a NUL character; refuse it on both backends.
        if let Some(at) = rec.iter().position(|cell| cell.contains('\0')) {
            let column = header.get(at).cloned().unwrap_or_default();
            let message = "must not contain a NUL character".into();
            return Err(TransferError::Cell { row: i + 1, column, message });
        }
        // Two rows about one record are almost always a mistake in the sheet; say so.
        if let Some((column, key)) = kinds::row_key(kind, &Cells::new(i + 1, &header, &rec)) {
            if let Some(first) = seen.insert(key.clone(), i + 1) {
                let message = format!("{key} is also in row {first}");
                return Err(TransferError::Cell { row: i + 1, column: column.into(), message });
            }
        }
        rows.push(rec);
    }
    crate::db::write_tx(conn, |conn| {
        let mut report = ImportReport::default();
        for (i, rec) in rows.iter().enumerate() {
            let cells = Cells::new(i + 1, &header, rec);
            match kinds::import_row(conn, actor, kind, &cells)? {
                Outcome::Created => report.created += 1,
                Outcome::Updated => report.updated += 1,
                Outcome::Unchanged => report.unchanged += 1,
            }
        }
        Ok(report)
    })
}

fn check_header(kind: Kind, header: &[String]) -> Result<(), TransferError> {
    let columns = kinds::columns(kind);
    for (i, h) in header.iter().enumerate() {
        if !columns.contains(&h.as_str()) {
            let message = format!("unknown column for {kind}; known columns: {}", columns.join(", "));
            return Err(TransferError::Header { column: h.clone(), message });
        }
        if header[..i].contains(h) {
            return Err(TransferError::Header { column: h.clone(), message: "appears twice".into() });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_guarded_and_read_back_unchanged() {
        for cell in ["=1+1", "+1", "-2", "@SUM(A1)", "'=x", "''@x", "'plain", "plain", "", "a=b"] {
            assert_eq!(unguard(&guard(cell)), cell, "{cell:?} round-trips");
        }
        assert_eq!(guard("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(guard("-5"), "'-5");
        assert_eq!(guard("'=x"), "''=x");
        assert_eq!(guard("plain"), "plain");
        assert_eq!(unguard("'plain"), "'plain", "a quote before harmless text is the text's own");
    }
}
