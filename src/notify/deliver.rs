//! The delivery worker: claims due outbox rows one at a time (so two processes never send the
//! same row), sends each, and records the result with a backoff for retries.

use super::outbox::{self, OutboxEntry, OutboxId, OutboxStatus};
use super::{MailError, Mailer};
use crate::db::{Db, DbError};

/// How long a claim lasts: longer than any SMTP exchange, short enough to recover after a crash.
const CLAIM: chrono::Duration = chrono::Duration::minutes(5);

/// What one delivery run did.
#[derive(Debug, Default)]
pub struct DeliveryReport {
    /// Rows the server accepted.
    pub sent: Vec<OutboxEntry>,
    /// Rows that failed and will be retried.
    pub retrying: usize,
    /// Rows that failed for good.
    pub failed: usize,
}

/// Delivers up to `limit` due rows.
pub async fn deliver_due(db: &Db, mailer: &Mailer, limit: i64) -> Result<DeliveryReport, DbError> {
    let ids = db.run(move |c| outbox::due(c, limit).map_err(DbError::from)).await?;
    if ids.len() as i64 == limit {
        tracing::info!(limit, "outbox batch is full; the rest goes in the next run");
    }
    let mut report = DeliveryReport::default();
    for id in ids {
        match deliver_one(db, mailer, id).await? {
            Some((entry, Ok(()))) => report.sent.push(entry),
            Some((_, Err((_, OutboxStatus::Failed)))) => report.failed += 1,
            Some((_, Err(_))) => report.retrying += 1,
            None => {}
        }
    }
    Ok(report)
}

/// The result of sending one row: the error and the status it left the row in.
pub type SendResult = Result<(), (MailError, OutboxStatus)>;

/// Claims and sends row `id`; None when another sender holds it or it is not pending.
pub async fn deliver_one(db: &Db, mailer: &Mailer, id: OutboxId) -> Result<Option<(OutboxEntry, SendResult)>, DbError> {
    let Some(entry) = db.run(move |c| outbox::claim(c, id, CLAIM).map_err(DbError::from)).await? else {
        return Ok(None);
    };
    match mailer.send(&entry).await {
        Ok(()) => {
            db.run(move |c| outbox::mark_sent(c, id).map_err(DbError::from)).await?;
            tracing::info!(id = %entry.id, kind = %entry.kind, "email sent");
            Ok(Some((entry, Ok(()))))
        }
        Err(e) => {
            let (message, permanent) = (e.to_string(), e.is_permanent());
            let row = entry.clone();
            let status =
                db.run(move |c| outbox::mark_failed(c, &row, &message, permanent).map_err(DbError::from)).await?;
            tracing::warn!(id = %entry.id, kind = %entry.kind, attempts = entry.attempts + 1, %status, error = %e, "email not sent");
            Ok(Some((entry, Err((e, status)))))
        }
    }
}
