//! The GraphQL parser: definitions, operations, fragments and selection
//! sets, with an explicit stack of open selection sets (no recursion).
//! Values, arguments, directives and types are in `values.rs`.

use rampart_plugin_api::{DecodeError, Emitter, Key, LimitKind, NodeId, Span};

use crate::lexer::{LexError, Lexer, Tok, Token};
use crate::values::VFrame;

const MALFORMED: &str = "graphql.malformed";

/// An open selection set: where its selections go, and whether it has one.
type SelFrame = (NodeId, bool);

/// Parser state for one document.
pub(crate) struct Parser<'i, 'o, 'e> {
    pub(crate) lx: Lexer<'i>,
    pub(crate) out: &'o mut Emitter<'e>,
    pub(crate) declared: bool,
    pub(crate) flagged_escape: bool,
    pub(crate) flagged_utf8: bool,
    /// Reused stack of open list and object values.
    pub(crate) values: Vec<VFrame>,
    /// The `fragment` container, once there is one.
    fragments: Option<NodeId>,
    /// The first `__schema` or `__type` field.
    introspection: Option<NodeId>,
}

impl<'i, 'o, 'e> Parser<'i, 'o, 'e> {
    pub(crate) fn new(input: &'i [u8], declared: bool, out: &'o mut Emitter<'e>) -> Self {
        Parser {
            lx: Lexer::new(input),
            out,
            declared,
            flagged_escape: false,
            flagged_utf8: false,
            values: Vec::new(),
            fragments: None,
            introspection: None,
        }
    }

    /// The error for a defect at `at`: `Malformed` when declared, else
    /// `NotThisFormat`.
    pub(crate) fn fail(&self, at: usize, msg: &'static str) -> DecodeError {
        if self.declared {
            DecodeError::malformed(MALFORMED, msg, at)
        } else {
            DecodeError::NotThisFormat
        }
    }

    fn lex_fail(&self, e: LexError) -> DecodeError {
        self.fail(e.at, e.msg)
    }

    pub(crate) fn next(&mut self) -> Result<Token, DecodeError> {
        let r = self.lx.next();
        r.map_err(|e| self.lex_fail(e))
    }

    pub(crate) fn peek(&mut self) -> Result<Token, DecodeError> {
        let r = self.lx.peek();
        r.map_err(|e| self.lex_fail(e))
    }

    /// True (and the token consumed) when the next token is `kind`.
    pub(crate) fn eat(&mut self, kind: Tok) -> Result<bool, DecodeError> {
        if self.peek()?.kind == kind {
            self.next()?;
            return Ok(true);
        }
        Ok(false)
    }

    /// The error for an unexpected token.
    pub(crate) fn unexpected(&self, t: Token, msg: &'static str) -> DecodeError {
        if t.kind == Tok::Eof {
            self.fail(t.start, "unexpected end of input")
        } else {
            self.fail(t.start, msg)
        }
    }

    /// The next token, which must be of `kind`.
    pub(crate) fn expect(&mut self, kind: Tok, msg: &'static str) -> Result<Token, DecodeError> {
        let t = self.next()?;
        if t.kind != kind {
            return Err(self.unexpected(t, msg));
        }
        Ok(t)
    }

    fn is_word(&self, t: Token, word: &[u8]) -> bool {
        t.kind == Tok::Name && self.lx.text(t) == word
    }

    /// Parses the whole document; reports introspection at the end.
    pub(crate) fn run(mut self) -> Result<(), DecodeError> {
        // Speculatively, an empty document is no GraphQL.
        if !self.declared && self.peek().map(|t| t.kind) == Ok(Tok::Eof) {
            return Err(DecodeError::NotThisFormat);
        }
        let result = self.document();
        if let Some(node) = self.introspection {
            if result.is_ok() || self.declared {
                let msg = "introspection query (__schema or __type)";
                self.out
                    .flag(node, "graphql.introspection", 10, Span::default(), msg);
            }
        }
        result
    }

    fn document(&mut self) -> Result<(), DecodeError> {
        let root = self.out.root();
        loop {
            let t = self.peek()?;
            let text = self.lx.text(t);
            match t.kind {
                Tok::Eof => return Ok(()),
                Tok::Punct(b'{') => {
                    let op = self.out.container(root, Key::Name(b"query"), b"")?;
                    self.selection_set(op)?;
                }
                Tok::Name if matches!(text, b"query" | b"mutation" | b"subscription") => {
                    self.next()?;
                    let op = self.out.container(root, Key::Name(text), b"")?;
                    if let Tok::Name = self.peek()?.kind {
                        let name = self.next()?;
                        self.out.leaf(op, Key::Name(b"@name"), self.lx.text(name))?;
                    }
                    if self.peek()?.kind == Tok::Punct(b'(') {
                        self.variables(op)?;
                    }
                    self.directives(op, 0)?;
                    self.selection_set(op)?;
                }
                Tok::Name if text == b"fragment" => self.fragment(root)?,
                _ => return Err(self.unexpected(t, "expected an operation or a fragment")),
            }
        }
    }

