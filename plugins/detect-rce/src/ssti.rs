//! Server-side template injection.
//!
//! [`SstiDetector`] finds template delimiters and judges the expression
//! between them with a small expression reader:
//!
//! | delimiters | engines |
//! |---|---|
//! | `{{ }}` | Jinja2, Twig, Nunjucks, Handlebars, Pebble, Go, Angular |
//! | `{% %}` | Jinja2, Twig, Django, Tornado, Liquid statements |
//! | `${ }`, `#{ }`, `*{ }`, `@( )`, `@{ }` | Freemarker, EL, Mako, Ruby/Pug interpolation, Thymeleaf, Razor |
//! | `<%= %>`, `<% %>` | ERB, EJS, JSP, ASP |
//! | `<#...>` | Freemarker directives |
//! | `#set(`, `#foreach(`, `$x.getClass()` | Velocity |
//! | `{php}`, `{system(...)}`, `{$smarty...}` | Smarty |
//! | `__${...}__`, `[[${...}]]`, `[(${...})]` | Thymeleaf pre-processing and inlining |
//!
//! Rules and scores:
//!
//! - `ssti.code` (90): the expression reaches code execution or object
//!   internals: Python dunders (`__class__`, `__mro__`, `__globals__`,
//!   `|attr(...)`), Jinja globals that lead there (`lipsum`, `cycler`,
//!   `joiner`, `url_for`, `self._TemplateReference__context`), Twig
//!   `_self.env` and filters called with a function name
//!   (`|filter('system')`), Freemarker `?new()` / `?api` /
//!   `freemarker.template.utility.Execute`, Java reflection
//!   (`getClass`, `forName`, `getRuntime`), `os.popen`, `system(`,
//!   backticks in ERB, Smarty `{php}`.
//! - `ssti.arithmetic-probe` (60): arithmetic on numbers only (`{{7*7}}`,
//!   `${7*7}`, `<%= 7*7 %>`, `#{7*7}`, `{{7*'7'}}`): the scanners'
//!   canary, never written by a person in a value.
//! - `ssti.object-probe` (60): the bare objects that disclose settings
//!   (`{{config}}`, `{{self}}`, `{{request}}`, `{{settings.SECRET_KEY}}`,
//!   `{$smarty.version}`).
//! - `ssti.directive` (65-75): statements that define or import
//!   (`{% import os %}`, `{% debug %}`, `<#assign ...>`, `#set($x = ...)`,
//!   `<%@ page ... %>`).
//! - `ssti.template-logic` (55): a complete control statement with its end
//!   tag (`{% if True %}49{% endif %}`), 30 without it.
//!
//! Borderline by design: a plain reference (`{{ name }}`, `${price}`,
//! `#{user.email}`, `{{ total | currency }}`) is not reported. Such
//! placeholders are what template-driven products (mail merge, CMS
//! editors, i18n strings) legitimately carry, and alone they execute
//! nothing; an attacker's probe needs arithmetic, a call or an object
//! walk, which is what the rules above look for.
//!
//! Expressions are read for at most [`EXPR_MAX`] bytes; at most
//! [`MAX_DELIMS`] delimiters are examined per window.

use rampart_plugin_api::{Class, DetectCtx, Detector, Finding, PluginInfo};

use crate::common::{is_ident, lc, lookup, starts_ci, windows, Hits, Small};

const NAME: &str = "ssti";

/// Bytes of an expression read.
pub const EXPR_MAX: usize = 1024;
/// Delimiters examined per window.
pub const MAX_DELIMS: usize = 256;

/// The server-side template injection detector.
#[derive(Debug, Clone, Copy, Default)]
pub struct SstiDetector;

impl Detector for SstiDetector {
    fn info(&self) -> PluginInfo {
        PluginInfo {
            name: NAME,
            version: env!("CARGO_PKG_VERSION"),
            description:
                "server-side template injection: Jinja2, Twig, Freemarker, Velocity, ERB, \
                          Smarty, Thymeleaf, EL expressions that probe or execute",
        }
    }

    fn classes(&self) -> &'static [Class] {
        &[Class::Ssti]
    }

    fn inspect(&self, value: &[u8], ctx: &DetectCtx<'_>, out: &mut Vec<Finding>) {
        let mut hits = Hits::default();
        scan_value(value, &mut hits);
        hits.emit(ctx, Class::Ssti, NAME, value.len(), out);
    }
}

