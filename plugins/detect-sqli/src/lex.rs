//! The SQL lexer: one pass over the bytes, one token per lexeme, comments
//! and whitespace dropped (their presence kept as flags).
//!
//! It reads the union of the dialects an attacker may aim at:
//!
//! - strings in `'` and `"` with doubled quotes and backslash escapes
//!   (MySQL), prefixed `N'..'`, `E'..'`, `B'..'`, `X'..'`, `U&'..'`,
//!   PostgreSQL `$$..$$` / `$tag$..$tag$`, Oracle `q'[..]'`;
//! - identifiers: words (`[A-Za-z0-9_$]` and any non-ASCII byte), `` `..` ``
//!   and MSSQL `[..]`;
//! - numbers: decimal, `.5`, `1e-3`, `0x1F`, `0b101`;
//! - comments `-- ..`, `# ..`, `/* .. */`; MySQL executable comments
//!   `/*! .. */` and `/*!50000 .. */` (and MariaDB `/*M! .. */`) are read
//!   as code;
//! - operators, the multi-byte ones first: `<=>`, `->>`, `->`, `<=`, `>=`,
//!   `<>`, `!=`, `||`, `&&`, `::`, `:=`, `<<`, `>>`, `@>`, `<@`, `?|`,
//!   `?&`, `~*`, `!~`;
//! - variables `@x`, `@@version`, `@'x'`, and `$1`.
//!
//! A context may open a string before the value (`'` or `"`): the lexer
//! then starts inside that string, as the database would if the value were
//! pasted after the quote of the query.

use crate::words::{self, MAX_WORD, NONE};

/// Most tokens kept per window and context (a window of 8 KiB never
/// reaches it: every token is at least one byte).
pub const MAX_TOKENS: usize = 8 * 1024;

/// Token kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum K {
    Str,
    Num,
    Word,
    Var,
    Op,
    LParen,
    RParen,
    Comma,
    Semi,
    Dot,
    Other,
}

/// Operators (the `w` of an [`K::Op`] token).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u16)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Gt,
    Le,
    Ge,
    NullSafeEq,
    Plus,
    Minus,
    Mul,
    Div,
    Mod,
    BitAnd,
    BitOr,
    BitXor,
    Shl,
    Shr,
    /// `||`: OR in MySQL, concatenation elsewhere.
    Pipes,
    /// `&&`
    AndAnd,
    /// `::`
    Cast,
    /// `:=`
    Assign,
    /// `->`, `->>`, `#>`-like JSON path operators.
    Arrow,
    /// `@>`, `<@`, `?`, `?|`, `?&`: JSON containment and key tests.
    JsonTest,
    /// `~`
    Tilde,
    /// `!`
    Bang,
    /// `~*`, `!~`, `!~*`, `~~`: PostgreSQL pattern matches.
    Match,
    Colon,
}

impl Op {
    const ALL: [Op; 27] = [
        Op::Eq,
        Op::Ne,
        Op::Lt,
        Op::Gt,
        Op::Le,
        Op::Ge,
        Op::NullSafeEq,
        Op::Plus,
        Op::Minus,
        Op::Mul,
        Op::Div,
        Op::Mod,
        Op::BitAnd,
        Op::BitOr,
        Op::BitXor,
        Op::Shl,
        Op::Shr,
        Op::Pipes,
        Op::AndAnd,
        Op::Cast,
        Op::Assign,
        Op::Arrow,
        Op::JsonTest,
        Op::Tilde,
        Op::Bang,
        Op::Match,
        Op::Colon,
    ];

    pub fn from_u16(v: u16) -> Option<Op> {
        Op::ALL.get(usize::from(v)).copied()
    }

    /// Comparison operators (a predicate).
    pub fn is_cmp(self) -> bool {
        matches!(
            self,
            Op::Eq
                | Op::Ne
                | Op::Lt
                | Op::Gt
                | Op::Le
                | Op::Ge
                | Op::NullSafeEq
                | Op::Match
                | Op::JsonTest
        )
    }

