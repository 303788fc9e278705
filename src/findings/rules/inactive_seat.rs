//! Inactive seats: billed seats with no activity for the app's threshold (default 60 days).
//! A seat never used counts once it is older than the threshold; a new one does not yet. A seat
//! whose activity is unknown (its source reports none) is never guessed at: the finding says
//! "activity unknown" for it instead.

use super::{money_phrase, savings, who};
use crate::findings::snapshot::{Seat, Snapshot};
use crate::findings::{Computed, FindingKind};
use crate::inventory::{AppId, SubscriptionId};
use std::collections::BTreeMap;

const KIND: FindingKind = FindingKind::InactiveSeat;

/// Seats are grouped by app and the subscription paying for them.
type Group = (AppId, Option<SubscriptionId>);

/// Billed seats per group: how many, the idle ones this rule prices, those whose activity is
/// unknown, and idle seats of people who left (the orphaned-account finding prices those).
#[derive(Default)]
struct Tally<'a> {
    groups: BTreeMap<Group, (usize, Vec<&'a Seat>)>,
    unknown: BTreeMap<Group, usize>,
    orphaned: BTreeMap<Group, usize>,
}

fn tally(s: &Snapshot) -> Tally<'_> {
    let mut t = Tally::default();
    let (groups, unknown, orphaned) = (&mut t.groups, &mut t.unknown, &mut t.orphaned);
    let mut cutoffs = std::collections::HashMap::new();
    for a in s.accounts.iter() {
        if !s.is_billed_seat(KIND, a) {
            continue;
        }
        // A seat whose source reports no activity (SCIM, HubSpot, a CSV of seats) is not "never used": unknown.
        if !s.activity_known(a) {
            *unknown.entry((a.app_id, s.paying(a).map(|p| p.id))).or_default() += 1;
            continue;
        }
        let cutoff = *cutoffs.entry(a.app_id).or_insert_with(|| {
            let days = s.inactive_days(a.app_id);
            (s.today - chrono::Duration::days(days)).and_hms_opt(0, 0, 0).unwrap_or_default()
        });
        let sub = s.paying(a).map(|p| p.id);
        let entry = groups.entry((a.app_id, sub)).or_default();
        entry.0 += 1;
        let idle = a.idle_since(cutoff);
        // An idle seat of someone who left is the orphaned-account finding's to price, not this one's.
        if idle && super::orphaned_account::holder_gone(s, a).is_some() {
            *orphaned.entry((a.app_id, sub)).or_default() += 1;
        } else if idle {
            entry.1.push(a);
        }
    }
    t
}

