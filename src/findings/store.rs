//! Stored findings and their lifecycle. A refresh upserts by fingerprint and writes only what
//! changed: a re-run on unchanged data writes nothing. A finding whose cause is gone resolves
//! itself; a dismissed one reopens only when its subject (accounts, seat count) changes; a
//! snoozed one reopens when its date passes.

use super::{Computed, FindingKind};
use crate::audit::{self, Actor};
use crate::db::schema::findings;
use crate::db::{Conn, DbError, JsonText, Page};
use crate::inventory::{AppId, SubscriptionId};
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

crate::id_type!(
    /// Id of a finding.
    FindingId
);

crate::text_enum!(
    /// Where a finding stands.
    FindingStatus {
        /// New or back again; needs a look.
        Open => "open",
        /// Someone is on it.
        Acknowledged => "acknowledged",
        /// Its cause is gone.
        Resolved => "resolved",
        /// Judged not worth acting on, with a reason.
        Dismissed => "dismissed",
        /// Put aside until a date.
        Snoozed => "snoozed",
    }
);

/// A finding as stored and shown.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Serialize)]
#[diesel(table_name = findings)]
pub struct Finding {
    /// Finding id.
    pub id: FindingId,
    /// Stable identity: kind plus subject ids.
    pub fingerprint: String,
    /// Kind.
    pub kind: FindingKind,
    /// The app concerned.
    pub app_id: Option<AppId>,
    /// The subscription concerned.
    pub subscription_id: Option<SubscriptionId>,
    /// Where it stands.
    pub status: FindingStatus,
    /// Seats that could be saved.
    pub seats: Option<i64>,
    /// Savings per month in minor units; null when the price is unknown.
    pub monthly_savings_cents: Option<i64>,
    /// Savings per year in minor units; null when the price is unknown.
    pub annual_savings_cents: Option<i64>,
    /// Currency of the savings.
    pub currency: Option<String>,
    /// One sentence a finance person understands.
    pub explanation: String,
    /// The facts behind it.
    pub evidence: JsonText<serde_json::Value>,
    /// What must change for a dismissed finding to reopen.
    #[serde(skip)]
    pub subject_key: String,
    /// The subject when it was dismissed.
    #[serde(skip)]
    pub dismissed_subject_key: Option<String>,
    /// Why it was dismissed.
    pub dismiss_reason: Option<String>,
    /// Snoozed until this day.
    pub snoozed_until: Option<NaiveDate>,
    /// When first found.
    #[serde(with = "crate::time::rfc3339")]
    pub first_seen_at: NaiveDateTime,
    /// When last found.
    #[serde(with = "crate::time::rfc3339")]
    pub last_seen_at: NaiveDateTime,
    /// When its cause disappeared.
    #[serde(with = "crate::time::rfc3339_opt")]
    pub resolved_at: Option<NaiveDateTime>,
    /// When the record last changed.
    #[serde(with = "crate::time::rfc3339")]
    pub updated_at: NaiveDateTime,
}

/// What a refresh did.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct RefreshReport {
    /// Findings new or back again.
    pub opened: usize,
    /// Findings whose figures or evidence changed.
    pub updated: usize,
    /// Findings whose cause disappeared.
    pub resolved: usize,
    /// Findings found again exactly as before.
    pub unchanged: usize,
}

/// A change a person makes to a finding.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FindingUpdate {
    /// `acknowledged`, `dismissed` (needs `reason`), `snoozed` (needs `snoozed_until`) or `open`.
    pub status: FindingStatus,
    /// Why it is dismissed.
    pub reason: Option<String>,
    /// The day a snooze ends.
    #[serde(default, deserialize_with = "crate::time::date_opt::deserialize")]
    #[schema(value_type = Option<String>, format = Date)]
    pub snoozed_until: Option<NaiveDate>,
}

