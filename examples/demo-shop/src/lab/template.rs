//! A tiny template language for the lab's SSTI pair.
//!
//! Text is copied as is; `{{ expr }}` tags are evaluated. Expressions: integer literals (i64),
//! string literals in single or double quotes (a backslash takes the next character literally),
//! variables, `+ - * / %` with the usual precedence, unary `-` and `+`, and parentheses.
//! `int + int` adds, `str + str` concatenates, `str * int` (or `int * str`) repeats, `/` and `%`
//! are integer division and remainder (truncating). Everything is checked: overflow, division by
//! zero, type mismatches, unknown variables and every limit below give an error text, never a panic.
//!
//! The engine has no side effects, no loops, no attribute access and no function calls: the worst
//! a template can do is compute a value within the limits.

/// Longest template source accepted.
pub(crate) const MAX_SOURCE: usize = 8 * 1024;
/// Longest expression inside one tag.
pub(crate) const MAX_EXPR: usize = 256;
/// Deepest nesting of parentheses and unary operators.
pub(crate) const MAX_DEPTH: usize = 32;
/// Most tags in one template.
pub(crate) const MAX_TAGS: usize = 64;
/// Longest string value an expression may produce.
pub(crate) const MAX_STR: usize = 4 * 1024;
/// Longest rendered output.
pub(crate) const MAX_OUTPUT: usize = 16 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Value {
    Int(i64),
    Str(String),
}

impl Value {
    fn kind(&self) -> &'static str {
        match self {
            Value::Int(_) => "int",
            Value::Str(_) => "str",
        }
    }

    fn into_text(self) -> String {
        match self {
            Value::Int(n) => n.to_string(),
            Value::Str(s) => s,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Int(i64),
    Str(String),
    Ident(String),
    Op(char),
}

fn tokenize(expr: &str) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = expr.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_digit() {
            let start = i;
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
            let digits: String = chars[start..i].iter().collect();
            let n = digits
                .parse::<i64>()
                .map_err(|_| format!("integer literal {digits} is too large"))?;
            tokens.push(Token::Int(n));
        } else if c == '\'' || c == '"' {
            let quote = c;
            let mut s = String::new();
            i += 1;
            loop {
                match chars.get(i) {
                    None => return Err("unterminated string literal".into()),
                    Some(&ch) if ch == quote => {
                        i += 1;
                        break;
                    }
                    Some('\\') => match chars.get(i + 1) {
                        Some(&next) => {
                            s.push(next);
                            i += 2;
                        }
                        None => return Err("unterminated string literal".into()),
                    },
                    Some(&ch) => {
                        s.push(ch);
                        i += 1;
                    }
                }
            }
            tokens.push(Token::Str(s));
        } else if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            tokens.push(Token::Ident(chars[start..i].iter().collect()));
        } else if matches!(c, '+' | '-' | '*' | '/' | '%' | '(' | ')') {
            tokens.push(Token::Op(c));
            i += 1;
        } else {
            return Err(format!("unexpected character {c:?} in expression"));
        }
    }
    Ok(tokens)
}

struct Parser<'a> {
    tokens: Vec<Token>,
    pos: usize,
    depth: usize,
    vars: &'a [(&'a str, &'a str)],
}

impl Parser<'_> {
    fn peek_op(&self) -> Option<char> {
        match self.tokens.get(self.pos) {
            Some(Token::Op(c)) => Some(*c),
            _ => None,
        }
    }

    fn enter(&mut self) -> Result<(), String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            Err(format!("expression nested deeper than {MAX_DEPTH} levels"))
        } else {
            Ok(())
        }
    }

    fn expr(&mut self) -> Result<Value, String> {
        let mut left = self.term()?;
        while let Some(op @ ('+' | '-')) = self.peek_op() {
            self.pos += 1;
            let right = self.term()?;
            left = binary(op, left, right)?;
        }
        Ok(left)
    }

    fn term(&mut self) -> Result<Value, String> {
        let mut left = self.unary()?;
        while let Some(op @ ('*' | '/' | '%')) = self.peek_op() {
            self.pos += 1;
            let right = self.unary()?;
            left = binary(op, left, right)?;
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Value, String> {
        match self.peek_op() {
            Some(op @ ('-' | '+')) => {
                self.pos += 1;
                self.enter()?;
                let v = self.unary()?;
                self.depth -= 1;
                match (op, v) {
                    ('-', Value::Int(n)) => n
                        .checked_neg()
                        .map(Value::Int)
                        .ok_or_else(|| "integer overflow".to_owned()),
                    (_, Value::Int(n)) => Ok(Value::Int(n)),
                    (_, other) => Err(format!("bad operand type for unary {op}: {}", other.kind())),
                }
            }
            _ => self.primary(),
        }
    }

    fn primary(&mut self) -> Result<Value, String> {
        let token = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        match token {
            Some(Token::Int(n)) => Ok(Value::Int(n)),
            Some(Token::Str(s)) => {
                if s.len() > MAX_STR {
                    return Err(format!("string longer than {MAX_STR} bytes"));
                }
                Ok(Value::Str(s))
            }
            Some(Token::Ident(name)) => self
                .vars
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| Value::Str((*v).to_owned()))
                .ok_or_else(|| format!("undefined variable {name:?}")),
            Some(Token::Op('(')) => {
                self.enter()?;
                let v = self.expr()?;
                self.depth -= 1;
                if self.peek_op() == Some(')') {
                    self.pos += 1;
                    Ok(v)
                } else {
                    Err("expected ')'".into())
                }
            }
            Some(Token::Op(c)) => Err(format!("unexpected {c:?}")),
            None => Err("unexpected end of expression".into()),
        }
    }
}

