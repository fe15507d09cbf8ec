//! SQL injection, found by reading values as SQL.
//!
//! [`SqliDetector`] (plugin `sqli`, class [`Class::Sqli`]) works the way
//! libinjection does, without regular expressions: a SQL lexer turns the
//! value into tokens (module `lex`, covering MySQL, PostgreSQL, MSSQL,
//! Oracle and SQLite), a word table classifies keywords and functions
//! (module `words`), and a lenient reader of token sequences (module
//! `parse`) decides whether they have the shape of an injection.
//!
//! **Contexts.** An application puts a value somewhere in its query: as a
//! number or a name (`WHERE id = 1`), inside parentheses, after a single
//! quote (`WHERE name = '..'`), after a double quote. The value is lexed
//! once per context that can apply: as it is; as if it followed a `'`
//! (when it holds one) or a `"` (when it holds one), so that the string
//! the application opened ends at the value's first quote and what follows
//! is read as SQL; and, when it holds `\'`, after a `'` in standard SQL
//! strings where a backslash escapes nothing (PostgreSQL, MSSQL, SQLite).
//! Reading "as it is" covers a value after a number (a value that starts
//! with `or 1=1`, `union` or `)` is read as continuing an operand) and
//! inside parentheses (closing `)` the application opened are accepted, and
//! `(` left open at the end). Each context's token sequence is scored; the
//! best context counts. A value that is itself a parameter list
//! (`name=value&name=value`: a form name holding `=`, a query string or a
//! path segment encoded twice) also has each of its values read that way.
//!
//! **Scores.** A value scores 50 or more only when its tokens are clearly
//! SQL that breaks out of a literal or forms a query:
//!
//! | rule | what | score |
//! |---|---|---|
//! | `sqli.union` | UNION (ALL) SELECT with a select list (`-1 union` cut at the end: 50; `except values(1,2)`: 55) | 50-100 |
//! | `sqli.stacked` | `; DROP TABLE`, `; EXEC xp_..`, `; DECLARE @`, `; SHUTDOWN`, `; WAITFOR` ...; cut after its head right after the separator (`;update users`, `; insert into`): 50 | 40-100 |
//! | `sqli.time` | sleep(N), benchmark(N,x), pg_sleep(N), WAITFOR DELAY, dbms_lock.sleep | 25-100 |
//! | `sqli.error` | extractvalue, updatexml, convert/cast of a subquery, exp(~(..)) | 40-100 |
//! | `sqli.exec` | load_file, xp_cmdshell, openrowset, pg_read_file, COPY .. PROGRAM | 60-100 |
//! | `sqli.outfile` | INTO OUTFILE / DUMPFILE | 70-100 |
//! | `sqli.tautology` | `' or 1=1--`, `1 and 2>1`, `' or 'a'='a` after a breakout | 30-80 |
//! | `sqli.json` | the same with JSON functions or operators (`->>`, `@>`, json_extract) | 30-80 |
//! | `sqli.subquery` | `(SELECT .. FROM ..)` | 15-100 |
//! | `sqli.query` | a whole statement: `SELECT .. FROM .. WHERE` | 7-90 |
//! | `sqli.probe` | ORDER BY N / GROUP BY N / HAVING / PROCEDURE ANALYSE after a breakout | 20-85 |
//! | `sqli.breakout` | `admin'--`, `aa'!='1`, `user'collate nocase--`, `x' or json(id);`, `1--`: a literal closed, SQL to the end | 40-60 |
//! | `sqli.function` | blind-extraction functions (ascii, substring, version, CASE WHEN ..) | 20-100 |
//! | `sqli.schema` | information_schema, sysobjects, pg_catalog, sqlite_master .. | 40-55 |
//!
//! Weak shapes (tautologies, probes, breakouts, function sums) count only
//! when the whole value reads as the rest of a query; strong constructs
//! count wherever they are, and 10 to 20 more when the whole value reads.
//! Inline comments, irregular case of keywords (10) and MySQL executable
//! comments (15) add to a score of 30 or more. Prose guards: English
//! determiners are not table names (`select one from the list`), comments
//! that read as words do not end a query (`1 or 2 -- whichever is fine`),
//! quoted words in double quotes are prose (`"LIKE" STAMP`), a value that
//! starts with `&&` or `||` needs a comparison of constants (`|| 1=1`, not
//! the JavaScript `&&(a="`).
//!
//! **Findings.** The strongest rule of the best context (if it reaches
//! 20), and, when it blocks, the other specific constructs at 50 or more
//! (UNION, stacked, time, error, exec, outfile): at most three, one per
//! rule. Spans cover the construct.
//!
//! **Caps.** A value is read in windows of 8 KiB overlapping by 512 bytes,
//! over its first 64 KiB, plus its last 8 KiB when it is longer (padding
//! before a payload is a known evasion): at most about 80 KiB read per
//! value. At most 8192 tokens per window and context, 48 levels of
//! nesting, and a parsing step budget of 16 per token: cost is linear in
//! the value. A cheap pass over the bytes first rejects values with no
//! quote, comment, `@@`, `&&`, `||`, `::` and no word that can start a
//! scored construct (most words, numbers, user agents, Accept headers).

