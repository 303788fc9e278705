//! Reading canonical fields out of a vendor's JSON: pointers (with `*` over arrays, `^/` for the
//! fan-out parent, `@/` for an exploded element), typed values, maps, lookups and conditions.
//! A missing optional value is None; a malformed one is a warning; a missing or malformed
//! required one fails the record with the field named.

use super::definition::{Field, FieldSpec, Mapping, Pick, ValueKind};
use super::records::{Record, RecordKind, Target, Val};
use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};

/// Tables remembered with `keep`, by name.
pub type Lookups = HashMap<String, HashMap<String, String>>;

/// Where pointers read from.
#[derive(Clone, Copy)]
pub struct Scope<'a> {
    /// The record.
    pub record: &'a Value,
    /// The fan-out parent record.
    pub parent: Option<&'a Value>,
    /// The exploded element.
    pub element: Option<&'a Value>,
    /// Remembered tables.
    pub lookups: &'a Lookups,
}

/// Why a field could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("field {field}: {message}")]
pub struct FieldError {
    /// The canonical field.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

fn field_error(field: &str, message: impl Into<String>) -> FieldError {
    FieldError { field: field.to_string(), message: message.into() }
}

/// Values at a pointer; `*` steps into every element of an array.
pub fn resolve<'a>(scope: &Scope<'a>, pointer: &str) -> Vec<&'a Value> {
    let (root, rest) = if let Some(r) = pointer.strip_prefix('^') {
        (scope.parent, r)
    } else if let Some(r) = pointer.strip_prefix('@') {
        (scope.element, r)
    } else {
        (Some(scope.record), pointer)
    };
    let Some(root) = root else { return Vec::new() };
    let mut current = vec![root];
    for part in rest.split('/').skip(1) {
        let part = part.replace("~1", "/").replace("~0", "~");
        let mut next = Vec::new();
        for v in current {
            match (part.as_str(), v) {
                ("*", Value::Array(items)) => next.extend(items.iter()),
                (key, Value::Object(m)) => next.extend(m.get(key)),
                (idx, Value::Array(items)) => next.extend(idx.parse::<usize>().ok().and_then(|i| items.get(i))),
                _ => {}
            }
        }
        current = next;
    }
    current.into_iter().filter(|v| !v.is_null()).collect()
}

/// A JSON value as text ("true", "2", "abc"); objects and arrays as JSON.
pub fn as_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn parse_time(field: &str, v: &Value, kind: ValueKind, format: Option<&str>) -> Result<NaiveDateTime, FieldError> {
    let bad = || field_error(field, format!("{v} is not a time"));
    let epoch = |n: i64, ms: bool| {
        let t = if ms { Utc.timestamp_millis_opt(n).single() } else { Utc.timestamp_opt(n, 0).single() };
        t.map(|t| t.naive_utc()).ok_or_else(bad)
    };
    let number = || match v {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Value::String(s) => s.trim().parse::<f64>().ok().map(|f| f as i64),
        _ => None,
    };
    match kind {
        ValueKind::EpochS => epoch(number().ok_or_else(bad)?, false),
        ValueKind::EpochMs => epoch(number().ok_or_else(bad)?, true),
        _ => {
            let Value::String(s) = v else { return Err(bad()) };
            let s = s.trim();
            if let Some(f) = format {
                if let Ok(t) = DateTime::parse_from_str(s, f) {
                    return Ok(t.with_timezone(&Utc).naive_utc());
                }
                return NaiveDateTime::parse_from_str(s, f)
                    .map_err(|_| field_error(field, format!("{s:?} does not match {f:?}")));
            }
            if let Ok(t) = DateTime::parse_from_rfc3339(s) {
                return Ok(t.with_timezone(&Utc).naive_utc());
            }
            // Salesforce writes offsets without a colon: 2026-11-20T10:15:30.000+0000.
            if let Ok(t) = DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z") {
                return Ok(t.with_timezone(&Utc).naive_utc());
            }
            if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
                return d.and_hms_opt(0, 0, 0).ok_or_else(bad);
            }
            Err(field_error(field, format!("{s:?} is not an RFC 3339 time or a date")))
        }
    }
}

