//! Starting an access review: one item per live seat of the chosen apps, with the person's
//! status, the seat's activity and its reviewers (the app's owners, else the `it` role), and a
//! mail to every reviewer through the outbox; reminders before the due day; reading it back.

use super::model::{AccessReview, ReviewId, ReviewItem, ReviewStatus};
use crate::audit::{self, Actor};
use crate::auth::Role;
use crate::db::schema::{access_reviews, accounts, apps, people, review_items};
use crate::db::{Conn, JsonText};
use crate::inventory::{Account, AccountStatus, App, AppId, AppStatus, PersonStatus};
use crate::notify::{self, outbox, Email};
use crate::stack_audit::activity;
use crate::stack_audit::error::{Result, StackAuditError};
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde_json::json;
use std::collections::{BTreeMap, HashMap};

/// Ids per `IN (…)` lookup (well under SQLite's bound-parameter limit).
const INSERT_BATCH: usize = 500;

/// Days before `due_on` when reviewers with undecided seats are reminded.
pub const REMIND_DAYS_BEFORE: i64 = 3;

/// What starting a review needs.
#[derive(Debug, Clone)]
pub struct ReviewInput {
    /// Its name.
    pub name: String,
    /// The apps whose seats are reviewed.
    pub app_ids: Vec<AppId>,
    /// When decisions are due.
    pub due_on: NaiveDate,
}

/// The reviewer entries for `app`: its business and technical owners, else the `it` role.
pub fn reviewers_of(app: &App) -> Vec<String> {
    let mut out: Vec<String> = [&app.owner_email, &app.technical_owner_email]
        .into_iter()
        .flatten()
        .map(|e| format!("person:{}", e.to_lowercase()))
        .collect();
    out.dedup();
    if out.is_empty() {
        out.push(format!("role:{}", Role::It));
    }
    out
}

/// The addresses behind reviewer entries: a person's email, or everyone holding the role.
pub fn addresses(conn: &mut Conn, entries: &[String]) -> QueryResult<Vec<String>> {
    crate::auth::names::addresses(conn, entries)
}

fn validate(conn: &mut Conn, input: &ReviewInput, today: NaiveDate) -> Result<Vec<App>> {
    if input.name.trim().is_empty() {
        return Err(StackAuditError::invalid("name", "is required: what the review covers"));
    }
    if input.name.trim().chars().count() > 200 {
        return Err(StackAuditError::invalid("name", "is longer than 200 characters"));
    }
    if input.app_ids.is_empty() {
        return Err(StackAuditError::invalid("app_ids", "name at least one app whose seats to review"));
    }
    if input.due_on < today {
        return Err(StackAuditError::invalid("due_on", format!("{} is in the past", input.due_on)));
    }
    let mut out = Vec::new();
    for id in &input.app_ids {
        let app = match crate::inventory::apps::find(conn, *id) {
            Ok(a) => a,
            Err(crate::inventory::InventoryError::NotFound { .. }) => {
                return Err(StackAuditError::invalid("app_ids", format!("no app has id {id}")))
            }
            Err(e) => return Err(e.into()),
        };
        if app.status == AppStatus::Retired {
            return Err(StackAuditError::invalid("app_ids", format!("{} is retired", app.name)));
        }
        if !out.iter().any(|a: &App| a.id == app.id) {
            out.push(app);
        }
    }
    Ok(out)
}

type ItemValues = (
    diesel::dsl::Eq<review_items::review_id, ReviewId>,
    diesel::dsl::Eq<review_items::app_id, AppId>,
    diesel::dsl::Eq<review_items::account_id, crate::inventory::AccountId>,
    diesel::dsl::Eq<review_items::person_email, Option<String>>,
    diesel::dsl::Eq<review_items::person_status, Option<PersonStatus>>,
    diesel::dsl::Eq<review_items::role, Option<String>>,
    diesel::dsl::Eq<review_items::last_active_at, Option<NaiveDateTime>>,
    diesel::dsl::Eq<review_items::dormant, Option<bool>>,
    diesel::dsl::Eq<review_items::dormant_reason, Option<String>>,
    diesel::dsl::Eq<review_items::reviewers, JsonText<Vec<String>>>,
    diesel::dsl::Eq<review_items::by_default, bool>,
);

