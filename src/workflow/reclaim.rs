//! The outcome of an approved reclaim request. Today it is a task for the app owner: an email
//! listing the accounts to remove at the vendor; the request stays `approved` until the owner
//! (or it, or an admin) marks it done. When connectors can remove seats themselves, this is
//! the one place to run their reclaim action instead.

use super::error::Result;
use super::mail;
use super::model::Request;
use crate::db::Conn;
use crate::inventory::{accounts, apps, AccountId};
use serde_json::json;

/// Starts the reclaim of `r`'s seats; returns what was done, for the request's outcome.
pub fn start(conn: &mut Conn, public_url: &str, r: &Request) -> Result<serde_json::Value> {
    let app_id = r.app_id.ok_or_else(|| super::WorkflowError::invalid("app_id", "the reclaim names no app"))?;
    let app = apps::find(conn, app_id)?;
    let ids: Vec<AccountId> = serde_json::from_str(&r.account_ids).unwrap_or_default();
    let mut listed = Vec::new();
    for id in &ids {
        let a = accounts::find(conn, *id)?;
        let who = a.email.or(a.username).or(a.name).or(a.external_id).unwrap_or_else(|| format!("account {id}"));
        listed.push(format!("{who} (account {id})"));
    }
    let explanation = match r.finding_id {
        Some(f) => crate::findings::store::find(conn, f)?.map(|f| f.explanation).unwrap_or_default(),
        None => String::new(),
    };
    let mut to: Vec<String> = app.owner_email.iter().chain(app.technical_owner_email.iter()).cloned().collect();
    to.dedup();
    let task = if to.is_empty() {
        tracing::warn!(request = %r.id, app = %app.name, "approved reclaim: the app has no owner to ask; it and admins can complete it");
        "the app has no owner on record: it or an admin removes the seats and completes the request"
    } else {
        mail::reclaim_task(conn, public_url, r, to.clone(), &listed, &explanation)?;
        "the app owner was asked to remove the seats and complete the request"
    };
    Ok(json!({"action": "task", "task": task, "owners": to, "accounts": listed}))
}
