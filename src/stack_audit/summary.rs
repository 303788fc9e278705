//! The headline figures of an audit, frozen with it: counts, spend and waste per currency
//! (never summed across currencies), and the rows of the Summary sheet built from them.

use super::sheets::SummaryRow;
use serde::{Deserialize, Serialize};

/// Money in one currency: per month and per year, with how many things make it up.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MoneyLine {
    /// ISO 4217 code.
    pub currency: String,
    /// Per month, minor units.
    pub monthly_cents: i64,
    /// Per year, minor units.
    pub annual_cents: i64,
    /// Subscriptions or findings counted.
    pub count: i64,
}

/// Spend of one category in one currency.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CategorySpend {
    /// Category (`uncategorised` when an app has none).
    pub category: String,
    /// ISO 4217 code.
    pub currency: String,
    /// Per month, minor units.
    pub monthly_cents: i64,
    /// Per year, minor units.
    pub annual_cents: i64,
    /// Apps counted.
    pub apps: i64,
}

/// The audit this one compares against.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PreviousAudit {
    /// Its id (a string, like every id the API sends; read from an integer in older audits).
    pub id: super::AuditId,
    /// Its quarter.
    pub quarter: String,
    /// When it was taken (RFC 3339).
    pub taken_at: String,
}

/// An audit's headline figures.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct Summary {
    /// The audit compared against.
    pub previous: Option<PreviousAudit>,
    /// Apps not retired.
    pub apps: i64,
    /// Retired apps kept for history.
    pub apps_retired: i64,
    /// People in the directory.
    pub people: i64,
    /// Seats bought on active subscriptions with a seat count.
    pub seats_bought: i64,
    /// Active subscriptions with unlimited seats (not in `seats_bought`).
    pub unlimited_subscriptions: i64,
    /// Live seats.
    pub seats_assigned: i64,
    /// Live seats active within their app's threshold.
    pub seats_active: i64,
    /// Live seats whose source reports no activity.
    pub seats_activity_unknown: i64,
    /// Spend per currency.
    pub spend: Vec<MoneyLine>,
    /// Spend per category and currency.
    pub spend_by_category: Vec<CategorySpend>,
    /// Savings of open and acknowledged findings, per currency.
    pub waste: Vec<MoneyLine>,
    /// Open findings whose savings are unknown (no price).
    pub waste_unknown: i64,
    /// Open and acknowledged findings.
    pub findings_open: i64,
    /// Findings resolved since the previous audit (or in the quarter, for a first audit).
    pub findings_resolved: i64,
    /// Departed or suspended people still holding seats.
    pub leavers: i64,
    /// Their seats.
    pub leaver_seats: i64,
    /// Renewals with a notice deadline in the next 180 days.
    pub renewals: i64,
    /// Requests decided in the quarter.
    pub requests_decided: i64,
    /// Access review items in the audit.
    pub review_items: i64,
    /// Of which revoked.
    pub review_items_revoked: i64,
    /// Owner check-ins sent.
    pub check_ins: i64,
    /// Of which answered.
    pub check_ins_answered: i64,
    /// Annual savings of findings resolved since the previous audit, per currency.
    pub savings_realised: Vec<MoneyLine>,
    /// Rows in the Changes sheet.
    pub changes: i64,
}

fn count(section: &str, item: &str, value: i64) -> SummaryRow {
    SummaryRow { section: section.into(), item: item.into(), value: Some(value), currency: None }
}

fn money(section: &str, item: &str, cents: i64, currency: &str) -> SummaryRow {
    SummaryRow { section: section.into(), item: item.into(), value: Some(cents), currency: Some(currency.into()) }
}

impl Summary {
    /// The rows of the Summary sheet.
    pub fn rows(&self, quarter: &str, taken_at: &str) -> Vec<SummaryRow> {
        let text = |item: &str, v: &str| SummaryRow {
            section: "Audit".into(),
            item: format!("{item}: {v}"),
            value: None,
            currency: None,
        };
        let mut out = vec![text("Quarter", quarter), text("Taken at", taken_at)];
        if let Some(p) = &self.previous {
            out.push(text("Compared with", &format!("{} (audit {}, taken {})", p.quarter, p.id, p.taken_at)));
        }
        out.push(count("Stack", "Apps", self.apps));
        out.push(count("Stack", "Retired apps", self.apps_retired));
        out.push(count("Stack", "People", self.people));
        out.push(count("Seats", "Bought", self.seats_bought));
        out.push(count("Seats", "Unlimited subscriptions", self.unlimited_subscriptions));
        out.push(count("Seats", "Assigned", self.seats_assigned));
        out.push(count("Seats", "Active", self.seats_active));
        out.push(count("Seats", "Activity unknown", self.seats_activity_unknown));
        for m in &self.spend {
            out.push(money("Spend", "Monthly", m.monthly_cents, &m.currency));
            out.push(money("Spend", "Annual", m.annual_cents, &m.currency));
        }
        for c in &self.spend_by_category {
            out.push(money("Spend by category", &format!("{} (annual)", c.category), c.annual_cents, &c.currency));
        }
        for m in &self.waste {
            out.push(money("Waste", "Savings per month", m.monthly_cents, &m.currency));
            out.push(money("Waste", "Savings per year", m.annual_cents, &m.currency));
        }
        out.push(count("Waste", "Open findings", self.findings_open));
        out.push(count("Waste", "Open findings with unknown savings", self.waste_unknown));
        out.push(count("Waste", "Findings resolved", self.findings_resolved));
        for m in &self.savings_realised {
            out.push(money("Waste", "Savings realised per year", m.annual_cents, &m.currency));
        }
        out.push(count("Leavers", "People still holding seats", self.leavers));
        out.push(count("Leavers", "Their seats", self.leaver_seats));
        out.push(count("Renewals", "Notice deadlines in the next 180 days", self.renewals));
        out.push(count("Requests", "Decided in the quarter", self.requests_decided));
        out.push(count("Access reviews", "Items", self.review_items));
        out.push(count("Access reviews", "Revoked", self.review_items_revoked));
        out.push(count("Check-ins", "Sent", self.check_ins));
        out.push(count("Check-ins", "Answered", self.check_ins_answered));
        out.push(count("Changes", "Since the previous audit", self.changes));
        out
    }
}

/// Adds `monthly`/`annual` to the line for `currency`, keeping lines sorted by currency.
pub fn add(lines: &mut Vec<MoneyLine>, currency: &str, monthly: i64, annual: i64) {
    match lines.binary_search_by(|l| l.currency.as_str().cmp(currency)) {
        Ok(i) => {
            lines[i].monthly_cents += monthly;
            lines[i].annual_cents += annual;
            lines[i].count += 1;
        }
        Err(i) => lines.insert(
            i,
            MoneyLine { currency: currency.to_string(), monthly_cents: monthly, annual_cents: annual, count: 1 },
        ),
    }
}
