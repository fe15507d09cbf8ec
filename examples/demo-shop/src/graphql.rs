//! `/graphql`: a small, hand-written GraphQL executor for the shop's schema.
//!
//! Supported: queries and mutations, variables (with defaults), aliases, arguments, `__typename`.
//! Not supported (answered with an error): fragments, directives, subscriptions, introspection.
//! The lexer and parser are total: every input ends in a result or an error, never a panic, and
//! nesting is limited.
//!
//! ```graphql
//! type Query {
//!   products(search: String, category: String, limit: Int = 10, offset: Int = 0): [Product!]!
//!   product(id: Int!): Product
//!   categories: [String!]!
//!   me: User
//!   orders: [Order!]
//! }
//! type Mutation {
//!   addToCart(productId: Int!, qty: Int = 1): Cart
//!   removeFromCart(productId: Int!): Cart
//! }
//! type Product { id: Int! name: String! description: String! category: String! price: Float!
//!                rating: Float reviewCount: Int! reviews(limit: Int = 20): [Review!]! }
//! type Review { id: Int! rating: Int! text: String! author: String! date: String! }
//! type User { id: Int! username: String! email: String! name: String! bio: String! role: String! }
//! type Cart { items: [CartItem!]! total: Float! itemCount: Int! }
//! type CartItem { productId: Int! name: String! qty: Int! unitPrice: Float! lineTotal: Float! }
//! type Order { id: Int! status: String! total: Float! createdAt: String! items: [OrderItem!]! }
//! type OrderItem { productId: Int! name: String! qty: Int! unitPrice: Float! }
//! ```

use http::StatusCode;
use rusqlite::Connection;
use serde_json::{json, Map, Value as Json};

use crate::db::{self, CartLine, Order, OrderLine, Product, Review, Sort, User};
use crate::web::{self, AppError, AppResult, Params, Resp};
use crate::{shop, App, Ctx};

const MAX_TOKENS: usize = 10_000;
const MAX_DEPTH: usize = 12;
const MAX_FIELDS: usize = 1_000;
/// Upper bound on fields resolved for one request.
const MAX_RESOLVED: usize = 20_000;

// ---------------------------------------------------------------------------------------------
// Errors

#[derive(Debug, Clone)]
pub(crate) struct GqlError {
    message: String,
    pos: Option<(u32, u32)>,
    path: Vec<Json>,
    code: &'static str,
}

impl GqlError {
    fn new(code: &'static str, message: impl Into<String>, pos: Option<(u32, u32)>) -> Self {
        GqlError {
            message: message.into(),
            pos,
            path: Vec::new(),
            code,
        }
    }

    fn syntax(message: impl Into<String>, pos: (u32, u32)) -> Self {
        Self::new(
            "GRAPHQL_PARSE_FAILED",
            format!("Syntax Error: {}", message.into()),
            Some(pos),
        )
    }

    fn validation(message: impl Into<String>, pos: (u32, u32)) -> Self {
        Self::new("GRAPHQL_VALIDATION_FAILED", message, Some(pos))
    }

    fn to_json(&self) -> Json {
        let mut e = json!({ "message": self.message, "extensions": { "code": self.code } });
        if let Some((line, column)) = self.pos {
            e["locations"] = json!([{ "line": line, "column": column }]);
        }
        if !self.path.is_empty() {
            e["path"] = Json::Array(self.path.clone());
        }
        e
    }
}

fn errors_response(status: StatusCode, errors: &[GqlError]) -> Resp {
    web::json(
        status,
        &json!({ "errors": errors.iter().map(GqlError::to_json).collect::<Vec<_>>() }),
    )
}

/// Request-level errors (bad JSON, wrong content type, ...) in GraphQL's error format.
pub(crate) fn error(err: &AppError) -> Resp {
    let code = match err {
        AppError::Unauthorized => "UNAUTHENTICATED",
        AppError::Forbidden => "FORBIDDEN",
        AppError::Internal => "INTERNAL_SERVER_ERROR",
        _ => "BAD_REQUEST",
    };
    errors_response(err.status(), &[GqlError::new(code, err.message(), None)])
}

// ---------------------------------------------------------------------------------------------
// Lexer

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Punct(char),
    Spread,
    Name(String),
    Int(i64),
    Float(f64),
    Str(String),
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    pos: (u32, u32),
}

struct Lexer<'a> {
    chars: std::iter::Peekable<std::str::Chars<'a>>,
    line: u32,
    col: u32,
}

impl Lexer<'_> {
    fn bump(&mut self) -> Option<char> {
        let c = self.chars.next()?;
        if c == '\n' {
            self.line += 1;
            self.col = 1;
        } else {
            self.col += 1;
        }
        Some(c)
    }

    fn peek(&mut self) -> Option<char> {
        self.chars.peek().copied()
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.bump();
            true
        } else {
            false
        }
    }
}

fn lex(src: &str) -> Result<Vec<Token>, GqlError> {
    let mut lx = Lexer {
        chars: src.chars().peekable(),
        line: 1,
        col: 1,
    };
    let mut out = Vec::new();
    loop {
        let pos = (lx.line, lx.col);
        let Some(c) = lx.bump() else { break };
        let tok = match c {
            ' ' | '\t' | '\n' | '\r' | ',' | '\u{feff}' => continue,
            '#' => {
                while let Some(c) = lx.peek() {
                    if c == '\n' || c == '\r' {
                        break;
                    }
                    lx.bump();
                }
                continue;
            }
            '!' | '$' | '&' | '(' | ')' | ':' | '=' | '@' | '[' | ']' | '{' | '}' | '|' => {
                Tok::Punct(c)
            }
            '.' => {
                if lx.eat('.') && lx.eat('.') {
                    Tok::Spread
                } else {
                    return Err(GqlError::syntax("unexpected \".\"", pos));
                }
            }
            '_' | 'a'..='z' | 'A'..='Z' => {
                let mut name = String::from(c);
                while let Some(c) = lx.peek() {
                    if c == '_' || c.is_ascii_alphanumeric() {
                        name.push(c);
                        lx.bump();
                    } else {
                        break;
                    }
                }
                Tok::Name(name)
            }
            '-' | '0'..='9' => lex_number(&mut lx, c, pos)?,
            '"' => lex_string(&mut lx, pos)?,
            other => {
                return Err(GqlError::syntax(
                    format!("unexpected character {other:?}"),
                    pos,
                ))
            }
        };
        out.push(Token { tok, pos });
        if out.len() > MAX_TOKENS {
            return Err(GqlError::syntax("document is too large", pos));
        }
    }
    Ok(out)
}

