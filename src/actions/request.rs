//! The result back to the request: which approved reclaims wait for their connector, taking
//! one for this process, and recording what the connector did — seats it removed are marked
//! removed; when all went the request is done, otherwise the owner gets the task for the rest.

use crate::audit::Actor;
use crate::auth::Role;
use crate::db::schema::requests;
use crate::db::{Conn, JsonText};
use crate::inventory::{accounts, Account, AccountId};
use crate::workflow::reclaim::{label, task, QUEUED, RUNNING};
use crate::workflow::{self, Decider, Env, NewEvent, Request, RequestId, RequestKind, RequestStatus, Result};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde_json::json;

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
    env: Env<'_>,
    id: RequestId,
    results: &[(AccountId, std::result::Result<(), String>)],
    now: NaiveDateTime,
) -> Result<()> {
    let r = workflow::find_request(conn, id)?;
    let connector = outcome_status(&r).and(r.outcome.as_ref());
    let name = connector.as_ref().and_then(|v| v["connector"].as_str()).unwrap_or("connector").to_string();
    let who = Decider { email: None, roles: vec![Role::Admin], actor: Actor(format!("connector:{name}")) };
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
        workflow::save_request(conn, &after, now)?;
        let comment = format!("{} removed the {} seat(s) at the vendor", name, removed.len());
        let input = workflow::CompleteInput { comment: Some(comment), ..Default::default() };
        workflow::complete(conn, env, &who, id, input, now)?;
        return Ok(());
    }
    let rest: Vec<Account> =
        failed.iter().map(|(a, _)| accounts::find(conn, *a)).collect::<std::result::Result<_, _>>()?;
    let listed: Vec<String> = rest.iter().map(label).collect();
    let why = failed.iter().map(|(a, e)| format!("account {a}: {e}")).collect::<Vec<_>>().join("; ");
    let details = task(conn, env.public_url, &r, &listed, Some(&why))?;
    let mut after = r.clone();
    after.outcome = Some(JsonText(details));
    workflow::save_request(conn, &after, now)?;
    let e = NewEvent {
        event: "reclaim_failed",
        step: None,
        comment: Some(&why),
        details: Some(json!({"removed": removed})),
    };
    workflow::record_event(conn, id, &who.actor.0, e, now)?;
    Ok(())
}
