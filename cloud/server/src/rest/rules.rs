//! Rules (list, edit with the checker's diagnostics, states) and rule
//! packs (versions, which nodes run them, diffs, deploying now).

use std::collections::BTreeMap;

use http::StatusCode;
use rampart_dsl::diag::Diagnostics;
use rampart_dsl::pack::{Pack, PackError};
use rampart_store::entity::{RuleOrigin, RuleState};
use serde::Deserialize;
use serde_json::{json, Value};
use tracing::{info, warn};

use super::views::{parse, rule_json, time};
use super::{created, no_content, not_found, ok, Call, Cx};
use crate::api::{json_response, ApiError, ApiResult};
use crate::packs::{rule_file, BuildOutcome};
use crate::Error;

/// A cloud error as an API answer: a refused rule is 422 with the
/// compiler's diagnostics.
pub(crate) fn cloud_error(e: Error) -> ApiError {
    match e {
        Error::Rule {
            rule,
            summary,
            diagnostics,
        } => invalid_rule(
            format!("rule {rule:?} is refused: {summary}"),
            vec![json!({"line": null, "column": null, "severity": "error",
                        "message": summary, "rendered": diagnostics})],
        ),
        Error::UnknownApplication(a) => not_found(format!("no application {a:?}")),
        Error::Invalid(m) => ApiError::bad_request(m),
        Error::Store(e) => ApiError::store(e),
        other => {
            warn!(error = %other, "REST call failed");
            ApiError::internal()
        }
    }
}

fn invalid_rule(message: String, diagnostics: Vec<Value>) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_rule", message)
        .with_detail("diagnostics", json!(diagnostics))
}

/// Each diagnostic with its place and the compiler's rendering.
fn diags_json(d: &Diagnostics) -> Vec<Value> {
    d.list
        .iter()
        .map(|x| {
            let loc = d.sources.locate(x.span);
            json!({
                "line": loc.line, "column": loc.col, "file": loc.file,
                "severity": format!("{:?}", x.severity).to_lowercase(),
                "code": x.code, "message": x.message, "rendered": x.render(&d.sources),
            })
        })
        .collect()
}

/// Checks a rule's source alone, then with the application's other
/// enabled rules: the diagnostics (empty when it compiles).
async fn diagnostics(cx: &Cx, app_id: i64, id: &str, source: &str) -> Result<Vec<Value>, ApiError> {
    let others: Vec<(String, String)> = cx
        .st
        .store
        .list_rules(app_id)
        .await?
        .into_iter()
        .filter(|r| r.state != RuleState::Disabled && r.rule_id != id)
        .map(|r| (rule_file(&r.rule_id), r.source))
        .collect();
    let file = rule_file(if id.is_empty() { "draft" } else { id });
    let text = source.to_owned();
    tokio::task::spawn_blocking(move || {
        if let Err(d) = rampart_dsl::compile_str(&file, &text) {
            return diags_json(&d);
        }
        let build = |files: Vec<(String, String)>| {
            let entries = files.iter().map(|(n, _)| n.clone()).collect();
            Pack::build("check", 1, 0, entries, files)
        };
        if others.is_empty() || build(others.clone()).is_err() {
            return Vec::new();
        }
        let mut all = others;
        all.push((file, text));
        all.sort_by(|a, b| a.0.cmp(&b.0));
        match build(all) {
            Ok(_) => Vec::new(),
            Err(PackError::Compile(d)) => diags_json(&d),
            Err(e) => vec![json!({"line": null, "column": null, "severity": "error",
                                  "message": e.to_string(), "rendered": e.to_string()})],
        }
    })
    .await
    .map_err(|_| ApiError::internal())
}

/// The ids of the rules a source declares (in rule sets too).
fn declared_rules(source: &str) -> Vec<String> {
    let (file, _) = rampart_dsl::parser::parse_file(0, source);
    let mut ids = Vec::new();
    for item in file.items {
        match item {
            rampart_dsl::ast::Item::Rule(r) => ids.push(r.id.value),
            rampart_dsl::ast::Item::RuleSet(set) => {
                ids.extend(set.rules.into_iter().map(|r| r.id.value));
            }
            rampart_dsl::ast::Item::Include(_) => {}
        }
    }
    ids
}

/// `GET /api/v1/apps/{app}/rules`.
pub(crate) async fn list(cx: &Cx, app: &str) -> ApiResult {
    let a = cx.app(app).await?;
    let rules = cx.st.store.list_rules(a.id).await?;
    ok(&json!(rules.iter().map(rule_json).collect::<Vec<_>>()))
}

