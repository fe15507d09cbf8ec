//! XPath injection.
//!
//! The value is read as if pasted into a string literal of an XPath
//! predicate, `//user[name='VALUE']`. A breakout is a quote followed by
//! `or`, `and`, `]`, `)` or `|` (not `||`); or, for a number, the first
//! token followed by `or`, `and`, `]` or `|`. The rest of the value is then cut into XPath
//! tokens (literals, numbers, names, operators; at most 64 tokens and 512
//! bytes) and scored:
//!
//! - `xpath.breakout` (80): the tail holds syntax only XPath has: a
//!   location path (`/*`, `//user`, `/@id`), an axis (`ancestor::`), a
//!   step predicate (`user[@id`, `user[name='x'`; not an index, `s[k]`),
//!   a union with a path (`| //*`) or an
//!   XPath-only function (`name()`, `text()`, `position()`,
//!   `string-length(`, `normalize-space(`, `starts-with(`, `local-name(`,
//!   `true()`, `doc(`...). `' or count(/*)=1 or '`, `'] | //* | a['`.
//! - `xpath.tautology` (40): the tail compares two equal literals, `' or
//!   '1'='1`, or calls a function XPath shares with SQL (`substring(`,
//!   `count(`, `concat(`, `contains(`); SQL injection reads the same, so
//!   this is only suspicious here (the SQL detector scores SQL).
//! - `xpath.expression` (40): a whole XPath expression in the value, a
//!   path with a predicate or an axis (`//user[@name='x']`,
//!   `count(//user)`): an application rarely takes one from a user.
//!
//! A tail that holds SQL-only syntax (`--`, `#`, `@@`, `select`, `union`,
//! `sleep(`...) is left to the SQL detector, and one that holds code
//! (`;`, `{`, `==`, `&&`, `||`, `=>`, backquotes) is left alone: code
//! review comments are full of quotes followed by `||` and `s[k]`.

use rampart_plugin_api::{Class, DetectCtx, Detector, Finding, PluginInfo};

use crate::util::{head, in_table, is_ident, skip_ws, starts_ci, Reporter};

const NAME: &str = "xpath";

/// Quotes examined as breakout positions.
const MAX_QUOTES: usize = 16;
/// Tokens read after a breakout.
const MAX_TOKENS: usize = 64;
/// Bytes read after a breakout.
const MAX_TAIL: usize = 512;

/// The XPath-injection detector (plugin `xpath`, class [`Class::Xpath`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct XpathDetector;

impl Detector for XpathDetector {
    fn info(&self) -> PluginInfo {
        PluginInfo {
            name: NAME,
            version: env!("CARGO_PKG_VERSION"),
            description: "XPath injection: breakouts of a string literal into XPath syntax",
        }
    }

    fn classes(&self) -> &'static [Class] {
        &[Class::Xpath]
    }

    fn inspect(&self, value: &[u8], ctx: &DetectCtx<'_>, out: &mut Vec<Finding>) {
        let s = head(value);
        // Every rule needs a quote, a bracket, a bar, a slash or a call.
        if !s
            .iter()
            .any(|b| matches!(b, b'\'' | b'"' | b']' | b'|' | b'/' | b'('))
        {
            return;
        }
        let mut rep = Reporter::new(out, ctx, Class::Xpath, NAME, value.len());
        scan(s, &mut rep);
    }
}

/// Functions only XPath has (or that SQL has under another shape).
const STRONG_FN: &[&str] = &[
    "boolean",
    "codepoints-to-string",
    "comment",
    "doc",
    "document",
    "document-uri",
    "ends-with",
    "environment-variable",
    "false",
    "last",
    "local-name",
    "lower-case",
    "matches",
    "name",
    "namespace-uri",
    "node",
    "normalize-space",
    "position",
    "processing-instruction",
    "starts-with",
    "string-join",
    "string-length",
    "string-to-codepoints",
    "substring-after",
    "substring-before",
    "text",
    "translate",
    "true",
    "unparsed-text",
    "upper-case",
];

/// Functions XPath shares with SQL or programming languages.
const WEAK_FN: &[&str] = &[
    "ceiling",
    "concat",
    "contains",
    "count",
    "floor",
    "not",
    "number",
    "round",
    "string",
    "substring",
    "sum",
];

