//! Renewal at risk: a notice deadline within the window (default 90 days) while utilisation is
//! under the threshold (default 70 %). Acting before the deadline is what saves the money.

use super::{money_phrase, savings};
use crate::findings::snapshot::Snapshot;
use crate::findings::{Computed, FindingKind};
use crate::renewals::dates::{self, Contract};
use std::collections::HashMap;

const KIND: FindingKind = FindingKind::RenewalAtRisk;

/// One finding per subscription and deadline.
pub fn run(s: &Snapshot) -> Vec<Computed> {
    let mut used: HashMap<_, i64> = HashMap::new();
    let mut unknown: HashMap<_, i64> = HashMap::new();
    for a in s.accounts.iter().filter(|a| s.is_billed_seat(KIND, a)) {
        if let Some(p) = s.paying(a) {
            *used.entry(p.id).or_default() += 1;
            if !s.activity_known(a) {
                *unknown.entry(p.id).or_default() += 1;
            }
        }
    }
    let mut out = Vec::new();
    for sub in &s.subscriptions {
        let Some(bought) = sub.seats_purchased.filter(|b| *b > 0) else { continue };
        if sub.no_action_needed || s.excluded(KIND, sub.app_id, None) {
            continue;
        }
        let contract = Contract::of(sub);
        let Some(d) = dates::next_renewal(&contract, s.today) else { continue };
        let days = (d.notice_deadline - s.today).num_days();
        if !(0..=s.settings.renewal_window_days).contains(&days) {
            continue;
        }
        let held = used.get(&sub.id).copied().unwrap_or(0);
        let share = held as f64 / bought as f64;
        if share >= s.settings.renewal_min_utilisation {
            continue;
        }
        let (priced, currency) = savings(Some(sub), bought - held);
        // The seats to cut are the unassigned ones, which the unassigned-seats finding prices:
        // point at it rather than count the same money twice.
        let counted_in = (!s.excluded(FindingKind::UnassignedSeats, sub.app_id, None))
            .then(|| format!("unassigned_seats:sub:{}", sub.id));
        let (savings, money) = match &counted_in {
            Some(_) => (None, "; its savings are counted in the unassigned-seats finding".to_string()),
            None => (priced, money_phrase(priced, Some(&sub.currency))),
        };
        // Seats held are not seats used: where activity is unknown, say so rather than imply use.
        let unknown_seats = unknown.get(&sub.id).copied().unwrap_or(0);
        let activity = match unknown_seats {
            0 => String::new(),
            k if k == held => "; activity unknown: seats held are counted as in use".to_string(),
            k => format!("; activity unknown for {k} of the {held} seats held"),
        };
        out.push(Computed {
            kind: KIND,
            fingerprint: format!("renewal_at_risk:sub:{}:deadline:{}", sub.id, d.notice_deadline),
            app_id: Some(sub.app_id),
            subscription_id: Some(sub.id),
            accounts: vec![],
            seats: Some(bought - held),
            savings,
            currency,
            explanation: format!(
                "{} renews on {}; only {held} of {bought} seats are in use ({:.0}%) and the notice deadline is {} ({days} days): right-size before then{}",
                s.label(sub.app_id, Some(sub.id)),
                d.renewal_date,
                share * 100.0,
                d.notice_deadline,
                money
            ) + &activity,
            evidence: serde_json::json!({
                "renewal_date": d.renewal_date, "notice_deadline": d.notice_deadline, "days_to_deadline": days,
                "seats_purchased": bought, "seats_used": held, "threshold": s.settings.renewal_min_utilisation,
                "usage_as_of": s.usage_as_of(sub.app_id).map(|t| crate::time::format(&t)),
                "seats_activity_unknown": unknown_seats,
                "savings_counted_in": counted_in.into_iter().collect::<Vec<_>>(),
            }),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::rules::fixture::Fixture;
    use chrono::NaiveDate;

    #[test]
    fn window_and_threshold_table() {
        // Today is 2026-06-30; 30 days' notice. (label, term_end, seats used of 10, at risk?)
        let cases = [
            ("deadline in 90 days, 60%", "2026-10-27", 6, true),
            ("deadline in 91 days", "2026-10-28", 6, false),
            ("deadline today", "2026-07-29", 6, true),
            ("deadline passed, renewal still ahead", "2026-07-20", 6, false),
            ("exactly at threshold 70%", "2026-09-30", 7, false),
            ("just under threshold", "2026-09-30", 6, true),
            ("nobody uses it", "2026-09-30", 0, true),
        ];
        for (label, end, held, want) in cases {
            let mut f = Fixture::new();
            f.app(1, "Asana");
            f.sub(10, 1, Some(10), Some(1000)).term_end = Some(end.parse::<NaiveDate>().unwrap());
            for i in 0..held {
                f.account(i + 1, 1, &format!("u{i}@x.com"), 100, Some(1));
            }
            let got = run(&f.0);
            assert_eq!(!got.is_empty(), want, "{label}: {got:?}");
        }
        let mut f = Fixture::new();
        f.app(1, "Asana");
        f.sub(10, 1, Some(10), Some(1000)).term_end = Some("2026-09-30".parse().unwrap());
        f.account(1, 1, "u@x.com", 100, Some(1));
        let c = &run(&f.0)[0];
        assert_eq!(c.explanation, "Asana Business renews on 2026-10-01; only 1 of 10 seats are in use (10%) and the notice deadline is 2026-09-01 (63 days): right-size before then; its savings are counted in the unassigned-seats finding");
        assert_eq!(c.fingerprint, "renewal_at_risk:sub:10:deadline:2026-09-01");
        assert_eq!(c.savings, None, "the unassigned-seats finding prices these seats");
        // With unassigned seats left out of the findings for this app, it prices them itself.
        f.exclude(Some(1), None, Some("unassigned_seats"));
        let c = &run(&f.0)[0];
        assert!(c.explanation.ends_with("right-size before then; USD 1,080.00/yr"), "{}", c.explanation);
        assert_eq!(c.savings.map(|v| v.annual_cents), Some(108_000));
    }
}
