//! Constructs that are findings on their own: cmd.exe `for`/`if`
//! statements, brace expansion, glob paths, fork bombs, `$IFS`,
//! `/dev/tcp/`, PowerShell download cradles.

use super::lexer::{read_word, Opts, Subs};
use super::table::{find_bin, find_bin_glob, Tier};
use super::{Pos, Scan};
use crate::common::{find_ci, glob_match, is_ident, lc, lookup, skip_ws, starts_ci, Hits};

fn ws(c: u8) -> bool {
    c == b' ' || c == b'\t'
}

/// Skips blanks (and `+` read as a space).
fn sp(b: &[u8], mut i: usize, hi: usize) -> usize {
    while i < hi && (ws(b[i]) || b[i] == b'+') {
        i += 1;
    }
    i
}

/// A cmd.exe token: a quoted string, a bracketed group, or a run of
/// non-blank bytes. Returns its end.
fn token(b: &[u8], i: usize, hi: usize) -> Option<usize> {
    if i >= hi {
        return None;
    }
    let close = match b[i] {
        b'"' => Some(b'"'),
        b'[' => Some(b']'),
        b'(' => Some(b')'),
        b'{' => Some(b'}'),
        _ => None,
    };
    if let Some(cl) = close {
        let e = b[i + 1..hi].iter().position(|&c| c == cl)?;
        return Some(i + 1 + e + 1);
    }
    let mut j = i;
    while j < hi && !ws(b[j]) && b[j] != b'+' && b[j] != b'\n' {
        j += 1;
    }
    (j > i).then_some(j)
}