    /// Binary operators that are neither comparison nor logic.
    pub fn is_arith(self) -> bool {
        matches!(
            self,
            Op::Plus
                | Op::Minus
                | Op::Mul
                | Op::Div
                | Op::Mod
                | Op::BitAnd
                | Op::BitOr
                | Op::BitXor
                | Op::Shl
                | Op::Shr
                | Op::Arrow
                | Op::Assign
        )
    }
}

/// The string was opened by the context, not by the value.
pub const F_VIRTUAL: u8 = 1;
/// The string is closed.
pub const F_CLOSED: u8 = 2;
/// A comment separates this token from the previous one.
pub const F_COMMENT: u8 = 4;
/// Read inside a MySQL executable comment.
pub const F_EXEC: u8 = 8;
/// A keyword written in irregular mixed case (`SeLeCt`).
pub const F_MIXED: u8 = 16;
/// A quoted identifier (`` `x` ``, `[x]`): never a keyword.
pub const F_QUOTED: u8 = 32;
/// Whitespace (or a comment) precedes this token.
pub const F_SPACE: u8 = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tok {
    pub k: K,
    /// The word index (for [`K::Word`]) or the operator (for [`K::Op`]).
    pub w: u16,
    pub f: u8,
    pub start: u32,
    pub end: u32,
}

impl Tok {
    pub fn op(&self) -> Option<Op> {
        match self.k {
            K::Op => Op::from_u16(self.w),
            _ => None,
        }
    }

    pub fn word(&self) -> &'static words::Word {
        match self.k {
            K::Word if self.f & F_QUOTED == 0 => words::word(self.w),
            _ => &words::UNKNOWN,
        }
    }
}

/// The tokens of one context.
#[derive(Debug, Default)]
pub struct Stream {
    pub toks: Vec<Tok>,
    /// A comment runs from after the last token to the end of the value.
    pub end_comment: bool,
    /// The value held more tokens than [`MAX_TOKENS`].
    pub truncated: bool,
    /// A token other than plain words, numbers, commas and dots, or a
    /// comment: without one, nothing in the stream can be SQL syntax.
    pub signal: bool,
    /// Any comment or executable comment was seen.
    pub comments: u16,
    /// The comment that ends the value: `-`, `#` or `/`, or 0.
    pub end_kind: u8,
    /// That comment's body is empty or starts with a space (`1-- x`, not
    /// `1990--1995`).
    pub end_plain: bool,
    /// That comment's body is empty (`1--`, `1/**/`).
    pub end_empty: bool,
    /// That comment's body reads as words (`-- whichever is fine`), not a
    /// terminator (`-- -`, `#`, `-- XyZq`).
    pub end_prose: bool,
}

impl Stream {
    pub fn clear(&mut self) {
        self.toks.clear();
        self.end_comment = false;
        self.truncated = false;
        self.signal = false;
        self.comments = 0;
        self.end_kind = 0;
        self.end_plain = false;
        self.end_empty = false;
        self.end_prose = false;
    }
}

pub fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c | 0xa0 | 0)
}

#[inline]
pub fn is_word(c: u8) -> bool {
    WORD[c as usize]
}

/// The bytes of words: ASCII letters and digits, `_`, `$`, and any
/// non-ASCII byte but 0xA0 (a no-break space).
pub static WORD: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        let c = i as u8;
        t[i] = c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || (c >= 0x80 && c != 0xa0);
        i += 1;
    }
    t
};

/// Scans a string body after its opening quote at `i`; returns the index
/// after the closing quote and whether it closed. With `esc`, a backslash
/// escapes the next byte (MySQL); without, only a doubled quote does
/// (standard SQL: PostgreSQL, MSSQL, Oracle, SQLite).
pub fn string_end(s: &[u8], mut i: usize, q: u8, esc: bool) -> (usize, bool) {
    let n = s.len();
    while i < n {
        let c = s[i];
        if c == b'\\' && esc {
            i += 2;
            continue;
        }
        if c == q {
            if s.get(i + 1) == Some(&q) {
                i += 2;
                continue;
            }
            return (i + 1, true);
        }
        i += 1;
    }
    (n, false)
}

