//! OS command injection: a shell-grammar scanner for sh/bash, cmd.exe and
//! PowerShell.
//!
//! The value is read as a shell command list would be: words (with quote
//! removal, escapes, parameter and command substitution), separators
//! (`;`, `|`, `||`, `&&`, `&`, newline), redirections, groups, `$(...)`,
//! backticks and `sh -c '...'` bodies, which are scanned recursively (at
//! most [`MAX_DEPTH`] levels). Every word in *command position* (the
//! start of the value, after a separator, inside a substitution, after
//! `time`/`nohup`/`sudo`-like prefixes, after `name=`) is looked up in a
//! table of about 370 programs, each with a kind (shell, interpreter,
//! network client, reconnaissance, file, admin, Windows, PowerShell) and a
//! tier (word-like such as `cat` or `time`; distinct such as `wget`;
//! probes such as `whoami`). The command is then scored from evidence:
//!
//! - where it stands: a separator at the start of the value (`;id`,
//!   `| id`) or after a value-like token (`127.0.0.1;id`) weighs more than
//!   one inside prose, a substitution most;
//! - the tricks inside its name (`c'a't`, `\c\a\t`, `c$@at`, `/???/c?t`,
//!   `w^h^o^a^m^i`, `{cat,/etc/passwd}`), which only attackers use;
//! - its arguments: sensitive paths (`/etc/passwd`, `/dev/tcp/`,
//!   `C:\Windows`), flags, the dangerous flag of its kind (`sh -c`,
//!   `perl -e`, `nc -e`, `cmd /c`, `powershell -enc`), URLs and addresses
//!   for network clients, redirections, substitutions, pipes into a shell;
//! - against it: arguments that read as prose (`cat food`, `zsh is the
//!   best!`, `a hero; more than that`), English function words after a
//!   distinct name (`uname meaning`, `wget ... fails with 403`), and
//!   markdown inline code in prose (`` I ran `ls -la` ``), which is capped
//!   below blocking unless plainly hostile (a probe, a reverse shell, a
//!   pipe into a shell).
//!
//! Variables assigned in the value are remembered (at most 24, when the
//! value has a `$`) and expanded, so `a=/etc&&b=/passwd&&c=cat&&$c $a$b`
//! is read as `cat /etc/passwd`.
//!
//! Rules (score from the evidence, 50 and up blocks): `cmdi.command`,
//! `cmdi.chained-command` (after a separator), `cmdi.substitution`,
//! `cmdi.obfuscated-command`, `cmdi.shell-exec` (shell or interpreter
//! told to run code), `cmdi.reverse-shell` (85-100), `cmdi.powershell`,
//! `cmdi.binary-path`, `cmdi.variable-command`. Constructs reported on
//! their own: `cmdi.ifs` (80, `$IFS`), `cmdi.brace-expansion` (55-90),
//! `cmdi.glob-path` (75, `/???/c?t`), `cmdi.fork-bomb` (80),
//! `cmdi.cmd-for` (75) and `cmdi.cmd-if` (55-60) for cmd.exe statements,
//! `cmdi.arithmetic` (55-60, `$((...))`, `$[1+1]`),
//! `cmdi.tilde-expansion` (50, a value that is only `~+` / `~-`),
//! `cmdi.sqlite-dot-command` (60-70, `;<LF>.shell ...`: SQLite shell dot
//! commands after a statement; `.shell` / `.system` at the start of a line
//! also have the rest of the line scanned as a command).
//!
//! A parameter's name is scanned as well when it holds more than an
//! identifier (a JSON key `;id` or `cat /etc/passwd`). In `User-Agent`
//! and `Referer`, whose grammar is a product list or a URL, a value that
//! starts as a known program followed by an option (`env --version`) is
//! reported as `cmdi.header-command` (60).
//!
//! Values whose quoting could be the application's are scanned again as
//! if they started inside a single- and a double-quoted string (the
//! attacker's first quote closing the application's), when shell syntax
//! follows the first quote or the value is wrapped in quotes.
//!
//! Work is bounded: [`MAX_WORDS`] words per value over all passes and
//! levels, [`MAX_DEPTH`] levels of nesting, at most eight substitutions
//! remembered per command list, words normalised to 64 bytes, and the
//! crate-wide inspection windows (the first and last 64 KiB).

mod lexer;
mod table;
mod windows;

use rampart_plugin_api::{Class, DetectCtx, Detector, Finding, PluginInfo};

use crate::common::{
    is_function_word, is_prose_word, prose_like, windows as value_windows, Hits, Small,
};
use lexer::{basename, f, read_word, Opts, Sub, SubKind, Subs, Word};
use table::{find_bin, find_bin_glob, is_host, is_ipv4, is_path, sensitive_path, Bin, Kind, Tier};

pub(crate) const NAME: &str = "cmdi";

/// Levels of nested substitutions and `sh -c` bodies scanned.
pub const MAX_DEPTH: u8 = 4;
/// Words read per value, all levels and passes together.
pub const MAX_WORDS: usize = 8192;

/// The OS command injection detector.
#[derive(Debug, Clone, Copy, Default)]
pub struct CmdiDetector;

impl Detector for CmdiDetector {
    fn info(&self) -> PluginInfo {
        PluginInfo {
            name: NAME,
            version: env!("CARGO_PKG_VERSION"),
            description: "OS command injection: sh/bash, cmd.exe and PowerShell commands in \
                          command position, substitutions and shell obfuscation",
        }
    }

    fn classes(&self) -> &'static [Class] {
        &[Class::Cmdi]
    }

    fn inspect(&self, value: &[u8], ctx: &DetectCtx<'_>, out: &mut Vec<Finding>) {
        // Plain text whose first word names no program: nothing to find
        // (see `quiet`), whatever the point.
        // One window (the whole value): its classes serve the scan below.
        let classes = (value.len() <= crate::common::HEAD).then(|| classify(value));
        if let Some((seen, long_word)) = classes {
            if quiet(value, seen, long_word) {
                return;
            }
        }
        // A member's name (the engine offers those too) that is a plain
        // identifier is no command line: `time`, `sort`, `id` are keys.
        if !ctx.is_value(value) && crate::common::plain_name(value) {
            return;
        }
        // A whole decoded form string (the `query` point itself, or a
        // `:form` layer) starts with `name=`: form syntax, not a shell
        // assignment. Read it from the first value on, so that `&&`
        // splitting pairs is still seen but `q=nc 8000 controller` reads as
        // the member value it is.
        let skip = if whole_form(ctx) {
            form_prefix(value)
        } else {
            0
        };
        let mut hits = Hits::default();
        match classes {
            // The classes of the whole value serve for its form part too:
            // `name=` adds none that the scan reads there but `[`, `]`
            // (which only send it the longer way) and words (which only
            // make the PowerShell pass run).
            Some((seen, long_word)) => {
                let mut budget = MAX_WORDS;
                let w = &value[skip..];
                if !w.is_empty() {
                    scan_classified(w, 0, &mut hits, &mut budget, seen, long_word);
                }
            }
            None => scan_value(&value[skip..], &mut hits),
        }
        hits.shift(skip);
        if grammar_header(ctx) {
            if let Some(end) = command_with_flag(value) {
                hits.add(
                    "cmdi.header-command",
                    60,
                    0,
                    end,
                    "a command line where a header holds a product list or a URL",
                );
            }
        }
        hits.emit(ctx, Class::Cmdi, NAME, value.len(), out);
    }
}

/// True when the point is a whole form string: the query source itself or
/// a `form` layer.
fn whole_form(ctx: &DetectCtx<'_>) -> bool {
    use rampart_plugin_api::{Seg, Source};
    ctx.point.index() < ctx.tree.len()
        && matches!(
            ctx.tree.node(ctx.point).seg,
            Seg::Source(Source::Query) | Seg::Layer("form")
        )
}

/// True when the point is a `User-Agent` or `Referer` header: values with
/// a grammar of their own (product tokens `name/version (comment)`, a
/// URL), which a command line never fits.
fn grammar_header(ctx: &DetectCtx<'_>) -> bool {
    use rampart_plugin_api::{Seg, Source};
    let tree = ctx.tree;
    if ctx.point.index() >= tree.len() {
        return false;
    }
    let node = tree.node(ctx.point);
    let Some(key) = tree.key(node.seg) else {
        return false;
    };
    (key.eq_ignore_ascii_case(b"user-agent") || key.eq_ignore_ascii_case(b"referer"))
        && node.parent().is_some_and(|p| {
            p.index() < tree.len() && tree.node(p).seg == Seg::Source(Source::Header)
        })
}

