//! Checking of calls: built-in functions, detector findings, statistics
//! and counters.

use rampart_types::Class;

use super::expr::{class_arg, ExprCx, Val, MAX_WINDOW_MS};
use super::funcs;
use crate::ast::{self, Arg, ExprKind, StepAst};
use crate::diag::{code, Diagnostic};
use crate::ir::{Builtin, CounterKind, CounterSite, ExprId, Op, Ty};
use crate::span::Span;

impl ExprCx<'_> {
    pub(super) fn call(
        &mut self,
        name: &str,
        nspan: Span,
        args: &[Arg],
        span: Span,
    ) -> Option<Val> {
        match name {
            "count" | "distinct" => return self.counter(name, args, span),
            "exists" => {
                self.no_named(name, args)?;
                self.arity(name, args, 1, 1, span)?;
                let ExprKind::Point(p) = &args[0].value.kind else {
                    self.err(code::TYPE, args[0].span, "`exists` takes a request point");
                    return None;
                };
                let path = self.point_path(p)?;
                let pid = self.intern_path(path);
                let id = self.push(Op::Exists(pid), Ty::Bool);
                return Some(Val {
                    id,
                    ty: Ty::Bool,
                    slot: None,
                });
            }
            "attack" => return self.detector(None, args, span),
            "any" | "all" => {
                self.diags.push(
                    Diagnostic::error(
                        code::ARITY,
                        span,
                        format!(
                            "`{name}` takes a point and a condition, found {} argument{}",
                            args.len(),
                            if args.len() == 1 { "" } else { "s" }
                        ),
                    )
                    .with_help(format!("{name}(query.*, len(it) < 100)")),
                );
                return None;
            }
            "deviation" | "length_z" => {
                self.no_named(name, args)?;
                self.arity(name, args, 1, 1, span)?;
                let slot = self.point_arg(name, &args[0])?;
                let op = if name == "deviation" {
                    Op::Deviation(slot)
                } else {
                    Op::LengthZ(slot)
                };
                let id = self.push(op, Ty::Num);
                return Some(Val {
                    id,
                    ty: Ty::Num,
                    slot: None,
                });
            }
            "name" => {
                self.no_named(name, args)?;
                self.arity(name, args, 1, 1, span)?;
                let slot = self.point_arg(name, &args[0])?;
                let id = self.push(Op::Name(slot), Ty::Str);
                return Some(Val {
                    id,
                    ty: Ty::Str,
                    slot: None,
                });
            }
            "char_ratio" => {
                self.no_named(name, args)?;
                self.arity(name, args, 2, 2, span)?;
                let v = self.typed_arg(name, 0, &args[0], Ty::Str)?;
                let class = match &args[1].value.kind {
                    ExprKind::Point(p) if p.steps.is_empty() => {
                        crate::profile::CharClass::parse(&p.root.value)
                    }
                    _ => None,
                };
                let Some(class) = class else {
                    let names: Vec<&str> = crate::profile::CharClass::ALL
                        .iter()
                        .map(|c| c.as_str())
                        .collect();
                    let written = match &args[1].value.kind {
                        ExprKind::Point(p) if p.steps.is_empty() => Some(p.root.value.as_str()),
                        _ => None,
                    };
                    let help = match written.and_then(|w| funcs::suggest(w, names.iter().copied()))
                    {
                        Some(s) => format!("did you mean `{s}`?"),
                        None => format!("use one of {}", names.join(", ")),
                    };
                    self.diags.push(
                        Diagnostic::error(
                            code::BAD_ARGUMENT,
                            args[1].span,
                            "unknown character class",
                        )
                        .with_help(help),
                    );
                    return None;
                };
                let start = self.prog.args.len() as u32;
                self.prog.args.push(v);
                let id = self.push(
                    Op::Call(Builtin::CharRatio(class), start, start + 1),
                    Ty::Num,
                );
                return Some(Val {
                    id,
                    ty: Ty::Num,
                    slot: None,
                });
            }
            _ => {}
        }
        if let Some(class) = funcs::class_function(name) {
            return self.detector(Some(class), args, span);
        }
        let Some(sig) = funcs::lookup(name) else {
            let names = funcs::all_names();
            let mut d = Diagnostic::error(
                code::UNKNOWN_FUNCTION,
                nspan,
                format!("unknown function `{name}`"),
            );
            if let Some(s) = funcs::suggest(name, names.iter().map(|s| s.as_str())) {
                d = d.with_help(format!("did you mean `{s}`?"));
            }
            self.diags.push(d);
            return None;
        };
        self.no_named(name, args)?;
        self.arity(name, args, sig.params.len(), sig.params.len(), span)?;
        let mut ids = Vec::with_capacity(args.len());
        let mut ok = true;
        for (i, (a, ty)) in args.iter().zip(sig.params).enumerate() {
            match self.typed_arg(name, i, a, *ty) {
                Some(id) => ids.push(id),
                None => ok = false,
            }
        }
        if !ok {
            return None;
        }
        let start = self.prog.args.len() as u32;
        self.prog.args.extend(ids);
        let end = self.prog.args.len() as u32;
        let id = self.push(Op::Call(sig.f, start, end), sig.ret);
        Some(Val {
            id,
            ty: sig.ret,
            slot: None,
        })
    }

    fn typed_arg(&mut self, f: &str, i: usize, a: &Arg, ty: Ty) -> Option<ExprId> {
        let v = self.value(&a.value)?;
        if v.ty != ty {
            self.err(
                code::TYPE,
                a.value.span,
                format!(
                    "argument {} of `{f}` must be {}, found {}",
                    i + 1,
                    ty.as_str(),
                    v.ty.as_str()
                ),
            );
            return None;
        }
        Some(v.id)
    }

    fn no_named(&mut self, f: &str, args: &[Arg]) -> Option<()> {
        if let Some(n) = args.iter().find_map(|a| a.name.as_ref()) {
            self.err(
                code::BAD_ARGUMENT,
                n.span,
                format!("`{f}` takes no named arguments"),
            );
            return None;
        }
        Some(())
    }

    fn arity(&mut self, f: &str, args: &[Arg], min: usize, max: usize, span: Span) -> Option<()> {
        if args.len() >= min && args.len() <= max {
            return Some(());
        }
        let want = if min == max {
            format!("{min} argument{}", if min == 1 { "" } else { "s" })
        } else if max == usize::MAX {
            format!("at least {min} arguments")
        } else {
            format!("{min} to {max} arguments")
        };
        self.err(
            code::ARITY,
            span,
            format!("`{f}` takes {want}, found {}", args.len()),
        );
        None
    }

    /// An argument that must be a request point (or `it`): its slot.
    fn point_arg(&mut self, f: &str, a: &Arg) -> Option<u16> {
        let ExprKind::Point(p) = &a.value.kind else {
            self.err(
                code::TYPE,
                a.value.span,
                format!("`{f}` takes a request point such as query.q"),
            );
            return None;
        };
        if p.root.value == "client" || p.root.value == "response" {
            self.err(
                code::TYPE,
                a.value.span,
                format!("`{f}` takes a request point, not a context value"),
            );
            return None;
        }
        if p.root.value == "path" && !p.steps.is_empty() {
            if let Some(StepAst::Member(_)) = p.steps.first().map(|s| &s.value) {
                self.err(
                    code::TYPE,
                    a.value.span,
                    format!(
                        "`{f}` takes a request point; a path parameter is a value (use `path`)"
                    ),
                );
                return None;
            }
        }
        let v = self.point(p)?;
        v.slot.or_else(|| {
            let msg = if self.first_mode {
                // A counter key takes the first value of a path, not a
                // point.
                format!(
                    "`{f}` cannot take a path in a counter or rate-limit key (a key takes a path's first value); use `it` inside any(PATH, ..)"
                )
            } else {
                format!("`{f}` takes a request point")
            };
            self.err(code::TYPE, a.value.span, msg);
            None
        })
    }

    /// `attack(point | any, class = c, rule = "..", min_score = n)` and the
    /// per-class shorthands `sqli(point, ..)`.
    fn detector(&mut self, class: Option<Class>, args: &[Arg], span: Span) -> Option<Val> {
        let fname = class
            .map(|c| c.as_str().replace('-', "_"))
            .unwrap_or("attack".into());
        let positional: Vec<&Arg> = args.iter().filter(|a| a.name.is_none()).collect();
        if positional.len() != 1 {
            self.err(
                code::ARITY,
                span,
                format!(
                    "`{fname}` takes one point (or `any`) and named arguments, found {} positional arguments",
                    positional.len()
                ),
            );
            return None;
        }
        let mut class = class;
        let mut rule = None;
        let mut min_score = 1u8;
        let mut ok = true;
        let mut seen: Vec<&str> = Vec::new();
        for a in args.iter() {
            let Some(n) = &a.name else { continue };
            if seen.contains(&n.value.as_str()) {
                self.err(
                    code::BAD_ARGUMENT,
                    n.span,
                    format!("argument `{}` given twice", n.value),
                );
                ok = false;
                continue;
            }
            seen.push(&n.value);
            match n.value.as_str() {
                "class" if fname == "attack" => match class_arg(&a.value) {
                    Some(Ok(c)) => class = Some(c),
                    Some(Err(name)) => {
                        self.unknown_class(&name, a.value.span);
                        ok = false;
                    }
                    None => {
                        self.err(
                            code::TYPE,
                            a.value.span,
                            "`class` takes a class name such as sqli",
                        );
                        ok = false;
                    }
                },
                "rule" => match &a.value.kind {
                    ExprKind::Str(s) => {
                        self.prog.strings.push(s.clone().into_boxed_slice());
                        rule = Some((self.prog.strings.len() - 1) as u32);
                    }
                    _ => {
                        self.err(
                            code::TYPE,
                            a.value.span,
                            "`rule` takes a string such as \"sqli.union\"",
                        );
                        ok = false;
                    }
                },
                "min_score" => match a.value.kind {
                    ExprKind::Num(n) if (0.0..=100.0).contains(&n) && n.fract() == 0.0 => {
                        min_score = n as u8
                    }
                    _ => {
                        self.err(
                            code::TYPE,
                            a.value.span,
                            "`min_score` takes an integer from 0 to 100",
                        );
                        ok = false;
                    }
                },
                other => {
                    let known = if fname == "attack" {
                        "class, rule, min_score"
                    } else {
                        "rule, min_score"
                    };
                    self.diags.push(
                        Diagnostic::error(
                            code::BAD_ARGUMENT,
                            n.span,
                            format!("`{fname}` has no argument `{other}`"),
                        )
                        .with_help(format!("named arguments: {known}")),
                    );
                    ok = false;
                }
            }
        }
        let p = positional[0];
        let slot = match &p.value.kind {
            ExprKind::Point(pa) if pa.root.value == "any" && pa.steps.is_empty() => None,
            _ => Some(self.point_arg(&fname, p)?),
        };
        if !ok {
            return None;
        }
        let id = self.push(
            Op::Finding {
                slot,
                class,
                rule,
                min_score,
            },
            Ty::Bool,
        );
        Some(Val {
            id,
            ty: Ty::Bool,
            slot: None,
        })
    }

    pub(crate) fn unknown_class(&mut self, name: &str, span: Span) {
        let names: Vec<String> = Class::ALL.iter().map(|c| c.as_str().to_string()).collect();
        let mut d = Diagnostic::error(
            code::UNKNOWN_CLASS,
            span,
            format!("unknown detector class `{name}`"),
        );
        d = match funcs::suggest(name, names.iter().map(|s| s.as_str())) {
            Some(s) => d.with_help(format!("did you mean `{s}`?")),
            None => d.with_help(format!("classes: {}", names.join(", "))),
        };
        self.diags.push(d);
    }

    /// `count(key.., window)` / `distinct(key.., value, window)`.
    fn counter(&mut self, name: &str, args: &[Arg], span: Span) -> Option<Val> {
        self.no_named(name, args)?;
        let min = if name == "count" { 2 } else { 3 };
        self.arity(name, args, min, usize::MAX, span)?;
        let (keys, window) = args.split_at(args.len() - 1);
        let window_ms = self.duration(&window[0].value, "a counter window")?;
        let was = std::mem::replace(&mut self.first_mode, true);
        let mut ids = Vec::new();
        let mut ok = true;
        for (i, k) in keys.iter().enumerate() {
            match self.value(&k.value) {
                Some(v) if v.ty == Ty::Str => ids.push(v.id),
                Some(v) => {
                    self.err(
                        code::TYPE,
                        k.value.span,
                        format!(
                            "argument {} of `{name}` must be str (a key), found {}",
                            i + 1,
                            v.ty.as_str()
                        ),
                    );
                    ok = false;
                }
                None => ok = false,
            }
        }
        self.first_mode = was;
        if !ok {
            return None;
        }
        let start = self.prog.args.len() as u32;
        self.prog.args.extend(ids);
        let end = self.prog.args.len() as u32;
        self.prog.counters.push(CounterSite {
            kind: if name == "count" {
                CounterKind::Count
            } else {
                CounterKind::Distinct
            },
            keys: (start, end),
            window_ms,
            rule: self.rule,
        });
        let cid = (self.prog.counters.len() - 1) as u32;
        let id = self.push(Op::Counter(cid), Ty::Num);
        Some(Val {
            id,
            ty: Ty::Num,
            slot: None,
        })
    }

    /// A duration constant in milliseconds.
    pub(crate) fn duration(&mut self, e: &ast::Expr, what: &str) -> Option<u64> {
        let (amount, unit) = match &e.kind {
            ExprKind::Duration { amount, unit } => (*amount, unit.as_str()),
            ExprKind::Num(_) => {
                self.diags.push(
                    Diagnostic::error(
                        code::BAD_DURATION,
                        e.span,
                        format!("{what} must be a duration, found a number"),
                    )
                    .with_help("write a unit: 500ms, 30s, 5m, 1h, 1d"),
                );
                return None;
            }
            _ => {
                self.err(
                    code::BAD_DURATION,
                    e.span,
                    format!("{what} must be a duration such as 1m"),
                );
                return None;
            }
        };
        let mult = match unit {
            "ms" => 1,
            "s" => 1000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            _ => {
                self.diags.push(
                    Diagnostic::error(
                        code::BAD_DURATION,
                        e.span,
                        format!("unknown duration unit `{unit}`"),
                    )
                    .with_help("units: ms, s, m, h, d"),
                );
                return None;
            }
        };
        let ms = amount.saturating_mul(mult);
        if ms == 0 {
            self.err(
                code::BAD_DURATION,
                e.span,
                format!("{what} must be longer than zero"),
            );
            return None;
        }
        if ms > MAX_WINDOW_MS {
            self.err(
                code::BAD_DURATION,
                e.span,
                format!("{what} is longer than 1d"),
            );
            return None;
        }
        Some(ms)
    }

    /// A key expression for `rate_limit` (first-value mode).
    pub(crate) fn key(&mut self, e: &ast::Expr) -> Option<ExprId> {
        let was = std::mem::replace(&mut self.first_mode, true);
        let v = self.value(e);
        self.first_mode = was;
        let v = v?;
        if v.ty != Ty::Str {
            self.err(
                code::TYPE,
                e.span,
                format!("a rate-limit key must be str, found {}", v.ty.as_str()),
            );
            return None;
        }
        Some(v.id)
    }
}
