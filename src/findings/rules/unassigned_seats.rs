//! Unassigned seats: a subscription bought more seats than it has billed, active accounts.

use super::{money_phrase, savings};
use crate::findings::snapshot::Snapshot;
use crate::findings::{Computed, FindingKind};
use std::collections::HashMap;

const KIND: FindingKind = FindingKind::UnassignedSeats;

/// One finding per subscription with bought seats nobody holds.
pub fn run(s: &Snapshot) -> Vec<Computed> {
    let mut assigned: HashMap<_, i64> = HashMap::new();
    for a in s.accounts.iter().filter(|a| s.is_billed_seat(KIND, a)) {
        if let Some(p) = s.paying(a) {
            *assigned.entry(p.id).or_default() += 1;
        }
    }
    let mut out = Vec::new();
    for sub in &s.subscriptions {
        let Some(bought) = sub.seats_purchased else { continue };
        if s.excluded(KIND, sub.app_id, None) {
            continue;
        }
        let held = assigned.get(&sub.id).copied().unwrap_or(0);
        let free = bought - held;
        if free <= 0 {
            continue;
        }
        let (savings, currency) = savings(Some(sub), free);
        let label = s.label(sub.app_id, Some(sub.id));
        out.push(Computed {
            kind: KIND,
            fingerprint: format!("unassigned_seats:sub:{}", sub.id),
            app_id: Some(sub.app_id),
            subscription_id: Some(sub.id),
            accounts: vec![],
            seats: Some(free),
            savings,
            currency,
            explanation: format!(
                "{free} of {bought} {label} seats are paid for but not assigned to anyone{}",
                money_phrase(savings, Some(&sub.currency))
            ),
            evidence: serde_json::json!({
                "seats_purchased": bought, "seats_assigned": held,
                "usage_as_of": s.usage_as_of(sub.app_id).map(|t| crate::time::format(&t)),
                "source": "subscriptions.seats_purchased against active billable accounts",
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
    fn table() {
        // (label, bought, active billed accounts, expected free seats)
        let cases = [
            ("all used", Some(3), 3, None),
            ("one free", Some(3), 2, Some(1)),
            ("over-assigned", Some(2), 3, None),
            ("unlimited", None, 1, None),
            ("none used", Some(5), 0, Some(5)),
        ];
        for (label, bought, held, want) in cases {
            let mut f = Fixture::new();
            f.app(1, "Miro");
            f.sub(10, 1, bought, Some(1000));
            for i in 0..held {
                f.account(i + 1, 1, &format!("u{i}@x.com"), 100, Some(1));
            }
            // Removed-in-spirit seats do not count: a suspended and a non-billable account.
            f.account(100, 1, "s@x.com", 100, Some(1)).status = crate::inventory::AccountStatus::Suspended;
            f.account(101, 1, "guest@x.com", 100, Some(1)).billable = false;
            let got = run(&f.0);
            assert_eq!(got.first().and_then(|c| c.seats), want, "{label}");
        }
        let mut f = Fixture::new();
        f.app(1, "Miro");
        f.sub(10, 1, Some(10), Some(1000));
        assert_eq!(
            run(&f.0)[0].explanation,
            "10 of 10 Miro Business seats are paid for but not assigned to anyone; USD 1,200.00/yr"
        );
    }
}
