//! One saving, one finding. A seat carries its savings in at most one finding, first claim wins
//! in this order: orphaned account, inactive seat, unassigned seats, then duplicate account, tier
//! downgrade and overlap (the inactive rule already leaves orphaned seats out, and renewal at risk
//! points at the unassigned-seats finding instead of pricing those seats again). Then an app's
//! findings never promise more a year than the app costs: the later ones are trimmed to what is left.
//! A trimmed finding says so in its explanation and in `evidence.deduplicated`.

use crate::findings::money::{self, Savings};
use crate::findings::snapshot::Snapshot;
use crate::findings::{Computed, FindingKind};
use crate::inventory::{AccountId, AppId};
use std::collections::{HashMap, HashSet};

/// The order in which findings claim seats and spend; kinds not listed claim nothing.
const PRECEDENCE: [FindingKind; 6] = [
    FindingKind::OrphanedAccount,
    FindingKind::InactiveSeat,
    FindingKind::UnassignedSeats,
    FindingKind::DuplicateAccount,
    FindingKind::Downgrade,
    FindingKind::Overlap,
];

/// Trims the savings of findings that count seats or spend another finding already counts.
pub fn apply(s: &Snapshot, found: &mut [Computed]) {
    let mut order: Vec<usize> = (0..found.len()).filter(|i| rank(found[*i].kind).is_some()).collect();
    order.sort_by_key(|i| (rank(found[*i].kind), *i));
    release_claimed_seats(found, &order);
    cap_at_spend(s, found, &order);
}

fn rank(kind: FindingKind) -> Option<usize> {
    PRECEDENCE.iter().position(|k| *k == kind)
}

/// Each account's seat is priced by the first finding (in precedence) that names it.
fn release_claimed_seats(found: &mut [Computed], order: &[usize]) {
    // Claims hold the claiming finding's index, not its fingerprint: one copy per seat is a
    // million strings on a large stack, and only a trimmed finding needs the names.
    let mut claimed: HashMap<AccountId, usize> = HashMap::new();
    for &i in order {
        let earlier: Vec<usize> = found[i].accounts.iter().filter_map(|a| claimed.get(a).copied()).collect();
        for a in &found[i].accounts {
            claimed.entry(*a).or_insert(i);
        }
        let earlier: Vec<String> = earlier.into_iter().map(|j| found[j].fingerprint.clone()).collect();
        let f = &mut found[i];
        let (Some(seats), Some(before)) = (f.seats.filter(|n| *n > 0), f.savings) else { continue };
        if earlier.is_empty() {
            continue;
        }
        let kept = (seats - earlier.len() as i64).max(0);
        let share = kept as f64 / seats as f64;
        let after = Savings {
            monthly_cents: (before.monthly_cents as f64 * share).round() as i64,
            annual_cents: (before.annual_cents as f64 * share).round() as i64,
        };
        let mut counted_in = earlier;
        counted_in.sort();
        counted_in.dedup();
        let why = format!("{} seat(s) already counted in another finding", seats - kept);
        trim(f, after, &why, counted_in);
    }
}

/// Per app and currency, findings in precedence order share out the app's yearly spend.
fn cap_at_spend(s: &Snapshot, found: &mut [Computed], order: &[usize]) {
    let mut left: HashMap<(AppId, String), i64> = spend(s);
    let mut claims: HashMap<(AppId, String), Vec<String>> = HashMap::new();
    for &i in order {
        let f = &mut found[i];
        // Overlap saves seats across several apps; its app id names only the first of them.
        if f.kind == FindingKind::Overlap {
            continue;
        }
        let (Some(app), Some(currency), Some(before)) = (f.app_id, f.currency.clone(), f.savings) else { continue };
        let key = (app, currency);
        let Some(budget) = left.get_mut(&key) else { continue };
        let allowed = before.annual_cents.min(*budget).max(0);
        *budget -= allowed;
        let earlier = claims.entry(key).or_default();
        if allowed < before.annual_cents {
            let share = if before.annual_cents > 0 { allowed as f64 / before.annual_cents as f64 } else { 0.0 };
            let monthly_cents = (before.monthly_cents as f64 * share).round() as i64;
            let why = "the app's findings would otherwise save more than it costs";
            trim(f, Savings { monthly_cents, annual_cents: allowed }, why, earlier.clone());
        }
        earlier.push(f.fingerprint.clone());
    }
}

/// Yearly spend per app and currency: seats bought, else the billed seats in use, at the seat price.
fn spend(s: &Snapshot) -> HashMap<(AppId, String), i64> {
    let mut in_use: HashMap<_, i64> = HashMap::new();
    for a in s.accounts.iter().filter(|a| s.is_billed_seat(FindingKind::UnassignedSeats, a)) {
        if let Some(p) = s.paying(a) {
            *in_use.entry(p.id).or_default() += 1;
        }
    }
    let mut out: HashMap<(AppId, String), i64> = HashMap::new();
    let mut unknown: HashSet<(AppId, String)> = HashSet::new();
    for sub in &s.subscriptions {
        let key = (sub.app_id, sub.currency.clone());
        let seats = sub.seats_purchased.unwrap_or_else(|| in_use.get(&sub.id).copied().unwrap_or(0));
        match money::for_seats(sub, seats) {
            Some(cost) => *out.entry(key).or_default() += cost.annual_cents,
            // One contract of the app with no price: its spend, and so the cap, is unknown.
            None => {
                unknown.insert(key);
            }
        }
    }
    out.retain(|k, _| !unknown.contains(k));
    out
}

