//! The report (`report.html` and `report.md`, minijinja): the audit's story for finance,
//! leadership and auditors, from the frozen snapshot. Long lists (leavers, review items) show
//! their first [`LIST_CAP`] rows and point to the CSV for the rest.

use crate::db::Conn;
use crate::stack_audit::error::{Result, StackAuditError};
use crate::stack_audit::sheets::*;
use crate::stack_audit::store::{self, Audit};
use crate::stack_audit::summary::Summary;
use minijinja::Environment;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// Rows of a long list shown in the report.
pub const LIST_CAP: usize = 500;

const TEMPLATES: &[(&str, &str)] =
    &[("report.html", include_str!("templates/report.html")), ("report.md", include_str!("templates/report.md"))];

/// Review results per review and app.
#[derive(Debug, Default, Serialize)]
pub struct ReviewTotals {
    review: String,
    app: String,
    items: i64,
    kept: i64,
    revoked: i64,
    by_default: i64,
    undecided: i64,
}

/// Spend, waste and realised savings of one currency.
#[derive(Debug, Default, Serialize)]
pub struct MoneyRow {
    currency: String,
    spend_monthly: i64,
    spend_annual: i64,
    waste_monthly: i64,
    waste_annual: i64,
    realised_annual: i64,
}

fn money_table(s: &Summary) -> Vec<MoneyRow> {
    let mut rows: BTreeMap<String, MoneyRow> = BTreeMap::new();
    fn row<'a>(rows: &'a mut BTreeMap<String, MoneyRow>, c: &str) -> &'a mut MoneyRow {
        rows.entry(c.to_string()).or_insert_with(|| MoneyRow { currency: c.to_string(), ..Default::default() })
    }
    for m in &s.spend {
        let r = row(&mut rows, &m.currency);
        r.spend_monthly = m.monthly_cents;
        r.spend_annual = m.annual_cents;
    }
    for m in &s.waste {
        let r = row(&mut rows, &m.currency);
        r.waste_monthly = m.monthly_cents;
        r.waste_annual = m.annual_cents;
    }
    for m in &s.savings_realised {
        row(&mut rows, &m.currency).realised_annual = m.annual_cents;
    }
    rows.into_values().collect()
}

/// What the report templates read.
#[derive(Debug, Serialize)]
pub struct ReportData {
    audit_id: String,
    quarter: String,
    taken_at: String,
    created_by: String,
    version: String,
    summary: Summary,
    money_table: Vec<MoneyRow>,
    apps: Vec<AppRow>,
    owners: Vec<(String, Vec<String>)>,
    findings_open: Vec<FindingRow>,
    findings_closed: Vec<FindingRow>,
    leavers: Vec<LeaverRow>,
    leavers_total: usize,
    renewals: Vec<RenewalRow>,
    requests: Vec<RequestRow>,
    reviews: Vec<ReviewTotals>,
    review_decisions: Vec<ReviewRow>,
    review_decisions_total: usize,
    check_ins: Vec<CheckInRow>,
    changes: Vec<ChangeRow>,
}

fn capped<R: SheetRow>(conn: &mut Conn, audit: &Audit, keep: impl Fn(&R) -> bool) -> Result<(Vec<R>, usize)> {
    let (mut rows, mut total) = (Vec::new(), 0usize);
    store::each::<R>(conn, audit.id, |r| {
        if keep(&r) {
            total += 1;
            if rows.len() < LIST_CAP {
                rows.push(r);
            }
        }
        Ok(())
    })?;
    Ok((rows, total))
}

impl ReportData {
    /// Reads what the report shows from `audit`'s snapshot.
    pub fn load(conn: &mut Conn, audit: &Audit) -> Result<Self> {
        let summary: Summary = audit.summary.0.clone();
        let apps = store::load::<AppRow>(conn, audit.id)?;
        let mut owners: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for a in apps.iter().filter(|a| a.seats_assigned.is_some() && a.status != "retired") {
            let owner = a.owner_email.clone().unwrap_or_else(|| "(no owner)".into());
            owners.entry(owner).or_default().push(a.name.clone());
        }
        let findings = store::load::<FindingRow>(conn, audit.id)?;
        let (findings_open, findings_closed) = findings.into_iter().partition(|f| f.is_open());
        let (leavers, leavers_total) = capped::<LeaverRow>(conn, audit, |_| true)?;
        let mut reviews: BTreeMap<(i64, String), ReviewTotals> = BTreeMap::new();
        let (mut review_decisions, mut review_decisions_total) = (Vec::new(), 0usize);
        store::each::<ReviewRow>(conn, audit.id, |r| {
            let t = reviews.entry((r.review_id, r.app.clone())).or_insert_with(|| ReviewTotals {
                review: r.review.clone(),
                app: r.app.clone(),
                ..Default::default()
            });
            t.items += 1;
            match r.decision.as_deref() {
                Some("keep") => t.kept += 1,
                Some("revoke") => t.revoked += 1,
                _ => t.undecided += 1,
            }
            t.by_default += i64::from(r.by_default);
            // Decisions people made (and revocations) are the evidence worth listing.
            if (r.decision.is_some() && !r.by_default) || r.decision.as_deref() == Some("revoke") {
                review_decisions_total += 1;
                if review_decisions.len() < LIST_CAP {
                    review_decisions.push(r);
                }
            }
            Ok(())
        })?;
        Ok(ReportData {
            audit_id: audit.id.to_string(),
            quarter: audit.quarter.clone(),
            taken_at: crate::time::format(&audit.taken_at),
            created_by: audit.created_by.clone(),
            version: audit.stackward_version.clone(),
            money_table: money_table(&summary),
            summary,
            apps,
            owners: owners.into_iter().collect(),
            findings_open,
            findings_closed,
            leavers,
            leavers_total,
            renewals: store::load(conn, audit.id)?,
            requests: store::load(conn, audit.id)?,
            reviews: reviews.into_values().collect(),
            review_decisions,
            review_decisions_total,
            check_ins: store::load(conn, audit.id)?,
            changes: store::load(conn, audit.id)?,
        })
    }
}

fn money(cents: Option<i64>, currency: Option<String>) -> String {
    match (cents, currency) {
        (Some(c), Some(cur)) => crate::renewals::upcoming::money(c, &cur),
        (Some(c), None) => c.to_string(),
        (None, _) => "unknown".into(),
    }
}

/// Escapes text for a Markdown table cell.
fn md(value: Option<String>) -> String {
    value.unwrap_or_default().replace('\\', "\\\\").replace('|', "\\|").replace(['\r', '\n'], " ")
}

/// Cuts text at `n` characters, saying so.
fn clip(value: String, n: usize) -> String {
    if value.chars().count() <= n {
        return value;
    }
    format!("{} …", value.chars().take(n).collect::<String>())
}

#[expect(
    clippy::expect_used,
    reason = "the report templates are compiled in and covered by tests: a syntax error is a build defect"
)]
fn env() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        env.add_filter("money", money);
        env.add_filter("md", md);
        env.add_filter("clip", clip);
        for (name, source) in TEMPLATES {
            // Compiled in and covered by tests; a syntax error is a build defect.
            env.add_template(name, source).expect("built-in report template parses");
        }
        env
    })
}

/// Renders report template `name` (`report.html` escapes every value; `report.md` does not).
pub fn render(name: &str, data: &ReportData) -> Result<String> {
    env().get_template(name).and_then(|t| t.render(data)).map_err(|e| StackAuditError::Pack(format!("{name}: {e:#}")))
}