fn convert(field: &str, target: Target, spec: &FieldSpec, v: &Value, lookups: &Lookups) -> Result<Val, FieldError> {
    let kind = spec.kind.unwrap_or(match target {
        Target::Int => ValueKind::Int,
        Target::Bool => ValueKind::Bool,
        Target::Time => ValueKind::Datetime,
        _ => ValueKind::String,
    });
    match target {
        Target::Time => parse_time(field, v, kind, spec.format.as_deref()).map(Val::Time),
        Target::Int => match v {
            Value::Number(n) => n.as_i64().map(Val::Int),
            Value::String(s) => s.trim().parse().ok().map(Val::Int),
            _ => None,
        }
        .ok_or_else(|| field_error(field, format!("{v} is not a whole number"))),
        Target::Bool => match v {
            Value::Bool(b) => Some(Val::Bool(*b)),
            Value::String(s) if s.eq_ignore_ascii_case("true") => Some(Val::Bool(true)),
            Value::String(s) if s.eq_ignore_ascii_case("false") => Some(Val::Bool(false)),
            Value::Number(n) => n.as_i64().map(|n| Val::Bool(n != 0)),
            _ => None,
        }
        .ok_or_else(|| field_error(field, format!("{v} is not true or false"))),
        Target::Text | Target::PersonStatus | Target::AccountStatus => {
            let mut text = as_text(v);
            if let Some(table) = &spec.lookup {
                if let Some(found) = lookups.get(table).and_then(|t| t.get(&text)) {
                    text = found.clone();
                }
            }
            if let Some(allowed) = target.allowed() {
                if !allowed.contains(&text.as_str()) {
                    return Err(field_error(field, format!("{text:?} is not one of {}", allowed.join(", "))));
                }
            }
            Ok(Val::Text(text))
        }
    }
}

fn render_template(scope: &Scope, template: &str) -> Option<String> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('}') else { break };
        let pointer = &rest[open + 1..open + close];
        if let Some(v) = resolve(scope, pointer).first() {
            out.push_str(&as_text(v));
        }
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    let out = out.split_whitespace().collect::<Vec<_>>().join(" ");
    (!out.is_empty()).then_some(out)
}

/// Reads one field; Ok(None) when absent.
pub fn read(field: &str, target: Target, f: &Field, scope: &Scope) -> Result<Option<Val>, FieldError> {
    let spec;
    let spec = match f {
        Field::Pointer(p) => {
            spec = FieldSpec { path: Some(super::definition::OneOrMany::One(p.clone())), ..Default::default() };
            &spec
        }
        Field::Spec(s) => s.as_ref(),
    };
    // `equals`/`non_empty` make a test of the value, read as a boolean field.
    if spec.equals.is_some() || spec.non_empty.is_some() {
        let v = Value::Bool(condition(f, scope));
        return convert(field, target, spec, &v, scope.lookups).map(Some);
    }
    if let Some(constant) = &spec.value {
        return convert(field, target, spec, constant, scope.lookups).map(Some);
    }
    let mut raw: Vec<Value> = match (&spec.template, &spec.path) {
        (Some(t), _) => render_template(scope, t).map(Value::String).into_iter().collect(),
        (None, Some(paths)) => paths.all().iter().flat_map(|p| resolve(scope, p)).cloned().collect(),
        (None, None) => Vec::new(),
    };
    raw.retain(|v| !spec.never.contains(&as_text(v)) && v.as_str() != Some(""));
    if let Some(map) = &spec.map {
        let mut mapped = Vec::new();
        for v in raw {
            match map.get(&as_text(&v)).or(spec.default.as_ref()) {
                Some(m) => mapped.push(m.clone()),
                None => {
                    let keys: Vec<&str> = map.keys().map(String::as_str).collect();
                    return Err(field_error(field, format!("{} is not one of {}", as_text(&v), keys.join(", "))));
                }
            }
        }
        raw = mapped;
    }
    if raw.is_empty() {
        return match &spec.default {
            Some(d) => convert(field, target, spec, d, scope.lookups).map(Some),
            None => Ok(None),
        };
    }
    let values: Vec<Val> =
        raw.iter().map(|v| convert(field, target, spec, v, scope.lookups)).collect::<Result<_, _>>()?;
    let picked = match spec.pick.unwrap_or(Pick::First) {
        Pick::First => values.into_iter().next(),
        Pick::Max => values.into_iter().reduce(|a, b| if order(&a, &b) { b } else { a }),
        Pick::Min => values.into_iter().reduce(|a, b| if order(&a, &b) { a } else { b }),
        Pick::Join => {
            let parts: Vec<String> = values
                .iter()
                .map(|v| match v {
                    Val::Text(s) => s.clone(),
                    Val::Int(i) => i.to_string(),
                    Val::Bool(b) => b.to_string(),
                    Val::Time(t) => crate::time::format(t),
                })
                .collect();
            Some(Val::Text(parts.join(",")))
        }
    };
    Ok(picked)
}