/// Scans a value into `hits`.
pub fn scan_value(value: &[u8], hits: &mut Hits) {
    for (off, w) in windows(value) {
        if w.len() >= 3 {
            scan(w, off, hits);
        }
    }
}

/// What an expression holds.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Expr {
    /// Score of the most dangerous thing seen (0: none).
    pub danger: u8,
    /// Arithmetic on numbers only.
    pub arith: bool,
    /// A settings object alone (`config`, `self`).
    pub object: bool,
    /// Only names, dots, indexes and simple filters.
    pub plain: bool,
    /// A call.
    pub call: bool,
}

/// Names that lead from a template expression to code execution or to
/// object internals (lower-case), with their score and whether they
/// count only when called or used as an attribute.
static DANGER: &[(&str, u8, Need)] = &[
    ("__import__", 90, Need::Any),
    ("_self", 85, Need::Attr),
    ("_templatereference__context", 90, Need::Any),
    ("api", 85, Need::Builtin),
    ("application", 60, Need::Attr),
    ("attr", 80, Need::Call),
    ("builtins", 85, Need::Any),
    ("class", 70, Need::Attr),
    ("classloader", 90, Need::Any),
    ("constructor", 80, Need::Attr),
    ("cycler", 85, Need::Attr),
    ("diagnostics", 85, Need::Attr),
    ("eval", 90, Need::Builtin),
    ("exec", 90, Need::Call),
    ("execute", 90, Need::Any),
    ("forname", 90, Need::Call),
    ("freemarker", 90, Need::Attr),
    ("get_flashed_messages", 85, Need::Attr),
    ("getclass", 90, Need::Call),
    ("getenv", 80, Need::Call),
    ("getfilter", 90, Need::Call),
    ("getmethod", 85, Need::Call),
    ("getruntime", 95, Need::Call),
    ("globals", 85, Need::Any),
    ("import", 80, Need::Any),
    ("inspect", 80, Need::Call),
    ("invoke", 80, Need::Call),
    ("joiner", 85, Need::Attr),
    ("jythonruntime", 90, Need::Any),
    ("lipsum", 85, Need::Attr),
    ("mro", 90, Need::Any),
    ("new", 90, Need::Builtin),
    ("newinstance", 90, Need::Call),
    ("objectconstructor", 90, Need::Any),
    ("passthru", 90, Need::Call),
    ("popen", 95, Need::Call),
    ("processbuilder", 95, Need::Any),
    ("readfile", 80, Need::Call),
    ("registerundefinedfiltercallback", 95, Need::Any),
    ("runtime", 80, Need::Attr),
    ("shell_exec", 95, Need::Call),
    ("subclasses", 90, Need::Any),
    ("subprocess", 90, Need::Any),
    ("system", 90, Need::Call),
    ("url_for", 80, Need::Attr),
];

/// When a dangerous name counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Need {
    Any,
    /// Followed by `(`, or a quoted name passed to a filter
    /// (`|filter('system')`).
    Call,
    /// Followed by `.`, `[` or `(`, or preceded by `.`.
    Attr,
    /// A Freemarker built-in (`?new`, `?api`, `?eval`).
    Builtin,
}

