//! The sheets of an audit: their names in the workbook and as CSV files, their columns, and the
//! row each holds. Rows are what the snapshot freezes (as JSON) and what the pack writes.

use super::cells::Cell;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// A sheet of the workbook (and its CSV file).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Sheet {
    /// Headline figures.
    Summary,
    /// Every app with its owners, seats and spend.
    Apps,
    /// Every live seat.
    Seats,
    /// Open findings and those resolved since the last audit.
    Findings,
    /// Departed or suspended people who still hold seats.
    Leavers,
    /// Renewals with a notice deadline in the next 180 days.
    Renewals,
    /// Requests decided in the quarter.
    Requests,
    /// Access review items and their decisions.
    AccessReviews,
    /// Owner check-in answers.
    CheckIns,
    /// What changed since the previous audit.
    Changes,
}

/// The Summary sheet's header row.
const SUMMARY_HEADERS: &[&str] = &["Section", "Item", "Value", "Currency"];

/// The Apps sheet's header row.
const APPS_HEADERS: &[&str] = &[
    "App id",
    "App",
    "Vendor",
    "Category",
    "Status",
    "Owner",
    "Technical owner",
    "Billing owner",
    "Subscriptions",
    "Plans",
    "Seats bought",
    "Seats assigned",
    "Seats active",
    "Monthly spend",
    "Annual spend",
    "Currency",
];

/// The Seats sheet's header row.
const SEATS_HEADERS: &[&str] = &[
    "Account id",
    "App id",
    "App",
    "Email",
    "Name",
    "Person status",
    "Role",
    "Licence",
    "Seat status",
    "Billable",
    "Last active",
    "Dormant",
];

/// The Findings sheet's header row.
const FINDINGS_HEADERS: &[&str] = &[
    "Finding id",
    "Kind",
    "App id",
    "App",
    "Status",
    "Seats",
    "Monthly savings",
    "Annual savings",
    "Currency",
    "Explanation",
    "Evidence",
    "First seen",
    "Resolved",
    "Dismiss reason",
];

/// The Leavers sheet's header row.
const LEAVERS_HEADERS: &[&str] =
    &["Email", "Name", "Person status", "Left on", "App id", "App", "Account id", "Role", "Last active", "Billable"];

/// The Renewals sheet's header row.
const RENEWALS_HEADERS: &[&str] = &[
    "Subscription id",
    "App id",
    "App",
    "Plan",
    "Owner",
    "Renewal date",
    "Notice deadline",
    "Days to deadline",
    "Seats bought",
    "Seats used",
    "Annual cost",
    "Currency",
    "Recommendation",
    "Owner's decision",
];

/// The Requests sheet's header row.
const REQUESTS_HEADERS: &[&str] = &[
    "Request id",
    "Kind",
    "Subject",
    "App id",
    "Requester",
    "Status",
    "Outcome",
    "Decided at",
    "Decided by",
    "Seats",
    "Annual cost",
    "Currency",
];

/// The AccessReviews sheet's header row.
const ACCESS_REVIEWS_HEADERS: &[&str] = &[
    "Review id",
    "Review",
    "Item id",
    "App id",
    "App",
    "Account id",
    "Email",
    "Person status",
    "Role",
    "Last active",
    "Dormant",
    "Decision",
    "Decided by",
    "Decided at",
    "By default",
    "Comment",
    "Reclaim request",
];

/// The CheckIns sheet's header row.
const CHECK_INS_HEADERS: &[&str] = &[
    "Check-in id",
    "Quarter",
    "App id",
    "App",
    "Owner",
    "Seats bought",
    "Seats active",
    "Answered at",
    "Still needed",
    "Seats right",
    "Seats wanted",
    "Renewal intention",
    "Comment",
];

/// The Changes sheet's header row.
const CHANGES_HEADERS: &[&str] =
    &["Change", "App id", "App", "Finding id", "Before", "After", "Difference", "Currency", "Detail"];

impl Sheet {
    /// Every sheet, in workbook order.
    pub const ALL: [Sheet; 10] = [
        Sheet::Summary,
        Sheet::Apps,
        Sheet::Seats,
        Sheet::Findings,
        Sheet::Leavers,
        Sheet::Renewals,
        Sheet::Requests,
        Sheet::AccessReviews,
        Sheet::CheckIns,
        Sheet::Changes,
    ];

