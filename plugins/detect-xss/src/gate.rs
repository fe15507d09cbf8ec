//! The cheap rejection: one pass over the bytes that proves a value can
//! give no finding, so that ordinary values (words, numbers, a query
//! string, a browser's `User-Agent` or `Accept` header, a cookie header)
//! are never tokenized.
//!
//! The gate is sound by construction: it says "clean" only when none of
//! the evidence that any view of the detector needs is present. What each
//! view needs, with no `<` in the value (markup) and none of the bytes
//! that start a derived copy:
//!
//! - an attribute list (the value inside a tag) needs `=` and a dangerous
//!   attribute name (`on*`, `style`, `dataformatas`), a script or `data:`
//!   scheme in a URL value, a framework directive reaching a sink (which
//!   needs a sink name), character references, legacy splits (backticks,
//!   control characters) or quotes;
//! - JavaScript (the whole value, after a quote, in `${}` or `{{}}`, in an
//!   event handler or a script URL) needs a quote or a brace, or one of
//!   the identifiers the lexer treats as a sink (`alert`, `document`,
//!   `location`, `setTimeout`...) next to `(`, `=` or `.`, or brackets;
//! - script URLs and `data:` URLs need a scheme word before a `:`;
//! - CSS needs `expression`, `behavior`, `-moz-binding` (or a `style`
//!   attribute);
//! - JSFuck needs brackets.
//!
//! So a value is clean when it holds none of the bytes `<`, `\`, a
//! backtick, `{`, `[`, a quote, a control character, a byte of a
//! fullwidth form or of a 7-bit reading (`0xef`, `0xbc`), no `+AD`
//! (UTF-7), no `&` that starts a character reference, and none of the
//! words above. Identifiers are compared case-sensitively (JavaScript is),
//! markup and URL words case-insensitively. `tests/gate.rs` checks on the
//! shared corpora that the gate never changes a verdict.

use crate::entity;

/// Bytes after which the whole analysis runs.
const TRIGGER: u8 = 1;
/// Punctuation next to which a word may matter: `(`, `=`, `.`, `:`.
const PUNCT: u8 = 2;
/// `+` (UTF-7 `+AD...`) and `&` (a character reference) are looked at.
const CHECK: u8 = 4;

const fn classes() -> [u8; 256] {
    let mut t = [0u8; 256];
    let mut c = 0;
    while c < 0x20 {
        t[c] = TRIGGER;
        c += 1;
    }
    t[0x7f] = TRIGGER;
    t[b'<' as usize] = TRIGGER;
    t[b'\\' as usize] = TRIGGER;
    t[b'`' as usize] = TRIGGER;
    t[b'{' as usize] = TRIGGER;
    t[b'[' as usize] = TRIGGER;
    t[b'\'' as usize] = TRIGGER;
    t[b'"' as usize] = TRIGGER;
    t[0xef] = TRIGGER;
    t[0xbc] = TRIGGER;
    t[b'(' as usize] = PUNCT;
    t[b'=' as usize] = PUNCT;
    t[b'.' as usize] = PUNCT;
    t[b':' as usize] = PUNCT;
    t[b'+' as usize] = CHECK;
    t[b'&' as usize] = CHECK;
    t
}

static CLASS: [u8; 256] = classes();

/// True when no view of the detector can find anything in `w`.
pub fn clean(w: &[u8]) -> bool {
    let mut seen = 0u8;
    for (i, &c) in w.iter().enumerate() {
        let k = CLASS[usize::from(c)];
        if k == 0 {
            continue;
        }
        if k & TRIGGER != 0 {
            return false;
        }
        if k & CHECK != 0 {
            let rest = &w[i + 1..];
            let dirty = if c == b'+' {
                rest.starts_with(b"AD")
            } else {
                entity::reference(rest).is_some()
            };
            if dirty {
                return false;
            }
        }
        seen |= k;
    }
    if seen & PUNCT == 0 {
        return true;
    }
    !any_word(w)
}

/// Whether a word that some view needs is in `w`: runs of ASCII letters,
/// `_` and `$` (digits and everything else end a run).
fn any_word(w: &[u8]) -> bool {
    let has_eq = w.contains(&b'=');
    let mut i = 0;
    while i < w.len() {
        if !is_run(w[i]) {
            i += 1;
            continue;
        }
        let s = i;
        while i < w.len() && is_run(w[i]) {
            i += 1;
        }
        let run = &w[s..i];
        let next = w.get(i).copied();
        if js_word(run) || css_or_url_word(run, next) || (has_eq && attr_word(run)) {
            return true;
        }
    }
    false
}

