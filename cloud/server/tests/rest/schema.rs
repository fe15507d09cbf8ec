//! `spec/console-api.openapi.yaml`, read as JSON: which operation a
//! request is, and a check of an answer against the schema the document
//! gives for its status (the subset of OpenAPI 3.0 schemas the document
//! uses: `$ref`, `allOf`, `type`, `nullable`, `enum`, `required`,
//! `properties`, `additionalProperties`, `items`, `maxItems`, `format:
//! date-time`).
//!
//! Objects are checked strictly: a member the schema does not list is an
//! error unless the schema has `additionalProperties`, so that the
//! document names every field the server sends.

use serde_json::Value;

/// The document.
pub fn document() -> Value {
    let text = std::fs::read_to_string(document_path()).expect("the console OpenAPI document");
    serde_yaml_ng::from_str(&text).expect("the console OpenAPI document is valid YAML")
}

pub fn document_path() -> String {
    concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../spec/console-api.openapi.yaml"
    )
    .to_owned()
}

/// Every (method, path template) the document describes, methods upper
/// case, sorted.
pub fn operations(doc: &Value) -> Vec<(String, String)> {
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, _) in item.as_object().expect("path item") {
            if matches!(
                method.as_str(),
                "get" | "put" | "post" | "delete" | "patch" | "head" | "options"
            ) {
                ops.push((method.to_uppercase(), path.clone()));
            }
        }
    }
    ops.sort();
    ops
}

/// The path template of the document that `path` (without its query) is,
/// for `method`: literal segments win over parameters, segment by segment.
pub fn template_of(doc: &Value, method: &str, path: &str) -> Option<String> {
    let path = path.split('?').next().unwrap_or(path);
    let segs: Vec<&str> = path.split('/').collect();
    let mut best: Option<(Vec<bool>, String)> = None;
    for (m, t) in operations(doc) {
        if m != method {
            continue;
        }
        let tsegs: Vec<&str> = t.split('/').collect();
        if tsegs.len() != segs.len() {
            continue;
        }
        let mut literal = Vec::new();
        let mut fits = true;
        for (a, b) in tsegs.iter().zip(&segs) {
            if a.starts_with('{') && a.ends_with('}') {
                literal.push(false);
            } else if a == b {
                literal.push(true);
            } else {
                fits = false;
                break;
            }
        }
        if fits && best.as_ref().is_none_or(|(l, _)| literal > *l) {
            best = Some((literal, t));
        }
    }
    best.map(|(_, t)| t)
}

/// `#/components/...` resolved.
fn resolve<'a>(doc: &'a Value, v: &'a Value) -> &'a Value {
    let mut v = v;
    for _ in 0..16 {
        let Some(r) = v.get("$ref").and_then(Value::as_str) else {
            return v;
        };
        let ptr = r
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("external $ref {r}"));
        v = doc
            .pointer(ptr)
            .unwrap_or_else(|| panic!("dangling $ref {r}"));
    }
    panic!("$ref loop");
}

/// The operation object of (method, template).
pub fn operation<'a>(doc: &'a Value, method: &str, template: &str) -> &'a Value {
    let op = &doc["paths"][template][method.to_lowercase()];
    assert!(op.is_object(), "{method} {template} is not documented");
    op
}

/// The response object the document gives for `status` (or `default`).
pub fn response<'a>(doc: &'a Value, op: &'a Value, status: u16) -> Option<&'a Value> {
    let rs = &op["responses"];
    let exact = &rs[status.to_string()];
    let class = &rs[format!("{}XX", status / 100)];
    let r = if exact.is_object() {
        exact
    } else if class.is_object() {
        class
    } else if rs["default"].is_object() {
        &rs["default"]
    } else {
        return None;
    };
    Some(resolve(doc, r))
}

/// Problems of `v` against `schema`, each with its JSON path.
pub fn check(doc: &Value, schema: &Value, v: &Value) -> Vec<String> {
    let mut out = Vec::new();
    check_at(doc, schema, v, "$", &mut out);
    out
}

