//! Taking an audit: everything the pack needs, frozen into the database in one transaction so
//! that later changes to the inventory never change the audit. Seats are streamed in pages
//! and stored in chunks, so a million of them never sit in memory at once.

use super::activity;
use super::changes;
use super::checkins::CheckIn;
use super::error::Result;
use super::quarter::Quarter;
use super::reviews::{AccessReview, ReviewItem};
use super::sheets::*;
use super::store::{self, Audit, ChunkWriter};
use super::summary::{self, CategorySpend, PreviousAudit, Summary};
use crate::audit::{self as audit_log, Actor};
use crate::db::schema::{
    access_reviews, accounts, approval_steps, apps, check_ins, findings, people, requests, review_items, subscriptions,
};
use crate::db::{Conn, JsonText};
use crate::findings::money;
use crate::findings::{Finding, FindingStatus};
use crate::inventory::{Account, AccountStatus, App, AppId, AppStatus, PersonStatus, Subscription, SubscriptionStatus};
use crate::workflow::{Request, RequestStatus};
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use std::collections::{BTreeMap, HashMap, HashSet};

/// Seats read per query while streaming.
const SEAT_PAGE: i64 = 5000;

/// Renewals whose notice deadline falls within this many days are in the audit.
pub const RENEWAL_WINDOW_DAYS: i64 = 180;

/// Per currency of an app: (subscriptions, plans, monthly, annual); None spend when no price is known.
type CurrencySpend = (i64, Vec<String>, Option<i64>, Option<i64>);

#[derive(Default, Clone, Copy)]
struct SeatCounts {
    assigned: i64,
    active: i64,
}

fn fmt(t: &NaiveDateTime) -> String {
    crate::time::format(t)
}

fn midnight(d: NaiveDate) -> NaiveDateTime {
    d.and_hms_opt(0, 0, 0).unwrap_or_default()
}

/// Takes the audit of `quarter` now, as `actor`; returns it with its summary.
pub fn take(conn: &mut Conn, actor: &Actor, quarter: Quarter, now: NaiveDateTime) -> Result<Audit> {
    crate::db::write_tx(conn, |conn| {
        let previous = store::latest(conn)?;
        let audit = store::insert(conn, &quarter.to_string(), now, &actor.0, previous.as_ref().map(|p| p.id))?;
        let today = now.date();
        // Findings resolved since the previous audit (or in the quarter, for a first audit).
        let since = previous.as_ref().map(|p| p.taken_at).unwrap_or_else(|| midnight(quarter.first_day()));
        let mut s = Summary {
            previous: previous.as_ref().map(|p| PreviousAudit {
                id: p.id,
                quarter: p.quarter.clone(),
                taken_at: fmt(&p.taken_at),
            }),
            ..Default::default()
        };

        let all_apps: Vec<App> = apps::table.order(apps::id.asc()).select(App::as_select()).load(conn)?;
        let app_by_id: HashMap<AppId, &App> = all_apps.iter().map(|a| (a.id, a)).collect();
        s.people = people::table.count().get_result(conn)?;

        let seats = stream_seats(conn, &audit, &app_by_id, today, &mut s)?;
        let app_rows = app_rows(conn, &all_apps, &seats, &mut s)?;
        let mut w = ChunkWriter::<AppRow>::new(audit.id);
        for r in &app_rows {
            w.push(conn, r.clone())?;
        }
        w.finish(conn)?;

        let finding_rows = finding_rows(conn, &app_by_id, since, &mut s)?;
        let mut w = ChunkWriter::<FindingRow>::new(audit.id);
        for r in &finding_rows {
            w.push(conn, r.clone())?;
        }
        w.finish(conn)?;

        let check_in_rows = check_in_rows(conn, &quarter, previous.as_ref(), &app_by_id, &mut s)?;
        let mut w = ChunkWriter::<RenewalRow>::new(audit.id);
        for r in renewal_rows(conn, today, &quarter, &check_in_rows)? {
            s.renewals += 1;
            w.push(conn, r)?;
        }
        w.finish(conn)?;
        let mut w = ChunkWriter::<CheckInRow>::new(audit.id);
        for r in check_in_rows {
            w.push(conn, r)?;
        }
        w.finish(conn)?;

        let mut w = ChunkWriter::<RequestRow>::new(audit.id);
        for r in request_rows(conn, &quarter)? {
            s.requests_decided += 1;
            w.push(conn, r)?;
        }
        w.finish(conn)?;

        review_rows(conn, &audit, &quarter, &app_by_id, &mut s)?;

        let mut w = ChunkWriter::<ChangeRow>::new(audit.id);
        if let Some(p) = &previous {
            let prev_apps = store::load::<AppRow>(conn, p.id)?;
            let prev_findings = store::load::<FindingRow>(conn, p.id)?;
            let (rows, realised) = changes::compare(&prev_apps, &prev_findings, &app_rows, &finding_rows);
            s.savings_realised = realised;
            for r in rows {
                s.changes += 1;
                w.push(conn, r)?;
            }
        }
        w.finish(conn)?;

        let taken = fmt(&now);
        let mut w = ChunkWriter::<SummaryRow>::new(audit.id);
        for r in s.rows(&quarter.to_string(), &taken) {
            w.push(conn, r)?;
        }
        w.finish(conn)?;
        let logged = serde_json::json!({"quarter": audit.quarter, "taken_at": taken, "apps": s.apps,
            "seats": s.seats_assigned, "findings_open": s.findings_open});
        let summary = JsonText(s);
        store::set_summary(conn, audit.id, &summary)?;
        audit_log::record(conn, actor, "audit.create", "audit", audit.id, None, Some(&logged))?;
        Ok(Audit { summary, ..audit })
    })
}

