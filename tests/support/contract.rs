//! The API contract as a test: every response a test receives through `TestApp` is checked
//! against the OpenAPI document the app serves — the route and method must be documented, the
//! status must be listed for that operation, the content type must be one it names, and a
//! JSON body must match its schema. Objects are checked closed (no undocumented fields); a
//! flattened body (`allOf` of objects) is closed over all its parts' fields together.

use jsonschema::Validator;
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// Paths served outside the document: the document itself.
const UNDOCUMENTED: &[&str] = &["/api/v1/openapi.json"];

/// (template, method, status, content type): one documented response.
type ResponseKey = (String, String, u16, String);

/// The document and the validators built from it so far (one per documented response).
pub struct Contract {
    doc: Value,
    /// Each response's validator, once built (None: nothing to check, e.g. a text body).
    validators: Mutex<HashMap<ResponseKey, Option<Arc<Validator>>>>,
}

/// One response, as the contract sees it.
pub struct Observed<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub status: u16,
    pub content_type: Option<&'a str>,
    pub body: &'a str,
}

static CONTRACT: OnceLock<Contract> = OnceLock::new();

/// The contract loaded by an earlier test, if any.
pub fn loaded() -> Option<&'static Contract> {
    CONTRACT.get()
}

/// Keeps `doc` as the contract of every app in this test binary (the first one loaded wins).
pub fn load(doc: Value) -> &'static Contract {
    CONTRACT.get_or_init(|| Contract::new(doc))
}

impl Contract {
    /// A contract over `doc`, an OpenAPI 3.1 document.
    pub fn new(doc: Value) -> Self {
        Contract { doc, validators: Mutex::new(HashMap::new()) }
    }

    /// The document's path template matching `path` (literal segments win over parameters).
    pub fn route(&self, path: &str) -> Option<String> {
        let segments: Vec<&str> = path.split('/').collect();
        let mut best: Option<(usize, &String)> = None;
        for template in self.doc["paths"].as_object()?.keys() {
            let parts: Vec<&str> = template.split('/').collect();
            if parts.len() != segments.len() {
                continue;
            }
            let mut literal = 0;
            let fits = parts.iter().zip(&segments).all(|(t, s)| {
                if t.starts_with('{') && t.ends_with('}') {
                    !s.is_empty()
                } else {
                    literal += 1;
                    t == s
                }
            });
            if fits && best.is_none_or(|(n, _)| literal > n) {
                best = Some((literal, template));
            }
        }
        best.map(|(_, t)| t.clone())
    }

    /// Checks one response; the error says what in the document it breaks.
    pub fn check(&self, r: &Observed<'_>) -> Result<(), String> {
        let path = r.path.split('?').next().unwrap_or_default();
        if UNDOCUMENTED.contains(&path) {
            return Ok(());
        }
        let shown = format!("{} {} -> {}", r.method, path, r.status);
        let Some(template) = self.route(path) else {
            // The catch-all answers unknown routes with the API's 404 error body.
            if r.status == 404 {
                return self.check_body(&shown, &json!({"$ref": "#/components/schemas/ErrorBody"}), r.body);
            }
            return Err(format!("{shown}: no route in the OpenAPI document matches {path}"));
        };
        let method = r.method.to_ascii_lowercase();
        let Some(op) = self.doc["paths"][&template].get(&method) else {
            return Err(format!("{shown}: the document has no {} operation on {template}", r.method));
        };
        let responses = &op["responses"];
        let Some(response) = responses.get(r.status.to_string()).or_else(|| responses.get("default")) else {
            let listed: Vec<&String> = responses.as_object().map(|m| m.keys().collect()).unwrap_or_default();
            return Err(format!(
                "{shown}: status {} is not documented for {} {template} (documented: {listed:?})",
                r.status, r.method
            ));
        };
        let content_type = r.content_type.map(|c| c.split(';').next().unwrap_or_default().trim().to_ascii_lowercase());
        let Some(content) = response.get("content").and_then(Value::as_object).filter(|c| !c.is_empty()) else {
            if r.body.is_empty() {
                return Ok(());
            }
            return Err(format!("{shown}: the document says no body, but one came ({content_type:?})"));
        };
        let Some(content_type) = content_type else {
            return Err(format!("{shown}: a body was documented but the response has no content type"));
        };
        let Some(media) = content.get(&content_type) else {
            let listed: Vec<&String> = content.keys().collect();
            return Err(format!("{shown}: content type {content_type} is not documented (documented: {listed:?})"));
        };
        let key = (template.clone(), method, r.status, content_type.clone());
        let validator = {
            let mut cache = self.validators.lock().unwrap_or_else(|e| e.into_inner());
            match cache.get(&key) {
                Some(v) => v.clone(),
                None => {
                    let v = match media.get("schema") {
                        Some(schema) if content_type.ends_with("json") => Some(Arc::new(self.compile(schema)?)),
                        _ => None,
                    };
                    cache.insert(key, v.clone());
                    v
                }
            }
        };
        match validator {
            Some(v) => validate(&shown, &v, r.body),
            None => Ok(()),
        }
    }