mod lex;
mod parse;
mod words;

use std::cell::RefCell;

use rampart_plugin_api::{
    Class, DetectCtx, Detector, Finding, Origin, PluginInfo, Registry, RegistryError, Span,
};

pub use parse::Rule;

use lex::Stream;
use parse::{Ctx, Ends, Ev, Parser};
use words::Kw;

const NAME: &str = "sqli";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quick_word_tables() {
        for c in 0..=255u8 {
            let def =
                c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || (c >= 0x80 && c != 0xa0);
            assert_eq!(lex::is_word(c), def, "{c:#x}");
        }
        // Every word the table gives a part whatever follows passes
        // `may_role` in any case, alone and glued after digits.
        for w in words::WORDS.iter().filter(|w| role_alone(w)) {
            for v in [w.name.to_vec(), w.name.to_ascii_uppercase()] {
                let mut next = None;
                assert!(may_role(&v, 0, v.len(), &mut next), "{:?}", w.name);
                if word_role(&v, 0, v.len()) {
                    let glued = [b"1".as_slice(), &v, b" x"].concat();
                    assert!(worth_reading(&glued), "{:?}", w.name);
                }
            }
        }
    }

    #[test]
    fn messages_name_the_contexts() {
        for (k, (_, _, name)) in CONTEXTS.into_iter().enumerate() {
            for r in parse::RULES {
                let m = r.message(k);
                assert!(m.starts_with("SQL injection: "), "{m}");
                assert!(m.ends_with(&format!("({name})")), "{m}");
                assert!(m.contains(r.what()));
            }
        }
    }
}

/// Values are read in windows of this length (a value up to it is read
/// whole).
pub const WINDOW: usize = 8 * 1024;
/// Consecutive windows overlap by this much, so that a construct up to this
/// long lies whole in one of them.
pub const OVERLAP: usize = 512;
/// Windows cover at most this much of the head of a value; a longer value
/// also gets a window over its last [`WINDOW`] bytes (padding before a
/// payload is a known evasion).
pub const MAX_HEAD: usize = 64 * 1024;
/// Most findings per value.
pub const MAX_FINDINGS: usize = 3;

/// The SQL injection detector.
#[derive(Debug, Clone, Copy, Default)]
pub struct SqliDetector;

impl Detector for SqliDetector {
    fn info(&self) -> PluginInfo {
        PluginInfo {
            name: NAME,
            version: env!("CARGO_PKG_VERSION"),
            description: "SQL injection: a SQL lexer and a reader of token sequences, \
                          per quoting context (no regular expressions)",
        }
    }

    fn classes(&self) -> &'static [Class] {
        &[Class::Sqli]
    }

    fn inspect(&self, value: &[u8], ctx: &DetectCtx<'_>, out: &mut Vec<Finding>) {
        let Some(a) = analyze(value) else {
            return;
        };
        for (rule, score, start, end) in a.reports() {
            let msg = rule.message(a.ctx);
            out.push(
                Finding::new(ctx.point, Class::Sqli, rule.name(), score, msg)
                    .with_span(Span::new(start, end))
                    .with_origin(NAME),
            );
        }
    }
}

