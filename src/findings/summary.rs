//! What acting on the open and acknowledged findings would save: overall, per app (with its
//! name) and per category (the app's own, else the catalog's: the category the overlap rule
//! uses), and how many findings leave savings out because another finding already counts them.

use super::store::FindingStatus;
use crate::catalog::Catalog;
use crate::db::schema::findings;
use crate::db::{remember, Conn, Stamped};
use crate::inventory::{App, AppId};
use diesel::prelude::*;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// Savings of findings still to act on, in one currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Total {
    /// What is totalled: `overall`, an app id, or a category.
    pub key: String,
    /// The app's name, in `by_app` entries; null elsewhere.
    pub app_name: Option<String>,
    /// Currency; null for findings whose app has no contract (their savings are unknown).
    pub currency: Option<String>,
    /// Per month, minor units. Summed in 128 bits: many large findings never wrap around.
    pub monthly_savings_cents: i128,
    /// Per year, minor units (128-bit sum).
    pub annual_savings_cents: i128,
    /// Findings counted.
    pub findings: usize,
    /// Findings of this group whose savings are unknown (no price); not in the sums.
    pub unknown_savings: usize,
}

/// Totals of open and acknowledged findings, overall, per app and per app category.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct Totals {
    /// One per currency.
    pub overall: Vec<Total>,
    /// Per app and currency, with the app's name.
    pub by_app: Vec<Total>,
    /// Per category and currency: the app's category, else its catalog entry's; `uncategorised`
    /// only for apps neither names.
    pub by_category: Vec<Total>,
    /// Findings whose savings are left out, wholly or in part, because another finding already
    /// counts the same seats (orphaned before inactive before unassigned; renewal at risk points
    /// at the unassigned seats), or because the app's findings would save more than it costs.
    pub deduplicated: usize,
    /// Per currency: how much of the annual spend has usage (activity) data behind it.
    pub usage_coverage: Vec<UsageCovered>,
}

/// The share of annual spend, in one currency, on apps whose activity is known.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct UsageCovered {
    /// Currency.
    pub currency: String,
    /// Yearly spend on active subscriptions with a known price, minor units.
    #[schema(value_type = i64)]
    pub annual_spend_cents: i128,
    /// Of that, spend on apps whose usage is known (a connector, the usage push or a CSV).
    #[schema(value_type = i64)]
    pub usage_known_cents: i128,
    /// usage_known_cents / annual_spend_cents, 0–1; null when nothing is spent.
    pub share: Option<f64>,
}

/// An app as the summary names and files it.
#[derive(Debug, Clone, Default)]
pub struct AppLabel {
    /// Its name.
    pub name: String,
    /// Its category label, when it has one or the catalog knows it.
    pub category: Option<String>,
}

/// What the summary reads of a finding: its group keys and money, never its evidence.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = findings)]
pub struct Counted {
    /// The app concerned.
    pub app_id: Option<AppId>,
    /// Currency of the savings.
    pub currency: Option<String>,
    /// Savings per month in minor units; null when the price is unknown.
    pub monthly_savings_cents: Option<i64>,
    /// Savings per year in minor units; null when the price is unknown.
    pub annual_savings_cents: Option<i64>,
    /// True when another finding already counts these savings, wholly or in part.
    pub counted_elsewhere: bool,
}

/// The findings to act on of one app and currency, summed: what every total is made of.
#[derive(Debug, Clone, Copy, Default)]
pub struct Group {
    /// Per month, minor units (128-bit sum).
    monthly: i128,
    /// Per year, minor units (128-bit sum).
    annual: i128,
    /// Findings.
    findings: usize,
    /// Of those, with unknown savings (no price) that no other finding counts.
    unknown: usize,
    /// Of those, whose savings another finding already counts.
    counted_elsewhere: usize,
}

/// Findings to act on, summed per app and currency.
pub type Groups = BTreeMap<(Option<AppId>, Option<String>), Group>;

/// Sums findings per app and currency.
fn group(rows: &[Counted]) -> Groups {
    let mut out = Groups::new();
    for f in rows {
        let g = out.entry((f.app_id, f.currency.clone())).or_default();
        g.findings += 1;
        g.counted_elsewhere += usize::from(f.counted_elsewhere);
        match (f.monthly_savings_cents, f.annual_savings_cents) {
            (Some(m), Some(a)) => {
                g.monthly += i128::from(m);
                g.annual += i128::from(a);
            }
            // A finding that points at another for its money is not "unknown".
            _ if f.counted_elsewhere => {}
            _ => g.unknown += 1,
        }
    }
    out
}

