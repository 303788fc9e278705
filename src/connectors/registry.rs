//! The connector registry: the builtin definitions (`integrations/*.toml`, compiled in) plus the
//! user's own files in `STACKWARD_INTEGRATIONS_DIR`. A malformed file is reported with its line
//! and never stops the others from loading. `check` validates one file the same way.

use super::definition::{Auth, Definition, Field, Mapping, Paging, Stream};
use super::mapping::check_mapping;
use super::records::RecordKind;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

const BUILTIN: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/integrations.rs"));

/// A definition file that could not be loaded, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    /// The file.
    pub file: String,
    /// The line at fault, when known.
    pub line: Option<usize>,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(l) => write!(f, "{}:{l}: {}", self.file, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

/// Every usable connector, by name, with the problems of those that could not load.
#[derive(Debug, Clone, Default)]
pub struct Registry {
    defs: BTreeMap<String, (Arc<Definition>, String)>,
    problems: Vec<Problem>,
}

impl Registry {
    /// The builtin connectors plus every `*.toml` in `extra_dir` except catalog files; a user
    /// file with a builtin's name replaces it.
    pub fn load(extra_dir: Option<&Path>) -> Self {
        let mut r = Registry::default();
        for (file, text) in BUILTIN {
            r.add(&format!("integrations/{file}"), text);
        }
        if let Some(dir) = extra_dir {
            let entries = match std::fs::read_dir(dir) {
                Ok(d) => d.filter_map(Result::ok).map(|e| e.path()).collect::<Vec<_>>(),
                Err(e) => {
                    r.problems.push(Problem { file: dir.display().to_string(), line: None, message: e.to_string() });
                    Vec::new()
                }
            };
            let mut files: Vec<_> = entries
                .into_iter()
                .filter(|p| {
                    let n = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
                    n.ends_with(".toml") && !n.contains("catalog")
                })
                .collect();
            files.sort();
            for path in files {
                let name = path.display().to_string();
                match std::fs::read_to_string(&path) {
                    Ok(text) => r.add(&name, &text),
                    Err(e) => r.problems.push(Problem { file: name, line: None, message: e.to_string() }),
                }
            }
        }
        for p in &r.problems {
            tracing::warn!(problem = %p, "connector definition not loaded");
        }
        r
    }

    fn add(&mut self, file: &str, text: &str) {
        match check(file, text) {
            Ok(def) => {
                if let Some((_, earlier)) = self.defs.get(&def.name) {
                    tracing::info!(connector = %def.name, file, replaces = %earlier, "connector definition replaced");
                }
                self.defs.insert(def.name.clone(), (Arc::new(def), file.to_string()));
            }
            Err(p) => self.problems.extend(p),
        }
    }

    /// A connector by name.
    pub fn get(&self, name: &str) -> Option<Arc<Definition>> {
        self.defs.get(name).map(|(d, _)| d.clone())
    }

    /// Every connector with the file it came from, by name.
    pub fn all(&self) -> impl Iterator<Item = (&Definition, &str)> {
        self.defs.values().map(|(d, f)| (d.as_ref(), f.as_str()))
    }

    /// Files that could not be loaded.
    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }
}

/// Line (1-based) of the first line at or after `from` that contains `needle`.
fn line_of(text: &str, needle: &str, from: usize) -> Option<usize> {
    text.lines().enumerate().skip(from.saturating_sub(1)).find(|(_, l)| l.contains(needle)).map(|(i, _)| i + 1)
}

/// Parses and validates one definition file; on failure, every problem found, in file order
/// (a file that is not valid TOML stops at its first syntax error).
pub fn check(file: &str, text: &str) -> Result<Definition, Vec<Problem>> {
    let def: Definition = toml::from_str(text).map_err(|e| {
        let line = e.span().map(|s| text[..s.start.min(text.len())].lines().count().max(1));
        vec![Problem { file: file.to_string(), line, message: e.message().trim().to_string() }]
    })?;
    let mut c = Checker {
        file,
        text,
        def: &def,
        // Where each [[stream]] starts, to place a stream's problems on a line.
        stream_lines: text.lines().enumerate().filter(|(_, l)| l.trim() == "[[stream]]").map(|(i, _)| i + 1).collect(),
        problems: Vec::new(),
    };
    c.check_header();
    let mut names = BTreeSet::new();
    let mut kept = BTreeSet::new();
    for (i, s) in def.streams.iter().enumerate() {
        if !names.insert(s.name.as_str()) {
            c.report(c.at(i, "name"), format!("stream {:?} is defined twice", s.name));
        }
        c.check_stream(i, s);
        c.check_mappings(i, s, &kept);
        if let Some(k) = &s.keep {
            kept.insert(k.name.as_str());
        }
    }
    for a in &def.actions {
        if !matches!(a.method.to_ascii_uppercase().as_str(), "POST" | "PATCH" | "PUT" | "DELETE") {
            let line = line_of(text, "[[action]]", 1);
            c.report(line, format!("action {:?}: method must be POST, PATCH, PUT or DELETE", a.name));
        }
    }
    let mut problems = c.problems;
    if problems.is_empty() {
        return Ok(def);
    }
    problems.sort_by_key(|p| p.line.unwrap_or(0));
    Err(problems)
}

