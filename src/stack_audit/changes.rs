//! Changes against the previous audit, from the two frozen snapshots alone: apps added and
//! retired, spend and seat changes per app, findings opened and resolved, savings realised.

use super::sheets::{AppRow, ChangeRow, FindingRow};
use super::summary::{self, MoneyLine};
use std::collections::{BTreeMap, BTreeSet};

struct AppView<'a> {
    row: &'a AppRow,
    spend: BTreeMap<String, i64>,
}

fn index(rows: &[AppRow]) -> BTreeMap<i64, AppView<'_>> {
    let mut out: BTreeMap<i64, AppView<'_>> = BTreeMap::new();
    for r in rows {
        let v = out.entry(r.app_id).or_insert(AppView { row: r, spend: BTreeMap::new() });
        if let (Some(c), Some(a)) = (&r.currency, r.annual_spend_cents) {
            *v.spend.entry(c.clone()).or_default() += a;
        }
    }
    out
}

fn live(r: &AppRow) -> bool {
    r.status != "retired"
}

fn row(
    change: &str,
    app: &AppRow,
    before: Option<i64>,
    after: Option<i64>,
    currency: Option<&str>,
    detail: String,
) -> ChangeRow {
    ChangeRow {
        change: change.into(),
        app_id: Some(app.app_id),
        app: Some(app.name.clone()),
        finding_id: None,
        before,
        after,
        difference: match (before, after) {
            (Some(b), Some(a)) => Some(a - b),
            (None, Some(a)) => Some(a),
            (Some(b), None) => Some(-b),
            (None, None) => None,
        },
        currency: currency.map(str::to_string),
        detail,
    }
}

/// The changes from the previous snapshot to this one, and the savings realised per currency.
pub fn compare(
    prev_apps: &[AppRow],
    prev_findings: &[FindingRow],
    apps: &[AppRow],
    findings: &[FindingRow],
) -> (Vec<ChangeRow>, Vec<MoneyLine>) {
    let mut out = app_changes(prev_apps, apps);
    let realised = finding_changes(prev_findings, findings, &mut out);
    (out, realised)
}

/// Apps added and retired, and their spend and seat changes.
fn app_changes(prev_apps: &[AppRow], apps: &[AppRow]) -> Vec<ChangeRow> {
    let (before, now) = (index(prev_apps), index(apps));
    let mut out = Vec::new();
    for (id, v) in &now {
        let was = before.get(id);
        match (was.map(|w| live(w.row)), live(v.row)) {
            (None | Some(false), true) => {
                out.push(row("app_added", v.row, None, None, None, format!("{} joined the stack", v.row.name)));
            }
            (Some(true), false) => {
                out.push(row("app_retired", v.row, None, None, None, format!("{} was retired", v.row.name)));
            }
            _ => {}
        }
        let Some(w) = was else { continue };
        let currencies: BTreeSet<&String> = w.spend.keys().chain(v.spend.keys()).collect();
        for c in currencies {
            let (b, a) = (w.spend.get(c).copied(), v.spend.get(c).copied());
            if b != a {
                let detail = format!("annual spend on {} changed", v.row.name);
                out.push(row("spend_changed", v.row, Some(b.unwrap_or(0)), Some(a.unwrap_or(0)), Some(c), detail));
            }
        }
        let seats = [
            ("seats_bought_changed", "seats bought", w.row.seats_bought, v.row.seats_bought),
            ("seats_assigned_changed", "seats assigned", w.row.seats_assigned, v.row.seats_assigned),
            ("seats_active_changed", "seats active", w.row.seats_active, v.row.seats_active),
        ];
        for (change, what, b, a) in seats {
            if b != a {
                out.push(row(change, v.row, b, a, None, format!("{what} in {} changed", v.row.name)));
            }
        }
    }
    for (id, w) in &before {
        if live(w.row) && !now.contains_key(id) {
            out.push(row("app_retired", w.row, None, None, None, format!("{} is gone from the inventory", w.row.name)));
        }
    }
    out
}

/// Findings opened and resolved (added to `out`); returns the savings realised per currency.
fn finding_changes(prev_findings: &[FindingRow], findings: &[FindingRow], out: &mut Vec<ChangeRow>) -> Vec<MoneyLine> {
    let was_open: BTreeMap<i64, &FindingRow> =
        prev_findings.iter().filter(|f| f.is_open()).map(|f| (f.finding_id, f)).collect();
    let current: BTreeMap<i64, &FindingRow> = findings.iter().map(|f| (f.finding_id, f)).collect();
    let finding_row = |change: &str, f: &FindingRow, detail: String| ChangeRow {
        change: change.into(),
        app_id: f.app_id,
        app: f.app.clone(),
        finding_id: Some(f.finding_id),
        before: None,
        after: f.annual_savings_cents,
        difference: None,
        currency: f.currency.clone(),
        detail,
    };
    for f in findings.iter().filter(|f| f.is_open() && !was_open.contains_key(&f.finding_id)) {
        out.push(finding_row("finding_opened", f, f.explanation.clone()));
    }
    let mut realised: Vec<MoneyLine> = Vec::new();
    for (id, f) in &was_open {
        let resolved = match current.get(id) {
            Some(now) => now.status == "resolved",
            None => true,
        };
        if !resolved {
            continue;
        }
        let latest = current.get(id).copied().unwrap_or(f);
        out.push(finding_row("finding_resolved", latest, f.explanation.clone()));
        if let (Some(c), Some(m), Some(a)) = (&f.currency, f.monthly_savings_cents, f.annual_savings_cents) {
            summary::add(&mut realised, c, m, a);
        }
    }
    for m in &realised {
        out.push(ChangeRow {
            change: "savings_realised".into(),
            app_id: None,
            app: None,
            finding_id: None,
            before: None,
            after: Some(m.annual_cents),
            difference: Some(m.annual_cents),
            currency: Some(m.currency.clone()),
            detail: format!("{} resolved findings saving this much per year", m.count),
        });
    }
    realised
}
