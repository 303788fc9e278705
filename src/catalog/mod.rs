//! The catalog of known SaaS apps (`integrations/catalog.toml`, compiled in, plus the user's own
//! `*catalog*.toml` files in `STACKWARD_INTEGRATIONS_DIR`, where connector definitions live too):
//! vendor, category and domains, used to match inventory apps and discovered grants by name,
//! alias, domain or OAuth client id. Reads `integrations_dir`.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::Path;

const BUILTIN: &str = include_str!("../../integrations/catalog.toml");

/// A known app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogEntry {
    /// Product name.
    pub name: String,
    /// Company that sells it.
    pub vendor: String,
    /// Category key from the taxonomy.
    pub category: String,
    /// Host names it is reached at; subdomains match too.
    #[serde(default)]
    pub domains: Vec<String>,
    /// Other names it goes by.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Public OAuth client ids of its integrations.
    #[serde(default)]
    pub oauth_client_ids: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogFile {
    #[serde(default)]
    categories: Vec<String>,
    #[serde(default)]
    app: Vec<CatalogEntry>,
}

/// Why a catalog file was refused; names the file and the entry.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// The file is not valid TOML or has unknown fields (the message has the line).
    #[error("{file}: {message}")]
    Parse {
        /// The file.
        file: String,
        /// What the parser said, with its line and column.
        message: String,
    },
    /// An entry breaks a rule.
    #[error("{file}: app {entry:?}: {message}")]
    Entry {
        /// The file.
        file: String,
        /// The entry's name.
        entry: String,
        /// What is wrong.
        message: String,
    },
    /// The folder or a file could not be read.
    #[error("{0}")]
    Io(String),
}

/// The loaded catalog with its lookup indexes.
#[derive(Debug, Clone)]
pub struct Catalog {
    categories: Vec<String>,
    entries: Vec<CatalogEntry>,
    by_name: HashMap<String, usize>,
    by_domain: HashMap<String, usize>,
    by_client_id: HashMap<String, usize>,
}

/// Folds case, punctuation and company suffixes so "Zoom Video Communications, Inc." and
/// "zoom video communications" meet.
pub fn name_key(name: &str) -> String {
    let lower = name.to_lowercase();
    let mut words: Vec<String> =
        lower.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_string).collect();
    while words.len() > 1
        && matches!(
            words.last().map(String::as_str),
            Some("inc" | "ltd" | "llc" | "gmbh" | "corp" | "co" | "ag" | "sa")
        )
    {
        words.pop();
    }
    words.concat()
}

/// The host of a domain or URL, lower-case, without scheme, port, path or `www.`.
pub fn host_of(domain_or_url: &str) -> String {
    let s = domain_or_url.trim().to_lowercase();
    let s = s.split("://").last().unwrap_or_default();
    let s = s.split(['/', '?', '#']).next().unwrap_or_default();
    let s = s.split(':').next().unwrap_or_default();
    s.trim_start_matches("www.").trim_end_matches('.').to_string()
}

impl Catalog {
    /// The builtin catalog alone.
    pub fn builtin() -> Result<Self, CatalogError> {
        Self::load(None)
    }