/// Reads an expression.
pub(crate) fn analyze(e: &[u8]) -> Expr {
    let mut x = Expr {
        plain: true,
        ..Expr::default()
    };
    let mut nums = 0;
    let mut ops = 0;
    let mut arith_ok = true;
    let mut i = 0;
    let mut first_ident: Option<(usize, usize)> = None;
    let mut idents = 0;
    let mut has_filter = false;
    while i < e.len() {
        let c = e[i];
        if c.is_ascii_digit() {
            let s = i;
            while i < e.len() && (e[i].is_ascii_digit() || e[i] == b'.') {
                i += 1;
            }
            let _ = s;
            nums += 1;
            continue;
        }
        if c.is_ascii_alphabetic() || c == b'_' {
            let s = i;
            while i < e.len() && is_ident(e[i]) {
                i += 1;
            }
            arith_ok = false;
            idents += 1;
            if first_ident.is_none() {
                first_ident = Some((s, i));
            }
            let word = &e[s..i];
            // Dunders: `__class__`.
            if word.len() > 4 && word.starts_with(b"__") && word.ends_with(b"__") {
                x.danger = x.danger.max(90);
            }
            let mut key = Small::<40>::default();
            word.iter().for_each(|&b| key.push(lc(b)));
            if key.truncated {
                continue;
            }
            let k = key.as_bytes();
            let k = if k.starts_with(b"__") && k.ends_with(b"__") && k.len() > 4 {
                &k[2..k.len() - 2]
            } else {
                k
            };
            if let Some(&(_, score, need)) = lookup(DANGER, k, |d| d.0) {
                let next = e[i..].iter().copied().find(|b| !b.is_ascii_whitespace());
                let prev = if s > 0 { Some(e[s - 1]) } else { None };
                let quoted =
                    matches!(prev, Some(b'\'' | b'"')) && matches!(e.get(i), Some(b'\'' | b'"'));
                let ok = match need {
                    Need::Any => true,
                    Need::Call => next == Some(b'(') || (quoted && has_filter),
                    Need::Attr => matches!(next, Some(b'.' | b'[' | b'(')) || prev == Some(b'.'),
                    Need::Builtin => prev == Some(b'?') || next == Some(b'('),
                };
                if ok {
                    x.danger = x.danger.max(score);
                }
            }
            continue;
        }
        match c {
            b'*' | b'+' | b'-' | b'/' | b'%' => {
                ops += 1;
                x.plain = false;
            }
            b'(' => {
                x.call = true;
                x.plain = false;
            }
            b')' => {}
            b'\'' | b'"' => {}
            b'|' => {
                has_filter = true;
                arith_ok = false;
            }
            b'.' | b'[' | b']' | b',' | b':' => arith_ok = arith_ok && c != b'[' && c != b']',
            b'\\' => {
                // `\x5f\x5f` hides an underscore.
                if e.get(i + 1) == Some(&b'x')
                    && e.get(i + 2) == Some(&b'5')
                    && matches!(e.get(i + 3), Some(b'f' | b'F'))
                {
                    x.danger = x.danger.max(85);
                }
                arith_ok = false;
                x.plain = false;
            }
            b' ' | b'\t' | b'\n' | b'\r' => {}
            _ => {
                arith_ok = false;
                x.plain = false;
            }
        }
        i += 1;
    }
    x.arith = arith_ok && ops > 0 && nums >= 2;
    if let Some((s, z)) = first_ident {
        if idents <= 2 {
            let w = &e[s..z];
            let objs: [&[u8]; 6] = [
                b"config",
                b"self",
                b"request",
                b"settings",
                b"smarty",
                b"app",
            ];
            if objs.iter().any(|o| w.eq_ignore_ascii_case(o)) && !x.call {
                x.object = true;
            }
        }
    }
    x
}

/// The end of the expression opened at `i` and closed by `close`.
fn find_end(w: &[u8], i: usize, close: &[u8]) -> Option<usize> {
    let hi = w.len().min(i + EXPR_MAX);
    let first = close[0];
    let mut j = i;
    while j + close.len() <= hi {
        if w[j] == first && w[j..].starts_with(close) {
            return Some(j);
        }
        j += 1;
    }
    None
}

/// A `${`-like expression's end: the matching `}` (nesting counted).
fn find_brace(w: &[u8], i: usize) -> Option<usize> {
    let hi = w.len().min(i + EXPR_MAX);
    let mut d = 1;
    let mut j = i;
    while j < hi {
        match w[j] {
            b'{' => d += 1,
            b'}' => {
                d -= 1;
                if d == 0 {
                    return Some(j);
                }
            }
            _ => {}
        }
        j += 1;
    }
    None
}

struct S<'a> {
    hits: &'a mut Hits,
    off: usize,
}

impl S<'_> {
    fn add(&mut self, rule: &'static str, score: u8, a: usize, z: usize, msg: &'static str) {
        self.hits.add(rule, score, self.off + a, self.off + z, msg);
    }

    /// Reports an expression found between delimiters at `a..z`.
    fn expr(&mut self, e: &[u8], a: usize, z: usize, strong_delims: bool) {
        let x = analyze(e);
        if x.danger > 0 {
            self.add(
                "ssti.code",
                x.danger,
                a,
                z,
                "a template expression reaching code or object internals",
            );
        } else if x.arith {
            self.add(
                "ssti.arithmetic-probe",
                60,
                a,
                z,
                "template arithmetic on numbers (an injection probe)",
            );
        } else if x.object && strong_delims {
            self.add(
                "ssti.object-probe",
                60,
                a,
                z,
                "a template expression dumping a settings object",
            );
        } else if x.call && strong_delims {
            self.add("ssti.call", 30, a, z, "a call inside a template expression");
        }
    }
}