fn lex_number(lx: &mut Lexer<'_>, first: char, pos: (u32, u32)) -> Result<Tok, GqlError> {
    let mut text = String::from(first);
    let digits = |lx: &mut Lexer<'_>, text: &mut String| {
        let mut n = 0;
        while let Some(c) = lx.peek().filter(char::is_ascii_digit) {
            text.push(c);
            lx.bump();
            n += 1;
        }
        n
    };
    let int_digits = if first == '-' {
        digits(lx, &mut text)
    } else {
        1 + digits(lx, &mut text)
    };
    if int_digits == 0 {
        return Err(GqlError::syntax("expected a digit after \"-\"", pos));
    }
    if text.trim_start_matches('-').len() > 1 && text.trim_start_matches('-').starts_with('0') {
        return Err(GqlError::syntax(
            "invalid number: unexpected leading zero",
            pos,
        ));
    }
    let mut float = false;
    if lx.eat('.') {
        float = true;
        text.push('.');
        if digits(lx, &mut text) == 0 {
            return Err(GqlError::syntax(
                "invalid number: expected a digit after \".\"",
                pos,
            ));
        }
    }
    if let Some(e) = lx.peek().filter(|c| *c == 'e' || *c == 'E') {
        float = true;
        text.push(e);
        lx.bump();
        if let Some(sign) = lx.peek().filter(|c| *c == '+' || *c == '-') {
            text.push(sign);
            lx.bump();
        }
        if digits(lx, &mut text) == 0 {
            return Err(GqlError::syntax(
                "invalid number: expected a digit in the exponent",
                pos,
            ));
        }
    }
    if lx
        .peek()
        .is_some_and(|c| c == '.' || c == '_' || c.is_ascii_alphabetic())
    {
        return Err(GqlError::syntax("invalid number", pos));
    }
    if float {
        text.parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .map(Tok::Float)
            .ok_or_else(|| GqlError::syntax("invalid number", pos))
    } else {
        text.parse::<i64>()
            .map(Tok::Int)
            .map_err(|_| GqlError::syntax("integer is too large", pos))
    }
}

fn lex_string(lx: &mut Lexer<'_>, pos: (u32, u32)) -> Result<Tok, GqlError> {
    let mut s = String::new();
    if lx.eat('"') {
        if !lx.eat('"') {
            return Ok(Tok::Str(s)); // ""
        }
        // Block string: raw until """, with \""" as an escaped delimiter.
        loop {
            match lx.bump() {
                None => return Err(GqlError::syntax("unterminated block string", pos)),
                Some('"') if lx.eat('"') => {
                    if lx.eat('"') {
                        return Ok(Tok::Str(s.trim().to_owned()));
                    }
                    s.push_str("\"\"");
                }
                Some('\\') if lx.peek() == Some('"') => {
                    let mut quotes = 0;
                    while quotes < 3 && lx.eat('"') {
                        quotes += 1;
                    }
                    if quotes < 3 {
                        s.push('\\');
                    }
                    s.push_str(&"\"".repeat(quotes));
                }
                Some(c) => s.push(c),
            }
        }
    }
    loop {
        match lx.bump() {
            None | Some('\n' | '\r') => return Err(GqlError::syntax("unterminated string", pos)),
            Some('"') => return Ok(Tok::Str(s)),
            Some('\\') => {
                let c = match lx.bump() {
                    Some('"') => '"',
                    Some('\\') => '\\',
                    Some('/') => '/',
                    Some('b') => '\u{8}',
                    Some('f') => '\u{c}',
                    Some('n') => '\n',
                    Some('r') => '\r',
                    Some('t') => '\t',
                    Some('u') => {
                        let mut code = 0u32;
                        for _ in 0..4 {
                            let d = lx.bump().and_then(|c| c.to_digit(16));
                            code = code * 16
                                + d.ok_or_else(|| GqlError::syntax("invalid unicode escape", pos))?;
                        }
                        char::from_u32(code)
                            .ok_or_else(|| GqlError::syntax("invalid unicode escape", pos))?
                    }
                    _ => return Err(GqlError::syntax("invalid escape sequence", pos)),
                };
                s.push(c);
            }
            Some(c) => s.push(c),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Parser

#[derive(Debug, Clone, PartialEq)]
enum Value {
    Var(String),
    Int(i64),
    Float(f64),
    Str(String),
    Bool(bool),
    Null,
    Enum(String),
    List(Vec<Value>),
    Object(Vec<(String, Value)>),
}

#[derive(Debug, Clone, PartialEq)]
enum TypeRef {
    Named(String),
    List(Box<TypeRef>),
    NonNull(Box<TypeRef>),
}

impl std::fmt::Display for TypeRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TypeRef::Named(n) => write!(f, "{n}"),
            TypeRef::List(t) => write!(f, "[{t}]"),
            TypeRef::NonNull(t) => write!(f, "{t}!"),
        }
    }
}

#[derive(Debug, Clone)]
struct VarDef {
    name: String,
    ty: TypeRef,
    default: Option<Value>,
    pos: (u32, u32),
}

#[derive(Debug, Clone)]
struct Field {
    alias: Option<String>,
    name: String,
    args: Vec<(String, Value)>,
    selection: Option<Vec<Field>>,
    pos: (u32, u32),
}

impl Field {
    fn key(&self) -> &str {
        self.alias.as_deref().unwrap_or(&self.name)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OpKind {
    Query,
    Mutation,
}

#[derive(Debug, Clone)]
struct Operation {
    kind: OpKind,
    name: Option<String>,
    vars: Vec<VarDef>,
    selection: Vec<Field>,
}

struct Parser {
    toks: Vec<Token>,
    pos: usize,
    fields: usize,
    end: (u32, u32),
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|t| &t.tok)
    }

