//! Stored findings and their lifecycle. A refresh upserts by fingerprint and writes only what
//! changed: a re-run on unchanged data writes nothing. A finding whose cause is gone resolves
//! itself; a dismissed one reopens only when its subject (accounts, seat count) changes; a
//! snoozed one reopens when its date passes.

use super::{Computed, FindingKind};
use crate::audit::{self, Actor};
use crate::db::schema::findings;
use crate::db::{Conn, DbError, JsonText};
use crate::inventory::{AppId, SubscriptionId};
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

// Lists live in their own file; callers reach them through the store as before.
pub use super::listing::{list, list_page, FindingFilter};

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

/// Array items a list shows of each evidence array; the finding itself has them all.
pub const BRIEF_ITEMS: usize = 10;

/// The evidence as lists show it: each array longer than [`BRIEF_ITEMS`] keeps its first items
/// and `<name>_total` gives its length (one idle-seat finding can list every seat of an app).
/// None when nothing is cut.
pub fn brief(evidence: &serde_json::Value) -> Option<serde_json::Value> {
    let obj = evidence.as_object()?;
    if !obj.values().any(|v| v.as_array().is_some_and(|a| a.len() > BRIEF_ITEMS)) {
        return None;
    }
    let mut out = serde_json::Map::new();
    for (k, v) in obj {
        match v.as_array() {
            Some(items) if items.len() > BRIEF_ITEMS => {
                out.insert(k.clone(), serde_json::Value::Array(items[..BRIEF_ITEMS].to_vec()));
                out.insert(format!("{k}_total"), serde_json::Value::from(items.len()));
            }
            _ => {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    Some(serde_json::Value::Object(out))
}

/// True when the evidence says another finding already counts these savings, wholly or in part.
fn counted_elsewhere(evidence: &serde_json::Value) -> bool {
    evidence.get("deduplicated").is_some() || evidence["savings_counted_in"].as_array().is_some_and(|a| !a.is_empty())
}

/// What a refresh compares and writes of a computed finding, with the list's order columns. The
/// evidence is kept as the text the column holds, so an unchanged one is known by comparing text.
struct Stored {
    evidence: String,
    brief: Option<JsonText<serde_json::Value>>,
    subject: String,
    monthly: Option<i64>,
    annual: Option<i64>,
    risk_rank: i64,
    counted_elsewhere: bool,
}

impl Stored {
    fn of(c: &Computed) -> QueryResult<Self> {
        // Serialized as `JsonText` writes it, so equal text means equal stored evidence.
        let evidence =
            serde_json::to_string(&c.evidence).map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
        Ok(Stored {
            brief: brief(&c.evidence).map(JsonText),
            risk_rank: c.evidence.pointer("/risk/rank").and_then(serde_json::Value::as_i64).unwrap_or(0),
            counted_elsewhere: counted_elsewhere(&c.evidence),
            evidence,
            subject: c.subject_key(),
            monthly: c.savings.map(|s| s.monthly_cents),
            annual: c.savings.map(|s| s.annual_cents),
        })
    }
}

/// What a refresh reads of a stored finding to tell whether a computed one changes it: the
/// evidence as stored text, never parsed (a large stack has megabytes of it).
#[derive(Queryable, Selectable)]
#[diesel(table_name = findings)]
struct Known {
    id: FindingId,
    fingerprint: String,
    status: FindingStatus,
    seats: Option<i64>,
    monthly_savings_cents: Option<i64>,
    annual_savings_cents: Option<i64>,
    currency: Option<String>,
    explanation: String,
    evidence: String,
    subject_key: String,
    dismissed_subject_key: Option<String>,
    snoozed_until: Option<NaiveDate>,
    resolved_at: Option<NaiveDateTime>,
}

/// Applies a rules run: one transaction, writing only what changed.
pub fn refresh(conn: &mut Conn, computed: Vec<Computed>, today: NaiveDate) -> QueryResult<RefreshReport> {
    crate::db::write_tx(conn, |conn| {
        let now = crate::time::now();
        let mut by_fp = std::collections::HashMap::new();
        for known in findings::table.select(Known::as_select()).load_iter(conn)? {
            let mut known: Known = known?;
            by_fp.insert(std::mem::take(&mut known.fingerprint), known);
        }
        let mut report = RefreshReport::default();
        let mut new: Vec<(Computed, Stored)> = Vec::new();
        for c in computed {
            let st = Stored::of(&c)?;
            match by_fp.remove(&c.fingerprint) {
                None => {
                    new.push((c, st));
                    if new.len() == BATCH {
                        report.opened += insert(conn, &std::mem::take(&mut new), now)?;
                    }
                }
                Some(old) => update_found(conn, &c, &st, old, today, now, &mut report)?,
            }
        }
        report.opened += insert(conn, &new, now)?;
        // Whatever was not found again has lost its cause.
        let lost: Vec<FindingId> = by_fp
            .into_values()
            .filter(|old| {
                matches!(old.status, FindingStatus::Open | FindingStatus::Acknowledged | FindingStatus::Snoozed)
            })
            .map(|old| old.id)
            .collect();
        for chunk in lost.chunks(BATCH) {
            report.resolved += diesel::update(findings::table.filter(findings::id.eq_any(chunk)))
                .set((
                    findings::status.eq(FindingStatus::Resolved),
                    findings::resolved_at.eq(Some(now)),
                    findings::updated_at.eq(now),
                ))
                .execute(conn)?;
        }
        Ok(report)
    })
}

/// New findings inserted, and lost ones resolved, per statement: 500 rows of 19 columns stay
/// under both backends' limits on bound values.
const BATCH: usize = 500;

/// The columns a refresh writes of a finding it found, new or again: one list for both writes.
#[derive(Insertable, AsChangeset)]
#[diesel(table_name = findings, treat_none_as_null = true)]
struct FoundColumns<'a> {
    seats: Option<i64>,
    monthly_savings_cents: Option<i64>,
    annual_savings_cents: Option<i64>,
    currency: Option<&'a str>,
    explanation: &'a str,
    evidence: &'a str,
    subject_key: &'a str,
    last_seen_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    sort_savings: i64,
    risk_rank: i64,
    evidence_brief: Option<&'a JsonText<serde_json::Value>>,
    counted_elsewhere: bool,
}

impl<'a> FoundColumns<'a> {
    fn of(c: &'a Computed, st: &'a Stored, now: NaiveDateTime) -> Self {
        FoundColumns {
            seats: c.seats,
            monthly_savings_cents: st.monthly,
            annual_savings_cents: st.annual,
            currency: c.currency.as_deref(),
            explanation: &c.explanation,
            evidence: &st.evidence,
            subject_key: &st.subject,
            last_seen_at: now,
            updated_at: now,
            sort_savings: st.annual.unwrap_or(-1),
            risk_rank: st.risk_rank,
            evidence_brief: st.brief.as_ref(),
            counted_elsewhere: st.counted_elsewhere,
        }
    }
}

/// Inserts new findings, open, in one statement; returns how many.
fn insert(conn: &mut Conn, new: &[(Computed, Stored)], now: NaiveDateTime) -> QueryResult<usize> {
    if new.is_empty() {
        return Ok(0);
    }
    let rows: Vec<_> = new
        .iter()
        .map(|(c, st)| {
            (
                FoundColumns::of(c, st, now),
                findings::fingerprint.eq(&c.fingerprint),
                findings::kind.eq(c.kind),
                findings::app_id.eq(c.app_id),
                findings::subscription_id.eq(c.subscription_id),
                findings::status.eq(FindingStatus::Open),
                findings::first_seen_at.eq(now),
            )
        })
        .collect();
    // The connection enum has no multi-row insert; each backend has one.
    crate::on_backend!(conn, |c| diesel::insert_into(findings::table).values(&rows).execute(c))
}

/// A finding found again: its status moves (a resolved one reopens, a dismissed one when its
/// subject changed, a snoozed one when the day came), and it is written only if anything changed.
fn update_found(
    conn: &mut Conn,
    c: &Computed,
    st: &Stored,
    old: Known,
    today: NaiveDate,
    now: NaiveDateTime,
    report: &mut RefreshReport,
) -> QueryResult<()> {
    let status = match old.status {
        FindingStatus::Resolved => FindingStatus::Open,
        FindingStatus::Dismissed if old.dismissed_subject_key.as_deref() != Some(st.subject.as_str()) => {
            FindingStatus::Open
        }
        FindingStatus::Snoozed if old.snoozed_until.is_none_or(|d| d <= today) => FindingStatus::Open,
        s => s,
    };
    let same = status == old.status
        && old.seats == c.seats
        && old.monthly_savings_cents == st.monthly
        && old.annual_savings_cents == st.annual
        && old.currency == c.currency
        && old.explanation == c.explanation
        && old.evidence == st.evidence
        && old.subject_key == st.subject;
    if same {
        report.unchanged += 1;
        return Ok(());
    }
    if status == FindingStatus::Open && old.status != FindingStatus::Open && old.status != FindingStatus::Acknowledged {
        report.opened += 1;
    } else {
        report.updated += 1;
    }
    let reopened = status == FindingStatus::Open && old.status != FindingStatus::Open;
    diesel::update(findings::table.find(old.id))
        .set((
            FoundColumns::of(c, st, now),
            findings::status.eq(status),
            findings::resolved_at.eq(if reopened { None } else { old.resolved_at }),
            findings::snoozed_until.eq(if reopened { None } else { old.snoozed_until }),
        ))
        .execute(conn)?;
    Ok(())
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