/// The bytes that can open a template expression.
static OPENERS: [bool; 256] = {
    let mut t = [false; 256];
    let set = *b"{$#*@<_[";
    let mut k = 0;
    while k < set.len() {
        t[set[k] as usize] = true;
        k += 1;
    }
    t
};

fn scan(w: &[u8], off: usize, hits: &mut Hits) {
    let mut s = S { hits, off };
    let mut n = 0;
    let mut i = 0;
    let mut logic_open: Option<usize> = None;
    let mut logic_end = false;
    while i + 1 < w.len() {
        let c = w[i];
        if !OPENERS[usize::from(c)] {
            match w[i + 1..].iter().position(|&x| OPENERS[usize::from(x)]) {
                Some(p) => i += 1 + p,
                None => break,
            }
            continue;
        }
        if n >= MAX_DELIMS {
            break;
        }
        let c1 = w[i + 1];
        match (c, c1) {
            (b'{', b'{') => {
                n += 1;
                let st = i + 2;
                if let Some(e) = find_end(w, st, b"}}") {
                    let inner = trim(&w[st..e]);
                    let inner = inner.strip_prefix(b"=").unwrap_or(inner);
                    s.expr(inner, i, e + 2, true);
                    // Handlebars `{{#with "s" as |string|}}` ... `constructor`
                    i = e + 2;
                    continue;
                }
            }
            (b'{', b'%') => {
                n += 1;
                let st = i + 2;
                if let Some(e) = find_end(w, st, b"%}") {
                    let inner = trim(&w[st..e]);
                    let inner = inner.strip_prefix(b"-").unwrap_or(inner);
                    statement(&mut s, inner, i, e + 2, &mut logic_open, &mut logic_end);
                    i = e + 2;
                    continue;
                }
            }
            (b'{', _) => {
                smarty(&mut s, w, i);
            }
            (b'$' | b'#' | b'*', b'{') => {
                n += 1;
                let st = i + 2;
                if let Some(e) = find_brace(w, st) {
                    let inner = trim(&w[st..e]);
                    let inner = if inner.first() == Some(&b'{') && inner.last() == Some(&b'}') {
                        trim(&inner[1..inner.len() - 1])
                    } else {
                        inner
                    };
                    if !(c == b'$' && lookup_like(inner)) {
                        s.expr(inner, i, e + 1, c != b'*');
                    }
                    i = e + 1;
                    continue;
                }
            }
            (b'@', b'(') => {
                n += 1;
                if let Some(e) = crate::common::close_within(w, i + 2, b'(', b')', EXPR_MAX) {
                    let inner = trim(&w[i + 2..e]);
                    let x = analyze(inner);
                    if x.danger > 0 || x.arith {
                        s.expr(inner, i, e + 1, false);
                    }
                    i = e + 1;
                    continue;
                }
            }
            (b'@', b'{') if w.get(i + 2) != Some(&b'[') => {
                n += 1;
                if let Some(e) = find_brace(w, i + 2) {
                    let inner = trim(&w[i + 2..e]);
                    let x = analyze(inner);
                    if x.danger > 0 {
                        s.expr(inner, i, e + 1, false);
                    }
                    i = e + 1;
                    continue;
                }
            }
            (b'<', b'%') => {
                n += 1;
                let st = i + 2;
                if let Some(e) = find_end(w, st, b"%>") {
                    let raw = &w[st..e];
                    erb(&mut s, raw, i, e + 2, &mut logic_open, &mut logic_end);
                    i = e + 2;
                    continue;
                }
            }
            (b'<', b'#') => {
                n += 1;
                freemarker(&mut s, w, i);
            }
            (b'#', _) if c1.is_ascii_alphabetic() => {
                velocity(&mut s, w, i);
            }
            (b'$', _) if c1.is_ascii_alphabetic() => {
                velocity_ref(&mut s, w, i);
            }
            (b'_', b'_') if w.get(i + 2) == Some(&b'$') && w.get(i + 3) == Some(&b'{') => {
                n += 1;
                if let Some(e) = find_brace(w, i + 4) {
                    let inner = &w[i + 4..e];
                    let x = analyze(inner);
                    let closed = w[e + 1..].starts_with(b"__");
                    let score = if x.danger > 0 {
                        95
                    } else if closed {
                        85
                    } else {
                        60
                    };
                    s.add(
                        "ssti.code",
                        score,
                        i,
                        (e + 3).min(w.len()),
                        "a Thymeleaf pre-processing expression",
                    );
                    i = e + 1;
                    continue;
                }
            }
            (b'[', b'[' | b'(') if w.get(i + 2) == Some(&b'$') || w.get(i + 2) == Some(&b'*') => {
                // Thymeleaf inlining: judged through the `${` that follows.
            }
            _ => {}
        }
        i += 1;
    }
    if let Some(a) = logic_open {
        let score = if logic_end { 55 } else { 30 };
        s.add(
            "ssti.template-logic",
            score,
            a,
            w.len(),
            "template control statements",
        );
    }
}

