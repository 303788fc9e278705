//! The outcome of an approved reclaim request. When every seat was brought by one live
//! connection, the reclaim is queued for that connector's `reclaim` action (run outside any
//! transaction by `sync::reclaim`); otherwise, or when the action fails, it becomes a task for
//! the app owner: an email listing the accounts to remove, the request staying `approved`
//! until the owner (or it, or an admin) marks it done.

use super::error::Result;
use super::mail;
use super::model::{Request, RequestId, RequestKind, RequestStatus};
use super::routing::Decider;
use super::store::{self, NewEvent};
use crate::auth::Role;
use crate::db::schema::{connections, requests};
use crate::db::{Conn, JsonText};
use crate::inventory::{accounts, apps, Account, AccountId};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde_json::json;

const QUEUED: &str = "queued";
const RUNNING: &str = "running";

fn label(a: &Account) -> String {
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

/// Emails the app owner the seats to remove by hand.
fn task(
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

fn outcome_status(r: &Request) -> Option<String> {
    let v = &r.outcome.as_ref()?.0;
    (v["action"] == "connector").then(|| v["status"].as_str().unwrap_or_default().to_string())
}

/// Approved reclaims waiting for their connector action.
pub fn queued(conn: &mut Conn) -> Result<Vec<Request>> {
    let rows: Vec<Request> = requests::table
        .filter(requests::kind.eq(RequestKind::Reclaim))
        .filter(requests::status.eq(RequestStatus::Approved))
        .select(Request::as_select())
        .load(conn)?;
    Ok(rows.into_iter().filter(|r| outcome_status(r).as_deref() == Some(QUEUED)).collect())
}

/// Takes a queued reclaim for this process: a compare-and-set on its outcome, so replicas
/// never run one twice. Returns false when another took it.
pub fn claim(conn: &mut Conn, r: &Request) -> Result<bool> {
    let Some(old) = r.outcome.clone() else { return Ok(false) };
    let mut v = old.clone();
    v["status"] = json!(RUNNING);
    let n = diesel::update(requests::table.find(r.id).filter(requests::outcome.eq(&old)))
        .set(requests::outcome.eq(&v))
        .execute(conn)?;
    Ok(n == 1)
}

/// Records what the connector did: seats it removed are marked removed; when all went, the
/// request is done; otherwise the owner gets the task for the rest.
pub fn finish(
    conn: &mut Conn,
    env: super::Env<'_>,
    id: RequestId,
    results: &[(AccountId, std::result::Result<(), String>)],
    now: NaiveDateTime,
) -> Result<()> {
    let r = store::find(conn, id)?;
    let connector = outcome_status(&r).and(r.outcome.as_ref());
    let name = connector.as_ref().and_then(|v| v["connector"].as_str()).unwrap_or("connector").to_string();
    let who =
        Decider { email: None, roles: vec![Role::Admin], actor: crate::audit::Actor(format!("connector:{name}")) };
    let mut failed = Vec::new();
    for (account, result) in results {
        match result {
            Ok(()) => {
                accounts::remove(conn, &who.actor, *account)?;
            }
            Err(e) => failed.push((*account, e.clone())),
        }
    }
    let removed: Vec<String> = results.iter().filter(|(_, r)| r.is_ok()).map(|(a, _)| a.to_string()).collect();
    if failed.is_empty() {
        let mut after = r.clone();
        after.outcome =
            Some(JsonText(json!({"action": "connector", "status": "done", "connector": name, "removed": removed})));
        store::save(conn, &after, now)?;
        let comment = format!("{} removed the {} seat(s) at the vendor", name, removed.len());
        super::engine::complete(conn, env, &who, id, Some(comment), now)?;
        return Ok(());
    }
    let rest: Vec<Account> =
        failed.iter().map(|(a, _)| accounts::find(conn, *a)).collect::<std::result::Result<_, _>>()?;
    let listed: Vec<String> = rest.iter().map(label).collect();
    let why = failed.iter().map(|(a, e)| format!("account {a}: {e}")).collect::<Vec<_>>().join("; ");
    let details = task(conn, env.public_url, &r, &listed, Some(&why))?;
    let mut after = r.clone();
    after.outcome = Some(JsonText(details));
    store::save(conn, &after, now)?;
    let e = NewEvent {
        event: "reclaim_failed",
        step: None,
        comment: Some(&why),
        details: Some(json!({"removed": removed})),
    };
    store::record_event(conn, id, &who.actor.0, e, now)?;
    Ok(())
}
