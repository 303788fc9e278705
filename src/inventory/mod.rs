//! Inventory: people, apps, subscriptions (contracts) and accounts (seats).
//! Every change goes through these functions, which validate it and write the audit log.

pub mod accounts;
pub mod apps;
pub mod coverage;
mod domains;
mod error;
pub mod people;
pub mod sources;
pub mod subscriptions;
pub mod transfer;
pub mod usage;
pub mod validate;

pub use accounts::{Account, AccountChanges, AccountFilter, AccountId, AccountStatus, SeatActivity};
pub use apps::{App, AppChanges, AppFilter, AppId, AppStatus};
pub use coverage::{Coverage, SeatCoverage, UsageCoverage};
pub use domains::Domains;
pub use error::{InventoryError, Result};
pub use people::{Person, PersonChanges, PersonFilter, PersonId, PersonStatus};
pub use sources::{AppSources, SeatsSource, UsageSource};
pub use subscriptions::{
    BillingFrequency, Renewal, RenewalType, Subscription, SubscriptionChanges, SubscriptionFilter, SubscriptionId,
    SubscriptionStatus, Term,
};

/// Copies each field that a changes struct sets onto the record.
#[macro_export]
macro_rules! apply_changes {
    ($changes:ident, $record:ident; $($field:ident),+ $(,)?) => {
        $(if let Some(v) = $changes.$field { $record.$field = v; })+
    };
}