/// `${env:X}`, `${jndi:...}`, `${IFS}`, `${x:-y}`: lookups and shell
/// expansions, left to the other detectors.
fn lookup_like(inner: &[u8]) -> bool {
    let k = inner
        .iter()
        .position(|&c| !is_ident(c))
        .unwrap_or(inner.len());
    let rest = &inner[k..];
    inner.starts_with(b"::")
        || (k > 0 && rest.first() == Some(&b':') && !rest.starts_with(b"::"))
        || inner == b"IFS"
        || (k > 0
            && matches!(rest.first(), Some(b'#' | b'%' | b'/' | b'^' | b','))
            && !rest.starts_with(b"%"))
}

fn trim(e: &[u8]) -> &[u8] {
    let s = e
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(e.len());
    let z = e
        .iter()
        .rposition(|c| !c.is_ascii_whitespace())
        .map_or(s, |z| z + 1);
    &e[s..z]
}

/// The first word of a statement, lower-cased.
fn keyword(inner: &[u8]) -> Small<16> {
    let mut k = Small::<16>::default();
    for &c in inner.iter().take_while(|c| c.is_ascii_alphabetic()) {
        k.push(lc(c));
    }
    k
}

/// `{% ... %}` statements.
fn statement(
    s: &mut S<'_>,
    inner: &[u8],
    a: usize,
    z: usize,
    open: &mut Option<usize>,
    end: &mut bool,
) {
    let k = keyword(inner);
    let kw = k.as_bytes();
    let x = analyze(&inner[kw.len().min(inner.len())..]);
    if x.danger > 0 {
        s.add(
            "ssti.code",
            x.danger,
            a,
            z,
            "a template statement reaching code or object internals",
        );
        return;
    }
    match kw {
        b"import" | b"from" | b"exec" | b"python" | b"debug" | b"load" | b"module" => {
            let score = if kw == b"load" { 40 } else { 75 };
            s.add(
                "ssti.directive",
                score,
                a,
                z,
                "a template statement that imports or runs code",
            );
        }
        b"include" | b"extends" | b"sandbox" | b"embed" | b"source" => {
            s.add(
                "ssti.directive",
                45,
                a,
                z,
                "a template statement that loads another template",
            );
        }
        b"if" | b"for" | b"set" | b"macro" | b"call" | b"with" | b"filter" | b"block" | b"raw"
        | b"while" => {
            if kw == b"if" && constant(&inner[2..]) {
                open.get_or_insert(a);
            }
            if x.arith {
                s.add(
                    "ssti.arithmetic-probe",
                    60,
                    a,
                    z,
                    "template arithmetic on numbers (an injection probe)",
                );
            }
        }
        _ if kw.starts_with(b"end") && open.is_some() => *end = true,
        _ => {}
    }
}

