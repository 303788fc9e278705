//! Routing: a request's facts through the policy into a round of steps, each with its
//! resolved approvers (skipped steps say why), and the check of who may decide a step.

use super::error::Result;
use super::model::{Request, RequestId, Step, StepId, StepStatus};
use super::policy::{self, ApproverKind, Facts, Policy, PolicyStep};
use crate::audit::Actor;
use crate::auth::{Principal, Role};
use crate::db::Conn;
use crate::inventory::{apps, people};
use chrono::NaiveDateTime;

/// Who acts on a request: the person (by email) and the roles they hold.
#[derive(Debug, Clone)]
pub struct Decider {
    /// Their email, lower-case; none for tokens that name no person.
    pub email: Option<String>,
    /// The roles they hold.
    pub roles: Vec<Role>,
    /// Who the audit log and history name.
    pub actor: Actor,
}

impl Decider {
    /// The decider behind a request's principal (token or session).
    pub fn from_principal(p: &Principal) -> Self {
        Decider { email: p.email.as_ref().map(|e| e.to_lowercase()), roles: p.roles.clone(), actor: p.actor() }
    }

    /// True when they made `r`.
    pub fn is_requester(&self, r: &Request) -> bool {
        self.email.as_deref().is_some_and(|e| e.eq_ignore_ascii_case(&r.requester_email))
    }

    /// True when their roles read every request (all but employees).
    pub fn reads_all(&self) -> bool {
        self.roles.iter().any(|r| *r != Role::Employee)
    }
}

/// How a decider is entitled to a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entitlement {
    /// They are one of the step's approvers.
    Approver,
    /// They are an admin deciding in another's place.
    Override,
}

/// The approver entry for a person.
pub fn person(email: &str) -> String {
    format!("person:{}", email.trim().to_lowercase())
}

/// The approver entry for a role.
pub fn role(r: Role) -> String {
    format!("role:{r}")
}

/// True when `who` is among `approvers` by email or role.
pub fn is_approver(approvers: &[String], who: &Decider) -> bool {
    approvers.iter().any(|a| match a.split_once(':') {
        Some(("person", e)) => who.email.as_deref().is_some_and(|m| m.eq_ignore_ascii_case(e)),
        Some(("role", r)) => who.roles.iter().any(|held| held.as_str() == r),
        _ => false,
    })
}

/// How `who` may decide a step with `approvers`, if at all.
pub fn entitlement(approvers: &[String], who: &Decider) -> Option<Entitlement> {
    if is_approver(approvers, who) {
        Some(Entitlement::Approver)
    } else if who.roles.contains(&Role::Admin) {
        Some(Entitlement::Override)
    } else {
        None
    }
}

/// What a condition sees of a request.
pub fn facts(r: &Request) -> Facts {
    Facts {
        kind: r.kind.to_string(),
        name: r.name.clone().unwrap_or_default(),
        vendor: r.vendor.clone().unwrap_or_default(),
        category: r.category.clone(),
        known_vendor: r.known_vendor,
        data_class: r.data_class.to_string(),
        seats: r.seats.unwrap_or(0),
        annual_cost_cents: r.annual_cost_cents.unwrap_or(0),
        cost_known: r.annual_cost_cents.is_some(),
        currency: r.currency.clone().unwrap_or_default(),
        requester: r.requester_email.clone(),
    }
}

fn fallback(step: &PolicyStep, why: String) -> (Vec<String>, Option<String>) {
    let note = format!("{why}; the step goes to the {} role", step.fallback);
    (vec![role(step.fallback)], Some(note))
}