/// `program -flag ...` at the start of a value: a known program named
/// bare (no `/version`, no path) followed by an option. Returns the end of
/// the option.
fn command_with_flag(v: &[u8]) -> Option<usize> {
    let s = v.iter().position(|c| !c.is_ascii_whitespace())?;
    let e = s + v[s..].iter().position(|c| c.is_ascii_whitespace())?;
    let name = &v[s..e];
    if name.len() > 24 || !name.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-') {
        return None;
    }
    let mut lower = [0u8; 24];
    for (d, c) in lower.iter_mut().zip(name) {
        *d = c.to_ascii_lowercase();
    }
    find_bin(&lower[..name.len()])?;
    let a = e + v[e..].iter().position(|c| !c.is_ascii_whitespace())?;
    let z = v[a..]
        .iter()
        .position(|c| c.is_ascii_whitespace())
        .map_or(v.len(), |p| a + p);
    let flag = &v[a..z];
    let body = flag
        .strip_prefix(b"--")
        .or_else(|| flag.strip_prefix(b"-"))?;
    (!body.is_empty() && body.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')).then_some(z)
}

/// The length of a leading `name=` made of parameter-name characters.
fn form_prefix(value: &[u8]) -> usize {
    match value.iter().take(257).position(|&b| b == b'=') {
        Some(i)
            if value[..i].iter().all(|b| {
                b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'[' | b']')
            }) =>
        {
            i + 1
        }
        _ => 0,
    }
}

/// Scans a value into `hits` (also used by the tests and benches).
pub fn scan_value(value: &[u8], hits: &mut Hits) {
    let mut budget = MAX_WORDS;
    for (off, w) in value_windows(value) {
        if w.is_empty() {
            continue;
        }
        scan_window(w, off, hits, &mut budget);
    }
}

/// True when scanning `value` can find nothing, whatever the point: it is
/// one window of plain text (letters, digits, space and `.,:@=-_+`, no
/// `/`, no word of 13 bytes or more) whose first word cannot start a
/// command. [`scan_window`] then only runs [`windows::raw_rules`], which
/// needs a `~`, `$`, `/` or a long word; no `name=` form prefix can be
/// skipped (the first word has no `=`); and `cmdi.header-command` needs a
/// program as the first word.
fn quiet(value: &[u8], seen: u16, long_word: bool) -> bool {
    seen & (C_OTHER | C_SLASH) == 0
        && !long_word
        && !first_word_matters(value, seen & C_BLANK == 0 && seen & C_PLUS != 0)
}

/// The byte classes a window holds (see [`CLASS`]) and whether it has a
/// run of `[A-Za-z0-9_.-]` that starts with a letter and reaches 13 bytes
/// (the words [`windows::raw_rules`] looks up).
#[inline]
fn classify(w: &[u8]) -> (u16, bool) {
    let mut seen = 0u16;
    // The length of the current run if it started with a letter; negative
    // in a run that started with another byte (a run of over a thousand
    // bytes may count again: only a gate, it may say yes too often).
    let mut run = 0i32;
    let mut longest = 0i32;
    for &c in w {
        let k = CLASS[usize::from(c)];
        seen |= k;
        run = if k & C_WORD == 0 {
            0
        } else if run != 0 {
            run + 1
        } else if c.is_ascii_alphabetic() {
            1
        } else {
            -1024
        };
        longest = longest.max(run);
    }
    (seen, longest >= 13)
}

fn scan_window(w: &[u8], off: usize, hits: &mut Hits, budget: &mut usize) {
    // What the value holds, in one pass (see `CLASS`).
    let (seen, long_word) = classify(w);
    scan_classified(w, off, hits, budget, seen, long_word);
}

fn scan_classified(
    w: &[u8],
    off: usize,
    hits: &mut Hits,
    budget: &mut usize,
    seen: u16,
    long_word: bool,
) {
    let has = |bit: u16| seen & bit != 0;
    let needs = windows::RawNeeds {
        dollar: has(C_DOLLAR),
        slash: has(C_SLASH),
        long_word,
    };
    let plus_sep = !has(C_BLANK) && has(C_PLUS);
    if !has(C_OTHER) && !first_word_matters(w, plus_sep) {
        // Plain text (letters, digits, blanks, `.,:/@=-_+`): no separator,
        // quote or substitution puts a word after the first in command
        // position, and the first names no program, so only the raw
        // constructs (`/dev/tcp/`, PowerShell idioms) can be there.
        windows::raw_rules(w, off, hits, needs);
        return;
    }
    if !has(C_HARD) && inert_list(w, plus_sep, has(C_SQUOTE)) {
        // Plain text with separators (`;`, `&`, `(`, `)`), `*` and at most
        // one `'` (product lists, cookies, form strings, prose): no word
        // that can stand in command position starts a command.
        windows::raw_rules(w, off, hits, needs);
        return;
    }
    let table = has(C_PIPE) && is_pipe_table(w);
    let mut s = Scan {
        b: w,
        off,
        opts: Opts { plus_sep },
        hits,
        budget,
        prose: None,
        table,
        assigned_cmd: false,
        pipe_from_cmd: false,
        vars: None,
        dollar: has(C_DOLLAR),
        fixed: None,
    };
    s.scan_list(0, w.len(), Pos::Start, 0);
    // Again as if the value began inside a quoted string, when shell
    // syntax follows the first quote (`'; id` closes the application's
    // string; `O'Brien` does not).
    for (q, bit) in [(b'\'', C_SQUOTE), (b'"', C_DQUOTE)] {
        if !has(bit) {
            continue;
        }
        if let Some(i) = w.iter().position(|&c| c == q) {
            if s.hits.best() >= 90 {
                break;
            }
            let wrapped = trim(w).first() == Some(&q);
            if wrapped || w[i + 1..].iter().any(|c| b";|&`$\n<>".contains(c)) {
                s.scan_list(i + 1, w.len(), Pos::Start, 0);
            }
        }
    }
    // A dot command stands at the start of the value or of a line (a real
    // one, or written `\n`).
    if has(C_DOT) && (has(C_BREAK) || trim(w).first() == Some(&b'.')) {
        sqlite_dot_commands(&mut s, w);
    }
    windows::raw_rules(w, off, s.hits, needs);
}

/// SQLite shell dot commands at the start of a line (`;<LF>.shell id`):
/// input that breaks out of an SQL statement fed to the `sqlite3` shell.
/// `.shell` and `.system` run the rest of the line as a command, which is
/// scanned as one (where the word reader does not already see the dot
/// command); any dot command (`.databases`, `.dump`) counts when a `;`
/// and a line break (real, or written `\n`) lead to it.
fn sqlite_dot_commands(s: &mut Scan<'_>, w: &[u8]) {
    let mut found = 0;
    let mut i = 0;
    while let Some(p) = w[i..].iter().position(|&c| c == b'.') {
        let dot = i + p;
        i = dot + 1;
        // The shell splits a dot command's words at blanks: `. shell`.
        let mut ns = dot + 1;
        while ns < w.len() && ns - dot <= 4 && matches!(w[ns], b' ' | b'\t') {
            ns += 1;
        }
        let mut e = ns;
        while e < w.len() && e - ns < 10 && w[e].is_ascii_alphabetic() {
            e += 1;
        }
        if e == ns || w.get(e).is_some_and(|c| !c.is_ascii_whitespace()) {
            continue;
        }
        let mut name = [0u8; 10];
        let n = (e - ns).min(10);
        for (k, &c) in w[ns..ns + n].iter().enumerate() {
            name[k] = c.to_ascii_lowercase();
        }
        let name = &name[..n];
        let runs = matches!(name, b"shell" | b"system");
        let known = runs
            || matches!(
                name,
                b"databases"
                    | b"tables"
                    | b"schema"
                    | b"dump"
                    | b"output"
                    | b"once"
                    | b"read"
                    | b"import"
                    | b"load"
                    | b"open"
                    | b"backup"
                    | b"restore"
                    | b"dbinfo"
                    | b"fullschema"
            );
        if !known {
            continue;
        }
        // What leads to the dot: blanks, then a line break, then maybe a
        // `;` before it.
        let mut j = dot;
        while j > 0 && matches!(w[j - 1], b' ' | b'\t') {
            j -= 1;
        }
        let mut line_start = j == 0;
        let mut broke = false;
        let mut written = false;
        if j > 0 && matches!(w[j - 1], b'\n' | b'\r') {
            line_start = true;
            broke = true;
            while j > 0 && matches!(w[j - 1], b'\n' | b'\r') {
                j -= 1;
            }
        } else if j >= 2 && w[j - 2] == b'\\' && matches!(w[j - 1], b'n' | b'r') {
            broke = true;
            written = true;
            j -= 2;
            if j >= 2 && w[j - 2] == b'\\' && w[j - 1] == b'r' {
                j -= 2;
            }
            line_start = j == 0;
        }
        while j > 0 && matches!(w[j - 1], b' ' | b'\t') {
            j -= 1;
        }
        let after_stmt = broke && j > 0 && w[j - 1] == b';';
        // A dot command the word reader sees (`.shell` after a real line
        // break) is already a command prefix (see `bins.rs`); the rest of
        // the line is scanned here when the break is written `\n` or a
        // blank follows the dot.
        if runs && (written || ns > dot + 1) && (line_start || after_stmt) {
            let line_end = w[e..]
                .iter()
                .position(|&c| c == b'\n' || c == b'\r')
                .map_or(w.len(), |q| e + q);
            // A literal `\n` ends the line as well.
            let line_end = w[e..line_end]
                .windows(2)
                .position(|p| p == b"\\n")
                .map_or(line_end, |q| e + q);
            s.scan_list(e, line_end, Pos::ShellC, 1);
        }
        if after_stmt {
            s.hit(
                "cmdi.sqlite-dot-command",
                if runs { 70 } else { 60 },
                j - 1,
                e,
                "an SQLite shell dot command after a statement",
            );
        }
        found += 1;
        if found >= 8 {
            return;
        }
    }
}