fn repeat(s: &str, n: i64) -> Result<Value, String> {
    let n = usize::try_from(n).unwrap_or(0);
    match s.len().checked_mul(n) {
        Some(len) if len <= MAX_STR => Ok(Value::Str(s.repeat(n))),
        _ => Err(format!("string longer than {MAX_STR} bytes")),
    }
}

fn binary(op: char, left: Value, right: Value) -> Result<Value, String> {
    let overflow = || "integer overflow".to_owned();
    match (op, left, right) {
        ('+', Value::Int(a), Value::Int(b)) => {
            a.checked_add(b).map(Value::Int).ok_or_else(overflow)
        }
        ('-', Value::Int(a), Value::Int(b)) => {
            a.checked_sub(b).map(Value::Int).ok_or_else(overflow)
        }
        ('*', Value::Int(a), Value::Int(b)) => {
            a.checked_mul(b).map(Value::Int).ok_or_else(overflow)
        }
        ('/' | '%', Value::Int(_), Value::Int(0)) => Err("division by zero".into()),
        ('/', Value::Int(a), Value::Int(b)) => {
            a.checked_div(b).map(Value::Int).ok_or_else(overflow)
        }
        ('%', Value::Int(a), Value::Int(b)) => {
            a.checked_rem(b).map(Value::Int).ok_or_else(overflow)
        }
        ('+', Value::Str(a), Value::Str(b)) => {
            if a.len() + b.len() > MAX_STR {
                Err(format!("string longer than {MAX_STR} bytes"))
            } else {
                Ok(Value::Str(a + &b))
            }
        }
        ('*', Value::Str(s), Value::Int(n)) | ('*', Value::Int(n), Value::Str(s)) => repeat(&s, n),
        (op, a, b) => Err(format!(
            "unsupported operand types for {op}: {} and {}",
            a.kind(),
            b.kind()
        )),
    }
}

/// Evaluates one expression with the given variables (all strings).
fn eval(expr: &str, vars: &[(&str, &str)]) -> Result<String, String> {
    if expr.len() > MAX_EXPR {
        return Err(format!("expression longer than {MAX_EXPR} bytes"));
    }
    let tokens = tokenize(expr)?;
    if tokens.is_empty() {
        return Err("empty expression".into());
    }
    let mut parser = Parser {
        tokens,
        pos: 0,
        depth: 0,
        vars,
    };
    let value = parser.expr()?;
    if parser.pos < parser.tokens.len() {
        return Err("unexpected input after expression".into());
    }
    Ok(value.into_text())
}

