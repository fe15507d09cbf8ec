//! The shell word reader: one word of sh/bash (and the bits of cmd.exe
//! that survive in a value) with quote removal, escapes, parameter and
//! command substitution, as the shell would see it, plus a record of the
//! tricks the word used to hide what it says.

use crate::common::{lc, Small};

/// Flags of a word.
pub mod f {
    /// A quote splits the word (`c'a't`, `'i'fconfig`, `ti''me`).
    pub const QSPLIT: u32 = 1;
    /// The whole word is one quoted string (`'id'`).
    pub const QWRAP: u32 = 1 << 1;
    /// A backslash escape inside the word (`\c\a\t`, `who\ami`).
    pub const BSLASH: u32 = 1 << 2;
    /// An expansion that is empty or meaningless inside the word
    /// (`c$@at`, `c${x}at`, `pi$()ng`, `cu$u rl`).
    pub const DJUNK: u32 = 1 << 3;
    /// A non-empty command substitution inside the word.
    pub const SUBST: u32 = 1 << 4;
    /// Unquoted glob characters (`/???/c?t`, `/e*c/pa[s]swd`).
    pub const GLOB: u32 = 1 << 5;
    /// Brace expansion (`{cat,/etc/passwd}`).
    pub const BRACE: u32 = 1 << 6;
    /// cmd.exe caret escapes (`w^h^o^a^m^i`).
    pub const CARET: u32 = 1 << 7;
    /// ANSI-C quoting (`$'\x63at'`).
    pub const ANSI: u32 = 1 << 8;
    /// `name=value` (a variable assignment).
    pub const ASSIGN: u32 = 1 << 9;
    /// The word is only a variable expansion (`$a`, `${cmd}`).
    pub const VARONLY: u32 = 1 << 10;
    /// The word ended at an `$IFS` expansion, or contains one.
    pub const IFS: u32 = 1 << 11;
    /// The word ended at a `+` (form encoding read as spaces).
    pub const PLUSEND: u32 = 1 << 12;
    /// Arithmetic expansion `$((...))` or `$[...]`.
    pub const ARITH: u32 = 1 << 13;
    /// A cmd.exe `%VAR%` expansion.
    pub const PCTVAR: u32 = 1 << 14;
    /// A quote with no partner, kept literally (`I'd`).
    pub const LITQUOTE: u32 = 1 << 15;
    /// `$SHELL`, `$BASH`, `$0`: the shell itself.
    pub const SHELLVAR: u32 = 1 << 16;
    /// Any `$` expansion.
    pub const DOLLAR: u32 = 1 << 17;
    /// An empty command substitution (`$()`, two backticks).
    pub const ESUBST: u32 = 1 << 18;

    /// Tricks that only an attacker uses inside a command name.
    pub const OBFUSCATION: u32 = QSPLIT | BSLASH | DJUNK | GLOB | BRACE | CARET | ANSI | ESUBST;
}

/// Longest normalised word kept.
pub const WORD_MAX: usize = 64;

/// Most substitutions remembered per scanned list.
pub const MAX_SUBS: usize = 8;

/// A command substitution found inside a word: `$(...)`, backticks,
/// `<(...)`. Scanned as a command list of its own.
#[derive(Debug, Clone, Copy)]
pub struct Sub {
    pub start: usize,
    pub end: usize,
    /// Opened by a backtick.
    pub tick: bool,
    pub kind: SubKind,
}

/// Kinds of nested text scanned as commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubKind {
    /// `$(...)`, backticks, `<(...)`.
    Subst,
    /// The body of `sh -c '...'`.
    ShellC,
    /// `( ... )`.
    Group,
}

/// Substitutions queued while reading a list.
#[derive(Debug, Default)]
pub struct Subs {
    pub list: [Option<Sub>; MAX_SUBS],
    pub n: usize,
}

impl Subs {
    pub fn push(&mut self, s: Sub) {
        if self.n < MAX_SUBS {
            self.list[self.n] = Some(s);
            self.n += 1;
        }
    }
}