/// Byte classes of [`CLASS`].
const C_BLANK: u16 = 1; // space, tab
const C_PLUS: u16 = 2;
const C_PIPE: u16 = 4;
const C_DOLLAR: u16 = 8;
const C_SQUOTE: u16 = 16;
const C_DQUOTE: u16 = 32;
const C_DOT: u16 = 64;
/// A real line break or a backslash (a line break written `\n`).
const C_BREAK: u16 = 128;
/// Not plain text: anything but letters, digits, space and `.,:/@=-_+`.
const C_OTHER: u16 = 256;
const C_SLASH: u16 = 512;
/// A byte of a word for [`windows::raw_rules`]: `[A-Za-z0-9_.-]`.
const C_WORD: u16 = 1024;

/// Not plain text nor one of `;&()*'` (see [`inert_list`]).
const C_HARD: u16 = 2048;

/// The classes of each byte.
static CLASS: [u16; 256] = {
    let mut t = [0u16; 256];
    let mut i = 0;
    while i < 256 {
        let c = i as u8;
        let mut k = 0;
        if !(c.is_ascii_alphanumeric()
            || matches!(
                c,
                b' ' | b'.' | b',' | b':' | b'/' | b'@' | b'=' | b'-' | b'_' | b'+'
            ))
        {
            k |= C_OTHER;
        }
        if c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-') {
            k |= C_WORD;
        }
        if k & C_OTHER != 0 && !matches!(c, b';' | b'&' | b'(' | b')' | b'*' | b'\'') {
            k |= C_HARD;
        }
        k |= match c {
            b'/' => C_SLASH,
            b' ' | b'\t' => C_BLANK,
            b'+' => C_PLUS,
            b'|' => C_PIPE,
            b'$' => C_DOLLAR,
            b'\'' => C_SQUOTE,
            b'"' => C_DQUOTE,
            b'.' => C_DOT,
            b'\n' | b'\r' | b'\\' => C_BREAK,
            _ => 0,
        };
        t[i] = k;
        i += 1;
    }
    t
};

/// For plain text (no [`C_OTHER`] byte): whether its first word can start a
/// command. It can when it names a program (or an extension or version
/// of one), is an assignment (`a=1 cat`), a path (`/bin/x`, `dir/s`), a
/// dot command, or a keyword that keeps command position.
fn first_word_matters(w: &[u8], plus_sep: bool) -> bool {
    let sep = |c: u8| c == b' ' || (plus_sep && c == b'+');
    let Some(s) = w.iter().position(|&c| !sep(c)) else {
        return false;
    };
    let e = w[s..]
        .iter()
        .position(|&c| sep(c))
        .map_or(w.len(), |p| s + p);
    let word = &w[s..e];
    if word.len() > 40
        || word.iter().any(|&c| matches!(c, b'=' | b'/'))
        || matches!(word[0], b'.' | b'@')
    {
        return true;
    }
    // No program starts so, and no keyword (`then`, `do`, `else`, `elif`,
    // `while`, `until`, `for`, `if`): nothing to look up.
    if let [a, b, ..] = *word {
        let (a, b) = (a.to_ascii_lowercase(), b.to_ascii_lowercase());
        if !table::may_be_bin(&[a, b])
            && !matches!(
                (a, b),
                (b't', b'h')
                    | (b'd', b'o')
                    | (b'e', b'l')
                    | (b'w', b'h')
                    | (b'u', b'n')
                    | (b'f', b'o')
                    | (b'i', b'f')
            )
        {
            return false;
        }
    }
    let mut lower = [0u8; 40];
    for (d, c) in lower.iter_mut().zip(word) {
        *d = c.to_ascii_lowercase();
    }
    let t = &lower[..word.len()];
    is_keyword(t) || t == b"for" || t == b"if" || find_bin(t).is_some()
}

/// For text of plain bytes, the separators `;`, `&`, `(`, `)`, `*` and
/// `'` (no [`C_HARD`] byte): true when [`Scan::scan_list`] and the quoted
/// rescans can report nothing. Those report only for a command, which
/// starts at a word in command position that names a program, a program
/// directory (`/bin/x`), a variable or a cmd.exe statement, or for
/// constructs that need `$`, a backtick, `{`, `?`, `[`, `<`, `>`, `|`, `#`,
/// a line break or a backslash, none of which is here. Command position
/// is over-approximated: the first word, every word after a separator
/// byte, every word after a keyword or an assignment that stands in
/// command position, and, with a `'`, the same again for the text after
/// it (read as if the value began inside a quoted string). At most one
/// `'` (unpaired, so kept or dropped as a literal) and no HTML entity
/// (`&amp;` is word text) are allowed; anything else is left to the
/// scanner.
fn inert_list(w: &[u8], plus_sep: bool, squote: bool) -> bool {
    let mut quote = None;
    if squote {
        for (i, &c) in w.iter().enumerate() {
            if c == b'\'' {
                if quote.is_some() {
                    return false;
                }
                quote = Some(i);
            }
        }
    }
    inert_walk(w, plus_sep) && quote.is_none_or(|q| inert_walk(&w[q + 1..], plus_sep))
}

/// One pass of [`inert_list`] over `w`.
fn inert_walk(w: &[u8], plus_sep: bool) -> bool {
    // Bytes that end a word: separators, and blanks (with `+` when it
    // separates words).
    let stop = W_SEP | W_BLANK | if plus_sep { W_PLUS } else { 0 };
    let mut i = 0;
    let mut command = true;
    while i < w.len() {
        let k = WALK[usize::from(w[i])];
        if k & W_SEP != 0 {
            if w[i] == b'&' && lexer::entity_len(w, i, w.len()).is_some() {
                return false;
            }
            command = true;
            i += 1;
            continue;
        }
        if k & stop != 0 {
            i += 1;
            continue;
        }
        if !command {
            // Not in command position until the next separator.
            while i < w.len() && WALK[usize::from(w[i])] & W_SEP == 0 {
                i += 1;
            }
            continue;
        }
        let s = i;
        while i < w.len() && WALK[usize::from(w[i])] & stop == 0 {
            i += 1;
        }
        match inert_word(&w[s..i]) {
            Some(keep) => command = keep,
            None => return false,
        }
    }
    true
}

const W_SEP: u8 = 1;
const W_BLANK: u8 = 2;
const W_PLUS: u8 = 4;

/// The bytes [`inert_walk`] stops at.
static WALK: [u8; 256] = {
    let mut t = [0u8; 256];
    t[b';' as usize] = W_SEP;
    t[b'&' as usize] = W_SEP;
    t[b'(' as usize] = W_SEP;
    t[b')' as usize] = W_SEP;
    t[b' ' as usize] = W_BLANK;
    t[b'+' as usize] = W_PLUS;
    t
};

/// A word of [`inert_walk`] in command position: `None` when it may start
/// a command (or needs the scanner), else whether the next word stays in
/// command position (after a keyword or an assignment).
fn inert_word(raw: &[u8]) -> Option<bool> {
    if raw.len() > lexer::WORD_MAX || matches!(raw.first(), Some(b'.' | b'@' | b'\'')) {
        return None;
    }
    let quoted = raw.contains(&b'\'');
    if !quoted {
        if let Some(keep) = inert_word_quick(raw) {
            return Some(keep);
        }
    }
    if quoted && raw.contains(&b'=') {
        return None;
    }
    let mut buf = [0u8; lexer::WORD_MAX];
    let mut n = 0;
    for &c in raw {
        // An unpaired quote is kept inside a word and dropped at its
        // edge: checking the word without it covers both readings below.
        if c != b'\'' {
            buf[n] = c.to_ascii_lowercase();
            n += 1;
        }
    }
    let t = &buf[..n];
    if quoted {
        let mut kept = [0u8; lexer::WORD_MAX];
        for (d, c) in kept.iter_mut().zip(raw) {
            *d = c.to_ascii_lowercase();
        }
        inert_name(&kept[..raw.len()])?;
    }
    if let Some(eq) = t.iter().position(|&c| c == b'=') {
        let name = &t[..eq];
        if name
            .first()
            .is_some_and(|&c| c.is_ascii_alphabetic() || c == b'_')
            && name.iter().all(|&c| c.is_ascii_alphanumeric() || c == b'_')
        {
            // `name=value`: the value (and that of `a=b=value`) may name
            // a program or a program directory; the next word keeps
            // command position.
            let v = &t[eq + 1..];
            let inner = v.iter().position(|&c| c == b'=').map(|p| &v[p + 1..]);
            for v in std::iter::once(v).chain(inner) {
                if find_bin(basename(v)).is_some() || is_bin_dir(v) {
                    return None;
                }
            }
            return Some(true);
        }
    }
    inert_name(t)
}

