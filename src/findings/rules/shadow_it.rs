//! Shadow IT: third-party apps people authorised against the company's accounts (Google
//! Workspace tokens, Microsoft 365 consents) that are not in the inventory as approved. One
//! finding per app, naming the people, the scopes and where the grants were seen. Savings are
//! not the point (the app may be free); the risk is data leaving through an unvetted tool.
//! Findings carry a risk rank: a grant an admin made for the whole organisation (Microsoft
//! Graph `consentType: AllPrincipals`) outranks grants of single users, then the broadest scope.

use crate::catalog::name_key;
use crate::findings::snapshot::{Grant, Snapshot};
use crate::findings::{Computed, FindingKind};
use std::collections::{BTreeMap, BTreeSet};

const KIND: FindingKind = FindingKind::ShadowIt;

/// One finding per unapproved third-party app with grants.
pub fn run(s: &Snapshot) -> Vec<Computed> {
    // An app is one client id; the catalog may know several ids of one product, so group by its name then.
    let mut by_app: BTreeMap<String, Vec<&Grant>> = BTreeMap::new();
    for g in &s.grants {
        let key = g.catalog_name.as_deref().map(name_key).unwrap_or_else(|| format!("client:{}", g.client_id));
        by_app.entry(key).or_default().push(g);
    }
    let mut out = Vec::new();
    for (key, grants) in by_app {
        let name = grants[0].catalog_name.clone().unwrap_or_else(|| grants[0].app_name.clone());
        let approved =
            [name_key(&name), name_key(&grants[0].app_name)].iter().any(|n| s.known_apps.get(n) == Some(&true));
        if approved {
            continue;
        }
        let organisation_wide = grants.iter().any(|g| g.organisation_wide);
        let users: BTreeSet<&str> =
            grants.iter().filter(|g| !g.organisation_wide).map(|g| g.user_key.as_str()).collect();
        let scopes: BTreeSet<&str> = grants
            .iter()
            .flat_map(|g| g.scopes.as_deref().unwrap_or("").split([' ', ',']))
            .filter(|s| !s.is_empty())
            .collect();
        let known = grants[0].category.as_deref().map(|c| format!(" ({})", c.replace('_', " "))).unwrap_or_default();
        let in_inventory = s.known_apps.contains_key(&name_key(&name));
        let status = if in_inventory {
            "is in the inventory but not approved"
        } else {
            "is not an approved app in the inventory"
        };
        let n = users.len();
        let people = match (organisation_wide, n) {
            (true, _) => "An admin".to_string(),
            (false, 1) => "1 person".to_string(),
            (false, n) => format!("{n} people"),
        };
        let reach = if organisation_wide { " for everyone in the organisation" } else { "" };
        let level = scope_level(&scopes);
        out.push(Computed {
            kind: KIND,
            fingerprint: format!("shadow_it:{key}"),
            app_id: None,
            subscription_id: None,
            accounts: Vec::new(),
            seats: Some(n as i64),
            savings: None,
            currency: None,
            explanation: format!("{people} granted {name}{known} access to company accounts{reach}; {name} {status}"),
            evidence: serde_json::json!({
                "app": name,
                "client_ids": grants.iter().map(|g| g.client_id.as_str()).collect::<BTreeSet<_>>(),
                "users": users,
                "organisation_wide": organisation_wide,
                "scopes": scopes,
                "risk": {
                    "rank": rank(organisation_wide, level),
                    "reach": if organisation_wide { "organisation" } else { "users" },
                    "scope_level": level.name(),
                },
                "connections": grants.iter().map(|g| g.connection_id).collect::<BTreeSet<_>>(),
                "first_seen_at": grants.iter().map(|g| g.first_seen_at).min().map(|t| crate::time::format(&t)),
                "source": "app_grants from identity provider connectors (OAuth tokens and consents)",
            }),
        });
    }
    out
}

/// How much a grant's broadest scope lets an app do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum ScopeLevel {
    /// Sign-in and profile only (`openid`, `User.Read`).
    SignIn,
    /// Reads data.
    Read,
    /// Changes data.
    Write,
    /// Changes data across the tenant (`Directory.ReadWrite.All`, full mail or drive).
    WriteAll,
}

impl ScopeLevel {
    fn name(self) -> &'static str {
        match self {
            ScopeLevel::SignIn => "sign_in",
            ScopeLevel::Read => "read",
            ScopeLevel::Write => "write",
            ScopeLevel::WriteAll => "write_all",
        }
    }
}

