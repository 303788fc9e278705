//! The audit pack: one zip with `report.html`, `report.md`, `workbook.xlsx`, one CSV per
//! sheet and `manifest.json` (quarter, taken_at, stackward version, SHA-256 of every other
//! file). Built only from the frozen snapshot, with every source of variation fixed: entry order,
//! entry timestamps and permissions, the workbook's creation time, number formatting and row
//! order. So the same audit gives the same bytes every time, on either backend.

mod csv_files;
mod report;
mod workbook;

use super::error::{Result, StackAuditError};
use super::sheets::Sheet;
use super::store::{self, AuditId};
use crate::db::Conn;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::io::{Seek, Write};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipWriter};

/// A file of the pack, as the manifest lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PackedFile {
    /// File name in the zip (and in the directory `stackward audit pack` writes).
    pub name: String,
    /// Its size in bytes.
    pub bytes: u64,
    /// Hex SHA-256 of its content.
    pub sha256: String,
}

#[derive(Serialize)]
struct Manifest<'a> {
    audit_id: String,
    quarter: &'a str,
    taken_at: String,
    stackward_version: &'a str,
    files: &'a [PackedFile],
}

/// Writes through to the zip entry while hashing and counting.
struct Hashing<'a, W: Write> {
    inner: &'a mut W,
    hash: Sha256,
    bytes: u64,
}

impl<W: Write> Write for Hashing<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

fn zip_err(e: zip::result::ZipError) -> StackAuditError {
    StackAuditError::Pack(e.to_string())
}

/// Entry options: fixed timestamp (the zip epoch) and permissions, so entries never vary.
fn options(method: CompressionMethod) -> SimpleFileOptions {
    SimpleFileOptions::default()
        .compression_method(method)
        .last_modified_time(DateTime::default())
        .unix_permissions(0o644)
        .large_file(false)
}

/// Writes the pack of audit `id` as a zip into `out`; returns the files the manifest lists.
pub fn write_zip<W: Write + Seek>(conn: &mut Conn, id: AuditId, out: W) -> Result<Vec<PackedFile>> {
    let mut zip = ZipWriter::new(out);
    let files = write_entries(conn, id, &mut |name, method, body| {
        zip.start_file(name, options(method)).map_err(zip_err)?;
        let mut h = Hashing { inner: &mut zip, hash: Sha256::new(), bytes: 0 };
        body(&mut h)?;
        Ok(PackedFile { name: name.to_string(), bytes: h.bytes, sha256: hex::encode(h.hash.finalize()) })
    })?;
    zip.finish().map_err(zip_err)?;
    Ok(files)
}

/// Writes the pack of audit `id` as plain files into directory `dir` (created if missing).
pub fn write_dir(conn: &mut Conn, id: AuditId, dir: &std::path::Path) -> Result<Vec<PackedFile>> {
    std::fs::create_dir_all(dir)?;
    write_entries(conn, id, &mut |name, _, body| {
        let mut file = std::io::BufWriter::new(std::fs::File::create(dir.join(name))?);
        let mut h = Hashing { inner: &mut file, hash: Sha256::new(), bytes: 0 };
        body(&mut h)?;
        let done = PackedFile { name: name.to_string(), bytes: h.bytes, sha256: hex::encode(h.hash.finalize()) };
        file.flush()?;
        Ok(done)
    })
}

type Body<'b> = &'b mut dyn FnMut(&mut dyn Write) -> Result<()>;
type Sink<'s> = &'s mut dyn FnMut(&str, CompressionMethod, Body<'_>) -> Result<PackedFile>;

fn write_entries(conn: &mut Conn, id: AuditId, sink: Sink<'_>) -> Result<Vec<PackedFile>> {
    let audit = store::find(conn, id)?;
    let mut files = Vec::new();
    let data = report::ReportData::load(conn, &audit)?;
    let html = report::render("report.html", &data)?;
    files.push(sink("report.html", CompressionMethod::Deflated, &mut |w| Ok(w.write_all(html.as_bytes())?))?);
    let md = report::render("report.md", &data)?;
    files.push(sink("report.md", CompressionMethod::Deflated, &mut |w| Ok(w.write_all(md.as_bytes())?))?);
    drop((html, md, data));
    // The workbook is a zip already: stored as is.
    let xlsx = workbook::build(conn, &audit)?;
    files.push(sink("workbook.xlsx", CompressionMethod::Stored, &mut |w| Ok(w.write_all(&xlsx)?))?);
    drop(xlsx);
    for sheet in Sheet::ALL {
        let name = sheet.csv_name();
        files.push(sink(&name, CompressionMethod::Deflated, &mut |w| csv_files::write(conn, audit.id, sheet, w))?);
    }
    let manifest = Manifest {
        audit_id: audit.id.to_string(),
        quarter: &audit.quarter,
        taken_at: crate::time::format(&audit.taken_at),
        stackward_version: &audit.stackward_version,
        files: &files,
    };
    let json = serde_json::to_vec_pretty(&manifest).map_err(|e| StackAuditError::Pack(e.to_string()))?;
    sink("manifest.json", CompressionMethod::Deflated, &mut |w| Ok(w.write_all(&json)?))?;
    Ok(files)
}

/// Calls `f` with the cells of every row of `sheet` of `audit`, in order.
pub(crate) fn each_cells(
    conn: &mut Conn,
    audit: AuditId,
    sheet: Sheet,
    mut f: impl FnMut(Vec<super::cells::Cell>) -> Result<()>,
) -> Result<()> {
    use super::sheets::*;
    macro_rules! rows {
        ($t:ty) => {
            store::each::<$t>(conn, audit, |r| f(r.cells()))
        };
    }
    match sheet {
        Sheet::Summary => rows!(SummaryRow),
        Sheet::Apps => rows!(AppRow),
        Sheet::Seats => rows!(SeatRow),
        Sheet::Findings => rows!(FindingRow),
        Sheet::Leavers => rows!(LeaverRow),
        Sheet::Renewals => rows!(RenewalRow),
        Sheet::Requests => rows!(RequestRow),
        Sheet::AccessReviews => rows!(ReviewRow),
        Sheet::CheckIns => rows!(CheckInRow),
        Sheet::Changes => rows!(ChangeRow),
    }
}
