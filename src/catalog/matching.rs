//! Lookup keys and indexes of the catalog: names folded to a key, hosts taken out of URLs and
//! e-mail addresses, and the maps from name, domain and OAuth client id to an entry.

use super::{Catalog, CatalogEntry, CatalogError};
use std::collections::HashMap;

/// Company-form words dropped from the end of a name ("Miro, Inc." is "Miro").
const COMPANY_SUFFIXES: &[&str] =
    &["inc", "incorporated", "ltd", "limited", "llc", "plc", "gmbh", "corp", "corporation", "co", "ag", "sa", "bv"];

/// Folds case, punctuation, white space and company suffixes, so that "Zoom Video
/// Communications, Inc." and "zoom video communications" meet; empty when nothing is left.
pub fn name_key(name: &str) -> String {
    let lower = name.to_lowercase();
    let mut words: Vec<&str> = lower.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).collect();
    while words.len() > 1 && words.last().is_some_and(|w| COMPANY_SUFFIXES.contains(w)) {
        words.pop();
    }
    words.concat()
}

/// The host of a domain, URL or e-mail address, lower-case, without scheme, user, port, path,
/// trailing dot or leading `www.`: "https://www.Zoom.us:443/j/1" and "ann@zoom.us" give "zoom.us".
pub fn host_of(domain_or_url: &str) -> String {
    let s = domain_or_url.trim();
    let rest = s.split_once("://").map_or(s, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit('@').next().unwrap_or_default();
    let host = host_port.split(':').next().unwrap_or_default().trim_end_matches('.').to_lowercase();
    match host.strip_prefix("www.") {
        Some(rest) => rest.to_string(),
        None => host,
    }
}

/// Whether `domain` is a lower-case DNS host name of at least two labels.
pub(super) fn looks_like_host(domain: &str) -> bool {
    let labels: Vec<&str> = domain.split('.').collect();
    domain.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|l| {
            (1..=63).contains(&l.len())
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        })
        && labels.last().is_some_and(|tld| tld.chars().any(|c| c.is_ascii_lowercase()))
}

/// OAuth client ids compared without case: Microsoft's are GUIDs, which APIs print in either case.
fn client_key(id: &str) -> String {
    id.trim().to_lowercase()
}

impl Catalog {
    /// Fills the lookup maps; refuses a domain or client id claimed by two entries.
    pub(super) fn index(&mut self) -> Result<(), CatalogError> {
        let mut by_name = HashMap::new();
        // Names before aliases, so that an entry's own name wins over another entry's alias.
        for (i, e) in self.entries.iter().enumerate() {
            by_name.entry(name_key(&e.name)).or_insert(i);
        }
        for (i, e) in self.entries.iter().enumerate() {
            for alias in &e.aliases {
                by_name.entry(name_key(alias)).or_insert(i);
            }
        }
        let mut by_domain = HashMap::new();
        let mut by_client_id = HashMap::new();
        for (i, e) in self.entries.iter().enumerate() {
            for d in &e.domains {
                if let Some(other) = by_domain.insert(d.clone(), i).filter(|&o| o != i) {
                    return Err(self.conflict(i, other, format!("domain {d:?}")));
                }
            }
            for id in &e.oauth_client_ids {
                if let Some(other) = by_client_id.insert(client_key(id), i).filter(|&o| o != i) {
                    return Err(self.conflict(i, other, format!("OAuth client id {id:?}")));
                }
            }
        }
        self.by_name = by_name;
        self.by_domain = by_domain;
        self.by_client_id = by_client_id;
        Ok(())
    }

    /// The error for `what` claimed by entries `a` and `b`, blaming the one from the file loaded
    /// later: a user file is named rather than the builtin catalog it collides with.
    fn conflict(&self, a: usize, b: usize, what: String) -> CatalogError {
        let (blamed, other) = if self.origins[b] > self.origins[a] { (b, a) } else { (a, b) };
        CatalogError::Entry {
            file: self.files[self.origins[blamed]].clone(),
            entry: self.entries[blamed].name.clone(),
            message: format!(
                "{what} is also claimed by app {:?} ({})",
                self.entries[other].name, self.files[self.origins[other]]
            ),
        }
    }

    /// By name or alias, ignoring case, punctuation, white space and company suffixes
    /// ("MIRO, Inc.", "G Suite", "monday com").
    pub fn find_by_name(&self, name: &str) -> Option<&CatalogEntry> {
        let key = name_key(name);
        if key.is_empty() {
            return None;
        }
        self.by_name.get(&key).map(|&i| &self.entries[i])
    }

    /// By domain, URL or e-mail address; a subdomain (`acme.zendesk.com`) matches its parent
    /// (`zendesk.com`) unless an entry claims the subdomain itself.
    pub fn find_by_domain(&self, domain_or_url: &str) -> Option<&CatalogEntry> {
        let mut host = host_of(domain_or_url);
        loop {
            if let Some(&i) = self.by_domain.get(&host) {
                return Some(&self.entries[i]);
            }
            // Stop before a bare top-level domain: "com" is nobody's.
            match host.split_once('.') {
                Some((_, parent)) if parent.contains('.') => host = parent.to_string(),
                _ => return None,
            }
        }
    }

    /// By OAuth client id (surrounding white space and case ignored).
    pub fn find_by_client_id(&self, id: &str) -> Option<&CatalogEntry> {
        let key = client_key(id);
        if key.is_empty() {
            return None;
        }
        self.by_client_id.get(&key).map(|&i| &self.entries[i])
    }

    /// The best match for an app seen elsewhere: by client id first (the most specific), then
    /// by the first of `domains` that matches, then by name.
    pub fn identify(&self, name: Option<&str>, domains: &[&str], client_id: Option<&str>) -> Option<&CatalogEntry> {
        client_id
            .and_then(|c| self.find_by_client_id(c))
            .or_else(|| domains.iter().find_map(|d| self.find_by_domain(d)))
            .or_else(|| name.and_then(|n| self.find_by_name(n)))
    }

    /// The entries of one category key, in catalog order.
    pub fn in_category<'a>(&'a self, category: &str) -> impl Iterator<Item = &'a CatalogEntry> + 'a {
        let category = category.to_string();
        self.entries.iter().filter(move |e| e.category == category)
    }
}