    /// The key its rows are stored under.
    pub fn key(self) -> &'static str {
        match self {
            Sheet::Summary => "summary",
            Sheet::Apps => "apps",
            Sheet::Seats => "seats",
            Sheet::Findings => "findings",
            Sheet::Leavers => "leavers",
            Sheet::Renewals => "renewals",
            Sheet::Requests => "requests",
            Sheet::AccessReviews => "access_reviews",
            Sheet::CheckIns => "check_ins",
            Sheet::Changes => "changes",
        }
    }

    /// Its name in the workbook.
    pub fn title(self) -> &'static str {
        match self {
            Sheet::Summary => "Summary",
            Sheet::Apps => "Apps",
            Sheet::Seats => "Seats",
            Sheet::Findings => "Findings",
            Sheet::Leavers => "Leavers",
            Sheet::Renewals => "Renewals",
            Sheet::Requests => "Requests",
            Sheet::AccessReviews => "Access reviews",
            Sheet::CheckIns => "Check-ins",
            Sheet::Changes => "Changes",
        }
    }

    /// Its CSV file in the pack.
    pub fn csv_name(self) -> String {
        format!("{}.csv", self.key())
    }

    /// Its header row.
    pub fn headers(self) -> &'static [&'static str] {
        match self {
            Sheet::Summary => SUMMARY_HEADERS,
            Sheet::Apps => APPS_HEADERS,
            Sheet::Seats => SEATS_HEADERS,
            Sheet::Findings => FINDINGS_HEADERS,
            Sheet::Leavers => LEAVERS_HEADERS,
            Sheet::Renewals => RENEWALS_HEADERS,
            Sheet::Requests => REQUESTS_HEADERS,
            Sheet::AccessReviews => ACCESS_REVIEWS_HEADERS,
            Sheet::CheckIns => CHECK_INS_HEADERS,
            Sheet::Changes => CHANGES_HEADERS,
        }
    }
}

/// A row of one sheet: stored as JSON in the snapshot, written as cells in the pack.
pub trait SheetRow: Serialize + DeserializeOwned {
    /// The sheet it belongs to.
    const SHEET: Sheet;
    /// Its cells, one per header.
    fn cells(&self) -> Vec<Cell>;
}

/// A row of the Summary sheet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SummaryRow {
    /// Section, e.g. `Spend`.
    pub section: String,
    /// What is counted.
    pub item: String,
    /// A count, or minor units when `currency` is set.
    pub value: Option<i64>,
    /// Currency of a money value.
    pub currency: Option<String>,
}

impl SheetRow for SummaryRow {
    const SHEET: Sheet = Sheet::Summary;
    fn cells(&self) -> Vec<Cell> {
        vec![
            Cell::text(&self.section),
            Cell::text(&self.item),
            Cell::money(self.value, self.currency.as_deref()),
            Cell::opt(&self.currency),
        ]
    }
}

/// An app with its figures; an app paid in several currencies has one more row per extra
/// currency, with its seat figures empty.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppRow {
    /// App id.
    pub app_id: i64,
    /// Name.
    pub name: String,
    /// Vendor.
    pub vendor: Option<String>,
    /// Category.
    pub category: Option<String>,
    /// Lifecycle status.
    pub status: String,
    /// Business owner.
    pub owner_email: Option<String>,
    /// Technical owner.
    pub technical_owner_email: Option<String>,
    /// Billing owner.
    pub billing_owner_email: Option<String>,
    /// Active subscriptions (in this currency).
    pub subscriptions: i64,
    /// Their plans, comma-separated.
    pub plans: String,
    /// Seats bought; empty when a plan is unlimited.
    pub seats_bought: Option<i64>,
    /// Live seats.
    pub seats_assigned: Option<i64>,
    /// Live seats active within the app's threshold.
    pub seats_active: Option<i64>,
    /// Spend per month, minor units.
    pub monthly_spend_cents: Option<i64>,
    /// Spend per year, minor units.
    pub annual_spend_cents: Option<i64>,
    /// Currency of the spend.
    pub currency: Option<String>,
}