/// Lexes `s` into `out`. With `quote`, the value is read as if it followed
/// that opening quote; returns false when the quote never closes (the
/// whole value stays inside the string: nothing to read). With `esc`,
/// strings take backslash escapes (MySQL); without, standard SQL strings.
pub fn lex_with(s: &[u8], quote: Option<u8>, esc: bool, out: &mut Stream) -> bool {
    out.clear();
    let mut lx = Lexer {
        s,
        i: 0,
        flags: 0,
        exec: 0,
        esc,
        out,
    };
    if let Some(q) = quote {
        let (end, closed) = string_end(s, 0, q, esc);
        if !closed {
            return false;
        }
        lx.push(K::Str, 0, F_VIRTUAL | F_CLOSED, 0, end);
        // The string the context opened is no sign of SQL by itself.
        lx.out.signal = false;
        lx.i = end;
    }
    lx.run();
    true
}

struct Lexer<'a, 'o> {
    s: &'a [u8],
    i: usize,
    /// Flags for the next token (space, comment seen).
    flags: u8,
    /// Open MySQL executable comments.
    exec: u32,
    /// Backslash escapes in strings.
    esc: bool,
    out: &'o mut Stream,
}

impl Lexer<'_, '_> {
    fn push(&mut self, k: K, w: u16, f: u8, start: usize, end: usize) {
        if self.out.toks.len() >= MAX_TOKENS {
            self.out.truncated = true;
            return;
        }
        let mut f = f | self.flags;
        if self.exec > 0 {
            f |= F_EXEC;
        }
        self.flags = 0;
        // Anything but plain words, numbers, commas and dots can start SQL.
        self.out.signal |= match k {
            K::Word => w != NONE || f & F_QUOTED != 0,
            K::Num | K::Comma | K::Dot => false,
            _ => true,
        };
        self.out.toks.push(Tok {
            k,
            w,
            f,
            start: start as u32,
            end: end as u32,
        });
        self.out.end_comment = false;
    }

    fn at(&self, j: usize) -> u8 {
        self.s.get(j).copied().unwrap_or(0xff)
    }

    /// The first byte at or after `j` that is not a space (0 at the end).
    fn next_non_space(&self, mut j: usize) -> u8 {
        while j < self.s.len() && is_space(self.s[j]) {
            j += 1;
        }
        self.s.get(j).copied().unwrap_or(0)
    }

    fn op(&mut self, op: Op, len: usize) {
        let i = self.i;
        self.push(K::Op, op as u16, 0, i, i + len);
        self.i += len;
    }

    /// A comment ending at `end`; `end_comment` stays set unless a token
    /// follows.
    fn comment(&mut self, end: usize) {
        let s = self.s;
        self.out.signal = true;
        let i = self.i;
        let (kind, body) = match s.get(i) {
            Some(b'-') => (b'-', i + 2),
            Some(b'#') => (b'#', i + 1),
            _ => (b'/', i + 2),
        };
        self.out.comments = self.out.comments.saturating_add(1);
        self.flags |= F_COMMENT | F_SPACE;
        self.i = end;
        self.out.end_comment = true;
        self.out.end_kind = kind;
        self.out.end_plain = s.get(body).is_none_or(|&c| is_space(c) || c == b'*');
        let body_end = if kind == b'/' && end >= body + 2 && s.get(end - 2..end) == Some(b"*/") {
            end - 2
        } else {
            end
        };
        let text = s.get(body..body_end).unwrap_or_default();
        self.out.end_empty = text.iter().all(|&c| is_space(c));
        self.out.end_prose = prose(text);
    }