/// A person as the Seats and Leavers sheets show them: (id, email, name, status, left on).
type PersonRow = (i64, String, String, PersonStatus, Option<NaiveDate>);

/// Streams every live seat into the Seats and Leavers sheets; returns seat counts per app.
fn stream_seats(
    conn: &mut Conn,
    audit: &Audit,
    app_by_id: &HashMap<AppId, &App>,
    today: NaiveDate,
    s: &mut Summary,
) -> Result<HashMap<AppId, SeatCounts>> {
    let persons: HashMap<i64, PersonRow> = people::table
        .select((people::id, people::email, people::name, people::status, people::left_on))
        .load::<PersonRow>(conn)?
        .into_iter()
        .map(|p| (p.0, p))
        .collect();
    let mut counts: HashMap<AppId, SeatCounts> = HashMap::new();
    let mut seats = ChunkWriter::<SeatRow>::new(audit.id);
    let mut leavers = ChunkWriter::<LeaverRow>::new(audit.id);
    let mut leaver_people: HashSet<i64> = HashSet::new();
    let mut after = 0i64;
    loop {
        let page: Vec<Account> = accounts::table
            .filter(accounts::id.gt(after))
            .filter(accounts::removed_at.is_null())
            .filter(accounts::status.ne(AccountStatus::Removed))
            .order(accounts::id.asc())
            .limit(SEAT_PAGE)
            .select(Account::as_select())
            .load(conn)?;
        let Some(last) = page.last().map(|a| a.id.0) else { break };
        after = last;
        for a in page {
            let app = app_by_id.get(&a.app_id);
            let app_name = app.map(|x| x.name.clone()).unwrap_or_default();
            let days = activity::threshold(app.and_then(|x| x.inactive_days));
            let dormant = activity::dormant(&a, days, today);
            count_seat(counts.entry(a.app_id).or_default(), s, &a, dormant);
            let person = a.person_id.and_then(|p| persons.get(&p.0));
            if let Some(p) = person.filter(|p| matches!(p.3, PersonStatus::Departed | PersonStatus::Suspended)) {
                leaver_people.insert(p.0);
                s.leaver_seats += 1;
                leavers.push(conn, leaver_row(&a, p, &app_name))?;
            }
            seats.push(conn, seat_row(a, person, app_name, dormant))?;
        }
    }
    seats.finish(conn)?;
    leavers.finish(conn)?;
    s.leavers = leaver_people.len() as i64;
    Ok(counts)
}

