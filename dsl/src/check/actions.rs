//! Checking of `then` clauses: known actions, their arguments, and
//! actions that contradict each other.

use std::collections::HashMap;

use super::expr::{class_arg, ExprCx};
use super::funcs;
use crate::ast::{Action, Arg, ExprKind};
use crate::diag::{code, Diagnostic};
use crate::ir::{ActionIr, Exception};
use crate::span::Span;

/// The kinds of action, for conflict checks.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Block,
    Monitor,
    Allow,
    Score,
    Tag,
    Mask,
    RateLimit,
    VirtualPatch,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Block => "block",
            Kind::Monitor => "monitor",
            Kind::Allow => "allow",
            Kind::Score => "score",
            Kind::Tag => "tag",
            Kind::Mask => "mask",
            Kind::RateLimit => "rate_limit",
            Kind::VirtualPatch => "virtual_patch",
        }
    }
}

const ACTION_NAMES: &[&str] = &[
    "block",
    "monitor",
    "allow",
    "score",
    "tag",
    "mask",
    "rate_limit",
    "virtual_patch",
];

/// Pairs of actions that contradict each other in one rule.
fn conflicts(a: Kind, b: Kind) -> bool {
    use Kind::*;
    let decisive = |k| matches!(k, Block | RateLimit | VirtualPatch);
    match (a, b) {
        _ if a == b => !matches!(a, Score | Tag | Mask),
        (Allow, x) | (x, Allow) => decisive(x) || x == Monitor,
        (Monitor, x) | (x, Monitor) => decisive(x),
        _ => decisive(a) && decisive(b),
    }
}

pub(crate) fn actions(cx: &mut ExprCx<'_>, list: &[Action]) -> Vec<ActionIr> {
    let mut out = Vec::new();
    let mut kinds: Vec<(Kind, Span)> = Vec::new();
    for a in list {
        let name = a.name.value.as_str();
        let kind = match name {
            "block" => Kind::Block,
            "monitor" => Kind::Monitor,
            "allow" => Kind::Allow,
            "score" => Kind::Score,
            "tag" => Kind::Tag,
            "mask" => Kind::Mask,
            "rate_limit" => Kind::RateLimit,
            "virtual_patch" => Kind::VirtualPatch,
            _ => {
                let mut d = Diagnostic::error(
                    code::UNKNOWN_ACTION,
                    a.name.span,
                    format!("unknown action `{name}`"),
                );
                d = match funcs::suggest(name, ACTION_NAMES.iter().copied()) {
                    Some(s) => d.with_help(format!("did you mean `{s}`?")),
                    None => d.with_help(format!("actions: {}", ACTION_NAMES.join(", "))),
                };
                cx.diags.push(d);
                continue;
            }
        };
        if let Some((prev, _)) = kinds.iter().find(|(k, _)| conflicts(*k, kind)) {
            let msg = if *prev == kind {
                format!("`{}` is given twice", kind.name())
            } else {
                format!("`{}` conflicts with `{}`", kind.name(), prev.name())
            };
            cx.diags.push(
                Diagnostic::error(code::CONFLICTING_ACTIONS, a.name.span, msg).with_help(
                    "a rule either allows, monitors or blocks (block, rate_limit, virtual_patch)",
                ),
            );
            continue;
        }
        kinds.push((kind, a.name.span));
        if let Some(ir) = action(cx, kind, a) {
            out.push(ir);
        }
    }
    out
}

/// Splits arguments into positional and named, checking names against
/// `allowed` (positional parameter names first, in order).
fn bind<'a>(
    cx: &mut ExprCx<'_>,
    a: &'a Action,
    allowed: &[&'a str],
    max_positional: usize,
) -> Option<HashMap<&'a str, &'a Arg>> {
    let mut out: HashMap<&str, &Arg> = HashMap::new();
    let mut pos = 0usize;
    let mut ok = true;
    for arg in &a.args {
        let name: &str = match &arg.name {
            Some(n) => {
                if !allowed.contains(&n.value.as_str()) {
                    cx.diags.push(
                        Diagnostic::error(
                            code::BAD_ARGUMENT,
                            n.span,
                            format!("`{}` has no argument `{}`", a.name.value, n.value),
                        )
                        .with_help(format!("arguments: {}", allowed.join(", "))),
                    );
                    ok = false;
                    continue;
                }
                n.value.as_str()
            }
            None => {
                if pos >= max_positional {
                    cx.diags.push(Diagnostic::error(
                        code::ARITY,
                        arg.span,
                        format!(
                            "`{}` takes at most {max_positional} positional argument{}",
                            a.name.value,
                            if max_positional == 1 { "" } else { "s" }
                        ),
                    ));
                    ok = false;
                    continue;
                }
                pos += 1;
                allowed[pos - 1]
            }
        };
        if out.insert(name, arg).is_some() {
            cx.diags.push(Diagnostic::error(
                code::BAD_ARGUMENT,
                arg.span,
                format!("argument `{name}` given twice"),
            ));
            ok = false;
        }
    }
    ok.then_some(out)
}

