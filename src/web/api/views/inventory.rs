//! Inventory bodies as the API sends them: apps, subscriptions with their terms, people and
//! accounts. Built from the inventory's rows; the table shape can change without the wire changing.

use crate::inventory::{
    self, AccountId, AccountStatus, AppId, AppStatus, BillingFrequency, Domains, PersonId, PersonStatus, RenewalType,
    SubscriptionId, SubscriptionStatus,
};
use crate::sync::ConnectionId;
use chrono::{NaiveDate, NaiveDateTime};
use serde::Serialize;

/// An app in the inventory.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct App {
    /// App id.
    pub id: AppId,
    /// Name, unique regardless of case.
    pub name: String,
    /// Company that sells it.
    pub vendor: Option<String>,
    /// Category, e.g. `video conferencing`.
    pub category: Option<String>,
    /// Home page.
    pub website: Option<String>,
    /// Domains it is reached at.
    pub domains: Domains,
    /// Business owner, who answers for its use and cost.
    pub owner_email: Option<String>,
    /// Technical owner, who administers it.
    pub technical_owner_email: Option<String>,
    /// Billing owner, who holds the contract.
    pub billing_owner_email: Option<String>,
    /// Lifecycle status.
    pub status: AppStatus,
    /// Free text.
    pub notes: Option<String>,
    /// When the record was created (UTC).
    #[serde(with = "crate::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: NaiveDateTime,
    /// When the record last changed (UTC).
    #[serde(with = "crate::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: NaiveDateTime,
    /// Days without activity after which a seat counts as inactive; null = the default (60).
    pub inactive_days: Option<i32>,
}

impl From<inventory::App> for App {
    fn from(r: inventory::App) -> Self {
        App {
            id: r.id,
            name: r.name,
            vendor: r.vendor,
            category: r.category,
            website: r.website,
            domains: r.domains,
            owner_email: r.owner_email,
            technical_owner_email: r.technical_owner_email,
            billing_owner_email: r.billing_owner_email,
            status: r.status,
            notes: r.notes,
            created_at: r.created_at,
            updated_at: r.updated_at,
            inactive_days: r.inactive_days,
        }
    }
}

/// A subscription (contract) for an app, in its current term.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Subscription {
    /// Subscription id.
    pub id: SubscriptionId,
    /// The app it pays for.
    pub app_id: AppId,
    /// Plan or SKU, e.g. `Business`.
    pub plan: String,
    /// Seats bought; null means unlimited.
    pub seats_purchased: Option<i64>,
    /// Price of one seat per billing period, in minor units (cents); null when unknown.
    pub unit_price_cents: Option<i64>,
    /// ISO 4217 currency of the price.
    pub currency: String,
    /// Billing period.
    pub billing_frequency: BillingFrequency,
    /// First day of the current term.
    #[schema(value_type = String, format = Date)]
    pub term_start: NaiveDate,
    /// Last day of the current term; null when open-ended.
    #[schema(value_type = Option<String>, format = Date)]
    pub term_end: Option<NaiveDate>,
    /// What happens at the end of the term.
    pub renewal_type: RenewalType,
    /// Days of notice needed before the term ends to cancel or change.
    pub notice_days: Option<i32>,
    /// Explicit last day to opt out, when the contract names one.
    #[schema(value_type = Option<String>, format = Date)]
    pub opt_out_date: Option<NaiveDate>,
    /// Who owns the contract.
    pub owner_email: Option<String>,
    /// Cost centre charged.
    pub cost_centre: Option<String>,
    /// Whether the contract is in force.
    pub status: SubscriptionStatus,
    /// 1 for the first term, +1 at each renewal.
    pub term_number: i32,
    /// When the record was created (UTC).
    #[serde(with = "crate::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: NaiveDateTime,
    /// When the record last changed (UTC).
    #[serde(with = "crate::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: NaiveDateTime,
    /// Reminder stages in days before the notice deadline, e.g. `90,30,7`; null = the global default.
    pub reminder_days: Option<String>,
    /// True when the owner has said no renewal reminders are needed.
    pub no_action_needed: bool,
    /// Months each renewal runs (the contract term, whatever the billing period); null = as long
    /// as the current term.
    pub renewal_term_months: Option<i32>,
}

impl From<inventory::Subscription> for Subscription {
    fn from(r: inventory::Subscription) -> Self {
        Subscription {
            id: r.id,
            app_id: r.app_id,
            plan: r.plan,
            seats_purchased: r.seats_purchased,
            unit_price_cents: r.unit_price_cents,
            currency: r.currency,
            billing_frequency: r.billing_frequency,
            term_start: r.term_start,
            term_end: r.term_end,
            renewal_type: r.renewal_type,
            notice_days: r.notice_days,
            opt_out_date: r.opt_out_date,
            owner_email: r.owner_email,
            cost_centre: r.cost_centre,
            status: r.status,
            term_number: r.term_number,
            created_at: r.created_at,
            updated_at: r.updated_at,
            reminder_days: r.reminder_days,
            no_action_needed: r.no_action_needed,
            renewal_term_months: r.renewal_term_months,
        }
    }
}