/// One shell word.
#[derive(Debug, Clone, Copy)]
pub struct Word {
    pub start: usize,
    pub end: usize,
    pub norm: Small<WORD_MAX>,
    pub flags: u32,
    /// Offset in `norm` of the `=` of an assignment.
    pub eq: usize,
    /// Bytes appended from unquoted text (to tell `'id'` from `i'd'`).
    pub bare: usize,
}

impl Word {
    pub fn has(&self, fl: u32) -> bool {
        self.flags & fl != 0
    }
    pub fn text(&self) -> &[u8] {
        self.norm.as_bytes()
    }
}

/// Reading options for one scan.
#[derive(Debug, Clone, Copy, Default)]
pub struct Opts {
    /// `+` separates words (the value had no spaces: form encoding).
    pub plus_sep: bool,
}

/// True for the bytes that end an unquoted word.
#[inline]
pub fn is_break(c: u8) -> bool {
    matches!(
        c,
        b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c | b';' | b'|' | b'<' | b'>' | b'(' | b')'
    )
}

/// Length of an HTML entity (`&amp;`, `&#59;`, `&#x3b;`) at `i`, if any.
pub fn entity_len(b: &[u8], i: usize, hi: usize) -> Option<usize> {
    let mut j = i + 1;
    if j < hi && b[j] == b'#' {
        j += 1;
        if j < hi && (b[j] == b'x' || b[j] == b'X') {
            j += 1;
        }
        let s = j;
        while j < hi && j - s < 12 && b[j].is_ascii_hexdigit() {
            j += 1;
        }
        if j == s {
            return None;
        }
    } else {
        let s = j;
        while j < hi && j - s < 12 && b[j].is_ascii_alphanumeric() {
            j += 1;
        }
        if j - s < 2 {
            return None;
        }
    }
    (j < hi && b[j] == b';').then_some(j + 1 - i)
}

/// Finds the `close` that matches the `open` just before `i`, skipping
/// quoted strings and nested pairs. `None` when unterminated.
pub fn find_close(b: &[u8], mut i: usize, hi: usize, open: u8, close: u8) -> Option<usize> {
    let mut depth = 1usize;
    while i < hi {
        let c = b[i];
        if c == b'\\' {
            i += 2;
            continue;
        }
        if c == close {
            depth -= 1;
            if depth == 0 {
                return Some(i);
            }
        } else if c == open {
            depth += 1;
        } else if c == b'\'' && open != b'\'' {
            if let Some(e) = memchr(b'\'', &b[i + 1..hi]) {
                i += e + 2;
                continue;
            }
        }
        i += 1;
    }
    None
}

#[inline]
pub fn memchr(c: u8, s: &[u8]) -> Option<usize> {
    s.iter().position(|&x| x == c)
}

/// The closing double quote of a string opened before `i`.
fn find_dquote(b: &[u8], mut i: usize, hi: usize) -> Option<usize> {
    while i < hi {
        match b[i] {
            b'\\' => i += 2,
            b'"' => return Some(i),
            _ => i += 1,
        }
    }
    None
}

struct Reader<'a> {
    b: &'a [u8],
    hi: usize,
    w: Word,
    /// Letters appended so far (to tell junk inside a word from a
    /// leading expansion).
    letters: usize,
    subs: &'a mut Subs,
}