/// The first two bytes of `t`, lower-case (one byte, doubled, when that
/// is all there is).
fn head2(t: &[u8]) -> [u8; 2] {
    match t {
        [a, b, ..] => [a.to_ascii_lowercase(), b.to_ascii_lowercase()],
        [a] => [a.to_ascii_lowercase(); 2],
        [] => [0; 2],
    }
}

/// True when `t` (any case, no quote) cannot name a program, nor be
/// stripped to one by [`find_bin`]: no name starts with its first two
/// bytes. Words of one byte are left to the lookup.
fn surely_no_bin(t: &[u8]) -> bool {
    t.is_empty() || (t.len() >= 2 && !table::may_be_bin(&head2(t)))
}

/// [`inert_word`] without building the lower-case word, for a word with
/// no quote: `Some` when the prefixes of the names rule every lookup out
/// (the answer the full check gives then), `None` to run the full check.
fn inert_word_quick(raw: &[u8]) -> Option<bool> {
    let eq = raw.iter().position(|&c| c == b'=');
    if let Some(eq) = eq {
        let name = &raw[..eq];
        if !(name
            .first()
            .is_some_and(|&c| c.is_ascii_alphabetic() || c == b'_')
            && name.iter().all(|&c| c.is_ascii_alphanumeric() || c == b'_'))
        {
            return None;
        }
        // An assignment: its value, and the value of `a=b=value`.
        let v = &raw[eq + 1..];
        let inner = v.iter().position(|&c| c == b'=').map(|p| &v[p + 1..]);
        for v in std::iter::once(v).chain(inner) {
            if v.first() == Some(&b'/') || !surely_no_bin(basename(v)) {
                return None;
            }
        }
        return Some(true);
    }
    // Keywords, `for` and `if` start so.
    if matches!(
        &head2(raw),
        b"th" | b"do" | b"el" | b"wh" | b"un" | b"fo" | b"if"
    ) || raw.first() == Some(&b'/')
        || !surely_no_bin(basename(raw))
    {
        return None;
    }
    if let Some(p) = raw.iter().position(|&c| c == b'/') {
        if !surely_no_bin(&raw[..p]) {
            return None;
        }
    }
    Some(false)
}

/// A command name (lower-case, no quote): `None` when it may start a
/// command, else whether the next word stays in command position.
fn inert_name(t: &[u8]) -> Option<bool> {
    if is_keyword(t) {
        return Some(true);
    }
    if t == b"for" || t == b"if" || t.starts_with(b"if/") {
        return None;
    }
    if find_bin(basename(t)).is_some() || is_bin_dir(t) {
        return None;
    }
    if let Some(p) = t.iter().position(|&c| c == b'/') {
        // `dir/s`: a cmd.exe switch glued to a name; `/e*c/x`: a glob path.
        if find_bin(&t[..p]).is_some() || (p == 0 && t.contains(&b'*')) {
            return None;
        }
    }
    Some(false)
}

/// A word of plain bytes at `i` (letters, digits, `.,:/@=-_`, and `+`
/// unless it separates words) that ends at a blank, an operator or `hi`:
/// its end and whether it reads as a value (a digit or `.:/@=`). `None`
/// when the word needs the lexer.
fn plain_word(b: &[u8], i: usize, hi: usize, plus_sep: bool) -> Option<(usize, bool)> {
    let mut j = i;
    let mut valuey = false;
    while j < hi {
        let c = b[j];
        match c {
            b'a'..=b'z' | b'A'..=b'Z' | b'_' | b',' | b'-' => {}
            b'0'..=b'9' | b'.' | b':' | b'/' | b'@' | b'=' => valuey = true,
            b'+' if !plus_sep => {}
            _ => break,
        }
        j += 1;
    }
    if j == i {
        return None;
    }
    match b.get(j) {
        _ if j >= hi => Some((j, valuey)),
        Some(b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c | b';' | b'|' | b'(' | b')') => {
            Some((j, valuey))
        }
        // An HTML entity (`&amp;`) continues the word.
        Some(b'&') if lexer::entity_len(b, j, hi).is_none() => Some((j, valuey)),
        Some(b'+') if plus_sep => Some((j, valuey)),
        _ => None,
    }
}

/// `| a | b |` rows: pipes are table cells, not pipelines.
fn is_pipe_table(w: &[u8]) -> bool {
    let t = trim(w);
    t.first() == Some(&b'|')
        && t.last() == Some(&b'|')
        && w.iter().filter(|&&c| c == b'|').count() >= 3
        && !w.windows(2).any(|p| p == b"||")
}

fn trim(w: &[u8]) -> &[u8] {
    let s = w
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(w.len());
    let e = w
        .iter()
        .rposition(|c| !c.is_ascii_whitespace())
        .map_or(s, |e| e + 1);
    &w[s..e]
}

/// Where a command stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pos {
    /// The start of the value.
    Start,
    /// The value of `name=` at the start of the value (`cmd=cat ...`).
    Assign,
    /// After `time`, `nohup`, `sudo`, `env`... (`true` after a prefix that
    /// is not an ordinary word: `nohup`, `strace`, `sudo`).
    Prefixed(bool),
    /// After a separator.
    Sep {
        lead: bool,
        glued: bool,
        after_cmd: bool,
    },
    /// Inside `$(...)` or backticks.
    Subst,
    /// Inside `sh -c '...'`, after `cmd /c`.
    ShellC,
    /// Inside `( ... )`.
    Group,
    /// Markdown inline code in prose (`` run `ls -la` ``): talk about a
    /// command; capped below blocking unless the command is plainly hostile.
    Quoted,
}

impl Pos {
    fn points(self) -> i32 {
        match self {
            Pos::Start => 10,
            Pos::Assign => 15,
            Pos::Prefixed(false) => 25,
            Pos::Prefixed(true) => 35,
            Pos::Sep { lead: true, .. } => 40,
            Pos::Sep {
                after_cmd: true, ..
            } => 35,
            Pos::Sep { glued: true, .. } => 30,
            Pos::Sep { .. } => 25,
            Pos::Subst => 50,
            Pos::ShellC => 45,
            Pos::Group => 35,
            Pos::Quoted => 10,
        }
    }
}

/// What a command and its arguments showed.
#[derive(Debug, Clone, Copy)]
struct Cmd {
    start: usize,
    end: usize,
    pos: Pos,
    bin: Option<&'static Bin>,
    /// Tricks in the command name.
    obf: bool,
    /// Named by an absolute path into a binary directory.
    binpath: bool,
    /// The name is only a variable (`$a`).
    var: bool,
    nargs: u8,
    prose: u8,
    /// Arguments that are English function words (`is`, `the`, `meaning`).
    fwords: u8,
    flags: u8,
    dflag: bool,
    switch: bool,
    path: bool,
    sens: bool,
    url: bool,
    ip: bool,
    host: bool,
    num: bool,
    redir: bool,
    redir_dev: bool,
    herestr: bool,
    subst: bool,
    arith: bool,
    obf_arg: bool,
    arg_cmd: bool,
    /// `| sh` after a command.
    piped_shell: bool,
    /// The next word is the redirection target.
    want_target: bool,
    /// The next word is a `-c` body.
    want_body: bool,
}

impl Cmd {
    fn new(w: &Word, pos: Pos, bin: Option<&'static Bin>) -> Cmd {
        Cmd {
            start: w.start,
            end: w.end,
            pos,
            bin,
            obf: false,
            binpath: false,
            var: false,
            nargs: 0,
            prose: 0,
            fwords: 0,
            flags: 0,
            dflag: false,
            switch: false,
            path: false,
            sens: false,
            url: false,
            ip: false,
            host: false,
            num: false,
            redir: false,
            redir_dev: false,
            herestr: false,
            subst: false,
            arith: false,
            obf_arg: false,
            arg_cmd: false,
            piped_shell: false,
            want_target: false,
            want_body: false,
        }
    }
}

struct Scan<'a> {
    b: &'a [u8],
    off: usize,
    opts: Opts,
    hits: &'a mut Hits,
    budget: &'a mut usize,
    /// The window reads as prose (markdown backticks are not commands);
    /// computed when first needed.
    prose: Option<bool>,
    /// The window is a pipe table.
    table: bool,
    /// An assignment stored a program name in a variable (`c=cat`).
    assigned_cmd: bool,
    /// The last separator was a pipe after a known program.
    pipe_from_cmd: bool,
    /// Variables assigned so far (`a=/etc`, `c=cat`).
    vars: Option<Box<Vars>>,
    /// The text has a `$`: variables may be expanded, so assignments are
    /// remembered.
    dollar: bool,
    /// Hits of a scan over expanded text are reported at this span.
    fixed: Option<(usize, usize)>,
}

/// Shell variables assigned in the value, to expand `$c $a$b`.
#[derive(Debug, Default)]
struct Vars {
    list: [(Small<16>, Small<32>); 24],
    n: usize,
}

