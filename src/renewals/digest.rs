//! The weekly owner digest: each app owner's apps, their seat use, and renewals coming up.

use super::upcoming::UpcomingRenewal;
use crate::db::schema::apps;
use crate::db::{Conn, DbError};
use crate::inventory::{AppId, AppStatus};
use crate::notify::{self, outbox, Email};
use chrono::{Datelike, NaiveDate};
use diesel::prelude::*;
use std::collections::{BTreeMap, HashMap};

/// Queues one digest per app owner for the ISO week of `today`; a second run in the same week
/// queues nothing. Returns how many were queued.
pub fn queue_owner_digests(
    conn: &mut Conn,
    today: NaiveDate,
    renewals: &[UpcomingRenewal],
    public_url: &str,
) -> Result<usize, DbError> {
    let owned: Vec<(AppId, String, Option<String>)> = apps::table
        .filter(apps::status.ne(AppStatus::Retired))
        .filter(apps::owner_email.is_not_null())
        .select((apps::id, apps::name, apps::owner_email))
        .order(apps::id.asc())
        .load(conn)?;
    let used = crate::inventory::accounts::active_count_by_app(conn)?;
    let mut bought: HashMap<AppId, i64> = HashMap::new();
    for r in renewals {
        *bought.entry(r.app_id).or_default() += r.seats_purchased.unwrap_or(0);
    }
    let mut by_owner: BTreeMap<String, Vec<(AppId, String)>> = BTreeMap::new();
    for (id, name, owner) in owned {
        if let Some(owner) = owner {
            by_owner.entry(owner).or_default().push((id, name));
        }
    }
    let week = today.iso_week();
    let mut queued = 0;
    for (owner, apps) in by_owner {
        let app_ids: Vec<AppId> = apps.iter().map(|(id, _)| *id).collect();
        let items: Vec<_> = apps
            .iter()
            .map(|(id, name)| {
                serde_json::json!({"name": name, "seats_used": used.get(id).copied().unwrap_or(0),
                "seats_purchased": bought.get(id).copied().filter(|b| *b > 0),
                "findings_link": format!("{public_url}/findings?app={id}")})
            })
            .collect();
        let coming: Vec<_> = renewals
            .iter()
            .filter(|r| app_ids.contains(&r.app_id) && (0..=90).contains(&r.days_to_deadline))
            .map(|r| {
                serde_json::json!({"app": r.app_name, "plan": r.plan, "deadline": r.notice_deadline.to_string(),
                "days_left": r.days_to_deadline, "recommendation": r.recommendation.to_string()})
            })
            .collect();
        // Links open the pages where the owner acts, after signing in; nothing is decided by a link.
        let ctx = serde_json::json!({"apps": items, "renewals": coming, "link": public_url,
            "renewals_link": format!("{public_url}/renewals")});
        let (subject, text, html) =
            notify::render("owner_digest", &ctx).map_err(|e| DbError::Task(format!("owner digest template: {e}")))?;
        let email = Email {
            key: format!("digest:{owner}:{}-W{:02}", week.year(), week.week()),
            kind: "owner_digest".into(),
            to: vec![owner],
            subject,
            text,
            html: Some(html),
        };
        if outbox::enqueue(conn, &email)?.is_some() {
            queued += 1;
        }
    }
    Ok(queued)
}