impl Reader<'_> {
    fn put(&mut self, c: u8, bare: bool) {
        self.w.norm.push(lc(c));
        if bare {
            self.w.bare += 1;
        }
        if c.is_ascii_alphanumeric() {
            self.letters += 1;
        }
    }

    /// Handles a `$` at `i` (unquoted or inside double quotes). Returns
    /// the index after the expansion, and whether the word must end there
    /// (an `$IFS` that splits words).
    fn dollar(&mut self, i: usize, in_dq: bool) -> (usize, bool) {
        let b = self.b;
        let hi = self.hi;
        let n1 = b.get(i + 1).copied().filter(|_| i + 1 < hi);
        let n2 = b.get(i + 2).copied().filter(|_| i + 2 < hi);
        self.w.flags |= f::DOLLAR;
        match n1 {
            Some(b'(') if n2 == Some(b'(') => {
                self.w.flags |= f::ARITH;
                match find_close(b, i + 2, hi, b'(', b')') {
                    Some(e) => (e + 1, false),
                    None => (hi, false),
                }
            }
            Some(b'(') => match find_close(b, i + 2, hi, b'(', b')') {
                Some(e) => {
                    if b[i + 2..e].iter().all(|c| c.is_ascii_whitespace()) {
                        self.w.flags |= f::ESUBST | f::DJUNK;
                    } else {
                        self.w.flags |= f::SUBST;
                        self.subs.push(Sub {
                            start: i + 2,
                            end: e,
                            tick: false,
                            kind: SubKind::Subst,
                        });
                    }
                    (e + 1, false)
                }
                None => {
                    self.w.flags |= f::SUBST;
                    self.subs.push(Sub {
                        start: i + 2,
                        end: hi,
                        tick: false,
                        kind: SubKind::Subst,
                    });
                    (hi, false)
                }
            },
            Some(b'[') => {
                self.w.flags |= f::ARITH;
                match find_close(b, i + 2, hi, b'[', b']') {
                    Some(e) => (e + 1, false),
                    None => (hi, false),
                }
            }
            Some(b'{') => {
                let Some(e) = find_close(b, i + 2, hi, b'{', b'}') else {
                    return (hi, false);
                };
                let inner = &b[i + 2..e];
                if inner.contains(&b'`') || inner.windows(2).any(|p| p == b"$(") {
                    self.w.flags |= f::SUBST;
                    self.subs.push(Sub {
                        start: i + 2,
                        end: e,
                        tick: false,
                        kind: SubKind::Subst,
                    });
                    return (e + 1, false);
                }
                if inner == b"IFS" {
                    self.w.flags |= f::IFS;
                    return (e + 1, !self.w.norm.is_empty());
                }
                if inner.eq_ignore_ascii_case(b"SHELL") || inner.eq_ignore_ascii_case(b"BASH") {
                    self.w.flags |= f::SHELLVAR;
                    self.w.norm.extend(b"sh");
                    return (e + 1, false);
                }
                // `${x:-default}`, `${x-default}`, `${x:=default}`: the default.
                let mut k = 0;
                while k < inner.len() && (inner[k].is_ascii_alphanumeric() || inner[k] == b'_') {
                    k += 1;
                }
                let rest = &inner[k..];
                let def = if rest.starts_with(b":-")
                    || rest.starts_with(b":=")
                    || rest.starts_with(b":+")
                {
                    Some(&rest[2..])
                } else if rest.starts_with(b"-") || rest.starts_with(b"=") {
                    Some(&rest[1..])
                } else {
                    None
                };
                if let Some(d) = def {
                    for &c in d {
                        if !matches!(c, b'\'' | b'"' | b'\\') {
                            self.put(c, false);
                        }
                    }
                }
                self.mark_junk(e + 1);
                (e + 1, false)
            }
            Some(b'\'') if !in_dq => {
                // ANSI-C quoting.
                let s = i + 2;
                let Some(e) = memchr(b'\'', &b[s..hi]).map(|e| s + e) else {
                    self.put(b'$', true);
                    return (i + 1, false);
                };
                self.w.flags |= f::ANSI;
                self.ansi(s, e);
                (e + 1, false)
            }
            Some(b'"') if !in_dq => {
                // Locale quoting `$"..."`: the string itself.
                (i + 1, false)
            }
            Some(c) if matches!(c, b'@' | b'*' | b'#' | b'?' | b'-' | b'$' | b'!' | b'_') => {
                // `$_` may start a name (`$_foo`): take the name, unless it
                // sits inside a word (`c$_at`, an obfuscation).
                if c == b'_' && self.letters == 0 {
                    let mut j = i + 2;
                    while j < hi && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
                        j += 1;
                    }
                    self.mark_junk(j);
                    return (j, false);
                }
                self.mark_junk(i + 2);
                (i + 2, false)
            }
            Some(c) if c.is_ascii_digit() => {
                if c == b'0' {
                    self.w.flags |= f::SHELLVAR;
                }
                self.mark_junk(i + 2);
                (i + 2, false)
            }
            Some(c) if c.is_ascii_alphabetic() => {
                let mut j = i + 1;
                while j < hi && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
                    j += 1;
                }
                let name = &b[i + 1..j];
                if name == b"IFS" {
                    self.w.flags |= f::IFS;
                    return (j, !self.w.norm.is_empty());
                }
                if name == b"SHELL" || name == b"BASH" {
                    self.w.flags |= f::SHELLVAR;
                    self.w.norm.extend(b"sh");
                    return (j, false);
                }
                self.mark_junk(j);
                (j, false)
            }
            _ => {
                self.put(b'$', !in_dq);
                (i + 1, false)
            }
        }
    }

    /// An expansion that produced nothing: junk when glued to letters.
    fn mark_junk(&mut self, next: usize) {
        let after = self
            .b
            .get(next)
            .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'/')
            && next < self.hi;
        if self.letters > 0 || after {
            self.w.flags |= f::DJUNK;
        }
    }

    fn ansi(&mut self, mut i: usize, e: usize) {
        let b = self.b;
        while i < e {
            if b[i] == b'\\' && i + 1 < e {
                let c = b[i + 1];
                if c == b'x' {
                    let mut v = 0u8;
                    let mut j = i + 2;
                    while j < e && j < i + 4 && b[j].is_ascii_hexdigit() {
                        v = v.wrapping_mul(16).wrapping_add(hexv(b[j]));
                        j += 1;
                    }
                    self.put(v, false);
                    i = j;
                } else if c.is_ascii_digit() {
                    let mut v = 0u8;
                    let mut j = i + 1;
                    while j < e && j < i + 4 && (b'0'..=b'7').contains(&b[j]) {
                        v = v.wrapping_mul(8).wrapping_add(b[j] - b'0');
                        j += 1;
                    }
                    self.put(v, false);
                    i = j.max(i + 2);
                } else {
                    self.put(c, false);
                    i += 2;
                }
            } else {
                self.put(b[i], false);
                i += 1;
            }
        }
    }
}