impl Vars {
    fn set(&mut self, name: &[u8], val: &[u8]) {
        if name.is_empty() || name.len() > 16 || val.len() > 32 {
            return;
        }
        for e in self.list.iter_mut().take(self.n) {
            if e.0.as_bytes() == name {
                e.1.clear();
                e.1.extend(val);
                return;
            }
        }
        if self.n < self.list.len() {
            self.list[self.n].0.extend(name);
            self.list[self.n].1.extend(val);
            self.n += 1;
        }
    }

    fn get(&self, name: &[u8]) -> Option<&[u8]> {
        self.list
            .iter()
            .take(self.n)
            .find(|e| e.0.as_bytes().eq_ignore_ascii_case(name))
            .map(|e| e.1.as_bytes())
    }

    /// The raw word with its `$name` / `${name}` references replaced by
    /// known values; `None` when it references none or an unknown one.
    fn expand(&self, raw: &[u8]) -> Option<Small<64>> {
        if self.n == 0 {
            return None;
        }
        let mut out = Small::<64>::default();
        let mut used = false;
        let mut i = 0;
        while i < raw.len() {
            let c = raw[i];
            if c == b'$' {
                let (s, e, next) = if raw.get(i + 1) == Some(&b'{') {
                    let e = raw[i + 2..].iter().position(|&x| x == b'}')? + i + 2;
                    (i + 2, e, e + 1)
                } else {
                    let mut e = i + 1;
                    while e < raw.len() && (raw[e].is_ascii_alphanumeric() || raw[e] == b'_') {
                        e += 1;
                    }
                    (i + 1, e, e)
                };
                if e == s {
                    return None;
                }
                out.extend(self.get(&raw[s..e])?);
                used = true;
                i = next;
            } else if c == b'\\' {
                if let Some(&n) = raw.get(i + 1) {
                    out.push(n.to_ascii_lowercase());
                }
                i += 2;
            } else {
                if c != b'\'' && c != b'"' {
                    out.push(c.to_ascii_lowercase());
                }
                i += 1;
            }
        }
        (used && !out.truncated).then_some(out)
    }
}

/// Prefix words that keep the next word in command position.
fn is_keyword(t: &[u8]) -> bool {
    matches!(
        t,
        b"then"
            | b"do"
            | b"else"
            | b"elif"
            | b"{"
            | b"}"
            | b"!"
            | b"while"
            | b"until"
            | b"("
            | b"@"
    )
}