fn int_arg(cx: &mut ExprCx<'_>, a: &Arg, what: &str, min: i64, max: i64) -> Option<i64> {
    match a.value.kind {
        ExprKind::Num(n) if n.fract() == 0.0 && n >= min as f64 && n <= max as f64 => {
            Some(n as i64)
        }
        _ => {
            cx.diags.push(Diagnostic::error(
                code::BAD_ACTION_ARGUMENT,
                a.value.span,
                format!("{what} must be an integer from {min} to {max}"),
            ));
            None
        }
    }
}

fn str_arg(cx: &mut ExprCx<'_>, a: &Arg, what: &str) -> Option<String> {
    match &a.value.kind {
        ExprKind::Str(s) => Some(String::from_utf8_lossy(s).into_owned()),
        _ => {
            cx.diags.push(Diagnostic::error(
                code::BAD_ACTION_ARGUMENT,
                a.value.span,
                format!("{what} must be a string"),
            ));
            None
        }
    }
}

fn str_list(cx: &mut ExprCx<'_>, a: &Arg, what: &str) -> Option<Vec<String>> {
    match &a.value.kind {
        ExprKind::List(items) => items
            .iter()
            .map(|i| match &i.kind {
                ExprKind::Str(s) => Some(String::from_utf8_lossy(s).into_owned()),
                _ => {
                    cx.diags.push(Diagnostic::error(
                        code::BAD_ACTION_ARGUMENT,
                        i.span,
                        format!("{what} must be a list of strings"),
                    ));
                    None
                }
            })
            .collect(),
        ExprKind::Str(s) => Some(vec![String::from_utf8_lossy(s).into_owned()]),
        _ => {
            cx.diags.push(Diagnostic::error(
                code::BAD_ACTION_ARGUMENT,
                a.value.span,
                format!("{what} must be a list of strings"),
            ));
            None
        }
    }
}

fn status_arg(cx: &mut ExprCx<'_>, args: &HashMap<&str, &Arg>, default: u16) -> Option<u16> {
    match args.get("status") {
        Some(a) => int_arg(cx, a, "status", 400, 599).map(|s| s as u16),
        None => Some(default),
    }
}

