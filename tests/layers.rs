//! The map's guard: every module in `src/` imports only from the layers below its own (or from
//! its own layer without a circle), as shared/DESIGN.md's "Layout" says. It reads the source as
//! text: `use crate::…` (grouped or not), `crate::x::` paths and macros, `super::` paths that
//! climb to the crate root, and `stackward::` in the binary.

use crate::once;
use crate::support::Test;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

pub fn tests() -> Vec<Test> {
    vec![
        once!(every_module_imports_only_from_the_layers_below),
        once!(an_upward_import_is_named_with_file_and_line),
        once!(a_circle_within_a_layer_is_named),
        once!(grouped_and_nested_paths_are_read),
    ]
}

/// Lowest first. A module may import from any layer below its own, and from its own layer as
/// long as no circle forms. Modules not written yet are listed so they work when added.
/// `connectors` sits below `context` because the context holds the connector registry and
/// the HTTP client; the engine itself touches no database.
const LAYERS: &[&[&str]] = &[
    &["db", "config", "time"],
    &["audit", "notify"],
    &["inventory", "catalog", "auth"],
    &["connectors"],
    &["context"],
    &["findings", "renewals", "savings"],
    &["sync", "workflow", "actions"],
    &["stack_audit"],
    &["scheduler"],
    &["web", "cli"],
    // The binary: parses the command line and hands it to `cli`.
    &["main"],
];

/// Vendor fakes stand apart: they import nothing of the product, and only the command line
/// (`stackward demo`) may start them.
const FAKES: &str = "fakes";
const MAY_USE_FAKES: &[&str] = &["cli", "main"];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|layer| layer.contains(&module))
}

/// One import of another top-level module.
#[derive(Debug, Clone)]
struct Import {
    file: String,
    line: usize,
    from: String,
    to: String,
}

/// The top-level module a file under `src/` belongs to (`src/sync/store.rs` → `sync`), and
/// how deep the file's own module is (`super::` climbs from there).
fn module_of(rel: &str) -> Option<(String, usize)> {
    let parts: Vec<&str> = rel.split('/').collect();
    match parts.as_slice() {
        ["lib.rs"] => None,
        [file] => Some((file.trim_end_matches(".rs").to_string(), 1)),
        [dir, rest @ ..] => {
            let depth = if rest.last() == Some(&"mod.rs") { rest.len() } else { rest.len() + 1 };
            Some((dir.to_string(), depth))
        }
        [] => None,
    }
}

/// The text with `//` comments blanked (line breaks kept, so offsets still give lines). A `//`
/// right after `:` is a URL in a string, not a comment.
fn strip_comments(text: &str) -> String {
    text.lines()
        .map(|line| {
            let bytes = line.as_bytes();
            let cut = (0..bytes.len().saturating_sub(1))
                .find(|&i| bytes[i] == b'/' && bytes[i + 1] == b'/' && (i == 0 || bytes[i - 1] != b':'));
            match cut {
                Some(i) => &line[..i],
                None => line,
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn ident_at(s: &str) -> &str {
    let end = s.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(s.len());
    &s[..end]
}

/// The first path segment of each item of a `{…}` group that starts at `s` (just after `{`).
fn group_heads(s: &str) -> Vec<(usize, String)> {
    let (mut depth, mut item_start, mut heads) = (0usize, 0usize, Vec::new());
    let take = |at: usize, heads: &mut Vec<(usize, String)>| {
        let item = &s[at..];
        let skip = item.len() - item.trim_start().len();
        let name = ident_at(item.trim_start());
        if !name.is_empty() {
            heads.push((at + skip, name.to_string()));
        }
    };
    for (i, c) in s.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => {
                take(item_start, &mut heads);
                break;
            }
            '}' => depth -= 1,
            ',' if depth == 0 => {
                take(item_start, &mut heads);
                item_start = i + 1;
            }
            _ => {}
        }
    }
    heads
}

/// Every top-level module `text` (the file `rel` under `src/`) reaches, with the line.
fn imports_in(rel: &str, text: &str, macros: &BTreeMap<String, String>) -> Vec<Import> {
    let Some((from, depth)) = module_of(rel) else { return Vec::new() };
    let text = strip_comments(text);
    let line_at = |offset: usize| text[..offset].matches('\n').count() + 1;
    let mut found: Vec<(usize, String)> = Vec::new();
    let root = if from == "main" { "stackward::" } else { "crate::" };
    for (at, _) in text.match_indices(root) {
        let before = text[..at].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
            continue;
        }
        let rest = &text[at + root.len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let base = at + root.len() + 1;
            found.extend(group_heads(group).into_iter().map(|(o, name)| (base + o, name)));
            continue;
        }
        let name = ident_at(rest);
        if rest[name.len()..].starts_with('!') {
            if let Some(module) = macros.get(name) {
                found.push((at, module.clone()));
            }
        } else if !name.is_empty() {
            found.push((at, name.to_string()));
        }
    }
    // `super::` chains that climb to the crate root name a top-level module next. Inline
    // modules make the count inexact, so only names of known modules are taken.
    for (at, _) in text.match_indices("super::") {
        let before = text[..at].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
            continue;
        }
        let mut rest = &text[at..];
        let mut climbs = 0;
        while let Some(r) = rest.strip_prefix("super::") {
            climbs += 1;
            rest = r;
        }
        if climbs != depth {
            continue;
        }
        let name = ident_at(rest);
        if layer_of(name).is_some() || name == FAKES {
            found.push((at, name.to_string()));
        }
    }
    found
        .into_iter()
        .filter(|(_, to)| *to != from && !["self", "super", "crate"].contains(&to.as_str()))
        .map(|(at, to)| Import { file: format!("src/{rel}"), line: line_at(at), from: from.clone(), to })
        .collect()
}

