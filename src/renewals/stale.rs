//! Stale-sync alerts: an app with a notice deadline within 60 days whose data is stale (its
//! connection's last success is older than twice its schedule) or failing (its last sync
//! failed) is about to be decided on bad figures. Its owners and the `it` role get one email
//! per app and deadline, through the outbox; the same list feeds the dashboard.

use super::upcoming;
use crate::db::schema::{api_tokens, apps};
use crate::db::{Conn, DbError};
use crate::inventory::{coverage, AppId, SubscriptionId};
use crate::notify::{self, outbox, Email};
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;
use std::collections::HashSet;

/// Notice deadlines at most this many days away make stale data worth an alert.
pub const WINDOW_DAYS: i64 = 60;

/// An app whose data is stale or failing before a notice deadline.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct StaleAlert {
    /// The app.
    #[schema(value_type = String)]
    pub app_id: AppId,
    /// Its name.
    pub app_name: String,
    /// The subscription with the nearest deadline.
    #[schema(value_type = String)]
    pub subscription_id: SubscriptionId,
    /// Its plan.
    pub plan: String,
    /// The notice deadline.
    #[schema(value_type = String, format = Date)]
    pub notice_deadline: NaiveDate,
    /// Days from today to it.
    pub days_to_deadline: i64,
    /// True when stale (no success for twice the schedule); false when only the last sync failed.
    pub stale: bool,
    /// When the feeding connection last finished a sync.
    #[serde(with = "crate::time::rfc3339_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_sync_at: Option<NaiveDateTime>,
    /// How it ended.
    pub last_sync_status: Option<String>,
    /// Why it failed.
    pub last_error: Option<String>,
    /// Who is told: the app's owners and the `it` role.
    pub recipients: Vec<String>,
}

impl StaleAlert {
    /// "stale" or "failing", for people.
    pub fn problem(&self) -> &'static str {
        if self.stale {
            "stale"
        } else {
            "failing"
        }
    }
}

/// The emails of live API tokens holding the `it` role.
fn it_emails(conn: &mut Conn) -> QueryResult<Vec<String>> {
    api_tokens::table
        .filter(api_tokens::role.eq(crate::auth::Role::It))
        .filter(api_tokens::revoked_at.is_null())
        .filter(api_tokens::scope.eq(crate::auth::TokenScope::Api))
        .filter(api_tokens::email.is_not_null())
        .select(api_tokens::email.assume_not_null())
        .load(conn)
}

/// Apps with stale or failing data and a notice deadline within [`WINDOW_DAYS`] of `today`,
/// one per app (its nearest deadline), nearest first. Feeds the dashboard.
pub fn stale_alerts(conn: &mut Conn, today: NaiveDate, default_stages: &[u32]) -> QueryResult<Vec<StaleAlert>> {
    let soon: Vec<_> = upcoming::upcoming(conn, today, WINDOW_DAYS, default_stages)?
        .into_iter()
        .filter(|r| r.days_to_deadline >= 0)
        .collect();
    let mut ids: Vec<AppId> = soon.iter().map(|r| r.app_id).collect();
    ids.sort();
    ids.dedup();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let now = crate::time::now();
    let cov = coverage::for_apps(conn, Some(&ids), now)?;
    let it = it_emails(conn)?;
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    // `upcoming` is sorted by deadline, so an app's first row is its nearest deadline.
    for r in soon {
        let Some(c) = cov.get(&r.app_id) else { continue };
        let failing = c.last_sync_status.as_deref() == Some("failed");
        if !(c.stale || failing) || !seen.insert(r.app_id) {
            continue;
        }
        let technical: Option<String> =
            apps::table.find(r.app_id).select(apps::technical_owner_email).first(conn).optional()?.flatten();
        let mut recipients: Vec<String> = Vec::new();
        let all = r.owner_email.iter().chain(&r.app_owner_emails).chain(technical.iter()).chain(&it);
        for e in all.map(|e| e.to_lowercase()) {
            if !recipients.contains(&e) {
                recipients.push(e);
            }
        }
        out.push(StaleAlert {
            app_id: r.app_id,
            app_name: r.app_name,
            subscription_id: r.subscription_id,
            plan: r.plan,
            notice_deadline: r.notice_deadline,
            days_to_deadline: r.days_to_deadline,
            stale: c.stale,
            last_sync_at: c.last_sync_at,
            last_sync_status: c.last_sync_status.clone(),
            last_error: c.last_error.clone(),
            recipients,
        });
    }
    Ok(out)
}

fn email(a: &StaleAlert, public_url: &str) -> Result<Email, DbError> {
    let ctx = serde_json::json!({
        "app": a.app_name,
        "plan": a.plan,
        "problem": a.problem(),
        "deadline": a.notice_deadline.to_string(),
        "days_left": a.days_to_deadline,
        "last_sync": match (&a.last_sync_at, &a.last_sync_status) {
            (Some(t), Some(s)) => format!("{} ({s})", crate::time::format(t)),
            _ => "never".to_string(),
        },
        "last_error": a.last_error,
        "link": format!("{public_url}/apps/{}", a.app_id),
    });
    let (subject, text, html) =
        notify::render("stale_sync", &ctx).map_err(|e| DbError::Task(format!("stale sync template: {e}")))?;
    Ok(Email {
        key: format!("stale_sync:app:{}:deadline:{}", a.app_id, a.notice_deadline),
        kind: "stale_sync".into(),
        to: a.recipients.clone(),
        subject,
        text,
        html: Some(html),
    })
}

/// Queues one email per app and deadline with stale or failing data; returns the alerts queued
/// now (an alert queued before is not queued again, whatever the process).
pub fn send(
    conn: &mut Conn,
    today: NaiveDate,
    default_stages: &[u32],
    public_url: &str,
) -> Result<Vec<StaleAlert>, DbError> {
    let mut queued = Vec::new();
    for a in stale_alerts(conn, today, default_stages)? {
        if a.recipients.is_empty() {
            tracing::warn!(app = %a.app_name, "stale data before a notice deadline, but the app has no owner and no it token has an email");
            continue;
        }
        let mail = email(&a, public_url)?;
        if crate::db::write_tx(conn, |c| outbox::enqueue(c, &mail))?.is_some() {
            queued.push(a);
        }
    }
    Ok(queued)
}