fn action(cx: &mut ExprCx<'_>, kind: Kind, a: &Action) -> Option<ActionIr> {
    match kind {
        Kind::Block => {
            let args = bind(cx, a, &["status", "page"], 1)?;
            let status = status_arg(cx, &args, 403);
            let page = match args.get("page") {
                Some(p) => Some(str_arg(cx, p, "page")?),
                None => None,
            };
            Some(ActionIr::Block {
                status: status?,
                page,
            })
        }
        Kind::Monitor => {
            bind(cx, a, &[], 0)?;
            Some(ActionIr::Monitor)
        }
        Kind::VirtualPatch => {
            let args = bind(cx, a, &["status"], 1)?;
            Some(ActionIr::VirtualPatch {
                status: status_arg(cx, &args, 403)?,
            })
        }
        Kind::Allow => {
            let args = bind(cx, a, &["rules", "tags", "class", "point"], 0)?;
            let mut ex = Exception::default();
            let mut ok = true;
            if let Some(r) = args.get("rules") {
                match str_list(cx, r, "rules") {
                    Some(v) => ex.rules = v,
                    None => ok = false,
                }
            }
            if let Some(t) = args.get("tags") {
                match str_list(cx, t, "tags") {
                    Some(v) => ex.tags = v,
                    None => ok = false,
                }
            }
            if let Some(c) = args.get("class") {
                match class_arg(&c.value) {
                    Some(Ok(cl)) => ex.class = Some(cl),
                    Some(Err(name)) => {
                        cx.unknown_class(&name, c.value.span);
                        ok = false;
                    }
                    None => {
                        cx.diags.push(Diagnostic::error(
                            code::BAD_ACTION_ARGUMENT,
                            c.value.span,
                            "class must be a class name such as sqli",
                        ));
                        ok = false;
                    }
                }
            }
            if let Some(p) = args.get("point") {
                match &p.value.kind {
                    ExprKind::Point(pa) => match cx.point_path(pa) {
                        Some(pp) => ex.point = Some(pp),
                        None => ok = false,
                    },
                    _ => {
                        cx.diags.push(Diagnostic::error(
                            code::BAD_ACTION_ARGUMENT,
                            p.value.span,
                            "point must be a request point such as query.q",
                        ));
                        ok = false;
                    }
                }
            }
            ex.rules_only = (!ex.rules.is_empty() || !ex.tags.is_empty())
                && ex.class.is_none()
                && ex.point.is_none();
            ok.then_some(ActionIr::Allow(ex))
        }
        Kind::Score => {
            let args = bind(cx, a, &["points", "class"], 2)?;
            let Some(p) = args.get("points") else {
                cx.diags.push(Diagnostic::error(
                    code::ARITY,
                    a.span,
                    "`score` needs the points to add: score(20) or score(20, class = sqli)",
                ));
                return None;
            };
            let points = int_arg(cx, p, "points", -1000, 1000);
            let class = match args.get("class") {
                Some(c) => match class_arg(&c.value) {
                    Some(Ok(cl)) => Some(cl),
                    Some(Err(name)) => {
                        cx.unknown_class(&name, c.value.span);
                        return None;
                    }
                    None => {
                        cx.diags.push(Diagnostic::error(
                            code::BAD_ACTION_ARGUMENT,
                            c.value.span,
                            "class must be a class name such as sqli",
                        ));
                        return None;
                    }
                },
                None => None,
            };
            Some(ActionIr::Score {
                points: points? as i32,
                class,
            })
        }
        Kind::Tag => {
            if a.args.is_empty() {
                cx.diags.push(Diagnostic::error(
                    code::ARITY,
                    a.span,
                    "`tag` needs at least one tag: tag(\"brute-force\")",
                ));
                return None;
            }
            let mut tags = Vec::new();
            for arg in &a.args {
                if arg.name.is_some() {
                    cx.diags.push(Diagnostic::error(
                        code::BAD_ARGUMENT,
                        arg.span,
                        "`tag` takes no named arguments",
                    ));
                    return None;
                }
                tags.push(str_arg(cx, arg, "a tag")?);
            }
            Some(ActionIr::Tag(tags))
        }
        Kind::Mask => {
            if a.args.len() != 1 || a.args[0].name.is_some() {
                cx.diags.push(Diagnostic::error(
                    code::ARITY,
                    a.span,
                    "`mask` takes one request point: mask(body:json.card.number)",
                ));
                return None;
            }
            match &a.args[0].value.kind {
                ExprKind::Point(p) => cx.point_path(p).map(ActionIr::Mask),
                _ => {
                    cx.diags.push(Diagnostic::error(
                        code::BAD_ACTION_ARGUMENT,
                        a.args[0].value.span,
                        "`mask` takes a request point such as body:json.card.number",
                    ));
                    None
                }
            }
        }
        Kind::RateLimit => {
            let args = bind(cx, a, &["key", "limit", "window", "ban", "status"], 1)?;
            let mut missing = Vec::new();
            for k in ["key", "limit", "window", "ban"] {
                if !args.contains_key(k) {
                    missing.push(k);
                }
            }
            if !missing.is_empty() {
                cx.diags.push(
                    Diagnostic::error(
                        code::ARITY,
                        a.span,
                        format!("`rate_limit` is missing {}", missing.join(", ")),
                    )
                    .with_help("rate_limit(client.ip, limit = 100, window = 1m, ban = 10m)"),
                );
                return None;
            }
            let key = cx.key(&args["key"].value);
            let limit = int_arg(cx, args["limit"], "limit", 1, 1_000_000_000);
            let window = cx.duration(&args["window"].value, "the window");
            let ban = cx.duration(&args["ban"].value, "the ban");
            let status = status_arg(cx, &args, 429);
            Some(ActionIr::RateLimit {
                key: key?,
                limit: limit? as u64,
                window_ms: window?,
                ban_ms: ban?,
                status: status?,
            })
        }
    }
}