/// `#[macro_export]` macros live at the crate root; an import of one is an import of the
/// module that defines it.
fn exported_macros(files: &[(String, String)]) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (rel, text) in files {
        let Some((module, _)) = module_of(rel) else { continue };
        let mut lines = text.lines().peekable();
        while let Some(line) = lines.next() {
            if line.trim() == "#[macro_export]" {
                if let Some(name) = lines.peek().and_then(|l| l.trim().strip_prefix("macro_rules!")) {
                    out.insert(ident_at(name.trim()).to_string(), module.clone());
                }
            }
        }
    }
    out
}

/// What is wrong with the imports of `files` (path under `src/`, text): one line per problem.
fn violations(files: &[(String, String)]) -> Vec<String> {
    let macros = exported_macros(files);
    let mut problems = Vec::new();
    let mut edges: BTreeMap<String, BTreeMap<String, Import>> = BTreeMap::new();
    let mut unknown = BTreeSet::new();
    for (rel, text) in files {
        let Some((from, _)) = module_of(rel) else { continue };
        if from != FAKES && layer_of(&from).is_none() {
            unknown.insert(from.clone());
        }
        for import in imports_in(rel, text, &macros) {
            edges.entry(from.clone()).or_default().entry(import.to.clone()).or_insert_with(|| import.clone());
            let Import { file, line, from, to } = &import;
            let problem = if from == FAKES {
                Some(format!("the vendor fakes import nothing of the product, but use `{to}`"))
            } else if to == FAKES {
                (!MAY_USE_FAKES.contains(&from.as_str()))
                    .then(|| format!("`{from}` uses the vendor fakes, which only the command line starts"))
            } else {
                match (layer_of(from), layer_of(to)) {
                    (Some(f), Some(t)) if t > f => Some(format!(
                        "`{from}` (layer {f}) imports `{to}` (layer {t}), which is above it: move what it \
                         needs down, below both"
                    )),
                    _ => None,
                }
            };
            if let Some(p) = problem {
                problems.push(format!("{file}:{line}: {p}"));
            }
        }
    }
    for module in unknown {
        problems.push(format!("src/{module}: not in the layer table of tests/layers.rs; add it to its layer"));
    }
    // Upward imports are reported above; what is left to check is a circle within a layer.
    let same_layer = |a: &str, b: &str| layer_of(a).is_some() && layer_of(a) == layer_of(b);
    for (a, targets) in &edges {
        for (b, there) in targets {
            if a < b && same_layer(a, b) {
                if let Some(back) = edges.get(b).and_then(|t| t.get(a)) {
                    problems.push(format!(
                        "`{a}` and `{b}` import each other ({}:{} and {}:{}): one must go below the other",
                        there.file, there.line, back.file, back.line
                    ));
                }
            }
        }
    }
    problems
}

