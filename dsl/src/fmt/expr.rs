//! Canonical text of expressions, literals and point paths. Parentheses are
//! written exactly where the grammar needs them to give back the same tree
//! (`a and (b or c)`, `not (not x)`, `(a and b) and c` keeps its nesting).

use crate::ast::{Arg, Expr, ExprKind, PathAst, Quantifier, StepAst};
use crate::span::Span;

/// Binding strength, loosest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Prec {
    Or,
    And,
    Not,
    Cmp,
    Term,
}

/// Prints expressions of one source text (wildcards keep their spelling).
pub(super) struct ExprPrinter<'a> {
    pub src: &'a str,
}

impl ExprPrinter<'_> {
    /// `e` as text where an expression of strength `ctx` is expected.
    pub fn expr(&self, e: &Expr, ctx: Prec) -> String {
        let (s, own) = match &e.kind {
            ExprKind::Or(parts) => (self.join(parts, Prec::And, " or "), Prec::Or),
            ExprKind::And(parts) => (self.join(parts, Prec::Not, " and "), Prec::And),
            ExprKind::Not(inner) => (format!("not {}", self.expr(inner, Prec::Cmp)), Prec::Not),
            ExprKind::Cmp { op, lhs, rhs } => (
                format!(
                    "{} {} {}",
                    self.expr(lhs, Prec::Term),
                    op.as_str(),
                    self.expr(rhs, Prec::Term)
                ),
                Prec::Cmp,
            ),
            ExprKind::In { negated, lhs, list } => (
                format!(
                    "{} {} {}",
                    self.expr(lhs, Prec::Term),
                    if *negated { "not in" } else { "in" },
                    self.expr(list, Prec::Term)
                ),
                Prec::Cmp,
            ),
            ExprKind::Glob {
                negated,
                lhs,
                pattern,
            } => (
                format!(
                    "{} {} {}",
                    self.expr(lhs, Prec::Term),
                    if *negated { "!~" } else { "~" },
                    self.expr(pattern, Prec::Term)
                ),
                Prec::Cmp,
            ),
            _ => (self.term(e), Prec::Term),
        };
        if own < ctx {
            format!("({s})")
        } else {
            s
        }
    }

    fn join(&self, parts: &[Expr], ctx: Prec, sep: &str) -> String {
        parts
            .iter()
            .map(|p| self.expr(p, ctx))
            .collect::<Vec<_>>()
            .join(sep)
    }

    fn term(&self, e: &Expr) -> String {
        match &e.kind {
            ExprKind::Bool(b) => b.to_string(),
            ExprKind::Num(n) => number(*n),
            ExprKind::Str(s) => quote(s),
            ExprKind::Duration { amount, unit } => format!("{amount}{unit}"),
            ExprKind::Point(p) => self.path(p),
            ExprKind::List(items) => format!("[{}]", self.join(items, Prec::Or, ", ")),
            ExprKind::Call { name, args } => format!("{}({})", name.value, self.args(args)),
            ExprKind::Quant { q, path, body } => format!(
                "{}({}, {})",
                match q {
                    Quantifier::Any => "any",
                    Quantifier::All => "all",
                },
                self.path(path),
                self.expr(body, Prec::Or)
            ),
            // Operators are handled by `expr`; reaching here is a caller
            // asking for a term: parenthesise.
            _ => format!("({})", self.expr(e, Prec::Or)),
        }
    }

    /// Arguments of a call or an action: `a, b, name = c`.
    pub fn args(&self, args: &[Arg]) -> String {
        args.iter()
            .map(|a| match &a.name {
                Some(n) => format!("{} = {}", n.value, self.expr(&a.value, Prec::Or)),
                None => self.expr(&a.value, Prec::Or),
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn path(&self, p: &PathAst) -> String {
        let mut s = p.root.value.clone();
        for st in &p.steps {
            match &st.value {
                StepAst::Member(m) if is_ident(m) => {
                    s.push('.');
                    s.push_str(&String::from_utf8_lossy(m));
                }
                StepAst::Member(m) => {
                    s.push('[');
                    s.push_str(&quote(m));
                    s.push(']');
                }
                StepAst::Index(i) => s.push_str(&format!("[{i}]")),
                StepAst::Layer(l) => {
                    s.push(':');
                    s.push_str(l);
                }
                StepAst::Wild if self.spelled_bracket(st.span) => s.push_str("[*]"),
                StepAst::Wild => s.push_str(".*"),
                StepAst::DeepWild => s.push_str(".**"),
            }
        }
        s
    }

    fn spelled_bracket(&self, sp: Span) -> bool {
        self.src.as_bytes().get(sp.start as usize) == Some(&b'[')
    }

    /// A string literal of the source, re-escaped canonically (the AST
    /// keeps some strings as lossy UTF-8; the source has the bytes).
    pub fn source_string(&self, sp: Span) -> String {
        let raw = self
            .src
            .get(sp.start as usize..sp.end as usize)
            .unwrap_or("");
        let inner = raw
            .strip_prefix('"')
            .and_then(|r| r.strip_suffix('"'))
            .unwrap_or(raw);
        quote(&crate::parser::unescape(inner))
    }

    /// The bytes of a string literal of the source.
    pub fn source_bytes(&self, sp: Span) -> Vec<u8> {
        let raw = self
            .src
            .get(sp.start as usize..sp.end as usize)
            .unwrap_or("");
        match raw.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
            Some(inner) => crate::parser::unescape(inner),
            None => raw.as_bytes().to_vec(),
        }
    }
}

/// `[A-Za-z_][A-Za-z0-9_]*`.
pub(super) fn is_ident(s: &[u8]) -> bool {
    match s.split_first() {
        Some((f, rest)) => {
            (f.is_ascii_alphabetic() || *f == b'_')
                && rest.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'_')
        }
        None => false,
    }
}

/// A number as the grammar reads it back to the same value.
pub(super) fn number(n: f64) -> String {
    if n == 0.0 && n.is_sign_negative() {
        return "-0".into();
    }
    if n.fract() == 0.0 && n.abs() < 1e15 {
        return format!("{}", n as i64);
    }
    // `Display` for f64 never uses an exponent and gives the shortest text
    // that reads back to the same value.
    format!("{n}")
}

/// A string literal: `"`, `\`, line breaks, tabs, other control bytes and
/// bytes that are not UTF-8 escaped, everything else as is.
pub(super) fn quote(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() + 2);
    s.push('"');
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '"' => s.push_str("\\\""),
                '\\' => s.push_str("\\\\"),
                '\n' => s.push_str("\\n"),
                '\r' => s.push_str("\\r"),
                '\t' => s.push_str("\\t"),
                c if (c as u32) < 0x20 || c == '\u{7f}' => {
                    s.push_str(&format!("\\x{:02x}", c as u32))
                }
                c => s.push(c),
            }
        }
        for b in chunk.invalid() {
            s.push_str(&format!("\\x{b:02x}"));
        }
    }
    s.push('"');
    s
}