    fn here(&self) -> (u32, u32) {
        self.toks.get(self.pos).map_or(self.end, |t| t.pos)
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.toks.get(self.pos).cloned();
        if t.is_some() {
            self.pos += 1;
        }
        t
    }

    fn unexpected(&self) -> GqlError {
        let what = match self.peek() {
            None => "<EOF>".to_owned(),
            Some(Tok::Punct(c)) => format!("\"{c}\""),
            Some(Tok::Spread) => "\"...\"".to_owned(),
            Some(Tok::Name(n)) => format!("Name \"{n}\""),
            Some(Tok::Int(i)) => format!("Int \"{i}\""),
            Some(Tok::Float(f)) => format!("Float \"{f}\""),
            Some(Tok::Str(s)) => format!("String \"{s}\""),
        };
        GqlError::syntax(format!("Unexpected {what}."), self.here())
    }

    fn is_punct(&self, c: char) -> bool {
        self.peek() == Some(&Tok::Punct(c))
    }

    fn eat_punct(&mut self, c: char) -> bool {
        if self.is_punct(c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect_punct(&mut self, c: char) -> Result<(), GqlError> {
        if self.eat_punct(c) {
            Ok(())
        } else {
            Err(GqlError::syntax(
                format!("Expected \"{c}\", found {}", self.describe()),
                self.here(),
            ))
        }
    }

    fn describe(&self) -> String {
        match self.peek() {
            None => "<EOF>".to_owned(),
            Some(Tok::Name(n)) => format!("Name \"{n}\""),
            Some(Tok::Punct(c)) => format!("\"{c}\""),
            Some(_) => "a value".to_owned(),
        }
    }

    fn expect_name(&mut self) -> Result<String, GqlError> {
        match self.peek() {
            Some(Tok::Name(_)) => match self.next() {
                Some(Token {
                    tok: Tok::Name(n), ..
                }) => Ok(n),
                _ => Err(self.unexpected()),
            },
            _ => Err(GqlError::syntax(
                format!("Expected Name, found {}", self.describe()),
                self.here(),
            )),
        }
    }

    fn document(&mut self) -> Result<Vec<Operation>, GqlError> {
        let mut ops = Vec::new();
        while self.peek().is_some() {
            ops.push(self.operation()?);
        }
        if ops.is_empty() {
            return Err(GqlError::syntax("Unexpected <EOF>.", self.here()));
        }
        Ok(ops)
    }

    fn operation(&mut self) -> Result<Operation, GqlError> {
        let pos = self.here();
        if self.is_punct('{') {
            let selection = self.selection_set(1)?;
            return Ok(Operation {
                kind: OpKind::Query,
                name: None,
                vars: Vec::new(),
                selection,
            });
        }
        let kind = match self.peek() {
            Some(Tok::Name(n)) if n == "query" => OpKind::Query,
            Some(Tok::Name(n)) if n == "mutation" => OpKind::Mutation,
            Some(Tok::Name(n)) if n == "subscription" => {
                return Err(GqlError::validation(
                    "Subscriptions are not supported.",
                    pos,
                ))
            }
            Some(Tok::Name(n)) if n == "fragment" => {
                return Err(GqlError::validation(
                    "Fragments are not supported by this server.",
                    pos,
                ))
            }
            _ => return Err(self.unexpected()),
        };
        self.pos += 1;
        let name = match self.peek() {
            Some(Tok::Name(_)) => Some(self.expect_name()?),
            _ => None,
        };
        let vars = if self.is_punct('(') {
            self.var_defs()?
        } else {
            Vec::new()
        };
        self.no_directives()?;
        let selection = self.selection_set(1)?;
        Ok(Operation {
            kind,
            name,
            vars,
            selection,
        })
    }

    fn no_directives(&self) -> Result<(), GqlError> {
        if self.is_punct('@') {
            Err(GqlError::validation(
                "Directives are not supported by this server.",
                self.here(),
            ))
        } else {
            Ok(())
        }
    }

    fn var_defs(&mut self) -> Result<Vec<VarDef>, GqlError> {
        self.expect_punct('(')?;
        let mut defs = Vec::new();
        loop {
            let pos = self.here();
            self.expect_punct('$')?;
            let name = self.expect_name()?;
            self.expect_punct(':')?;
            let ty = self.type_ref(0)?;
            let default = if self.eat_punct('=') {
                Some(self.value(true, 0)?)
            } else {
                None
            };
            self.no_directives()?;
            if defs.iter().any(|d: &VarDef| d.name == name) {
                return Err(GqlError::validation(
                    format!("There can be only one variable named \"${name}\"."),
                    pos,
                ));
            }
            defs.push(VarDef {
                name,
                ty,
                default,
                pos,
            });
            if self.eat_punct(')') {
                return Ok(defs);
            }
        }
    }

    fn type_ref(&mut self, depth: usize) -> Result<TypeRef, GqlError> {
        if depth > MAX_DEPTH {
            return Err(GqlError::syntax("type is nested too deeply", self.here()));
        }
        let inner = if self.eat_punct('[') {
            let t = self.type_ref(depth + 1)?;
            self.expect_punct(']')?;
            TypeRef::List(Box::new(t))
        } else {
            TypeRef::Named(self.expect_name()?)
        };
        Ok(if self.eat_punct('!') {
            TypeRef::NonNull(Box::new(inner))
        } else {
            inner
        })
    }

    fn selection_set(&mut self, depth: usize) -> Result<Vec<Field>, GqlError> {
        if depth > MAX_DEPTH {
            return Err(GqlError::validation(
                format!("Query is nested deeper than {MAX_DEPTH} levels."),
                self.here(),
            ));
        }
        self.expect_punct('{')?;
        let mut fields = Vec::new();
        loop {
            if self.peek() == Some(&Tok::Spread) {
                return Err(GqlError::validation(
                    "Fragments are not supported by this server.",
                    self.here(),
                ));
            }
            fields.push(self.field(depth)?);
            if self.eat_punct('}') {
                return Ok(fields);
            }
        }
    }

    fn field(&mut self, depth: usize) -> Result<Field, GqlError> {
        let pos = self.here();
        self.fields += 1;
        if self.fields > MAX_FIELDS {
            return Err(GqlError::validation("Query has too many fields.", pos));
        }
        let mut name = self.expect_name()?;
        let mut alias = None;
        if self.eat_punct(':') {
            alias = Some(name);
            name = self.expect_name()?;
        }
        let mut args = Vec::new();
        if self.eat_punct('(') {
            loop {
                let arg = self.expect_name()?;
                self.expect_punct(':')?;
                let value = self.value(false, 0)?;
                args.push((arg, value));
                if self.eat_punct(')') {
                    break;
                }
            }
        }
        self.no_directives()?;
        let selection = if self.is_punct('{') {
            Some(self.selection_set(depth + 1)?)
        } else {
            None
        };
        Ok(Field {
            alias,
            name,
            args,
            selection,
            pos,
        })
    }

    fn value(&mut self, constant: bool, depth: usize) -> Result<Value, GqlError> {
        if depth > MAX_DEPTH {
            return Err(GqlError::syntax("value is nested too deeply", self.here()));
        }
        let pos = self.here();
        let Some(tok) = self.next() else {
            return Err(GqlError::syntax("Unexpected <EOF>.", pos));
        };
        match tok.tok {
            Tok::Punct('$') if !constant => Ok(Value::Var(self.expect_name()?)),
            Tok::Punct('$') => Err(GqlError::syntax(
                "Unexpected variable in a constant value.",
                pos,
            )),
            Tok::Int(i) => Ok(Value::Int(i)),
            Tok::Float(f) => Ok(Value::Float(f)),
            Tok::Str(s) => Ok(Value::Str(s)),
            Tok::Name(n) => Ok(match n.as_str() {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                "null" => Value::Null,
                _ => Value::Enum(n),
            }),
            Tok::Punct('[') => {
                let mut items = Vec::new();
                while !self.eat_punct(']') {
                    if self.peek().is_none() {
                        return Err(GqlError::syntax("Unexpected <EOF>.", self.here()));
                    }
                    items.push(self.value(constant, depth + 1)?);
                }
                Ok(Value::List(items))
            }
            Tok::Punct('{') => {
                let mut fields = Vec::new();
                while !self.eat_punct('}') {
                    let name = self.expect_name()?;
                    self.expect_punct(':')?;
                    fields.push((name, self.value(constant, depth + 1)?));
                }
                Ok(Value::Object(fields))
            }
            _ => {
                self.pos -= 1;
                Err(self.unexpected())
            }
        }
    }
}

fn parse(src: &str) -> Result<Vec<Operation>, GqlError> {
    let toks = lex(src)?;
    let end = toks.last().map_or((1, 1), |t| (t.pos.0, t.pos.1 + 1));
    Parser {
        toks,
        pos: 0,
        fields: 0,
        end,
    }
    .document()
}

// ---------------------------------------------------------------------------------------------
// Variables

fn literal_to_json(v: &Value, vars: &Map<String, Json>, pos: (u32, u32)) -> Result<Json, GqlError> {
    Ok(match v {
        Value::Var(name) => match vars.get(name) {
            Some(v) => v.clone(),
            None => {
                return Err(GqlError::validation(
                    format!("Variable \"${name}\" is not defined."),
                    pos,
                ))
            }
        },
        Value::Int(i) => json!(i),
        Value::Float(f) => json!(f),
        Value::Str(s) | Value::Enum(s) => json!(s),
        Value::Bool(b) => json!(b),
        Value::Null => Json::Null,
        Value::List(items) => Json::Array(
            items
                .iter()
                .map(|i| literal_to_json(i, vars, pos))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(fields) => {
            let mut m = Map::new();
            for (k, v) in fields {
                m.insert(k.clone(), literal_to_json(v, vars, pos)?);
            }
            Json::Object(m)
        }
    })
}

fn check_type(v: &Json, ty: &TypeRef, depth: usize) -> Result<(), String> {
    if depth > MAX_DEPTH {
        return Err("value is nested too deeply".into());
    }
    match ty {
        TypeRef::NonNull(inner) => {
            if v.is_null() {
                Err(format!(
                    "Expected non-nullable type \"{ty}\" not to be null."
                ))
            } else {
                check_type(v, inner, depth + 1)
            }
        }
        _ if v.is_null() => Ok(()),
        TypeRef::List(inner) => match v {
            Json::Array(items) => items
                .iter()
                .try_for_each(|i| check_type(i, inner, depth + 1)),
            other => check_type(other, inner, depth + 1),
        },
        TypeRef::Named(name) => {
            let ok = match name.as_str() {
                "Int" => v.as_i64().is_some_and(|i| i32::try_from(i).is_ok()),
                "Float" => v.is_number(),
                "String" => v.is_string(),
                "Boolean" => v.is_boolean(),
                "ID" => v.is_string() || v.is_i64(),
                other => return Err(format!("Unknown type \"{other}\".")),
            };
            if ok {
                Ok(())
            } else {
                Err(format!("{name} cannot represent the value {v}"))
            }
        }
    }
}

fn coerce_variables(
    op: &Operation,
    given: &Map<String, Json>,
) -> Result<Map<String, Json>, GqlError> {
    let mut out = Map::new();
    for def in &op.vars {
        let value = match given.get(&def.name) {
            Some(v) => v.clone(),
            None => match &def.default {
                Some(d) => literal_to_json(d, &Map::new(), def.pos)?,
                None if matches!(def.ty, TypeRef::NonNull(_)) => {
                    return Err(GqlError::new(
                        "BAD_USER_INPUT",
                        format!(
                            "Variable \"${}\" of required type \"{}\" was not provided.",
                            def.name, def.ty
                        ),
                        Some(def.pos),
                    ))
                }
                None => continue,
            },
        };
        check_type(&value, &def.ty, 0).map_err(|m| {
            GqlError::new(
                "BAD_USER_INPUT",
                format!("Variable \"${}\" got invalid value: {m}", def.name),
                Some(def.pos),
            )
        })?;
        out.insert(def.name.clone(), value);
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Execution

/// An object value during execution.
#[derive(Debug)]
enum Obj {
    Query,
    Mutation,
    Product(Product),
    Review(Review),
    User(User),
    Cart(Vec<CartLine>),
    CartItem(CartLine),
    Order(Order),
    OrderItem(OrderLine),
}

impl Obj {
    fn type_name(&self) -> &'static str {
        match self {
            Obj::Query => "Query",
            Obj::Mutation => "Mutation",
            Obj::Product(_) => "Product",
            Obj::Review(_) => "Review",
            Obj::User(_) => "User",
            Obj::Cart(_) => "Cart",
            Obj::CartItem(_) => "CartItem",
            Obj::Order(_) => "Order",
            Obj::OrderItem(_) => "OrderItem",
        }
    }
}

/// The result of resolving one field.
enum Resolved {
    Leaf(Json),
    One(Obj),
    Many(Vec<Obj>),
    /// A null caused by an error that is reported next to the data.
    Failed(&'static str, String),
}

struct Exec<'a> {
    conn: &'a mut Connection,
    user: Option<&'a User>,
    vars: &'a Map<String, Json>,
    errors: Vec<GqlError>,
    resolved: usize,
}

/// Validation failures abort the whole request; they are returned as `Err`.
type Fatal = GqlError;

struct Args<'f> {
    field: &'f Field,
    values: Vec<(String, Json)>,
}

impl Args<'_> {
    fn get(&self, name: &str) -> Option<&Json> {
        self.values
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
            .filter(|v| !v.is_null())
    }

    fn int(&self, name: &str) -> Result<Option<i64>, Fatal> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => match v.as_i64().filter(|i| i32::try_from(*i).is_ok()) {
                Some(i) => Ok(Some(i)),
                None => Err(GqlError::validation(
                    format!(
                        "Argument \"{name}\" of field \"{}\" expects an Int, got {v}.",
                        self.field.name
                    ),
                    self.field.pos,
                )),
            },
        }
    }