/// Starts a review: stores it with one item per live seat and writes to its reviewers.
/// Returns the review and how many items it holds.
pub fn create(
    conn: &mut Conn,
    actor: &Actor,
    input: ReviewInput,
    public_url: &str,
    now: NaiveDateTime,
) -> Result<(AccessReview, i64)> {
    let today = now.date();
    crate::db::write_tx(conn, |conn| {
        let apps_in = validate(conn, &input, today)?;
        let review: AccessReview = diesel::insert_into(access_reviews::table)
            .values((
                access_reviews::name.eq(input.name.trim()),
                access_reviews::due_on.eq(input.due_on),
                access_reviews::status.eq(ReviewStatus::Open),
                access_reviews::created_by.eq(&actor.0),
                access_reviews::created_at.eq(now),
            ))
            .returning(access_reviews::all_columns)
            .get_result(conn)?;
        let mut count = 0i64;
        let mut mail: BTreeMap<String, Vec<AppTally>> = BTreeMap::new();
        for app in &apps_in {
            let reviewers = reviewers_of(app);
            let tally = add_items(conn, &review, app, &reviewers, today)?;
            count += tally.items;
            for to in addresses(conn, &reviewers)? {
                mail.entry(to).or_default().push(tally.clone());
            }
        }
        write_to_reviewers(conn, &review, mail, public_url)?;
        audit::record(
            conn,
            actor,
            "access_review.create",
            "access_review",
            review.id,
            None,
            Some(&json!({"name": review.name, "due_on": review.due_on, "app_ids": input.app_ids, "items": count})),
        )?;
        Ok((review, count))
    })
}

/// What one app brings to a review, for its reviewers' mail.
#[derive(Clone)]
struct AppTally {
    app: String,
    items: i64,
    dormant: i64,
    departed: i64,
}

/// Adds one item per live seat of `app` to the review.
fn add_items(
    conn: &mut Conn,
    review: &AccessReview,
    app: &App,
    reviewers: &[String],
    today: NaiveDate,
) -> Result<AppTally> {
    let reviewers_json = JsonText(reviewers.to_vec());
    let days = activity::threshold(app.inactive_days);
    let seats: Vec<Account> = accounts::table
        .filter(accounts::app_id.eq(app.id))
        .filter(accounts::removed_at.is_null())
        .filter(accounts::status.ne(AccountStatus::Removed))
        .order(accounts::id.asc())
        .select(Account::as_select())
        .load(conn)?;
    let person_ids: Vec<i64> = seats.iter().filter_map(|a| a.person_id.map(|p| p.0)).collect();
    let mut persons: HashMap<i64, (String, PersonStatus)> = HashMap::new();
    for ids in person_ids.chunks(INSERT_BATCH) {
        let rows: Vec<(i64, String, PersonStatus)> = people::table
            .filter(people::id.eq_any(ids))
            .select((people::id, people::email, people::status))
            .load(conn)?;
        persons.extend(rows.into_iter().map(|(id, e, s)| (id, (e, s))));
    }
    let mut tally = AppTally { app: app.name.clone(), items: seats.len() as i64, dormant: 0, departed: 0 };
    let mut values: Vec<ItemValues> = Vec::with_capacity(seats.len());
    for a in &seats {
        let person = a.person_id.and_then(|p| persons.get(&p.0));
        let dormant = activity::dormant(a, days, today);
        tally.dormant += i64::from(dormant == Some(true));
        tally.departed += i64::from(person.is_some_and(|p| p.1 == PersonStatus::Departed));
        values.push((
            review_items::review_id.eq(review.id),
            review_items::app_id.eq(app.id),
            review_items::account_id.eq(a.id),
            review_items::person_email.eq(person.map(|p| p.0.clone()).or(a.email.clone())),
            review_items::person_status.eq(person.map(|p| p.1)),
            review_items::role.eq(a.role.clone()),
            review_items::last_active_at.eq(a.last_active_at),
            review_items::dormant.eq(dormant),
            review_items::dormant_reason.eq(activity::reason(a, days, dormant)),
            review_items::reviewers.eq(reviewers_json.clone()),
            review_items::by_default.eq(false),
        ));
    }
    // One statement per row: batch inserts are not available through the connection enum.
    for v in values {
        diesel::insert_into(review_items::table).values(v).execute(conn)?;
    }
    Ok(tally)
}

/// Queues one mail per reviewer address, listing the apps they review.
fn write_to_reviewers(
    conn: &mut Conn,
    review: &AccessReview,
    mail: BTreeMap<String, Vec<AppTally>>,
    public_url: &str,
) -> Result<()> {
    let link = format!("{public_url}/access-reviews/{}", review.id);
    for (to, apps) in mail {
        let apps: Vec<_> = apps
            .iter()
            .map(|t| json!({"app": t.app, "items": t.items, "dormant": t.dormant, "departed": t.departed}))
            .collect();
        let ctx = json!({"review": review.name, "id": review.id, "due_on": review.due_on.to_string(),
            "apps": apps, "link": link});
        queue(conn, &format!("access_review:{}:start:{to}", review.id), "access_review_start", &to, &ctx)?;
    }
    Ok(())
}

fn queue(conn: &mut Conn, key: &str, kind: &str, to: &str, ctx: &serde_json::Value) -> Result<()> {
    let (subject, text, html) =
        notify::render(kind, ctx).map_err(|e| StackAuditError::Pack(format!("mail template {kind}: {e}")))?;
    let email = Email { key: key.into(), kind: kind.into(), to: vec![to.to_string()], subject, text, html: Some(html) };
    outbox::enqueue(conn, &email)?;
    Ok(())
}