/// Registers the detector of this crate.
pub fn register(reg: &mut Registry) -> Result<(), RegistryError> {
    reg.add_detector(SqliDetector, Origin::Builtin)
}

/// The outcome of reading one value.
#[derive(Debug, Clone, Copy)]
pub struct Analysis {
    ev: Ev,
    /// The context of the best reading: `as is`, `after '`, `after "` or
    /// `after ', no backslash escapes`.
    pub context: &'static str,
    /// Its index in the detector's contexts.
    ctx: usize,
}

impl Analysis {
    /// The highest score of any rule.
    pub fn score(&self) -> u8 {
        self.ev.best()
    }

    /// What the detector reports: `(rule, score, span start, span end)`.
    ///
    /// The strongest rule (if it scores 20 or more), then, when it blocks,
    /// the other specific constructs that also score 50 or more (UNION,
    /// stacked statement, time, error, exec, outfile), at most
    /// [`MAX_FINDINGS`] in all. Rules that describe the same tokens more
    /// loosely (tautology, breakout, function, subquery ...) ride along
    /// only as the strongest.
    pub fn reports(&self) -> impl Iterator<Item = (Rule, u8, usize, usize)> + '_ {
        let mut list: [(Rule, u8, usize, usize); parse::RULES.len()] =
            [(Rule::Union, 0, 0, 0); parse::RULES.len()];
        let mut n = 0;
        for r in parse::RULES {
            let h = self.ev.get(r);
            if h.score >= 20 {
                list[n] = (r, h.score, h.start as usize, h.end as usize);
                n += 1;
            }
        }
        // Stable: equal scores keep the order of RULES.
        list[..n].sort_by_key(|f| std::cmp::Reverse(f.1));
        let mut keep = n.min(1);
        if list[0].1 >= 50 {
            for k in 1..n {
                if keep >= MAX_FINDINGS {
                    break;
                }
                if list[k].1 >= 50 && list[k].0.specific() {
                    list.swap(keep, k);
                    keep += 1;
                }
            }
        }
        list.into_iter().take(keep)
    }
}

/// The cheap rejection pass: one walk over the bytes that says whether
/// anything in the value can start a construct the reader scores. Every
/// scored shape needs at least one of: a quote or backtick, a comment
/// (`--`, `#`, `/*`, `*/`), `@@`, `&&`, `||`, `::`, `{`, or a word of the
/// table that plays a part on its own: a statement or clause keyword
/// (SELECT, UNION, OR, FROM, WHERE ..., ORDER and GROUP only before BY,
/// the only place the reader knows them), a catalog name, a function name
/// (or VALUES) before `(`, a literal function (`current_user`) or an Oracle
/// package before `.`. Words are split as the lexer splits them (a keyword glued
/// after digits, `1union`, is found too). A test checks on every corpus
/// that values this pass rejects score nothing.
pub fn worth_reading(value: &[u8]) -> bool {
    // An apostrophe first, with a word-at-a-time search: prose with one
    // need not have its words looked up.
    if value.contains(&b'\'') {
        return true;
    }
    let n = value.len();
    let mut i = 0;
    while i < n {
        let c = value[i];
        if WORD_BYTE[c as usize] && !(c == 0xc2 && value.get(i + 1) == Some(&0xa0)) {
            let start = i;
            while i < n {
                let d = value[i];
                if d < 0x80 {
                    if !WORD_BYTE[d as usize] {
                        break;
                    }
                } else if d == 0xa0 || (d == 0xc2 && value.get(i + 1) == Some(&0xa0)) {
                    break;
                }
                i += 1;
            }
            if word_triggers(value, start, i) {
                return true;
            }
            continue;
        }
        if !PUNCT_BYTE[c as usize] {
            i += 1;
            continue;
        }
        let next = value.get(i + 1).copied().unwrap_or(0);
        if c == b'*' && next == b'/' && value.get(i + 2) == Some(&b'*') {
            // `*/*`, the media range of Accept headers: a stray comment end
            // between two `*`, which ends nothing and scores nothing.
            i += 3;
            continue;
        }
        match c {
            b'\'' | b'"' | b'`' | b'#' | b'{' => return true,
            b'-' if next == b'-' => return true,
            b'/' if next == b'*' => return true,
            b'*' if next == b'/' => return true,
            b'@' if next == b'@' => return true,
            b'&' if next == b'&' => return true,
            b'|' if next == b'|' => return true,
            b':' if next == b':' => return true,
            _ => {}
        }
        i += 1;
    }
    false
}