    fn required_int(&self, name: &str) -> Result<i64, Fatal> {
        self.int(name)?.ok_or_else(|| {
            GqlError::validation(
                format!("Field \"{}\" argument \"{name}\" of type \"Int!\" is required, but it was not provided.", self.field.name),
                self.field.pos,
            )
        })
    }

    fn string(&self, name: &str) -> Result<Option<String>, Fatal> {
        match self.get(name) {
            None => Ok(None),
            Some(Json::String(s)) => Ok(Some(s.clone())),
            Some(v) => Err(GqlError::validation(
                format!(
                    "Argument \"{name}\" of field \"{}\" expects a String, got {v}.",
                    self.field.name
                ),
                self.field.pos,
            )),
        }
    }
}

impl Exec<'_> {
    fn args<'f>(
        &self,
        field: &'f Field,
        allowed: &[&str],
        parent: &str,
    ) -> Result<Args<'f>, Fatal> {
        let mut values = Vec::with_capacity(field.args.len());
        for (name, value) in &field.args {
            if !allowed.contains(&name.as_str()) {
                return Err(GqlError::validation(
                    format!(
                        "Unknown argument \"{name}\" on field \"{parent}.{}\".",
                        field.name
                    ),
                    field.pos,
                ));
            }
            values.push((name.clone(), literal_to_json(value, self.vars, field.pos)?));
        }
        Ok(Args { field, values })
    }

    fn selection(
        &mut self,
        obj: &Obj,
        fields: &[Field],
        path: &mut Vec<Json>,
    ) -> Result<Json, Fatal> {
        let mut out = Map::new();
        for field in fields {
            self.resolved += 1;
            if self.resolved > MAX_RESOLVED {
                return Err(GqlError::new(
                    "GRAPHQL_VALIDATION_FAILED",
                    "Query is too expensive.",
                    Some(field.pos),
                ));
            }
            path.push(json!(field.key()));
            let value = self.field(obj, field, path)?;
            path.pop();
            out.insert(field.key().to_owned(), value);
        }
        Ok(Json::Object(out))
    }

    fn field(&mut self, obj: &Obj, field: &Field, path: &mut Vec<Json>) -> Result<Json, Fatal> {
        let resolved = if field.name == "__typename" {
            self.args(field, &[], obj.type_name())?;
            Resolved::Leaf(json!(obj.type_name()))
        } else if field.name.starts_with("__") {
            return Err(GqlError::validation(
                "GraphQL introspection is not allowed.",
                field.pos,
            ));
        } else {
            self.resolve(obj, field)?
        };
        let type_name = obj.type_name();
        match (resolved, &field.selection) {
            (Resolved::Leaf(v), None) => Ok(v),
            (Resolved::Leaf(_), Some(_)) => Err(GqlError::validation(
                format!(
                    "Field \"{}\" must not have a selection since its type is a scalar.",
                    field.name
                ),
                field.pos,
            )),
            (Resolved::One(_) | Resolved::Many(_), None) => Err(GqlError::validation(
                format!(
                    "Field \"{}\" of type \"{type_name}\" must have a selection of subfields.",
                    field.name
                ),
                field.pos,
            )),
            (Resolved::One(child), Some(sel)) => self.selection(&child, sel, path),
            (Resolved::Many(children), Some(sel)) => {
                let mut items = Vec::with_capacity(children.len());
                for (i, child) in children.iter().enumerate() {
                    path.push(json!(i));
                    items.push(self.selection(child, sel, path)?);
                    path.pop();
                }
                Ok(Json::Array(items))
            }
            (Resolved::Failed(code, message), _) => {
                let mut e = GqlError::new(code, message, Some(field.pos));
                e.path = path.clone();
                self.errors.push(e);
                Ok(Json::Null)
            }
        }
    }

    fn unknown(&self, obj: &Obj, field: &Field) -> Fatal {
        GqlError::validation(
            format!(
                "Cannot query field \"{}\" on type \"{}\".",
                field.name,
                obj.type_name()
            ),
            field.pos,
        )
    }

    fn resolve(&mut self, obj: &Obj, field: &Field) -> Result<Resolved, Fatal> {
        let f = field.name.as_str();
        let leaf = |v: Json| Ok(Resolved::Leaf(v));
        match obj {
            Obj::Query => self.query_field(field),
            Obj::Mutation => self.mutation_field(field),
            Obj::Product(p) => match f {
                "id" => leaf(json!(p.id)),
                "name" => leaf(json!(p.name)),
                "description" => leaf(json!(p.description)),
                "category" => leaf(json!(p.category)),
                "price" => leaf(json!(db::price_number(p.price_cents))),
                "rating" => leaf(json!(p.rating)),
                "reviewCount" => leaf(json!(p.review_count)),
                "reviews" => {
                    let args = self.args(field, &["limit"], "Product")?;
                    let limit = args.int("limit")?.unwrap_or(20).clamp(0, 100);
                    let reviews = db::reviews(self.conn, p.id).map_err(internal)?;
                    let take = usize::try_from(limit).unwrap_or(0);
                    Ok(Resolved::Many(
                        reviews.into_iter().take(take).map(Obj::Review).collect(),
                    ))
                }
                _ => Err(self.unknown(obj, field)),
            },
            Obj::Review(r) => match f {
                "id" => leaf(json!(r.id)),
                "rating" => leaf(json!(r.rating)),
                "text" => leaf(json!(r.text)),
                "author" => leaf(json!(r.username)),
                "date" => leaf(json!(r.created)),
                _ => Err(self.unknown(obj, field)),
            },
            Obj::User(u) => match f {
                "id" => leaf(json!(u.id)),
                "username" => leaf(json!(u.username)),
                "email" => leaf(json!(u.email)),
                "name" => leaf(json!(u.name)),
                "bio" => leaf(json!(u.bio)),
                "role" => leaf(json!(u.role)),
                _ => Err(self.unknown(obj, field)),
            },
            Obj::Cart(lines) => match f {
                "items" => Ok(Resolved::Many(
                    lines.iter().cloned().map(Obj::CartItem).collect(),
                )),
                "total" => leaf(json!(db::price_number(
                    lines.iter().map(CartLine::line_total).sum()
                ))),
                "itemCount" => leaf(json!(lines.iter().map(|l| l.qty).sum::<i64>())),
                _ => Err(self.unknown(obj, field)),
            },
            Obj::CartItem(l) => match f {
                "productId" => leaf(json!(l.product_id)),
                "name" => leaf(json!(l.name)),
                "qty" => leaf(json!(l.qty)),
                "unitPrice" => leaf(json!(db::price_number(l.unit_price_cents))),
                "lineTotal" => leaf(json!(db::price_number(l.line_total()))),
                _ => Err(self.unknown(obj, field)),
            },
            Obj::Order(o) => match f {
                "id" => leaf(json!(o.id)),
                "status" => leaf(json!(o.status)),
                "total" => leaf(json!(db::price_number(o.total_cents))),
                "createdAt" => leaf(json!(o.created)),
                "items" => Ok(Resolved::Many(
                    o.lines.iter().cloned().map(Obj::OrderItem).collect(),
                )),
                _ => Err(self.unknown(obj, field)),
            },
            Obj::OrderItem(l) => match f {
                "productId" => leaf(json!(l.product_id)),
                "name" => leaf(json!(l.name)),
                "qty" => leaf(json!(l.qty)),
                "unitPrice" => leaf(json!(db::price_number(l.unit_price_cents))),
                _ => Err(self.unknown(obj, field)),
            },
        }
    }

    fn query_field(&mut self, field: &Field) -> Result<Resolved, Fatal> {
        match field.name.as_str() {
            "products" => {
                let args = self.args(field, &["search", "category", "limit", "offset"], "Query")?;
                let search = args.string("search")?.unwrap_or_default();
                let category = args.string("category")?.unwrap_or_default();
                let limit = args.int("limit")?.unwrap_or(10);
                let offset = args.int("offset")?.unwrap_or(0);
                if !(0..=50).contains(&limit) || offset < 0 || search.chars().count() > 200 {
                    return Ok(Resolved::Failed(
                        "BAD_USER_INPUT",
                        "limit must be between 0 and 50, offset at least 0, search at most 200 characters".into(),
                    ));
                }
                let (found, _) = db::search_products(
                    self.conn,
                    &search,
                    &category,
                    Sort::Relevance,
                    limit,
                    offset,
                )
                .map_err(internal)?;
                Ok(Resolved::Many(
                    found.into_iter().map(Obj::Product).collect(),
                ))
            }
            "product" => {
                let args = self.args(field, &["id"], "Query")?;
                let id = args.required_int("id")?;
                Ok(match db::product(self.conn, id).map_err(internal)? {
                    Some(p) => Resolved::One(Obj::Product(p)),
                    None => Resolved::Leaf(Json::Null),
                })
            }
            "categories" => {
                self.args(field, &[], "Query")?;
                Ok(Resolved::Leaf(json!(
                    db::categories(self.conn).map_err(internal)?
                )))
            }
            "me" => {
                self.args(field, &[], "Query")?;
                Ok(match self.user {
                    Some(u) => Resolved::One(Obj::User(u.clone())),
                    None => Resolved::Failed("UNAUTHENTICATED", "You must be logged in.".into()),
                })
            }
            "orders" => {
                self.args(field, &[], "Query")?;
                Ok(match self.user {
                    Some(u) => Resolved::Many(
                        db::orders_of(self.conn, u.id)
                            .map_err(internal)?
                            .into_iter()
                            .map(Obj::Order)
                            .collect(),
                    ),
                    None => Resolved::Failed("UNAUTHENTICATED", "You must be logged in.".into()),
                })
            }
            _ => Err(self.unknown(&Obj::Query, field)),
        }
    }

    fn mutation_field(&mut self, field: &Field) -> Result<Resolved, Fatal> {
        let (args, remove) = match field.name.as_str() {
            "addToCart" => (self.args(field, &["productId", "qty"], "Mutation")?, false),
            "removeFromCart" => (self.args(field, &["productId"], "Mutation")?, true),
            _ => return Err(self.unknown(&Obj::Mutation, field)),
        };
        let product_id = args.required_int("productId")?;
        let qty = if remove {
            0
        } else {
            args.int("qty")?.unwrap_or(1)
        };
        let Some(user) = self.user else {
            return Ok(Resolved::Failed(
                "UNAUTHENTICATED",
                "You must be logged in.".into(),
            ));
        };
        let result = if remove {
            db::remove_from_cart(self.conn, user.id, product_id).map_err(AppError::from)
        } else {
            shop::add_to_cart(self.conn, user.id, product_id, qty)
        };
        match result {
            Ok(()) => Ok(Resolved::One(Obj::Cart(
                db::cart(self.conn, user.id).map_err(internal)?,
            ))),
            Err(AppError::NotFound) => Ok(Resolved::Failed(
                "NOT_FOUND",
                format!("No product with id {product_id}."),
            )),
            Err(e @ AppError::Invalid(_)) => Ok(Resolved::Failed("BAD_USER_INPUT", e.message())),
            Err(_) => Err(GqlError::new(
                "INTERNAL_SERVER_ERROR",
                "Internal server error.",
                Some(field.pos),
            )),
        }
    }
}