/// Finds a review.
pub fn find(conn: &mut Conn, id: ReviewId) -> Result<AccessReview> {
    access_reviews::table
        .find(id)
        .select(AccessReview::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| StackAuditError::NotFound(format!("access review {id} not found")))
}

/// Every review, newest first.
pub fn list(conn: &mut Conn) -> QueryResult<Vec<AccessReview>> {
    access_reviews::table.order(access_reviews::id.desc()).select(AccessReview::as_select()).load(conn)
}

/// Which items to list.
#[derive(Debug, Clone, Copy, Default)]
pub struct ItemFilter {
    /// Only this app's seats.
    pub app_id: Option<AppId>,
    /// Only items with this decision; `Some(None)` for undecided ones.
    pub decision: Option<Option<super::model::ReviewDecision>>,
}

/// A review's items in id order.
pub fn items(conn: &mut Conn, id: ReviewId, filter: ItemFilter) -> Result<Vec<ReviewItem>> {
    find(conn, id)?;
    let mut q = review_items::table.filter(review_items::review_id.eq(id)).into_boxed();
    if let Some(app) = filter.app_id {
        q = q.filter(review_items::app_id.eq(app));
    }
    match filter.decision {
        Some(Some(d)) => q = q.filter(review_items::decision.eq(d)),
        Some(None) => q = q.filter(review_items::decision.is_null()),
        None => {}
    }
    Ok(q.order(review_items::id.asc()).select(ReviewItem::as_select()).load(conn)?)
}

/// Counts of a review's items: (total, undecided, kept, revoked).
pub fn counts(conn: &mut Conn, id: ReviewId) -> QueryResult<(i64, i64, i64, i64)> {
    let decisions: Vec<Option<super::model::ReviewDecision>> =
        review_items::table.filter(review_items::review_id.eq(id)).select(review_items::decision).load(conn)?;
    let n = |d: Option<super::model::ReviewDecision>| decisions.iter().filter(|x| **x == d).count() as i64;
    use super::model::ReviewDecision::*;
    Ok((decisions.len() as i64, n(None), n(Some(Keep)), n(Some(Revoke))))
}

/// The names of apps, by id.
pub fn app_names(conn: &mut Conn) -> QueryResult<HashMap<AppId, String>> {
    Ok(apps::table.select((apps::id, apps::name)).load::<(AppId, String)>(conn)?.into_iter().collect())
}

/// Reminds the reviewers of open reviews due within [`REMIND_DAYS_BEFORE`] days of `today`
/// who still have undecided seats; each review is reminded once. Returns the mails queued.
pub fn remind_due(conn: &mut Conn, today: NaiveDate, public_url: &str) -> Result<usize> {
    let horizon = today + chrono::Duration::days(REMIND_DAYS_BEFORE);
    let due: Vec<AccessReview> = access_reviews::table
        .filter(access_reviews::status.eq(ReviewStatus::Open))
        .filter(access_reviews::reminded_at.is_null())
        .filter(access_reviews::due_on.le(horizon))
        .filter(access_reviews::due_on.ge(today))
        .select(AccessReview::as_select())
        .load(conn)?;
    let names = app_names(conn)?;
    let mut queued = 0;
    for review in due {
        queued += crate::db::write_tx(conn, |conn| -> Result<usize> {
            // The compare-and-set makes the reminder once across replicas.
            let won =
                diesel::update(access_reviews::table.find(review.id).filter(access_reviews::reminded_at.is_null()))
                    .set(access_reviews::reminded_at.eq(crate::time::now()))
                    .execute(conn)?;
            if won == 0 {
                return Ok(0);
            }
            let undecided = items(conn, review.id, ItemFilter { app_id: None, decision: Some(None) })?;
            let mut per: BTreeMap<String, BTreeMap<String, i64>> = BTreeMap::new();
            for item in &undecided {
                let app = names.get(&item.app_id).cloned().unwrap_or_else(|| item.app_id.to_string());
                for to in addresses(conn, item.reviewer_list())? {
                    *per.entry(to).or_default().entry(app.clone()).or_default() += 1;
                }
            }
            let link = format!("{public_url}/access-reviews/{}", review.id);
            let mut n = 0;
            for (to, apps) in per {
                let total: i64 = apps.values().sum();
                let apps: Vec<_> = apps.iter().map(|(a, u)| json!({"app": a, "undecided": u})).collect();
                let ctx = json!({"review": review.name, "due_on": review.due_on.to_string(), "undecided": total,
                    "apps": apps, "link": link});
                queue(
                    conn,
                    &format!("access_review:{}:reminder:{to}", review.id),
                    "access_review_reminder",
                    &to,
                    &ctx,
                )?;
                n += 1;
            }
            Ok(n)
        })?;
    }
    Ok(queued)
}