/// The bytes the punctuation checks of `worth_reading` start at.
static PUNCT_BYTE: [bool; 256] = punct_bytes();

const fn punct_bytes() -> [bool; 256] {
    let mut t = [false; 256];
    let all = b"'\"`#{-/*@&|:";
    let mut i = 0;
    while i < all.len() {
        t[all[i] as usize] = true;
        i += 1;
    }
    t
}

/// `lex::is_word`, the table.
use lex::WORD as WORD_BYTE;

/// Whether the word `value[start..end]` can start a scored construct.
fn word_triggers(value: &[u8], start: usize, end: usize) -> bool {
    let w = &value[start..end];
    // The byte after the word and its spaces, looked for once, when needed.
    let mut next = None;
    if w[0].is_ascii_digit() {
        // A number glued to a word: the lexer may split a keyword off its
        // end (`1union`, `1e5union`, `0x1Funion`); try every suffix that
        // starts with a letter.
        let from = w.len().saturating_sub(words::MAX_WORD).max(1);
        return (from..w.len()).any(|k| {
            w[k].is_ascii_alphabetic()
                && may_role(value, start + k, end, &mut next)
                && word_role(value, start + k, end)
        });
    }
    may_role(value, start, end, &mut next) && word_role(value, start, end)
}

/// A quick no for most words `word_role` says no to, without looking
/// them up: a word that plays a part whatever follows it has its length
/// and its first and last bytes in [`ROLE_ENDS`]; any other word plays one only before
/// `(` (a function, an `xp_` procedure) or `.` (an Oracle package).
fn may_role(value: &[u8], start: usize, end: usize, next: &mut Option<u8>) -> bool {
    let len = end - start;
    if !(2..=words::MAX_WORD).contains(&len) {
        return false;
    }
    let (first, last) = ROLE_ENDS[len];
    if first & (1u64 << ROLE_BIT[value[start] as usize]) != 0
        && last & (1u64 << ROLE_BIT[value[end - 1] as usize]) != 0
    {
        return true;
    }
    let n = *next.get_or_insert_with(|| next_byte(value, end));
    n == b'(' || n == b'.'
}

/// Whether the word after `end` (past spaces, including the UTF-8
/// no-break space, and `+`) is `w` (lower-case), in any case, as the
/// lexer splits words.
fn next_word_is(value: &[u8], end: usize, w: &[u8]) -> bool {
    let mut j = end;
    loop {
        match value.get(j) {
            Some(&c) if lex::is_space(c) || c == b'+' => j += 1,
            Some(0xc2) if value.get(j + 1) == Some(&0xa0) => j += 2,
            _ => break,
        }
    }
    let mut k = j;
    while k < value.len()
        && WORD_BYTE[value[k] as usize]
        && !(value[k] == 0xc2 && value.get(k + 1) == Some(&0xa0))
    {
        k += 1;
    }
    value[j..k].eq_ignore_ascii_case(w)
}

/// The byte after `end` and any spaces (and `+`), 0 at the end: as
/// `word_role` finds it.
fn next_byte(value: &[u8], end: usize) -> u8 {
    let mut j = end;
    while j < value.len() && (lex::is_space(value[j]) || value[j] == b'+') {
        j += 1;
    }
    value.get(j).copied().unwrap_or(0)
}

/// A word's first byte as a bit of [`ROLE_ENDS`] (either case).
const fn role_bit(c: u8) -> u32 {
    match c {
        b'a'..=b'z' => (c - b'a') as u32,
        b'A'..=b'Z' => (c - b'A') as u32,
        b'0'..=b'9' => 26 + (c - b'0') as u32,
        b'_' => 36,
        b'$' => 37,
        _ => 38,
    }
}

static ROLE_BIT: [u8; 256] = role_bits();

