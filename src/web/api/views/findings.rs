//! Findings bodies: a finding with its evidence, and exclusions.

use crate::findings::{self, FindingId, FindingKind, FindingStatus};
use crate::inventory::{AccountId, AppId, SubscriptionId};
use chrono::{NaiveDate, NaiveDateTime};
use serde::Serialize;

/// A finding as stored and shown.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
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
    /// The facts behind it. In lists, an array longer than 10 items keeps its first 10 and
    /// `<name>_total` (e.g. `accounts_total`) gives its length; the finding itself has them all.
    #[schema(value_type = Object)]
    pub evidence: serde_json::Value,
    /// Why it was dismissed.
    pub dismiss_reason: Option<String>,
    /// Snoozed until this day.
    #[schema(value_type = Option<String>, format = Date)]
    pub snoozed_until: Option<NaiveDate>,
    /// When first found.
    #[serde(with = "crate::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub first_seen_at: NaiveDateTime,
    /// When last found.
    #[serde(with = "crate::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub last_seen_at: NaiveDateTime,
    /// When its cause disappeared.
    #[serde(with = "crate::time::rfc3339_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub resolved_at: Option<NaiveDateTime>,
    /// When the record last changed.
    #[serde(with = "crate::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: NaiveDateTime,
}

impl From<findings::Finding> for Finding {
    fn from(r: findings::Finding) -> Self {
        Finding {
            id: r.id,
            fingerprint: r.fingerprint,
            kind: r.kind,
            app_id: r.app_id,
            subscription_id: r.subscription_id,
            status: r.status,
            seats: r.seats,
            monthly_savings_cents: r.monthly_savings_cents,
            annual_savings_cents: r.annual_savings_cents,
            currency: r.currency,
            explanation: r.explanation,
            evidence: r.evidence.into_inner(),
            dismiss_reason: r.dismiss_reason,
            snoozed_until: r.snoozed_until,
            first_seen_at: r.first_seen_at,
            last_seen_at: r.last_seen_at,
            resolved_at: r.resolved_at,
            updated_at: r.updated_at,
        }
    }
}

/// An exclusion as stored.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ExclusionRecord {
    /// Exclusion id.
    pub id: String,
    /// The app left out.
    pub app_id: Option<AppId>,
    /// The account left out.
    pub account_id: Option<AccountId>,
    /// Only for this kind of finding; null for all.
    pub kind: Option<String>,
    /// Why.
    pub reason: String,
    /// Who added it.
    pub created_by: String,
    /// When.
    #[serde(with = "crate::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: NaiveDateTime,
}

impl From<findings::exclusions::ExclusionRecord> for ExclusionRecord {
    fn from(r: findings::exclusions::ExclusionRecord) -> Self {
        ExclusionRecord {
            id: r.id.to_string(),
            app_id: r.app_id,
            account_id: r.account_id,
            kind: r.kind,
            reason: r.reason,
            created_by: r.created_by,
            created_at: r.created_at,
        }
    }
}