/// A condition that is a constant (`True`, `1`, `7*7 == 49`): a probe,
/// not a template someone wrote.
fn constant(c: &[u8]) -> bool {
    let c = trim(c);
    let words: [&[u8]; 6] = [b"true", b"false", b"1", b"0", b"none", b"nil"];
    words.iter().any(|w| c.eq_ignore_ascii_case(w))
        || (!c.is_empty()
            && c.iter()
                .all(|b| b.is_ascii_digit() || b" +-*/%=<>!()".contains(b))
            && c.iter().any(|b| b.is_ascii_digit()))
}

/// `<% ... %>`, `<%= ... %>`, `<%@ ... %>`.
fn erb(s: &mut S<'_>, raw: &[u8], a: usize, z: usize, open: &mut Option<usize>, end: &mut bool) {
    let (sigil, body) = match raw.first() {
        Some(b'=' | b'-' | b'#' | b'@' | b'!' | b'%') => (raw[0], trim(&raw[1..])),
        _ => (b' ', trim(raw)),
    };
    if sigil == b'#' || sigil == b'%' {
        return;
    }
    if body.contains(&b'`') {
        s.add("ssti.code", 90, a, z, "a shell command inside an ERB tag");
        return;
    }
    let x = analyze(body);
    if x.danger > 0 {
        s.add(
            "ssti.code",
            x.danger,
            a,
            z,
            "a template tag reaching code or object internals",
        );
        return;
    }
    if sigil == b'@' {
        s.add("ssti.directive", 70, a, z, "a JSP or ASP directive");
        return;
    }
    if x.arith {
        s.add(
            "ssti.arithmetic-probe",
            60,
            a,
            z,
            "template arithmetic on numbers (an injection probe)",
        );
        return;
    }
    let k = keyword(body);
    match k.as_bytes() {
        b"if" | b"unless" if constant(&body[k.len()..]) => {
            open.get_or_insert(a);
        }
        kw if (kw.starts_with(b"end") || kw == b"end") && open.is_some() => *end = true,
        _ => {
            if x.call && sigil != b'=' {
                s.add("ssti.call", 35, a, z, "code inside a template tag");
            }
        }
    }
}

/// Freemarker directives `<#assign ...>`, `<#list ...>`...
fn freemarker(s: &mut S<'_>, w: &[u8], i: usize) {
    let st = i + 2;
    let Some(e) = find_end(w, st, b">") else {
        return;
    };
    let inner = &w[st..e];
    let k = keyword(inner);
    let known = matches!(
        k.as_bytes(),
        b"assign"
            | b"list"
            | b"if"
            | b"include"
            | b"import"
            | b"macro"
            | b"function"
            | b"setting"
            | b"global"
            | b"local"
            | b"attempt"
            | b"visit"
            | b"ftl"
    );
    if !known {
        return;
    }
    let x = analyze(&inner[k.len()..]);
    let score = if x.danger > 0 { x.danger.max(90) } else { 65 };
    s.add(
        if x.danger > 0 {
            "ssti.code"
        } else {
            "ssti.directive"
        },
        score,
        i,
        e + 1,
        "a Freemarker directive",
    );
}

/// Velocity directives `#set(`, `#foreach(`, `#evaluate(`...
fn velocity(s: &mut S<'_>, w: &[u8], i: usize) {
    let r = &w[i + 1..];
    let dirs: [&[u8]; 7] = [
        b"set",
        b"foreach",
        b"evaluate",
        b"define",
        b"macro",
        b"parse",
        b"include",
    ];
    let Some(d) = dirs.iter().find(|d| starts_ci(r, d)) else {
        return;
    };
    let mut j = i + 1 + d.len();
    while j < w.len() && w[j] == b' ' {
        j += 1;
    }
    if j >= w.len() || w[j] != b'(' {
        return;
    }
    let Some(e) = crate::common::close_within(w, j + 1, b'(', b')', EXPR_MAX) else {
        return;
    };
    let inner = &w[j + 1..e];
    if !inner.contains(&b'$') && d != b"parse" && d != b"include" {
        return;
    }
    let x = analyze(inner);
    let score = if x.danger > 0 { x.danger.max(90) } else { 65 };
    s.add(
        if x.danger > 0 {
            "ssti.code"
        } else {
            "ssti.directive"
        },
        score,
        i,
        e + 1,
        "a Velocity directive",
    );
}