    fn run(&mut self) {
        let s = self.s;
        let n = s.len();
        while self.i < n {
            if self.out.toks.len() >= MAX_TOKENS {
                self.out.truncated = true;
                return;
            }
            let i = self.i;
            let c = s[i];
            match c {
                c if is_space(c) => {
                    self.flags |= F_SPACE;
                    self.i += 1;
                }
                0xc2 if self.at(i + 1) == 0xa0 => {
                    self.flags |= F_SPACE;
                    self.i += 2;
                }
                b'\'' | b'"' => self.string(i, i + 1, c),
                b'`' => {
                    let (end, _) = quoted_ident(s, i + 1, b'`');
                    self.push(K::Word, NONE, F_QUOTED, i, end);
                    self.i = end;
                }
                b'[' => match bracket_end(s, i + 1) {
                    Some(end) => {
                        self.push(K::Word, NONE, F_QUOTED, i, end);
                        self.i = end;
                    }
                    None => {
                        self.push(K::Other, 0, 0, i, i + 1);
                        self.i += 1;
                    }
                },
                b'0'..=b'9' => self.number(i),
                b'.' if self.at(i + 1).is_ascii_digit() => self.number(i),
                b'.' => {
                    self.push(K::Dot, 0, 0, i, i + 1);
                    self.i += 1;
                }
                b'@' => self.at_sign(i),
                b'$' => self.dollar(i),
                b'-' => match self.at(i + 1) {
                    b'-' => {
                        let end = line_end(s, i + 2);
                        self.comment(end);
                    }
                    b'>' if self.at(i + 2) == b'>' => self.op(Op::Arrow, 3),
                    b'>' => self.op(Op::Arrow, 2),
                    _ => self.op(Op::Minus, 1),
                },
                b'#' => {
                    // PostgreSQL `#>`, `#>>`, `#-` before a path literal:
                    // JSON operators, not a MySQL comment.
                    let len = match (self.at(i + 1), self.at(i + 2)) {
                        (b'>', b'>') => 3,
                        (b'>' | b'-', _) => 2,
                        _ => 0,
                    };
                    if len > 0 && self.next_non_space(i + len) == b'\'' {
                        self.op(Op::Arrow, len);
                    } else {
                        let end = line_end(s, i + 1);
                        self.comment(end);
                    }
                }
                b'/' => {
                    if self.at(i + 1) == b'*' {
                        self.block_comment(i);
                    } else {
                        self.op(Op::Div, 1);
                    }
                }
                b'*' => {
                    if self.at(i + 1) == b'/' && self.exec > 0 {
                        // The end of an executable comment.
                        self.exec -= 1;
                        self.flags |= F_SPACE;
                        self.i += 2;
                    } else if self.at(i + 1) == b'/' {
                        // A stray comment end.
                        self.comment(i + 2);
                    } else {
                        self.op(Op::Mul, 1);
                    }
                }
                b'(' => {
                    self.push(K::LParen, 0, 0, i, i + 1);
                    self.i += 1;
                }
                b')' => {
                    self.push(K::RParen, 0, 0, i, i + 1);
                    self.i += 1;
                }
                b',' => {
                    self.push(K::Comma, 0, 0, i, i + 1);
                    self.i += 1;
                }
                b';' => {
                    self.push(K::Semi, 0, 0, i, i + 1);
                    self.i += 1;
                }
                b'=' => {
                    let len = if self.at(i + 1) == b'=' { 2 } else { 1 };
                    self.op(Op::Eq, len)
                }
                b'<' => match (self.at(i + 1), self.at(i + 2)) {
                    (b'=', b'>') => self.op(Op::NullSafeEq, 3),
                    (b'=', _) => self.op(Op::Le, 2),
                    (b'>', _) => self.op(Op::Ne, 2),
                    (b'<', _) => self.op(Op::Shl, 2),
                    (b'@', _) => self.op(Op::JsonTest, 2),
                    _ => self.op(Op::Lt, 1),
                },
                b'>' => match self.at(i + 1) {
                    b'=' => self.op(Op::Ge, 2),
                    b'>' => self.op(Op::Shr, 2),
                    _ => self.op(Op::Gt, 1),
                },
                b'!' => match (self.at(i + 1), self.at(i + 2)) {
                    (b'=', _) => self.op(Op::Ne, 2),
                    (b'<', _) => self.op(Op::Ge, 2),
                    (b'>', _) => self.op(Op::Le, 2),
                    (b'~', b'*') => self.op(Op::Match, 3),
                    (b'~', _) => self.op(Op::Match, 2),
                    _ => self.op(Op::Bang, 1),
                },
                b'~' => match self.at(i + 1) {
                    b'*' | b'~' => self.op(Op::Match, 2),
                    _ => self.op(Op::Tilde, 1),
                },
                b'|' => match self.at(i + 1) {
                    b'|' => self.op(Op::Pipes, 2),
                    _ => self.op(Op::BitOr, 1),
                },
                b'&' => match self.at(i + 1) {
                    b'&' => self.op(Op::AndAnd, 2),
                    _ => self.op(Op::BitAnd, 1),
                },
                b'^' => self.op(Op::BitXor, 1),
                b'%' => self.op(Op::Mod, 1),
                b'+' => self.op(Op::Plus, 1),
                b':' => match self.at(i + 1) {
                    b':' => self.op(Op::Cast, 2),
                    b'=' => self.op(Op::Assign, 2),
                    _ => self.op(Op::Colon, 1),
                },
                b'?' => match self.at(i + 1) {
                    b'|' | b'&' => self.op(Op::JsonTest, 2),
                    _ => self.op(Op::JsonTest, 1),
                },
                b'\\' if self.at(i + 1) == b'N' => {
                    // MySQL's \N: NULL.
                    self.push(K::Num, 0, 0, i, i + 2);
                    self.i += 2;
                }
                c if is_word(c) => self.word(i),
                _ => {
                    self.push(K::Other, 0, 0, i, i + 1);
                    self.i += 1;
                }
            }
        }
    }