/// cmd.exe `for ... %v in (...) do ...` and `if [/i] [not] exist|defined|
/// errorlevel|cmdextversion|a==b|a equ b ...` at command position.
/// Reports and returns true when the statement parses.
pub(super) fn cmd_statement(
    s: &mut Scan<'_>,
    b: &[u8],
    start: usize,
    hi: usize,
    kw: &[u8],
) -> bool {
    let hi = hi.min(start + 4096);
    let mut i = start + kw.len();
    if kw == b"for" {
        // Switches and their operands.
        for _ in 0..6 {
            i = sp(b, i, hi);
            if i + 1 < hi && b[i] == b'/' && matches!(lc(b[i + 1]), b'd' | b'r' | b'l' | b'f') {
                i += 2;
                if i < hi && !ws(b[i]) && b[i] != b'+' {
                    return false;
                }
                continue;
            }
            if i < hi && (b[i] == b'"' || b[i] == b'\'') {
                let q = b[i];
                match b[i + 1..hi].iter().position(|&c| c == q) {
                    Some(e) => i = i + 1 + e + 1,
                    None => return false,
                }
                continue;
            }
            if i + 2 < hi && lc(b[i]).is_ascii_alphabetic() && b[i + 1] == b':' {
                // `/r C:\path`
                while i < hi && !ws(b[i]) && b[i] != b'+' {
                    i += 1;
                }
                continue;
            }
            break;
        }
        i = sp(b, i, hi);
        if i >= hi || b[i] != b'%' {
            return false;
        }
        i += 1;
        if i < hi && b[i] == b'%' {
            i += 1;
        }
        // `%i`, `%%G`, `%~`, `%variable`, or a bare `%%`.
        let vs = i;
        while i < hi && !ws(b[i]) && b[i] != b'+' && i - vs < 24 {
            i += 1;
        }
        if i == vs && !(i >= 2 && b[i - 1] == b'%' && b[i - 2] == b'%') {
            return false;
        }
        let j = sp(b, i, hi);
        if j == i || !starts_ci(&b[j..hi], b"in") {
            return false;
        }
        i = sp(b, j + 2, hi);
        if i >= hi || b[i] != b'(' {
            return false;
        }
        let Some(e) = super::lexer::find_close(b, i + 1, hi, b'(', b')') else {
            return false;
        };
        i = sp(b, e + 1, hi);
        if !starts_ci(&b[i..hi], b"do") || b.get(i + 2).is_some_and(|&c| is_ident(c)) && i + 2 < hi
        {
            return false;
        }
        s.hit(
            "cmdi.cmd-for",
            75,
            start,
            (i + 2).min(hi),
            "a cmd.exe for loop",
        );
        return true;
    }
    // `if`
    i = sp(b, i, hi);
    let mut modifiers = false;
    if i + 1 < hi && b[i] == b'/' && lc(b[i + 1]) == b'i' {
        i = sp(b, i + 2, hi);
        modifiers = true;
    }
    if starts_ci(&b[i..hi], b"not")
        && b.get(i + 3)
            .is_some_and(|&c| ws(c) || c == b'+' || c == b'(')
    {
        i = sp(b, i + 3, hi);
        modifiers = true;
    }
    let mut score = 0;
    for (kw, sc) in [
        (&b"exist"[..], 60),
        (b"defined", 60),
        (b"errorlevel", 60),
        (b"cmdextversion", 60),
    ] {
        if starts_ci(&b[i..hi], kw) && b.get(i + kw.len()).is_some_and(|&c| ws(c) || c == b'+') {
            let Some(e) = token(b, sp(b, i + kw.len(), hi), hi) else {
                return false;
            };
            i = e;
            score = sc;
            break;
        }
    }
    if score == 0 {
        // `a==b`, `"a" == "b"`, `a equ b`.
        let Some(e) = token(b, i, hi) else {
            return false;
        };
        let tok = &b[i..e];
        let ops: [&[u8]; 6] = [b"equ", b"neq", b"lss", b"leq", b"gtr", b"geq"];
        if tok.len() > 2
            && tok[0] == b'('
            && tok
                .split(|&c| ws(c) || c == b'+')
                .any(|w| ops.iter().any(|o| w.eq_ignore_ascii_case(o)))
        {
            // `(2 GEQ 15)`
            i = e;
            score = 55;
        } else if let Some(p) = tok.windows(2).position(|x| x == b"==") {
            if p == 0 && tok.len() == 2 {
                return false;
            }
            i = e;
            if p + 2 == tok.len() {
                // `a== b`
                let Some(e2) = token(b, sp(b, i, hi), hi) else {
                    return false;
                };
                i = e2;
            }
            score = 55;
        } else {
            let j = sp(b, e, hi);
            let Some(oe) = token(b, j, hi) else {
                return false;
            };
            let op = &b[j..oe];
            if j + 2 < hi && b[j] == b'=' && b[j + 1] == b'=' {
                let Some(e2) = token(b, sp(b, j + 2, hi), hi) else {
                    return false;
                };
                // `a == b` with blanks: cmd.exe quotes or brackets its
                // operands (`"%1" == ""`); bare words are pseudo-code.
                let quoted = |t: &[u8]| matches!(t.first(), Some(b'"' | b'[' | b'(' | b'{' | b'%'));
                if !(quoted(tok) || quoted(&b[sp(b, j + 2, hi)..e2])) {
                    return false;
                }
                i = e2;
                score = 55;
            } else if op.len() == 3 && ops.iter().any(|o| op.eq_ignore_ascii_case(o)) {
                let Some(e2) = token(b, sp(b, oe, hi), hi) else {
                    return false;
                };
                i = e2;
                score = 55;
            } else {
                return false;
            }
        }
    }
    // Something must follow: the command (or `(`), unless the statement
    // is already unmistakable.
    let j = sp(b, i, hi);
    if j >= hi || b[j] == b'\n' || j == i {
        let bracketed = matches!(
            b.get(start + kw.len()..hi)
                .and_then(|r| r.iter().find(|c| !ws(**c) && **c != b'+')),
            Some(b'{' | b'[' | b'"' | b'(')
        );
        if !(modifiers || bracketed) || score < 55 {
            return false;
        }
    }
    s.hit("cmdi.cmd-if", score, start, j, "a cmd.exe if statement");
    true
}

