//! Type checking of conditions and their lowering into the IR.
//!
//! A point reference inside an *atom* (a comparison, a test, a call: any
//! boolean expression that is not `and`, `or`, `not` or a quantifier) is
//! existentially quantified: the atom becomes `Any { path, slot, body }`
//! around it, so `lower(query.q) == "x"` holds when some point carrying
//! `query.q` makes it hold. Counter keys take a point's first value instead.

use std::collections::HashMap;

use rampart_types::{Class, Source};

use super::funcs;
use crate::ast::{self, CmpOp, ExprKind, PathAst, Quantifier, StepAst};
use crate::diag::{code, Diagnostic};
use crate::glob::Glob;
use crate::ir::{self, ConstList, Context, ExprId, Op, Ty};
use crate::path::{PStep, PointPath, Template};
use crate::span::Span;

/// The longest counter window and ban.
pub(crate) const MAX_WINDOW_MS: u64 = 24 * 3600 * 1000;

/// A checked value: its expression, type, and the slot when it is a bare
/// point reference (functions that need a point, such as detectors).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Val {
    pub id: ExprId,
    pub ty: Ty,
    pub slot: Option<u16>,
}

/// Checks the expressions of one rule.
pub(crate) struct ExprCx<'a> {
    pub prog: &'a mut ir::Program,
    pub diags: &'a mut Vec<Diagnostic>,
    pub path_ids: &'a mut HashMap<PointPath, u32>,
    pub rule: u32,
    pub templates: &'a [Template],
    pub slots: u16,
    pub response: bool,
    pub(super) quants: Vec<u16>,
    pub(super) pending: Vec<(u32, u16)>,
    /// Inside counter keys: points give their first value.
    pub(super) first_mode: bool,
}