/// Counts a seat in its app's counts and in the summary.
fn count_seat(c: &mut SeatCounts, s: &mut Summary, a: &Account, dormant: Option<bool>) {
    c.assigned += 1;
    s.seats_assigned += 1;
    if a.status == AccountStatus::Active && dormant == Some(false) {
        c.active += 1;
        s.seats_active += 1;
    }
    if dormant.is_none() {
        s.seats_activity_unknown += 1;
    }
}

/// The Leavers sheet's row for seat `a` of departed or suspended person `p`.
fn leaver_row(a: &Account, p: &PersonRow, app_name: &str) -> LeaverRow {
    let (_, email, name, status, left_on) = p;
    LeaverRow {
        email: email.clone(),
        name: name.clone(),
        person_status: status.to_string(),
        left_on: left_on.map(|d| d.to_string()),
        app_id: a.app_id.0,
        app: app_name.to_string(),
        account_id: a.id.0,
        role: a.role.clone(),
        last_active_at: a.last_active_at.as_ref().map(fmt),
        billable: a.billable,
    }
}

/// The Seats sheet's row for seat `a`, named after its person where known.
fn seat_row(a: Account, person: Option<&PersonRow>, app: String, dormant: Option<bool>) -> SeatRow {
    SeatRow {
        account_id: a.id.0,
        app_id: a.app_id.0,
        app,
        email: person.map(|p| p.1.clone()).or(a.email),
        name: person.map(|p| p.2.clone()).or(a.name),
        person_status: person.map(|p| p.3.to_string()),
        role: a.role,
        licence: a.licence,
        status: a.status.to_string(),
        billable: a.billable,
        last_active_at: a.last_active_at.as_ref().map(fmt),
        dormant,
    }
}

/// One row per app (and one more per extra currency it pays in), with spend per currency.
fn app_rows(
    conn: &mut Conn,
    all_apps: &[App],
    seats: &HashMap<AppId, SeatCounts>,
    s: &mut Summary,
) -> Result<Vec<AppRow>> {
    let subs: Vec<Subscription> = subscriptions::table
        .filter(subscriptions::status.eq(SubscriptionStatus::Active))
        .order(subscriptions::id.asc())
        .select(Subscription::as_select())
        .load(conn)?;
    let mut by_app: HashMap<AppId, Vec<&Subscription>> = HashMap::new();
    for sub in &subs {
        by_app.entry(sub.app_id).or_default().push(sub);
    }
    let mut categories: BTreeMap<(String, String), CategorySpend> = BTreeMap::new();
    let mut out = Vec::new();
    for app in all_apps {
        let live = app.status != AppStatus::Retired;
        if live {
            s.apps += 1;
        } else {
            s.apps_retired += 1;
        }
        let subs = by_app.remove(&app.id).unwrap_or_default();
        let bought = if subs.is_empty() || subs.iter().any(|x| x.seats_purchased.is_none()) {
            None
        } else {
            Some(subs.iter().filter_map(|x| x.seats_purchased).sum())
        };
        if live {
            s.seats_bought += subs.iter().filter_map(|x| x.seats_purchased).sum::<i64>();
            s.unlimited_subscriptions += subs.iter().filter(|x| x.seats_purchased.is_none()).count() as i64;
        }
        let per = spend_per_currency(app, &subs, live, s, &mut categories);
        let counts = seats.get(&app.id).copied().unwrap_or_default();
        out.extend(rows_per_currency(base_row(app, bought, counts), per));
    }
    s.spend_by_category = categories.into_values().collect();
    Ok(out)
}