/// Brace expansion (`{cat,/etc/passwd}`, `{,ip,a}`, `{l,-lh}s`) in
/// command position: reported when it names a program and shows a sign
/// of being built on purpose (an empty part, a flag or path part, text
/// around the braces, or a name that is not a word).
pub(super) fn brace(s: &mut Scan<'_>, b: &[u8], st: usize, en: usize, _pos: Pos) {
    let Some(o) = b[st..en].iter().position(|&c| c == b'{').map(|o| st + o) else {
        return;
    };
    let Some(cl) = super::lexer::find_close(b, o + 1, en, b'{', b'}') else {
        return;
    };
    let mut parts: [(usize, usize); 8] = [(0, 0); 8];
    let mut n = 0;
    let mut depth = 0;
    let mut ps = o + 1;
    for (k, &c) in b.iter().enumerate().take(cl + 1).skip(o + 1) {
        if c == b'{' {
            depth += 1;
        } else if c == b'}' && depth > 0 {
            depth -= 1;
        } else if (c == b',' && depth == 0) || k == cl {
            if n < parts.len() {
                parts[n] = (ps, k);
                n += 1;
            }
            ps = k + 1;
        }
    }
    if n < 2 {
        return;
    }
    let pre = o > st;
    let post = cl + 1 < en;
    let mut empty = false;
    let mut argish = false;
    let mut name: Option<&'static super::table::Bin> = None;
    let mut obf = false;
    for &(a, z) in &parts[..n] {
        if a == z {
            empty = true;
            continue;
        }
        let mut subs = Subs::default();
        let w = read_word(b, a, z, Opts::default(), &mut subs);
        let t = w.text();
        if name.is_none() {
            let base = super::lexer::basename(t);
            let mut bin = find_bin(base);
            if bin.is_none() && w.has(super::lexer::f::GLOB) {
                bin = find_bin_glob(base);
                obf = bin.is_some();
            }
            if bin.is_none() && (pre || post) {
                // `{l,-lh}s`, `c{a,ou}nt`: glue the first part.
                let mut tmp = crate::common::Small::<64>::default();
                if pre {
                    b[st..o].iter().for_each(|&c| tmp.push(lc(c)));
                }
                tmp.extend(t);
                if post {
                    b[cl + 1..en].iter().for_each(|&c| tmp.push(lc(c)));
                }
                bin = find_bin(tmp.as_bytes());
            }
            if bin.is_some() {
                name = bin;
                obf |= w.flags & super::lexer::f::OBFUSCATION != 0;
            } else {
                return;
            }
        } else if t.starts_with(b"-")
            || t.starts_with(b"/")
            || t.starts_with(b"$")
            || t.contains(&b'/')
            || find_bin(t).is_some()
        {
            argish = true;
        }
    }
    let Some(bin) = name else {
        return;
    };
    let signs =
        usize::from(empty) + usize::from(argish) + usize::from(pre || post) + usize::from(obf);
    if signs == 0 && bin.tier == Tier::Word {
        return;
    }
    let score = (55 + 15 * signs as u8).min(90);
    s.hit(
        "cmdi.brace-expansion",
        score,
        st,
        en,
        "a command built by brace expansion",
    );
}

/// A path with glob characters whose parts match system directories or
/// programs (`/???/c?t`, `/e*c/pa*wd`, `/bi[n]/bash`).
pub(super) fn glob_path(s: &mut Scan<'_>, w: &super::lexer::Word) {
    let t = w.text();
    let mut matched = 0;
    let mut globbed = 0;
    for part in t.split(|&c| c == b'/').filter(|p| !p.is_empty()).take(6) {
        let g = part.iter().any(|c| b"*?[".contains(c));
        if !g {
            continue;
        }
        globbed += 1;
        const NAMES: [&[u8]; 14] = [
            b"etc", b"bin", b"usr", b"sbin", b"proc", b"dev", b"tmp", b"var", b"passwd", b"shadow",
            b"hosts", b"bash", b"self", b"environ",
        ];
        if NAMES.iter().any(|n| glob_match(part, n))
            || find_bin_glob(part).is_some_and(|b| b.tier != Tier::Word || part.len() >= 3)
        {
            matched += 1;
        }
    }
    if globbed > 0 && matched > 0 && (matched >= 2 || t.len() >= 5) {
        s.hit(
            "cmdi.glob-path",
            75,
            w.start,
            w.end,
            "a path into system directories spelled with globs",
        );
    }
}