impl SheetRow for AppRow {
    const SHEET: Sheet = Sheet::Apps;
    fn cells(&self) -> Vec<Cell> {
        let cur = self.currency.as_deref();
        vec![
            Cell::Int(self.app_id),
            Cell::text(&self.name),
            Cell::opt(&self.vendor),
            Cell::opt(&self.category),
            Cell::text(&self.status),
            Cell::opt(&self.owner_email),
            Cell::opt(&self.technical_owner_email),
            Cell::opt(&self.billing_owner_email),
            Cell::Int(self.subscriptions),
            Cell::text(&self.plans),
            Cell::int(self.seats_bought),
            Cell::int(self.seats_assigned),
            Cell::int(self.seats_active),
            Cell::money(self.monthly_spend_cents, cur),
            Cell::money(self.annual_spend_cents, cur),
            Cell::opt(&self.currency),
        ]
    }
}

/// A live seat.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeatRow {
    /// Account id.
    pub account_id: i64,
    /// App id.
    pub app_id: i64,
    /// App name.
    pub app: String,
    /// Email on the seat or of its person.
    pub email: Option<String>,
    /// Display name.
    pub name: Option<String>,
    /// The person's status: active, suspended, departed; empty when unmatched.
    pub person_status: Option<String>,
    /// Role at the vendor.
    pub role: Option<String>,
    /// Licence or SKU.
    pub licence: Option<String>,
    /// Seat status.
    pub status: String,
    /// Billed by the vendor.
    pub billable: bool,
    /// Last activity (RFC 3339).
    pub last_active_at: Option<String>,
    /// No activity for the app's threshold; none when the source reports no activity.
    pub dormant: Option<bool>,
}

impl SheetRow for SeatRow {
    const SHEET: Sheet = Sheet::Seats;
    fn cells(&self) -> Vec<Cell> {
        vec![
            Cell::Int(self.account_id),
            Cell::Int(self.app_id),
            Cell::text(&self.app),
            Cell::opt(&self.email),
            Cell::opt(&self.name),
            Cell::opt(&self.person_status),
            Cell::opt(&self.role),
            Cell::opt(&self.licence),
            Cell::text(&self.status),
            Cell::yes_no(self.billable),
            Cell::opt(&self.last_active_at),
            Cell::yes_no_unknown(self.dormant),
        ]
    }
}

/// A finding, open or resolved since the last audit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FindingRow {
    /// Finding id.
    pub finding_id: i64,
    /// Kind.
    pub kind: String,
    /// App id.
    pub app_id: Option<i64>,
    /// App name.
    pub app: Option<String>,
    /// Status.
    pub status: String,
    /// Seats concerned.
    pub seats: Option<i64>,
    /// Savings per month.
    pub monthly_savings_cents: Option<i64>,
    /// Savings per year.
    pub annual_savings_cents: Option<i64>,
    /// Currency of the savings.
    pub currency: Option<String>,
    /// Plain-language explanation.
    pub explanation: String,
    /// Evidence as compact JSON.
    pub evidence: String,
    /// When first found (RFC 3339).
    pub first_seen_at: String,
    /// When resolved (RFC 3339).
    pub resolved_at: Option<String>,
    /// Why it was dismissed.
    pub dismiss_reason: Option<String>,
}

impl FindingRow {
    /// True while the finding still asks for action.
    pub fn is_open(&self) -> bool {
        matches!(self.status.as_str(), "open" | "acknowledged")
    }
}

impl SheetRow for FindingRow {
    const SHEET: Sheet = Sheet::Findings;
    fn cells(&self) -> Vec<Cell> {
        let cur = self.currency.as_deref();
        vec![
            Cell::Int(self.finding_id),
            Cell::text(&self.kind),
            Cell::int(self.app_id),
            Cell::opt(&self.app),
            Cell::text(&self.status),
            Cell::int(self.seats),
            Cell::money(self.monthly_savings_cents, cur),
            Cell::money(self.annual_savings_cents, cur),
            Cell::opt(&self.currency),
            Cell::text(&self.explanation),
            Cell::text(&self.evidence),
            Cell::text(&self.first_seen_at),
            Cell::opt(&self.resolved_at),
            Cell::opt(&self.dismiss_reason),
        ]
    }
}

/// A departed or suspended person's live seat.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeaverRow {
    /// The person's email.
    pub email: String,
    /// Their name.
    pub name: String,
    /// departed or suspended.
    pub person_status: String,
    /// Last working day.
    pub left_on: Option<String>,
    /// App id.
    pub app_id: i64,
    /// App name.
    pub app: String,
    /// The seat.
    pub account_id: i64,
    /// Role at the vendor.
    pub role: Option<String>,
    /// Last activity (RFC 3339).
    pub last_active_at: Option<String>,
    /// Billed by the vendor.
    pub billable: bool,
}