/// Collects the problems of one parsed definition.
struct Checker<'a> {
    file: &'a str,
    text: &'a str,
    def: &'a Definition,
    stream_lines: Vec<usize>,
    problems: Vec<Problem>,
}

impl Checker<'_> {
    fn report(&mut self, line: Option<usize>, message: String) {
        self.problems.push(Problem { file: self.file.to_string(), line, message });
    }

    /// The line of `needle` within stream `i`, else the stream's first line.
    fn at(&self, i: usize, needle: &str) -> Option<usize> {
        let start = self.stream_lines.get(i).copied().unwrap_or(1);
        line_of(self.text, needle, start).or(Some(start))
    }

    /// Reports every `{settings.x}` / `{secrets.x}` in `template` that is not declared.
    fn check_refs(&mut self, template: &str, line: Option<usize>) {
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            let Some(close) = rest[open..].find('}') else { break };
            let name = &rest[open + 1..open + close];
            if let Some((kind, key)) = name.split_once('.') {
                let declared = match kind {
                    "settings" => self.def.settings.contains_key(key),
                    "secrets" => self.def.secrets.contains_key(key),
                    _ => true,
                };
                if !declared {
                    self.report(line, format!("{{{name}}} is used but [{kind}.{key}] is not declared"));
                }
            }
            rest = &rest[open + 1..];
        }
    }

    /// The name, the streams' presence, and the templates outside streams.
    fn check_header(&mut self) {
        let (def, text) = (self.def, self.text);
        if def.name.is_empty() || !def.name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_') {
            self.report(line_of(text, "name", 1), format!("name {:?} must be snake_case", def.name));
        }
        if def.streams.is_empty() {
            self.report(None, "a connector needs at least one [[stream]]".into());
        }
        self.check_refs(&def.app, line_of(text, "app", 1));
        if let Some(b) = &def.base_url {
            self.check_refs(b, line_of(text, "base_url", 1));
        }
        let auth_line = line_of(text, "[auth]", 1);
        for t in auth_templates(&def.auth) {
            self.check_refs(t, auth_line);
        }
    }

    /// Stream `i`'s request, fan-out, merge and paging settings.
    fn check_stream(&mut self, i: usize, s: &Stream) {
        let line = self.at(i, "name");
        if s.path.is_some() == s.url.is_some() {
            self.report(line, format!("stream {:?} needs exactly one of path or url", s.name));
        }
        if !matches!(s.method.to_ascii_uppercase().as_str(), "GET" | "POST") {
            self.report(self.at(i, "method"), format!("stream {:?}: method must be GET or POST", s.name));
        }
        for t in
            s.path.iter().chain(s.url.iter()).chain(s.query.values()).chain(s.headers.values()).chain(s.body.iter())
        {
            self.check_refs(t, line);
        }
        if let Some(parent) = &s.for_each {
            if !self.def.streams[..i].iter().any(|p| &p.name == parent && p.for_each.is_none()) {
                let message =
                    format!("stream {:?}: for_each names {parent:?}, which is not an earlier top-level stream", s.name);
                self.report(self.at(i, "for_each"), message);
            }
        }
        if let Some(m) = s.merge_on.as_deref() {
            if !matches!(m, "external_id" | "email" | "username") {
                let message = format!("stream {:?}: merge_on must be external_id, email or username", s.name);
                self.report(self.at(i, "merge_on"), message);
            }
        }
        if let Paging::Scim { count: 0 } | Paging::Offset { size: 0, .. } = s.paging {
            self.report(self.at(i, "paging"), format!("stream {:?}: a page size must be at least 1", s.name));
        }
    }

    /// Stream `i`'s record mappings and the lookups they use.
    fn check_mappings(&mut self, i: usize, s: &Stream, kept: &BTreeSet<&str>) {
        let mappings = mappings_of(s);
        if mappings.is_empty()
            && s.keep.is_none()
            && !self.def.streams.iter().any(|c| c.for_each.as_deref() == Some(&s.name))
        {
            let message = format!(
                "stream {:?} emits nothing: map a record ([stream.account] …), keep a lookup, or feed a for_each",
                s.name
            );
            self.report(self.at(i, "name"), message);
        }
        for (kind, m) in mappings {
            if let Err((field, msg)) = check_mapping(kind, m) {
                let header = format!("[stream.{}]", kind.name());
                let line = match field {
                    Some(f) => self.at(i, &header).and_then(|h| line_of(self.text, &format!("{f} "), h)),
                    None => self.at(i, &header),
                };
                self.report(line, format!("stream {:?}: {msg}", s.name));
            }
            for (field, f) in m {
                let Field::Spec(spec) = f else { continue };
                let Some(table) = &spec.lookup else { continue };
                if !kept.contains(table.as_str()) {
                    let message = format!(
                        "stream {:?} field {field:?}: lookup {table:?} is not kept by an earlier stream",
                        s.name
                    );
                    self.report(self.at(i, field), message);
                }
            }
        }
    }
}

