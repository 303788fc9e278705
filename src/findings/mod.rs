//! Findings: waste and risk in the stack, each with its savings, a plain-language explanation and
//! its evidence. Rules are pure functions over an inventory snapshot (`rules/`, one file each);
//! the store keeps a finding per stable fingerprint through its lifecycle
//! (open → acknowledged → resolved | dismissed | snoozed).

pub mod exclusions;
pub mod listing;
pub mod money;
pub mod rules;
pub mod snapshot;
pub mod store;
pub mod subjects;
pub mod summary;

pub use snapshot::RuleSettings;
pub use store::{Finding, FindingId, FindingStatus, RefreshReport};

use crate::inventory::{AccountId, AppId, SubscriptionId};

crate::text_enum!(
    /// What a finding is about.
    FindingKind {
        /// Seats with no activity for the app's inactivity threshold (never used included).
        InactiveSeat => "inactive_seat",
        /// Seats bought but not assigned to anyone.
        UnassignedSeats => "unassigned_seats",
        /// An active seat whose person is departed or suspended.
        OrphanedAccount => "orphaned_account",
        /// One person holding two or more seats in one app.
        DuplicateAccount => "duplicate_account",
        /// Apps of one category used side by side.
        Overlap => "overlap",
        /// A premium licence used only for basic features.
        Downgrade => "downgrade",
        /// A renewal coming up with low utilisation.
        RenewalAtRisk => "renewal_at_risk",
        /// A third-party app users granted access that is not approved.
        ShadowIt => "shadow_it",
    }
);

/// A finding as a rule computes it, before the store gives it an id and a status.
#[derive(Debug, Clone, PartialEq)]
pub struct Computed {
    /// What it is about.
    pub kind: FindingKind,
    /// Stable identity: kind plus subject ids, never message text.
    pub fingerprint: String,
    /// The app concerned.
    pub app_id: Option<AppId>,
    /// The subscription concerned.
    pub subscription_id: Option<SubscriptionId>,
    /// The accounts that make up the finding; a change in this set is a material change.
    pub accounts: Vec<AccountId>,
    /// Seats that could be saved.
    pub seats: Option<i64>,
    /// Savings per month and year, in `currency`; None when the price is unknown.
    pub savings: Option<money::Savings>,
    /// Currency of the savings.
    pub currency: Option<String>,
    /// One sentence a finance person understands.
    pub explanation: String,
    /// The facts behind it (accounts, dates, sources, freshness).
    pub evidence: serde_json::Value,
}

impl Computed {
    /// The subject as a key: what must change for a dismissed finding to reopen.
    pub fn subject_key(&self) -> String {
        let mut ids: Vec<i64> = self.accounts.iter().map(|a| a.0).collect();
        ids.sort_unstable();
        ids.dedup();
        let ids: Vec<String> = ids.iter().map(i64::to_string).collect();
        format!("{}|seats={}", ids.join(","), self.seats.unwrap_or(0))
    }
}

/// Runs every rule over the inventory as of `today` and stores the result.
pub fn refresh(
    conn: &mut crate::db::Conn,
    today: chrono::NaiveDate,
    settings: RuleSettings,
    catalog: Option<&crate::catalog::Catalog>,
) -> diesel::QueryResult<RefreshReport> {
    // The snapshot goes before the store reads what it holds: the two never share the memory.
    let computed = rules::all(&snapshot::Snapshot::load(conn, today, settings, catalog)?);
    store::refresh(conn, computed, today)
}

/// Runs every rule now, with the default thresholds, on the blocking pool: the one way the API,
/// the command line, the scheduler and a finished sync refresh findings.
pub async fn refresh_now(
    ctx: &crate::context::Context,
    today: chrono::NaiveDate,
) -> Result<RefreshReport, crate::db::DbError> {
    let catalog = ctx.catalog.clone();
    ctx.db
        .run(move |c| refresh(c, today, RuleSettings::default(), Some(&catalog)).map_err(crate::db::DbError::from))
        .await
}