/// One finding per app and paying subscription with inactive seats.
pub fn run(s: &Snapshot) -> Vec<Computed> {
    let Tally { groups, unknown, orphaned } = tally(s);
    let mut out = Vec::new();
    for ((app, sub), (total, idle)) in groups {
        if idle.is_empty() {
            continue;
        }
        let days = s.inactive_days(app);
        let n = idle.len() as i64;
        let never = idle.iter().filter(|a| a.last_active_at.is_none()).count();
        let paying = sub.and_then(|id| s.subscription(id));
        let (savings, currency) = savings(paying, n);
        let never_phrase = if never > 0 { format!(" ({never} never used)") } else { String::new() };
        let unknown_seats = unknown.get(&(app, sub)).copied().unwrap_or(0);
        let unknown_phrase = match unknown_seats {
            0 => String::new(),
            k => format!("; activity unknown for {k} more seat(s), not counted"),
        };
        let orphaned_seats = orphaned.get(&(app, sub)).copied().unwrap_or(0);
        let orphaned_phrase = match orphaned_seats {
            0 => String::new(),
            k => format!("; {k} more idle seat(s) of people who left are counted as orphaned accounts"),
        };
        let explanation = format!(
            "{n} of {total} {} seats had no sign-in for {days}+ days{never_phrase}{}{orphaned_phrase}{unknown_phrase}",
            s.label(app, sub),
            money_phrase(savings, currency.as_deref())
        );
        let evidence = serde_json::json!({
            "threshold_days": days,
            "seats_billed": total,
            "seats_activity_unknown": unknown_seats,
            "seats_counted_as_orphaned": orphaned_seats,
            "usage_as_of": s.usage_as_of(app).map(|t| crate::time::format(&t)),
            "source": "accounts.last_active_at from the app's connector or import",
            "accounts": idle.iter().map(|a| serde_json::json!({
                "id": a.id, "who": who(a),
                "last_active_at": a.last_active_at.map(|t| crate::time::format(&t)),
                "first_seen_at": crate::time::format(&a.first_seen_at),
            })).collect::<Vec<_>>(),
        });
        out.push(Computed {
            kind: KIND,
            fingerprint: format!(
                "inactive_seat:app:{app}:sub:{}",
                sub.map(|s| s.to_string()).unwrap_or_else(|| "-".into())
            ),
            app_id: Some(app),
            subscription_id: sub,
            accounts: idle.iter().map(|a| a.id).collect(),
            seats: Some(n),
            savings,
            currency,
            explanation,
            evidence,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::rules::fixture::Fixture;

    #[test]
    fn thresholds_never_used_unknown_price_and_exclusions() {
        // (label, last active days ago, first seen days ago, inactive?)
        let cases = [
            ("active yesterday", Some(1), 300, false),
            ("59 days", Some(59), 300, false),
            ("60 days: on the threshold", Some(60), 300, false),
            ("61 days", Some(61), 300, true),
            ("never used, old seat", None, 90, true),
            ("never used, new seat", None, 10, false),
            ("never used, exactly threshold old", None, 60, false),
        ];
        for (label, active, seen, want) in cases {
            let mut f = Fixture::new();
            f.app(1, "Zoom");
            f.0.usage_fed.insert(crate::inventory::AppId(1));
            f.sub(10, 1, Some(60), Some(1500));
            f.account(1, 1, "a@x.com", seen, active);
            f.account(2, 1, "b@x.com", 300, Some(1));
            let got = run(&f.0);
            assert_eq!(!got.is_empty(), want, "{label}: {got:?}");
            if want {
                assert_eq!(got[0].accounts, vec![crate::inventory::AccountId(1)], "{label}");
                assert_eq!(got[0].fingerprint, "inactive_seat:app:1:sub:10");
                assert!(
                    got[0].explanation.starts_with("1 of 2 Zoom Business seats had no sign-in for 60+ days"),
                    "{}",
                    got[0].explanation
                );
                assert_eq!(got[0].savings.map(|v| v.annual_cents), Some(18000));
            }
        }
    }

    #[test]
    fn per_app_threshold_unknown_price_and_exclusions() {
        let mut f = Fixture::new();
        f.app(1, "Zoom").inactive_days = Some(30);
        f.0.usage_fed.insert(crate::inventory::AppId(1));
        f.sub(10, 1, Some(60), None);
        for i in 1..=14 {
            f.account(i, 1, &format!("u{i}@x.com"), 300, Some(45));
        }
        f.account(15, 1, "svc@x.com", 300, None);
        let got = run(&f.0);
        assert_eq!(got[0].seats, Some(15));
        assert_eq!(got[0].savings, None, "unknown price stays unknown");
        assert!(got[0].explanation.ends_with("savings unknown (no price recorded)"), "{}", got[0].explanation);
        f.exclude(None, Some(15), None);
        assert_eq!(run(&f.0)[0].seats, Some(14), "an excluded service account is left out");
        let scim = f.account(16, 1, "scim@x.com", 300, None);
        scim.activity_tracked = false;
        scim.connection_id = Some(crate::db::ConnectionId(1));
        assert_eq!(run(&f.0)[0].seats, Some(14), "a seat whose source reports no activity is not counted");
        assert!(run(&f.0)[0].explanation.ends_with("; activity unknown for 1 more seat(s), not counted"));
        f.exclude(Some(1), None, Some("inactive_seat"));
        assert!(run(&f.0).is_empty(), "an excluded app yields nothing");
    }

    #[test]
    fn seats_without_a_connection_or_usage_data_are_unknown_not_never_used() {
        let mut f = Fixture::new();
        f.app(1, "Figma");
        f.sub(10, 1, Some(10), Some(1500));
        f.account(1, 1, "csv1@x.com", 300, None);
        f.account(2, 1, "csv2@x.com", 300, None);
        f.account(3, 1, "idle@x.com", 300, Some(90));
        let got = run(&f.0);
        assert_eq!(got[0].seats, Some(1), "only the seat with a time given is judged");
        assert_eq!(
            got[0].explanation,
            "1 of 1 Figma Business seats had no sign-in for 60+ days; USD 180.00/yr; activity unknown for 2 more seat(s), not counted"
        );
        assert_eq!(got[0].evidence["seats_activity_unknown"], 2);
        f.0.usage_fed.insert(crate::inventory::AppId(1));
        assert_eq!(run(&f.0)[0].seats, Some(3), "with usage pushed for the app, a seat with no time was never active");
    }

    #[test]
    fn the_explanation_a_finance_person_reads() {
        let mut f = Fixture::new();
        f.app(1, "Zoom");
        f.sub(10, 1, Some(60), Some(1500));
        for i in 1..=60 {
            let active = if i <= 14 { Some(90) } else { Some(2) };
            f.account(i, 1, &format!("u{i}@x.com"), 300, active);
        }
        let got = run(&f.0);
        assert_eq!(got[0].explanation, "14 of 60 Zoom Business seats had no sign-in for 60+ days; USD 2,520.00/yr");
        assert_eq!(got[0].evidence["accounts"].as_array().unwrap().len(), 14);
    }
}
