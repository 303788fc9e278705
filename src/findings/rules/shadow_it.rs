//! Shadow IT: third-party apps people authorised against the company's accounts (Google
//! Workspace tokens, Microsoft 365 consents) that are not in the inventory as approved. One
//! finding per app, naming the people, the scopes and where the grants were seen. Savings are
//! not the point (the app may be free); the risk is data leaving through an unvetted tool.

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
        let users: BTreeSet<&str> = grants.iter().map(|g| g.user_key.as_str()).collect();
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
        let people = if n == 1 { "1 person".to_string() } else { format!("{n} people") };
        out.push(Computed {
            kind: KIND,
            fingerprint: format!("shadow_it:{key}"),
            app_id: None,
            subscription_id: None,
            accounts: Vec::new(),
            seats: Some(n as i64),
            savings: None,
            currency: None,
            explanation: format!("{people} granted {name}{known} access to company accounts; {name} {status}"),
            evidence: serde_json::json!({
                "app": name,
                "client_ids": grants.iter().map(|g| g.client_id.as_str()).collect::<BTreeSet<_>>(),
                "users": users,
                "scopes": scopes,
                "connections": grants.iter().map(|g| g.connection_id).collect::<BTreeSet<_>>(),
                "first_seen_at": grants.iter().map(|g| g.first_seen_at).min().map(|t| crate::time::format(&t)),
                "source": "app_grants from identity provider connectors (OAuth tokens and consents)",
            }),
        });
    }
    out
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
}