    fn string(&mut self, start: usize, body: usize, q: u8) {
        let (end, closed) = string_end(self.s, body, q, self.esc);
        let f = if closed { F_CLOSED } else { 0 };
        self.push(K::Str, 0, f, start, end);
        self.i = end;
    }

    fn block_comment(&mut self, i: usize) {
        let s = self.s;
        // MySQL `/*!` and `/*!50000`, MariaDB `/*M!`: the body is code.
        let bang = match (self.at(i + 2), self.at(i + 3)) {
            (b'!', _) => Some(i + 3),
            (b'M', b'!') => Some(i + 4),
            _ => None,
        };
        if let Some(mut j) = bang {
            let digits_end = (j + 6).min(s.len());
            while j < digits_end && s[j].is_ascii_digit() {
                j += 1;
            }
            self.exec += 1;
            self.out.signal = true;
            self.out.comments = self.out.comments.saturating_add(1);
            self.flags |= F_SPACE;
            self.i = j;
            return;
        }
        match find2(s, i + 2, b'*', b'/') {
            Some(e) => self.comment(e + 2),
            None => self.comment(s.len()),
        }
    }

    fn number(&mut self, start: usize) {
        let s = self.s;
        let n = s.len();
        let mut j = start;
        if s[j] == b'0'
            && matches!(self.at(j + 1), b'x' | b'X')
            && self.at(j + 2).is_ascii_hexdigit()
        {
            j += 2;
            while j < n && s[j].is_ascii_hexdigit() {
                j += 1;
            }
        } else if s[j] == b'0'
            && matches!(self.at(j + 1), b'b' | b'B')
            && matches!(self.at(j + 2), b'0' | b'1')
        {
            j += 2;
            while j < n && matches!(s[j], b'0' | b'1') {
                j += 1;
            }
        } else {
            while j < n && s[j].is_ascii_digit() {
                j += 1;
            }
            if j < n && s[j] == b'.' {
                j += 1;
                while j < n && s[j].is_ascii_digit() {
                    j += 1;
                }
            }
            if j < n && matches!(s[j], b'e' | b'E') {
                let k = if matches!(self.at(j + 1), b'+' | b'-') {
                    j + 2
                } else {
                    j + 1
                };
                if self.at(k).is_ascii_digit() {
                    j = k;
                    while j < n && s[j].is_ascii_digit() {
                        j += 1;
                    }
                }
            }
        }
        // An integer glued to letters: a keyword after it is split off
        // (`1and`, `1union`), anything else makes one name (`1st`,
        // `2on2hockeyDB`), as MySQL reads identifiers.
        let simple = s[start..j].iter().all(u8::is_ascii_digit);
        if simple && j < n && is_word(s[j]) {
            let end = word_end(s, j);
            let suffix = &s[j..end];
            let mut buf = [0u8; MAX_WORD];
            let keyword = suffix.len() <= MAX_WORD && {
                for (d, c) in buf.iter_mut().zip(suffix) {
                    *d = c.to_ascii_lowercase();
                }
                words::word(words::lookup(&buf[..suffix.len()])).flags & words::RES != 0
            };
            // 1FUNION, 1DUNION, 0xUNION: a type letter, then a keyword.
            let typed = !keyword
                && suffix.len() > 1
                && matches!(suffix[0] | 0x20, b'f' | b'd' | b'x')
                && suffix.len() <= MAX_WORD + 1
                && {
                    let rest = &suffix[1..];
                    for (d, c) in buf.iter_mut().zip(rest) {
                        *d = c.to_ascii_lowercase();
                    }
                    words::word(words::lookup(&buf[..rest.len()])).flags & words::RES != 0
                };
            if typed {
                self.push(K::Num, 0, 0, start, j + 1);
                self.i = j + 1;
                return;
            }
            if !keyword {
                self.push(K::Word, NONE, 0, start, end);
                self.i = end;
                return;
            }
        }
        self.push(K::Num, 0, 0, start, j);
        self.i = j;
    }

