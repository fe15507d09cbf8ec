//! GraphQL lexer (October 2021 edition, section 2.1): ignored tokens,
//! punctuators, names, numbers, strings and block strings. Tokens are
//! byte ranges of the input; strings are unescaped later, by the parser.

/// The kind of a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tok {
    /// One of `! $ & ( ) : = @ [ ] { | }`.
    Punct(u8),
    /// `...`
    Spread,
    Name,
    Int,
    Float,
    /// `"..."`
    Str,
    /// `"""..."""`
    Block,
    Eof,
}

/// A token: its kind and where it is in the input.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Token {
    pub kind: Tok,
    pub start: usize,
    pub end: usize,
}

/// A lexical error: where, and what.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LexError {
    pub at: usize,
    pub msg: &'static str,
}

fn err(at: usize, msg: &'static str) -> LexError {
    LexError { at, msg }
}

pub(crate) fn is_name_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

pub(crate) fn is_name_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// The first offset at or after `pos` that is not an ignored token
/// (whitespace, line terminators, commas, comments, byte order marks).
pub(crate) fn skip_ignored(input: &[u8], mut pos: usize) -> usize {
    while let Some(&b) = input.get(pos) {
        match b {
            b' ' | b'\t' | b'\n' | b'\r' | b',' => pos += 1,
            b'#' => {
                while pos < input.len() && input[pos] != b'\n' && input[pos] != b'\r' {
                    pos += 1;
                }
            }
            0xEF if input[pos..].starts_with(b"\xEF\xBB\xBF") => pos += 3,
            _ => break,
        }
    }
    pos
}

/// The end of the name starting at `pos` (`pos` itself when there is none).
pub(crate) fn scan_name(input: &[u8], pos: usize) -> usize {
    let mut i = pos;
    if input.get(i).is_some_and(|&b| is_name_start(b)) {
        i += 1;
        while input.get(i).is_some_and(|&b| is_name_char(b)) {
            i += 1;
        }
    }
    i
}

/// A lexer with one token of look-ahead.
#[derive(Debug)]
pub(crate) struct Lexer<'i> {
    input: &'i [u8],
    pos: usize,
    peeked: Option<Token>,
}

impl<'i> Lexer<'i> {
    pub(crate) fn new(input: &'i [u8]) -> Self {
        Lexer {
            input,
            pos: 0,
            peeked: None,
        }
    }

    /// The bytes of a token.
    pub(crate) fn text(&self, t: Token) -> &'i [u8] {
        &self.input[t.start..t.end]
    }

    pub(crate) fn peek(&mut self) -> Result<Token, LexError> {
        if let Some(t) = self.peeked {
            return Ok(t);
        }
        let t = self.lex()?;
        self.peeked = Some(t);
        Ok(t)
    }

    pub(crate) fn next(&mut self) -> Result<Token, LexError> {
        match self.peeked.take() {
            Some(t) => Ok(t),
            None => self.lex(),
        }
    }

    fn lex(&mut self) -> Result<Token, LexError> {
        let input = self.input;
        let start = skip_ignored(input, self.pos);
        let (kind, end) = match input.get(start) {
            None => (Tok::Eof, start),
            Some(&b @ (b'!' | b'$' | b'&' | b'(' | b')' | b':' | b'=' | b'@' | b'[' | b']'))
            | Some(&b @ (b'{' | b'|' | b'}')) => (Tok::Punct(b), start + 1),
            Some(b'.') => match input.get(start..start + 3) {
                Some(b"...") => (Tok::Spread, start + 3),
                _ if input.len() - start < 3 && input[start..].iter().all(|&b| b == b'.') => {
                    return Err(err(input.len(), "unexpected end of input"))
                }
                _ => return Err(err(start, "expected '...'")),
            },
            Some(&b) if is_name_start(b) => (Tok::Name, scan_name(input, start)),
            Some(b'-' | b'0'..=b'9') => self.number(start)?,
            Some(b'"') if input[start..].starts_with(b"\"\"\"") => {
                (Tok::Block, block_end(input, start + 3)?)
            }
            Some(b'"') => (Tok::Str, string_end(input, start + 1)?),
            Some(_) => return Err(err(start, "unexpected character")),
        };
        self.pos = end;
        Ok(Token { kind, start, end })
    }

    /// IntValue or FloatValue; must not be followed by `.` or a name.
    fn number(&self, start: usize) -> Result<(Tok, usize), LexError> {
        let input = self.input;
        let digit = |i: usize| input.get(i).is_some_and(u8::is_ascii_digit);
        let need_digit = |i: usize| match input.get(i) {
            Some(b) if b.is_ascii_digit() => Ok(()),
            Some(_) => Err(err(i, "invalid number")),
            None => Err(err(i, "unexpected end of input")),
        };
        let mut i = start;
        let mut kind = Tok::Int;
        if input[i] == b'-' {
            i += 1;
        }
        need_digit(i)?;
        if input[i] == b'0' && digit(i + 1) {
            return Err(err(i + 1, "leading zero in a number"));
        }
        while digit(i) {
            i += 1;
        }
        if input.get(i) == Some(&b'.') {
            kind = Tok::Float;
            need_digit(i + 1)?;
            i += 1;
            while digit(i) {
                i += 1;
            }
        }
        if matches!(input.get(i), Some(b'e' | b'E')) {
            kind = Tok::Float;
            i += 1;
            if matches!(input.get(i), Some(b'+' | b'-')) {
                i += 1;
            }
            need_digit(i)?;
            while digit(i) {
                i += 1;
            }
        }
        if input.get(i).is_some_and(|&b| b == b'.' || is_name_start(b)) {
            return Err(err(i, "invalid number"));
        }
        Ok((kind, i))
    }
}