fn mappings_of(s: &Stream) -> Vec<(RecordKind, &Mapping)> {
    [
        (RecordKind::Person, s.person.as_ref()),
        (RecordKind::Account, s.account.as_ref()),
        (RecordKind::LicencePool, s.licence_pool.as_ref()),
        (RecordKind::AppGrant, s.app_grant.as_ref()),
        (RecordKind::Activity, s.activity.as_ref()),
    ]
    .into_iter()
    .filter_map(|(k, m)| m.map(|m| (k, m)))
    .collect()
}

fn auth_templates(a: &Auth) -> Vec<&String> {
    match a {
        Auth::None => vec![],
        Auth::Bearer { token } => vec![token],
        Auth::Basic { username, password } => vec![username, password],
        Auth::Header { value, .. } => vec![value],
        Auth::Oauth2ClientCredentials { token_url, client_id, client_secret, .. } => {
            vec![token_url, client_id, client_secret]
        }
        Auth::Oauth2AuthorizationCode { authorize_url, token_url, client_id, client_secret, .. } => {
            let mut v = vec![authorize_url, token_url, client_id];
            v.extend(client_secret.iter());
            v
        }
        Auth::JwtBearer { token_url, key, subject, .. } => {
            let mut v = vec![token_url, key];
            v.extend(subject.iter());
            v
        }
        Auth::TokenExchange { token_url, basic, form, .. } => {
            let mut v = vec![token_url];
            if let Some(b) = basic {
                v.extend(b.iter());
            }
            v.extend(form.values());
            v
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
name = "demo"
title = "Demo"
app = "Demo"
base_url = "https://api.example.com"

[secrets.token]
description = "API token"

[auth]
kind = "bearer"
token = "{secrets.token}"

[[stream]]
name = "users"
path = "/users"
records = "/users"
paging = { style = "cursor", param = "cursor", next = "/next" }

[stream.account]
external_id = "/id"
email = "/email"
"#;

    #[test]
    fn the_builtin_connectors_all_load() {
        let r = Registry::load(None);
        assert!(r.problems().is_empty(), "{:?}", r.problems());
        assert!(r.get("scim").is_some());
    }

    #[test]
    fn problems_name_the_line() {
        assert!(check("demo.toml", GOOD).is_ok());
        let typo = GOOD.replace("email = \"/email\"", "emial = \"/email\"");
        let p = check("demo.toml", &typo).unwrap_err().remove(0);
        assert_eq!((p.line, p.message.contains("emial")), (Some(22), true), "{p}");
        let unknown = GOOD.replace("records = \"/users\"", "records = \"/users\"\nrecrods = 1");
        let p = check("demo.toml", &unknown).unwrap_err().remove(0);
        assert_eq!(p.line, Some(17), "{p}");
        assert!(p.message.contains("recrods"), "{p}");
        let undeclared = GOOD.replace("{secrets.token}", "{secrets.api_key}");
        assert!(check("demo.toml", &undeclared).unwrap_err()[0].message.contains("secrets.api_key"));
        let p = check("demo.toml", "name = \"x\"\ntitle = ").unwrap_err().remove(0);
        assert_eq!(p.line, Some(2), "{p}");
    }

    #[test]
    fn every_problem_in_a_file_is_reported() {
        let bad = GOOD
            .replace("name = \"demo\"", "name = \"Demo-Tool\"")
            .replace("base_url = \"https://api.example.com\"", "base_url = \"https://{settings.host}\"")
            .replace("path = \"/users\"", "path = \"/users\"\nmethod = \"DELETE\"");
        let problems = check("demo.toml", &bad).unwrap_err();
        let messages: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert_eq!(problems.len(), 3, "{messages:#?}");
        assert!(messages[0].starts_with("demo.toml:2: name \"Demo-Tool\""), "{messages:#?}");
        assert!(messages[1].starts_with("demo.toml:5: {settings.host}"), "{messages:#?}");
        assert!(messages[2].contains("method must be GET or POST"), "{messages:#?}");
    }

    #[test]
    fn a_bad_user_file_does_not_stop_the_others() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("broken.toml"), "name = \"broken\"\n[[stream]\n").unwrap();
        std::fs::write(dir.path().join("demo.toml"), GOOD).unwrap();
        std::fs::write(dir.path().join("my-catalog.toml"), "not a connector").unwrap();
        let r = Registry::load(Some(dir.path()));
        assert!(r.get("demo").is_some() && r.get("scim").is_some());
        assert_eq!(r.problems().len(), 1, "{:?}", r.problems());
        assert!(r.problems()[0].file.ends_with("broken.toml"));
        assert_eq!(r.problems()[0].line, Some(2));
    }
}