/// `GET /api/v1/apps/{app}/rules/{id}`.
pub(crate) async fn get(cx: &Cx, app: &str, id: &str) -> ApiResult {
    let a = cx.app(app).await?;
    let r = cx
        .st
        .store
        .rule(a.id, id)
        .await?
        .ok_or_else(|| not_found(format!("no rule {id:?}")))?;
    ok(&rule_json(&r))
}

#[derive(Deserialize)]
struct Check {
    source: String,
    #[serde(default)]
    id: String,
}

/// `POST /api/v1/apps/{app}/rules/check`: diagnostics of a draft (reads
/// nothing back, changes nothing: analysts may call it).
pub(crate) async fn check(cx: &Cx, call: &Call, app: &str) -> ApiResult {
    let a = cx.app(app).await?;
    let c: Check = call.json()?;
    let d = diagnostics(cx, a.id, &c.id, &c.source).await?;
    ok(&json!({"ok": d.is_empty(), "diagnostics": d}))
}

#[derive(Deserialize)]
struct Put {
    source: String,
    state: Option<String>,
}

fn state_arg(s: &str) -> Result<RuleState, ApiError> {
    parse::<RuleState>(s).ok_or_else(|| {
        ApiError::bad_request(format!("state {s:?}: monitoring, blocking or disabled"))
    })
}

/// `PUT /api/v1/apps/{app}/rules/{id}` (admin): creates or replaces the
/// rule (an operator's edit of a learned rule makes it custom: pinned).
pub(crate) async fn put(cx: &Cx, call: &Call, app: &str, id: &str) -> ApiResult {
    cx.admin()?;
    let a = cx.app(app).await?;
    let p: Put = call.json()?;
    let state = p.state.as_deref().map(state_arg).transpose()?;
    if !crate::packs::valid_rule_id(id) {
        return Err(ApiError::bad_request(format!(
            "rule id {id:?}: 1 to 128 of A-Z a-z 0-9 . _ -, starting with a letter or digit"
        )));
    }
    let d = diagnostics(cx, a.id, id, &p.source).await?;
    if !d.is_empty() {
        return Err(invalid_rule(format!("rule {id:?} does not compile"), d));
    }
    let declared = declared_rules(&p.source);
    if !declared.iter().any(|r| r == id) {
        return Err(invalid_rule(
            format!(
                "the source declares {} but not rule {id:?}: events and packs name a rule by \
                 the id it declares",
                if declared.is_empty() {
                    "no rule".to_owned()
                } else {
                    format!("{declared:?}")
                }
            ),
            Vec::new(),
        ));
    }
    let existed = cx.st.store.rule(a.id, id).await?.is_some();
    let handle = crate::CloudHandle {
        inner: cx.st.clone(),
    };
    let mut r = handle
        .put_rule(&a.name, id, &p.source, RuleOrigin::Custom)
        .await
        .map_err(cloud_error)?;
    if let Some(s) = state {
        r = cx.st.store.set_rule_state(a.id, id, s).await?;
    }
    info!(by = %cx.who.user.name, application = %a.name, rule = id, "rule saved");
    let status = if existed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok(json_response(status, &rule_json(&r)))
}

#[derive(Deserialize)]
struct SetState {
    state: String,
}

/// `POST /api/v1/apps/{app}/rules/{id}/state` (admin).
pub(crate) async fn set_state(cx: &Cx, call: &Call, app: &str, id: &str) -> ApiResult {
    cx.admin()?;
    let a = cx.app(app).await?;
    let s: SetState = call.json()?;
    let state = state_arg(&s.state)?;
    if cx.st.store.rule(a.id, id).await?.is_none() {
        return Err(not_found(format!("no rule {id:?}")));
    }
    let r = cx.st.store.set_rule_state(a.id, id, state).await?;
    info!(by = %cx.who.user.name, application = %a.name, rule = id, state = %s.state, "rule state set");
    ok(&rule_json(&r))
}

/// `DELETE /api/v1/apps/{app}/rules/{id}` (admin).
pub(crate) async fn delete(cx: &Cx, app: &str, id: &str) -> ApiResult {
    cx.admin()?;
    let a = cx.app(app).await?;
    if !cx.st.store.delete_rule(a.id, id).await? {
        return Err(not_found(format!("no rule {id:?}")));
    }
    info!(by = %cx.who.user.name, application = %a.name, rule = id, "rule deleted");
    no_content()
}

/// Rule id -> source of a stored pack.
fn pack_rules(bytes: &[u8]) -> Option<(Pack, BTreeMap<String, String>)> {
    let pack = Pack::parse(bytes).ok()?;
    let rules = pack
        .manifest
        .files
        .iter()
        .zip(&pack.texts)
        .filter_map(|(f, t)| {
            let id = f.name.strip_prefix("rules/")?.strip_suffix(".rules")?;
            Some((id.to_owned(), t.clone()))
        })
        .collect();
    Some((pack, rules))
}

