//! The catalog of well-known SaaS apps: `integrations/catalog.toml`, compiled in, plus the
//! user's own `*catalog*.toml` files in the integrations folder (where connector definitions
//! live too, hence the name filter). Each entry has a vendor, a category from a fixed taxonomy,
//! domains, aliases and public OAuth client ids; findings (overlapping apps, shadow IT) and
//! tool-request advice use it to recognise apps by name, domain or client id.
//! Reads `integrations_dir` (`STACKWARD_INTEGRATIONS_DIR`), passed in by the caller.

mod matching;

pub use matching::{host_of, name_key};

use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

const BUILTIN_FILE: &str = "integrations/catalog.toml";
const BUILTIN: &str = include_str!("../../integrations/catalog.toml");

/// A known app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogEntry {
    /// Product name.
    pub name: String,
    /// Company that sells it.
    pub vendor: String,
    /// Category key from the taxonomy (`categories` at the top of a catalog file).
    pub category: String,
    /// Lower-case host names it is reached at; their subdomains match too.
    #[serde(default)]
    pub domains: Vec<String>,
    /// Other names it goes by (former names, short names).
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Public OAuth client ids of its own apps, as they appear in grant lists.
    #[serde(default)]
    pub oauth_client_ids: Vec<String>,
}

/// One catalog file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogFile {
    #[serde(default)]
    categories: Vec<String>,
    #[serde(default)]
    app: Vec<CatalogEntry>,
}

/// Why the catalog could not be loaded; names the file and, where there is one, the entry.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// A file is not valid TOML or has unknown fields; the message has the line and column.
    #[error("{file}: {message}")]
    Parse {
        /// The file.
        file: String,
        /// What the TOML parser said.
        message: String,
    },
    /// A file declares a category key that is not snake_case.
    #[error("{file}: category {category:?} is not a snake_case key")]
    Category {
        /// The file.
        file: String,
        /// The key as written.
        category: String,
    },
    /// An entry breaks a rule (unknown category, bad domain, duplicate name, domain or client id).
    #[error("{file}: app {entry:?}: {message}")]
    Entry {
        /// The file.
        file: String,
        /// The entry's name.
        entry: String,
        /// What is wrong.
        message: String,
    },
    /// The folder or a file in it could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The folder or file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
}

/// The loaded catalog with its lookup indexes (see `matching.rs`).
#[derive(Debug, Clone)]
pub struct Catalog {
    categories: Vec<String>,
    entries: Vec<CatalogEntry>,
    /// Files in load order, the builtin one first.
    files: Vec<String>,
    /// For each entry, its file's index in `files`.
    origins: Vec<usize>,
    by_name: HashMap<String, usize>,
    by_domain: HashMap<String, usize>,
    by_client_id: HashMap<String, usize>,
}

impl Catalog {
    /// The builtin catalog alone.
    pub fn builtin() -> Result<Self, CatalogError> {
        Self::load(None)
    }