const fn role_bits() -> [u8; 256] {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = role_bit(i as u8) as u8;
        i += 1;
    }
    t
}

/// Whether a table word plays a part in `word_role` whatever follows it.
const fn role_alone(w: &words::Word) -> bool {
    w.flags & words::SCHEMA != 0
        || (!matches!(w.fc, words::Fc::None) && w.flags & words::LIT != 0)
        || (w.flags & words::STMT != 0 && !matches!(w.kw, Kw::If | Kw::While | Kw::Begin))
        || matches!(
            w.kw,
            Kw::Select
                | Kw::Union
                | Kw::Or
                | Kw::And
                | Kw::Xor
                | Kw::Into
                | Kw::Order
                | Kw::Group
                | Kw::Having
                | Kw::Procedure
                | Kw::From
                | Kw::Where
                | Kw::Case
        )
}

/// For each word length, the first and the last bytes of the table words
/// that play a part whatever follows them.
static ROLE_ENDS: [(u64, u64); words::MAX_WORD + 1] = role_ends();

const fn role_ends() -> [(u64, u64); words::MAX_WORD + 1] {
    let mut t = [(0u64, 0u64); words::MAX_WORD + 1];
    let mut i = 0;
    while i < words::WORDS.len() {
        let w = &words::WORDS[i];
        let n = w.name.len();
        if role_alone(w) && n <= words::MAX_WORD {
            t[n].0 |= 1u64 << role_bit(w.name[0]);
            t[n].1 |= 1u64 << role_bit(w.name[n - 1]);
        }
        i += 1;
    }
    t
}

fn word_role(value: &[u8], start: usize, end: usize) -> bool {
    let len = end - start;
    if !(2..=words::MAX_WORD).contains(&len) {
        return false;
    }
    let mut buf = [0u8; words::MAX_WORD];
    for (d, c) in buf.iter_mut().zip(&value[start..end]) {
        *d = c.to_ascii_lowercase();
    }
    let lower = &buf[..len];
    // The next byte after spaces (`+` too: a value may also be read with
    // `+` as a space).
    let next = next_byte(value, end);
    let w = words::word(words::lookup(lower));
    if w.flags & words::SCHEMA != 0 {
        return true;
    }
    if w.fc != words::Fc::None && (next == b'(' || w.flags & words::LIT != 0) {
        return true;
    }
    if w.flags & words::STMT != 0 {
        // IF, WHILE and BEGIN score only with a statement inside, which
        // has a word of its own.
        return !matches!(w.kw, Kw::If | Kw::While | Kw::Begin);
    }
    if matches!(w.kw, Kw::Order | Kw::Group) {
        // The reader knows ORDER and GROUP only before BY (after spaces
        // or a `+`; a comment between them is a trigger of its own).
        return next_word_is(value, end, b"by");
    }
    if matches!(
        w.kw,
        Kw::Select
            | Kw::Union
            | Kw::Or
            | Kw::And
            | Kw::Xor
            | Kw::Into
            | Kw::Having
            | Kw::Procedure
            | Kw::From
            | Kw::Where
            | Kw::Case
    ) {
        return true;
    }
    if w.kw == Kw::Values && next == b'(' {
        // A row constructor after a set operator: `except values(1,2)`.
        return true;
    }
    if w.kw == Kw::None && w.fc == words::Fc::None && next == b'(' {
        return words::prefix_category(lower) != words::Fc::None;
    }
    next == b'.' && words::qualifier_category(lower) != words::Fc::None
}

thread_local! {
    static STREAM: RefCell<Stream> = RefCell::new(Stream::default());
}

/// Reads `value` in every context; `None` when nothing scored 20.
pub fn analyze(value: &[u8]) -> Option<Analysis> {
    if value.is_empty() || !worth_reading(value) {
        return None;
    }
    STREAM.with(|cell| match cell.try_borrow_mut() {
        Ok(mut s) => analyze_with(value, &mut s),
        Err(_) => analyze_with(value, &mut Stream::default()),
    })
}

/// Reads `value` in every context without the cheap rejection pass (for
/// tests that check the pass rejects nothing that scores).
#[doc(hidden)]
pub fn analyze_all(value: &[u8]) -> Option<Analysis> {
    if value.is_empty() {
        return None;
    }
    analyze_with(value, &mut Stream::default())
}

