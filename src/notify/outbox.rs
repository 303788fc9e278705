//! The outbox table: one row per email, unique by its key, claimed by one sender at a time.

use crate::db::schema::outbox;
use crate::db::{Conn, Page};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

crate::id_type!(
    /// Id of an outbox row.
    OutboxId
);

crate::text_enum!(
    /// Where an email stands.
    OutboxStatus {
        /// Waiting to be sent, or to be retried.
        Pending => "pending",
        /// Accepted by the SMTP server.
        Sent => "sent",
        /// Given up after the last retry; `stackward outbox --retry` queues it again.
        Failed => "failed",
    }
);

/// Attempts before an email is marked failed.
pub const MAX_ATTEMPTS: i32 = 8;

/// An email to queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    /// Unique key: the same key is never queued twice (e.g. `renewal:12:2026-12-02:30`).
    pub key: String,
    /// What kind of message, e.g. `renewal_reminder`.
    pub kind: String,
    /// Recipients, lower-case.
    pub to: Vec<String>,
    /// Subject line.
    pub subject: String,
    /// Plain-text body.
    pub text: String,
    /// HTML body.
    pub html: Option<String>,
}

/// An outbox row.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Serialize)]
#[diesel(table_name = outbox)]
pub struct OutboxEntry {
    /// Row id.
    pub id: OutboxId,
    /// Unique key.
    pub dedupe_key: String,
    /// Kind of message.
    pub kind: String,
    /// Recipients, comma-separated.
    pub recipients: String,
    /// Subject line.
    pub subject: String,
    /// Plain-text body.
    #[serde(skip)]
    pub text_body: String,
    /// HTML body.
    #[serde(skip)]
    pub html_body: Option<String>,
    /// Message-ID header, derived from the key so a resend is recognisable.
    pub message_id: String,
    /// Where it stands.
    pub status: OutboxStatus,
    /// Delivery attempts so far.
    pub attempts: i32,
    /// When it may next be tried.
    #[serde(with = "crate::time::rfc3339")]
    pub next_attempt_at: NaiveDateTime,
    /// A sender's claim on it, until this time.
    #[serde(skip)]
    pub claimed_until: Option<NaiveDateTime>,
    /// The last failure, as advice.
    pub last_error: Option<String>,
    /// When it was queued.
    #[serde(with = "crate::time::rfc3339")]
    pub created_at: NaiveDateTime,
    /// When the SMTP server accepted it.
    #[serde(with = "crate::time::rfc3339_opt")]
    pub sent_at: Option<NaiveDateTime>,
}

impl OutboxEntry {
    /// The recipients as a list.
    pub fn recipient_list(&self) -> Vec<&str> {
        self.recipients.split(',').filter(|r| !r.is_empty()).collect()
    }
}