    /// The builtin catalog plus every `*catalog*.toml` file in `extra_dir`, in name order.
    /// A user entry whose name matches an earlier one (ignoring case and punctuation) replaces
    /// it; categories a user file declares join the taxonomy.
    pub fn load(extra_dir: Option<&Path>) -> Result<Self, CatalogError> {
        let mut files = vec![(BUILTIN_FILE.to_string(), parse(BUILTIN_FILE, BUILTIN)?)];
        if let Some(dir) = extra_dir {
            for path in catalog_files(dir)? {
                let name = path.display().to_string();
                let text =
                    std::fs::read_to_string(&path).map_err(|source| CatalogError::Io { path: name.clone(), source })?;
                let parsed = parse(&name, &text)?;
                files.push((name, parsed));
            }
        }
        let mut categories: Vec<String> = Vec::new();
        for (file, parsed) in &files {
            for c in &parsed.categories {
                if c.is_empty() || !c.chars().all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '_') {
                    return Err(CatalogError::Category { file: file.clone(), category: c.clone() });
                }
                if !categories.contains(c) {
                    categories.push(c.clone());
                }
            }
        }
        let mut catalog = Catalog {
            categories,
            entries: Vec::new(),
            files: Vec::new(),
            origins: Vec::new(),
            by_name: HashMap::new(),
            by_domain: HashMap::new(),
            by_client_id: HashMap::new(),
        };
        let mut position: HashMap<String, usize> = HashMap::new();
        for (origin, (file, parsed)) in files.into_iter().enumerate() {
            let mut in_this_file: HashMap<String, String> = HashMap::new();
            for entry in parsed.app {
                check(&file, &entry, &catalog.categories)?;
                let key = name_key(&entry.name);
                if let Some(first) = in_this_file.insert(key.clone(), entry.name.clone()) {
                    return Err(CatalogError::Entry {
                        file,
                        entry: entry.name,
                        message: format!("the file already has an app named {first:?}"),
                    });
                }
                match position.get(&key) {
                    Some(&i) => {
                        catalog.entries[i] = entry;
                        catalog.origins[i] = origin;
                    }
                    None => {
                        position.insert(key, catalog.entries.len());
                        catalog.entries.push(entry);
                        catalog.origins.push(origin);
                    }
                }
            }
            catalog.files.push(file);
        }
        catalog.index()?;
        Ok(catalog)
    }

    /// Every entry: builtin order, replaced entries in place, user additions at the end.
    pub fn entries(&self) -> &[CatalogEntry] {
        &self.entries
    }

    /// The category keys of the taxonomy, builtin first.
    pub fn categories(&self) -> &[String] {
        &self.categories
    }

    /// The category an app is filed under, as a label: its own, else its catalog entry's (found
    /// by name or by one of its hosts). The overlap rule and the findings summary both use it.
    pub fn category_for(&self, name: &str, hosts: &[&str], own: Option<&str>) -> Option<String> {
        match own.map(category_label).filter(|c| !c.is_empty()) {
            Some(c) => Some(c),
            None => self.identify(Some(name), hosts, None).map(|e| category_label(&e.category)),
        }
    }
}

/// A category as people read it and the overlap rule groups apps by: lower-case words joined by
/// single spaces, whether written as a key (`video_conferencing`) or by hand (`Video  Conferencing`).
pub fn category_label(category: &str) -> String {
    let lower = category.to_lowercase();
    let words: Vec<&str> = lower.split(|c: char| c == '_' || c.is_whitespace()).filter(|w| !w.is_empty()).collect();
    words.join(" ")
}

/// The `*catalog*.toml` files of `dir`, sorted so that later files override earlier ones
/// predictably.
fn catalog_files(dir: &Path) -> Result<Vec<PathBuf>, CatalogError> {
    let io = |source| CatalogError::Io { path: dir.display().to_string(), source };
    let mut paths = Vec::new();
    for item in std::fs::read_dir(dir).map_err(io)? {
        let path = item.map_err(io)?.path();
        let is_catalog = path.extension().is_some_and(|x| x == "toml")
            && path.file_name().is_some_and(|n| n.to_string_lossy().contains("catalog"))
            && path.is_file();
        if is_catalog {
            paths.push(path);
        }
    }
    paths.sort();
    Ok(paths)
}

fn parse(file: &str, text: &str) -> Result<CatalogFile, CatalogError> {
    // toml's Display gives the line, the column and the offending line with a caret.
    toml::from_str(text).map_err(|e| CatalogError::Parse { file: file.to_string(), message: e.to_string() })
}