impl Scan<'_> {
    fn is_prose(&mut self) -> bool {
        *self.prose.get_or_insert_with(|| prose_like(self.b))
    }

    fn hit(&mut self, rule: &'static str, score: u8, s: usize, e: usize, msg: &'static str) {
        let (s, e) = self.fixed.unwrap_or((self.off + s, self.off + e));
        self.hits.add(rule, score, s, e, msg);
    }

    /// Remembers an assignment when the text could expand it.
    fn set_var(&mut self, name: &[u8], val: &[u8]) {
        if self.dollar {
            self.vars.get_or_insert_with(Box::default).set(name, val);
        }
    }

    /// Scans text the value builds at run time (variables expanded),
    /// reporting at the span of the words that built it.
    fn synthetic(&mut self, text: &[u8], s: usize, e: usize, pos: Pos, depth: u8) {
        if depth >= MAX_DEPTH || *self.budget == 0 {
            return;
        }
        let fixed = self.fixed.unwrap_or((self.off + s, self.off + e));
        let mut sub = Scan {
            b: text,
            off: 0,
            opts: Opts::default(),
            hits: &mut *self.hits,
            budget: &mut *self.budget,
            prose: Some(false),
            table: false,
            assigned_cmd: self.assigned_cmd,
            pipe_from_cmd: false,
            vars: None,
            dollar: text.contains(&b'$'),
            fixed: Some(fixed),
        };
        sub.scan_list(0, text.len(), pos, depth + 1);
    }

    fn scan_list(&mut self, lo: usize, hi: usize, entry: Pos, depth: u8) {
        let b = self.b;
        let hi = hi.min(b.len());
        let mut subs = Subs::default();
        let mut i = lo;
        let mut cmd: Option<Cmd> = None;
        let mut at: Option<Pos> = Some(entry);
        let mut prefix_skip = 0u8;
        let mut words = 0usize;
        let mut last_valuey = false;
        let mut last_end = lo;
        while i < hi {
            if *self.budget == 0 {
                return;
            }
            let c = b[i];
            if c == b' '
                || c == b'\t'
                || c == 0x0b
                || c == 0x0c
                || (self.opts.plus_sep && c == b'+')
            {
                i += 1;
                continue;
            }
            let glued = i > lo && i == last_end;
            let lead = words == 0 || (words == 1 && glued && last_valuey);
            match c {
                b'\n' | b'\r' | b';' => {
                    let after = self.finish(cmd.take(), hi);
                    at = Some(Pos::Sep {
                        lead,
                        glued,
                        after_cmd: after,
                    });
                    i += 1;
                    last_end = i;
                }
                b'&' => {
                    if let Some(n) = lexer::entity_len(b, i, hi) {
                        // An HTML entity is text.
                        i += n;
                        last_end = i;
                        words += 1;
                        last_valuey = false;
                        continue;
                    }
                    if b.get(i + 1) == Some(&b'>') && i + 1 < hi {
                        if let Some(c) = cmd.as_mut() {
                            c.redir = true;
                            c.want_target = true;
                        }
                        i += 2;
                        continue;
                    }
                    let after = self.finish(cmd.take(), hi);
                    let n = if b.get(i + 1) == Some(&b'&') && i + 1 < hi {
                        2
                    } else {
                        1
                    };
                    at = Some(Pos::Sep {
                        lead,
                        glued,
                        after_cmd: after,
                    });
                    i += n;
                    last_end = i;
                }
                b'|' => {
                    if self.table {
                        let _ = self.finish(cmd.take(), hi);
                        at = None;
                        i += 1;
                        continue;
                    }
                    let prev_known = cmd.as_ref().is_some_and(|c| c.bin.is_some());
                    let after = self.finish(cmd.take(), hi);
                    let n = if matches!(b.get(i + 1), Some(b'|' | b'&')) && i + 1 < hi {
                        2
                    } else {
                        1
                    };
                    at = Some(Pos::Sep {
                        lead,
                        glued,
                        after_cmd: after || (prev_known && n == 1),
                    });
                    if prev_known && n == 1 {
                        // Remember for `| sh`.
                        self.pipe_from_cmd = true;
                    }
                    i += n;
                    last_end = i;
                }
                b'<' | b'>' => {
                    i = self.redirection(b, i, hi, &mut cmd, &mut subs);
                    last_end = i;
                }
                b'(' => {
                    match lexer::find_close(b, i + 1, hi, b'(', b')') {
                        Some(e) => {
                            if b[i + 1..e].iter().all(|c| c.is_ascii_whitespace()) {
                                // `f() {`: a function definition.
                                windows::fork_bomb(self, b, i, hi);
                            } else {
                                subs.push(Sub {
                                    start: i + 1,
                                    end: e,
                                    tick: false,
                                    kind: SubKind::Group,
                                });
                                // `iex (iwr ...)` passes a command's output;
                                // `printf(foo)` is a function call, not shell.
                                if let Some(c) = cmd.as_mut() {
                                    if i > 0 && b[i - 1].is_ascii_whitespace() {
                                        c.subst = true;
                                    }
                                }
                            }
                            i = e + 1;
                        }
                        None => {
                            subs.push(Sub {
                                start: i + 1,
                                end: hi,
                                tick: false,
                                kind: SubKind::Group,
                            });
                            i = hi;
                        }
                    }
                    last_end = i;
                }
                b')' => {
                    i += 1;
                    last_end = i;
                }
                b'#' if i == lo
                    || b[i - 1].is_ascii_whitespace()
                    || b"; |&".contains(&b[i - 1]) =>
                {
                    // A comment runs to the end of the line.
                    let _ = self.finish(cmd.take(), hi);
                    while i < hi && b[i] != b'\n' {
                        i += 1;
                    }
                    at = None;
                }
                _ => {
                    *self.budget -= 1;
                    if at.is_none() && cmd.is_none() {
                        // Neither in command position nor an argument of a
                        // command that can score: a word of plain bytes
                        // needs no lexing (it holds no substitution).
                        if let Some((e, valuey)) = plain_word(b, i, hi, self.opts.plus_sep) {
                            i = e;
                            last_end = i;
                            last_valuey = valuey;
                            continue;
                        }
                    }
                    let mut w = read_word(b, i, hi, self.opts, &mut subs);
                    i = w.end.max(i + 1);
                    last_end = i;
                    if w.has(f::DOLLAR) && !w.has(f::ASSIGN) {
                        if let Some(x) = self
                            .vars
                            .as_ref()
                            .and_then(|v| v.expand(&b[w.start..w.end]))
                        {
                            if x.as_bytes().contains(&b' ') {
                                // `$c1$c2$c3$c4$a1...` spelling a whole command.
                                if let Some(p) = at {
                                    let line_end = b[i..hi]
                                        .iter()
                                        .position(|&c| c == b'\n' || c == b';')
                                        .map_or(hi, |q| i + q);
                                    self.synthetic(x.as_bytes(), w.start, line_end, p, depth);
                                    at = None;
                                    continue;
                                }
                            }
                            w.norm = x;
                            w.flags = (w.flags | f::DJUNK) & !f::VARONLY;
                        }
                    }
                    let t = w.text();
                    last_valuey = t
                        .iter()
                        .any(|&c| c.is_ascii_digit() || b".:/@=".contains(&c));
                    if let Some(p) = at {
                        // Command position.
                        if is_keyword(t) {
                            continue;
                        }
                        let kw: &[u8] = if t.starts_with(b"if/") { b"if" } else { t };
                        if (kw == b"for" || kw == b"if")
                            && windows::cmd_statement(self, b, w.start, hi, kw)
                        {
                            at = None;
                            continue;
                        }
                        if matches!(p, Pos::Prefixed(_)) && prefix_skip > 0 && prefix_arg(&w) {
                            prefix_skip -= 1;
                            if let Some(c) = cmd.as_mut() {
                                let _ = arg(c, &w);
                            }
                            continue;
                        }
                        if w.has(f::BRACE) || (t.first() == Some(&b'{') && t.contains(&b',')) {
                            windows::brace(self, b, w.start, w.end, p);
                        }
                        words += 1;
                        if w.has(f::ASSIGN) {
                            let mut v = t.get(w.eq + 1..).unwrap_or(&[]);
                            self.set_var(&t[..w.eq.min(t.len())], v);
                            // `cmd=garb=adduse[r]`: the inner value.
                            if let Some(p) = v.iter().position(|&c| c == b'=') {
                                self.set_var(&v[..p], &v[p + 1..]);
                                v = &v[p + 1..];
                            }
                            let mut vb = (!v.is_empty()).then(|| find_bin(basename(v))).flatten();
                            if vb.is_none() && w.has(f::GLOB) {
                                vb = find_bin_glob(basename(v));
                            }
                            if vb.is_some() {
                                self.assigned_cmd = true;
                            }
                            if vb.is_none()
                                && matches!(p, Pos::Start | Pos::Assign)
                                && is_bin_dir(v)
                            {
                                let mut nc = Cmd::new(&w, Pos::Assign, None);
                                nc.binpath = true;
                                cmd = Some(nc);
                                at = None;
                                continue;
                            }
                            if matches!(p, Pos::Start | Pos::Assign) && vb.is_some() {
                                let _ = self.finish(cmd.take(), hi);
                                let mut nc = Cmd::new(&w, Pos::Assign, vb);
                                nc.obf = w.flags & f::OBFUSCATION & !f::GLOB != 0;
                                let prefix = vb.is_some_and(|b| b.kind == Kind::Prefix);
                                cmd = Some(nc);
                                if prefix {
                                    at = Some(Pos::Prefixed(
                                        vb.is_some_and(|b| b.tier != Tier::Word),
                                    ));
                                    prefix_skip = 3;
                                } else {
                                    at = None;
                                }
                            }
                            // `a=1 cat`: still in command position.
                            continue;
                        }
                        let (nc, prefix) = self.command(&w, p);
                        let nc_strong = nc.bin.is_some_and(|b| b.tier != Tier::Word) || nc.obf;
                        if let Some(old) = cmd.take() {
                            if !old.bin.is_some_and(|b| b.kind == Kind::Prefix) {
                                let _ = self.finish(Some(old), hi);
                            }
                        }
                        // An unknown name that is neither a binary path nor
                        // a variable scores nothing whatever its arguments
                        // (see `score`): no command to follow.
                        cmd = (nc.bin.is_some() || nc.binpath || nc.var).then_some(nc);
                        if prefix {
                            let strong = nc_strong || matches!(p, Pos::Prefixed(true));
                            at = Some(Pos::Prefixed(strong));
                            prefix_skip = 3;
                        } else {
                            at = None;
                        }
                        if let Some(c) = cmd.as_mut() {
                            if c.bin.is_some_and(|b| b.kind == Kind::Shell)
                                && self.pipe_from_cmd
                                && matches!(
                                    p,
                                    Pos::Sep {
                                        after_cmd: true,
                                        ..
                                    }
                                )
                            {
                                c.piped_shell = true;
                            }
                        }
                        self.pipe_from_cmd = false;
                    } else if let Some(c) = cmd.as_mut() {
                        if c.want_target {
                            c.want_target = false;
                            target(c, &w);
                            continue;
                        }
                        if c.want_body {
                            c.want_body = false;
                            // `sh -c 'body'`: scan the body as commands.
                            let (s, e) = unquote_span(b, w.start, w.end);
                            subs.push(Sub {
                                start: s,
                                end: e,
                                tick: false,
                                kind: SubKind::ShellC,
                            });
                        }
                        let body = arg(c, &w);
                        if body == Body::Word {
                            c.want_body = true;
                        } else if body == Body::Rest {
                            at = Some(Pos::ShellC);
                        }
                    }
                }
            }
        }
        let _ = self.finish(cmd.take(), hi);
        if depth >= MAX_DEPTH {
            return;
        }
        for s in subs.list.iter().take(subs.n).flatten() {
            let pos = match s.kind {
                SubKind::ShellC => Pos::ShellC,
                SubKind::Group => Pos::Group,
                SubKind::Subst => {
                    let after = b.get(s.end + 1).copied();
                    let code_like = matches!(after, Some(b'.' | b'['));
                    // The byte before the opening `` ` `` or `$(`: markdown
                    // puts inline code after a blank or an opening bracket
                    // or quote.
                    let open = if s.tick { 1 } else { 2 };
                    let spaced = s.start == open
                        || s.start > open && {
                            let c = b[s.start - open - 1];
                            c.is_ascii_whitespace() || b"([{\"'".contains(&c)
                        };
                    let prose = spaced && self.is_prose();
                    if s.tick && (prose || self.table) && spaced {
                        // Markdown inline code in prose.
                        Pos::Quoted
                    } else if prose {
                        // `$(pwd)` in a sentence about shells.
                        Pos::Group
                    } else if code_like {
                        Pos::Group
                    } else {
                        Pos::Subst
                    }
                }
            };
            self.scan_list(s.start, s.end, pos, depth + 1);
        }
    }

    /// Starts a command from its name. Returns it and whether the name is
    /// a prefix (`time`, `nohup`) that keeps command position.
    fn command(&mut self, w: &Word, p: Pos) -> (Cmd, bool) {
        let t = w.text();
        let base = basename(t);
        let mut bin = if w.norm.truncated {
            None
        } else {
            find_bin(base)
        };
        let mut c = Cmd::new(w, p, None);
        c.obf = w.flags & (f::OBFUSCATION & !f::GLOB) != 0
            && (!w.has(f::BSLASH) || t.iter().any(|x| x.is_ascii_alphabetic()));
        if bin.is_none() && w.has(f::GLOB) {
            bin = find_bin_glob(base);
            if bin.is_some() {
                c.obf = true;
            }
        }
        if w.has(f::GLOB) && t.first() == Some(&b'/') {
            windows::glob_path(self, w);
        }
        c.binpath = is_bin_dir(t)
            || (bin.is_some()
                && (t.starts_with(b"bin/")
                    || t.starts_with(b"sbin/")
                    || t.contains(&b'/') && t.windows(5).any(|x| x == b"/bin/")));
        if bin.is_none() {
            // `dir/s`, `bcdboot/r`: a cmd.exe switch glued to the name.
            if let Some(p) = t.iter().position(|&x| x == b'/') {
                let sw = &t[p + 1..];
                if p > 1
                    && !sw.is_empty()
                    && sw.len() <= 3
                    && sw.iter().all(|x| x.is_ascii_alphabetic())
                {
                    bin = find_bin(&t[..p]);
                    c.switch = bin.is_some();
                }
            }
        }
        c.var = w.has(f::VARONLY);
        if w.has(f::SHELLVAR) && t == b"sh" {
            bin = find_bin(b"sh");
        }
        c.bin = bin;
        if w.has(f::PCTVAR) && bin.is_some() {
            c.obf = true;
        }
        if w.has(f::SUBST) {
            c.subst = true;
        }
        let prefix = bin.is_some_and(|b| b.kind == Kind::Prefix);
        (c, prefix)
    }

    /// Scores a finished command; returns whether it was a known program.
    fn finish(&mut self, cmd: Option<Cmd>, hi: usize) -> bool {
        let Some(c) = cmd else {
            return false;
        };
        let known = c.bin.is_some();
        if let Some((score, rule, msg)) = score(&c, self.assigned_cmd) {
            let end = c.end.min(hi);
            self.hit(rule, score, c.start, end, msg);
        }
        known
    }

    /// A redirection operator at `i`; returns the index after it.
    fn redirection(
        &mut self,
        b: &[u8],
        i: usize,
        hi: usize,
        cmd: &mut Option<Cmd>,
        subs: &mut Subs,
    ) -> usize {
        let c = b[i];
        let mut j = i + 1;
        if j < hi && b[j] == b'(' {
            // Process substitution `<(cmd)`, `>(cmd)`.
            let e = lexer::find_close(b, j + 1, hi, b'(', b')').unwrap_or(hi);
            subs.push(Sub {
                start: j + 1,
                end: e,
                tick: false,
                kind: SubKind::Subst,
            });
            if let Some(cm) = cmd.as_mut() {
                cm.subst = true;
            }
            return (e + 1).min(hi.max(e));
        }
        let mut here = false;
        while j < hi && j - i < 3 && matches!(b[j], b'<' | b'>' | b'&' | b'|') {
            if c == b'<' && b[j] == b'<' {
                here = true;
            }
            j += 1;
        }
        // `>&1`, `<&0`: a descriptor, not a target word.
        let dup = b[i + 1..j].contains(&b'&') && j < hi && b[j].is_ascii_digit();
        if let Some(cm) = cmd.as_mut() {
            cm.redir = true;
            if here && j - i >= 3 {
                cm.herestr = true;
            }
            cm.want_target = !dup;
        }
        if dup {
            while j < hi && b[j].is_ascii_digit() {
                j += 1;
            }
        }
        j
    }
}

