//! Owner check-ins: each quarter every app owner gets one question set per app they own (still
//! needed? right number of seats, with bought and active shown? renewal intention?), by mail
//! through the outbox; answers are stored per app and quarter, shown on the app and in the
//! next audit pack. Started by `POST /api/v1/check-ins` or the `STACKWARD_CRON_CHECK_INS` job.

use super::activity;
use super::error::{Result, StackAuditError};
use super::quarter::Quarter;
use crate::audit::{self, Actor};
use crate::auth::Role;
use crate::db::schema::{accounts, apps, check_ins, subscriptions};
use crate::db::Conn;
use crate::inventory::{Account, AccountStatus, App, AppId, AppStatus, SubscriptionStatus};
use crate::notify::{self, outbox, Email};
use crate::workflow::Decider;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde_json::json;
use std::collections::BTreeMap;

crate::id_type!(
    /// Id of a check-in.
    CheckInId
);

crate::text_enum!(
    /// What the owner means to do at renewal.
    RenewalIntention {
        /// Renew as is.
        Keep => "keep",
        /// Renew with fewer seats or a smaller plan.
        Reduce => "reduce",
        /// Let it go.
        Cancel => "cancel",
    }
);

/// One app's check-in for one quarter.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = check_ins)]
pub struct CheckIn {
    /// Check-in id.
    pub id: CheckInId,
    /// Quarter, e.g. `2026-Q4`.
    pub quarter: String,
    /// The app.
    pub app_id: AppId,
    /// The owner asked.
    pub owner_email: String,
    /// Seats bought when asked; none when unlimited or no contract.
    pub seats_bought: Option<i64>,
    /// Seats active when asked.
    pub seats_active: i64,
    /// When asked.
    pub created_at: NaiveDateTime,
    /// When answered.
    pub answered_at: Option<NaiveDateTime>,
    /// Who answered.
    pub answered_by: Option<String>,
    /// Still needed?
    pub still_needed: Option<bool>,
    /// Right number of seats?
    pub seats_right: Option<bool>,
    /// How many seats the owner wants instead.
    pub seats_wanted: Option<i64>,
    /// What to do at renewal.
    pub renewal_intention: Option<RenewalIntention>,
    /// The owner's comment.
    pub comment: Option<String>,
}

/// An owner's answers.
#[derive(Debug, Clone)]
pub struct Answers {
    /// Still needed?
    pub still_needed: bool,
    /// Right number of seats?
    pub seats_right: bool,
    /// Seats wanted instead (when the number is not right).
    pub seats_wanted: Option<i64>,
    /// keep, reduce or cancel.
    pub renewal_intention: RenewalIntention,
    /// Anything else.
    pub comment: Option<String>,
}

/// Seats bought on the app's active subscriptions (none when one is unlimited or there is none)
/// and live seats active within the app's threshold.
pub fn seat_figures(conn: &mut Conn, app: &App, today: chrono::NaiveDate) -> QueryResult<(Option<i64>, i64)> {
    let bought: Vec<Option<i64>> = subscriptions::table
        .filter(subscriptions::app_id.eq(app.id))
        .filter(subscriptions::status.eq(SubscriptionStatus::Active))
        .select(subscriptions::seats_purchased)
        .load(conn)?;
    let bought = if bought.is_empty() || bought.iter().any(Option::is_none) {
        None
    } else {
        Some(bought.iter().flatten().sum())
    };
    let days = activity::threshold(app.inactive_days);
    let seats: Vec<Account> = accounts::table
        .filter(accounts::app_id.eq(app.id))
        .filter(accounts::removed_at.is_null())
        .filter(accounts::status.eq(AccountStatus::Active))
        .select(Account::as_select())
        .load(conn)?;
    let active = seats.iter().filter(|a| activity::dormant(a, days, today) == Some(false)).count() as i64;
    Ok((bought, active))
}