fn hexv(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        b'A'..=b'F' => c - b'A' + 10,
        _ => 0,
    }
}

/// cmd.exe variables that name something: `%COMSPEC%` is cmd.exe.
fn pct_var(name: &[u8]) -> &'static [u8] {
    if name.eq_ignore_ascii_case(b"comspec") {
        b"cmd"
    } else if name.eq_ignore_ascii_case(b"systemroot") || name.eq_ignore_ascii_case(b"windir") {
        b"c:\\windows"
    } else {
        b""
    }
}

/// Reads the word that starts at `i` (which is not a break byte).
pub fn read_word(b: &[u8], i: usize, hi: usize, o: Opts, subs: &mut Subs) -> Word {
    let mut r = Reader {
        b,
        hi,
        w: Word {
            start: i,
            end: i,
            norm: Small::default(),
            flags: 0,
            eq: 0,
            bare: 0,
        },
        letters: 0,
        subs,
    };
    let mut j = i;
    let mut quotes = 0u32;
    let mut first_quote_at_start = false;
    let mut last_quote_end = 0usize;
    while j < hi {
        let c = b[j];
        if (c == b'<' || c == b'>')
            && j > i
            && j + 3 < hi
            && b[j + 1] == b'('
            && b[j + 2] == b')'
            && b[j - 1].is_ascii_alphanumeric()
            && b[j + 3].is_ascii_alphanumeric()
        {
            // `pi<()ng`: an empty process substitution inside a word.
            r.w.flags |= f::DJUNK | f::ESUBST;
            j += 3;
            continue;
        }
        if is_break(c) {
            break;
        }
        match c {
            b'&' => match entity_len(b, j, hi) {
                Some(n) => {
                    for &x in &b[j..j + n] {
                        r.put(x, true);
                    }
                    j += n;
                }
                None => break,
            },
            b'+' if o.plus_sep && j > i => {
                r.w.flags |= f::PLUSEND;
                break;
            }
            b'\'' => match memchr(b'\'', &b[j + 1..hi]) {
                Some(e) => {
                    let e = j + 1 + e;
                    if quotes == 0 && j == i {
                        first_quote_at_start = true;
                    }
                    quotes += 1;
                    for &x in &b[j + 1..e] {
                        r.put(x, false);
                    }
                    j = e + 1;
                    last_quote_end = j;
                }
                None => {
                    r.w.flags |= f::LITQUOTE;
                    if !edge_quote(b, i, j, hi) {
                        r.put(c, true);
                    }
                    j += 1;
                }
            },
            b'"' => match find_dquote(b, j + 1, hi) {
                Some(e) => {
                    if quotes == 0 && j == i {
                        first_quote_at_start = true;
                    }
                    quotes += 1;
                    let mut k = j + 1;
                    while k < e {
                        match b[k] {
                            b'\\'
                                if k + 1 < e && matches!(b[k + 1], b'"' | b'\\' | b'$' | b'`') =>
                            {
                                r.put(b[k + 1], false);
                                k += 2;
                            }
                            b'$' => {
                                let save = r.hi;
                                r.hi = e;
                                let (n, _) = r.dollar(k, true);
                                r.hi = save;
                                k = n.max(k + 1);
                            }
                            b'`' => {
                                k = tick(&mut r, k, e);
                            }
                            x => {
                                r.put(x, false);
                                k += 1;
                            }
                        }
                    }
                    j = e + 1;
                    last_quote_end = j;
                }
                None => {
                    r.w.flags |= f::LITQUOTE;
                    if !edge_quote(b, i, j, hi) {
                        r.put(c, true);
                    }
                    j += 1;
                }
            },
            b'\\' if j + 1 < hi && b[j + 1] == b'\n' => {
                // A line continuation.
                j += 2;
            }
            b'\\' if j + 1 < hi => {
                // An escaped byte (an operator or a blank included) is a
                // literal character.
                r.put(b[j + 1], true);
                // `C:\Windows\x`: a backslash after a drive colon is a
                // path separator for cmd.exe, not an escape.
                if !(j > i && b[j - 1] == b':') {
                    r.w.flags |= f::BSLASH;
                }
                j += 2;
            }
            b'\\' => {
                r.put(c, true);
                j += 1;
            }
            b'$' => {
                let (n, stop) = r.dollar(j, false);
                j = n.max(j + 1);
                if stop {
                    break;
                }
            }
            b'`' => {
                j = tick(&mut r, j, hi);
            }
            b'^' => {
                let prev_alnum = j > i && b[j - 1].is_ascii_alphanumeric();
                let next_alnum = j + 1 < hi && b[j + 1].is_ascii_alphanumeric();
                if next_alnum && (prev_alnum || j == i) {
                    r.w.flags |= f::CARET;
                } else {
                    r.put(c, true);
                }
                j += 1;
            }
            b'%' => {
                let s = j + 1;
                let mut k = s;
                while k < hi && k - s <= 24 && (b[k].is_ascii_alphanumeric() || b[k] == b'_') {
                    k += 1;
                }
                if k > s && k < hi && b[k] == b'%' {
                    r.w.flags |= f::PCTVAR;
                    let v = pct_var(&b[s..k]);
                    for &x in v {
                        r.put(x, false);
                    }
                    j = k + 1;
                } else {
                    r.put(c, true);
                    j += 1;
                }
            }
            b'*' | b'?' | b'[' => {
                r.w.flags |= f::GLOB;
                r.put(c, true);
                j += 1;
            }
            b'=' if r.w.flags & f::ASSIGN == 0 && quotes == 0 && r.w.flags & f::DOLLAR == 0 => {
                let t = r.w.norm.as_bytes();
                if !t.is_empty()
                    && (t[0].is_ascii_alphabetic() || t[0] == b'_')
                    && t.iter().all(|&x| x.is_ascii_alphanumeric() || x == b'_')
                {
                    r.w.flags |= f::ASSIGN;
                    r.w.eq = t.len();
                }
                r.put(c, true);
                j += 1;
            }
            _ => {
                r.put(c, true);
                j += 1;
            }
        }
    }
    r.w.end = j.max(i + 1).min(hi.max(i));
    if quotes > 0 {
        let wrapped = quotes == 1 && first_quote_at_start && last_quote_end == r.w.end;
        if wrapped {
            r.w.flags |= f::QWRAP;
        } else {
            r.w.flags |= f::QSPLIT;
        }
    }
    if r.w.flags & f::DOLLAR != 0 && r.w.norm.is_empty() && r.w.flags & (f::SUBST | f::ESUBST) == 0
    {
        r.w.flags |= f::VARONLY;
    }
    r.w
}