/// One term of a subscription, past or current.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Term {
    /// Which term: 1 is the first.
    pub term_number: i32,
    /// Plan in that term.
    pub plan: String,
    /// Seats bought in that term.
    pub seats_purchased: Option<i64>,
    /// Seat price in that term, in cents.
    pub unit_price_cents: Option<i64>,
    /// Currency in that term.
    pub currency: String,
    /// Billing period in that term.
    pub billing_frequency: BillingFrequency,
    /// First day.
    #[schema(value_type = String, format = Date)]
    pub term_start: NaiveDate,
    /// Last day.
    #[schema(value_type = Option<String>, format = Date)]
    pub term_end: Option<NaiveDate>,
    /// Renewal type in that term.
    pub renewal_type: RenewalType,
    /// Notice days in that term.
    pub notice_days: Option<i32>,
    /// Opt-out date in that term.
    #[schema(value_type = Option<String>, format = Date)]
    pub opt_out_date: Option<NaiveDate>,
}

impl From<inventory::Term> for Term {
    fn from(r: inventory::Term) -> Self {
        Term {
            term_number: r.term_number,
            plan: r.plan,
            seats_purchased: r.seats_purchased,
            unit_price_cents: r.unit_price_cents,
            currency: r.currency,
            billing_frequency: r.billing_frequency,
            term_start: r.term_start,
            term_end: r.term_end,
            renewal_type: r.renewal_type,
            notice_days: r.notice_days,
            opt_out_date: r.opt_out_date,
        }
    }
}

/// A person in the directory.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Person {
    /// Person id.
    pub id: PersonId,
    /// Work email, unique, lower-case.
    pub email: String,
    /// Full name.
    pub name: String,
    /// Department.
    pub department: Option<String>,
    /// Job title.
    pub title: Option<String>,
    /// Manager's email.
    pub manager_email: Option<String>,
    /// Employment status.
    pub status: PersonStatus,
    /// Last working day, for departed people.
    #[schema(value_type = Option<String>, format = Date)]
    pub left_on: Option<NaiveDate>,
    /// When the record was created (UTC).
    #[serde(with = "crate::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: NaiveDateTime,
    /// When the record last changed (UTC).
    #[serde(with = "crate::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: NaiveDateTime,
    /// The identity provider connection that keeps this person up to date; null when kept by hand.
    pub source_connection_id: Option<ConnectionId>,
    /// When that connection last listed this person.
    #[serde(with = "crate::time::rfc3339_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_synced_at: Option<NaiveDateTime>,
}

impl From<inventory::Person> for Person {
    fn from(r: inventory::Person) -> Self {
        Person {
            id: r.id,
            email: r.email,
            name: r.name,
            department: r.department,
            title: r.title,
            manager_email: r.manager_email,
            status: r.status,
            left_on: r.left_on,
            created_at: r.created_at,
            updated_at: r.updated_at,
            source_connection_id: r.source_connection_id,
            last_synced_at: r.last_synced_at,
        }
    }
}

/// A seat: one user's account in one app.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Account {
    /// Account id.
    pub id: AccountId,
    /// The app the seat is in.
    pub app_id: AppId,
    /// The subscription that pays for it, when known.
    pub subscription_id: Option<SubscriptionId>,
    /// The person it belongs to, matched by email.
    pub person_id: Option<PersonId>,
    /// The vendor's id for the user.
    pub external_id: Option<String>,
    /// Email, lower-case.
    pub email: Option<String>,
    /// Username at the vendor.
    pub username: Option<String>,
    /// Display name.
    pub name: Option<String>,
    /// Role at the vendor, e.g. `admin`.
    pub role: Option<String>,
    /// Licence or SKU assigned.
    pub licence: Option<String>,
    /// Seat status.
    pub status: AccountStatus,
    /// Whether the vendor bills for this seat.
    pub billable: bool,
    /// When the vendor created the account.
    #[serde(with = "crate::time::rfc3339_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub vendor_created_at: Option<NaiveDateTime>,
    /// Last sign-in or activity; null when never seen active.
    #[serde(with = "crate::time::rfc3339_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_active_at: Option<NaiveDateTime>,
    /// When stackward first saw the account.
    #[serde(with = "crate::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub first_seen_at: NaiveDateTime,
    /// When stackward last saw the account.
    #[serde(with = "crate::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub last_seen_at: NaiveDateTime,
    /// When the account was removed.
    #[serde(with = "crate::time::rfc3339_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub removed_at: Option<NaiveDateTime>,
    /// When the record was created (UTC).
    #[serde(with = "crate::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: NaiveDateTime,
    /// When the record last changed (UTC).
    #[serde(with = "crate::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: NaiveDateTime,
    /// The connection that syncs this seat; null for seats entered by hand or imported.
    pub connection_id: Option<ConnectionId>,
    /// False when the seat's source reports no activity, so a missing sign-in means "unknown", not "unused".
    pub activity_tracked: bool,
    /// Whether the holder used their licence's premium features lately (e.g. hosted a Zoom meeting); null = unknown.
    pub premium_used: Option<bool>,
}

impl From<inventory::Account> for Account {
    fn from(r: inventory::Account) -> Self {
        Account {
            id: r.id,
            app_id: r.app_id,
            subscription_id: r.subscription_id,
            person_id: r.person_id,
            external_id: r.external_id,
            email: r.email,
            username: r.username,
            name: r.name,
            role: r.role,
            licence: r.licence,
            status: r.status,
            billable: r.billable,
            vendor_created_at: r.vendor_created_at,
            last_active_at: r.last_active_at,
            first_seen_at: r.first_seen_at,
            last_seen_at: r.last_seen_at,
            removed_at: r.removed_at,
            created_at: r.created_at,
            updated_at: r.updated_at,
            connection_id: r.connection_id,
            activity_tracked: r.activity_tracked,
            premium_used: r.premium_used,
        }
    }
}