    fn at_sign(&mut self, i: usize) {
        let s = self.s;
        match self.at(i + 1) {
            b'>' | b'?' => self.op(Op::JsonTest, 2),
            // PostgreSQL `@@` (text and JSON path match) before a non-name.
            b'@' if !is_word(self.at(i + 2)) => self.op(Op::JsonTest, 2),
            b'@' => {
                let end = word_end(s, i + 2);
                self.push(K::Var, 1, 0, i, end);
                self.i = end;
            }
            q @ (b'\'' | b'"' | b'`') => {
                let (end, _) = string_end(s, i + 2, q, self.esc);
                self.push(K::Var, 0, 0, i, end);
                self.i = end;
            }
            c if is_word(c) => {
                let end = word_end(s, i + 1);
                self.push(K::Var, 0, 0, i, end);
                self.i = end;
            }
            _ => {
                self.push(K::Other, 0, 0, i, i + 1);
                self.i += 1;
            }
        }
    }

    fn dollar(&mut self, i: usize) {
        let s = self.s;
        // $$..$$ or $tag$..$tag$
        let mut j = i + 1;
        while j < s.len() && (s[j].is_ascii_alphanumeric() || s[j] == b'_') {
            j += 1;
        }
        let tag_ok = (j == i + 1 || !s[i + 1].is_ascii_digit()) && j - i <= 32;
        if tag_ok && s.get(j) == Some(&b'$') {
            let tag = &s[i..=j];
            let body = j + 1;
            let end = find_slice(s, body, tag).map(|e| e + tag.len());
            let (end, f) = match end {
                Some(e) => (e, F_CLOSED),
                None => (s.len(), 0),
            };
            self.push(K::Str, 0, f, i, end);
            self.i = end;
            return;
        }
        if self.at(i + 1).is_ascii_digit() {
            let end = word_end(s, i + 1);
            self.push(K::Var, 0, 0, i, end);
            self.i = end;
            return;
        }
        self.push(K::Other, 0, 0, i, i + 1);
        self.i += 1;
    }