/// A quote without a partner at the start or the end of a word: the
/// application's own quoting (`';htop'`), not part of the word.
fn edge_quote(b: &[u8], start: usize, j: usize, hi: usize) -> bool {
    j == start || j + 1 >= hi || is_break(b[j + 1]) || b[j + 1] == b'&'
}

/// A backtick substitution at `k` (inside `hi`); returns the index after it.
/// A run of three or more backticks is a markdown code fence and an
/// unterminated backtick is a literal character (the shell would refuse
/// both).
fn tick(r: &mut Reader<'_>, k: usize, hi: usize) -> usize {
    let run = r.b[k..hi].iter().take_while(|&&c| c == b'`').count();
    if run >= 3 {
        return k + run;
    }
    match memchr(b'`', &r.b[k + 1..hi]) {
        Some(e) => {
            let e = k + 1 + e;
            if r.b[k + 1..e].iter().all(|c| c.is_ascii_whitespace()) {
                r.w.flags |= f::ESUBST | f::DJUNK;
            } else {
                r.w.flags |= f::SUBST;
                r.subs.push(Sub {
                    start: k + 1,
                    end: e,
                    tick: true,
                    kind: SubKind::Subst,
                });
            }
            e + 1
        }
        None => {
            r.put(b'`', true);
            k + 1
        }
    }
}