fn check_at(doc: &Value, schema: &Value, v: &Value, at: &str, out: &mut Vec<String>) {
    if v.is_null() && schema.get("nullable").and_then(Value::as_bool) == Some(true) {
        return;
    }
    let s = resolve(doc, schema);
    if let Some(all) = s.get("allOf").and_then(Value::as_array) {
        // Members listed by any part are known to the whole.
        let mut merged = serde_json::Map::new();
        let mut required = Vec::new();
        for part in all {
            let p = resolve(doc, part);
            if let Some(props) = p.get("properties").and_then(Value::as_object) {
                merged.extend(props.clone());
            }
            if let Some(r) = p.get("required").and_then(Value::as_array) {
                required.extend(r.clone());
            }
            if p.get("properties").is_none() {
                check_at(doc, p, v, at, out);
            }
        }
        if !merged.is_empty() {
            let whole = serde_json::json!({
                "type": "object", "properties": merged, "required": required,
            });
            check_at(doc, &whole, v, at, out);
        }
        return;
    }
    if v.is_null() {
        if s.get("type").is_some() {
            out.push(format!("{at}: null, but not nullable"));
        }
        return;
    }
    if let Some(e) = s.get("enum").and_then(Value::as_array) {
        if !e.contains(v) {
            out.push(format!("{at}: {v} is not one of {e:?}"));
        }
    }
    match s.get("type").and_then(Value::as_str) {
        None => {}
        Some("object") => {
            let Some(obj) = v.as_object() else {
                out.push(format!("{at}: {v} is not an object"));
                return;
            };
            for r in s
                .get("required")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let name = r.as_str().unwrap_or_default();
                if !obj.contains_key(name) {
                    out.push(format!("{at}: required member {name} is missing"));
                }
            }
            let props = s.get("properties").and_then(Value::as_object);
            let extra = s.get("additionalProperties");
            for (k, val) in obj {
                match props.and_then(|p| p.get(k)) {
                    Some(ps) => check_at(doc, ps, val, &format!("{at}.{k}"), out),
                    None => match extra {
                        Some(Value::Bool(true)) => {}
                        Some(x) if x.is_object() => {
                            check_at(doc, x, val, &format!("{at}.{k}"), out)
                        }
                        _ => out.push(format!("{at}: member {k} is not documented")),
                    },
                }
            }
        }
        Some("array") => {
            let Some(items) = v.as_array() else {
                out.push(format!("{at}: {v} is not an array"));
                return;
            };
            if let Some(max) = s.get("maxItems").and_then(Value::as_u64) {
                if items.len() as u64 > max {
                    out.push(format!("{at}: {} items, at most {max}", items.len()));
                }
            }
            if let Some(is) = s.get("items") {
                for (i, x) in items.iter().enumerate() {
                    check_at(doc, is, x, &format!("{at}[{i}]"), out);
                }
            }
        }
        Some("string") => match v.as_str() {
            None => out.push(format!("{at}: {v} is not a string")),
            Some(text) => {
                if s.get("format").and_then(Value::as_str) == Some("date-time") && !is_time(text) {
                    out.push(format!("{at}: {text:?} is not RFC 3339 UTC seconds"));
                }
            }
        },
        Some("integer") if !(v.is_i64() || v.is_u64()) => {
            out.push(format!("{at}: {v} is not an integer"));
        }
        Some("number") if !v.is_number() => out.push(format!("{at}: {v} is not a number")),
        Some("boolean") if !v.is_boolean() => out.push(format!("{at}: {v} is not a boolean")),
        Some("integer" | "number" | "boolean") => {}
        Some(other) => out.push(format!("{at}: the document uses type {other}")),
    }
}

/// `2026-11-29T02:10:00Z`.
pub fn is_time(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 20
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b'T',
            13 | 16 => *c == b':',
            19 => *c == b'Z',
            _ => c.is_ascii_digit(),
        })
}

/// The schema of a component by name.
pub fn component<'a>(doc: &'a Value, name: &str) -> &'a Value {
    let s = &doc["components"]["schemas"][name];
    assert!(s.is_object(), "schema {name}");
    s
}