/// An app's spend per currency; a live app's spend also counts in the summary and its category.
fn spend_per_currency(
    app: &App,
    subs: &[&Subscription],
    live: bool,
    s: &mut Summary,
    categories: &mut BTreeMap<(String, String), CategorySpend>,
) -> BTreeMap<String, CurrencySpend> {
    let mut per: BTreeMap<String, CurrencySpend> = BTreeMap::new();
    for sub in subs {
        let e = per.entry(sub.currency.clone()).or_default();
        e.0 += 1;
        if !e.1.contains(&sub.plan) {
            e.1.push(sub.plan.clone());
        }
        // An unlimited plan's price is for the whole subscription.
        if let Some(cost) = money::for_seats(sub, sub.seats_purchased.unwrap_or(1)) {
            e.2 = Some(e.2.unwrap_or(0) + cost.monthly_cents);
            e.3 = Some(e.3.unwrap_or(0) + cost.annual_cents);
            if live {
                summary::add(&mut s.spend, &sub.currency, cost.monthly_cents, cost.annual_cents);
                let category = app.category.clone().unwrap_or_else(|| "uncategorised".into());
                let c = categories.entry((category.clone(), sub.currency.clone())).or_insert_with(|| CategorySpend {
                    category,
                    currency: sub.currency.clone(),
                    ..Default::default()
                });
                c.monthly_cents += cost.monthly_cents;
                c.annual_cents += cost.annual_cents;
            }
        }
    }
    for ((category, currency), c) in categories.iter_mut() {
        if app.category.clone().unwrap_or_else(|| "uncategorised".into()) == *category
            && per.contains_key(currency)
            && live
        {
            c.apps += 1;
        }
    }
    per
}

/// An app's row before spend: who owns it, seats bought, assigned and active.
fn base_row(app: &App, bought: Option<i64>, counts: SeatCounts) -> AppRow {
    AppRow {
        app_id: app.id.0,
        name: app.name.clone(),
        vendor: app.vendor.clone(),
        category: app.category.clone(),
        status: app.status.to_string(),
        owner_email: app.owner_email.clone(),
        technical_owner_email: app.technical_owner_email.clone(),
        billing_owner_email: app.billing_owner_email.clone(),
        subscriptions: 0,
        plans: String::new(),
        seats_bought: bought,
        seats_assigned: Some(counts.assigned),
        seats_active: Some(counts.active),
        monthly_spend_cents: None,
        annual_spend_cents: None,
        currency: None,
    }
}

/// The app's rows: the base row alone when nothing is paid, else one per currency, with the
/// seat counts on the first only (so sums over the sheet count each seat once).
fn rows_per_currency(base: AppRow, per: BTreeMap<String, CurrencySpend>) -> Vec<AppRow> {
    if per.is_empty() {
        return vec![base];
    }
    let mut out = Vec::with_capacity(per.len());
    for (i, (currency, (n, plans, monthly, annual))) in per.into_iter().enumerate() {
        let mut r = base.clone();
        if i > 0 {
            r.seats_bought = None;
            r.seats_assigned = None;
            r.seats_active = None;
        }
        r.subscriptions = n;
        r.plans = plans.join(", ");
        r.monthly_spend_cents = monthly;
        r.annual_spend_cents = annual;
        r.currency = Some(currency);
        out.push(r);
    }
    out
}

fn finding_rows(
    conn: &mut Conn,
    app_by_id: &HashMap<AppId, &App>,
    since: NaiveDateTime,
    s: &mut Summary,
) -> Result<Vec<FindingRow>> {
    let rows: Vec<Finding> = findings::table
        .filter(findings::status.ne(FindingStatus::Resolved).or(findings::resolved_at.ge(since)))
        .order(findings::id.asc())
        .select(Finding::as_select())
        .load(conn)?;
    let mut out = Vec::new();
    for f in rows {
        let row = FindingRow {
            finding_id: f.id.0,
            kind: f.kind.to_string(),
            app_id: f.app_id.map(|a| a.0),
            app: f.app_id.and_then(|a| app_by_id.get(&a)).map(|a| a.name.clone()),
            status: f.status.to_string(),
            seats: f.seats,
            monthly_savings_cents: f.monthly_savings_cents,
            annual_savings_cents: f.annual_savings_cents,
            currency: f.currency.clone(),
            explanation: f.explanation.clone(),
            // Serialised compactly, so stored whitespace never shows in the pack.
            evidence: f.evidence.0.to_string(),
            first_seen_at: fmt(&f.first_seen_at),
            resolved_at: f.resolved_at.as_ref().map(fmt),
            dismiss_reason: f.dismiss_reason.clone(),
        };
        if row.is_open() {
            s.findings_open += 1;
            match (&row.currency, row.monthly_savings_cents, row.annual_savings_cents) {
                (Some(c), Some(m), Some(a)) => summary::add(&mut s.waste, c, m, a),
                _ => s.waste_unknown += 1,
            }
        }
        if row.status == "resolved" {
            s.findings_resolved += 1;
        }
        out.push(row);
    }
    Ok(out)
}