/// The part of a normalised command word after its last `/` or `\`.
pub fn basename(t: &[u8]) -> &[u8] {
    match t.iter().rposition(|&c| c == b'/' || c == b'\\') {
        Some(i) => &t[i + 1..],
        None => t,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word(s: &str) -> Word {
        let mut subs = Subs::default();
        read_word(s.as_bytes(), 0, s.len(), Opts::default(), &mut subs)
    }

    #[test]
    fn quote_removal_and_tricks() {
        let w = word("c'a't");
        assert_eq!(w.text(), b"cat");
        assert!(w.has(f::QSPLIT));
        let w = word("'id'");
        assert_eq!(w.text(), b"id");
        assert!(w.has(f::QWRAP) && !w.has(f::QSPLIT));
        let w = word("\\c\\a\\t");
        assert_eq!(w.text(), b"cat");
        assert!(w.has(f::BSLASH));
        let w = word("c$@at");
        assert_eq!(w.text(), b"cat");
        assert!(w.has(f::DJUNK));
        let w = word("w^h^o^a^m^i");
        assert_eq!(w.text(), b"whoami");
        assert!(w.has(f::CARET));
        let w = word("$'\\x63at'");
        assert_eq!(w.text(), b"cat");
        let w = word("I'd");
        assert_eq!(w.text(), b"i'd");
        let w = word("cat${IFS}/etc/passwd");
        assert_eq!(w.text(), b"cat");
        assert!(w.has(f::IFS));
        let w = word("a=1");
        assert!(w.has(f::ASSIGN));
        assert_eq!(w.eq, 1);
        let w = word("pi$()ng");
        assert_eq!(w.text(), b"ping");
        assert!(w.has(f::ESUBST));
        let w = word("$a");
        assert!(w.has(f::VARONLY));
        let w = word("%COMSPEC%");
        assert_eq!(w.text(), b"cmd");
    }

    #[test]
    fn entities_do_not_split() {
        let w = word("&quot;id&quot;");
        assert_eq!(w.text(), b"&quot;id&quot;");
    }
}