/// The rules one entry must keep on its own; uniqueness across entries is checked by `index`.
fn check(file: &str, e: &CatalogEntry, categories: &[String]) -> Result<(), CatalogError> {
    let fail = |message: String| Err(CatalogError::Entry { file: file.into(), entry: e.name.clone(), message });
    if name_key(&e.name).is_empty() {
        return fail("has no name (letters or digits)".into());
    }
    if e.vendor.trim().is_empty() {
        return fail("has no vendor".into());
    }
    if !categories.contains(&e.category) {
        return fail(format!("category {:?} is not in the taxonomy (`categories` of the catalog files)", e.category));
    }
    if let Some(d) = e.domains.iter().find(|d| !matching::looks_like_host(d)) {
        return fail(format!("domain {d:?} is not a lower-case host name (like \"zoom.us\")"));
    }
    if let Some(a) = e.aliases.iter().find(|a| name_key(a).is_empty()) {
        return fail(format!("alias {a:?} has no letters or digits"));
    }
    if let Some(id) = e.oauth_client_ids.iter().find(|id| id.is_empty() || id.chars().any(char::is_whitespace)) {
        return fail(format!("OAuth client id {id:?} is empty or has white space"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    const TEAMS_DESKTOP: &str = "1fec8e78-bce4-4aaf-ab1b-5451cc387264";

    fn catalog_dir(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        dir
    }

    #[test]
    fn builtin_loads_with_enough_apps_and_every_category_used() {
        let c = Catalog::builtin().unwrap();
        assert!(c.entries().len() >= 200, "{}", c.entries().len());
        let used: BTreeSet<&str> = c.entries().iter().map(|e| e.category.as_str()).collect();
        assert!(used.len() >= 30, "{used:?}");
        assert_eq!(c.categories().len(), 46);
        for cat in c.categories() {
            assert!(c.in_category(cat).count() >= 3, "{cat} has fewer than 3 apps");
        }
        assert!(c.in_category(&String::from("video_conferencing")).any(|e| e.name == "Zoom"));
    }

    #[test]
    fn an_apps_own_category_wins_and_labels_read_the_same_however_written() {
        let c = Catalog::builtin().unwrap();
        assert_eq!(category_label(" Video_Conferencing  tools"), "video conferencing tools");
        assert_eq!(c.category_for("Zoom", &[], None).as_deref(), Some("video conferencing"));
        assert_eq!(c.category_for("Our Zoom", &["zoom.us"], Some(" ")).as_deref(), Some("video conferencing"));
        assert_eq!(c.category_for("Zoom", &[], Some("Meetings")).as_deref(), Some("meetings"));
        assert_eq!(c.category_for("In-house tool", &[], None), None);
    }

    #[test]
    fn well_known_rivals_share_a_category() {
        // Pairs buyers compare head to head, as each vendor describes itself: one category each,
        // so an overlap is found and request advice names the rival, not an unrelated tool.
        let c = Catalog::builtin().unwrap();
        let pairs = [
            ("Loom", "Vidyard"),
            ("Miro", "Mural"),
            ("Asana", "Monday.com"),
            ("Zoom", "Google Meet"),
            ("Notion", "Confluence"),
            ("1Password", "Bitwarden"),
            ("Slack", "Mattermost"),
            ("Dropbox", "Box"),
            ("Figma", "Sketch"),
            ("Salesforce", "HubSpot"),
            ("Zendesk", "Intercom"),
            ("Okta", "Microsoft Entra ID"),
            ("Jira", "Linear"),
            ("GitHub", "GitLab"),
            ("Datadog", "New Relic"),
            ("PagerDuty", "Opsgenie"),
            ("DocuSign", "Dropbox Sign"),
            ("Typeform", "SurveyMonkey"),
            ("Calendly", "Chili Piper"),
            ("Greenhouse", "Lever"),
            ("Expensify", "Ramp"),
            ("Hotjar", "FullStory"),
            ("Semrush", "Ahrefs"),
            ("Pitch", "Prezi"),
            ("Descript", "Loom"),
            ("Gong", "Chorus"),
            ("Tableau", "Power BI"),
            ("Otter.ai", "Fireflies.ai"),
            ("Mailchimp", "Brevo"),
            ("Postmark", "Mailgun"),
            ("BambooHR", "HiBob"),
            ("ChatGPT", "Claude"),
        ];
        let category = |n: &str| c.find_by_name(n).map(|e| e.category.clone()).unwrap_or_else(|| panic!("{n} missing"));
        for (a, b) in pairs {
            assert_eq!(category(a), category(b), "{a} and {b}");
        }
        // Filed by what the vendor says the product is, not by a neighbour's category.
        let not = [("Loom", "design"), ("Vidyard", "sales_engagement"), ("Pitch", "design"), ("Semrush", "analytics")];
        for (name, wrong) in not {
            assert_ne!(category(name), wrong, "{name}");
        }
        assert_ne!(category("Postmark"), category("Mailchimp"), "transactional delivery is not campaign marketing");
    }

    #[test]
    fn builtin_names_and_aliases_each_lead_to_their_own_entry() {
        let c = Catalog::builtin().unwrap();
        for e in c.entries() {
            for n in std::iter::once(&e.name).chain(&e.aliases) {
                assert_eq!(c.find_by_name(n).map(|f| &f.name), Some(&e.name), "{n:?} is taken by another entry");
            }
        }
    }

    #[test]
    fn finds_by_name_ignoring_case_punctuation_and_suffixes() {
        let c = Catalog::builtin().unwrap();
        let name = |n: &str| c.find_by_name(n).map(|e| e.name.as_str());
        assert_eq!(name("ZOOM"), Some("Zoom"));
        assert_eq!(name("G Suite"), Some("Google Workspace"));
        assert_eq!(name("Miro, Inc."), Some("Miro"));
        assert_eq!(name("Personio GmbH"), Some("Personio"));
        assert_eq!(name("Zoom Video Communications Inc"), None, "a vendor is not a product");
        assert_eq!(name("monday . com"), Some("Monday.com"));
        assert_eq!(name("rocketchat"), Some("Rocket.Chat"));
        assert_eq!(name("  1 Password "), Some("1Password"));
        assert_eq!(name("No Such Tool"), None);
        assert_eq!(name(" ,. "), None);
    }

    #[test]
    fn finds_by_domain_url_subdomain_and_email() {
        let c = Catalog::builtin().unwrap();
        let dom = |d: &str| c.find_by_domain(d).map(|e| e.name.as_str());
        assert_eq!(dom("zoom.us"), Some("Zoom"));
        assert_eq!(dom("https://app.zoom.us/signin?x=1"), Some("Zoom"));
        assert_eq!(dom("acme.zendesk.com"), Some("Zendesk"));
        assert_eq!(dom("WWW.Figma.com."), Some("Figma"));
        assert_eq!(dom("https://ann@acme.slack.com:443/archives"), Some("Slack"));
        assert_eq!(dom("ann@zoom.us"), Some("Zoom"));
        assert_eq!(dom("outlook.office.com"), Some("Microsoft Outlook"), "an exact subdomain wins");
        assert_eq!(dom("portal.office.com"), Some("Microsoft 365"));
        assert_eq!(dom("google.com"), None);
        assert_eq!(dom("example.com"), None);
        assert_eq!(dom("com"), None);
        assert_eq!(dom(""), None);
    }

    #[test]
    fn finds_by_client_id_and_identifies_in_order() {
        let c = Catalog::builtin().unwrap();
        assert_eq!(c.find_by_client_id(TEAMS_DESKTOP).unwrap().name, "Microsoft Teams");
        assert_eq!(c.find_by_client_id(&TEAMS_DESKTOP.to_uppercase()).unwrap().name, "Microsoft Teams");
        assert_eq!(c.find_by_client_id(" 178c6fc778ccc68e1d6a ").unwrap().name, "GitHub");
        assert!(c.find_by_client_id("no-such-id").is_none());
        assert!(c.find_by_client_id("").is_none());
        let id = |n: Option<&str>, d: &[&str], cid: Option<&str>| c.identify(n, d, cid).map(|e| e.name.clone());
        assert_eq!(id(Some("Slack"), &["zoom.us"], Some(TEAMS_DESKTOP)).as_deref(), Some("Microsoft Teams"));
        assert_eq!(id(Some("Slack"), &["example.com", "zoom.us"], Some("unknown")).as_deref(), Some("Zoom"));
        assert_eq!(id(Some("Lucidchart"), &["example.com"], None).as_deref(), Some("Lucid"));
        assert_eq!(id(None, &[], None), None);
    }

    #[test]
    fn user_files_override_and_add_entries() {
        let dir = catalog_dir(&[
            (
                "our-catalog.toml",
                r#"categories = ["internal"]
[[app]]
name = "ZOOM"
vendor = "Zoom"
category = "chat"
domains = ["zoom.us"]

[[app]]
name = "Acme Wiki"
vendor = "Acme"
category = "internal"
domains = ["wiki.acme.internal"]
oauth_client_ids = ["abc123.apps.example"]
"#,
            ),
            // A connector definition in the same folder is not a catalog file.
            ("slack.toml", "name = \"slack\"\n[auth]\nkind = \"bearer\"\n"),
        ]);
        let builtin = Catalog::builtin().unwrap();
        let c = Catalog::load(Some(dir.path())).unwrap();
        assert_eq!(c.entries().len(), builtin.entries().len() + 1);
        let zoom = c.find_by_name("zoom").unwrap();
        assert_eq!((zoom.name.as_str(), zoom.category.as_str()), ("ZOOM", "chat"));
        assert_eq!(c.find_by_domain("zoom.com"), None, "the replaced entry's domains are gone");
        assert_eq!(c.find_by_client_id("abc123.apps.example").unwrap().name, "Acme Wiki");
        assert_eq!(c.find_by_domain("https://wiki.acme.internal/start").unwrap().name, "Acme Wiki");
        assert_eq!(c.categories().last().map(String::as_str), Some("internal"));
        assert_eq!(c.in_category("internal").count(), 1);
    }

    #[test]
    fn bad_user_files_are_refused_naming_file_and_entry() {
        let app = |name: &str, extra: &str| {
            format!("[[app]]\nname = \"{name}\"\nvendor = \"Acme\"\ncategory = \"chat\"\n{extra}\n")
        };
        let bad = [
            (app("Acme Chat", "").replace("\"chat\"", "\"chatt\""), "app \"Acme Chat\": category \"chatt\""),
            (
                app("Acme Chat", "domains = [\"slack.com\"]"),
                "app \"Acme Chat\": domain \"slack.com\" is also claimed by app \"Slack\"",
            ),
            // A replaced builtin entry keeps its early place; the user file is still the one named.
            (app("Zoom", "domains = [\"slack.com\"]"), "app \"Zoom\": domain \"slack.com\""),
            (
                app("A", "domains = [\"a.example\"]") + &app("B", "domains = [\"a.example\"]"),
                "app \"B\": domain \"a.example\"",
            ),
            (
                app("Acme Chat", "") + &app("ACME chat", ""),
                "app \"ACME chat\": the file already has an app named \"Acme Chat\"",
            ),
            (app("Acme Chat", "domains = [\"Acme.example\"]"), "domain \"Acme.example\" is not a lower-case host"),
            (app("Acme Chat", "domains = [\"https://acme.example\"]"), "is not a lower-case host"),
            (
                app("Acme Chat", "oauth_client_ids = [\"1fec8e78-BCE4-4aaf-ab1b-5451cc387264\"]"),
                "also claimed by app \"Microsoft Teams\"",
            ),
            (app("Acme Chat", "colour = \"red\""), "unknown field `colour`"),
            ("[[app]\nname = 1\n".to_string(), "line 1"),
            (
                format!("categories = [\"Internal Tools\"]\n{}", app("Acme Chat", "")),
                "category \"Internal Tools\" is not a snake_case key",
            ),
        ];
        for (text, want) in bad {
            let dir = catalog_dir(&[("bad-catalog.toml", &text)]);
            let err = Catalog::load(Some(dir.path())).unwrap_err().to_string();
            assert!(err.contains(want), "{text:?}: {err}");
            assert!(
                err.starts_with(&dir.path().join("bad-catalog.toml").display().to_string()),
                "names the file: {err}"
            );
        }
    }

    #[test]
    fn a_missing_folder_is_an_io_error_naming_it() {
        let err = Catalog::load(Some(Path::new("/no/such/stackward-dir"))).unwrap_err();
        assert!(matches!(err, CatalogError::Io { .. }), "{err:?}");
        assert!(err.to_string().starts_with("/no/such/stackward-dir: "), "{err}");
    }
}