fn check_in_rows(
    conn: &mut Conn,
    quarter: &Quarter,
    previous: Option<&Audit>,
    app_by_id: &HashMap<AppId, &App>,
    s: &mut Summary,
) -> Result<Vec<CheckInRow>> {
    let mut q = check_ins::table.filter(check_ins::quarter.eq(quarter.to_string())).into_boxed();
    if let Some(p) = previous {
        q = q.or_filter(check_ins::created_at.gt(p.taken_at));
    }
    let rows: Vec<CheckIn> = q.order(check_ins::id.asc()).select(CheckIn::as_select()).load(conn)?;
    Ok(rows
        .into_iter()
        .map(|c| {
            s.check_ins += 1;
            s.check_ins_answered += i64::from(c.answered_at.is_some());
            CheckInRow {
                check_in_id: c.id.0,
                quarter: c.quarter,
                app_id: c.app_id.0,
                app: app_by_id.get(&c.app_id).map(|a| a.name.clone()).unwrap_or_default(),
                owner_email: c.owner_email,
                seats_bought: c.seats_bought,
                seats_active: c.seats_active,
                answered_at: c.answered_at.as_ref().map(fmt),
                still_needed: c.still_needed,
                seats_right: c.seats_right,
                seats_wanted: c.seats_wanted,
                renewal_intention: c.renewal_intention.map(|r| r.to_string()),
                comment: c.comment,
            }
        })
        .collect())
}

fn renewal_rows(
    conn: &mut Conn,
    today: NaiveDate,
    quarter: &Quarter,
    check_ins: &[CheckInRow],
) -> Result<Vec<RenewalRow>> {
    let upcoming = crate::renewals::upcoming::upcoming(conn, today, RENEWAL_WINDOW_DAYS, &[90, 60, 30, 7])?;
    let open_renewals: Vec<(i64, Option<crate::inventory::SubscriptionId>, RequestStatus)> = requests::table
        .filter(requests::kind.eq(crate::workflow::RequestKind::Renewal))
        .order(requests::id.asc())
        .select((requests::id, requests::subscription_id, requests::status))
        .load(conn)?;
    let mut out = Vec::new();
    for r in upcoming.into_iter().filter(|r| r.days_to_deadline >= 0) {
        let answer = check_ins
            .iter()
            .filter(|c| c.app_id == r.app_id.0 && c.quarter == quarter.to_string())
            .find_map(|c| c.renewal_intention.clone());
        let request = open_renewals.iter().rev().find(|(_, sub, _)| *sub == Some(r.subscription_id));
        let decision = match (answer, request) {
            (Some(a), _) => format!("{a} (owner's {quarter} check-in)"),
            (None, Some((id, _, status))) => format!("renewal request #{id}: {status}"),
            (None, None) if r.no_action_needed => "no action needed (owner)".into(),
            (None, None) => "undecided".into(),
        };
        out.push(RenewalRow {
            subscription_id: r.subscription_id.0,
            app_id: r.app_id.0,
            app: r.app_name,
            plan: r.plan,
            owner_email: r.owner_email,
            renewal_date: r.renewal_date.to_string(),
            notice_deadline: r.notice_deadline.to_string(),
            days_to_deadline: r.days_to_deadline,
            seats_bought: r.seats_purchased,
            seats_used: r.seats_used,
            annual_cost_cents: r.annual_cost_cents,
            currency: r.currency,
            recommendation: r.recommendation.to_string(),
            owner_decision: decision,
        });
    }
    Ok(out)
}