    /// The builtin catalog plus every `*.toml` in `extra_dir` (user entries replace builtin
    /// ones of the same name and may add categories).
    pub fn load(extra_dir: Option<&Path>) -> Result<Self, CatalogError> {
        let builtin = parse("integrations/catalog.toml", BUILTIN)?;
        let mut categories = builtin.categories.clone();
        let mut files = vec![("integrations/catalog.toml".to_string(), builtin)];
        if let Some(dir) = extra_dir {
            let read = std::fs::read_dir(dir).map_err(|e| CatalogError::Io(format!("{}: {e}", dir.display())))?;
            let mut paths: Vec<_> = read
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.extension().is_some_and(|x| x == "toml")
                        && p.file_name().is_some_and(|n| n.to_string_lossy().contains("catalog"))
                })
                .collect();
            paths.sort();
            for path in paths {
                let name = path.display().to_string();
                let text = std::fs::read_to_string(&path).map_err(|e| CatalogError::Io(format!("{name}: {e}")))?;
                let file = parse(&name, &text)?;
                categories.extend(
                    file.categories.iter().filter(|c| !builtin_has(&categories, c)).cloned().collect::<Vec<_>>(),
                );
                files.push((name, file));
            }
        }
        let mut entries: Vec<CatalogEntry> = Vec::new();
        for (file, parsed) in files {
            for e in parsed.app {
                check(&file, &e, &categories)?;
                match entries.iter().position(|x| name_key(&x.name) == name_key(&e.name)) {
                    Some(i) => entries[i] = e,
                    None => entries.push(e),
                }
            }
        }
        let mut catalog = Catalog {
            categories,
            entries,
            by_name: HashMap::new(),
            by_domain: HashMap::new(),
            by_client_id: HashMap::new(),
        };
        catalog.index()?;
        Ok(catalog)
    }

    fn index(&mut self) -> Result<(), CatalogError> {
        for (i, e) in self.entries.iter().enumerate() {
            for n in std::iter::once(&e.name).chain(&e.aliases) {
                self.by_name.entry(name_key(n)).or_insert(i);
            }
            for d in &e.domains {
                if let Some(other) = self.by_domain.insert(d.clone(), i) {
                    return Err(CatalogError::Entry {
                        file: "catalog".into(),
                        entry: e.name.clone(),
                        message: format!("domain {d} is also claimed by {}", self.entries[other].name),
                    });
                }
            }
            for id in &e.oauth_client_ids {
                self.by_client_id.insert(id.clone(), i);
            }
        }
        Ok(())
    }

    /// Every entry.
    pub fn entries(&self) -> &[CatalogEntry] {
        &self.entries
    }

    /// The category keys.
    pub fn categories(&self) -> &[String] {
        &self.categories
    }

    /// By name or alias, ignoring case, punctuation and company suffixes.
    pub fn find_by_name(&self, name: &str) -> Option<&CatalogEntry> {
        self.by_name.get(&name_key(name)).map(|i| &self.entries[*i])
    }

    /// By domain or URL; a subdomain (`acme.zendesk.com`) matches its parent (`zendesk.com`).
    pub fn find_by_domain(&self, domain_or_url: &str) -> Option<&CatalogEntry> {
        let mut host = host_of(domain_or_url);
        loop {
            if let Some(i) = self.by_domain.get(&host) {
                return Some(&self.entries[*i]);
            }
            match host.split_once('.') {
                Some((_, parent)) if parent.contains('.') => host = parent.to_string(),
                _ => return None,
            }
        }
    }

    /// By OAuth client id.
    pub fn find_by_client_id(&self, id: &str) -> Option<&CatalogEntry> {
        self.by_client_id.get(id.trim()).map(|i| &self.entries[*i])
    }

    /// The best match: client id first, then domains, then name.
    pub fn identify(&self, name: Option<&str>, domains: &[&str], client_id: Option<&str>) -> Option<&CatalogEntry> {
        client_id
            .and_then(|c| self.find_by_client_id(c))
            .or_else(|| domains.iter().find_map(|d| self.find_by_domain(d)))
            .or_else(|| name.and_then(|n| self.find_by_name(n)))
    }

    /// Entries of one category.
    pub fn in_category<'a>(&'a self, category: &'a str) -> impl Iterator<Item = &'a CatalogEntry> + 'a {
        self.entries.iter().filter(move |e| e.category == category)
    }
}

fn builtin_has(categories: &[String], c: &str) -> bool {
    categories.iter().any(|x| x == c)
}

fn parse(file: &str, text: &str) -> Result<CatalogFile, CatalogError> {
    toml::from_str(text).map_err(|e| CatalogError::Parse { file: file.to_string(), message: e.to_string() })
}