fn internal(e: rusqlite::Error) -> Fatal {
    tracing::error!(error = %e, "database error in GraphQL");
    GqlError::new("INTERNAL_SERVER_ERROR", "Internal server error.", None)
}

/// Executes an operation. `Ok` carries data and field errors; `Err` a request-level failure.
fn execute(
    conn: &mut Connection,
    user: Option<&User>,
    op: &Operation,
    vars: &Map<String, Json>,
) -> Result<(Json, Vec<GqlError>), Fatal> {
    let mut exec = Exec {
        conn,
        user,
        vars,
        errors: Vec::new(),
        resolved: 0,
    };
    let root = match op.kind {
        OpKind::Query => Obj::Query,
        OpKind::Mutation => Obj::Mutation,
    };
    let data = exec.selection(&root, &op.selection, &mut Vec::new())?;
    Ok((data, exec.errors))
}

// ---------------------------------------------------------------------------------------------
// HTTP

#[derive(Debug)]
struct GqlRequest {
    query: String,
    variables: Map<String, Json>,
    operation_name: Option<String>,
}

fn variables(v: Option<Json>) -> AppResult<Map<String, Json>> {
    match v {
        None | Some(Json::Null) => Ok(Map::new()),
        Some(Json::Object(m)) => Ok(m),
        Some(_) => Err(AppError::bad("variables must be a JSON object")),
    }
}