fn request_rows(conn: &mut Conn, quarter: &Quarter) -> Result<Vec<RequestRow>> {
    let (start, end) = (midnight(quarter.first_day()), midnight(quarter.last_day() + chrono::Duration::days(1)));
    let rows: Vec<Request> = requests::table
        .filter(
            requests::closed_at.ge(start).and(requests::closed_at.lt(end)).or(requests::status
                .eq(RequestStatus::Approved)
                .and(requests::updated_at.ge(start))
                .and(requests::updated_at.lt(end))),
        )
        .order(requests::id.asc())
        .select(Request::as_select())
        .load(conn)?;
    let mut out = Vec::new();
    for r in rows {
        let last: Option<(Option<NaiveDateTime>, Option<String>)> = approval_steps::table
            .filter(approval_steps::request_id.eq(r.id))
            .filter(approval_steps::decided_at.is_not_null())
            .order((approval_steps::decided_at.desc(), approval_steps::id.desc()))
            .select((approval_steps::decided_at, approval_steps::decided_by))
            .first(conn)
            .optional()?;
        let decided_at = last.as_ref().and_then(|l| l.0).or(r.closed_at);
        out.push(RequestRow {
            request_id: r.id.0,
            kind: r.kind.to_string(),
            subject: r.name.clone(),
            app_id: r.app_id.map(|a| a.0),
            requester: r.requester_email.clone(),
            status: r.status.to_string(),
            outcome: r.outcome.as_ref().map(|o| o.0.to_string()),
            decided_at: decided_at.as_ref().map(fmt),
            decided_by: last.and_then(|l| l.1),
            seats: r.seats,
            annual_cost_cents: r.annual_cost_cents,
            currency: r.currency.clone(),
        });
    }
    Ok(out)
}

fn review_rows(
    conn: &mut Conn,
    audit: &Audit,
    quarter: &Quarter,
    app_by_id: &HashMap<AppId, &App>,
    s: &mut Summary,
) -> Result<()> {
    let start = midnight(quarter.first_day());
    let reviews: Vec<AccessReview> = access_reviews::table
        .filter(access_reviews::closed_at.is_null().or(access_reviews::closed_at.ge(start)))
        .order(access_reviews::id.asc())
        .select(AccessReview::as_select())
        .load(conn)?;
    let mut w = ChunkWriter::<ReviewRow>::new(audit.id);
    for review in reviews {
        let items: Vec<ReviewItem> = review_items::table
            .filter(review_items::review_id.eq(review.id))
            .order(review_items::id.asc())
            .select(ReviewItem::as_select())
            .load(conn)?;
        for i in items {
            s.review_items += 1;
            let decision = i.decision.map(|d| d.to_string());
            s.review_items_revoked += i64::from(decision.as_deref() == Some("revoke"));
            w.push(
                conn,
                ReviewRow {
                    review_id: review.id.0,
                    review: review.name.clone(),
                    item_id: i.id.0,
                    app_id: i.app_id.0,
                    app: app_by_id.get(&i.app_id).map(|a| a.name.clone()).unwrap_or_default(),
                    account_id: i.account_id.0,
                    person_email: i.person_email,
                    person_status: i.person_status.map(|p| p.to_string()),
                    role: i.role,
                    last_active_at: i.last_active_at.as_ref().map(fmt),
                    dormant: i.dormant,
                    decision,
                    decided_by: i.decided_by,
                    decided_at: i.decided_at.as_ref().map(fmt),
                    by_default: i.by_default,
                    comment: i.comment,
                    request_id: i.request_id.map(|r| r.0),
                },
            )?;
        }
    }
    w.finish(conn)?;
    Ok(())
}
