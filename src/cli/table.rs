//! Tables for people at a terminal: every column as wide as its widest cell, two spaces apart,
//! so long names and amounts never push a row out of line.

use comfy_table::{presets::NOTHING, CellAlignment, ContentArrangement, Table};
use std::io::Write;

/// A table under `headers`; the columns at the indexes in `right` are right-aligned (amounts).
pub fn new(headers: &[&str], right: &[usize]) -> Table {
    let mut t = Table::new();
    t.load_style(NOTHING).set_content_arrangement(ContentArrangement::Disabled).set_header(headers.to_vec());
    for (i, column) in t.column_iter_mut().enumerate() {
        column.set_padding((0, 2));
        if right.contains(&i) {
            column.set_cell_alignment(CellAlignment::Right);
        }
    }
    t
}

/// Writes `table`, one line per row, without trailing spaces.
pub fn write(out: &mut impl Write, table: &Table) -> std::io::Result<()> {
    for line in table.lines() {
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}