fn read_src(dir: &Path, root: &Path, out: &mut Vec<(String, String)>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).expect("src/ is readable").flatten().collect();
    entries.sort_by_key(|e| e.path());
    for entry in entries {
        let path = entry.path();
        if path.is_dir() {
            read_src(&path, root, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let rel = path.strip_prefix(root).expect("under src/").to_string_lossy().replace('\\', "/");
            out.push((rel, std::fs::read_to_string(&path).expect("source is UTF-8")));
        }
    }
}

async fn every_module_imports_only_from_the_layers_below() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    read_src(&root, &root, &mut files);
    assert!(files.len() > 50, "read only {} files from {}", files.len(), root.display());
    let problems = violations(&files);
    assert!(problems.is_empty(), "imports against the layer order:\n{}", problems.join("\n"));
}

fn file(rel: &str, text: &str) -> (String, String) {
    (rel.to_string(), text.to_string())
}

async fn an_upward_import_is_named_with_file_and_line() {
    let files = [
        file("context.rs", "//! State.\n\nuse crate::db::Db;\nuse crate::scheduler::Heartbeat;\n"),
        file("scheduler/mod.rs", "use crate::context::Context;\n"),
        file("db/mod.rs", "fn f() { let _ = crate::time::now(); }\n"),
        file("fakes/mod.rs", "use crate::auth::Role;\n"),
        file("web/mod.rs", "use crate::fakes::Fake;\n"),
    ];
    let problems = violations(&files);
    assert_eq!(problems.len(), 3, "{problems:#?}");
    assert!(
        problems[0].starts_with("src/context.rs:4: `context` (layer 4) imports `scheduler` (layer 8)"),
        "{problems:#?}"
    );
    assert!(problems[1].starts_with("src/fakes/mod.rs:1: the vendor fakes import nothing"), "{problems:#?}");
    assert!(problems[2].starts_with("src/web/mod.rs:1: `web` uses the vendor fakes"), "{problems:#?}");
}

async fn a_circle_within_a_layer_is_named() {
    let files = [
        file("sync/mod.rs", "pub mod reclaim;\n"),
        file("sync/reclaim.rs", "\nuse crate::workflow::reclaim;\n"),
        file("workflow/mod.rs", "fn f() -> crate::sync::ConnectionId { todo!() }\n"),
        file("findings/mod.rs", "use crate::renewals::dates;\n"),
        file("savings.rs", "use crate::findings::Finding;\n"),
        file("stack_audit/mod.rs", "use crate::savings::Ledger;\n"),
        file("newthing.rs", "use crate::db::Db;\n"),
    ];
    let problems = violations(&files);
    assert_eq!(problems.len(), 2, "{problems:#?}");
    assert!(problems[0].contains("src/newthing: not in the layer table"), "{problems:#?}");
    assert!(
        problems[1]
            .contains("`sync` and `workflow` import each other (src/sync/reclaim.rs:2 and src/workflow/mod.rs:1)"),
        "{problems:#?}"
    );
}

async fn grouped_and_nested_paths_are_read() {
    let files = [
        file("db/id.rs", "#[macro_export]\nmacro_rules! id_type { () => {} }\n"),
        file("inventory/mod.rs", "use crate::{\n    db::Conn,\n    sync::{self, X},\n};\ncrate::id_type!(A);\n"),
        file("audit/log.rs", "// crate::web is only named in a comment\nuse super::super::workflow::Request;\n"),
        file("main.rs", "use stackward::web;\n"),
        file(
            "config.rs",
            "const U: &str = \"https://example.com\"; // crate::web\nfn f() { super::scheduler::run(); }\n",
        ),
    ];
    let problems = violations(&files);
    assert_eq!(problems.len(), 3, "{problems:#?}");
    assert!(problems[0].starts_with("src/inventory/mod.rs:3: `inventory` (layer 2) imports `sync`"), "{problems:#?}");
    assert!(problems[1].starts_with("src/audit/log.rs:2: `audit` (layer 1) imports `workflow`"), "{problems:#?}");
    assert!(problems[2].starts_with("src/config.rs:2: `config` (layer 0) imports `scheduler`"), "{problems:#?}");
}
