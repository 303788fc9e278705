//! Orphaned accounts: an active seat whose person has departed or is suspended.

use super::{money_phrase, savings, who};
use crate::findings::snapshot::{Member, Seat, Snapshot};
use crate::findings::{Computed, FindingKind};
use crate::inventory::{AccountStatus, PersonStatus};

const KIND: FindingKind = FindingKind::OrphanedAccount;

/// The departed or suspended person still holding this active seat, when this rule reports it.
/// Orphaned comes first among the seat findings, so the inactive-seat rule leaves these seats out.
pub fn holder_gone<'a>(s: &'a Snapshot, a: &Seat) -> Option<&'a Member> {
    if a.status != AccountStatus::Active || s.excluded(KIND, a.app_id, Some(a.id)) {
        return None;
    }
    a.person_id.and_then(|id| s.people.get(&id)).filter(|p| p.status != PersonStatus::Active)
}

/// One finding per orphaned account.
pub fn run(s: &Snapshot) -> Vec<Computed> {
    let mut out = Vec::new();
    for a in &s.accounts {
        let Some(p) = holder_gone(s, a) else { continue };
        let why = match p.status {
            PersonStatus::Active => continue,
            PersonStatus::Departed => match p.left_on {
                Some(d) => format!("left the company on {d}"),
                None => "has left the company".to_string(),
            },
            PersonStatus::Suspended => "is suspended in the directory".to_string(),
        };
        let paying = s.paying(a);
        let (savings, currency) = if a.billable { savings(paying, 1) } else { (None, None) };
        let cost =
            if a.billable { money_phrase(savings, currency.as_deref()) } else { "; the seat is not billed".into() };
        let sub = paying.map(|p| p.id);
        out.push(Computed {
            kind: KIND,
            fingerprint: format!("orphaned_account:account:{}", a.id),
            app_id: Some(a.app_id),
            subscription_id: sub,
            accounts: vec![a.id],
            seats: Some(1),
            savings,
            currency,
            explanation: format!("{} {why} but still holds an active {} seat{cost}", who(a), s.label(a.app_id, sub)),
            evidence: serde_json::json!({
                "account": {"id": a.id, "who": who(a), "last_active_at": a.last_active_at.map(|t| crate::time::format(&t))},
                "person": {"id": p.id, "email": p.email, "status": p.status, "left_on": p.left_on},
                "source": "people.status from the identity provider or import",
            }),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::rules::fixture::Fixture;
    use crate::inventory::PersonId;

    #[test]
    fn table() {
        let cases = [
            ("active person", PersonStatus::Active, AccountStatus::Active, true, None),
            ("departed", PersonStatus::Departed, AccountStatus::Active, true, Some("dee@x.com left the company on 2026-06-20 but still holds an active Slack Business seat; USD 96.00/yr")),
            ("suspended", PersonStatus::Suspended, AccountStatus::Active, true, Some("dee@x.com is suspended in the directory but still holds an active Slack Business seat; USD 96.00/yr")),
            ("departed, seat already suspended", PersonStatus::Departed, AccountStatus::Suspended, true, None),
            ("departed, unbilled seat", PersonStatus::Departed, AccountStatus::Active, false, Some("dee@x.com left the company on 2026-06-20 but still holds an active Slack Business seat; the seat is not billed")),
        ];
        for (label, person, seat, billable, want) in cases {
            let mut f = Fixture::new();
            f.app(1, "Slack");
            f.sub(10, 1, Some(5), Some(800));
            f.person(7, "dee@x.com", person);
            let a = f.account(1, 1, "dee@x.com", 100, Some(1));
            a.person_id = Some(PersonId(7));
            a.status = seat;
            a.billable = billable;
            let got = run(&f.0);
            assert_eq!(got.first().map(|c| c.explanation.as_str()), want, "{label}");
        }
    }
}