impl SheetRow for LeaverRow {
    const SHEET: Sheet = Sheet::Leavers;
    fn cells(&self) -> Vec<Cell> {
        vec![
            Cell::text(&self.email),
            Cell::text(&self.name),
            Cell::text(&self.person_status),
            Cell::opt(&self.left_on),
            Cell::Int(self.app_id),
            Cell::text(&self.app),
            Cell::Int(self.account_id),
            Cell::opt(&self.role),
            Cell::opt(&self.last_active_at),
            Cell::yes_no(self.billable),
        ]
    }
}

/// A renewal whose notice deadline falls in the next 180 days.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RenewalRow {
    /// Subscription id.
    pub subscription_id: i64,
    /// App id.
    pub app_id: i64,
    /// App name.
    pub app: String,
    /// Plan.
    pub plan: String,
    /// Contract or app owner.
    pub owner_email: Option<String>,
    /// First day of the next term.
    pub renewal_date: String,
    /// Last day to cancel or change.
    pub notice_deadline: String,
    /// Days from the audit to the deadline.
    pub days_to_deadline: i64,
    /// Seats bought.
    pub seats_bought: Option<i64>,
    /// Seats in use.
    pub seats_used: i64,
    /// Cost per year.
    pub annual_cost_cents: Option<i64>,
    /// Currency.
    pub currency: String,
    /// stackward's recommendation.
    pub recommendation: String,
    /// What the owner decided: their check-in answer, a renewal request, or `undecided`.
    pub owner_decision: String,
}

impl SheetRow for RenewalRow {
    const SHEET: Sheet = Sheet::Renewals;
    fn cells(&self) -> Vec<Cell> {
        vec![
            Cell::Int(self.subscription_id),
            Cell::Int(self.app_id),
            Cell::text(&self.app),
            Cell::text(&self.plan),
            Cell::opt(&self.owner_email),
            Cell::text(&self.renewal_date),
            Cell::text(&self.notice_deadline),
            Cell::Int(self.days_to_deadline),
            Cell::int(self.seats_bought),
            Cell::Int(self.seats_used),
            Cell::money(self.annual_cost_cents, Some(&self.currency)),
            Cell::text(&self.currency),
            Cell::text(&self.recommendation),
            Cell::text(&self.owner_decision),
        ]
    }
}

/// A request decided in the quarter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestRow {
    /// Request id.
    pub request_id: i64,
    /// Kind.
    pub kind: String,
    /// The tool or app asked about.
    pub subject: Option<String>,
    /// App id.
    pub app_id: Option<i64>,
    /// Who asked.
    pub requester: String,
    /// Final status.
    pub status: String,
    /// What happened, in words.
    pub outcome: Option<String>,
    /// When it was decided (RFC 3339).
    pub decided_at: Option<String>,
    /// Who made the last decision.
    pub decided_by: Option<String>,
    /// Seats asked for.
    pub seats: Option<i64>,
    /// Cost per year.
    pub annual_cost_cents: Option<i64>,
    /// Currency.
    pub currency: Option<String>,
}

impl SheetRow for RequestRow {
    const SHEET: Sheet = Sheet::Requests;
    fn cells(&self) -> Vec<Cell> {
        vec![
            Cell::Int(self.request_id),
            Cell::text(&self.kind),
            Cell::opt(&self.subject),
            Cell::int(self.app_id),
            Cell::text(&self.requester),
            Cell::text(&self.status),
            Cell::opt(&self.outcome),
            Cell::opt(&self.decided_at),
            Cell::opt(&self.decided_by),
            Cell::int(self.seats),
            Cell::money(self.annual_cost_cents, self.currency.as_deref()),
            Cell::opt(&self.currency),
        ]
    }
}

/// An access review item with its decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReviewRow {
    /// Review id.
    pub review_id: i64,
    /// Review name.
    pub review: String,
    /// Item id.
    pub item_id: i64,
    /// App id.
    pub app_id: i64,
    /// App name.
    pub app: String,
    /// The seat.
    pub account_id: i64,
    /// The person's email.
    pub person_email: Option<String>,
    /// The person's status.
    pub person_status: Option<String>,
    /// Role at the vendor.
    pub role: Option<String>,
    /// Last activity (RFC 3339).
    pub last_active_at: Option<String>,
    /// Dormant; none when unknown.
    pub dormant: Option<bool>,
    /// keep or revoke; none while undecided.
    pub decision: Option<String>,
    /// Who decided.
    pub decided_by: Option<String>,
    /// When (RFC 3339).
    pub decided_at: Option<String>,
    /// Decided by the review's close, not a person.
    pub by_default: bool,
    /// The reviewer's comment.
    pub comment: Option<String>,
    /// The reclaim request the revocation went into.
    pub request_id: Option<i64>,
}

