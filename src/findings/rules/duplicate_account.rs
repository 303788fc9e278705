//! Duplicate accounts: one person holding two or more active seats in one app.

use super::{money_phrase, savings, who};
use crate::findings::snapshot::{Seat, Snapshot};
use crate::findings::{Computed, FindingKind};
use crate::inventory::{AppId, PersonId};

const KIND: FindingKind = FindingKind::DuplicateAccount;

/// One finding per app and person with more than one active seat.
pub fn run(s: &Snapshot) -> Vec<Computed> {
    // Sorted by (app, person, id) and cut into runs: a million seats in a map of a vector each
    // cost far more than one sort, and nearly every run has one seat.
    let mut held: Vec<(AppId, PersonId, &Seat)> = s
        .accounts
        .iter()
        .filter(|a| s.is_billed_seat(KIND, a))
        .filter_map(|a| a.person_id.map(|p| (a.app_id, p, a)))
        .collect();
    held.sort_unstable_by_key(|(app, person, a)| (*app, *person, a.id));
    let mut out = Vec::new();
    for run in held.chunk_by(|x, y| (x.0, x.1) == (y.0, y.1)) {
        if run.len() < 2 {
            continue;
        }
        let (app, person) = (run[0].0, run[0].1);
        let seats: Vec<&Seat> = run.iter().map(|(_, _, a)| *a).collect();
        let extra = seats.len() as i64 - 1;
        // The seat used most recently is the one to keep; the others can go.
        let mut by_use = seats.clone();
        by_use.sort_by_key(|a| std::cmp::Reverse(a.last_active_at));
        let paying = s.paying(by_use[by_use.len() - 1]);
        let (savings, currency) = savings(paying, extra);
        let name = s.people.get(&person).map(|p| p.name.clone()).unwrap_or_else(|| who(seats[0]));
        let list: Vec<String> = seats
            .iter()
            .map(|a| a.username.clone().or_else(|| a.external_id.clone()).unwrap_or_else(|| who(a)))
            .collect();
        out.push(Computed {
            kind: KIND,
            fingerprint: format!("duplicate_account:app:{app}:person:{person}"),
            app_id: Some(app),
            subscription_id: paying.map(|p| p.id),
            accounts: seats.iter().map(|a| a.id).collect(),
            seats: Some(extra),
            savings,
            currency,
            explanation: format!(
                "{name} holds {} {} seats ({}); {extra} could be removed{}",
                seats.len(),
                s.label(app, None),
                list.join(", "),
                money_phrase(savings, paying.map(|p| p.currency.as_str()))
            ),
            evidence: serde_json::json!({
                "person_id": person,
                "accounts": by_use.iter().map(|a| serde_json::json!({"id": a.id, "who": who(a), "external_id": a.external_id,
                    "last_active_at": a.last_active_at.map(|t| crate::time::format(&t))})).collect::<Vec<_>>(),
                "keep": by_use[0].id,
                "source": "accounts matched to people by email",
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
        for (label, seats, want) in [("one seat", 1, None), ("two seats", 2, Some(1)), ("three seats", 3, Some(2))] {
            let mut f = Fixture::new();
            f.app(1, "GitHub");
            f.sub(10, 1, Some(10), Some(2100));
            f.person(5, "kim@x.com", crate::inventory::PersonStatus::Active);
            for i in 0..seats {
                f.account(i + 1, 1, "kim@x.com", 100, Some(i + 1)).person_id = Some(PersonId(5));
            }
            f.account(50, 1, "other@x.com", 100, Some(1));
            let got = run(&f.0);
            assert_eq!(got.first().and_then(|c| c.seats), want, "{label}");
            if seats == 2 {
                assert_eq!(
                    got[0].explanation,
                    "kim holds 2 GitHub seats (ext-1, ext-2); 1 could be removed; USD 252.00/yr"
                );
                assert_eq!(got[0].evidence["keep"], "1", "the most recently used seat stays");
            }
        }
    }
}