fn read_request(ctx: &Ctx) -> AppResult<GqlRequest> {
    if ctx.method == http::Method::POST {
        match web::media_type(&ctx.headers).as_deref() {
            Some("application/json") => {
                let body: Json = serde_json::from_slice(&ctx.body)
                    .map_err(|e| AppError::bad(format!("invalid JSON body: {e}")))?;
                let Json::Object(mut m) = body else {
                    return Err(AppError::bad("the body must be a JSON object"));
                };
                let query = match m.remove("query") {
                    Some(Json::String(q)) => q,
                    _ => return Err(AppError::bad("the body must have a \"query\" string")),
                };
                let operation_name = match m.remove("operationName") {
                    None | Some(Json::Null) => None,
                    Some(Json::String(s)) => Some(s),
                    Some(_) => return Err(AppError::bad("operationName must be a string")),
                };
                Ok(GqlRequest {
                    query,
                    variables: variables(m.remove("variables"))?,
                    operation_name,
                })
            }
            Some("application/graphql") => {
                let query = std::str::from_utf8(&ctx.body)
                    .map_err(|_| AppError::bad("the query must be UTF-8"))?;
                Ok(GqlRequest {
                    query: query.to_owned(),
                    variables: Map::new(),
                    operation_name: None,
                })
            }
            _ => Err(AppError::UnsupportedMediaType("application/json")),
        }
    } else {
        let params: Params = ctx.query()?;
        let query = params
            .get("query")
            .ok_or_else(|| AppError::bad("missing query parameter"))?;
        let vars = match params.get("variables").filter(|v| !v.is_empty()) {
            Some(v) => Some(
                serde_json::from_str::<Json>(v)
                    .map_err(|e| AppError::bad(format!("invalid variables: {e}")))?,
            ),
            None => None,
        };
        Ok(GqlRequest {
            query: query.to_owned(),
            variables: variables(vars)?,
            operation_name: params
                .get("operationName")
                .filter(|s| !s.is_empty())
                .map(str::to_owned),
        })
    }
}