/// `f(){ f|f& };f` and `:(){ :|:& };:`; `i` is at the `(` of `()`.
pub(super) fn fork_bomb(s: &mut Scan<'_>, b: &[u8], i: usize, hi: usize) {
    // The name before `()`.
    let mut n = i;
    while n > 0 && (is_ident(b[n - 1]) || b[n - 1] == b':' || b[n - 1] == b'.') && i - n < 32 {
        n -= 1;
    }
    if n == i {
        return;
    }
    let name = &b[n..i];
    let mut j = skip_ws(b, i + 2);
    if j >= hi || b[j] != b'{' {
        return;
    }
    let Some(e) = b[j..hi.min(j + 256)].iter().position(|&c| c == b'}') else {
        return;
    };
    let body = &b[j + 1..j + e];
    j += e;
    let _ = j;
    // The body calls the function and pipes or backgrounds it.
    let calls = body.windows(name.len()).filter(|x| *x == name).count();
    if calls >= 1 && (body.contains(&b'|') || body.contains(&b'&')) {
        s.hit(
            "cmdi.fork-bomb",
            80,
            n,
            (i + 2 + e + 1).min(hi),
            "a fork bomb",
        );
    }
}

/// PowerShell words that only attack code uses.
static PS_WORDS: &[(&str, u8)] = &[
    ("amsiinitfailed", 85),
    ("amsiutils", 80),
    ("downloaddata", 80),
    ("downloadfile", 80),
    ("downloadstring", 85),
    ("encodedcommand", 70),
    ("frombase64string", 60),
    ("invoke-expression", 80),
    ("invoke-mimikatz", 90),
    ("invoke-shellcode", 90),
    ("net.webclient", 75),
    ("system.net.webclient", 75),
];

/// Raw scans: `$IFS`, `/dev/tcp/`, arithmetic, PowerShell cradles, a
/// value that is only a tilde expansion.
/// What [`raw_rules`] needs to look for, from one pass over the window:
/// a `$`, a `/`, and a run of `[A-Za-z0-9_.-]` starting with a letter of
/// at least 13 bytes (the shortest PowerShell idiom).
#[derive(Debug, Clone, Copy)]
pub(super) struct RawNeeds {
    pub dollar: bool,
    pub slash: bool,
    pub long_word: bool,
}

pub(super) fn raw_rules(w: &[u8], off: usize, hits: &mut Hits, needs: RawNeeds) {
    // `~+`, `~-`, `~+2`: the shell's directory-stack expansions, probed
    // alone.
    let t = super::trim(w);
    if t.len() >= 2
        && t.len() <= 5
        && t[0] == b'~'
        && matches!(t[1], b'+' | b'-')
        && t[2..].iter().all(|c| c.is_ascii_digit())
    {
        hits.add(
            "cmdi.tilde-expansion",
            50,
            off,
            off + w.len(),
            "a shell directory-stack expansion",
        );
    }
    // Each construct starts at a byte of its own (`$`, `/`, the letter
    // of a long word): the next of each kind is found by its own search,
    // and they are handled in the order of the value.
    let find = |on: bool, c: u8, from: usize| {
        if on {
            w.get(from..)
                .and_then(|r| r.iter().position(|&x| x == c))
                .map(|p| from + p)
        } else {
            None
        }
    };
    let mut next_dollar = find(needs.dollar, b'$', 0);
    let mut next_slash = find(needs.slash, b'/', 0);
    let mut next_word = if needs.long_word {
        next_word_start(w, 0)
    } else {
        None
    };
    loop {
        let d = next_dollar.unwrap_or(usize::MAX);
        let sl = next_slash.unwrap_or(usize::MAX);
        let wd = next_word.unwrap_or(usize::MAX);
        let i = d.min(sl).min(wd);
        if i == usize::MAX {
            break;
        }
        if i == d {
            dollar(w, i, off, hits);
            next_dollar = find(true, b'$', i + 1);
        } else if i == sl {
            let r = &w[i..];
            if starts_ci(r, b"/dev/tcp/") || starts_ci(r, b"/dev/udp/") {
                hits.add(
                    "cmdi.reverse-shell",
                    85,
                    off + i,
                    off + i + 9,
                    "a /dev/tcp network redirection",
                );
            }
            next_slash = find(true, b'/', i + 1);
        } else {
            let j = long_word(w, i, off, hits);
            next_word = next_word_start(w, j);
        }
    }
    let _ = find_ci;
}