    /// `fragment Name on Type @directives { ... }`
    fn fragment(&mut self, root: NodeId) -> Result<(), DecodeError> {
        self.next()?;
        let name = self.expect(Tok::Name, "expected a fragment name")?;
        if self.is_word(name, b"on") {
            return Err(self.fail(name.start, "a fragment cannot be named 'on'"));
        }
        let on = self.next()?;
        if !self.is_word(on, b"on") {
            return Err(self.unexpected(on, "expected 'on'"));
        }
        let ty = self.expect(Tok::Name, "expected a type name")?;
        let frags = match self.fragments {
            Some(f) => f,
            None => {
                *self
                    .fragments
                    .insert(self.out.container(root, Key::Name(b"fragment"), b"")?)
            }
        };
        let node = self
            .out
            .container(frags, Key::Name(self.lx.text(name)), b"")?;
        self.out.leaf(node, Key::Name(b"@on"), self.lx.text(ty))?;
        self.directives(node, 0)?;
        self.selection_set(node)
    }

    /// Opens one more selection set, within `max_nesting`.
    fn open(&mut self, stack: &mut Vec<SelFrame>, node: NodeId) -> Result<(), DecodeError> {
        if stack.len() >= usize::from(self.out.limits().max_nesting) {
            return Err(DecodeError::Exhausted(LimitKind::Nesting));
        }
        stack.push((node, false));
        Ok(())
    }

    /// A selection set (the next token must be `{`) whose selections go
    /// under `parent`, nested ones included.
    fn selection_set(&mut self, parent: NodeId) -> Result<(), DecodeError> {
        self.expect(Tok::Punct(b'{'), "expected '{'")?;
        let mut stack = Vec::with_capacity(8);
        self.open(&mut stack, parent)?;
        loop {
            self.out.tick()?;
            let t = self.next()?;
            let Some(top) = stack.last_mut() else {
                return Ok(());
            };
            match t.kind {
                Tok::Punct(b'}') if top.1 => {
                    stack.pop();
                    if stack.is_empty() {
                        return Ok(());
                    }
                }
                Tok::Punct(b'}') => return Err(self.fail(t.start, "empty selection set")),
                Tok::Name => {
                    top.1 = true;
                    self.field(&mut stack, t)?;
                }
                Tok::Spread => {
                    top.1 = true;
                    self.spread(&mut stack)?;
                }
                _ => return Err(self.unexpected(t, "expected a field or a fragment")),
            }
        }
    }

    /// `alias: name(args) @directives { ... }`, `first` being the first name.
    fn field(&mut self, stack: &mut Vec<SelFrame>, first: Token) -> Result<(), DecodeError> {
        let (cur, depth) = (stack.last().map_or(self.out.root(), |f| f.0), stack.len());
        let (alias, name) = if self.eat(Tok::Punct(b':'))? {
            (
                Some(first),
                self.expect(Tok::Name, "expected a field name")?,
            )
        } else {
            (None, first)
        };
        let text = self.lx.text(name);
        let node = self.out.leaf(cur, Key::Name(text), b"")?;
        if self.introspection.is_none() && matches!(text, b"__schema" | b"__type") {
            self.introspection = Some(node);
        }
        if let Some(a) = alias {
            self.out.leaf(node, Key::Name(b"@alias"), self.lx.text(a))?;
        }
        if self.peek()?.kind == Tok::Punct(b'(') {
            self.arguments(node, depth)?;
        }
        self.directives(node, depth)?;
        if self.eat(Tok::Punct(b'{'))? {
            self.out.make_container(node);
            self.open(stack, node)?;
        }
        Ok(())
    }

    /// After `...`: a fragment spread or an inline fragment.
    fn spread(&mut self, stack: &mut Vec<SelFrame>) -> Result<(), DecodeError> {
        let (cur, depth) = (stack.last().map_or(self.out.root(), |f| f.0), stack.len());
        let t = self.peek()?;
        if t.kind == Tok::Name && !self.is_word(t, b"on") {
            self.next()?;
            let node = self.out.leaf(cur, Key::Name(b"..."), self.lx.text(t))?;
            return self.directives(node, depth);
        }
        let key = if self.eat(Tok::Name)? {
            let ty = self.expect(Tok::Name, "expected a type name")?;
            self.key(b"... on ", self.lx.text(ty))?
        } else {
            Key::Name(b"...")
        };
        let node = self.out.container(cur, key, b"")?;
        self.directives(node, depth)?;
        self.expect(Tok::Punct(b'{'), "expected '{'")?;
        self.open(stack, node)
    }
}
