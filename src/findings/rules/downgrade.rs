//! Tier downgrades: billed seats on a premium licence whose holders used none of its premium
//! features lately (a Zoom Licensed user who hosted no meeting in 30 days), where a connector
//! reports it (`accounts.premium_used`). Savings are the price gap to the app's cheapest other
//! plan on contract; with no cheaper plan on record they are unknown, never zero.

use super::money_phrase;
use crate::findings::money::{self, Savings};
use crate::findings::snapshot::{Seat, Snapshot};
use crate::findings::{Computed, FindingKind};
use crate::inventory::{AppId, Subscription, SubscriptionId};
use std::collections::BTreeMap;

const KIND: FindingKind = FindingKind::Downgrade;

/// Seats with use reported, and those with only basic use, per app and paying subscription.
type Groups<'a> = BTreeMap<(AppId, Option<SubscriptionId>), (usize, Vec<&'a Seat>)>;

/// The cheapest other active plan of the app that costs less per seat than `paying`.
fn cheaper<'a>(s: &'a Snapshot, paying: &Subscription) -> Option<(&'a Subscription, f64)> {
    let price = money::seat_per_month(paying)?;
    s.subscriptions_of(paying.app_id)
        .filter(|o| o.id != paying.id && o.currency == paying.currency)
        .filter_map(|o| money::seat_per_month(o).map(|p| (o, p)))
        .filter(|(_, p)| *p < price)
        .min_by(|a, b| a.1.total_cmp(&b.1))
}

/// One finding per app and paying subscription with seats that basic use would do for.
pub fn run(s: &Snapshot) -> Vec<Computed> {
    let mut groups: Groups = BTreeMap::new();
    for a in &s.accounts {
        if !s.is_billed_seat(KIND, a) || a.premium_used.is_none() {
            continue;
        }
        let entry = groups.entry((a.app_id, s.paying(a).map(|p| p.id))).or_default();
        entry.0 += 1;
        if a.premium_used == Some(false) {
            entry.1.push(a);
        }
    }
    let mut out = Vec::new();
    for ((app, sub), (reported, basic)) in groups {
        if basic.is_empty() {
            continue;
        }
        let n = basic.len() as i64;
        let paying = sub.and_then(|id| s.subscription(id));
        let target = paying.and_then(|p| cheaper(s, p));
        let savings = match (paying.and_then(money::seat_per_month), target) {
            (Some(from), Some((_, to))) => {
                let monthly = (from - to) * n as f64;
                Some(Savings { monthly_cents: monthly.round() as i64, annual_cents: (monthly * 12.0).round() as i64 })
            }
            _ => None,
        };
        let currency = paying.map(|p| p.currency.clone());
        let to = target.map(|(t, _)| format!(" moving them to {} would save", t.plan)).unwrap_or_default();
        let money = match (savings, &currency) {
            (Some(_), Some(_)) => {
                format!(";{to}{}", money_phrase(savings, currency.as_deref()).trim_start_matches(';'))
            }
            _ => "; savings unknown (no cheaper plan on contract)".to_string(),
        };
        let explanation = format!(
            "{n} of {reported} {} seats hold a premium licence whose holder used only basic features lately{money}",
            s.label(app, sub)
        );
        out.push(Computed {
            kind: KIND,
            fingerprint: format!(
                "downgrade:app:{app}:sub:{}",
                sub.map(|s| s.to_string()).unwrap_or_else(|| "-".into())
            ),
            app_id: Some(app),
            subscription_id: sub,
            accounts: basic.iter().map(|a| a.id).collect(),
            seats: Some(n),
            savings,
            currency: savings.and(currency),
            explanation,
            evidence: serde_json::json!({
                "seats_with_use_reported": reported,
                "target_plan": target.map(|(t, _)| t.plan.clone()),
                "source": "accounts.premium_used from the app's connector (e.g. Zoom's active/inactive hosts report)",
                "accounts": basic.iter().map(|a| serde_json::json!({
                    "id": a.id, "who": super::who(a), "licence": a.licence,
                    "last_active_at": a.last_active_at.map(|t| crate::time::format(&t)),
                })).collect::<Vec<_>>(),
            }),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::rules::fixture::Fixture;

    #[test]
    fn basic_use_on_premium_seats_with_and_without_a_cheaper_plan() {
        // A fresh fixture per case: the snapshot indexes subscriptions on first use.
        let zoom = |with_basic_plan: bool| {
            let mut f = Fixture::new();
            f.app(1, "Zoom");
            f.sub(10, 1, Some(60), Some(1500)).plan = "Business".into();
            if with_basic_plan {
                f.sub(11, 1, None, Some(0)).plan = "Basic".into();
            }
            for i in 1..=6 {
                let a = f.account(i, 1, &format!("u{i}@x.com"), 300, Some(2));
                a.premium_used = Some(i > 2);
                a.subscription_id = Some(SubscriptionId(10));
            }
            f.account(7, 1, "unknown@x.com", 300, Some(2)).subscription_id = Some(SubscriptionId(10));
            f
        };
        let got = run(&zoom(false).0);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].seats, Some(2), "only seats whose use is reported as basic");
        assert_eq!(got[0].savings, None, "no cheaper plan on contract: unknown, not zero");
        assert!(got[0].explanation.starts_with("2 of 6 Zoom Business seats"), "{}", got[0].explanation);
        assert!(got[0].explanation.ends_with("savings unknown (no cheaper plan on contract)"));
        let got = run(&zoom(true).0);
        assert_eq!(got[0].savings.map(|v| v.annual_cents), Some(36000), "2 seats × $15 × 12");
        assert_eq!(
            got[0].explanation,
            "2 of 6 Zoom Business seats hold a premium licence whose holder used only basic features lately; moving them to Basic would save USD 360.00/yr"
        );
        let mut f = zoom(true);
        f.exclude(Some(1), None, Some("downgrade"));
        assert!(run(&f.0).is_empty());
    }
}