/// Sums what acting on the findings of `groups` would save.
pub fn totals(groups: &Groups, apps: &HashMap<AppId, AppLabel>) -> Totals {
    // None sorts first in a BTreeMap; keys are reordered below so priced groups come first.
    type Acc = BTreeMap<(String, Option<String>), (i128, i128, usize, usize)>;
    let (mut overall, mut by_app, mut by_category): (Acc, Acc, Acc) = Default::default();
    let mut deduped = 0;
    for ((app_id, currency), g) in groups {
        deduped += g.counted_elsewhere;
        let app = app_id.map(|a| a.to_string()).unwrap_or_else(|| "-".into());
        let category = app_id.and_then(|a| apps.get(&a)).and_then(|a| a.category.clone());
        let category = category.unwrap_or_else(|| "uncategorised".into());
        for (acc, key) in [(&mut overall, "overall".to_string()), (&mut by_app, app), (&mut by_category, category)] {
            let e = acc.entry((key, currency.clone())).or_default();
            e.0 += g.monthly;
            e.1 += g.annual;
            e.2 += g.findings;
            e.3 += g.unknown;
        }
    }
    let name_of = |key: &str| key.parse().ok().and_then(|id| apps.get(&AppId(id))).map(|a| a.name.clone());
    let out = |acc: Acc, named: bool| {
        let mut rows: Vec<_> = acc.into_iter().collect();
        rows.sort_by_key(|((key, currency), _)| (key.clone(), currency.is_none(), currency.clone()));
        rows.into_iter()
            .map(|((key, currency), (m, a, n, u))| Total {
                app_name: if named { name_of(&key) } else { None },
                key,
                currency,
                monthly_savings_cents: m,
                annual_savings_cents: a,
                findings: n,
                unknown_savings: u,
            })
            .collect()
    };
    Totals {
        overall: out(overall, false),
        by_app: out(by_app, true),
        by_category: out(by_category, false),
        deduplicated: deduped,
        usage_coverage: Vec::new(),
    }
}

/// Every app's name and category (its own, else the catalog's).
pub fn app_labels(conn: &mut Conn, catalog: Option<&Catalog>) -> QueryResult<HashMap<AppId, AppLabel>> {
    use crate::db::schema::apps;
    let rows: Vec<App> = apps::table.select(App::as_select()).load(conn)?;
    Ok(rows
        .into_iter()
        .map(|app| {
            let mut hosts: Vec<&str> = app.domains.iter().collect();
            hosts.extend(app.website.as_deref());
            let category = match catalog {
                Some(c) => c.category_for(&app.name, &hosts, app.category.as_deref()),
                None => app.category.as_deref().map(crate::catalog::category_label).filter(|c| !c.is_empty()),
            };
            (app.id, AppLabel { name: app.name.clone(), category })
        })
        .collect())
}

/// Every open and acknowledged finding summed per app and currency, from the money columns'
/// covering index; remembered until a finding changes.
fn to_act_on(conn: &mut Conn) -> QueryResult<Arc<Groups>> {
    remember(conn, Stamped::Findings, "findings to act on by app and currency".into(), |c| {
        let rows: Vec<Counted> = findings::table
            .filter(findings::status.eq_any([FindingStatus::Open, FindingStatus::Acknowledged]))
            .select(Counted::as_select())
            .load(c)?;
        Ok(Arc::new(group(&rows)))
    })
}

/// The overall totals alone, one per currency (the dashboard's "waste found").
pub fn overall(conn: &mut Conn) -> QueryResult<Vec<Total>> {
    Ok(totals(&*to_act_on(conn)?, &HashMap::new()).overall)
}

/// Totals of every open and acknowledged finding, with app names and categories.
pub fn summary(conn: &mut Conn, catalog: Option<&Catalog>) -> QueryResult<Totals> {
    let groups = to_act_on(conn)?;
    let apps = app_labels(conn, catalog)?;
    let mut t = totals(&groups, &apps);
    t.usage_coverage = usage_coverage(conn)?;
    Ok(t)
}

/// Per currency, the yearly spend of active subscriptions and the part on apps whose usage is
/// known. A subscription without a seat count is priced by the seats in use.
pub fn usage_coverage(conn: &mut Conn) -> QueryResult<Vec<UsageCovered>> {
    use crate::db::schema::subscriptions;
    use crate::inventory::{Subscription, SubscriptionStatus};
    let subs: Vec<Subscription> = subscriptions::table
        .filter(subscriptions::status.eq(SubscriptionStatus::Active))
        .select(Subscription::as_select())
        .load(conn)?;
    let in_use = crate::inventory::accounts::active_count_by_app(conn)?;
    let coverage = crate::inventory::coverage::for_apps(conn, None, crate::time::now())?;
    // Summed in 128 bits: many large contracts must not wrap around.
    let mut acc: BTreeMap<String, (i128, i128)> = Default::default();
    for s in &subs {
        let seats = s.seats_purchased.unwrap_or_else(|| in_use.get(&s.app_id).copied().unwrap_or(0));
        let Some(savings) = super::money::for_seats(s, seats) else { continue };
        let e = acc.entry(s.currency.clone()).or_default();
        e.0 += i128::from(savings.annual_cents);
        if coverage.get(&s.app_id).is_some_and(|c| c.usage.is_known()) {
            e.1 += i128::from(savings.annual_cents);
        }
    }
    Ok(acc
        .into_iter()
        .map(|(currency, (spend, known))| UsageCovered {
            currency,
            annual_spend_cents: spend,
            usage_known_cents: known,
            share: (spend > 0).then(|| (known as f64 / spend as f64 * 10_000.0).round() / 10_000.0),
        })
        .collect())
}
