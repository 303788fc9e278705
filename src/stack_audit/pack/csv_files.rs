//! One CSV file per sheet: the header row, then the same cells as the workbook, money as
//! fixed-point decimals (`1234.50`) in the currency of the row's currency column.

use super::each_cells;
use crate::db::Conn;
use crate::stack_audit::error::{Result, StackAuditError};
use crate::stack_audit::sheets::Sheet;
use crate::stack_audit::store::AuditId;
use std::io::Write;

fn csv_err(e: csv::Error) -> StackAuditError {
    StackAuditError::Pack(format!("CSV: {e}"))
}

/// Writes `sheet` of `audit` as CSV into `out`.
pub fn write(conn: &mut Conn, audit: AuditId, sheet: Sheet, out: &mut dyn Write) -> Result<()> {
    let mut w = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(out);
    w.write_record(sheet.headers()).map_err(csv_err)?;
    each_cells(conn, audit, sheet, |cells| w.write_record(cells.iter().map(|c| c.to_csv())).map_err(csv_err))?;
    w.flush()?;
    Ok(())
}