/// Velocity references that walk into Java: `$class.inspect(...)`,
/// `$x.getClass().forName(...)`.
fn velocity_ref(s: &mut S<'_>, w: &[u8], i: usize) {
    if i > 0 && (is_ident(w[i - 1]) || w[i - 1] == b'$') {
        return;
    }
    let mut j = i + 1;
    let hi = w.len().min(i + 256);
    while j < hi
        && (is_ident(w[j])
            || w[j] == b'.'
            || w[j] == b'('
            || w[j] == b')'
            || w[j] == b'"'
            || w[j] == b'\'')
    {
        j += 1;
    }
    let chain = &w[i + 1..j];
    if !chain.contains(&b'.') || !chain.contains(&b'(') {
        return;
    }
    let x = analyze(chain);
    if x.danger >= 80 {
        s.add(
            "ssti.code",
            x.danger,
            i,
            j,
            "a Velocity reference reaching Java reflection",
        );
    }
}

/// Smarty tags: `{php}`, `{/php}`, `{system(...)}`, `{$smarty.version}`,
/// `{self::...}`, `{Smarty_Internal_Write_File::...}`.
fn smarty(s: &mut S<'_>, w: &[u8], i: usize) {
    let r = &w[i + 1..];
    if starts_ci(r, b"php}") || starts_ci(r, b"/php}") {
        s.add("ssti.code", 85, i, i + 5, "a Smarty {php} block");
        return;
    }
    if starts_ci(r, b"$smarty.") {
        s.add("ssti.object-probe", 60, i, i + 9, "a Smarty settings probe");
        return;
    }
    if starts_ci(r, b"self::") || starts_ci(r, b"smarty_internal") {
        s.add("ssti.code", 85, i, i + 8, "a Smarty internal call");
        return;
    }
    // `{system('id')}`: a dangerous call right after the brace.
    let k = r.iter().take(24).take_while(|c| is_ident(**c)).count();
    if k >= 4 && r.get(k) == Some(&b'(') {
        let name = &r[..k];
        let calls: [&[u8]; 6] = [
            b"system",
            b"passthru",
            b"exec",
            b"shell_exec",
            b"popen",
            b"phpinfo",
        ];
        if calls.iter().any(|c| name.eq_ignore_ascii_case(c)) {
            if let Some(e) = crate::common::close_within(w, i + 1 + k + 1, b'(', b')', EXPR_MAX) {
                if w.get(e + 1) == Some(&b'}') {
                    s.add(
                        "ssti.code",
                        90,
                        i,
                        e + 2,
                        "a Smarty tag calling a command function",
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn best(v: &str) -> u8 {
        let mut h = Hits::default();
        scan_value(v.as_bytes(), &mut h);
        h.best()
    }

    #[test]
    fn table_sorted() {
        for p in DANGER.windows(2) {
            assert!(p[0].0 < p[1].0, "{}", p[1].0);
        }
    }

    #[test]
    fn probes_and_code() {
        assert_eq!(best("{{7*7}}"), 60);
        assert_eq!(best("${7*7}"), 60);
        assert_eq!(best("<%= 7*7 %>"), 60);
        assert_eq!(best("#{7*7}"), 60);
        assert_eq!(best("{{7*'7'}}"), 60);
        assert!(best("{{''.__class__.__mro__[1].__subclasses__()}}") >= 90);
        assert!(best("{{config}}") >= 60);
        assert!(
            best("<#assign ex = \"freemarker.template.utility.Execute\"?new()>${ ex(\"id\")}")
                >= 90
        );
        assert!(best("{{_self.env.registerUndefinedFilterCallback(\"exec\")}}") >= 90);
        assert!(best("{{['id']|filter('system')}}") >= 90);
        assert!(best("#set($x = $class.inspect(\"java.lang.Runtime\"))") >= 80);
        assert!(best("{php}echo `id`;{/php}") >= 85);
        assert!(best("{% if True %}49{% endif %}") >= 55);
        assert!(best("__${T(java.lang.Runtime).getRuntime().exec('id')}__::.x") >= 90);
        assert_eq!(best("{{ user.name }}"), 0);
        assert_eq!(best("Hello {{name}}, your total is ${price}"), 0);
        assert_eq!(best("<%=title%>"), 0);
        assert_eq!(best("#{name}"), 0);
        assert_eq!(best("${jndi:ldap://x}"), 0);
        assert_eq!(best("{{ total | currency }}"), 0);
    }
}
