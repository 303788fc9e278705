//! Reading findings as lists: which findings (kind, app, status, "to act on"), in the list's
//! order from indexed columns, one page at a time with each row's brief evidence.

use super::store::{Finding, FindingId, FindingStatus};
use super::FindingKind;
use crate::db::schema::findings;
use crate::db::{Conn, JsonText, Page};
use crate::inventory::{AppId, SubscriptionId};
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

/// Which findings to list.
#[derive(Debug, Default, Clone)]
pub struct FindingFilter {
    /// Only this kind.
    pub kind: Option<FindingKind>,
    /// Only this app's.
    pub app_id: Option<AppId>,
    /// Only in this status.
    pub status: Option<FindingStatus>,
    /// Only those still to act on: open and acknowledged.
    pub to_act_on: bool,
}

/// The filtered findings in the list's order: annual savings, largest first (unknown last), then
/// the riskier first (the rule's `risk.rank`: shadow IT has no savings), then id. Both are
/// columns kept at refresh time, so the order comes from the `findings_order` index.
fn filtered(filter: &FindingFilter) -> findings::BoxedQuery<'static, <Conn as diesel::Connection>::Backend> {
    let mut q = findings::table.into_boxed();
    if let Some(k) = filter.kind {
        q = q.filter(findings::kind.eq(k));
    }
    if let Some(a) = filter.app_id {
        q = q.filter(findings::app_id.eq(a));
    }
    if let Some(s) = filter.status {
        q = q.filter(findings::status.eq(s));
    }
    if filter.to_act_on {
        // Written as "none of the others": an IN list would lead the planner to the status index
        // and a sort of every finding to act on, where this walks the order index and stops at a page.
        q = q.filter(findings::status.ne_all([
            FindingStatus::Resolved,
            FindingStatus::Dismissed,
            FindingStatus::Snoozed,
        ]));
    }
    q.order((findings::sort_savings.desc(), findings::risk_rank.desc(), findings::id.asc()))
}

/// Every finding the filter lets through, in the list's order, with full evidence.
pub fn list(conn: &mut Conn, filter: &FindingFilter) -> QueryResult<Vec<Finding>> {
    filtered(filter).select(Finding::as_select()).load(conn)
}

/// One page of the list, read from the database alone: the rows of the page, each with its brief
/// evidence (see [`super::store::brief`]), and the position the next page starts at.
pub fn list_page(conn: &mut Conn, filter: &FindingFilter, page: Page) -> QueryResult<(Vec<Finding>, Option<i64>)> {
    let start = page.after.max(0);
    // The brief where refresh cut one, else the whole evidence (short enough for a list).
    let listed_evidence = coalesce(findings::evidence_brief, findings::evidence);
    let mut out: Vec<Finding> = filtered(filter)
        .select((ListedFinding::as_select(), listed_evidence))
        .offset(start)
        .limit(page.fetch())
        .load::<(ListedFinding, JsonText<serde_json::Value>)>(conn)?
        .into_iter()
        .map(|(l, evidence)| Finding { evidence, ..l.into_finding() })
        .collect();
    let has_more = out.len() as i64 > page.limit;
    out.truncate(page.limit.max(0) as usize);
    let next = has_more.then_some(start + out.len() as i64);
    Ok((out, next))
}

diesel::define_sql_function!(
    /// The first of its arguments that is not null (SQL `COALESCE`, on both backends).
    fn coalesce(brief: diesel::sql_types::Nullable<diesel::sql_types::Text>, whole: diesel::sql_types::Text) -> diesel::sql_types::Text
);

/// A finding's row without its evidence, for lists.
#[derive(Queryable, Selectable)]
#[diesel(table_name = findings)]
struct ListedFinding {
    id: FindingId,
    fingerprint: String,
    kind: FindingKind,
    app_id: Option<AppId>,
    subscription_id: Option<SubscriptionId>,
    status: FindingStatus,
    seats: Option<i64>,
    monthly_savings_cents: Option<i64>,
    annual_savings_cents: Option<i64>,
    currency: Option<String>,
    explanation: String,
    subject_key: String,
    dismissed_subject_key: Option<String>,
    dismiss_reason: Option<String>,
    snoozed_until: Option<NaiveDate>,
    first_seen_at: NaiveDateTime,
    last_seen_at: NaiveDateTime,
    resolved_at: Option<NaiveDateTime>,
    updated_at: NaiveDateTime,
}

impl ListedFinding {
    fn into_finding(self) -> Finding {
        Finding {
            id: self.id,
            fingerprint: self.fingerprint,
            kind: self.kind,
            app_id: self.app_id,
            subscription_id: self.subscription_id,
            status: self.status,
            seats: self.seats,
            monthly_savings_cents: self.monthly_savings_cents,
            annual_savings_cents: self.annual_savings_cents,
            currency: self.currency,
            explanation: self.explanation,
            evidence: JsonText(serde_json::Value::Null),
            subject_key: self.subject_key,
            dismissed_subject_key: self.dismissed_subject_key,
            dismiss_reason: self.dismiss_reason,
            snoozed_until: self.snoozed_until,
            first_seen_at: self.first_seen_at,
            last_seen_at: self.last_seen_at,
            resolved_at: self.resolved_at,
            updated_at: self.updated_at,
        }
    }
}
