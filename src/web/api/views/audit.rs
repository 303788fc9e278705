//! Audit log bodies: one change with the record before and after.

use crate::audit::{self, AuditEntryId};
use chrono::NaiveDateTime;
use serde::Serialize;

/// One change, as shown by the API.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AuditEntry {
    /// Entry id.
    pub id: AuditEntryId,
    /// When the change was made (UTC).
    #[serde(with = "crate::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub at: NaiveDateTime,
    /// Who made it.
    pub actor: String,
    /// What was done, e.g. `app.create`, `account.update`, `token.revoke`.
    pub action: String,
    /// Kind of record changed.
    pub entity: String,
    /// Id of the record changed.
    pub entity_id: Option<String>,
    /// The record before the change (absent for creations).
    #[schema(value_type = Option<Object>)]
    pub before: Option<serde_json::Value>,
    /// The record after the change.
    #[schema(value_type = Option<Object>)]
    pub after: Option<serde_json::Value>,
}

impl From<audit::AuditEntry> for AuditEntry {
    fn from(r: audit::AuditEntry) -> Self {
        AuditEntry {
            id: r.id,
            at: r.at,
            actor: r.actor,
            action: r.action,
            entity: r.entity,
            entity_id: r.entity_id,
            before: r.before,
            after: r.after,
        }
    }
}