/// Why a change to a finding was refused.
#[derive(Debug, thiserror::Error)]
pub enum FindingError {
    /// The change is not valid.
    #[error("{field}: {message}")]
    Invalid {
        /// The field at fault.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
    /// No such finding.
    #[error("finding {0} not found")]
    NotFound(FindingId),
    /// Storage failed.
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<diesel::result::Error> for FindingError {
    fn from(e: diesel::result::Error) -> Self {
        FindingError::Db(DbError::Query(e))
    }
}

/// Applies a rules run: one transaction, writing only what changed.
pub fn refresh(conn: &mut Conn, computed: Vec<Computed>, today: NaiveDate) -> QueryResult<RefreshReport> {
    crate::db::write_tx(conn, |conn| {
        let now = crate::time::now();
        let existing: Vec<Finding> = findings::table.select(Finding::as_select()).load(conn)?;
        let mut by_fp: std::collections::HashMap<String, Finding> =
            existing.into_iter().map(|f| (f.fingerprint.clone(), f)).collect();
        let mut report = RefreshReport::default();
        for c in computed {
            let evidence = JsonText(c.evidence.clone());
            let subject = c.subject_key();
            let (monthly, annual) = (c.savings.map(|s| s.monthly_cents), c.savings.map(|s| s.annual_cents));
            let Some(old) = by_fp.remove(&c.fingerprint) else {
                diesel::insert_into(findings::table)
                    .values((
                        findings::fingerprint.eq(&c.fingerprint),
                        findings::kind.eq(c.kind),
                        findings::app_id.eq(c.app_id),
                        findings::subscription_id.eq(c.subscription_id),
                        findings::status.eq(FindingStatus::Open),
                        findings::seats.eq(c.seats),
                        findings::monthly_savings_cents.eq(monthly),
                        findings::annual_savings_cents.eq(annual),
                        findings::currency.eq(&c.currency),
                        findings::explanation.eq(&c.explanation),
                        findings::evidence.eq(&evidence),
                        findings::subject_key.eq(&subject),
                        findings::first_seen_at.eq(now),
                        findings::last_seen_at.eq(now),
                        findings::updated_at.eq(now),
                    ))
                    .execute(conn)?;
                report.opened += 1;
                continue;
            };
            let status = match old.status {
                FindingStatus::Resolved => FindingStatus::Open,
                FindingStatus::Dismissed if old.dismissed_subject_key.as_deref() != Some(subject.as_str()) => {
                    FindingStatus::Open
                }
                FindingStatus::Snoozed if old.snoozed_until.is_none_or(|d| d <= today) => FindingStatus::Open,
                s => s,
            };
            let same = status == old.status
                && old.seats == c.seats
                && old.monthly_savings_cents == monthly
                && old.annual_savings_cents == annual
                && old.currency == c.currency
                && old.explanation == c.explanation
                && old.evidence == evidence
                && old.subject_key == subject;
            if same {
                report.unchanged += 1;
                continue;
            }
            if status == FindingStatus::Open
                && old.status != FindingStatus::Open
                && old.status != FindingStatus::Acknowledged
            {
                report.opened += 1;
            } else {
                report.updated += 1;
            }
            let reopened = status == FindingStatus::Open && old.status != FindingStatus::Open;
            diesel::update(findings::table.find(old.id))
                .set((
                    findings::status.eq(status),
                    findings::seats.eq(c.seats),
                    findings::monthly_savings_cents.eq(monthly),
                    findings::annual_savings_cents.eq(annual),
                    findings::currency.eq(&c.currency),
                    findings::explanation.eq(&c.explanation),
                    findings::evidence.eq(&evidence),
                    findings::subject_key.eq(&subject),
                    findings::last_seen_at.eq(now),
                    findings::updated_at.eq(now),
                    findings::resolved_at.eq(if reopened { None } else { old.resolved_at }),
                    findings::snoozed_until.eq(if reopened { None } else { old.snoozed_until }),
                ))
                .execute(conn)?;
        }
        // Whatever was not found again has lost its cause.
        for old in by_fp.into_values() {
            if matches!(old.status, FindingStatus::Open | FindingStatus::Acknowledged | FindingStatus::Snoozed) {
                diesel::update(findings::table.find(old.id))
                    .set((
                        findings::status.eq(FindingStatus::Resolved),
                        findings::resolved_at.eq(Some(now)),
                        findings::updated_at.eq(now),
                    ))
                    .execute(conn)?;
                report.resolved += 1;
            }
        }
        Ok(report)
    })
}

/// Which findings to list.
#[derive(Debug, Default, Clone)]
pub struct FindingFilter {
    /// Only this kind.
    pub kind: Option<FindingKind>,
    /// Only this app's.
    pub app_id: Option<AppId>,
    /// Only in this status.
    pub status: Option<FindingStatus>,
}

/// Findings sorted by annual savings, largest first (unknown savings last), then by risk rank, then id.
pub fn list(conn: &mut Conn, filter: &FindingFilter) -> QueryResult<Vec<Finding>> {
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
    let mut rows: Vec<Finding> = q.select(Finding::as_select()).load(conn)?;
    // Among equal savings (shadow IT has none), the riskier first: the rule's `risk.rank`.
    rows.sort_by_cached_key(|f| {
        let rank = f.evidence.0.pointer("/risk/rank").and_then(serde_json::Value::as_i64).unwrap_or(0);
        (std::cmp::Reverse(f.annual_savings_cents.unwrap_or(-1)), std::cmp::Reverse(rank), f.id)
    });
    Ok(rows)
}

/// One page of a sorted list, by position (the order moves as savings change, so ids cannot be cursors).
pub fn page(rows: Vec<Finding>, page: Page) -> (Vec<Finding>, Option<i64>) {
    let start = page.after.max(0) as usize;
    let mut rows: Vec<Finding> = rows.into_iter().skip(start).take(page.fetch() as usize).collect();
    let has_more = rows.len() as i64 > page.limit;
    rows.truncate(page.limit as usize);
    let next = has_more.then_some((start + rows.len()) as i64);
    (rows, next)
}

/// Finds one finding.
pub fn find(conn: &mut Conn, id: FindingId) -> QueryResult<Option<Finding>> {
    findings::table.find(id).select(Finding::as_select()).first(conn).optional()
}

/// Applies a person's change (acknowledge, dismiss with a reason, snooze, reopen) and logs it.
pub fn update(
    conn: &mut Conn,
    actor: &Actor,
    id: FindingId,
    change: FindingUpdate,
    today: NaiveDate,
) -> Result<Finding, FindingError> {
    crate::db::write_tx(conn, |conn| {
        let before: Finding = findings::table
            .find(id)
            .select(Finding::as_select())
            .first(conn)
            .optional()?
            .ok_or(FindingError::NotFound(id))?;
        let reason = change.reason.map(|r| r.trim().to_string()).filter(|r| !r.is_empty());
        let (mut dismissed_key, mut dismiss_reason, mut snoozed) = (None, None, None);
        match change.status {
            FindingStatus::Dismissed => {
                let Some(r) = reason else {
                    return Err(FindingError::Invalid { field: "reason", message: "dismissing needs a reason".into() });
                };
                dismiss_reason = Some(r);
                dismissed_key = Some(before.subject_key.clone());
            }
            FindingStatus::Snoozed => match change.snoozed_until {
                Some(d) if d > today => snoozed = Some(d),
                Some(_) => {
                    return Err(FindingError::Invalid {
                        field: "snoozed_until",
                        message: "must be a day after today".into(),
                    })
                }
                None => {
                    return Err(FindingError::Invalid {
                        field: "snoozed_until",
                        message: "snoozing needs a date".into(),
                    })
                }
            },
            FindingStatus::Resolved => {
                let message =
                    "a finding resolves itself when its cause is gone; dismiss it with a reason instead".into();
                return Err(FindingError::Invalid { field: "status", message });
            }
            FindingStatus::Open | FindingStatus::Acknowledged => {}
        }
        if before.status == FindingStatus::Resolved {
            let message = "this finding's cause is gone; it reopens by itself if the cause returns".into();
            return Err(FindingError::Invalid { field: "status", message });
        }
        diesel::update(findings::table.find(id))
            .set((
                findings::status.eq(change.status),
                findings::dismiss_reason.eq(dismiss_reason),
                findings::dismissed_subject_key.eq(dismissed_key),
                findings::snoozed_until.eq(snoozed),
                findings::updated_at.eq(crate::time::now()),
            ))
            .execute(conn)?;
        let after: Finding = findings::table.find(id).select(Finding::as_select()).first(conn)?;
        audit::record(conn, actor, &format!("finding.{}", change.status), "finding", id, Some(&before), Some(&after))?;
        Ok(after)
    })
}