/// Queues `email` unless its key was queued before; returns the new row's id, or None for a
/// duplicate. Call inside the transaction that makes the change the email reports.
pub fn enqueue(conn: &mut Conn, email: &Email) -> QueryResult<Option<OutboxId>> {
    let exists = outbox::table
        .filter(outbox::dedupe_key.eq(&email.key))
        .select(outbox::id)
        .first::<OutboxId>(conn)
        .optional()?;
    if exists.is_some() {
        return Ok(None);
    }
    let now = crate::time::now();
    // Derived from the key, so a message sent twice by a crash between send and record is
    // recognisable as one message by mail clients.
    let digest = hex::encode(&<sha2::Sha256 as sha2::Digest>::digest(email.key.as_bytes())[..12]);
    // A concurrent writer with the same key makes this insert fail on the unique index; the
    // savepoint keeps the caller's transaction usable on PostgreSQL.
    let inserted = conn.transaction(|conn| {
        diesel::insert_into(outbox::table)
            .values((
                outbox::dedupe_key.eq(&email.key),
                outbox::kind.eq(&email.kind),
                outbox::recipients.eq(email.to.join(",")),
                outbox::subject.eq(&email.subject),
                outbox::text_body.eq(&email.text),
                outbox::html_body.eq(&email.html),
                outbox::message_id.eq(format!("<{digest}@stackward>")),
                outbox::status.eq(OutboxStatus::Pending),
                outbox::attempts.eq(0),
                outbox::next_attempt_at.eq(now),
                outbox::created_at.eq(now),
            ))
            .returning(outbox::id)
            .get_result::<OutboxId>(conn)
    });
    match inserted {
        Ok(id) => Ok(Some(id)),
        Err(e) if crate::db::is_unique_violation(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Ids of rows due for delivery now and not claimed by another sender, oldest first.
pub fn due(conn: &mut Conn, limit: i64) -> QueryResult<Vec<OutboxId>> {
    let now = crate::time::now();
    outbox::table
        .filter(outbox::status.eq(OutboxStatus::Pending))
        .filter(outbox::next_attempt_at.le(now))
        .filter(outbox::claimed_until.is_null().or(outbox::claimed_until.lt(now)))
        .order(outbox::id.asc())
        .limit(limit)
        .select(outbox::id)
        .load(conn)
}

/// Claims row `id` for `lease` if no one else holds it (compare-and-set); returns it when claimed.
pub fn claim(conn: &mut Conn, id: OutboxId, lease: chrono::Duration) -> QueryResult<Option<OutboxEntry>> {
    let now = crate::time::now();
    let claimed = diesel::update(
        outbox::table
            .filter(outbox::id.eq(id))
            .filter(outbox::status.eq(OutboxStatus::Pending))
            .filter(outbox::claimed_until.is_null().or(outbox::claimed_until.lt(now))),
    )
    .set(outbox::claimed_until.eq(Some(now + lease)))
    .execute(conn)?;
    if claimed == 0 {
        return Ok(None);
    }
    outbox::table.find(id).select(OutboxEntry::as_select()).first(conn).map(Some)
}

/// Records that the SMTP server accepted row `id`.
pub fn mark_sent(conn: &mut Conn, id: OutboxId) -> QueryResult<()> {
    let now = crate::time::now();
    diesel::update(outbox::table.find(id))
        .set((
            outbox::status.eq(OutboxStatus::Sent),
            outbox::sent_at.eq(Some(now)),
            outbox::attempts.eq(outbox::attempts + 1),
            outbox::claimed_until.eq(None::<NaiveDateTime>),
            outbox::last_error.eq(None::<String>),
        ))
        .execute(conn)?;
    Ok(())
}

/// Backoff before attempt `n + 1` after `n` failures: 1, 2, 4 … minutes, at most 6 hours.
pub fn backoff(attempts: i32) -> chrono::Duration {
    let minutes = 1i64 << attempts.clamp(0, 9);
    chrono::Duration::minutes(minutes.min(360))
}

/// Records a failed attempt: retried after a backoff, or failed for good after the last attempt
/// or on a permanent refusal.
pub fn mark_failed(conn: &mut Conn, entry: &OutboxEntry, error: &str, permanent: bool) -> QueryResult<OutboxStatus> {
    let attempts = entry.attempts + 1;
    let status = if permanent || attempts >= MAX_ATTEMPTS { OutboxStatus::Failed } else { OutboxStatus::Pending };
    diesel::update(outbox::table.find(entry.id))
        .set((
            outbox::status.eq(status),
            outbox::attempts.eq(attempts),
            outbox::next_attempt_at.eq(crate::time::now() + backoff(attempts)),
            outbox::claimed_until.eq(None::<NaiveDateTime>),
            outbox::last_error.eq(Some(error)),
        ))
        .execute(conn)?;
    Ok(status)
}

/// Makes every pending row due now, ignoring its backoff (an operator who fixed SMTP wants the
/// mail now); returns how many were waiting.
pub fn due_now(conn: &mut Conn) -> QueryResult<usize> {
    let now = crate::time::now();
    diesel::update(
        outbox::table.filter(outbox::status.eq(OutboxStatus::Pending)).filter(outbox::next_attempt_at.gt(now)),
    )
    .set(outbox::next_attempt_at.eq(now))
    .execute(conn)
}

/// Queues failed rows (or the given one) again for delivery now; returns how many.
pub fn retry_failed(conn: &mut Conn, only: Option<OutboxId>) -> QueryResult<usize> {
    let now = crate::time::now();
    let set = (outbox::status.eq(OutboxStatus::Pending), outbox::attempts.eq(0), outbox::next_attempt_at.eq(now));
    let failed = outbox::table.filter(outbox::status.eq(OutboxStatus::Failed));
    match only {
        Some(id) => diesel::update(failed.filter(outbox::id.eq(id))).set(set).execute(conn),
        None => diesel::update(failed).set(set).execute(conn),
    }
}

/// One page of outbox rows, newest last, optionally in one status.
pub fn list(conn: &mut Conn, status: Option<OutboxStatus>, page: Page) -> QueryResult<(Vec<OutboxEntry>, Option<i64>)> {
    let mut q = outbox::table.filter(outbox::id.gt(page.after)).into_boxed();
    if let Some(s) = status {
        q = q.filter(outbox::status.eq(s));
    }
    let rows = q.order(outbox::id.asc()).limit(page.fetch()).select(OutboxEntry::as_select()).load(conn)?;
    Ok(page.finish(rows, |r| r.id.0))
}

/// Finds an outbox row.
pub fn find(conn: &mut Conn, id: OutboxId) -> QueryResult<Option<OutboxEntry>> {
    outbox::table.find(id).select(OutboxEntry::as_select()).first(conn).optional()
}