/// Renders `source`: text is copied, each `{{ expr }}` is replaced by its value. Errors are
/// human-readable texts (as a template engine would report them).
pub(crate) fn render(source: &str, vars: &[(&str, &str)]) -> Result<String, String> {
    if source.len() > MAX_SOURCE {
        return Err(format!("template longer than {MAX_SOURCE} bytes"));
    }
    let mut out = String::new();
    let mut rest = source;
    let mut tags = 0;
    while let Some(open) = rest.find("{{") {
        out.push_str(&rest[..open]);
        let after = &rest[open + 2..];
        let Some(close) = after.find("}}") else {
            return Err("unclosed tag: expected '}}'".into());
        };
        tags += 1;
        if tags > MAX_TAGS {
            return Err(format!("more than {MAX_TAGS} tags"));
        }
        let value = eval(&after[..close], vars)?;
        out.push_str(&value);
        if out.len() > MAX_OUTPUT {
            return Err(format!("output longer than {MAX_OUTPUT} bytes"));
        }
        rest = &after[close + 2..];
    }
    out.push_str(rest);
    if out.len() > MAX_OUTPUT {
        return Err(format!("output longer than {MAX_OUTPUT} bytes"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const VARS: &[(&str, &str)] = &[("user", "alice"), ("shop", "Rampart Demo Shop")];

    fn r(s: &str) -> Result<String, String> {
        render(s, VARS)
    }

    #[test]
    fn arithmetic_and_precedence() {
        assert_eq!(r("{{7*7}}").unwrap(), "49");
        assert_eq!(r("a {{ 1 + 2 * 3 }} b").unwrap(), "a 7 b");
        assert_eq!(r("{{ (1 + 2) * 3 }}").unwrap(), "9");
        assert_eq!(
            r("{{ 7 / 2 }} {{ -7 % 3 }} {{ 10 - 4 - 3 }}").unwrap(),
            "3 -1 3"
        );
        assert_eq!(r("{{ --5 }} {{ -(2 * 3) }} {{ +4 }}").unwrap(), "5 -6 4");
    }

    #[test]
    fn strings_and_variables() {
        assert_eq!(
            r("Hi {{ user }} at {{ shop }}").unwrap(),
            "Hi alice at Rampart Demo Shop"
        );
        assert_eq!(r("{{ 7 * '7' }}").unwrap(), "7777777");
        assert_eq!(r(r#"{{ "a\"b" + 'c' }}"#).unwrap(), "a\"bc");
        assert_eq!(r("{{ 'x' * -3 }}").unwrap(), "");
        assert_eq!(r("no tags }} here").unwrap(), "no tags }} here");
    }

    #[test]
    fn errors_are_text_not_panics() {
        for (src, needle) in [
            ("{{ 9223372036854775807 + 1 }}", "overflow"),
            ("{{ -9223372036854775807 - 2 }}", "overflow"),
            ("{{ 3037000500 * 3037000500 }}", "overflow"),
            ("{{ (0 - 9223372036854775807 - 1) / -1 }}", "overflow"),
            ("{{ (0 - 9223372036854775807 - 1) % -1 }}", "overflow"),
            ("{{ -(0 - 9223372036854775807 - 1) }}", "overflow"),
            ("{{ 99999999999999999999 }}", "too large"),
            ("{{ 1 / 0 }}", "division by zero"),
            ("{{ 1 % 0 }}", "division by zero"),
            ("{{ 1 + 'a' }}", "unsupported operand"),
            ("{{ -'a' }}", "unary"),
            ("{{ nope }}", "undefined variable"),
            ("{{ 1 +", "unclosed tag"),
            ("{{ }}", "empty expression"),
            ("{{ (1 }}", "expected ')'"),
            ("{{ 1 2 }}", "unexpected input"),
            ("{{ 'abc }}", "unterminated"),
            ("{{ a.b }}", "unexpected character"),
            ("{{ 'x' * 5000 }}", "string longer"),
            ("{{ 'x' * 9223372036854775807 }}", "string longer"),
        ] {
            let err = r(src).unwrap_err();
            assert!(err.contains(needle), "{src}: {err}");
        }
    }

    #[test]
    fn limits() {
        let deep = format!("{{{{ {}1{} }}}}", "(".repeat(40), ")".repeat(40));
        assert!(r(&deep).unwrap_err().contains("nested"));
        let negs = format!("{{{{ {}1 }}}}", "-".repeat(100));
        assert!(r(&negs).unwrap_err().contains("nested"));
        let ok = format!("{{{{ {}1{} }}}}", "(".repeat(20), ")".repeat(20));
        assert_eq!(r(&ok).unwrap(), "1");
        let long = format!("{{{{ {} }}}}", "1+".repeat(200) + "1");
        assert!(r(&long).unwrap_err().contains("expression longer"));
        let many = "{{1}}".repeat(MAX_TAGS + 1);
        assert!(r(&many).unwrap_err().contains("tags"));
        let big = "x".repeat(MAX_SOURCE + 1);
        assert!(r(&big).unwrap_err().contains("template longer"));
        let wide = "{{ 'x' * 4000 }}".repeat(5);
        assert!(r(&wide).unwrap_err().contains("output longer"));
    }
}