fn is_run(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_' || c == b'$'
}

/// Identifiers the JavaScript lexer gives a meaning (sinks, sink
/// targets, the objects they hang on). Sorted; [`js_word`] holds them
/// by length.
#[cfg(test)]
const JS_WORDS: &[&str] = &[
    "$eval",
    "Function",
    "alert",
    "atob",
    "confirm",
    "constructor",
    "document",
    "eval",
    "execScript",
    "fetch",
    "fromCharCode",
    "import",
    "importScripts",
    "innerHTML",
    "insertAdjacentHTML",
    "location",
    "msgbox",
    "outerHTML",
    "prompt",
    "sendBeacon",
    "setImmediate",
    "setInterval",
    "setTimeout",
    "srcdoc",
    "write",
    "writeln",
];

fn js_word(run: &[u8]) -> bool {
    // Dispatched on the length and the first byte: most runs have no
    // word of theirs, and none calls `memcmp`.
    let is = |w: &[u8]| run.iter().zip(w).all(|(a, b)| a == b);
    match (run.len(), run[0]) {
        (4, b'a') => is(b"atob"),
        (4, b'e') => is(b"eval"),
        (5, b'$') => is(b"$eval"),
        (5, b'a') => is(b"alert"),
        (5, b'f') => is(b"fetch"),
        (5, b'w') => is(b"write"),
        (6, b'i') => is(b"import"),
        (6, b'm') => is(b"msgbox"),
        (6, b'p') => is(b"prompt"),
        (6, b's') => is(b"srcdoc"),
        (7, b'c') => is(b"confirm"),
        (7, b'w') => is(b"writeln"),
        (8, b'F') => is(b"Function"),
        (8, b'd') => is(b"document"),
        (8, b'l') => is(b"location"),
        (9, b'i') => is(b"innerHTML"),
        (9, b'o') => is(b"outerHTML"),
        (10, b'e') => is(b"execScript"),
        (10, b's') => is(b"sendBeacon") || is(b"setTimeout"),
        (11, b'c') => is(b"constructor"),
        (11, b's') => is(b"setInterval"),
        (12, b'f') => is(b"fromCharCode"),
        (12, b's') => is(b"setImmediate"),
        (13, b'i') => is(b"importScripts"),
        (18, b'i') => is(b"insertAdjacentHTML"),
        _ => false,
    }
}