fn analyze_with(value: &[u8], s: &mut Stream) -> Option<Analysis> {
    let mut best = read_value(value, 0, s);
    if best.as_ref().is_none_or(|a| a.score() < BLOCK) {
        embedded_params(value, s, &mut best);
    }
    best
}

/// The score at which the engine blocks by default: a value that reaches
/// it whole is not split into embedded parameters.
const BLOCK: u8 = 50;

/// Most embedded parameters read in one value.
const MAX_EMBEDDED: usize = 64;

/// Reads `value` (at `base` in the value the detector was given) in every
/// context, and with `+` as a space when that applies.
fn read_value(value: &[u8], base: usize, s: &mut Stream) -> Option<Analysis> {
    let mut best = read_windows(value, base, s);
    // A value with `+` between its parts and no space (a path, a header,
    // a double-encoded parameter): `+` may be a space the application
    // decodes; read it that way too (same length, same spans).
    if value.len() <= WINDOW && value.contains(&b'+') && !value.iter().any(|&c| lex::is_space(c)) {
        let spaced: Vec<u8> = value
            .iter()
            .map(|&c| if c == b'+' { b' ' } else { c })
            .collect();
        if let Some(b) = read_windows(&spaced, base, s) {
            if best.as_ref().is_none_or(|a| b.score() > a.score()) {
                best = Some(b);
            }
        }
    }
    best
}

/// A value that is itself a parameter list, `name=value&name=value` (a
/// form body or a query string encoded twice, so that one decoding leaves
/// a form *name* `pay=AND 1=2`): the application that decodes it again
/// reads each value, so each is read as a value too. A part that does not
/// start with a name and `=` belongs to the value before it (`Tom & Jerry`).
/// Only the first [`MAX_HEAD`] bytes are split, so that a value is read at
/// most about twice.
fn embedded_params(value: &[u8], s: &mut Stream, best: &mut Option<Analysis>) {
    let value = &value[..value.len().min(MAX_HEAD)];
    let Some(eq) = param_name_end(value, 0) else {
        return;
    };
    let mut start = eq + 1;
    for _ in 0..MAX_EMBEDDED {
        // The next `&name=`.
        let mut next = None;
        let mut k = start;
        while let Some(p) = value[k..].iter().position(|&c| c == b'&') {
            let amp = k + p;
            if let Some(e) = param_name_end(value, amp + 1) {
                next = Some((amp, e));
                break;
            }
            k = amp + 1;
        }
        let end = next.map_or(value.len(), |(amp, _)| amp);
        let part = &value[start..end];
        if !part.is_empty() && worth_reading(part) {
            if let Some(b) = read_value(part, start, s) {
                if best.as_ref().is_none_or(|a| b.score() > a.score()) {
                    *best = Some(b);
                }
            }
        }
        match next {
            Some((_, e)) => start = e + 1,
            None => return,
        }
    }
}

/// The index of the `=` that ends a parameter name starting at `from`: a
/// letter or `_`, then up to 127 bytes of letters, digits and `_-.[]@$`
/// (`tx_news[__referrer][@vendor]`); not `==`.
fn param_name_end(value: &[u8], from: usize) -> Option<usize> {
    let first = *value.get(from)?;
    if !(first.is_ascii_alphabetic() || first == b'_') {
        return None;
    }
    let mut i = from + 1;
    while i < value.len() && i - from < 128 {
        match value[i] {
            b'=' => return (value.get(i + 1) != Some(&b'=')).then_some(i),
            c if c.is_ascii_alphanumeric() || b"_-.[]@$".contains(&c) => i += 1,
            _ => return None,
        }
    }
    None
}

fn read_windows(value: &[u8], base: usize, s: &mut Stream) -> Option<Analysis> {
    let mut best: Option<Analysis> = None;
    let len = value.len();
    let mut from = 0;
    loop {
        let to = (from + WINDOW).min(len);
        window(&value[from..to], base + from, s, &mut best);
        if to >= len {
            break;
        }
        if to >= MAX_HEAD {
            let tail = len - WINDOW;
            window(&value[tail..], base + tail, s, &mut best);
            break;
        }
        from = to - OVERLAP;
    }
    best.filter(|a| a.score() >= 20)
}

