//! Overlapping apps: several apps of one category in use at once (two video tools, three
//! whiteboards). The finding names the apps, their yearly cost, and how many people hold seats
//! in more than one; savings are those redundant seats at the cheapest price among them.

use crate::findings::money;
use crate::findings::snapshot::Snapshot;
use crate::findings::{Computed, FindingKind};
use crate::inventory::{AccountId, AppId};
use crate::renewals::upcoming::money as fmt_money;
use std::collections::{BTreeMap, BTreeSet, HashMap};

const KIND: FindingKind = FindingKind::Overlap;

/// A seat holder: a matched person, else an unmatched email (borrowed, so no allocation per seat).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Holder<'a> {
    Person(crate::inventory::PersonId),
    Email(&'a str),
}

/// One app's billed seats by holder: sorted by holder, then account. A sorted vector rather than
/// a map of vectors, as a million seats would each cost an allocation and a map entry.
#[derive(Default)]
struct Held<'a>(Vec<(Holder<'a>, AccountId)>);

impl<'a> Held<'a> {
    /// The holder's seats in the app (none when they hold none).
    fn accounts_of(&self, h: &Holder<'a>) -> impl Iterator<Item = AccountId> + '_ {
        let start = self.0.partition_point(|(x, _)| x < h);
        let end = self.0.partition_point(|(x, _)| x <= h);
        self.0[start..end].iter().map(|(_, a)| *a)
    }

    /// True when the holder has a seat in the app.
    fn holds(&self, h: &Holder<'a>) -> bool {
        self.0.binary_search_by(|(x, _)| x.cmp(h)).is_ok()
    }

    /// Each holder once, in order.
    fn holders(&self) -> impl Iterator<Item = &Holder<'a>> {
        self.0.chunk_by(|x, y| x.0 == y.0).map(|run| &run[0].0)
    }
}

type Holders<'a> = HashMap<AppId, Held<'a>>;

/// One finding per category with two or more apps in use.
pub fn run(s: &Snapshot) -> Vec<Computed> {
    let mut by_category: BTreeMap<String, Vec<AppId>> = BTreeMap::new();
    for app in s.apps.values() {
        // Grouped by label, so `video_conferencing` and `Video Conferencing` are one category.
        let label = app.category.as_deref().map(crate::catalog::category_label).filter(|c| !c.is_empty());
        if let Some(c) = label.filter(|_| !s.excluded(KIND, app.id, None)) {
            by_category.entry(c).or_default().push(app.id);
        }
    }
    // Who holds which seats, per app: people by matched person, else by account email.
    let mut holders: Holders = HashMap::new();
    for a in s.accounts.iter().filter(|a| s.is_billed_seat(KIND, a)) {
        let who = match (a.person_id, a.email.as_deref()) {
            (Some(p), _) => Holder::Person(p),
            (None, Some(e)) => Holder::Email(e),
            (None, None) => continue,
        };
        holders.entry(a.app_id).or_default().0.push((who, a.id));
    }
    for held in holders.values_mut() {
        held.0.sort_unstable();
    }
    let mut out = Vec::new();
    for (category, mut apps) in by_category {
        apps.retain(|a| holders.get(a).is_some_and(|h| !h.0.is_empty()));
        if apps.len() < 2 {
            continue;
        }
        apps.sort();
        out.push(finding(s, &category, &apps, &holders));
    }
    out
}

/// The cheapest known per-seat monthly price of an app, with its currency.
fn seat_price(s: &Snapshot, app: AppId) -> Option<(f64, String)> {
    s.subscriptions_of(app)
        .filter_map(|sub| money::seat_per_month(sub).map(|p| (p, sub.currency.clone())))
        .min_by(|a, b| a.0.total_cmp(&b.0))
}

/// How many holders the apps have between them, and each holding seats in more than one of them
/// with those apps (in `apps` order), in holder order, as the savings are summed in floating
/// point. One pass over each app's holders: asking every app about every holder is quadratic.
fn shared_holders<'h, 'a>(apps: &[AppId], holders: &'h Holders<'a>) -> (usize, Vec<(&'h Holder<'a>, Vec<AppId>)>) {
    let mut apps_of: HashMap<&Holder, Vec<AppId>> = HashMap::new();
    for a in apps {
        for h in holders.get(a).into_iter().flat_map(Held::holders) {
            apps_of.entry(h).or_default().push(*a);
        }
    }
    let everyone = apps_of.len();
    let mut several: Vec<_> = apps_of.into_iter().filter(|(_, theirs)| theirs.len() > 1).collect();
    several.sort_unstable_by_key(|(h, _)| *h);
    (everyone, several)
}

