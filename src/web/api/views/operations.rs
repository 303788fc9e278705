//! Operations bodies: scheduled jobs, the mail outbox and connection sync runs.

use crate::notify::{self, OutboxId, OutboxStatus};
use crate::scheduler;
use crate::sync::{self, ConnectionId, SyncRunId};
use chrono::NaiveDateTime;
use serde::Serialize;

/// A job's schedule and last run, as `GET /api/v1/jobs` shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct JobStatus {
    /// Job name.
    pub name: String,
    /// Cron schedule (seconds first, UTC).
    pub schedule: String,
    /// Process holding the lease, while it runs.
    pub lease_holder: Option<String>,
    /// Lease expiry.
    #[serde(with = "crate::time::rfc3339_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub lease_until: Option<NaiveDateTime>,
    /// The tick the last run served.
    pub last_period: Option<String>,
    /// When the last run started.
    #[serde(with = "crate::time::rfc3339_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_started_at: Option<NaiveDateTime>,
    /// When the last run finished.
    #[serde(with = "crate::time::rfc3339_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_finished_at: Option<NaiveDateTime>,
    /// How long it took.
    pub last_duration_ms: Option<i64>,
    /// `ok` or `failed`.
    pub last_outcome: Option<String>,
    /// What went wrong, when it failed.
    pub last_error: Option<String>,
    /// When it runs next.
    #[serde(with = "crate::time::rfc3339_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub next_run_at: Option<NaiveDateTime>,
}

impl From<scheduler::JobStatus> for JobStatus {
    fn from(r: scheduler::JobStatus) -> Self {
        JobStatus {
            name: r.name,
            schedule: r.schedule,
            lease_holder: r.lease_holder,
            lease_until: r.lease_until,
            last_period: r.last_period,
            last_started_at: r.last_started_at,
            last_finished_at: r.last_finished_at,
            last_duration_ms: r.last_duration_ms,
            last_outcome: r.last_outcome,
            last_error: r.last_error,
            next_run_at: r.next_run_at,
        }
    }
}

/// An outbox row.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
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
    /// Message-ID header, derived from the key so a resend is recognisable.
    pub message_id: String,
    /// Where it stands.
    pub status: OutboxStatus,
    /// Delivery attempts so far.
    pub attempts: i32,
    /// When it may next be tried.
    #[serde(with = "crate::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub next_attempt_at: NaiveDateTime,
    /// The last failure, as advice.
    pub last_error: Option<String>,
    /// When it was queued.
    #[serde(with = "crate::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: NaiveDateTime,
    /// When the SMTP server accepted it.
    #[serde(with = "crate::time::rfc3339_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub sent_at: Option<NaiveDateTime>,
}

impl From<notify::OutboxEntry> for OutboxEntry {
    fn from(r: notify::OutboxEntry) -> Self {
        OutboxEntry {
            id: r.id,
            dedupe_key: r.dedupe_key,
            kind: r.kind,
            recipients: r.recipients,
            subject: r.subject,
            message_id: r.message_id,
            status: r.status,
            attempts: r.attempts,
            next_attempt_at: r.next_attempt_at,
            last_error: r.last_error,
            created_at: r.created_at,
            sent_at: r.sent_at,
        }
    }
}

/// A sync run as stored and shown.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SyncRun {
    /// Run id.
    pub id: SyncRunId,
    /// The connection.
    pub connection_id: ConnectionId,
    /// running | succeeded | failed.
    pub status: String,
    /// api | cli | schedule.
    pub trigger: String,
    /// Started.
    #[serde(with = "crate::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub started_at: NaiveDateTime,
    /// Finished.
    #[serde(with = "crate::time::rfc3339_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub finished_at: Option<NaiveDateTime>,
    /// Records read (people, seats, pools, grants).
    pub seen: i64,
    /// Records new to the inventory.
    pub added: i64,
    /// Records that changed.
    pub updated: i64,
    /// Seats and people marked removed or departed (only after a complete run).
    pub removed: i64,
    /// Requests made to the vendor.
    pub api_calls: i64,
    /// Why it failed: the vendor's status and its own error code and message, never its reply body.
    pub error: Option<String>,
    /// Records left out for a missing or unreadable required field; a succeeded run with some
    /// succeeded with warnings.
    pub skipped: i64,
    /// The first few skipped records: stream, page, field and the vendor's id.
    pub skipped_records: Vec<crate::connectors::Skipped>,
}

impl From<sync::SyncRun> for SyncRun {
    fn from(r: sync::SyncRun) -> Self {
        SyncRun {
            id: r.id,
            connection_id: r.connection_id,
            status: r.status,
            trigger: r.trigger,
            started_at: r.started_at,
            finished_at: r.finished_at,
            seen: r.seen,
            added: r.added,
            updated: r.updated,
            removed: r.removed,
            api_calls: r.api_calls,
            error: r.error,
            skipped: r.skipped,
            skipped_records: r.skipped_records.0,
        }
    }
}