/// `GET /api/v1/apps/{app}/packs`: the latest 50 versions, with the nodes
/// whose last heartbeat reported each.
pub(crate) async fn packs(cx: &Cx, app: &str) -> ApiResult {
    let a = cx.app(app).await?;
    let packs = cx.st.store.list_rule_packs(a.id, 50).await?;
    let nodes = cx.st.store.list_nodes(a.id).await?;
    let v: Vec<_> = packs
        .iter()
        .map(|p| {
            let on: Vec<&str> = nodes
                .iter()
                .filter(|n| n.rule_pack_version == Some(p.version))
                .map(|n| n.name.as_str())
                .collect();
            let rules = pack_rules(&p.bytes).map(|(pk, _)| pk.manifest.rules);
            json!({
                "version": p.version, "digest": p.digest, "created_at": time(p.created_at),
                "published": p.published, "published_at": p.published_at.map(time),
                "rules": rules, "nodes": on,
            })
        })
        .collect();
    ok(&json!(v))
}

/// `GET /api/v1/apps/{app}/packs/{v}/diff?from=N`: rules added, removed
/// and changed from version `from` (the previous stored one by default).
pub(crate) async fn diff(cx: &Cx, call: &Call, app: &str, v: &str) -> ApiResult {
    let a = cx.app(app).await?;
    let to = super::path_id(v)?;
    let store = &cx.st.store;
    let new = store
        .rule_pack(a.id, to)
        .await?
        .ok_or_else(|| not_found(format!("no pack version {to}")))?;
    let from = match call.number("from")? {
        Some(f) => Some(
            store
                .rule_pack(a.id, f)
                .await?
                .ok_or_else(|| not_found(format!("no pack version {f}")))?,
        ),
        None => store
            .list_rule_packs(a.id, 1000)
            .await?
            .into_iter()
            .find(|p| p.version < to),
    };
    let unreadable = || {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "a stored pack cannot be read",
        )
    };
    let (_, after) = pack_rules(&new.bytes).ok_or_else(unreadable)?;
    let before = match &from {
        Some(p) => pack_rules(&p.bytes).ok_or_else(unreadable)?.1,
        None => BTreeMap::new(),
    };
    let added: Vec<_> = after
        .iter()
        .filter(|(id, _)| !before.contains_key(*id))
        .map(|(id, s)| json!({"id": id, "source": s}))
        .collect();
    let removed: Vec<_> = before
        .iter()
        .filter(|(id, _)| !after.contains_key(*id))
        .map(|(id, s)| json!({"id": id, "source": s}))
        .collect();
    let changed: Vec<_> = after
        .iter()
        .filter_map(|(id, s)| {
            let old = before.get(id)?;
            (old != s).then(|| json!({"id": id, "before": old, "after": s}))
        })
        .collect();
    ok(&json!({
        "from": from.map(|p| p.version), "to": to,
        "added": added, "removed": removed, "changed": changed,
    }))
}

/// Builds the application's pack now; the version published, `None` when
/// the rules did not change. A pack that does not compile is a 422.
pub(crate) async fn publish_now(cx: &Cx, app: &str) -> Result<Option<u64>, ApiError> {
    let st = &cx.st;
    let a = st
        .store
        .application_by_name(app)
        .await?
        .ok_or_else(|| not_found(format!("no application {app:?}")))?;
    let builds = st
        .builder
        .build(&st.store, &st.key, &st.watch, std::slice::from_ref(&a))
        .await
        .map_err(cloud_error)?;
    match builds.into_iter().next().map(|b| b.outcome) {
        Some(BuildOutcome::Published { version, .. }) => Ok(Some(version)),
        Some(BuildOutcome::Failed { reason }) => Err(invalid_rule(
            "the application's rules do not build into a pack; the last pack stays".into(),
            vec![json!({"line": null, "column": null, "severity": "error",
                        "message": "pack build failed", "rendered": reason})],
        )),
        _ => Ok(None),
    }
}

/// `POST /api/v1/apps/{app}/packs` (admin): build and publish now.
pub(crate) async fn deploy(cx: &Cx, app: &str) -> ApiResult {
    cx.admin()?;
    let a = cx.app(app).await?;
    let v = publish_now(cx, &a.name).await?;
    info!(by = %cx.who.user.name, application = %a.name, version = ?v, "pack deploy requested");
    created(&json!({"version": v}))
}