fn finding(s: &Snapshot, category: &str, apps: &[AppId], holders: &Holders) -> Computed {
    let empty = Held::default();
    let held = |a: &AppId| holders.get(a).unwrap_or(&empty);
    let prices: HashMap<AppId, Option<(f64, String)>> = apps.iter().map(|a| (*a, seat_price(s, *a))).collect();
    let currencies: BTreeSet<&str> = prices.values().flatten().map(|(_, c)| c.as_str()).collect();
    let (everyone, several) = shared_holders(apps, holders);
    // Which seat survives a consolidation is a choice; with a price unknown, so is the saving.
    let priced = prices.values().all(Option::is_some);
    let (mut redundant_seats, mut redundant_accounts, mut monthly) = (0i64, Vec::new(), 0f64);
    for (person, theirs) in several {
        // Keep the seat in the dearest app they use; the others are redundant.
        let mut by_price = theirs.clone();
        by_price.sort_by(|a, b| {
            let p = |x: &AppId| prices[x].as_ref().map(|(p, _)| *p).unwrap_or(f64::MAX);
            p(b).total_cmp(&p(a))
        });
        for app in &by_price[1..] {
            redundant_seats += 1;
            redundant_accounts.extend(held(app).accounts_of(person));
            if let Some((p, _)) = &prices[app] {
                monthly += p;
            }
        }
    }
    let savings = (priced && currencies.len() == 1).then(|| money::Savings {
        monthly_cents: monthly.round() as i64,
        annual_cents: (monthly * 12.0).round() as i64,
    });
    let currency = (currencies.len() == 1).then(|| currencies.iter().next().map(|c| c.to_string())).flatten();
    let names: Vec<String> = apps.iter().map(|a| s.label(*a, None)).collect();
    let cost = match (&savings, &currency) {
        (Some(v), Some(c)) if redundant_seats > 0 => {
            format!("; consolidating them saves {}/yr", fmt_money(v.annual_cents, c))
        }
        _ if redundant_seats > 0 => "; savings unknown (a price is missing or currencies differ)".into(),
        _ => String::new(),
    };
    let explanation = format!(
        "{} {category} apps are in use ({}): {redundant_seats} of {} people hold seats in more than one{cost}",
        apps.len(),
        names.join(", "),
        everyone
    );
    let mut pairs = Vec::new();
    for (i, a) in apps.iter().enumerate() {
        for b in &apps[i + 1..] {
            let both = held(a).holders().filter(|p| held(b).holds(p)).count();
            let smaller = held(a).holders().count().min(held(b).holders().count()).max(1);
            pairs.push(serde_json::json!({"apps": [a, b], "people_in_both": both,
                "share_of_smaller_app": (both as f64 / smaller as f64 * 100.0).round() / 100.0}));
        }
    }
    let evidence = serde_json::json!({
        "category": category,
        "apps": apps.iter().map(|a| {
            let seats = held(a).0.len();
            let yearly = prices[a].as_ref().map(|(p, c)| fmt_money((p * 12.0 * seats as f64).round() as i64, c));
            serde_json::json!({"id": a, "name": s.label(*a, None), "seats": seats, "people": held(a).holders().count(), "yearly_cost": yearly})
        }).collect::<Vec<_>>(),
        "pairs": pairs,
    });
    Computed {
        kind: KIND,
        fingerprint: format!(
            "overlap:category:{category}:apps:{}",
            apps.iter().map(|a| a.to_string()).collect::<Vec<_>>().join(",")
        ),
        app_id: apps.first().copied(),
        subscription_id: None,
        accounts: redundant_accounts,
        seats: Some(redundant_seats),
        savings,
        currency,
        explanation,
        evidence,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::rules::fixture::Fixture;

    fn stack() -> Fixture {
        let mut f = Fixture::new();
        f.app(1, "Zoom").category = Some("video conferencing".into());
        f.app(2, "Webex").category = Some("video conferencing".into());
        f.app(3, "Slack").category = Some("chat".into());
        f.sub(10, 1, Some(50), Some(1500));
        f.sub(20, 2, Some(50), Some(1000));
        for i in 1..=4 {
            f.account(i, 1, &format!("u{i}@x.com"), 100, Some(1));
        }
        for i in 3..=5 {
            f.account(10 + i, 2, &format!("u{i}@x.com"), 100, Some(1));
        }
        f.account(30, 3, "u1@x.com", 100, Some(1));
        f
    }

    #[test]
    fn same_category_apps_with_shared_people() {
        let got = run(&stack().0);
        assert_eq!(got.len(), 1, "chat has one app: no overlap");
        let c = &got[0];
        assert_eq!(c.fingerprint, "overlap:category:video conferencing:apps:1,2");
        assert_eq!(c.seats, Some(2), "u3 and u4 hold both");
        // Their cheaper Webex seats are redundant: 2 x USD 10 a month.
        assert_eq!(c.savings.map(|v| v.annual_cents), Some(24000));
        assert_eq!(
            c.explanation,
            "2 video conferencing apps are in use (Zoom, Webex): 2 of 5 people hold seats in more than one; consolidating them saves USD 240.00/yr"
        );
        assert_eq!(c.evidence["pairs"][0]["people_in_both"], 2);
        assert_eq!(c.evidence["pairs"][0]["share_of_smaller_app"], 0.67);
    }

    #[test]
    fn unknown_prices_no_shared_people_and_exclusions() {
        let mut f = stack();
        f.0.subscriptions.retain(|s| s.id.0 != 20);
        assert_eq!(run(&f.0)[0].savings, None, "a missing price makes savings unknown");
        let mut f = stack();
        f.0.accounts.retain(|a| !(a.app_id == AppId(2) && a.email.as_deref() != Some("u5@x.com")));
        let c = &run(&f.0)[0];
        assert_eq!(c.seats, Some(0));
        assert!(c.explanation.ends_with("0 of 5 people hold seats in more than one"), "{}", c.explanation);
        let mut f = stack();
        f.exclude(Some(2), None, Some("overlap"));
        assert!(run(&f.0).is_empty());
    }
}
