//! pest grammar (`grammar.pest`) to AST. The parser reads a file item by
//! item: a syntax error is reported and the parser resumes at the next line
//! that starts a top-level item, so one bad rule does not hide the others.

use pest::iterators::Pair;
use pest::Parser as _;

use crate::ast::*;
use crate::diag::{code, Diagnostic};
use crate::span::{Span, Spanned};

#[derive(pest_derive::Parser)]
#[grammar = "grammar.pest"]
struct RulesParser;

/// Parentheses and brackets nest at most this deep (the parser and the
/// checker recurse on them).
pub const MAX_NESTING: usize = 32;

/// Parses one file. Returns what could be read and the syntax errors.
pub fn parse_file(file: u32, text: &str) -> (crate::ast::File, Vec<Diagnostic>) {
    let mut out = crate::ast::File::default();
    let mut diags = Vec::new();
    if let Some(at) = too_deep(text) {
        let end = next_char_end(text, at);
        diags.push(Diagnostic::error(
            code::SYNTAX,
            Span::new(file, at, end),
            format!("parentheses and brackets nest deeper than {MAX_NESTING} levels"),
        ));
        return (out, diags);
    }
    let mut pos = skip_trivia(text, 0);
    // After an error the reader resumes at the next rule, possibly inside a
    // rule set; the `}` closing that set is then skipped silently.
    let mut recovering = false;
    while pos < text.len() {
        if recovering && text[pos..].starts_with('}') {
            pos = skip_trivia(text, pos + 1);
            continue;
        }
        let rest = &text[pos..];
        match RulesParser::parse(Rule::one_item, rest) {
            Ok(mut pairs) => {
                let Some(one) = pairs.next() else { break };
                let end = one.as_span().end();
                let b = Builder { file, base: pos };
                if let Some(item) = one.into_inner().next() {
                    out.items.push(b.item(item));
                }
                pos = skip_trivia(text, pos + end.max(1));
            }
            Err(e) => {
                let at = match e.location {
                    pest::error::InputLocation::Pos(p) => p,
                    pest::error::InputLocation::Span((s, _)) => s,
                };
                let abs = pos + at;
                // Rules before the error inside the failed item are read
                // again on their own; an error met twice is reported once.
                if !diags
                    .iter()
                    .any(|d: &Diagnostic| d.span.start as usize == abs)
                {
                    diags.push(syntax_error(file, text, abs, &e.variant));
                }
                recovering = true;
                pos = skip_trivia(text, resume_point(text, pos));
            }
        }
    }
    (out, diags)
}