/// Starts `quarter`'s check-ins: one per app that is not retired and has a business owner and
/// none yet this quarter, with one mail per owner. Returns the check-ins made.
pub fn start(
    conn: &mut Conn,
    actor: &Actor,
    quarter: Quarter,
    public_url: &str,
    now: NaiveDateTime,
) -> Result<Vec<CheckIn>> {
    let q = quarter.to_string();
    crate::db::write_tx(conn, |conn| {
        let owned: Vec<App> = apps::table
            .filter(apps::status.ne(AppStatus::Retired))
            .filter(apps::owner_email.is_not_null())
            .order(apps::id.asc())
            .select(App::as_select())
            .load(conn)?;
        let mut made = Vec::new();
        for app in owned {
            let Some(owner) = app.owner_email.clone() else { continue };
            let exists = check_ins::table
                .filter(check_ins::quarter.eq(&q))
                .filter(check_ins::app_id.eq(app.id))
                .count()
                .get_result::<i64>(conn)?;
            if exists > 0 {
                continue;
            }
            let (bought, active) = seat_figures(conn, &app, now.date())?;
            let c: CheckIn = diesel::insert_into(check_ins::table)
                .values((
                    check_ins::quarter.eq(&q),
                    check_ins::app_id.eq(app.id),
                    check_ins::owner_email.eq(owner.to_lowercase()),
                    check_ins::seats_bought.eq(bought),
                    check_ins::seats_active.eq(active),
                    check_ins::created_at.eq(now),
                ))
                .returning(check_ins::all_columns)
                .get_result(conn)?;
            made.push((c, app.name));
        }
        let mut per_owner: BTreeMap<String, Vec<serde_json::Value>> = BTreeMap::new();
        for (c, name) in &made {
            per_owner.entry(c.owner_email.clone()).or_default().push(json!({
                "app": name, "seats_bought": c.seats_bought, "seats_active": c.seats_active,
                "link": format!("{public_url}/check-ins/{}", c.id),
            }));
        }
        for (to, apps) in per_owner {
            let ctx = json!({"quarter": q, "apps": apps});
            let (subject, text, html) = notify::render("check_in", &ctx)
                .map_err(|e| StackAuditError::Pack(format!("mail template check_in: {e}")))?;
            let key = format!("check_in:{q}:{to}");
            let email = Email { key, kind: "check_in".into(), to: vec![to], subject, text, html: Some(html) };
            outbox::enqueue(conn, &email)?;
        }
        let made: Vec<CheckIn> = made.into_iter().map(|(c, _)| c).collect();
        if !made.is_empty() {
            let ids: Vec<String> = made.iter().map(|c| c.id.to_string()).collect();
            audit::record(conn, actor, "check_in.start", "check_in", &q, None, Some(&json!({"check_ins": ids})))?;
        }
        Ok(made)
    })
}

/// Finds a check-in.
pub fn find(conn: &mut Conn, id: CheckInId) -> Result<CheckIn> {
    check_ins::table
        .find(id)
        .select(CheckIn::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| StackAuditError::NotFound(format!("check-in {id} not found")))
}

/// Which check-ins to list.
#[derive(Debug, Clone, Default)]
pub struct CheckInFilter {
    /// Only this quarter's.
    pub quarter: Option<String>,
    /// Only this app's.
    pub app_id: Option<AppId>,
    /// Only this owner's.
    pub owner_email: Option<String>,
}

/// Check-ins in id order.
pub fn list(conn: &mut Conn, filter: &CheckInFilter) -> QueryResult<Vec<CheckIn>> {
    let mut q = check_ins::table.into_boxed();
    if let Some(quarter) = &filter.quarter {
        q = q.filter(check_ins::quarter.eq(quarter.clone()));
    }
    if let Some(app) = filter.app_id {
        q = q.filter(check_ins::app_id.eq(app));
    }
    if let Some(owner) = &filter.owner_email {
        q = q.filter(check_ins::owner_email.eq(owner.to_lowercase()));
    }
    q.order(check_ins::id.asc()).select(CheckIn::as_select()).load(conn)
}

/// Stores the owner's answers to check-in `id`; the owner asked, or an admin, may answer.
pub fn answer(conn: &mut Conn, who: &Decider, id: CheckInId, answers: Answers, now: NaiveDateTime) -> Result<CheckIn> {
    crate::db::write_tx(conn, |conn| {
        let before = find(conn, id)?;
        let owner = who.email.as_deref().is_some_and(|e| e.eq_ignore_ascii_case(&before.owner_email));
        if !owner && !who.roles.contains(&Role::Admin) {
            return Err(StackAuditError::Forbidden(format!(
                "only the app's owner ({}) or an admin answers this check-in",
                before.owner_email
            )));
        }
        if answers.seats_wanted.is_some_and(|s| s < 0) {
            return Err(StackAuditError::invalid("seats_wanted", "must be 0 or more"));
        }
        let comment = answers.comment.map(|c| c.trim().to_string()).filter(|c| !c.is_empty());
        if comment.as_ref().is_some_and(|c| c.chars().count() > 2000) {
            return Err(StackAuditError::invalid("comment", "is longer than 2000 characters"));
        }
        let by = who.email.clone().unwrap_or_else(|| who.actor.0.clone());
        let after: CheckIn = diesel::update(check_ins::table.find(id))
            .set((
                check_ins::answered_at.eq(Some(now)),
                check_ins::answered_by.eq(Some(by)),
                check_ins::still_needed.eq(Some(answers.still_needed)),
                check_ins::seats_right.eq(Some(answers.seats_right)),
                check_ins::seats_wanted.eq(answers.seats_wanted),
                check_ins::renewal_intention.eq(Some(answers.renewal_intention)),
                check_ins::comment.eq(comment),
            ))
            .returning(check_ins::all_columns)
            .get_result(conn)?;
        let change = json!({"still_needed": after.still_needed, "seats_right": after.seats_right,
            "seats_wanted": after.seats_wanted, "renewal_intention": after.renewal_intention, "comment": after.comment});
        audit::record(conn, &who.actor, "check_in.answer", "check_in", id, None, Some(&change))?;
        Ok(after)
    })
}