fn trim(f: &mut Computed, after: Savings, why: &str, counted_in: Vec<String>) {
    let Some(before) = f.savings else { return };
    let currency = f.currency.clone().unwrap_or_default();
    f.explanation.push_str(&format!(
        " (counted here: {}/yr; {why})",
        crate::renewals::upcoming::money(after.annual_cents, &currency)
    ));
    f.savings = Some(after);
    if let Some(e) = f.evidence.as_object_mut() {
        e.insert(
            "deduplicated".into(),
            serde_json::json!({
                "annual_savings_cents_before": before.annual_cents,
                "reason": why,
                "counted_in": counted_in,
            }),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::rules::{all, fixture::Fixture};
    use crate::inventory::{PersonId, PersonStatus};

    fn annual(found: &[Computed], kind: FindingKind) -> Option<i64> {
        found.iter().filter(|f| f.kind == kind).map(|f| f.savings.map(|v| v.annual_cents)).next().flatten()
    }

    /// Miro: 20 seats at USD 16/month (USD 3,840/yr), renewing within the risk window; 12 held,
    /// 4 of them idle, one of those held by someone who left.
    #[test]
    fn miro_savings_stay_within_its_contract_and_count_each_seat_once() {
        let mut f = Fixture::new();
        f.app(1, "Miro");
        f.sub(10, 1, Some(20), Some(1600)).term_end = Some("2026-08-31".parse().unwrap());
        for i in 1..=12 {
            let active = if i <= 4 { Some(90) } else { Some(1) };
            f.account(i, 1, &format!("u{i}@x.com"), 300, active);
        }
        f.person(7, "u1@x.com", PersonStatus::Departed);
        f.0.accounts[0].person_id = Some(PersonId(7));
        let found = all(&f.0);
        assert_eq!(annual(&found, FindingKind::OrphanedAccount), Some(19200), "{found:#?}");
        assert_eq!(annual(&found, FindingKind::InactiveSeat), Some(3 * 19200), "the departed seat is not idle too");
        assert_eq!(annual(&found, FindingKind::UnassignedSeats), Some(8 * 19200));
        let risk = found.iter().find(|c| c.kind == FindingKind::RenewalAtRisk).expect("renewal at risk");
        assert_eq!(risk.savings, None, "it points rather than prices");
        assert_eq!(risk.evidence["savings_counted_in"], serde_json::json!(["unassigned_seats:sub:10"]));
        assert!(
            risk.explanation.ends_with("its savings are counted in the unassigned-seats finding"),
            "{}",
            risk.explanation
        );
        let total: i64 = found.iter().filter_map(|c| c.savings.map(|v| v.annual_cents)).sum();
        assert_eq!(total, 12 * 19200);
        assert!(total <= 384_000, "never more than the USD 3,840/yr contract");
        let inactive = found.iter().find(|c| c.kind == FindingKind::InactiveSeat).unwrap();
        assert_eq!(inactive.evidence["seats_counted_as_orphaned"], 1);
        assert!(inactive
            .explanation
            .contains("1 more idle seat(s) of people who left are counted as orphaned accounts"));
    }

    /// Zoom: a departed person's seat, idle for 90 days, is priced once: as orphaned.
    #[test]
    fn zoom_departed_idle_seat_is_orphaned_not_also_inactive() {
        let mut f = Fixture::new();
        f.app(1, "Zoom");
        f.sub(10, 1, Some(2), Some(1500));
        f.person(7, "gone@x.com", PersonStatus::Departed);
        f.account(1, 1, "gone@x.com", 300, Some(90)).person_id = Some(PersonId(7));
        f.account(2, 1, "here@x.com", 300, Some(1));
        let found = all(&f.0);
        let kinds: Vec<FindingKind> = found.iter().map(|c| c.kind).collect();
        assert_eq!(kinds, vec![FindingKind::OrphanedAccount], "{found:#?}");
    }

    #[test]
    fn a_seat_in_a_later_finding_is_not_priced_again_and_an_app_never_saves_more_than_it_costs() {
        // 8 seats bought, 9 held (over-assigned), all idle: the contract costs 8 seats.
        let mut f = Fixture::new();
        f.app(1, "Zoom");
        f.sub(10, 1, Some(8), Some(1500));
        for i in 1..=9 {
            f.account(i, 1, &format!("u{i}@x.com"), 300, Some(90));
        }
        // One person holds two of them: the duplicate's spare seat is already counted as idle.
        f.person(5, "dup@x.com", PersonStatus::Active);
        for i in [0usize, 1] {
            f.0.accounts[i].person_id = Some(PersonId(5));
        }
        let found = all(&f.0);
        let inactive = found.iter().find(|c| c.kind == FindingKind::InactiveSeat).unwrap();
        assert_eq!(inactive.savings.map(|v| v.annual_cents), Some(8 * 18000), "capped at the contract");
        assert_eq!(inactive.evidence["deduplicated"]["annual_savings_cents_before"], 9 * 18000);
        assert!(
            inactive.explanation.ends_with(
                "(counted here: USD 1,440.00/yr; the app's findings would otherwise save more than it costs)"
            ),
            "{}",
            inactive.explanation
        );
        let duplicate = found.iter().find(|c| c.kind == FindingKind::DuplicateAccount).unwrap();
        assert_eq!(duplicate.savings.map(|v| v.annual_cents), Some(0), "{duplicate:#?}");
        assert_eq!(duplicate.evidence["deduplicated"]["counted_in"], serde_json::json!(["inactive_seat:app:1:sub:10"]));
        let total: i64 = found.iter().filter_map(|c| c.savings.map(|v| v.annual_cents)).sum();
        assert!(total <= 8 * 18000, "{total}");
    }
}