/// True when `a` < `b` for comparable values.
fn order(a: &Val, b: &Val) -> bool {
    match (a, b) {
        (Val::Time(x), Val::Time(y)) => x < y,
        (Val::Int(x), Val::Int(y)) => x < y,
        (Val::Text(x), Val::Text(y)) => x < y,
        _ => false,
    }
}

fn condition(f: &Field, scope: &Scope) -> bool {
    let (paths, equals, non_empty) = match f {
        Field::Pointer(p) => (vec![p.as_str()], None, None),
        Field::Spec(s) => (s.path.as_ref().map(|p| p.all()).unwrap_or_default(), s.equals.as_ref(), s.non_empty),
    };
    let values: Vec<&Value> = paths.iter().flat_map(|p| resolve(scope, p)).collect();
    if let Some(want) = equals {
        return values.iter().any(|v| *v == want || as_text(v) == as_text(want));
    }
    if non_empty == Some(true) {
        return values.iter().any(|v| match v {
            Value::Array(a) => !a.is_empty(),
            Value::Object(o) => !o.is_empty(),
            Value::String(s) => !s.is_empty(),
            _ => true,
        });
    }
    values.iter().any(|v| !matches!(v, Value::Bool(false)) && v.as_str() != Some("") && v.as_i64() != Some(0))
}

/// Maps one vendor record to a canonical one. Ok(None) when `when`/`unless` skip it. Unreadable
/// optional fields are left out and described in `warnings`.
pub fn map_record(
    kind: RecordKind,
    mapping: &Mapping,
    scope: &Scope,
    warnings: &mut Vec<FieldError>,
) -> Result<Option<Record>, FieldError> {
    if mapping.get("when").is_some_and(|f| !condition(f, scope))
        || mapping.get("unless").is_some_and(|f| condition(f, scope))
    {
        return Ok(None);
    }
    let mut fields = BTreeMap::new();
    for (name, target, required) in kind.fields() {
        let value = match mapping.get(*name) {
            Some(f) => match read(name, *target, f, scope) {
                Ok(v) => v,
                Err(e) if !*required => {
                    warnings.push(e);
                    None
                }
                Err(e) => return Err(e),
            },
            None => None,
        };
        match value {
            Some(v) => {
                fields.insert(*name, v);
            }
            None if *required => return Err(field_error(name, "is missing")),
            None => {}
        }
    }
    Ok(Some(Record { kind, fields }))
}