/// The inside of a quoted word, or the word itself.
fn unquote_span(b: &[u8], s: usize, e: usize) -> (usize, usize) {
    if e >= s + 2 && matches!(b[s], b'\'' | b'"') && b[e - 1] == b[s] {
        (s + 1, e - 1)
    } else {
        (s, e)
    }
}

/// `/bin/x`, `/usr/bin/x`, `/usr/local/sbin/x`...
fn is_bin_dir(t: &[u8]) -> bool {
    if t.first() != Some(&b'/') {
        return false;
    }
    for p in [
        &b"/bin/"[..],
        b"/sbin/",
        b"/usr/bin/",
        b"/usr/sbin/",
        b"/usr/local/bin/",
        b"/usr/local/sbin/",
    ] {
        if t.len() > p.len() && t.starts_with(p) && !t[p.len()..].contains(&b'/') {
            return true;
        }
    }
    false
}

/// A word a prefix command takes for itself (`-p`, `10`, `VAR=x`, `/`).
fn prefix_arg(w: &Word) -> bool {
    let t = w.text();
    t.first() == Some(&b'-')
        || t.iter().all(|c| c.is_ascii_digit())
        || w.has(f::ASSIGN)
        || t == b"/"
}

/// What the word after a flag is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Body {
    None,
    /// The next word is code (`sh -c 'code'`).
    Word,
    /// The rest of the line is a command (`cmd /c dir`).
    Rest,
}

/// Records the features of one argument.
fn arg(c: &mut Cmd, w: &Word) -> Body {
    c.nargs = c.nargs.saturating_add(1);
    c.end = w.end;
    let t = w.text();
    let kind = c.bin.map(|b| b.kind);
    let name = c.bin.map_or("", |b| b.name);
    if w.has(f::SUBST) {
        c.subst = true;
    }
    if w.has(f::ARITH) {
        c.arith = true;
    }
    if w.flags & (f::QSPLIT | f::DJUNK | f::BSLASH | f::ANSI) != 0
        && !w.has(f::LITQUOTE)
        && t.len() > 1
    {
        c.obf_arg = true;
    }
    if t.is_empty() {
        return Body::None;
    }
    let mut body = Body::None;
    if name == "alias" {
        // `alias a=curl`: a program under another name.
        if let Some(p) = t.iter().position(|&x| x == b'=') {
            let v = &t[p + 1..];
            let first = v.split(|&x| x == b' ').next().unwrap_or(&[]);
            if find_bin(basename(first)).is_some() {
                c.arg_cmd = true;
                c.dflag = true;
            }
            return Body::None;
        }
    }
    if name == "trap" && c.nargs == 1 && w.has(f::QWRAP) {
        c.dflag = true;
        return Body::Word;
    }
    if name == "kill" && t.len() > 1 && t[0] == b'-' && t[1..].iter().all(|x| x.is_ascii_digit()) {
        c.flags = c.flags.saturating_add(1);
        if w.has(f::QSPLIT) {
            c.obf_arg = true;
        }
        return Body::None;
    }
    if t[0] == b'-' && t.len() > 1 && (t[1].is_ascii_alphabetic() || t[1] == b'-') {
        c.flags = c.flags.saturating_add(1);
        if dangerous_flag(kind, name, t) {
            c.dflag = true;
            if matches!(kind, Some(Kind::Shell))
                && matches!(
                    t,
                    b"-c"
                        | b"-command"
                        | b"-comman"
                        | b"-e"
                        | b"-ec"
                        | b"-enc"
                        | b"-encodedcommand"
                )
            {
                if name == "powershell" || name == "pwsh" {
                    body = Body::Rest;
                } else {
                    body = Body::Word;
                }
            }
        }
    } else if t[0] == b'+' && t.len() > 1 && t[1..].iter().all(|c| c.is_ascii_alphabetic()) {
        // `chmod +x`
        c.flags = c.flags.saturating_add(1);
        if name == "chmod" {
            c.dflag = true;
        }
    } else if t[0] == b'/'
        && t.len() <= 3
        && t.len() >= 2
        && t[1..].iter().all(|c| c.is_ascii_alphabetic())
        && !matches!(t, b"/etc" | b"/bin" | b"/usr" | b"/var" | b"/tmp" | b"/dev")
    {
        c.switch = true;
        if name == "cmd" && matches!(t, b"/c" | b"/k" | b"/r") {
            c.dflag = true;
            body = Body::Rest;
        }
        if name == "set" && matches!(t, b"/a" | b"/p") {
            c.dflag = true;
        }
    } else if t.windows(3).any(|x| x == b"://") {
        c.url = true;
    } else if is_ipv4(t) {
        c.ip = true;
    } else if t.iter().all(|c| c.is_ascii_digit()) {
        c.num = true;
    } else if is_path(t) || (t.contains(&b'/') && !t.contains(&b' ')) {
        c.path = true;
        // `/` alone is the root only for programs that act on paths
        // (`rm -rf /`); elsewhere it is a division or a separator.
        let root_ok = t != b"/"
            || matches!(
                name,
                "rm" | "chmod" | "chown" | "ls" | "cd" | "find" | "du" | "tar" | "cp" | "mv"
            );
        if sensitive_path(t) && root_ok {
            c.sens = true;
        }
        if w.has(f::GLOB) {
            c.obf_arg = true;
            if glob_sensitive(t) {
                c.sens = true;
            }
        }
    } else if file_name(t) && has_file_ext(t) {
        c.path = true;
    } else if is_host(t) {
        c.host = true;
    } else if w.has(f::VARONLY) {
    } else if find_bin(t).is_some() && c.nargs == 1 && !w.has(f::QWRAP) {
        c.arg_cmd = true;
        if is_prose_word(t) {
            c.prose = c.prose.saturating_add(1);
        }
    } else if is_prose_word(t) || t.iter().any(|&x| x >= 0x80) {
        c.prose = c.prose.saturating_add(1);
    } else if file_name(t) {
        // `site.yml`, `recipe.rb`: a file argument.
        c.path = true;
    }
    if is_function_word(t) {
        c.fwords = c.fwords.saturating_add(1);
    }
    if t.iter().any(|&x| x == b'*' || x == b'?')
        && w.has(f::GLOB)
        && t.len() > 2
        && t.contains(&b'/')
    {
        c.obf_arg = true;
    }
    if name == "dd" && (t.starts_with(b"if=/") || t.starts_with(b"of=/")) {
        c.sens = true;
    }
    body
}