/// The `$` constructs at `i`: arithmetic expansion, `$IFS`.
fn dollar(w: &[u8], i: usize, off: usize, hits: &mut Hits) {
    if w.get(i + 1) == Some(&b'(') && w.get(i + 2) == Some(&b'(') {
        // Arithmetic expansion: shell syntax that prose never has.
        if let Some(e) = crate::common::close_within(w, i + 3, b'(', b')', 256) {
            if w.get(e + 1) == Some(&b')') {
                hits.add(
                    "cmdi.arithmetic",
                    60,
                    off + i,
                    off + e + 2,
                    "a shell arithmetic expansion",
                );
            }
        }
    } else if w.get(i + 1) == Some(&b'[') {
        let r = &w[i + 2..w.len().min(i + 64)];
        if let Some(e) = r.iter().position(|&c| c == b']') {
            let inner = &r[..e];
            let ops = inner.iter().filter(|c| b"+-*/%".contains(c)).count();
            let ok = inner
                .iter()
                .all(|c| c.is_ascii_digit() || b"+-*/% ()".contains(c));
            if ok && ops > 0 && inner.iter().any(|c| c.is_ascii_digit()) {
                hits.add(
                    "cmdi.arithmetic",
                    55,
                    off + i,
                    off + i + 3 + e,
                    "a shell arithmetic expansion",
                );
            }
        }
    } else {
        let r = &w[i + 1..];
        let n = if r.starts_with(b"{IFS}") {
            6
        } else if r.starts_with(b"IFS") && !r.get(3).is_some_and(|&c| is_ident(c)) {
            4
        } else {
            0
        };
        if n > 0 {
            hits.add(
                "cmdi.ifs",
                80,
                off + i,
                off + i + n,
                "the shell field separator used as a space",
            );
        }
    }
}

/// The next start of a word (a letter after a byte that is not
/// `[A-Za-z0-9_.-]`) at or after `from`.
fn next_word_start(w: &[u8], from: usize) -> Option<usize> {
    (from..w.len()).find(|&i| {
        w[i].is_ascii_alphabetic()
            && (i == 0 || !(is_ident(w[i - 1]) || w[i - 1] == b'.' || w[i - 1] == b'-'))
    })
}

/// The word at `i` (`[A-Za-z0-9_.-]`, read 24 bytes at most): reported
/// when it is a PowerShell download or execution idiom (13 bytes or
/// more). Returns where it ends.
fn long_word(w: &[u8], i: usize, off: usize, hits: &mut Hits) -> usize {
    let mut j = i;
    while j < w.len() && j - i < 24 && (is_ident(w[j]) || w[j] == b'.' || w[j] == b'-') {
        j += 1;
    }
    let len = j - i;
    if len >= 13 {
        let mut buf = [0u8; 24];
        for (k, &c) in w[i..j].iter().enumerate() {
            buf[k] = lc(c);
        }
        let key = &buf[..len];
        if let Some(&(_, sc)) = lookup(PS_WORDS, key, |e| e.0) {
            hits.add(
                "cmdi.powershell",
                sc,
                off + i,
                off + j,
                "a PowerShell download or execution idiom",
            );
        }
    }
    j
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ps_words_sorted() {
        for p in PS_WORDS.windows(2) {
            assert!(p[0].0 < p[1].0);
        }
    }
}
