//! `rampart rules fmt`: one canonical layout for a rule file.
//!
//! - Four spaces of indentation; one blank line between top-level items
//!   and between the rules of a rule set (consecutive `include`s stay
//!   together); a rule set's scope clauses come first.
//! - Clauses in the order of the spec's table: `tags`, `severity`,
//!   `confidence`, `origin`, `host`, `method`, `endpoint`, `when`, `then`
//!   (each clause may appear once, so the order carries no meaning).
//! - Expressions with single spaces around operators and after commas,
//!   parentheses only where the tree needs them; a `when` line longer than
//!   [`WIDTH`] breaks before each top-level `or` (or `and`).
//! - Strings re-escaped canonically; `.name` for members that are
//!   identifiers, `["..."]` otherwise; tags as bare words when they can be.
//!
//! **Comments.** The parser drops comments, so the formatter finds them in
//! the source by position ([`comments`]) and keeps every one: a comment on
//! its own line stays before the item, rule or clause that follows it (a
//! blank line after it is kept); a comment after code on the same line
//! stays at the end of that line; comments before a closing `}` stay
//! there. A comment *inside* a clause (between the lines of a long
//! condition) cannot keep its place once the clause is laid out again: it
//! moves to the line before the clause. No comment is ever dropped.
//!
//! The output is checked before it is returned: it must parse to the same
//! tree as the input (spans aside), or the file is left alone with an
//! error. Formatting is idempotent: `format(format(x)) == format(x)`.

use std::fmt::{self, Write as _};

use crate::ast::{Clause, ClauseKind, File, Item, Rule, RuleSet};
use crate::diag::Diagnostics;
use crate::parser::parse_file;
use crate::span::SourceMap;

mod comments;
mod expr;
#[cfg(test)]
mod tests;

use comments::{Comment, Cursor};
use expr::{ExprPrinter, Prec};

/// A string literal of the rule language holding `text` (escaped as the
/// formatter writes strings).
pub fn quote(text: &str) -> String {
    expr::quote(text.as_bytes())
}

/// A `when` line longer than this breaks at its top-level operators.
pub const WIDTH: usize = 80;

const INDENT: &str = "    ";

/// Why a file was not formatted.
#[derive(Debug, Clone)]
pub enum FmtError {
    /// The file does not parse; the syntax errors.
    Syntax(Box<Diagnostics>),
    /// The formatter would have changed the file's meaning (a bug): the
    /// file is left alone.
    Internal(String),
}

impl fmt::Display for FmtError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FmtError::Syntax(d) => f.write_str(&d.render()),
            FmtError::Internal(why) => {
                write!(f, "internal formatter error, file left alone: {why}")
            }
        }
    }
}

impl std::error::Error for FmtError {}

/// Formats one rule file (includes are not followed).
pub fn format_source(name: &str, src: &str) -> Result<String, FmtError> {
    let mut sources = SourceMap::new();
    let id = sources.add(name, src);
    let (file, diags) = parse_file(id, src);
    if !diags.is_empty() {
        return Err(FmtError::Syntax(Box::new(Diagnostics {
            list: diags,
            sources,
        })));
    }
    let out = Printer::new(src).file(&file);
    let (again, diags) = parse_file(id, &out);
    if !diags.is_empty() {
        return Err(FmtError::Internal(format!(
            "the output does not parse: {}",
            diags.first().map(|d| d.message.as_str()).unwrap_or("")
        )));
    }
    if shape(&canonical_order(file)) != shape(&again) {
        return Err(FmtError::Internal(
            "the output parses to another tree".into(),
        ));
    }
    Ok(out)
}

/// The tree with clauses in the printed order.
fn canonical_order(mut f: File) -> File {
    fn sort(clauses: &mut [Clause]) {
        clauses.sort_by_key(|c| clause_rank(&c.kind));
    }
    for item in &mut f.items {
        match item {
            Item::Rule(r) => sort(&mut r.clauses),
            Item::RuleSet(set) => {
                sort(&mut set.clauses);
                for r in &mut set.rules {
                    sort(&mut r.clauses);
                }
            }
            Item::Include(_) => {}
        }
    }
    f
}

/// The tree without spans, for comparing two parses.
fn shape(f: &File) -> String {
    let dbg = format!("{:?}", f.items);
    let mut out = String::with_capacity(dbg.len());
    let mut rest = dbg.as_str();
    while let Some(i) = rest.find("Span { file: ") {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        match rest.find('}') {
            Some(j) => rest = &rest[j + 1..],
            None => break,
        }
        out.push_str("Span");
    }
    out.push_str(rest);
    out
}

/// Comments attached to one construct.
#[derive(Debug, Default)]
struct Attached {
    leading: Vec<Comment>,
    trailing: Option<Comment>,
}

struct Printer<'a> {
    src: &'a str,
    e: ExprPrinter<'a>,
    comments: Cursor<'a>,
    out: String,
}