/// Checks that a mapping names only fields its kind has, and every required one.
pub fn check_mapping(kind: RecordKind, mapping: &Mapping) -> Result<(), (Option<String>, String)> {
    let known: Vec<&str> = kind.fields().iter().map(|(n, _, _)| *n).collect();
    for name in mapping.keys() {
        if name != "when" && name != "unless" && !known.contains(&name.as_str()) {
            return Err((
                Some(name.clone()),
                format!("[stream.{}] has no field {name:?}; it has: {}", kind.name(), known.join(", ")),
            ));
        }
    }
    for (name, _, required) in kind.fields() {
        if *required && !mapping.contains_key(*name) {
            return Err((None, format!("[stream.{}] must map {name:?}", kind.name())));
        }
    }
    for (name, f) in mapping {
        if let Field::Spec(s) = f {
            let sources = [s.path.is_some(), s.template.is_some(), s.value.is_some()].iter().filter(|b| **b).count();
            if sources != 1 {
                return Err((
                    Some(name.clone()),
                    format!("[stream.{}] field {name:?} needs exactly one of path, template or value", kind.name()),
                ));
            }
        }
        let pointers: Vec<&str> = match f {
            Field::Pointer(p) => vec![p.as_str()],
            Field::Spec(s) => s.path.as_ref().map(|p| p.all()).unwrap_or_default(),
        };
        for p in pointers {
            let body = p.trim_start_matches(['^', '@']);
            if !body.is_empty() && !body.starts_with('/') {
                return Err((
                    Some(name.clone()),
                    format!("[stream.{}] field {name:?}: {p:?} is not a JSON pointer (start with /)", kind.name()),
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn mapping(toml_text: &str) -> Mapping {
        toml::from_str(toml_text).unwrap()
    }

    fn run(kind: RecordKind, m: &str, record: Value) -> (Result<Option<Record>, FieldError>, Vec<FieldError>) {
        let lookups = Lookups::from([("skus".to_string(), HashMap::from([("sku-1".to_string(), "E5".to_string())]))]);
        let scope = Scope { record: &record, parent: None, element: None, lookups: &lookups };
        let mut warnings = Vec::new();
        (map_record(kind, &mapping(m), &scope, &mut warnings), warnings)
    }

    #[test]
    fn typed_values_maps_picks_and_lookups() {
        let m = r#"
            external_id = "/id"
            email = "/profile/email"
            name = { template = "{/profile/first} {/profile/last}" }
            status = { path = "/status", map = { ACTIVE = "active", SUSPENDED = "suspended" }, default = "active" }
            billable = { path = "/licences", non_empty = true }
            last_active_at = { path = ["/a", "/b"], pick = "max" }
            created_at = { path = "/created", type = "epoch_s" }
            licence = { path = "/licences/*/sku", lookup = "skus", pick = "join" }
            when = { path = "/is_bot", equals = false }
        "#;
        let record = json!({"id": 42, "profile": {"email": "a@x.com", "first": "Ada", "last": "Ng"},
            "status": "LOCKED", "a": "2026-01-01T00:00:00Z", "b": "2026-03-01T10:00:00.000+0000",
            "created": 1700000000, "licences": [{"sku": "sku-1"}, {"sku": "other"}], "is_bot": false});
        let (got, warnings) = run(RecordKind::Account, m, record.clone());
        let r = got.unwrap().unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(r.text("external_id"), Some("42"));
        assert_eq!(r.text("name"), Some("Ada Ng"));
        assert_eq!(r.text("status"), Some("active"), "unmapped status takes the default");
        assert_eq!(r.bool("billable"), Some(true));
        assert_eq!(r.time("last_active_at").map(|t| crate::time::format(&t)), Some("2026-03-01T10:00:00Z".into()));
        assert_eq!(r.time("created_at").map(|t| crate::time::format(&t)), Some("2023-11-14T22:13:20Z".into()));
        assert_eq!(r.text("licence"), Some("E5,other"));
        let mut bot = record;
        bot["is_bot"] = json!(true);
        assert_eq!(run(RecordKind::Account, m, bot).0.unwrap(), None, "`when` skips bots");
    }

    #[test]
    fn never_values_missing_and_malformed_fields() {
        let m = r#"
            external_id = "/id"
            last_active_at = { path = "/login", never = ["1970-01-01T00:00:00.000Z"] }
        "#;
        let (r, _) = run(RecordKind::Account, m, json!({"id": "u1", "login": "1970-01-01T00:00:00.000Z"}));
        assert_eq!(r.unwrap().unwrap().time("last_active_at"), None, "epoch zero means never");
        let (r, warnings) = run(RecordKind::Account, m, json!({"id": "u1", "login": "yesterday"}));
        assert_eq!(r.unwrap().unwrap().time("last_active_at"), None);
        assert_eq!(warnings[0].field, "last_active_at", "a bad optional value is a warning");
        let (r, _) = run(RecordKind::Account, m, json!({"login": "2026-01-01T00:00:00Z"}));
        assert_eq!(r.unwrap_err(), field_error("external_id", "is missing"));
        let (r, _) = run(RecordKind::Person, "email = \"/e\"\nstatus = \"/s\"", json!({"e": "a@x.com", "s": "gone"}));
        assert_eq!(r.unwrap().unwrap().text("status"), None);
        assert!(check_mapping(RecordKind::Account, &mapping("external_id = \"/id\"\nemial = \"/e\""))
            .unwrap_err()
            .1
            .contains("emial"));
        assert!(check_mapping(RecordKind::Account, &mapping("email = \"/e\"")).unwrap_err().1.contains("external_id"));
        assert!(check_mapping(RecordKind::Account, &mapping("external_id = \"id\""))
            .unwrap_err()
            .1
            .contains("pointer"));
    }
}