fn check(file: &str, e: &CatalogEntry, categories: &[String]) -> Result<(), CatalogError> {
    let fail = |message: String| Err(CatalogError::Entry { file: file.into(), entry: e.name.clone(), message });
    if e.name.trim().is_empty() {
        return fail("has no name".into());
    }
    if !builtin_has(categories, &e.category) {
        return fail(format!("category {:?} is not in the taxonomy ({} categories)", e.category, categories.len()));
    }
    for d in &e.domains {
        let ok =
            d.contains('.') && d.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-');
        if !ok {
            return fail(format!("domain {d:?} is not a lower-case host name"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_loads_with_enough_apps_and_categories() {
        let c = Catalog::builtin().unwrap();
        assert!(c.entries().len() >= 200, "{}", c.entries().len());
        let used: std::collections::BTreeSet<&str> = c.entries().iter().map(|e| e.category.as_str()).collect();
        assert!(used.len() >= 30, "{used:?}");
        assert!(c.in_category("video_conferencing").count() >= 5);
    }

    #[test]
    fn lookups_by_name_alias_domain_and_url() {
        let c = Catalog::builtin().unwrap();
        let name = |n: &str| c.find_by_name(n).map(|e| e.name.as_str());
        assert_eq!(name("zoom"), Some("Zoom"));
        assert_eq!(name("G Suite"), Some("Google Workspace"));
        assert_eq!(name("Miro, Inc."), Some("Miro"));
        assert_eq!(name("monday"), Some("Monday.com"));
        assert_eq!(name("No Such Tool"), None);
        let dom = |d: &str| c.find_by_domain(d).map(|e| e.name.as_str());
        assert_eq!(dom("https://app.zoom.us/signin?x=1"), Some("Zoom"));
        assert_eq!(dom("acme.zendesk.com"), Some("Zendesk"));
        assert_eq!(dom("www.figma.com"), Some("Figma"));
        assert_eq!(dom("example.com"), None);
        assert_eq!(c.identify(Some("Unknown"), &["notion.so"], None).map(|e| e.name.as_str()), Some("Notion"));
        assert_eq!(c.identify(Some("Lucidchart"), &[], None).map(|e| e.category.as_str()), Some("whiteboard"));
    }

    #[test]
    fn user_files_override_add_and_fail_clearly() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("our-catalog.toml"),
            r#"categories = ["internal"]
[[app]]
name = "Zoom"
vendor = "Zoom"
category = "chat"
domains = ["zoom.us"]
oauth_client_ids = ["abc123.apps.example"]

[[app]]
name = "Acme Wiki"
vendor = "Acme"
category = "internal"
domains = ["wiki.acme.internal"]
"#,
        )
        .unwrap();
        let c = Catalog::load(Some(dir.path())).unwrap();
        assert_eq!(c.find_by_name("zoom").unwrap().category, "chat", "the user's entry replaces the builtin one");
        assert_eq!(c.find_by_client_id("abc123.apps.example").unwrap().name, "Zoom");
        assert_eq!(c.find_by_domain("wiki.acme.internal").unwrap().name, "Acme Wiki");

        let bad = [
            ("[[app]]\nname = \"X\"\nvendor = \"X\"\ncategory = \"nope\"\n", "category \"nope\""),
            (
                "[[app]]\nname = \"X\"\nvendor = \"X\"\ncategory = \"chat\"\ndomains = [\"slack.com\"]\n",
                "slack.com is also claimed",
            ),
            (
                "[[app]]\nname = \"X\"\nvendor = \"X\"\ncategory = \"chat\"\ndomains = [\"Not A Host\"]\n",
                "not a lower-case host",
            ),
            ("[[app]\nname = 1\n", "line 1"),
            ("[[app]]\nname = \"X\"\nvendor = \"X\"\ncategory = \"chat\"\ncolour = \"red\"\n", "unknown field"),
        ];
        for (text, want) in bad {
            let dir = tempfile::tempdir().unwrap();
            std::fs::write(dir.path().join("bad-catalog.toml"), text).unwrap();
            let err = Catalog::load(Some(dir.path())).unwrap_err().to_string();
            assert!(err.contains(want), "{text:?}: {err}");
            assert!(err.contains("bad-catalog.toml") || want.contains("claimed"), "names the file: {err}");
        }
    }
}