impl<'a> ExprCx<'a> {
    pub fn new(
        prog: &'a mut ir::Program,
        diags: &'a mut Vec<Diagnostic>,
        path_ids: &'a mut HashMap<PointPath, u32>,
        rule: u32,
        templates: &'a [Template],
    ) -> ExprCx<'a> {
        ExprCx {
            prog,
            diags,
            path_ids,
            rule,
            templates,
            slots: 0,
            response: false,
            quants: Vec::new(),
            pending: Vec::new(),
            first_mode: false,
        }
    }

    pub(super) fn push(&mut self, op: Op, ty: Ty) -> ExprId {
        self.prog.exprs.push(ir::Expr { op, ty });
        (self.prog.exprs.len() - 1) as ExprId
    }

    pub(super) fn err(&mut self, code: &'static str, span: Span, msg: impl Into<String>) {
        self.diags.push(Diagnostic::error(code, span, msg));
    }

    pub(super) fn intern_path(&mut self, p: PointPath) -> u32 {
        if let Some(&id) = self.path_ids.get(&p) {
            return id;
        }
        self.prog.paths.push(p.clone());
        let id = (self.prog.paths.len() - 1) as u32;
        self.path_ids.insert(p, id);
        id
    }

    pub(super) fn new_slot(&mut self) -> u16 {
        let s = self.slots;
        self.slots = self.slots.saturating_add(1);
        s
    }

    /// A condition: must be boolean.
    pub fn condition(&mut self, e: &ast::Expr) -> Option<ExprId> {
        self.boolean(e)
    }

    fn boolean(&mut self, e: &ast::Expr) -> Option<ExprId> {
        match &e.kind {
            ExprKind::And(parts) | ExprKind::Or(parts) => {
                let ids: Vec<Option<ExprId>> = parts.iter().map(|p| self.boolean(p)).collect();
                let ids: Vec<ExprId> = ids.into_iter().collect::<Option<_>>()?;
                let start = self.prog.args.len() as u32;
                self.prog.args.extend(ids);
                let end = self.prog.args.len() as u32;
                let op = if matches!(e.kind, ExprKind::And(_)) {
                    Op::And(start, end)
                } else {
                    Op::Or(start, end)
                };
                Some(self.push(op, Ty::Bool))
            }
            ExprKind::Not(inner) => {
                let id = self.boolean(inner)?;
                Some(self.push(Op::Not(id), Ty::Bool))
            }
            ExprKind::Quant { q, path, body } => self.quant(*q, path, body),
            _ => self.atom(e),
        }
    }

    fn atom(&mut self, e: &ast::Expr) -> Option<ExprId> {
        let saved = std::mem::take(&mut self.pending);
        let v = self.value(e);
        let pending = std::mem::replace(&mut self.pending, saved);
        let v = v?;
        if v.ty != Ty::Bool {
            self.err(
                code::TYPE,
                e.span,
                format!("expected a condition (bool), found {}", v.ty.as_str()),
            );
            return None;
        }
        let mut id = v.id;
        for (path, slot) in pending.into_iter().rev() {
            id = self.push(
                Op::Any {
                    path,
                    slot,
                    body: id,
                },
                Ty::Bool,
            );
        }
        Some(id)
    }

    fn quant(&mut self, q: Quantifier, path: &PathAst, body: &ast::Expr) -> Option<ExprId> {
        let p = self.point_path(path)?;
        let pid = self.intern_path(p);
        let slot = self.new_slot();
        self.quants.push(slot);
        let b = self.boolean(body);
        self.quants.pop();
        let body = b?;
        let op = match q {
            Quantifier::Any => Op::Any {
                path: pid,
                slot,
                body,
            },
            Quantifier::All => Op::All {
                path: pid,
                slot,
                body,
            },
        };
        Some(self.push(op, Ty::Bool))
    }

    pub(super) fn value(&mut self, e: &ast::Expr) -> Option<Val> {
        let plain = |id, ty| Some(Val { id, ty, slot: None });
        match &e.kind {
            ExprKind::Bool(b) => plain(self.push(Op::Bool(*b), Ty::Bool), Ty::Bool),
            ExprKind::Num(n) => {
                if !n.is_finite() {
                    self.err(code::TYPE, e.span, "number out of range");
                    return None;
                }
                plain(self.push(Op::Num(*n), Ty::Num), Ty::Num)
            }
            ExprKind::Str(s) => {
                self.prog.strings.push(s.clone().into_boxed_slice());
                let sid = (self.prog.strings.len() - 1) as u32;
                plain(self.push(Op::Str(sid), Ty::Str), Ty::Str)
            }
            ExprKind::Duration { .. } => {
                self.err(
                    code::TYPE,
                    e.span,
                    "a duration is only allowed as a counter window or an action argument",
                );
                None
            }
            ExprKind::List(_) => {
                self.err(code::TYPE, e.span, "a list is only allowed after `in`");
                None
            }
            ExprKind::Point(p) => self.point(p),
            ExprKind::And(_) | ExprKind::Or(_) | ExprKind::Not(_) | ExprKind::Quant { .. } => {
                let id = self.boolean(e)?;
                plain(id, Ty::Bool)
            }
            ExprKind::Cmp { op, lhs, rhs } => {
                let (l, r) = (self.value(lhs), self.value(rhs));
                let (l, r) = (l?, r?);
                if l.ty != r.ty {
                    let mut d = Diagnostic::error(
                        code::TYPE,
                        e.span,
                        format!(
                            "cannot compare {} with {} using `{}`",
                            l.ty.as_str(),
                            r.ty.as_str(),
                            op.as_str()
                        ),
                    );
                    if matches!((l.ty, r.ty), (Ty::Str, Ty::Num) | (Ty::Num, Ty::Str)) {
                        d = d.with_help("convert the text with num(...) or compare with a string");
                    }
                    self.diags.push(d);
                    return None;
                }
                let ordering = !matches!(op, CmpOp::Eq | CmpOp::Ne);
                if ordering && l.ty != Ty::Num {
                    self.err(
                        code::TYPE,
                        e.span,
                        format!(
                            "`{}` compares numbers, found {}",
                            op.as_str(),
                            l.ty.as_str()
                        ),
                    );
                    return None;
                }
                let c = match op {
                    CmpOp::Eq => ir::Cmp::Eq,
                    CmpOp::Ne => ir::Cmp::Ne,
                    CmpOp::Lt => ir::Cmp::Lt,
                    CmpOp::Le => ir::Cmp::Le,
                    CmpOp::Gt => ir::Cmp::Gt,
                    CmpOp::Ge => ir::Cmp::Ge,
                };
                plain(self.push(Op::Cmp(c, l.id, r.id), Ty::Bool), Ty::Bool)
            }
            ExprKind::In { negated, lhs, list } => {
                let l = self.value(lhs)?;
                let lid = self.const_list(l.ty, list)?;
                let mut id = self.push(Op::In(l.id, lid), Ty::Bool);
                if *negated {
                    id = self.push(Op::Not(id), Ty::Bool);
                }
                plain(id, Ty::Bool)
            }
            ExprKind::Glob {
                negated,
                lhs,
                pattern,
            } => {
                let l = self.value(lhs)?;
                if l.ty != Ty::Str {
                    self.err(
                        code::TYPE,
                        lhs.span,
                        format!("`~` matches text, found {}", l.ty.as_str()),
                    );
                    return None;
                }
                let ExprKind::Str(pat) = &pattern.kind else {
                    self.err(
                        code::TYPE,
                        pattern.span,
                        "a glob pattern must be a string constant",
                    );
                    return None;
                };
                self.prog.globs.push(Glob::new(pat));
                let gid = (self.prog.globs.len() - 1) as u32;
                let mut id = self.push(Op::Glob(l.id, gid), Ty::Bool);
                if *negated {
                    id = self.push(Op::Not(id), Ty::Bool);
                }
                plain(id, Ty::Bool)
            }
            ExprKind::Call { name, args } => self.call(&name.value, name.span, args, e.span),
        }
    }

    pub(super) fn const_list(&mut self, ty: Ty, list: &ast::Expr) -> Option<u32> {
        let ExprKind::List(items) = &list.kind else {
            self.err(code::TYPE, list.span, "`in` takes a list: [\"a\", \"b\"]");
            return None;
        };
        let mut strs = Vec::new();
        let mut nums = Vec::new();
        let mut ok = true;
        for it in items {
            match (&it.kind, ty) {
                (ExprKind::Str(s), Ty::Str) => strs.push(s.clone().into_boxed_slice()),
                (ExprKind::Num(n), Ty::Num) => nums.push(*n),
                (ExprKind::Str(_) | ExprKind::Num(_) | ExprKind::Bool(_), _) => {
                    let found = match it.kind {
                        ExprKind::Str(_) => "str",
                        ExprKind::Num(_) => "num",
                        _ => "bool",
                    };
                    self.err(
                        code::TYPE,
                        it.span,
                        format!("list element is {found}, the value is {}", ty.as_str()),
                    );
                    ok = false;
                }
                _ => {
                    self.err(code::TYPE, it.span, "list elements must be constants");
                    ok = false;
                }
            }
        }
        if !ok {
            return None;
        }
        if ty == Ty::Bool {
            self.err(
                code::TYPE,
                list.span,
                "`in` compares text or numbers, found bool",
            );
            return None;
        }
        self.prog.lists.push(if ty == Ty::Num {
            ConstList::Num(nums)
        } else {
            ConstList::Str(strs)
        });
        Some((self.prog.lists.len() - 1) as u32)
    }

    /// Resolves a point reference used as a value.
    pub(super) fn point(&mut self, p: &PathAst) -> Option<Val> {
        let root = p.root.value.as_str();
        if root == "it" {
            if let Some(s) = p.steps.first() {
                self.err(code::BAD_POINT, s.span, "`it` takes no steps");
                return None;
            }
            let Some(&slot) = self.quants.last() else {
                self.diags.push(
                    Diagnostic::error(
                        code::IT_OUTSIDE,
                        p.span,
                        "`it` used outside any(..) or all(..)",
                    )
                    .with_help(
                        "`it` is the point a quantifier is looking at: any(query.*, it == \"x\")",
                    ),
                );
                return None;
            };
            let id = self.push(Op::Slot(slot), Ty::Str);
            return Some(Val {
                id,
                ty: Ty::Str,
                slot: Some(slot),
            });
        }
        if let Some((ctx, ty)) = self.context(p)? {
            if ctx == Context::ResponseStatus {
                self.response = true;
            }
            let id = self.push(Op::Context(ctx), ty);
            return Some(Val { id, ty, slot: None });
        }
        if root == "path" {
            if let [step] = p.steps.as_slice() {
                if let StepAst::Member(name) = &step.value {
                    let name = String::from_utf8_lossy(name).into_owned();
                    let idx = self.path_param(&name, step.span)?;
                    let id = self.push(Op::PathParam(idx), Ty::Str);
                    return Some(Val {
                        id,
                        ty: Ty::Str,
                        slot: None,
                    });
                }
            }
        }
        let path = self.point_path(p)?;
        let pid = self.intern_path(path);
        if self.first_mode {
            let id = self.push(Op::First(pid), Ty::Str);
            return Some(Val {
                id,
                ty: Ty::Str,
                slot: None,
            });
        }
        let slot = match self.pending.iter().find(|(q, _)| *q == pid) {
            Some(&(_, s)) => s,
            None => {
                let s = self.new_slot();
                self.pending.push((pid, s));
                s
            }
        };
        let id = self.push(Op::Slot(slot), Ty::Str);
        Some(Val {
            id,
            ty: Ty::Str,
            slot: Some(slot),
        })
    }

    fn path_param(&mut self, name: &str, span: Span) -> Option<u16> {
        if self.templates.is_empty() {
            self.diags.push(
                Diagnostic::error(
                    code::UNKNOWN_PATH_PARAM,
                    span,
                    format!("`path.{name}` needs an endpoint template with `{{{name}}}`"),
                )
                .with_help(format!(
                    "add a scope such as endpoint \"/items/{{{name}}}\""
                )),
            );
            return None;
        }
        for t in self.templates {
            if !t.params().any(|p| p == name) {
                let known: Vec<String> = t.params().map(|p| format!("{{{p}}}")).collect();
                let known = if known.is_empty() {
                    "no parameters".to_string()
                } else {
                    known.join(", ")
                };
                self.diags.push(Diagnostic::error(
                    code::UNKNOWN_PATH_PARAM,
                    span,
                    format!(
                        "unknown path parameter `{name}`: endpoint `{}` has {known}",
                        t.source
                    ),
                ));
                return None;
            }
        }
        // Parameters are looked up by name at run time; the index is the
        // position in the first template.
        let idx = self.templates[0]
            .params()
            .position(|p| p == name)
            .unwrap_or(0);
        Some(idx as u16)
    }

    /// `client.ip`, `client.session`, `response.status`: Ok(Some) when the
    /// root is a context root, Ok(None) when it is not, None on error.
    #[allow(clippy::option_option)]
    fn context(&mut self, p: &PathAst) -> Option<Option<(Context, Ty)>> {
        let (root, known): (&str, &[(&str, Context, Ty)]) = match p.root.value.as_str() {
            "client" => (
                "client",
                &[
                    ("ip", Context::ClientIp, Ty::Str),
                    ("session", Context::ClientSession, Ty::Str),
                ],
            ),
            "response" => ("response", &[("status", Context::ResponseStatus, Ty::Num)]),
            _ => return Some(None),
        };
        let member = match p.steps.as_slice() {
            [s] => match &s.value {
                StepAst::Member(m) => Some(String::from_utf8_lossy(m).into_owned()),
                _ => None,
            },
            _ => None,
        };
        if let Some(m) = member {
            if let Some((_, c, t)) = known.iter().find(|(n, _, _)| *n == m) {
                return Some(Some((*c, *t)));
            }
        }
        let list: Vec<String> = known
            .iter()
            .map(|(n, _, _)| format!("{root}.{n}"))
            .collect();
        self.diags.push(
            Diagnostic::error(
                code::BAD_POINT,
                p.span,
                format!("unknown context value `{}`", render_path(p)),
            )
            .with_help(format!("known: {}", list.join(", "))),
        );
        None
    }

    /// Checks a request point path (a source and steps).
    pub(crate) fn point_path(&mut self, p: &PathAst) -> Option<PointPath> {
        let root = p.root.value.as_str();
        let Some(source) = Source::parse(root) else {
            let sources = ["method", "uri", "path", "query", "header", "cookie", "body"];
            let mut d = Diagnostic::error(
                code::UNKNOWN_POINT,
                p.root.span,
                format!("unknown point source `{root}`"),
            );
            d = match funcs::suggest(root, sources.iter().copied().chain(["client", "response"])) {
                Some(s) => d.with_help(format!("did you mean `{s}`?")),
                None => d.with_help(
                    "sources are method, uri, path, query, header, cookie, body; context values are client.ip, client.session, response.status",
                ),
            };
            self.diags.push(d);
            return None;
        };
        if matches!(source, Source::Method | Source::Uri) {
            if let Some(s) = p.steps.first() {
                self.err(
                    code::BAD_POINT,
                    s.span,
                    format!("`{root}` is a single value and has no members"),
                );
                return None;
            }
        }
        if source == Source::Path {
            if let Some(s) = p
                .steps
                .iter()
                .find(|s| matches!(s.value, StepAst::Member(_)))
            {
                self.diags.push(
                    Diagnostic::error(
                        code::BAD_POINT,
                        s.span,
                        "path segments are indexes (`path[2]`); `path.NAME` is a template parameter, a value",
                    ),
                );
                return None;
            }
        }
        let mut steps = Vec::with_capacity(p.steps.len());
        for (i, s) in p.steps.iter().enumerate() {
            steps.push(match &s.value {
                // Header names are lower-case in the tree.
                StepAst::Member(m) if i == 0 && source == Source::Header => {
                    PStep::Key(m.to_ascii_lowercase().into_boxed_slice())
                }
                StepAst::Member(m) => PStep::Key(m.clone().into_boxed_slice()),
                StepAst::Index(n) => PStep::Index(*n),
                StepAst::Layer(l) => PStep::Layer(l.clone()),
                StepAst::Wild => PStep::Wild,
                StepAst::DeepWild => PStep::DeepWild,
            });
        }
        Some(PointPath { source, steps })
    }
}

/// A class argument: an identifier or a string. `None` when neither.
pub(crate) fn class_arg(e: &ast::Expr) -> Option<Result<Class, String>> {
    let name = match &e.kind {
        ExprKind::Point(p) if p.steps.is_empty() => p.root.value.clone(),
        ExprKind::Str(s) => String::from_utf8_lossy(s).into_owned(),
        _ => return None,
    };
    Some(funcs::class_name(&name).ok_or(name))
}

pub(crate) fn render_path(p: &PathAst) -> String {
    let mut s = p.root.value.clone();
    for st in &p.steps {
        match &st.value {
            StepAst::Member(m) => {
                s.push('.');
                s.push_str(&String::from_utf8_lossy(m));
            }
            StepAst::Index(i) => s.push_str(&format!("[{i}]")),
            StepAst::Layer(l) => {
                s.push(':');
                s.push_str(l);
            }
            StepAst::Wild => s.push_str(".*"),
            StepAst::DeepWild => s.push_str(".**"),
        }
    }
    s
}
