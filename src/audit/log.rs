//! The audit log: who changed what and when, with the record before and after.
//! Written in the same transaction as the change it describes.

use crate::db::schema::audit_log;
use crate::db::{Conn, JsonText, Page};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

crate::id_type!(
    /// Id of an audit log entry.
    AuditEntryId
);

/// Who made a change: `token:NAME` for API tokens, `cli:USER` for the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor(pub String);

impl Actor {
    /// The actor for a change made from the command line by the current OS user.
    pub fn cli() -> Self {
        let user = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
        Actor(format!("cli:{user}"))
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = audit_log)]
struct Row {
    id: AuditEntryId,
    at: NaiveDateTime,
    actor: String,
    action: String,
    entity: String,
    entity_id: Option<String>,
    before_json: Option<JsonText<serde_json::Value>>,
    after_json: Option<JsonText<serde_json::Value>>,
}

/// One change, as shown by the API.
#[derive(Debug, Clone, Serialize)]
pub struct AuditEntry {
    /// Entry id.
    pub id: AuditEntryId,
    /// When the change was made (UTC).
    #[serde(with = "crate::time::rfc3339")]
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
    pub before: Option<serde_json::Value>,
    /// The record after the change.
    pub after: Option<serde_json::Value>,
}

impl From<Row> for AuditEntry {
    fn from(r: Row) -> Self {
        AuditEntry {
            id: r.id,
            at: r.at,
            actor: r.actor,
            action: r.action,
            entity: r.entity,
            entity_id: r.entity_id,
            before: r.before_json.map(JsonText::into_inner),
            after: r.after_json.map(JsonText::into_inner),
        }
    }
}

/// Records one change. `before`/`after` are the serialized records (secrets must already be absent).
pub fn record<T: Serialize>(
    conn: &mut Conn,
    actor: &Actor,
    action: &str,
    entity: &str,
    entity_id: impl ToString,
    before: Option<&T>,
    after: Option<&T>,
) -> QueryResult<()> {
    let to_json = |v: Option<&T>| v.and_then(|v| serde_json::to_value(v).ok()).map(JsonText);
    diesel::insert_into(audit_log::table)
        .values((
            audit_log::at.eq(crate::time::now()),
            audit_log::actor.eq(&actor.0),
            audit_log::action.eq(action),
            audit_log::entity.eq(entity),
            audit_log::entity_id.eq(Some(entity_id.to_string())),
            audit_log::before_json.eq(to_json(before)),
            audit_log::after_json.eq(to_json(after)),
        ))
        .execute(conn)?;
    Ok(())
}

/// Which entries to list.
#[derive(Debug, Default, Clone)]
pub struct AuditFilter {
    /// Only this kind of record.
    pub entity: Option<String>,
    /// Only this record (with `entity`).
    pub entity_id: Option<String>,
    /// Only changes by this actor.
    pub actor: Option<String>,
}

/// Entries oldest first, one page.
pub fn list(conn: &mut Conn, filter: &AuditFilter, page: Page) -> QueryResult<(Vec<AuditEntry>, Option<i64>)> {
    let mut q = audit_log::table.filter(audit_log::id.gt(page.after)).into_boxed();
    if let Some(e) = &filter.entity {
        q = q.filter(audit_log::entity.eq(e.clone()));
    }
    if let Some(id) = &filter.entity_id {
        q = q.filter(audit_log::entity_id.eq(id.clone()));
    }
    if let Some(a) = &filter.actor {
        q = q.filter(audit_log::actor.eq(a.clone()));
    }
    let rows: Vec<Row> = q.order(audit_log::id.asc()).limit(page.fetch()).select(Row::as_select()).load(conn)?;
    let (rows, next) = page.finish(rows, |r| r.id.0);
    Ok((rows.into_iter().map(AuditEntry::from).collect(), next))
}