/// Scheme words before a `:` (`javascript:`, `vbscript:`, `data:`) and
/// the CSS constructs that run script.
fn css_or_url_word(run: &[u8], next: Option<u8>) -> bool {
    let ends = |suffix: &[u8]| {
        run.len() >= suffix.len() && run[run.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
    };
    (next == Some(b':') && (ends(b"script") || ends(b"data"))) || css_word(run, next)
}

/// `expression(`, `behavior:`, `-moz-binding` as substrings of the text.
fn css_word(run: &[u8], next: Option<u8>) -> bool {
    let ends = |suffix: &[u8]| {
        run.len() >= suffix.len() && run[run.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
    };
    (next == Some(b'(') && ends(b"expression"))
        || (next == Some(b':') && ends(b"behavior"))
        || (run.len() >= 7 && run[..7].eq_ignore_ascii_case(b"binding"))
}

/// Attribute names that matter whatever their value's syntax: event
/// handlers (`on` and letters), `style`, `dataformatas`.
fn attr_word(run: &[u8]) -> bool {
    (run.len() >= 5 && run[..2].eq_ignore_ascii_case(b"on"))
        || run.eq_ignore_ascii_case(b"style")
        || run.eq_ignore_ascii_case(b"dataformatas")
}

/// What a text holds that the views of the detector need: each view is
/// skipped when the evidence it needs is missing (see `views`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Census {
    bytes: u32,
    /// A sink identifier or sink target (`alert`, `document`, `innerHTML`).
    pub js_word: bool,
    /// A global object (`window`, `self`, `top`, `this`...).
    pub global: bool,
    /// `expression(`, `behavior:`, `-moz-binding`.
    pub css: bool,
    /// A word ending in `script` right before a `:`.
    pub scheme: bool,
}

pub const LT: u32 = 1;
pub const GT: u32 = 1 << 1;
pub const EQ: u32 = 1 << 2;
pub const COLON: u32 = 1 << 3;
pub const PAREN: u32 = 1 << 4;
pub const BACKTICK: u32 = 1 << 5;
pub const DOLLAR: u32 = 1 << 6;
pub const BRACE: u32 = 1 << 7;
pub const BANG: u32 = 1 << 8;
pub const BRACKET: u32 = 1 << 9;
pub const PLUS: u32 = 1 << 10;
pub const FULLWIDTH: u32 = 1 << 11;
pub const HIGH_BC: u32 = 1 << 12;
/// Tabs, line breaks, NUL: skipped inside scheme words.
pub const CTRL: u32 = 1 << 13;

const fn census_bits() -> [u32; 256] {
    let mut t = [0u32; 256];
    t[b'<' as usize] = LT;
    t[b'>' as usize] = GT;
    t[b'=' as usize] = EQ;
    t[b':' as usize] = COLON;
    t[b'(' as usize] = PAREN;
    t[b'`' as usize] = BACKTICK;
    t[b'$' as usize] = DOLLAR;
    t[b'{' as usize] = BRACE;
    t[b'!' as usize] = BANG;
    t[b'[' as usize] = BRACKET;
    t[b'+' as usize] = PLUS;
    t[0xef] = FULLWIDTH;
    t[0xbc] = HIGH_BC;
    t[b'\t' as usize] = CTRL;
    t[b'\n' as usize] = CTRL;
    t[b'\r' as usize] = CTRL;
    t[0] = CTRL;
    t
}

static CENSUS_BITS: [u32; 256] = census_bits();

impl Census {
    /// One pass over the bytes, one over the words.
    pub fn of(w: &[u8]) -> Census {
        let mut c = Census::default();
        for &b in w {
            c.bytes |= CENSUS_BITS[usize::from(b)];
        }
        let mut i = 0;
        while i < w.len() {
            if !is_run(w[i]) {
                i += 1;
                continue;
            }
            let s = i;
            while i < w.len() && is_run(w[i]) {
                i += 1;
            }
            let run = &w[s..i];
            let next = w.get(i).copied();
            c.js_word |= js_word(run);
            c.global |= matches!(
                run,
                b"window"
                    | b"self"
                    | b"top"
                    | b"parent"
                    | b"frames"
                    | b"globalThis"
                    | b"this"
                    | b"content"
                    | b"opener"
                    | b"document"
            );
            c.css |= css_word(run, next);
            c.scheme |= next == Some(b':')
                && run.len() >= 6
                && run[run.len() - 6..].eq_ignore_ascii_case(b"script");
        }
        c
    }

    /// Everything present: every view runs.
    pub fn all() -> Census {
        Census {
            bytes: u32::MAX,
            js_word: true,
            global: true,
            css: true,
            scheme: true,
        }
    }

    /// Every census bit in `bits` is present.
    pub fn has(&self, bits: u32) -> bool {
        self.bytes & bits == bits
    }

    /// Any census bit in `bits` is present.
    pub fn any(&self, bits: u32) -> bool {
        self.bytes & bits != 0
    }

    /// Script can reach a sink or make a call: an operation (`(`, `=`, a
    /// template), a sink name or a global.
    pub fn js(&self) -> bool {
        self.any(PAREN | EQ | BACKTICK) || self.js_word || self.global
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_word_is_found() {
        assert!(JS_WORDS.windows(2).all(|w| w[0] < w[1]));
        for w in JS_WORDS {
            assert!(js_word(w.as_bytes()), "{w}");
        }
    }

    #[test]
    fn ordinary_values_are_clean() {
        for v in [
            "red running shoes",
            "q=red+running+shoes&category=footwear&sort=price_asc&page=2&size=42",
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36",
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
            "en-US,en;q=0.7",
            "session=3f2a9c1e8b7d4a6f; theme=dark; consent=yes",
            "https://example.com/a?b=c",
            "shop.example.com",
        ] {
            assert!(clean(v.as_bytes()), "{v}");
        }
    }

    #[test]
    fn evidence_is_not_clean() {
        for v in [
            "<b>",
            "x onload=y",
            "x ONLOAD=y",
            "style=x",
            "javascript:alert(1)",
            "JaVaScRiPt:x",
            "data:text/html,x",
            "alert(1)",
            "document.cookie",
            "a=b&lt;c",
            "a=&#60;",
            "+ADw-",
            "x:expression(y)",
            "a'b",
            "a\tb",
            "\u{ff1c}",
            "[]",
            "${x}",
        ] {
            assert!(!clean(v.as_bytes()), "{v}");
        }
    }
}