    fn word(&mut self, start: usize) {
        let s = self.s;
        let end = word_end(s, start);
        let len = end - start;
        // String prefixes: N'..' E'..' B'..' X'..' and Oracle q'..'.
        if self.at(end) == b'\'' && len <= 2 {
            let p = s[start].to_ascii_lowercase();
            if len == 1 && matches!(p, b'n' | b'e' | b'b' | b'x') {
                self.string(start, end + 1, b'\'');
                return;
            }
            if (len == 1 && p == b'q') || (len == 2 && p == b'n' && s[start + 1] | 0x20 == b'q') {
                if let Some(e) = self.q_quote(end + 1) {
                    self.push(K::Str, 0, F_CLOSED, start, e);
                    self.i = e;
                    return;
                }
            }
        }
        if len == 1
            && matches!(s[start], b'u' | b'U')
            && self.at(end) == b'&'
            && self.at(end + 1) == b'\''
        {
            self.string(start, end + 2, b'\'');
            return;
        }
        let mut f = 0;
        let mut w = NONE;
        if len <= MAX_WORD {
            let mut buf = [0u8; MAX_WORD];
            let mut upper = 0u32;
            let mut lower = 0u32;
            for (k, &c) in s[start..end].iter().enumerate() {
                buf[k] = c.to_ascii_lowercase();
                if k > 0 {
                    upper += u32::from(c.is_ascii_uppercase());
                    lower += u32::from(c.is_ascii_lowercase());
                }
            }
            w = words::lookup(&buf[..len]);
            if w != NONE && upper > 0 && lower > 0 {
                f |= F_MIXED;
            }
        }
        self.push(K::Word, w, f, start, end);
        self.i = end;
    }

    /// Oracle alternative quoting after `q'`: returns the end.
    fn q_quote(&self, open: usize) -> Option<usize> {
        let s = self.s;
        let d = *s.get(open)?;
        let close = match d {
            b'[' => b']',
            b'(' => b')',
            b'{' => b'}',
            b'<' => b'>',
            c if c.is_ascii_whitespace() => return None,
            c => c,
        };
        find2(s, open + 1, close, b'\'').map(|e| e + 2)
    }
}

/// Two or more words of letters, separated by spaces.
fn prose(text: &[u8]) -> bool {
    let mut words = 0;
    let mut run = 0;
    for &c in text.iter().take(256) {
        if c.is_ascii_alphabetic() {
            run += 1;
        } else {
            if run >= 2 && c == b' ' {
                words += 1;
            }
            run = 0;
        }
        if words >= 1 && run >= 2 {
            return true;
        }
    }
    false
}

fn word_end(s: &[u8], mut i: usize) -> usize {
    while i < s.len() && is_word(s[i]) && !(s[i] == 0xc2 && s.get(i + 1) == Some(&0xa0)) {
        i += 1;
    }
    i
}

fn line_end(s: &[u8], i: usize) -> usize {
    match s
        .get(i..)
        .and_then(|r| r.iter().position(|&c| c == b'\n' || c == b'\r'))
    {
        Some(p) => i + p,
        None => s.len(),
    }
}

fn quoted_ident(s: &[u8], mut i: usize, q: u8) -> (usize, bool) {
    while i < s.len() {
        if s[i] == q {
            if s.get(i + 1) == Some(&q) {
                i += 2;
                continue;
            }
            return (i + 1, true);
        }
        i += 1;
    }
    (s.len(), false)
}

/// The end of an MSSQL `[identifier]`: a `]` within 128 bytes with no `[`
/// or line break before it.
fn bracket_end(s: &[u8], i: usize) -> Option<usize> {
    let lim = (i + 128).min(s.len());
    for (k, &c) in s.get(i..lim)?.iter().enumerate() {
        match c {
            b']' => return (k > 0).then_some(i + k + 1),
            b'[' | b'\n' | b'\r' => return None,
            _ => {}
        }
    }
    None
}

fn find2(s: &[u8], from: usize, a: u8, b: u8) -> Option<usize> {
    let mut i = from;
    while i + 1 < s.len() {
        if s[i] == a && s[i + 1] == b {
            return Some(i);
        }
        i += 1;
    }
    None
}

fn find_slice(s: &[u8], from: usize, pat: &[u8]) -> Option<usize> {
    let hay = s.get(from..)?;
    if pat.is_empty() || hay.len() < pat.len() {
        return None;
    }
    hay.windows(pat.len())
        .position(|w| w == pat)
        .map(|p| p + from)
}