/// The offset of the first `(` or `[` nested deeper than [`MAX_NESTING`]
/// (strings and comments skipped), if any.
fn too_deep(text: &str) -> Option<usize> {
    let b = text.as_bytes();
    let (mut depth, mut i) = (0usize, 0usize);
    while i < b.len() {
        match b[i] {
            b'#' => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' && b[i] != b'\n' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'(' | b'[' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Some(i);
                }
            }
            b')' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    None
}

/// Skips whitespace and comments from `pos`.
fn skip_trivia(text: &str, mut pos: usize) -> usize {
    let b = text.as_bytes();
    while pos < b.len() {
        match b[pos] {
            b' ' | b'\t' | b'\r' | b'\n' => pos += 1,
            b'#' => {
                while pos < b.len() && b[pos] != b'\n' {
                    pos += 1;
                }
            }
            _ => break,
        }
    }
    pos
}

/// The start of the next line, after `pos`, that begins (after its
/// indentation) with `rule`, `ruleset` or `include`; the end of the text
/// if none.
fn resume_point(text: &str, pos: usize) -> usize {
    let mut line_start = match text.get(pos..).and_then(|s| s.find('\n')) {
        Some(i) => pos + i + 1,
        None => return text.len(),
    };
    while line_start < text.len() {
        let line = text[line_start..].trim_start_matches([' ', '\t']);
        for kw in ["rule ", "ruleset ", "include "] {
            if line.starts_with(kw) {
                return text.len() - line.len();
            }
        }
        match line.find('\n') {
            Some(i) => line_start = text.len() - line.len() + i + 1,
            None => return text.len(),
        }
    }
    text.len()
}

fn syntax_error(
    file: u32,
    text: &str,
    at: usize,
    variant: &pest::error::ErrorVariant<Rule>,
) -> Diagnostic {
    let found = describe_found(text, at);
    let message = match variant {
        pest::error::ErrorVariant::ParsingError { positives, .. } if !positives.is_empty() => {
            let mut names: Vec<&str> = positives.iter().filter_map(|r| rule_name(*r)).collect();
            names.dedup();
            let mut uniq: Vec<&str> = Vec::new();
            for n in names {
                if !uniq.contains(&n) {
                    uniq.push(n);
                }
            }
            // Literals are expressions: say it once.
            if uniq.contains(&"an expression") {
                uniq.retain(|n| !matches!(*n, "a string" | "a number" | "a name"));
            }
            format!("expected {}, found {found}", join_or(&uniq))
        }
        pest::error::ErrorVariant::CustomError { message } => message.clone(),
        _ => format!("unexpected {found}"),
    };
    let end = next_char_end(text, at);
    let d = Diagnostic::error(code::SYNTAX, Span::new(file, at, end), message);
    let rest = text.get(at..).unwrap_or("");
    if rest.starts_with('"') {
        return d.with_help(
            "a string ends on the line it starts; escapes: \\\" \\\\ \\n \\r \\t \\xNN",
        );
    }
    if rest.starts_with('=') && !rest.starts_with("==") {
        return d.with_help("compare with `==`; `=` only names an argument: block(status = 403)");
    }
    d
}

fn next_char_end(text: &str, at: usize) -> usize {
    text.get(at..)
        .and_then(|s| s.chars().next())
        .map(|c| at + c.len_utf8())
        .unwrap_or(at)
}

fn describe_found(text: &str, at: usize) -> String {
    let rest = text.get(at..).unwrap_or("");
    match rest.chars().next() {
        None => "end of file".to_string(),
        Some('\n') | Some('\r') => "end of line".to_string(),
        Some(c) if c.is_ascii_alphanumeric() || c == '_' => {
            let w: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            format!("`{w}`")
        }
        Some(c) => format!("`{c}`"),
    }
}

fn join_or(names: &[&str]) -> String {
    match names {
        [] => "something else".to_string(),
        [one] => one.to_string(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// Human names of the grammar rules that can appear in "expected ...".
fn rule_name(r: Rule) -> Option<&'static str> {
    Some(match r {
        Rule::kw_include | Rule::kw_ruleset | Rule::kw_rule | Rule::one_item => {
            "`rule`, `ruleset` or `include`"
        }
        Rule::kw_tags
        | Rule::kw_severity
        | Rule::kw_confidence
        | Rule::kw_origin
        | Rule::kw_host
        | Rule::kw_method
        | Rule::kw_endpoint
        | Rule::kw_when
        | Rule::kw_then => "a clause (`when`, `then`, `tags`, ...)",
        Rule::kw_priority => "`priority`",
        Rule::string | Rule::str_inner => "a string",
        Rule::int => "an integer",
        Rule::number => "a number",
        Rule::rule_id => "a rule id",
        Rule::ident | Rule::arg_name => "a name",
        Rule::tag | Rule::word => "a tag",
        Rule::expr
        | Rule::or_expr
        | Rule::and_expr
        | Rule::unary
        | Rule::neg
        | Rule::cmp
        | Rule::quant
        | Rule::quant_kw
        | Rule::call
        | Rule::list
        | Rule::duration
        | Rule::boolean
        | Rule::paren
        | Rule::point
        | Rule::kw_any
        | Rule::kw_all => "an expression",
        // `not` where an operator may stand is the start of `not in`.
        Rule::cmp_op | Rule::glob_op | Rule::in_op | Rule::not_in | Rule::kw_not => "an operator",
        Rule::kw_and | Rule::kw_or => "`and`, `or`",
        Rule::action => "an action",
        Rule::arg => "an argument",
        Rule::member | Rule::wild | Rule::deep_wild | Rule::bracket | Rule::layer => "a path step",
        Rule::index => "an index",
        Rule::EOI => "end of file",
        _ => return None,
    })
}

/// Turns pairs into AST nodes; offsets are relative to `base`.
struct Builder {
    file: u32,
    base: usize,
}

impl Builder {
    fn span(&self, p: &Pair<'_, Rule>) -> Span {
        let s = p.as_span();
        Span::new(self.file, self.base + s.start(), self.base + s.end())
    }

    fn spanned_str(&self, p: &Pair<'_, Rule>) -> Spanned<String> {
        Spanned::new(p.as_str().to_string(), self.span(p))
    }

    fn item(&self, p: Pair<'_, Rule>) -> Item {
        match p.as_rule() {
            Rule::include => {
                let s = p.into_inner().nth(1);
                Item::Include(match s {
                    Some(s) => self.string(&s),
                    None => Spanned::new(String::new(), Span::default()),
                })
            }
            Rule::ruleset => Item::RuleSet(self.ruleset(p)),
            _ => Item::Rule(self.rule(p)),
        }
    }

    fn ruleset(&self, p: Pair<'_, Rule>) -> RuleSet {
        let span = self.span(&p);
        let mut set = RuleSet {
            name: Spanned::new(String::new(), span),
            priority: Spanned::new(0, span),
            clauses: Vec::new(),
            rules: Vec::new(),
            span,
        };
        for c in p.into_inner() {
            match c.as_rule() {
                Rule::string => set.name = self.string(&c),
                Rule::int => {
                    set.priority = Spanned::new(c.as_str().parse().unwrap_or(0), self.span(&c))
                }
                Rule::rule => set.rules.push(self.rule(c)),
                Rule::kw_ruleset | Rule::kw_priority => {}
                _ => set.clauses.push(self.clause(c)),
            }
        }
        set
    }

    fn rule(&self, p: Pair<'_, Rule>) -> Rule_ {
        let span = self.span(&p);
        let mut rule = Rule_ {
            id: Spanned::new(String::new(), span),
            name: Spanned::new(String::new(), span),
            clauses: Vec::new(),
            span,
        };
        for c in p.into_inner() {
            match c.as_rule() {
                Rule::rule_id => rule.id = self.spanned_str(&c),
                Rule::string => rule.name = self.string(&c),
                Rule::kw_rule => {}
                _ => rule.clauses.push(self.clause(c)),
            }
        }
        rule
    }

    fn clause(&self, p: Pair<'_, Rule>) -> Clause {
        let span = self.span(&p);
        let which = p.as_rule();
        let mut inner = p.into_inner();
        let keyword = inner.next().map(|k| self.span(&k)).unwrap_or(span);
        let rest: Vec<Pair<'_, Rule>> = inner.collect();
        let kind = match which {
            Rule::tags => ClauseKind::Tags(
                rest.iter()
                    .map(|t| match t.clone().into_inner().next() {
                        Some(s) if s.as_rule() == Rule::string => self.string(&s),
                        _ => self.spanned_str(t),
                    })
                    .collect(),
            ),
            Rule::severity => ClauseKind::Severity(self.first_str(&rest, span)),
            Rule::confidence => {
                let s = self.first_str(&rest, span);
                ClauseKind::Confidence(Spanned::new(s.value.parse().unwrap_or(f64::NAN), s.span))
            }
            Rule::origin => ClauseKind::Origin {
                kind: self.first_str(&rest, span),
                explanation: rest.get(1).map(|s| self.string(s)),
            },
            Rule::host => ClauseKind::Host(rest.iter().map(|s| self.string(s)).collect()),
            Rule::method => ClauseKind::Method(rest.iter().map(|s| self.spanned_str(s)).collect()),
            Rule::endpoint => ClauseKind::Endpoint(rest.iter().map(|s| self.string(s)).collect()),
            Rule::when => ClauseKind::When(match rest.into_iter().next() {
                Some(e) => self.expr(e),
                None => Expr {
                    kind: ExprKind::Bool(true),
                    span,
                },
            }),
            _ => ClauseKind::Then(rest.into_iter().map(|a| self.action(a)).collect()),
        };
        Clause {
            kind,
            keyword,
            span,
        }
    }

    fn first_str(&self, rest: &[Pair<'_, Rule>], span: Span) -> Spanned<String> {
        rest.first()
            .map(|p| self.spanned_str(p))
            .unwrap_or_else(|| Spanned::new(String::new(), span))
    }

    fn action(&self, p: Pair<'_, Rule>) -> Action {
        let span = self.span(&p);
        let mut inner = p.into_inner();
        let name = inner
            .next()
            .map(|n| self.spanned_str(&n))
            .unwrap_or_else(|| Spanned::new(String::new(), span));
        Action {
            name,
            args: inner.map(|a| self.arg(a)).collect(),
            span,
        }
    }

    fn arg(&self, p: Pair<'_, Rule>) -> Arg {
        let span = self.span(&p);
        let mut name = None;
        let mut value = None;
        for c in p.into_inner() {
            match c.as_rule() {
                Rule::arg_name => name = Some(self.spanned_str(&c)),
                _ => value = Some(self.expr(c)),
            }
        }
        Arg {
            name,
            value: value.unwrap_or(Expr {
                kind: ExprKind::Bool(false),
                span,
            }),
            span,
        }
    }

    /// Decodes a `string` pair (with quotes) into its text. Escapes are
    /// already validated by the grammar. Non-UTF-8 bytes (from `\xNN`) are
    /// kept in [`Builder::string_bytes`]; here they are replaced.
    fn string(&self, p: &Pair<'_, Rule>) -> Spanned<String> {
        let bytes = self.string_bytes(p);
        Spanned::new(String::from_utf8_lossy(&bytes).into_owned(), self.span(p))
    }

    fn string_bytes(&self, p: &Pair<'_, Rule>) -> Vec<u8> {
        let raw = p.as_str();
        let inner = raw
            .strip_prefix('"')
            .and_then(|s| s.strip_suffix('"'))
            .unwrap_or(raw);
        unescape(inner)
    }

    fn expr(&self, p: Pair<'_, Rule>) -> Expr {
        let span = self.span(&p);
        match p.as_rule() {
            Rule::expr | Rule::paren => match p.into_inner().next() {
                Some(e) => self.expr(e),
                None => Expr {
                    kind: ExprKind::Bool(false),
                    span,
                },
            },
            Rule::or_expr | Rule::and_expr => {
                let is_or = p.as_rule() == Rule::or_expr;
                let mut parts: Vec<Expr> = p
                    .into_inner()
                    .filter(|c| !matches!(c.as_rule(), Rule::kw_or | Rule::kw_and))
                    .map(|c| self.expr(c))
                    .collect();
                if parts.len() == 1 {
                    return parts.pop().unwrap_or(Expr {
                        kind: ExprKind::Bool(false),
                        span,
                    });
                }
                let kind = if is_or {
                    ExprKind::Or(parts)
                } else {
                    ExprKind::And(parts)
                };
                Expr { kind, span }
            }
            Rule::unary => {
                let mut negs = Vec::new();
                let mut body = None;
                for c in p.into_inner() {
                    if c.as_rule() == Rule::neg {
                        negs.push(self.span(&c));
                    } else {
                        body = Some(self.expr(c));
                    }
                }
                let mut e = body.unwrap_or(Expr {
                    kind: ExprKind::Bool(false),
                    span,
                });
                // `not not x` is `x`: only the parity of a run of `not`s
                // matters (and a long run must not deepen the tree).
                if negs.len() % 2 == 1 {
                    let sp = negs[0].join(e.span);
                    e = Expr {
                        kind: ExprKind::Not(Box::new(e)),
                        span: sp,
                    };
                }
                e
            }
            Rule::cmp => {
                let mut inner = p.into_inner();
                let Some(first) = inner.next() else {
                    return Expr {
                        kind: ExprKind::Bool(false),
                        span,
                    };
                };
                let lhs = self.expr(first);
                let (Some(op), Some(rhs)) = (inner.next(), inner.next()) else {
                    return lhs;
                };
                let rhs = Box::new(self.expr(rhs));
                let lhs = Box::new(lhs);
                let kind = match op.as_rule() {
                    Rule::not_in | Rule::in_op => ExprKind::In {
                        negated: op.as_rule() == Rule::not_in,
                        lhs,
                        list: rhs,
                    },
                    Rule::glob_op => ExprKind::Glob {
                        negated: op.as_str() == "!~",
                        lhs,
                        pattern: rhs,
                    },
                    _ => ExprKind::Cmp {
                        op: match op.as_str() {
                            "==" => CmpOp::Eq,
                            "!=" => CmpOp::Ne,
                            "<" => CmpOp::Lt,
                            "<=" => CmpOp::Le,
                            ">" => CmpOp::Gt,
                            _ => CmpOp::Ge,
                        },
                        lhs,
                        rhs,
                    },
                };
                Expr { kind, span }
            }
            Rule::quant => {
                let mut q = Quantifier::Any;
                let mut path = None;
                let mut body = None;
                for c in p.into_inner() {
                    match c.as_rule() {
                        Rule::quant_kw => {
                            if c.as_str() == "all" {
                                q = Quantifier::All;
                            }
                        }
                        Rule::point => path = Some(self.path(c)),
                        _ => body = Some(self.expr(c)),
                    }
                }
                let path = path.unwrap_or_else(|| PathAst {
                    root: Spanned::new(String::new(), span),
                    steps: Vec::new(),
                    span,
                });
                let body = Box::new(body.unwrap_or(Expr {
                    kind: ExprKind::Bool(false),
                    span,
                }));
                Expr {
                    kind: ExprKind::Quant { q, path, body },
                    span,
                }
            }
            Rule::call => {
                let mut inner = p.into_inner();
                let name = inner
                    .next()
                    .map(|n| self.spanned_str(&n))
                    .unwrap_or_else(|| Spanned::new(String::new(), span));
                Expr {
                    kind: ExprKind::Call {
                        name,
                        args: inner.map(|a| self.arg(a)).collect(),
                    },
                    span,
                }
            }
            Rule::list => Expr {
                kind: ExprKind::List(p.into_inner().map(|c| self.expr(c)).collect()),
                span,
            },
            Rule::duration => {
                let s = p.as_str();
                let digits: String = s.chars().take_while(|c| c.is_ascii_digit()).collect();
                Expr {
                    kind: ExprKind::Duration {
                        amount: digits.parse().unwrap_or(u64::MAX),
                        unit: s[digits.len()..].to_string(),
                    },
                    span,
                }
            }
            Rule::number => Expr {
                kind: ExprKind::Num(p.as_str().parse().unwrap_or(f64::NAN)),
                span,
            },
            Rule::string => Expr {
                kind: ExprKind::Str(self.string_bytes(&p)),
                span,
            },
            Rule::boolean => Expr {
                kind: ExprKind::Bool(p.as_str() == "true"),
                span,
            },
            _ => Expr {
                kind: ExprKind::Point(self.path(p)),
                span,
            },
        }
    }

    fn path(&self, p: Pair<'_, Rule>) -> PathAst {
        let span = self.span(&p);
        let mut inner = p.into_inner();
        let root = inner
            .next()
            .map(|r| self.spanned_str(&r))
            .unwrap_or_else(|| Spanned::new(String::new(), span));
        let mut steps = Vec::new();
        for s in inner {
            let sp = self.span(&s);
            let step = match s.as_rule() {
                Rule::deep_wild => StepAst::DeepWild,
                Rule::wild => StepAst::Wild,
                Rule::member => StepAst::Member(
                    s.into_inner()
                        .next()
                        .map(|i| i.as_str().as_bytes().to_vec())
                        .unwrap_or_default(),
                ),
                Rule::layer => StepAst::Layer(
                    s.into_inner()
                        .next()
                        .map(|i| i.as_str().to_string())
                        .unwrap_or_default(),
                ),
                _ => match s.into_inner().next() {
                    Some(i) if i.as_rule() == Rule::index => {
                        StepAst::Index(i.as_str().parse().unwrap_or(u32::MAX))
                    }
                    Some(q) => StepAst::Member(self.string_bytes(&q)),
                    None => StepAst::Wild,
                },
            };
            steps.push(Spanned::new(step, sp));
        }
        PathAst { root, steps, span }
    }
}

type Rule_ = crate::ast::Rule;

/// Decodes the escapes the grammar allows: `\"`, `\\`, `\n`, `\r`, `\t`, `\xNN`.
pub(crate) fn unescape(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 1 < b.len() {
            let c = b[i + 1];
            i += 2;
            match c {
                b'n' => out.push(b'\n'),
                b'r' => out.push(b'\r'),
                b't' => out.push(b'\t'),
                b'x' => {
                    let hex = s.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok());
                    if let Some(v) = hex {
                        out.push(v);
                        i += 2;
                    }
                }
                other => out.push(other),
            }
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    out
}

/// True when the whole text matches the grammar's `file` rule (used by the
/// fuzz target to cross-check the item-by-item reader).
pub fn matches_grammar(text: &str) -> bool {
    RulesParser::parse(Rule::file, text).is_ok()
}