/// The contexts: the quote the application opened before the value, whether
/// its strings take backslash escapes, and the name in messages. The
/// last reads `\'` as a backslash and a closing quote (standard SQL strings:
/// PostgreSQL, MSSQL, SQLite), tried only when the value holds `\'`.
const CONTEXTS: [(Option<u8>, bool, &str); 4] = [
    (None, true, "as is"),
    (Some(b'\''), true, "after '"),
    (Some(b'"'), true, "after \""),
    (Some(b'\''), false, "after ', no backslash escapes"),
];

fn window(w: &[u8], offset: usize, s: &mut Stream, best: &mut Option<Analysis>) {
    let has_single = w.contains(&b'\'');
    let has_double = w.contains(&b'"');
    let escaped = has_single && w.windows(2).any(|p| p == b"\\'");
    for (k, (quote, esc, name)) in CONTEXTS.into_iter().enumerate() {
        let applies = match (quote, esc) {
            (None, _) => true,
            (Some(b'\''), true) => has_single,
            (Some(b'\''), false) => escaped,
            _ => has_double,
        };
        if !applies || !lex::lex_with(w, quote, esc, s) || !s.signal {
            continue;
        }
        let ctx = if quote.is_some() {
            Ctx::Quote
        } else {
            Ctx::Bare
        };
        let mut p = Parser::new(&s.toks, w);
        let ends = Ends {
            comment: s.end_comment,
            plain: s.end_plain,
            kind: s.end_kind,
            empty: s.end_empty,
            prose: s.end_prose,
        };
        // A stream read whole by the anchored pass has had its constructs
        // parsed already; the scan looks for them in streams that do not.
        if !p.anchored(ctx, ends) || p.junk {
            p.scan();
        }
        let mut ev = p.ev;
        let bonus = if ev.best() >= 30 { p.obfuscation() } else { 0 };
        if bonus > 0 {
            for h in ev.hits.iter_mut() {
                if h.score >= 30 {
                    h.score = h.score.saturating_add(bonus).min(100);
                }
            }
        }
        if offset > 0 {
            for h in ev.hits.iter_mut() {
                h.start = h.start.saturating_add(offset as u32);
                h.end = h.end.saturating_add(offset as u32);
            }
        }
        if best.as_ref().is_none_or(|b| ev.best() > b.score()) {
            *best = Some(Analysis {
                ev,
                context: name,
                ctx: k,
            });
        }
    }
}

/// A description of how `value` is read: the tokens and the evidence of
/// each context (for tests and debugging; not a stable format).
#[doc(hidden)]
pub fn explain(value: &[u8]) -> String {
    let mut out = String::new();
    let mut s = Stream::default();
    for (quote, esc, name) in CONTEXTS {
        if !lex::lex_with(value, quote, esc, &mut s) {
            continue;
        }
        let ctx = if quote.is_some() {
            Ctx::Quote
        } else {
            Ctx::Bare
        };
        let mut p = Parser::new(&s.toks, value);
        let ends = Ends {
            comment: s.end_comment,
            plain: s.end_plain,
            kind: s.end_kind,
            empty: s.end_empty,
            prose: s.end_prose,
        };
        let ok = p.anchored(ctx, ends);
        p.scan();
        out.push_str(&format!(
            "[{name}] anchored={ok} end_comment={}\n ",
            s.end_comment
        ));
        for t in &s.toks {
            let text = String::from_utf8_lossy(&value[t.start as usize..t.end as usize]);
            out.push_str(&format!(" {:?}:{}", t.k, text));
        }
        out.push('\n');
        for r in parse::RULES {
            let h = p.ev.get(r);
            if h.score > 0 {
                out.push_str(&format!("  {} {}\n", r.name(), h.score));
            }
        }
    }
    out
}

// Loadable as a shared library: `cargo build -p rampart-detect-sqli --features plugin-export`.
#[cfg(feature = "plugin-export")]
rampart_plugin_api::declare_plugin! {
    decoders: [],
    detectors: [SqliDetector],
}
