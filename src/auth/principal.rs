//! Who a request acts as: a person signed in with a browser session, or an API token. Either
//! way it carries roles (a person may hold several) and, when known, the person's email.

use super::{Role, SessionId, TokenId};
use crate::audit::Actor;

/// How the caller proved who they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// An API token sent as `Authorization: Bearer …`.
    Token(TokenId),
    /// A browser session cookie.
    Session(SessionId),
}

/// Who a request acts as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The token's name, or the signed-in person's email.
    pub name: String,
    /// The roles held, never empty, most powerful first (in [`Role::ALL`] order).
    pub roles: Vec<Role>,
    /// The person acted for, lower-case; none for a token that names no person.
    pub email: Option<String>,
    /// Token or session.
    pub via: Via,
}

impl Principal {
    /// A principal holding `roles` (sorted and deduplicated; none becomes `employee`).
    pub fn new(name: String, mut roles: Vec<Role>, email: Option<String>, via: Via) -> Self {
        roles.sort_by_key(|r| Role::ALL.iter().position(|a| a == r));
        roles.dedup();
        if roles.is_empty() {
            roles.push(Role::Employee);
        }
        Principal { name, roles, email, via }
    }

    /// The most powerful role held (a token holds exactly one).
    pub fn role(&self) -> Role {
        self.roles.first().copied().unwrap_or(Role::Employee)
    }

    /// True when one of the roles held is among `allowed`.
    pub fn holds_any(&self, allowed: &[Role]) -> bool {
        self.roles.iter().any(|r| allowed.contains(r))
    }

    /// True when every role held is `employee`: such a caller sees only their own records.
    pub fn employee_only(&self) -> bool {
        self.roles.iter().all(|r| *r == Role::Employee)
    }

    /// True for a browser session (whose state-changing requests need CSRF and origin checks).
    pub fn is_session(&self) -> bool {
        matches!(self.via, Via::Session(_))
    }

    /// The actor recorded in the audit log for this principal's changes.
    pub fn actor(&self) -> Actor {
        match self.via {
            Via::Token(_) => Actor(format!("token:{}", self.name)),
            Via::Session(_) => Actor(format!("user:{}", self.email.as_deref().unwrap_or(&self.name))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_ordered_deduplicated_and_never_empty() {
        let p =
            Principal::new("a".into(), vec![Role::Employee, Role::Admin, Role::Employee], None, Via::Token(TokenId(1)));
        assert_eq!(p.roles, vec![Role::Admin, Role::Employee]);
        assert_eq!(p.role(), Role::Admin);
        assert!(!p.employee_only() && p.holds_any(&[Role::Admin]) && !p.holds_any(&[Role::Finance]));
        let none = Principal::new("b".into(), vec![], Some("b@x.com".into()), Via::Session(SessionId(1)));
        assert_eq!(none.roles, vec![Role::Employee]);
        assert!(none.employee_only() && none.is_session());
        assert_eq!(none.actor().0, "user:b@x.com");
    }
}