pub(crate) async fn handle(app: &App, ctx: &Ctx) -> AppResult<Resp> {
    let req = read_request(ctx)?;
    let ops = match parse(&req.query) {
        Ok(ops) => ops,
        Err(e) => return Ok(errors_response(StatusCode::BAD_REQUEST, &[e])),
    };
    let op = match &req.operation_name {
        Some(name) => ops
            .into_iter()
            .find(|o| o.name.as_deref() == Some(name.as_str())),
        None if ops.len() == 1 => ops.into_iter().next(),
        None => {
            let e = GqlError::new(
                "BAD_USER_INPUT",
                "Must provide operation name if query contains multiple operations.",
                None,
            );
            return Ok(errors_response(StatusCode::BAD_REQUEST, &[e]));
        }
    };
    let Some(op) = op else {
        let e = GqlError::new(
            "BAD_USER_INPUT",
            "Unknown operation named in operationName.",
            None,
        );
        return Ok(errors_response(StatusCode::BAD_REQUEST, &[e]));
    };
    if op.kind == OpKind::Mutation && ctx.method != http::Method::POST {
        let e = GqlError::new("BAD_REQUEST", "Mutations can only be sent with POST.", None);
        let resp = errors_response(StatusCode::METHOD_NOT_ALLOWED, &[e]);
        return Ok(web::with_header(resp, http::header::ALLOW, "POST"));
    }
    let vars = match coerce_variables(&op, &req.variables) {
        Ok(v) => v,
        Err(e) => return Ok(errors_response(StatusCode::BAD_REQUEST, &[e])),
    };
    let user = ctx.user.clone();
    let result = app
        .db(move |c| Ok(execute(c, user.as_ref(), &op, &vars)))
        .await?;
    Ok(match result {
        Ok((data, errors)) => {
            let mut body = json!({ "data": data });
            if !errors.is_empty() {
                body["errors"] = errors.iter().map(GqlError::to_json).collect();
            }
            web::json(StatusCode::OK, &body)
        }
        Err(e) if e.code == "INTERNAL_SERVER_ERROR" => {
            errors_response(StatusCode::INTERNAL_SERVER_ERROR, &[e])
        }
        Err(e) => errors_response(StatusCode::BAD_REQUEST, &[e]),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(
        query: &str,
        vars: Json,
        user: Option<&User>,
    ) -> Result<(Json, Vec<GqlError>), GqlError> {
        let mut conn = Connection::open_in_memory().unwrap();
        db::seed(&conn).unwrap();
        let ops = parse(query)?;
        let op = ops.into_iter().next().unwrap();
        let vars = coerce_variables(&op, vars.as_object().unwrap())?;
        execute(&mut conn, user, &op, &vars)
    }

    #[test]
    fn queries() {
        let (data, errors) = run(
            r#"{ products(search: "keyboard", limit: 5) { id name price category } }"#,
            json!({}),
            None,
        )
        .unwrap();
        assert!(errors.is_empty());
        assert_eq!(data["products"][0]["name"], "Mechanical Keyboard");
        assert_eq!(data["products"][0]["price"], 89.0);

        let (data, _) = run(
            "{ product(id: 1) { id name reviews { rating text } } }",
            json!({}),
            None,
        )
        .unwrap();
        assert_eq!(data["product"]["reviews"].as_array().unwrap().len(), 2);

        let (data, _) = run(
            "query Q($id: Int!) { p: product(id: $id) { name __typename } }",
            json!({"id": 3}),
            None,
        )
        .unwrap();
        assert_eq!(data["p"]["name"], "Night Sky Atlas");
        assert_eq!(data["p"]["__typename"], "Product");

        let (data, errors) = run("{ me { username email } }", json!({}), None).unwrap();
        assert!(data["me"].is_null());
        assert_eq!(errors[0].code, "UNAUTHENTICATED");
        assert_eq!(errors[0].path, vec![json!("me")]);
    }

    #[test]
    fn validation_errors() {
        assert!(run("{ product(id: 1) { nope } }", json!({}), None)
            .unwrap_err()
            .message
            .contains("Cannot query field"));
        assert!(run("{ product(id: 1) }", json!({}), None).is_err());
        assert!(run("{ product(id: 1) { name { x } } }", json!({}), None).is_err());
        assert!(run("{ product(id: \"1\") { name } }", json!({}), None).is_err());
        assert!(run("{ product(ident: 1) { name } }", json!({}), None).is_err());
        assert!(run("{ product { name } }", json!({}), None).is_err());
        assert!(run(
            "query Q($id: Int!) { product(id: $id) { name } }",
            json!({}),
            None
        )
        .is_err());
        assert!(run(
            "query Q($id: Int!) { product(id: $id) { name } }",
            json!({"id": "x"}),
            None
        )
        .is_err());
        assert!(run("{ product(id: $undeclared) { name } }", json!({}), None).is_err());
        assert!(run("{ __schema { types { name } } }", json!({}), None).is_err());
    }

    #[test]
    fn parser_is_total() {
        let samples = [
            "",
            "{",
            "}",
            "{}",
            "{ a",
            "{ a(",
            "{ a(b:",
            "{ a(b: [",
            "{ a(b: {",
            "{ a(b: $",
            "query (",
            "query Q($",
            "query Q($a:",
            "query Q($a: [",
            "query Q($a: Int = $b) { a }",
            "{ ...F }",
            "fragment F on Q { a }",
            "subscription { a }",
            "{ a @skip(if: true) }",
            "\"unterminated",
            "\"\"\"block",
            "{ a(b: 1.) }",
            "{ a(b: -) }",
            "{ a(b: 0012) }",
            "{ a(b: 99999999999999999999) }",
            "{ a(b: \"\\u12\") }",
            "{ a(b: \"\\uD800\") }",
            "{ a(b: 1e) }",
            "..",
            "~",
            "{ a(b: 1.5e3, c: -0, d: \"\"\"x\\\"\"\"y\"\"\") }",
        ];
        for s in samples {
            let _ = parse(s);
        }
        let deep = format!("{}{}", "{ a ".repeat(200), "}".repeat(200));
        assert!(parse(&deep).is_err());
        let deep_value = format!("{{ a(b: {}1{}) }}", "[".repeat(200), "]".repeat(200));
        assert!(parse(&deep_value).is_err());
        // Every prefix and every single-byte mutation of a valid query.
        let q = r#"query Q($id: Int! = 3, $s: [String]) { p: product(id: $id) { name reviews(limit: 2) { rating } } products(search: "a\"b", limit: 5) { id } }"#;
        assert!(parse(q).is_ok());
        for i in 0..q.len() {
            if q.is_char_boundary(i) {
                let _ = parse(&q[..i]);
            }
            for b in [b'{', b'}', b'(', b'"', b'$', b'!', b'\\', b'0'] {
                let mut bytes = q.as_bytes().to_vec();
                bytes[i] = b;
                if let Ok(s) = String::from_utf8(bytes) {
                    let _ = parse(&s);
                }
            }
        }
    }

    #[test]
    fn mutation_adds_to_cart() {
        let user = User {
            id: 1,
            username: "alice".into(),
            email: String::new(),
            name: String::new(),
            bio: String::new(),
            role: "customer".into(),
        };
        let (data, errors) = run(
            "mutation { addToCart(productId: 1, qty: 2) { items { productId qty } total } }",
            json!({}),
            Some(&user),
        )
        .unwrap();
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(
            data["addToCart"]["items"][0],
            json!({"productId": 1, "qty": 2})
        );
        let (data, errors) = run(
            "mutation { addToCart(productId: 999) { total } }",
            json!({}),
            Some(&user),
        )
        .unwrap();
        assert!(data["addToCart"].is_null());
        assert_eq!(errors[0].code, "NOT_FOUND");
    }
}