    fn check_body(&self, shown: &str, schema: &Value, body: &str) -> Result<(), String> {
        validate(shown, &self.compile(schema)?, body)
    }

    /// A validator for `schema` with the document's components beside it, objects closed.
    fn compile(&self, schema: &Value) -> Result<Validator, String> {
        let schemas = &self.doc["components"]["schemas"];
        let mut root = closed(merged(schema.clone(), schemas));
        let components = closed(merged(self.doc["components"].clone(), schemas));
        if let Some(obj) = root.as_object_mut() {
            obj.insert("components".into(), components);
        }
        jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .build(&root)
            .map_err(|e| format!("the OpenAPI document has a schema that does not compile: {e}"))
    }
}

fn validate(shown: &str, v: &Validator, body: &str) -> Result<(), String> {
    let instance: Value =
        serde_json::from_str(body).map_err(|e| format!("{shown}: the body is not the JSON documented: {e}: {body}"))?;
    let errors: Vec<String> = v.iter_errors(&instance).map(|e| format!("at {}: {e}", e.instance_path())).collect();
    if errors.is_empty() {
        return Ok(());
    }
    Err(format!("{shown}: the body does not match the document:\n  {}\nbody: {body}", errors.join("\n  ")))
}

/// Rewrites every `allOf` of plain object schemas (what `#[serde(flatten)]` documents) as the one
/// object it describes, so that closing it makes all parts' properties together the closed set:
/// closing each part alone would refuse the other parts' fields. An `allOf` with any other kind
/// of part stays as it is, and its closed parts then refuse what they do not list.
fn merged(mut schema: Value, schemas: &Value) -> Value {
    fn walk(v: &mut Value, schemas: &Value, depth: usize) {
        match v {
            Value::Object(map) => {
                if let Some(object) = map.get("allOf").and_then(|parts| merge(parts, schemas, depth)) {
                    map.remove("allOf");
                    map.extend(object);
                }
                for (_, child) in map.iter_mut() {
                    walk(child, schemas, depth);
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|i| walk(i, schemas, depth)),
            _ => {}
        }
    }
    /// The parts as one object schema, or None when a part is not a plain object schema.
    fn merge(parts: &Value, schemas: &Value, depth: usize) -> Option<Map<String, Value>> {
        const PLAIN: &[&str] = &["type", "properties", "required", "description", "title"];
        let mut properties = Map::new();
        let mut required: Vec<Value> = Vec::new();
        for part in parts.as_array()? {
            let mut part = match part.get("$ref").and_then(Value::as_str) {
                Some(r) => schemas.get(r.strip_prefix("#/components/schemas/")?)?.clone(),
                None => part.clone(),
            };
            // A part may itself be a flattened body; a cycle would never end, so stop early.
            if depth < 8 {
                walk(&mut part, schemas, depth + 1);
            }
            let part = part.as_object()?;
            let is_object = part.get("type").and_then(Value::as_str) == Some("object");
            if !is_object || part.keys().any(|k| !PLAIN.contains(&k.as_str())) {
                return None;
            }
            for (name, property) in part.get("properties").and_then(Value::as_object).into_iter().flatten() {
                if properties.insert(name.clone(), property.clone()).is_some() {
                    return None;
                }
            }
            required.extend(part.get("required").and_then(Value::as_array).into_iter().flatten().cloned());
        }
        let mut object = Map::new();
        object.insert("type".into(), json!("object"));
        object.insert("properties".into(), Value::Object(properties));
        object.insert("required".into(), Value::Array(required));
        Some(object)
    }
    walk(&mut schema, schemas, 0);
    schema
}

/// Closes every object schema that lists its properties: a field sent but not documented fails.
fn closed(mut schema: Value) -> Value {
    fn walk(v: &mut Value) {
        match v {
            Value::Object(map) => {
                close(map);
                for (_, child) in map.iter_mut() {
                    walk(child);
                }
            }
            Value::Array(items) => items.iter_mut().for_each(walk),
            _ => {}
        }
    }
    fn close(map: &mut Map<String, Value>) {
        if map.contains_key("properties") && !map.contains_key("additionalProperties") {
            map.insert("additionalProperties".into(), Value::Bool(false));
        }
    }
    walk(&mut schema);
    schema
}