/// `name.ext` with a short alphabetic extension.
fn file_name(t: &[u8]) -> bool {
    match t.iter().rposition(|&c| c == b'.') {
        Some(p) if p > 0 && t.len() - p - 1 <= 4 && t.len() > p + 1 => {
            t[p + 1..].iter().all(|c| c.is_ascii_alphanumeric())
                && t[..p]
                    .iter()
                    .all(|&c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
        }
        _ => false,
    }
}

/// A file extension that is not a top-level domain.
fn has_file_ext(t: &[u8]) -> bool {
    let ext = t.rsplit(|&c| c == b'.').next().unwrap_or(&[]);
    const EXTS: [&[u8]; 24] = [
        b"bat", b"cfg", b"conf", b"csv", b"exe", b"gz", b"ini", b"jar", b"js", b"json", b"log",
        b"php", b"pl", b"ps1", b"py", b"rb", b"sh", b"sql", b"tar", b"txt", b"war", b"xml",
        b"yaml", b"yml",
    ];
    EXTS.contains(&ext)
}

/// The redirection target word.
fn target(c: &mut Cmd, w: &Word) {
    let t = w.text();
    c.end = w.end;
    if t.starts_with(b"/dev/tcp") || t.starts_with(b"/dev/udp") {
        c.redir_dev = true;
    } else if is_path(t) || t.contains(&b'/') {
        c.path = true;
        if sensitive_path(t) {
            c.sens = true;
        }
    } else if t.ends_with(b".php")
        || t.ends_with(b".jsp")
        || t.ends_with(b".asp")
        || t.ends_with(b".aspx")
        || t.ends_with(b".sh")
    {
        c.path = true;
        c.sens = true;
    }
}

/// A glob path whose first parts match a system directory (`/e??/p*d`).
fn glob_sensitive(t: &[u8]) -> bool {
    let mut parts = t.split(|&c| c == b'/').filter(|p| !p.is_empty());
    let first = parts.next().unwrap_or(&[]);
    const DIRS: [&[u8]; 8] = [
        b"etc", b"bin", b"usr", b"proc", b"dev", b"tmp", b"var", b"sbin",
    ];
    let glob = first.iter().any(|c| b"*?[".contains(c));
    glob && DIRS.iter().any(|d| crate::common::glob_match(first, d)) || DIRS.contains(&first)
}

/// The flags that make a program of a kind run code or open a shell.
fn dangerous_flag(kind: Option<Kind>, name: &str, t: &[u8]) -> bool {
    match kind {
        Some(Kind::Shell) => matches!(
            t,
            b"-c"
                | b"-i"
                | b"-s"
                | b"-e"
                | b"-ec"
                | b"-enc"
                | b"-encodedcommand"
                | b"-command"
                | b"-nop"
                | b"-noprofile"
                | b"-w"
                | b"-windowstyle"
                | b"-ep"
                | b"-executionpolicy"
                | b"-exec"
                | b"-noni"
                | b"-noninteractive"
                | b"-sta"
                | b"-ic"
                | b"-li"
                | b"-lc"
        ),
        Some(Kind::Interp) => matches!(
            t,
            b"-c"
                | b"-e"
                | b"-r"
                | b"-m"
                | b"-wrapper"
                | b"-ex"
                | b"-x"
                | b"-eval"
                | b"--eval"
                | b"-p"
                | b"-n"
                | b"-ne"
                | b"-pe"
                | b"-le"
        ),
        Some(Kind::Net) => match name {
            "nc" | "ncat" | "netcat" | "socat" => {
                t.len() > 1 && t[1..].iter().any(|&c| c == b'e' || c == b'l' || c == b'c')
            }
            "curl" => matches!(
                t,
                b"-o" | b"-O" | b"--output" | b"-T" | b"--upload-file" | b"-F"
            ),
            "wget" => true,
            "certutil" => matches!(
                t,
                b"-urlcache" | b"-decode" | b"-encode" | b"-split" | b"-f"
            ),
            _ => false,
        },
        Some(Kind::File) => {
            matches!(name, "find") && t == b"-exec"
                || matches!(name, "tar") && t.starts_with(b"--checkpoint")
        }
        Some(Kind::Sys) => matches!(name, "trap"),
        _ => false,
    }
}

/// Scores one command: `(score, rule, message)`.
fn score(c: &Cmd, assigned: bool) -> Option<(u8, &'static str, &'static str)> {
    let mut ev = 0i32;
    if c.sens {
        ev += 40;
    } else if c.path {
        ev += 15;
    }
    if c.flags > 0 {
        // Flags to a program that runs a script are its own options
        // (`node index.js --port 3000`), unless they give it code.
        let per = if c.bin.is_some_and(|b| b.kind == Kind::Interp) {
            5
        } else {
            15
        };
        ev += (per + 5 * i32::from(c.flags - 1)).min(25);
    }
    if c.redir_dev {
        ev += 50;
    } else if c.redir {
        ev += 20;
    }
    if c.herestr {
        ev += 20;
    }
    if c.subst {
        ev += 20;
    }
    if c.arith {
        ev += 20;
    }
    if c.obf_arg {
        ev += 20;
    }
    let Some(bin) = c.bin else {
        // Unknown names: only structural evidence.
        if c.binpath {
            let s = c.pos.points() + 35 + ev;
            return Some((
                clamp(s),
                "cmdi.binary-path",
                "a program run by its path in a binary directory",
            ));
        }
        if c.var
            && !matches!(c.pos, Pos::Start)
            && (c.arg_cmd || c.path || c.flags > 0 || c.nargs > 0 && assigned)
        {
            let s = c.pos.points() + 25 + ev + if assigned { 15 } else { 0 };
            return Some((
                clamp(s),
                "cmdi.variable-command",
                "a command named by a variable",
            ));
        }
        return None;
    };
    let mut s = c.pos.points();
    s += match bin.tier {
        Tier::Word => 10,
        Tier::Distinct | Tier::Probe => 30,
    };
    if c.obf {
        s += 40;
    }
    if c.binpath {
        s += 25;
    }
    if c.dflag {
        ev += 35;
    }
    if c.switch
        && matches!(
            bin.kind,
            Kind::Win | Kind::Shell | Kind::File | Kind::Recon | Kind::Sys
        )
    {
        ev += 15;
    }
    if c.url {
        ev += match (bin.kind, bin.tier) {
            // `curl https://...` at the start of a value is also how people
            // write about APIs; elsewhere it is a download.
            (Kind::Net, Tier::Word) if matches!(c.pos, Pos::Start) => 20,
            (Kind::Net | Kind::Ps, _) => 30,
            _ => 10,
        };
    }
    if c.ip {
        ev += if matches!(bin.kind, Kind::Net | Kind::Ps) {
            25
        } else {
            5
        };
    }
    if c.host && matches!(bin.kind, Kind::Net | Kind::Ps) {
        ev += 15;
    }
    if c.num && matches!(bin.name, "sleep" | "timeout" | "ping" | "kill") {
        ev += 15;
    }
    if c.piped_shell {
        ev += 40;
    }
    if c.arg_cmd
        && matches!(bin.kind, Kind::Shell | Kind::Prefix | Kind::Sys)
        && !matches!(c.pos, Pos::Start)
    {
        ev += 15;
    }
    let clean_end = c.nargs == 0;
    if clean_end {
        match bin.tier {
            Tier::Probe => s += 10,
            Tier::Distinct if !matches!(c.pos, Pos::Start) => s += 5,
            Tier::Word
                if matches!(
                    c.pos,
                    Pos::Sep { lead: true, .. } | Pos::Subst | Pos::Prefixed(true)
                ) =>
            {
                s += 5
            }
            _ => {}
        }
    }
    if bin.tier == Tier::Probe && matches!(c.pos, Pos::Start | Pos::Assign) && c.nargs <= 3 {
        // The value is one reconnaissance or admin command.
        s += 10;
    }
    if ev == 0 && !c.obf {
        // Arguments that read as prose: a word-like name is being used as
        // a word; a distinct name is being talked about when function
        // words follow it (`uname meaning`, `zsh is the best`).
        let talk = c.fwords > 0 || c.prose >= 3;
        if bin.tier == Tier::Word {
            if c.prose >= 2 {
                s -= 35;
            } else if c.prose == 1 {
                s -= 10;
            }
        } else if talk {
            s -= 15;
        }
        if bin.tier == Tier::Word && c.pos == Pos::Start {
            s = s.min(30);
        }
    }
    // A command followed by function words is being talked about
    // (`wget https://x/file.zip fails with 403`) unless the arguments
    // themselves are hostile.
    let hostile =
        c.sens || c.dflag || c.redir || c.subst || c.obf_arg || c.piped_shell || c.herestr;
    if matches!(c.pos, Pos::Start | Pos::Assign | Pos::Quoted) && c.fwords > 0 && !hostile && !c.obf
    {
        s -= 25;
    }
    s += ev;
    if c.pos == Pos::Quoted
        && !(c.dflag || c.redir_dev || c.piped_shell || c.obf || bin.tier == Tier::Probe)
    {
        s = s.min(45);
    }
    if s < 20 {
        return None;
    }
    let (rule, msg) =
        if c.redir_dev || (matches!(bin.name, "nc" | "ncat" | "netcat" | "socat") && c.dflag) {
            ("cmdi.reverse-shell", "a reverse or bind shell")
        } else if c.obf {
            (
                "cmdi.obfuscated-command",
                "a command name hidden by shell quoting or expansion tricks",
            )
        } else if c.pos == Pos::Subst {
            (
                "cmdi.substitution",
                "a command inside a command substitution",
            )
        } else if c.dflag && matches!(bin.kind, Kind::Shell | Kind::Interp) {
            ("cmdi.shell-exec", "a shell or interpreter told to run code")
        } else if matches!(c.pos, Pos::Sep { .. }) {
            (
                "cmdi.chained-command",
                "a command chained after a shell separator",
            )
        } else if bin.kind == Kind::Ps {
            ("cmdi.powershell", "a PowerShell command")
        } else {
            ("cmdi.command", "a shell command with its arguments")
        };
    Some((clamp(s), rule, msg))
}

fn clamp(s: i32) -> u8 {
    s.clamp(0, 100) as u8
}