impl SheetRow for ReviewRow {
    const SHEET: Sheet = Sheet::AccessReviews;
    fn cells(&self) -> Vec<Cell> {
        vec![
            Cell::Int(self.review_id),
            Cell::text(&self.review),
            Cell::Int(self.item_id),
            Cell::Int(self.app_id),
            Cell::text(&self.app),
            Cell::Int(self.account_id),
            Cell::opt(&self.person_email),
            Cell::opt(&self.person_status),
            Cell::opt(&self.role),
            Cell::opt(&self.last_active_at),
            Cell::yes_no_unknown(self.dormant),
            Cell::opt(&self.decision),
            Cell::opt(&self.decided_by),
            Cell::opt(&self.decided_at),
            Cell::yes_no(self.by_default),
            Cell::opt(&self.comment),
            Cell::int(self.request_id),
        ]
    }
}

/// An owner's check-in for one app.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckInRow {
    /// Check-in id.
    pub check_in_id: i64,
    /// Quarter.
    pub quarter: String,
    /// App id.
    pub app_id: i64,
    /// App name.
    pub app: String,
    /// The owner asked.
    pub owner_email: String,
    /// Seats bought when asked.
    pub seats_bought: Option<i64>,
    /// Seats active when asked.
    pub seats_active: i64,
    /// When answered (RFC 3339); none while unanswered.
    pub answered_at: Option<String>,
    /// Still needed?
    pub still_needed: Option<bool>,
    /// Right number of seats?
    pub seats_right: Option<bool>,
    /// Seats the owner wants instead.
    pub seats_wanted: Option<i64>,
    /// keep, reduce or cancel.
    pub renewal_intention: Option<String>,
    /// The owner's comment.
    pub comment: Option<String>,
}

impl SheetRow for CheckInRow {
    const SHEET: Sheet = Sheet::CheckIns;
    fn cells(&self) -> Vec<Cell> {
        let answer = |v: Option<bool>| if self.answered_at.is_some() { Cell::yes_no_unknown(v) } else { Cell::Empty };
        vec![
            Cell::Int(self.check_in_id),
            Cell::text(&self.quarter),
            Cell::Int(self.app_id),
            Cell::text(&self.app),
            Cell::text(&self.owner_email),
            Cell::int(self.seats_bought),
            Cell::Int(self.seats_active),
            Cell::opt(&self.answered_at),
            answer(self.still_needed),
            answer(self.seats_right),
            Cell::int(self.seats_wanted),
            Cell::opt(&self.renewal_intention),
            Cell::opt(&self.comment),
        ]
    }
}

/// One change since the previous audit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangeRow {
    /// app_added, app_retired, spend_changed, seats_bought_changed, seats_assigned_changed,
    /// seats_active_changed, finding_opened, finding_resolved or savings_realised.
    pub change: String,
    /// App id.
    pub app_id: Option<i64>,
    /// App name.
    pub app: Option<String>,
    /// Finding id.
    pub finding_id: Option<i64>,
    /// The figure before (minor units when `currency` is set).
    pub before: Option<i64>,
    /// The figure now.
    pub after: Option<i64>,
    /// after − before.
    pub difference: Option<i64>,
    /// Currency of money figures.
    pub currency: Option<String>,
    /// In words.
    pub detail: String,
}

impl SheetRow for ChangeRow {
    const SHEET: Sheet = Sheet::Changes;
    fn cells(&self) -> Vec<Cell> {
        let cur = self.currency.as_deref();
        vec![
            Cell::text(&self.change),
            Cell::int(self.app_id),
            Cell::opt(&self.app),
            Cell::int(self.finding_id),
            Cell::money(self.before, cur),
            Cell::money(self.after, cur),
            Cell::money(self.difference, cur),
            Cell::opt(&self.currency),
            Cell::text(&self.detail),
        ]
    }
}