const AXES: &[&str] = &[
    "ancestor",
    "ancestor-or-self",
    "attribute",
    "child",
    "descendant",
    "descendant-or-self",
    "following",
    "following-sibling",
    "namespace",
    "parent",
    "preceding",
    "preceding-sibling",
    "self",
];

/// SQL words that tell a tail is SQL, not XPath.
const SQL_WORDS: &[&str] = &[
    "benchmark",
    "char",
    "database",
    "delete",
    "drop",
    "exec",
    "from",
    "having",
    "insert",
    "select",
    "sleep",
    "union",
    "update",
    "waitfor",
    "where",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok {
    /// A string literal: content span (closed or running to the end).
    Str(usize, usize),
    Num(usize, usize),
    Name(usize, usize),
    /// An operator or punctuation byte (`//` is `/` twice).
    Op(u8),
    /// `::`
    Axis,
}

/// What a tail holds.
#[derive(Debug, Default, Clone, Copy)]
struct Tail {
    /// Syntax nothing but XPath has: an axis, an XPath-only function,
    /// `//`, `/*`, `/@`, `[@`.
    sure: bool,
    /// `sure`, or a relative path step `/name` or a predicate `name[`.
    strong: bool,
    weak: bool,
    tautology: bool,
    sql: bool,
    end: usize,
}

/// Lexes from `start` into `toks`, at most `max` tokens (and
/// [`MAX_TOKENS`]): the count and where lexing stopped.
fn lex(s: &[u8], start: usize, toks: &mut [Tok; MAX_TOKENS], max: usize) -> (usize, usize) {
    let lim = s.len().min(start + MAX_TAIL);
    let max = max.min(MAX_TOKENS);
    let mut n = 0;
    let mut i = start;
    while i < lim && n < max {
        let b = s[i];
        let t = match b {
            b' ' | b'\t' | b'\r' | b'\n' => {
                i += 1;
                continue;
            }
            b'\'' | b'"' => {
                let c = i + 1;
                let e = s[c..lim]
                    .iter()
                    .position(|&x| x == b)
                    .map_or(lim, |k| c + k);
                i = if e < lim { e + 1 } else { lim };
                Tok::Str(c, e)
            }
            b'0'..=b'9' => {
                let c = i;
                while i < lim && (s[i].is_ascii_digit() || s[i] == b'.') {
                    i += 1;
                }
                Tok::Num(c, i)
            }
            b':' if s.get(i + 1) == Some(&b':') => {
                i += 2;
                Tok::Axis
            }
            _ if b.is_ascii_alphabetic() || b == b'_' => {
                let c = i;
                while i < lim && (is_ident(s[i]) || s[i] == b'-' || s[i] == b'.') {
                    i += 1;
                }
                // A trailing `-` or `.` is no part of a name.
                while i > c + 1 && matches!(s[i - 1], b'-' | b'.') {
                    i -= 1;
                }
                Tok::Name(c, i)
            }
            _ => {
                i += 1;
                Tok::Op(b)
            }
        };
        toks[n] = t;
        n += 1;
    }
    (n, i)
}

fn text(s: &[u8], t: Tok) -> &[u8] {
    match t {
        Tok::Str(a, b) | Tok::Num(a, b) | Tok::Name(a, b) => &s[a..b.min(s.len())],
        _ => b"",
    }
}

fn analyse(s: &[u8], toks: &[Tok]) -> Tail {
    let mut t = Tail::default();
    for (k, &tok) in toks.iter().enumerate() {
        let next = toks.get(k + 1).copied();
        let prev = k.checked_sub(1).map(|p| toks[p]);
        match tok {
            Tok::Name(..) => {
                let w = text(s, tok);
                if next == Some(Tok::Axis) && in_table(AXES, w) {
                    t.sure = true;
                } else if next == Some(Tok::Op(b'(')) {
                    if in_table(STRONG_FN, w) {
                        t.sure = true;
                    } else if in_table(WEAK_FN, w) {
                        t.weak = true;
                    }
                } else if next == Some(Tok::Op(b'[')) && adjacent(s, tok) {
                    // A step with a predicate: `user[@id`, `user[name='x'`,
                    // `user[last()`; not an index, `s[k]`.
                    t.strong |= predicate(&toks[k + 1..]);
                }
                if in_table(SQL_WORDS, w) {
                    t.sql = true;
                }
            }
            Tok::Op(b'/') => {
                let follows = matches!(
                    next,
                    Some(Tok::Op(b'/' | b'*' | b'@')) | Some(Tok::Name(..))
                );
                let leads = matches!(
                    prev,
                    None | Some(Tok::Op(b'(' | b'|' | b'[' | b'=' | b',' | b'/'))
                );
                // After `or`/`and` only `//`, `/*` and `/@` start a path:
                // `'x' and /home/user` is prose.
                let after_keyword = prev.is_some_and(|p| is_keyword(s, p));
                let deep = matches!(next, Some(Tok::Op(b'/' | b'*' | b'@')));
                if follows && (leads || (after_keyword && deep)) {
                    t.strong = true;
                    t.sure |= deep;
                }
            }
            Tok::Op(b'@') => {
                if matches!(prev, Some(Tok::Op(b'@'))) {
                    t.sql = true;
                } else if matches!(prev, Some(Tok::Op(b'[' | b'/'))) {
                    t.sure = true;
                }
            }
            Tok::Op(b'-') if next == Some(Tok::Op(b'-')) => t.sql = true,
            // SQL comments, statement ends, blocks, `==`, `&&`, `||`,
            // `=>`, `->`: SQL or a programming language, not XPath.
            Tok::Op(b'#' | b';' | b'{' | b'}' | b'`' | b'&') => t.sql = true,
            Tok::Op(b'=' | b'|') if next == Some(tok) => t.sql = true,
            Tok::Op(b'=' | b'-') if next == Some(Tok::Op(b'>')) => t.sql = true,
            Tok::Op(b'=') => {
                if let (Some(a), Some(b)) = (prev, next) {
                    let lit = |x: Tok| matches!(x, Tok::Str(..) | Tok::Num(..));
                    if lit(a) && lit(b) && text(s, a) == text(s, b) {
                        t.tautology = true;
                    }
                }
            }
            _ => {}
        }
    }
    t.strong |= t.sure;
    t
}

/// The tokens from a `[` up to its `]` hold `@`, `=` (not `==`), `/` or a
/// call: a predicate, not an index.
fn predicate(toks: &[Tok]) -> bool {
    let inner = toks.iter().skip(1).take_while(|&&t| t != Tok::Op(b']'));
    let mut prev = Tok::Op(b'[');
    for &t in inner {
        let hit = match t {
            Tok::Op(b'@' | b'/') => true,
            Tok::Op(b'(') => matches!(prev, Tok::Name(..)),
            Tok::Op(b'=') => prev != Tok::Op(b'=') && prev != Tok::Op(b'!'),
            _ => false,
        };
        if hit {
            return true;
        }
        prev = t;
    }
    false
}

/// The name token is followed by `[` with no space between.
fn adjacent(s: &[u8], t: Tok) -> bool {
    matches!(t, Tok::Name(_, e) if s.get(e) == Some(&b'['))
}

/// `or`, `and`, `div`, `mod`: XPath keywords after which a path may start.
fn is_keyword(s: &[u8], t: Tok) -> bool {
    let w = text(s, t);
    w == b"or" || w == b"and" || w == b"div" || w == b"mod"
}

/// What follows a breakout position: `or`, `and`, `]`, `)` or `|`.
fn breaks_out(s: &[u8], k: usize) -> bool {
    match s.get(k) {
        Some(b']' | b')') => true,
        Some(b'|') => s.get(k + 1) != Some(&b'|'),
        Some(_) => {
            (starts_ci(s, k, b"or") && !s.get(k + 2).is_some_and(|&b| is_ident(b)))
                || (starts_ci(s, k, b"and") && !s.get(k + 3).is_some_and(|&b| is_ident(b)))
        }
        None => false,
    }
}

fn scan(s: &[u8], rep: &mut Reporter<'_>) {
    let mut toks = [Tok::Op(0); MAX_TOKENS];
    let mut quotes = 0;
    let mut i = 0;
    while quotes < MAX_QUOTES {
        let Some(off) = s[i..].iter().position(|&b| b == b'\'' || b == b'"') else {
            break;
        };
        let q = i + off;
        i = q + 1;
        quotes += 1;
        let k = skip_ws(s, q + 1);
        if !breaks_out(s, k) {
            continue;
        }
        let (n, end) = lex(s, k, &mut toks, MAX_TOKENS);
        let mut t = analyse(s, &toks[..n]);
        t.end = end;
        score(q, t, rep);
    }
    // Without a quote, only a value that starts with a number or a name
    // and then a breakout, with a path, or with a function and a path is
    // read further: three tokens tell.
    let (n3, _) = lex(s, 0, &mut toks, 3);
    let first_breaks = n3 >= 2
        && match toks[0] {
            Tok::Num(_, e) | Tok::Name(_, e) => {
                let after = skip_ws(s, e);
                breaks_out(s, after) && s.get(after) != Some(&b')')
            }
            _ => false,
        };
    if !first_breaks && !s[skip_ws(s, 0)..].starts_with(b"/") && !fn_start(s, &toks[..n3]) {
        return;
    }
    // A number or a name at the start, then a breakout.
    let (n, end) = lex(s, 0, &mut toks, MAX_TOKENS);
    if n >= 2 && matches!(toks[0], Tok::Num(..) | Tok::Name(..)) {
        let after = match toks[0] {
            Tok::Num(_, e) | Tok::Name(_, e) => skip_ws(s, e),
            _ => 0,
        };
        // `1)` starts numbered lists: only `]`, `|`, `or`, `and` here.
        if breaks_out(s, after) && s.get(after) != Some(&b')') {
            let mut t = analyse(s, &toks[..n]);
            t.end = end;
            // Without a quote, only XPath-only syntax counts.
            t.tautology = false;
            t.weak = false;
            t.strong = t.sure;
            score(0, t, rep);
        }
    }
    expression(s, &toks[..n], rep);
}

fn score(at: usize, t: Tail, rep: &mut Reporter<'_>) {
    if t.sql {
        return;
    }
    if t.strong {
        rep.report(
            "xpath.breakout",
            80,
            || "a string-literal breakout into XPath syntax",
            at,
            t.end,
        );
    } else if t.tautology || t.weak {
        rep.report(
            "xpath.tautology",
            40,
            || "a string-literal breakout into a tautology or a shared function",
            at,
            t.end,
        );
    }
}

/// A whole XPath expression: starts with a path or a path function, and
/// holds a predicate, an axis or an attribute step.
/// `name(/`: an XPath function applied to a path.
fn fn_start(s: &[u8], toks: &[Tok]) -> bool {
    matches!(toks, [Tok::Name(..), Tok::Op(b'('), Tok::Op(b'/'), ..])
        && (in_table(STRONG_FN, text(s, toks[0])) || in_table(WEAK_FN, text(s, toks[0])))
}

fn expression(s: &[u8], toks: &[Tok], rep: &mut Reporter<'_>) {
    let start = skip_ws(s, 0);
    let path_start = s[start..].starts_with(b"/");
    let fn_start = fn_start(s, toks);
    if !(path_start || fn_start) {
        return;
    }
    let mut evidence = fn_start;
    for (k, &t) in toks.iter().enumerate() {
        let next = toks.get(k + 1).copied();
        match t {
            Tok::Axis => evidence = true,
            Tok::Op(b'[') => {
                let inner = matches!(next, Some(Tok::Op(b'@')) | Some(Tok::Num(..)))
                    || toks[k + 1..]
                        .iter()
                        .take_while(|&&x| x != Tok::Op(b']'))
                        .any(|&x| x == Tok::Op(b'=') || x == Tok::Op(b'('));
                evidence |= inner;
            }
            Tok::Op(b'/') if next == Some(Tok::Op(b'*')) => evidence = true,
            _ => {}
        }
        if evidence {
            break;
        }
    }
    if evidence {
        let end = s.len().min(start + MAX_TAIL);
        rep.report(
            "xpath.expression",
            40,
            || "an XPath expression in the value",
            start,
            end,
        );
    }
}