impl<'a> Printer<'a> {
    fn new(src: &'a str) -> Printer<'a> {
        Printer {
            src,
            e: ExprPrinter { src },
            comments: Cursor::new(src),
            out: String::new(),
        }
    }

    fn file(mut self, f: &File) -> String {
        let mut prev_include = None;
        for item in &f.items {
            let start = item_start(item);
            let leading = self.comments.before(start);
            let is_include = matches!(item, Item::Include(_));
            if let Some(was_include) = prev_include {
                if !(was_include && is_include && leading.is_empty()) {
                    self.out.push('\n');
                }
            }
            self.leading(&leading, 0);
            match item {
                Item::Include(s) => {
                    let line = format!("include {}", self.e.source_string(s.span));
                    self.line(0, &line);
                    let t = self.comments.trailing(s.span.end);
                    self.trail(t);
                }
                Item::RuleSet(set) => self.ruleset(set),
                Item::Rule(rule) => self.rule(rule, 0),
            }
            prev_include = Some(is_include);
        }
        let rest = self.comments.rest();
        if let Some(first) = rest.first() {
            if !self.out.is_empty() && first.blank_before {
                self.out.push('\n');
            }
        }
        self.leading(&rest, 0);
        self.out
    }

    fn line(&mut self, depth: usize, text: &str) {
        for _ in 0..depth {
            self.out.push_str(INDENT);
        }
        self.out.push_str(text);
        self.out.push('\n');
    }

    /// Appends a trailing comment to the last line.
    fn trail(&mut self, c: Option<Comment>) {
        if let Some(c) = c {
            if self.out.ends_with('\n') {
                self.out.pop();
            }
            let _ = writeln!(self.out, "  {}", c.text);
        }
    }

    fn leading(&mut self, list: &[Comment], depth: usize) {
        for c in list {
            self.line(depth, &c.text);
            if c.blank_after {
                self.out.push('\n');
            }
        }
    }

    /// The offset just after the `{` that follows `from`.
    fn brace_after(&self, from: u32) -> u32 {
        let b = self.src.as_bytes();
        let mut i = from as usize;
        while i < b.len() {
            match b[i] {
                b'{' => return i as u32 + 1,
                b'#' => {
                    while i < b.len() && b[i] != b'\n' {
                        i += 1;
                    }
                }
                _ => i += 1,
            }
        }
        from
    }

    /// Header line, its comments, and the comments before the `}`.
    fn open(&mut self, depth: usize, header: String, after: u32) -> u32 {
        let brace = self.brace_after(after);
        let hoisted = self.comments.before(brace);
        self.leading(&hoisted, depth);
        self.line(depth, &header);
        let t = self.comments.trailing(brace);
        self.trail(t);
        brace
    }

    fn close(&mut self, depth: usize, end: u32) {
        let inner = self.comments.before(end.saturating_sub(1));
        self.leading(&inner, depth + 1);
        self.line(depth, "}");
        let t = self.comments.trailing(end);
        self.trail(t);
    }

    fn ruleset(&mut self, set: &RuleSet) {
        let header = format!(
            "ruleset {} priority {} {{",
            self.e.source_string(set.name.span),
            set.priority.value
        );
        self.open(0, header, set.priority.span.end);
        // Attach comments in source order, then print clauses first.
        enum Child<'r> {
            Clause(&'r Clause),
            Rule(&'r Rule),
        }
        let mut children: Vec<(u32, Child<'_>)> = set
            .clauses
            .iter()
            .map(|c| (c.span.start, Child::Clause(c)))
            .chain(set.rules.iter().map(|r| (r.span.start, Child::Rule(r))))
            .collect();
        children.sort_by_key(|(s, _)| *s);
        let mut clauses = Vec::new();
        let mut rules = Vec::new();
        for (_, ch) in children {
            match ch {
                Child::Clause(c) => {
                    let a = self.attach_clause(c);
                    clauses.push((c, a));
                }
                Child::Rule(r) => {
                    let leading = self.comments.before(r.span.start);
                    // A rule is printed (with its own comments) later, so
                    // its comments are taken now, in order.
                    let text = self.rule_text(r);
                    rules.push((leading, text));
                }
            }
        }
        clauses.sort_by_key(|(c, _)| clause_rank(&c.kind));
        for (c, a) in clauses {
            self.clause(c, a, 1);
        }
        for (i, (leading, text)) in rules.into_iter().enumerate() {
            if i > 0 || !set.clauses.is_empty() {
                self.out.push('\n');
            }
            self.leading(&leading, 1);
            self.out.push_str(&text);
        }
        self.close(0, set.span.end);
    }

    /// A rule printed on its own (taking its comments from the cursor).
    fn rule_text(&mut self, r: &Rule) -> String {
        let saved = std::mem::take(&mut self.out);
        self.rule(r, 1);
        std::mem::replace(&mut self.out, saved)
    }

    fn rule(&mut self, r: &Rule, depth: usize) {
        let header = format!(
            "rule {} {} {{",
            r.id.value,
            self.e.source_string(r.name.span)
        );
        self.open(depth, header, r.name.span.end);
        let mut clauses: Vec<(&Clause, Attached)> =
            r.clauses.iter().map(|c| (c, Attached::default())).collect();
        for (c, a) in clauses.iter_mut() {
            *a = self.attach_clause(c);
        }
        clauses.sort_by_key(|(c, _)| clause_rank(&c.kind));
        for (c, a) in clauses {
            self.clause(c, a, depth + 1);
        }
        self.close(depth, r.span.end);
    }

    fn attach_clause(&mut self, c: &Clause) -> Attached {
        let mut leading = self.comments.before(c.span.start);
        let end = self.comments.trim_end(c.span.start, c.span.end);
        // Comments inside the clause move before it.
        let inner = self.comments.before(end);
        leading.extend(inner.into_iter().map(|mut x| {
            x.blank_after = false;
            x
        }));
        let trailing = self.comments.trailing(end);
        Attached { leading, trailing }
    }

    fn clause(&mut self, c: &Clause, a: Attached, depth: usize) {
        self.leading(&a.leading, depth);
        match &c.kind {
            ClauseKind::When(e) => self.when(e, depth),
            other => {
                let text = self.clause_text(other);
                self.line(depth, &text);
            }
        }
        self.trail(a.trailing);
    }

    fn clause_text(&self, k: &ClauseKind) -> String {
        let strings = |list: &[crate::span::Spanned<String>]| {
            list.iter()
                .map(|s| self.e.source_string(s.span))
                .collect::<Vec<_>>()
                .join(", ")
        };
        match k {
            ClauseKind::Tags(tags) => {
                let t: Vec<String> = tags.iter().map(|t| self.tag(t)).collect();
                format!("tags {}", t.join(", "))
            }
            ClauseKind::Severity(s) => format!("severity {}", s.value),
            ClauseKind::Confidence(c) => format!("confidence {}", expr::number(c.value)),
            ClauseKind::Origin { kind, explanation } => match explanation {
                Some(x) => format!("origin {} {}", kind.value, self.e.source_string(x.span)),
                None => format!("origin {}", kind.value),
            },
            ClauseKind::Host(h) => format!("host {}", strings(h)),
            ClauseKind::Method(m) => format!(
                "method {}",
                m.iter()
                    .map(|x| x.value.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            ClauseKind::Endpoint(e) => format!("endpoint {}", strings(e)),
            ClauseKind::When(e) => format!("when {}", self.e.expr(e, Prec::Or)),
            ClauseKind::Then(actions) => {
                let a: Vec<String> = actions
                    .iter()
                    .map(|a| {
                        // `block()` and `block` are one action; keep the
                        // parentheses only with arguments.
                        if a.args.is_empty() {
                            a.name.value.clone()
                        } else {
                            format!("{}({})", a.name.value, self.e.args(&a.args))
                        }
                    })
                    .collect();
                format!("then {}", a.join(", "))
            }
        }
    }

    /// A tag as a bare word when the grammar reads it as one.
    fn tag(&self, t: &crate::span::Spanned<String>) -> String {
        let quoted = self.src.as_bytes().get(t.span.start as usize) == Some(&b'"');
        if !quoted {
            return t.value.clone();
        }
        let bytes = self.e.source_bytes(t.span);
        let word = !bytes.is_empty()
            && bytes
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'/'));
        if word {
            String::from_utf8_lossy(&bytes).into_owned()
        } else {
            self.e.source_string(t.span)
        }
    }

    fn when(&mut self, e: &crate::ast::Expr, depth: usize) {
        let one = format!("when {}", self.e.expr(e, Prec::Or));
        let width = depth * INDENT.len() + one.chars().count();
        let (parts, op, prec) = match &e.kind {
            crate::ast::ExprKind::Or(p) => (p, "or", Prec::And),
            crate::ast::ExprKind::And(p) => (p, "and", Prec::Not),
            _ => {
                self.line(depth, &one);
                return;
            }
        };
        if width <= WIDTH {
            self.line(depth, &one);
            return;
        }
        for (i, p) in parts.iter().enumerate() {
            let text = self.e.expr(p, prec);
            if i == 0 {
                self.line(depth, &format!("when {text}"));
            } else {
                self.line(depth, &format!("  {op} {text}"));
            }
        }
    }
}

fn item_start(item: &Item) -> u32 {
    match item {
        Item::Include(s) => s.span.start,
        Item::RuleSet(r) => r.span.start,
        Item::Rule(r) => r.span.start,
    }
}

fn clause_rank(k: &ClauseKind) -> u8 {
    match k {
        ClauseKind::Tags(_) => 0,
        ClauseKind::Severity(_) => 1,
        ClauseKind::Confidence(_) => 2,
        ClauseKind::Origin { .. } => 3,
        ClauseKind::Host(_) => 4,
        ClauseKind::Method(_) => 5,
        ClauseKind::Endpoint(_) => 6,
        ClauseKind::When(_) => 7,
        ClauseKind::Then(_) => 8,
    }
}