/// The end (after the closing quote) of a string whose body starts at `i`.
fn string_end(input: &[u8], mut i: usize) -> Result<usize, LexError> {
    loop {
        match input.get(i) {
            Some(b'"') => return Ok(i + 1),
            Some(b'\\') if input.get(i + 1).is_some_and(|&c| c != b'\n' && c != b'\r') => i += 2,
            Some(b'\n' | b'\r') => return Err(err(i, "line break in a string")),
            Some(_) => i += 1,
            None => return Err(err(input.len(), "unterminated string")),
        }
    }
}

/// The end (after the closing `"""`) of a block string whose body starts
/// at `i`.
fn block_end(input: &[u8], mut i: usize) -> Result<usize, LexError> {
    while i < input.len() {
        if input[i..].starts_with(b"\\\"\"\"") {
            i += 4;
        } else if input[i..].starts_with(b"\"\"\"") {
            return Ok(i + 3);
        } else {
            i += 1;
        }
    }
    Err(err(input.len(), "unterminated block string"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(s: &str) -> Result<Vec<(Tok, String)>, LexError> {
        let mut lx = Lexer::new(s.as_bytes());
        let mut v = Vec::new();
        loop {
            let t = lx.next()?;
            if t.kind == Tok::Eof {
                return Ok(v);
            }
            v.push((t.kind, String::from_utf8_lossy(lx.text(t)).into_owned()));
        }
    }

    #[test]
    fn tokens() {
        let v = kinds("query Q($a: [Int!]! = -1.5e3) { ...F, # c\n x: y(s: \"a\\\"b\", b: \"\"\"x\\\"\"\"y\"\"\") }").unwrap();
        let texts: Vec<&str> = v.iter().map(|(_, t)| t.as_str()).collect();
        assert_eq!(
            texts,
            [
                "query",
                "Q",
                "(",
                "$",
                "a",
                ":",
                "[",
                "Int",
                "!",
                "]",
                "!",
                "=",
                "-1.5e3",
                ")",
                "{",
                "...",
                "F",
                "x",
                ":",
                "y",
                "(",
                "s",
                ":",
                "\"a\\\"b\"",
                "b",
                ":",
                "\"\"\"x\\\"\"\"y\"\"\"",
                ")",
                "}"
            ]
        );
        assert_eq!(v[12].0, Tok::Float);
        assert_eq!(kinds("0 12").unwrap()[1].0, Tok::Int);
    }

    #[test]
    fn errors() {
        assert_eq!(kinds("01").unwrap_err().at, 1);
        assert_eq!(kinds("1.").unwrap_err().msg, "unexpected end of input");
        assert_eq!(kinds("1a").unwrap_err().msg, "invalid number");
        assert_eq!(kinds("\"abc").unwrap_err().msg, "unterminated string");
        assert_eq!(kinds("\"a\nb\"").unwrap_err().msg, "line break in a string");
        assert_eq!(
            kinds("\"\"\"abc\\\"\"\"").unwrap_err().msg,
            "unterminated block string"
        );
        assert_eq!(kinds("..").unwrap_err().msg, "unexpected end of input");
        assert_eq!(kinds(".a").unwrap_err().msg, "expected '...'");
        assert_eq!(kinds("\u{e9}").unwrap_err().at, 0);
        assert!(kinds("\u{feff}{a}").is_ok());
    }
}
