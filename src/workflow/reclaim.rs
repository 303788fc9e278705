//! What an approved reclaim request does, decided in the approval's transaction. When every
//! seat was brought by one live connection, the reclaim is queued for that connector's
//! `reclaim` action (run outside any transaction by `actions`, which reports back here);
//! otherwise, or when the action fails, it becomes a task for the app owner: an email listing
//! the accounts to remove, the request staying `approved` until the owner (or it, or an admin)
//! marks it done.

use super::error::Result;
use super::mail;
use super::model::Request;
use crate::db::schema::connections;
use crate::db::Conn;
use crate::inventory::{accounts, apps, Account};
use diesel::prelude::*;
use serde_json::json;

/// The outcome status of a reclaim waiting for its connector action.
pub const QUEUED: &str = "queued";
/// The outcome status of a reclaim whose connector action a process has taken.
pub const RUNNING: &str = "running";

/// How an account is named to the people asked to remove it.
pub fn label(a: &Account) -> String {
    let who = a.email.clone().or(a.username.clone()).or(a.name.clone()).or(a.external_id.clone());
    format!("{} (account {})", who.unwrap_or_else(|| "unknown".into()), a.id)
}

/// The accounts a reclaim names.
pub fn accounts_of(conn: &mut Conn, r: &Request) -> Result<Vec<Account>> {
    r.account_ids.iter().map(|id| Ok(accounts::find(conn, *id)?)).collect()
}

/// Starts the reclaim of `r`'s seats; returns what was done, for the request's outcome.
pub fn start(conn: &mut Conn, public_url: &str, r: &Request) -> Result<serde_json::Value> {
    let seats = accounts_of(conn, r)?;
    let listed: Vec<String> = seats.iter().map(label).collect();
    // One live connection brought every seat: its connector may remove them itself.
    let mut sources = seats.iter().map(|a| a.connection_id);
    if let (Some(Some(first)), true) = (sources.next(), !seats.is_empty()) {
        let same = seats.iter().all(|a| a.connection_id == Some(first));
        let live: Option<String> = connections::table
            .find(first)
            .filter(connections::status.eq("active"))
            .select(connections::connector)
            .first(conn)
            .optional()?;
        if let (true, Some(connector)) = (same, live) {
            return Ok(json!({"action": "connector", "status": QUEUED, "connection_id": first,
                "connector": connector, "accounts": listed}));
        }
    }
    task(conn, public_url, r, &listed, None)
}

/// Emails the app owner the seats to remove by hand; `why` says what the connector could not do.
pub fn task(
    conn: &mut Conn,
    public_url: &str,
    r: &Request,
    listed: &[String],
    why: Option<&str>,
) -> Result<serde_json::Value> {
    let app_id = r.app_id.ok_or_else(|| super::WorkflowError::invalid("app_id", "the reclaim names no app"))?;
    let app = apps::find(conn, app_id)?;
    let explanation = match r.finding_id {
        Some(f) => crate::findings::store::find(conn, f)?.map(|f| f.explanation).unwrap_or_default(),
        None => String::new(),
    };
    let explanation = match why {
        Some(w) => format!("{explanation} The connector could not remove them: {w}").trim().to_string(),
        None => explanation,
    };
    let mut to: Vec<String> = app.owner_email.iter().chain(app.technical_owner_email.iter()).cloned().collect();
    to.dedup();
    let task = if to.is_empty() {
        tracing::warn!(request = %r.id, app = %app.name, "approved reclaim: the app has no owner to ask; it and admins can complete it");
        "the app has no owner on record: it or an admin removes the seats and completes the request"
    } else {
        mail::reclaim_task(conn, public_url, r, to.clone(), listed, &explanation)?;
        "the app owner was asked to remove the seats and complete the request"
    };
    Ok(json!({"action": "task", "task": task, "owners": to, "accounts": listed, "connector_error": why}))
}