/// The approvers of `step` for `r`, and a note when they are the fallback.
fn resolve(conn: &mut Conn, step: &PolicyStep, r: &Request) -> Result<(Vec<String>, Option<String>)> {
    Ok(match step.approver {
        ApproverKind::Manager => {
            let manager = people::find_by_email(conn, &r.requester_email)?.and_then(|p| p.manager_email);
            match manager.filter(|m| !m.eq_ignore_ascii_case(&r.requester_email)) {
                Some(m) => (vec![person(&m)], None),
                None => fallback(step, "the requester has no manager on record".into()),
            }
        }
        ApproverKind::Role => match step.role {
            Some(x) => (vec![role(x)], None),
            None => fallback(step, "the step names no role".into()),
        },
        ApproverKind::AppOwner => {
            let owner = match r.app_id {
                Some(id) => apps::find(conn, id)?.owner_email,
                None => None,
            };
            match (owner, r.app_id) {
                (Some(o), _) => (vec![person(&o)], None),
                (None, Some(id)) => fallback(step, format!("app {id} has no owner on record")),
                (None, None) => fallback(step, "there is no app yet, so no app owner".into()),
            }
        }
        ApproverKind::Person => match &step.email {
            Some(e) => (vec![person(e)], None),
            None => fallback(step, "the step names no person".into()),
        },
    })
}

/// The steps of a new round for `r` under `policy`: skipped ones with their reason, the
/// first applicable one pending from `now`, the rest waiting. Not yet stored.
pub fn plan(conn: &mut Conn, policy: &Policy, r: &Request, id: RequestId, now: NaiveDateTime) -> Result<Vec<Step>> {
    let facts = facts(r);
    let mut out = Vec::new();
    let mut opened = false;
    for (position, def) in policy.steps.iter().enumerate() {
        let (status, approvers, note) = match &def.when {
            Some(expr) => match policy::evaluate(expr, &facts) {
                Ok(false) => (StepStatus::Skipped, Vec::new(), Some(format!("condition {expr} was false"))),
                Ok(true) => {
                    let (a, n) = resolve(conn, def, r)?;
                    (StepStatus::Waiting, a, n)
                }
                // A condition that cannot be evaluated for this request must not quietly
                // let it past an approver: the step applies.
                Err(e) => {
                    let (a, _) = resolve(conn, def, r)?;
                    (
                        StepStatus::Waiting,
                        a,
                        Some(format!("condition {expr} could not be evaluated ({e}); the step applies")),
                    )
                }
            },
            None => {
                let (a, n) = resolve(conn, def, r)?;
                (StepStatus::Waiting, a, n)
            }
        };
        let status = if status == StepStatus::Waiting && !opened {
            opened = true;
            StepStatus::Pending
        } else {
            status
        };
        out.push(Step {
            id: StepId(0),
            request_id: id,
            round: r.round,
            position: position as i32,
            name: def.name.clone(),
            status,
            approvers: serde_json::to_string(&approvers).unwrap_or_else(|_| "[]".into()),
            note,
            sla_hours: def.sla_hours as i32,
            escalate_after_hours: def.escalate_after_hours as i32,
            fallback: def.fallback.to_string(),
            pending_since: (status == StepStatus::Pending).then_some(now),
            decided_at: None,
            decided_by: None,
            comment: None,
            reminded_at: None,
            escalated_at: None,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn who(email: Option<&str>, roles: &[Role]) -> Decider {
        Decider { email: email.map(str::to_string), roles: roles.to_vec(), actor: Actor("t".into()) }
    }

    #[test]
    fn entitlement_by_email_role_or_admin_override() {
        let approvers = vec![person("Mia@Example.com"), role(Role::Finance)];
        let cases = [
            (who(Some("mia@example.com"), &[Role::Employee]), Some(Entitlement::Approver)),
            (who(Some("fay@example.com"), &[Role::Finance]), Some(Entitlement::Approver)),
            (who(None, &[Role::Finance]), Some(Entitlement::Approver)),
            (who(Some("root@example.com"), &[Role::Admin]), Some(Entitlement::Override)),
            (who(Some("sam@example.com"), &[Role::Security]), None),
            (who(Some("erin@example.com"), &[Role::Employee]), None),
        ];
        for (w, want) in cases {
            assert_eq!(entitlement(&approvers, &w), want, "{w:?}");
        }
    }
}
