//! The workbook (rust_xlsxwriter): one sheet per [`Sheet`], header row bold and frozen, a
//! filter on every column, money as numbers with the currency's format. Sheets are written in
//! constant-memory mode (rows stream to a temporary file), and the document's creation time is
//! the audit's, so the bytes depend on the audit alone.

use super::each_cells;
use crate::db::Conn;
use crate::stack_audit::cells::{self, Cell};
use crate::stack_audit::error::{Result, StackAuditError};
use crate::stack_audit::sheets::Sheet;
use crate::stack_audit::store::Audit;
use chrono::{Datelike, Timelike};
use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, Workbook, XlsxError};
use std::collections::HashMap;

fn xlsx_err(e: XlsxError) -> StackAuditError {
    StackAuditError::Pack(format!("workbook: {e}"))
}

/// The number format for `currency`: its code, thousands grouped, its own decimals.
fn money_format(currency: &str) -> Format {
    let exp = cells::exponent(currency) as usize;
    let decimals = if exp == 0 { String::new() } else { format!(".{}", "0".repeat(exp)) };
    let code: String = currency.chars().filter(char::is_ascii_alphabetic).collect();
    Format::new().set_num_format(format!("\"{code} \"#,##0{decimals}"))
}

fn width(sheet: Sheet, col: usize) -> f64 {
    let header = sheet.headers().get(col).map(|h| h.len()).unwrap_or(10);
    match (sheet, sheet.headers().get(col).copied()) {
        (_, Some("Explanation" | "Evidence" | "Detail" | "Outcome" | "Comment" | "Recommendation")) => 60.0,
        (Sheet::Summary, Some("Item")) => 45.0,
        _ => (header as f64 + 4.0).max(14.0),
    }
}

/// Builds the workbook of `audit` and returns its bytes.
pub fn build(conn: &mut Conn, audit: &Audit) -> Result<Vec<u8>> {
    let mut book = Workbook::new();
    let t = audit.taken_at;
    let created = ExcelDateTime::from_ymd(t.year() as u16, t.month() as u8, t.day() as u8)
        .and_then(|d| d.and_hms(t.hour() as u16, t.minute() as u8, t.second() as f64))
        .map_err(xlsx_err)?;
    let props = DocProperties::new()
        .set_title(format!("Stack audit {}", audit.quarter))
        .set_author("stackward")
        .set_creation_datetime(&created);
    book.set_properties(&props);
    let bold = Format::new().set_bold();
    let mut formats: HashMap<String, Format> = HashMap::new();
    for sheet in Sheet::ALL {
        let ws = book.add_worksheet_with_constant_memory().map_err(xlsx_err)?;
        ws.set_name(sheet.title()).map_err(xlsx_err)?;
        let headers = sheet.headers();
        for (col, h) in headers.iter().enumerate() {
            ws.set_column_width(col as u16, width(sheet, col)).map_err(xlsx_err)?;
            ws.write_string_with_format(0, col as u16, *h, &bold).map_err(xlsx_err)?;
        }
        let mut row: u32 = 0;
        each_cells(conn, audit.id, sheet, |cells| {
            row += 1;
            for (col, cell) in cells.into_iter().enumerate() {
                let col = col as u16;
                match cell {
                    Cell::Empty => {}
                    Cell::Text(s) => {
                        ws.write_string(row, col, s).map_err(xlsx_err)?;
                    }
                    Cell::Int(v) => {
                        ws.write_number(row, col, v as f64).map_err(xlsx_err)?;
                    }
                    Cell::Money { cents, currency } => {
                        let f = formats.entry(currency.clone()).or_insert_with(|| money_format(&currency));
                        ws.write_number_with_format(row, col, cells::number(cents, &currency), f).map_err(xlsx_err)?;
                    }
                }
            }
            Ok(())
        })?;
        ws.set_freeze_panes(1, 0).map_err(xlsx_err)?;
        ws.autofilter(0, 0, row, headers.len().saturating_sub(1) as u16).map_err(xlsx_err)?;
    }
    book.save_to_buffer().map_err(xlsx_err)
}