/// The broadest level among the scopes (Graph permission names, Google scope URLs).
fn scope_level(scopes: &BTreeSet<&str>) -> ScopeLevel {
    scopes
        .iter()
        .map(|s| {
            let l = s.to_ascii_lowercase();
            let sign_in = ["openid", "profile", "email", "offline_access", "user.read", "userinfo"];
            let writes = l.contains("write") || l.contains("manage") || l.contains("full_access");
            // Google's unsuffixed scopes (…/auth/drive, https://mail.google.com/) grant everything.
            let google_full = l == "https://mail.google.com/"
                || (l.starts_with("https://www.googleapis.com/auth/")
                    && !l.contains("readonly")
                    && !l.contains("userinfo"));
            if (writes && (l.ends_with(".all") || l.starts_with("directory."))) || google_full && l.contains("admin") {
                ScopeLevel::WriteAll
            } else if writes || google_full {
                ScopeLevel::Write
            } else if sign_in.iter().any(|p| l == *p || l.ends_with(&format!("/{p}")) || l.ends_with(&format!(".{p}")))
            {
                ScopeLevel::SignIn
            } else {
                ScopeLevel::Read
            }
        })
        .max()
        .unwrap_or(ScopeLevel::Read)
}

/// A finding's risk rank, higher first: an organisation-wide grant above any single users', then by scope.
fn rank(organisation_wide: bool, level: ScopeLevel) -> i64 {
    i64::from(organisation_wide) * 10 + level as i64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::ConnectionId;
    use crate::findings::rules::fixture::{days_ago, Fixture};

    fn grant(client: &str, app: &str, user: &str, catalog: Option<&str>) -> Grant {
        Grant {
            client_id: client.into(),
            app_name: app.into(),
            scopes: Some("https://www.googleapis.com/auth/calendar".into()),
            user_key: user.into(),
            organisation_wide: false,
            connection_id: ConnectionId(1),
            first_seen_at: days_ago(5),
            catalog_name: catalog.map(str::to_string),
            category: catalog.map(|_| "scheduling".to_string()),
        }
    }

    #[test]
    fn unapproved_apps_with_grants_are_found_once_per_app() {
        let mut f = Fixture::new();
        f.0.grants = vec![
            grant("123-calendly", "Calendly", "a@x.com", Some("Calendly")),
            grant("123-calendly", "Calendly", "b@x.com", Some("Calendly")),
            grant("zoom-id", "Zoom", "a@x.com", Some("Zoom")),
            grant("odd-1", "Unknown Notes App", "c@x.com", None),
        ];
        f.0.known_apps.insert("zoom".into(), true);
        f.0.known_apps.insert("calendly".into(), false);
        let got = run(&f.0);
        assert_eq!(got.len(), 2, "{got:?}");
        let calendly = got.iter().find(|c| c.fingerprint == "shadow_it:calendly").unwrap();
        assert_eq!(calendly.seats, Some(2));
        assert_eq!(calendly.savings, None, "a risk, not a saving");
        assert_eq!(
            calendly.explanation,
            "2 people granted Calendly (scheduling) access to company accounts; Calendly is in the inventory but not approved"
        );
        let unknown = got.iter().find(|c| c.fingerprint == "shadow_it:client:odd-1").unwrap();
        assert!(
            unknown.explanation.ends_with("Unknown Notes App is not an approved app in the inventory"),
            "{}",
            unknown.explanation
        );
        f.0.known_apps.insert("calendly".into(), true);
        assert_eq!(run(&f.0).len(), 1, "approving the app ends its finding");
    }

    #[test]
    fn an_organisation_wide_grant_outranks_single_users_by_scope() {
        let mut f = Fixture::new();
        let mut tenant = grant("tenant-app", "Tenant Sync", "(organisation)", None);
        tenant.organisation_wide = true;
        tenant.scopes = Some("User.Read Directory.Read.All".into());
        let mut broad = grant("user-app", "Mail Helper", "a@x.com", None);
        broad.scopes = Some("Mail.ReadWrite Directory.ReadWrite.All".into());
        let mut login = grant("login-app", "Login Only", "b@x.com", None);
        login.scopes = Some("openid profile email".into());
        f.0.grants = vec![login, broad, tenant];
        let got = run(&f.0);
        let by = |fp: &str| got.iter().find(|c| c.fingerprint == fp).unwrap();
        let rank = |fp: &str| by(fp).evidence["risk"]["rank"].as_i64().unwrap();
        let tenant = by("shadow_it:client:tenant-app");
        assert_eq!(tenant.evidence["organisation_wide"], true);
        assert_eq!(tenant.evidence["users"], serde_json::json!([]), "no person is named");
        assert!(tenant.explanation.contains("for everyone in the organisation"), "{}", tenant.explanation);
        assert!(rank("shadow_it:client:tenant-app") > rank("shadow_it:client:user-app"), "organisation-wide first");
        assert!(rank("shadow_it:client:user-app") > rank("shadow_it:client:login-app"), "then by scope");
        assert_eq!(by("shadow_it:client:user-app").evidence["risk"]["scope_level"], "write_all");
        assert_eq!(by("shadow_it:client:login-app").evidence["risk"]["scope_level"], "sign_in");
    }
}
