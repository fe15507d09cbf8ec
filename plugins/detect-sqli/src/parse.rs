//! A lenient recursive-descent reader of SQL token streams.
//!
//! It does not build a tree: it checks that a run of tokens has the shape
//! of SQL (expressions, SELECT statements, the other statements an
//! injection stacks) and records evidence ([`Ev`]) about what it read:
//! a UNION SELECT, a tautology after a breakout, a call of `sleep`, a
//! stacked `DROP TABLE` ... Every construct is scored by how unlikely it
//! is in text that is not SQL.
//!
//! Two passes per token stream:
//!
//! - the **anchored** pass reads the whole stream as the rest of a WHERE
//!   clause after the application's `col = ` (and, in a quote context,
//!   after the application's opening quote): an expression continuing the
//!   breakout operand, closing parentheses the application opened, clauses
//!   (UNION, ORDER BY, HAVING, INTO OUTFILE ...), stacked statements, then
//!   the end of the value or a comment. Only if it reaches the end do the
//!   weak shapes count (tautologies, ORDER BY probes, `admin'--`);
//! - the **anchor scan** reads locally from the tokens that start strong
//!   constructs (UNION, `(SELECT`, `;`, dangerous functions, WAITFOR,
//!   INTO OUTFILE, EXEC, DECLARE), wherever they are.
//!
//! Work is capped: at most [`MAX_DEPTH`] nested constructs and a step
//! budget linear in the number of tokens.

use crate::lex::{self, Op, Tok, F_CLOSED, F_COMMENT, F_EXEC, F_MIXED, F_QUOTED, F_SPACE, K};
use crate::words::{self, Fc, Kw, LIT, RES, SCHEMA, STMT, TYPE};

/// Deepest nesting of expressions and statements read.
pub const MAX_DEPTH: u32 = 48;

/// The rules, in report order of equal scores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    Union,
    Stacked,
    Time,
    Error,
    Exec,
    Outfile,
    Tautology,
    Json,
    Subquery,
    Query,
    Probe,
    Breakout,
    Function,
    Schema,
}

pub const RULES: [Rule; 14] = [
    Rule::Union,
    Rule::Stacked,
    Rule::Time,
    Rule::Error,
    Rule::Exec,
    Rule::Outfile,
    Rule::Tautology,
    Rule::Json,
    Rule::Subquery,
    Rule::Query,
    Rule::Probe,
    Rule::Breakout,
    Rule::Function,
    Rule::Schema,
];

/// `what` and `message` of [`Rule`]: the messages are static strings, one
/// per rule and context (no allocation per finding).
macro_rules! messages {
    ($($rule:ident => $what:literal),* $(,)?) => {
        pub fn what(self) -> &'static str {
            match self {
                $(Rule::$rule => $what),*
            }
        }

        /// The finding message in context `ctx` (an index of the
        /// detector's contexts: as is, after `'`, after `"`, after `'`
        /// without backslash escapes).
        pub fn message(self, ctx: usize) -> &'static str {
            match self {
                $(Rule::$rule => {
                    const M: [&str; 4] = [
                        concat!("SQL injection: ", $what, " (as is)"),
                        concat!("SQL injection: ", $what, " (after ')"),
                        concat!("SQL injection: ", $what, " (after \")"),
                        concat!("SQL injection: ", $what, " (after ', no backslash escapes)"),
                    ];
                    M[if ctx < 4 { ctx } else { 0 }]
                })*
            }
        }
    };
}

impl Rule {
    pub fn name(self) -> &'static str {
        match self {
            Rule::Union => "sqli.union",
            Rule::Stacked => "sqli.stacked",
            Rule::Time => "sqli.time",
            Rule::Error => "sqli.error",
            Rule::Exec => "sqli.exec",
            Rule::Outfile => "sqli.outfile",
            Rule::Tautology => "sqli.tautology",
            Rule::Json => "sqli.json",
            Rule::Subquery => "sqli.subquery",
            Rule::Query => "sqli.query",
            Rule::Probe => "sqli.probe",
            Rule::Breakout => "sqli.breakout",
            Rule::Function => "sqli.function",
            Rule::Schema => "sqli.schema",
        }
    }

    messages! {
        Union => "UNION SELECT",
        Stacked => "a stacked statement",
        Time => "a time delay (sleep, benchmark, pg_sleep, waitfor)",
        Error => "an error-based extraction (extractvalue, updatexml, cast tricks)",
        Exec => "a file, command or network function",
        Outfile => "INTO OUTFILE / DUMPFILE",
        Tautology => "a boolean condition after a breakout",
        Json => "a JSON-function condition after a breakout",
        Subquery => "a subquery",
        Query => "a complete SQL statement",
        Probe => "an ORDER BY / GROUP BY / HAVING probe",
        Breakout => "a literal closed and the value read on as SQL",
        Function => "SQL functions of blind extraction",
        Schema => "a system catalog reference",
    }

    /// A construct of its own (reported beside a stronger rule), not a
    /// looser description of the same tokens.
    pub fn specific(self) -> bool {
        matches!(
            self,
            Rule::Union | Rule::Stacked | Rule::Time | Rule::Error | Rule::Exec | Rule::Outfile
        )
    }

    fn idx(self) -> usize {
        self as usize
    }
}

/// The best score and span per rule.
#[derive(Debug, Clone, Copy, Default)]
pub struct Hit {
    pub score: u8,
    pub start: u32,
    pub end: u32,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct Ev {
    pub hits: [Hit; RULES.len()],
}

impl Ev {
    pub fn add(&mut self, r: Rule, score: u8, start: u32, end: u32) {
        let h = &mut self.hits[r.idx()];
        if score > h.score {
            *h = Hit {
                score: score.min(100),
                start,
                end: end.max(start),
            };
        }
    }

    pub fn get(&self, r: Rule) -> Hit {
        self.hits[r.idx()]
    }

    pub fn best(&self) -> u8 {
        self.hits.iter().map(|h| h.score).max().unwrap_or(0)
    }

    pub fn merge(&mut self, o: &Ev) {
        for r in RULES {
            let h = o.get(r);
            self.add(r, h.score, h.start, h.end);
        }
    }
}

/// What an expression (or one predicate of it) is made of.
#[derive(Debug, Clone, Copy, Default)]
struct Ex {
    /// Operands in the first predicate.
    nops: u16,
    /// Every operand is a literal.
    lit: bool,
    /// Every operand is a string.
    strs: bool,
    /// Some operand is a literal.
    any_lit: bool,
    /// A single bare identifier.
    ident: bool,
    /// A dotted name (`t.c`).
    dotted: bool,
    /// A comparison or predicate operator.
    cmp: bool,
    /// A logic operator at the top level.
    logic: bool,
    /// The strongest function weight inside.
    fw: u8,
    subq: bool,
    json: bool,
    /// The strongest predicate joined by a logic operator (0..=3).
    taut: u8,
    taut_json: bool,
    taut_at: u32,
    /// A string cast to JSON (`'{..}'::jsonb`): only SQL writes that.
    jcast: bool,
    /// A column or call cast to a number (`password::int`): the error
    /// message of a failed cast carries the value.
    errcast: bool,
    /// A postfix operator applied: IS [NOT] NULL, NOTNULL, ISNULL,
    /// COLLATE x.
    post: bool,
}

impl Ex {
    fn operand() -> Ex {
        Ex {
            nops: 1,
            lit: true,
            any_lit: true,
            ..Ex::default()
        }
    }

    /// Folds operand `o` into predicate `self`.
    fn join(&mut self, o: &Ex) {
        if self.nops == 0 {
            *self = *o;
            self.nops = 1;
            return;
        }
        self.nops = self.nops.saturating_add(1);
        self.lit &= o.lit;
        self.strs &= o.strs;
        self.any_lit |= o.any_lit;
        self.ident = false;
        self.dotted |= o.dotted;
        self.cmp |= o.cmp;
        self.fw = self.fw.max(o.fw);
        self.subq |= o.subq;
        self.json |= o.json;
        self.jcast |= o.jcast;
        self.errcast |= o.errcast;
        self.post |= o.post;
        if o.taut > self.taut {
            self.taut = o.taut;
            self.taut_json = o.taut_json;
            self.taut_at = o.taut_at;
        }
    }
}

/// How strongly a predicate joined by AND/OR reads as an injected
/// condition: 3 a comparison of constants or of SQL functions, 2 a
/// comparison with a constant, 1 a lone constant, 0 anything else.
fn strength(p: &Ex) -> u8 {
    if p.cmp {
        if p.lit || p.fw >= 20 || p.subq || p.json {
            3
        } else if p.any_lit {
            2
        } else {
            1
        }
    } else if p.subq || p.fw >= 20 {
        2
    } else if p.lit && !p.strs {
        1
    } else {
        0
    }
}

/// What a SELECT is made of.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Sel {
    items: u16,
    /// Items that are not bare identifiers.
    sqlish: u16,
    from: bool,
    where_: bool,
    schema: bool,
    clauses: u16,
    fw: u8,
    /// A clause did not read: the statement stops before it.
    partial: bool,
    /// An item is a variable (`select @version`).
    var: bool,
    /// Every item is a bare column name.
    plain_cols: bool,
    /// An item or a table starts with an English determiner (`the`, `my`).
    prose: bool,
    /// An item is a hexadecimal literal (`select 0x616263`).
    hex: bool,
}

/// How surely a SELECT is SQL rather than prose.
fn sel_score(s: &Sel) -> u8 {
    let strong = s.sqlish > 0 || (s.items >= 2 && s.plain_cols);
    if s.prose && !s.schema {
        return if s.sqlish > 0 { 40 } else { 15 };
    }
    if s.schema {
        90
    } else if (s.clauses >= 2 && !s.partial) || (s.hex && s.items == 1) {
        // `select x group by y having count(id) > 9`, `select 0x616263`.
        60
    } else if s.from {
        if strong || s.where_ || s.clauses > 0 {
            80
        } else {
            45
        }
    } else if s.sqlish > 0 && (s.items >= 2 || s.fw >= 20 || s.var) {
        65
    } else if s.sqlish > 0 {
        45
    } else {
        15
    }
}

/// Which statements cut at the end after their head read as statements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cut {
    No,
    /// Heads of two keywords (`INSERT INTO`, `DELETE FROM`, `DROP TABLE`).
    Keywords,
    /// Those and `UPDATE t`.
    Any,
}

/// How the value ends (from the lexer).
#[derive(Debug, Clone, Copy, Default)]
pub struct Ends {
    /// A comment runs to the end.
    pub comment: bool,
    /// Its body is empty or starts with a space.
    pub plain: bool,
    /// Its kind: `-`, `#` or `/`.
    pub kind: u8,
    /// Its body is empty.
    pub empty: bool,
    /// Its body reads as words.
    pub prose: bool,
}

/// The context a stream was read in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ctx {
    /// The value as it is: a number, a name, a whole statement.
    Bare,
    /// After the application's opening quote: the first token is that
    /// string, closed by the value.
    Quote,
}

pub struct Parser<'a> {
    t: &'a [Tok],
    src: &'a [u8],
    n: usize,
    steps: u32,
    depth: u32,
    /// Evidence at base scores.
    pub ev: Ev,
    /// Evidence found by the anchored pass, with the breakout bonus.
    tail_ev: Ev,
    in_tail: bool,
    /// Sum of the weights of the informational and probing calls read by
    /// the anchored pass.
    fsum: u16,
    /// The anchored pass read an ORDER BY / GROUP BY / HAVING probe.
    probe: u8,
    probe_at: u32,
    /// A comment ends the value (set by the anchored pass).
    ends_comment: bool,
    /// The anchored pass read the value whole but skipped what follows a
    /// `;`: the scan must still read it.
    pub junk: bool,
    /// Which statements cut at the end after their head (`INSERT INTO`,
    /// `UPDATE t`) read: set only for the statement right after a `;`
    /// that follows the value's operand.
    cut_ok: Cut,
}

impl<'a> Parser<'a> {
    pub fn new(t: &'a [Tok], src: &'a [u8]) -> Parser<'a> {
        Parser {
            t,
            src,
            n: t.len(),
            steps: 0,
            depth: 0,
            ev: Ev::default(),
            tail_ev: Ev::default(),
            in_tail: false,
            fsum: 0,
            probe: 0,
            probe_at: 0,
            ends_comment: false,
            junk: false,
            cut_ok: Cut::No,
        }
    }

    fn budget(&self) -> u32 {
        16 * self.n as u32 + 512
    }

    fn step(&mut self) -> Option<()> {
        self.steps += 1;
        (self.steps <= self.budget()).then_some(())
    }

    fn enter(&mut self) -> Option<()> {
        if self.depth >= MAX_DEPTH {
            return None;
        }
        self.depth += 1;
        Some(())
    }

    fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    // ---- token helpers ----

    fn k(&self, i: usize) -> Option<K> {
        self.t.get(i).map(|t| t.k)
    }

    fn is(&self, i: usize, k: K) -> bool {
        self.k(i) == Some(k)
    }

    fn kw(&self, i: usize) -> Kw {
        self.t.get(i).map_or(Kw::None, |t| t.word().kw)
    }

    fn wflags(&self, i: usize) -> u8 {
        self.t.get(i).map_or(0, |t| t.word().flags)
    }

    fn op(&self, i: usize) -> Option<Op> {
        self.t.get(i).and_then(Tok::op)
    }

    fn is_op(&self, i: usize, o: Op) -> bool {
        self.op(i) == Some(o)
    }

    fn name_is(&self, i: usize, lower: &[u8]) -> bool {
        self.t.get(i).is_some_and(|t| t.word().name == lower)
    }

    fn start(&self, i: usize) -> u32 {
        self.t
            .get(i)
            .or_else(|| self.t.last())
            .map_or(0, |t| t.start)
    }

    /// The end of the token before index `i`.
    fn end_before(&self, i: usize) -> u32 {
        i.checked_sub(1)
            .and_then(|j| self.t.get(j))
            .map_or(0, |t| t.end)
    }

    /// A plain (non-reserved) word usable as a name.
    fn is_name(&self, i: usize) -> bool {
        match self.t.get(i) {
            Some(t) if t.k == K::Word => t.f & F_QUOTED != 0 || t.word().flags & RES == 0,
            _ => false,
        }
    }

    fn is_logic(&self, i: usize) -> bool {
        matches!(self.kw(i), Kw::And | Kw::Or | Kw::Xor)
            || matches!(self.op(i), Some(Op::AndAnd | Op::Pipes))
    }

    fn record(&mut self, r: Rule, score: u8, bonus: u8, start: u32, end: u32) {
        self.ev.add(r, score, start, end);
        if self.in_tail {
            self.tail_ev
                .add(r, score.saturating_add(bonus).min(100), start, end);
        }
    }

    // ---- expressions ----

    fn starts_operand(&self, i: usize) -> bool {
        match self.t.get(i) {
            None => false,
            Some(t) => match t.k {
                K::Num | K::Str | K::Var | K::LParen => true,
                K::Op => matches!(t.op(), Some(Op::Minus | Op::Plus | Op::Tilde | Op::Bang)),
                K::Word => {
                    let w = t.word();
                    t.f & F_QUOTED != 0
                        || w.flags & (RES | LIT) != RES
                        || matches!(
                            w.kw,
                            Kw::Not | Kw::Case | Kw::Exists | Kw::Binary | Kw::Null
                        )
                        || (w.fc != Fc::None && self.is(i + 1, K::LParen))
                }
                _ => false,
            },
        }
    }

    /// An expression: predicates joined by logic operators. With `first`,
    /// an operand has been read already and `i` is just after it.
    fn expr_from(&mut self, i: usize, first: Option<Ex>) -> Option<(usize, Ex)> {
        self.enter()?;
        let r = self.expr_inner(i, first);
        self.leave();
        r
    }

    fn expr(&mut self, i: usize) -> Option<(usize, Ex)> {
        self.expr_from(i, None)
    }

    fn expr_inner(&mut self, i: usize, first: Option<Ex>) -> Option<(usize, Ex)> {
        let (mut i, mut ex) = self.pred(i, first)?;
        while self.is_logic(i) {
            let at = self.start(i);
            let (j, p) = self.pred(i + 1, None)?;
            ex.logic = true;
            let s = strength(&p);
            if s > ex.taut || (s == ex.taut && p.json && !ex.taut_json) {
                ex.taut = s;
                ex.taut_json = p.json;
                ex.taut_at = at;
            }
            ex.fw = ex.fw.max(p.fw);
            ex.subq |= p.subq;
            ex.json |= p.json;
            ex.jcast |= p.jcast;
            ex.errcast |= p.errcast;
            ex.post |= p.post;
            ex.lit &= p.lit;
            i = j;
        }
        Some((i, ex))
    }

    /// One predicate: operands joined by non-logic operators.
    fn pred(&mut self, mut i: usize, first: Option<Ex>) -> Option<(usize, Ex)> {
        let mut p = Ex::default();
        let mut need = match first {
            Some(f) => {
                p.join(&f);
                false
            }
            None => true,
        };
        let mut between = false;
        loop {
            if need {
                // Unary prefixes.
                let mut guard = 0;
                while guard < 64
                    && (matches!(
                        self.op(i),
                        Some(Op::Minus | Op::Plus | Op::Tilde | Op::Bang)
                    ) || matches!(self.kw(i), Kw::Not | Kw::Binary))
                {
                    if self.kw(i) == Kw::Not {
                        p.cmp = true;
                    }
                    i += 1;
                    guard += 1;
                }
                let (j, o) = self.primary(i)?;
                p.join(&o);
                i = j;
            }
            // Postfix forms.
            i = self.postfix(i, &mut p)?;
            // `x ! ALL (select ..)`: a quantified comparison whose `!=`
            // lost its `=`, read as the comparison it aims at.
            if self.is_op(i, Op::Bang)
                && (self.kw(i + 1) == Kw::All
                    || self.word_is(i + 1, b"any")
                    || self.word_is(i + 1, b"some"))
                && self.is(i + 2, K::LParen)
            {
                p.cmp = true;
                i += 1;
                need = true;
                continue;
            }
            // A binary operator continues the predicate.
            if let Some(op) = self.op(i) {
                // `a ~ b`: PostgreSQL's regular expression match.
                if op.is_cmp() || op.is_arith() || op == Op::Tilde {
                    p.cmp |= op.is_cmp() || op == Op::Tilde;
                    p.json |= matches!(op, Op::Arrow | Op::JsonTest);
                    i += 1;
                    need = true;
                    continue;
                }
            }
            match self.kw(i) {
                Kw::OpWord => {
                    let name = self.t.get(i).map_or(&b""[..], |t| t.word().name);
                    p.cmp |= !matches!(name, b"div" | b"mod");
                    i += 1;
                    need = true;
                    continue;
                }
                Kw::Sounds if self.kw(i + 1) == Kw::OpWord => {
                    p.cmp = true;
                    i += 2;
                    need = true;
                    continue;
                }
                Kw::Similar if self.kw(i + 1) == Kw::To => {
                    p.cmp = true;
                    i += 2;
                    need = true;
                    continue;
                }
                Kw::Between => {
                    p.cmp = true;
                    between = true;
                    i += 1;
                    need = true;
                    continue;
                }
                Kw::And if between => {
                    between = false;
                    i += 1;
                    need = true;
                    continue;
                }
                Kw::Not
                    if matches!(
                        self.kw(i + 1),
                        Kw::OpWord | Kw::Between | Kw::Similar | Kw::Sounds
                    ) =>
                {
                    // `a NOT LIKE b`: the operator word comes next, no
                    // operand yet.
                    i += 1;
                    need = false;
                    continue;
                }
                _ => {}
            }
            return Some((i, p));
        }
    }

    /// IS [NOT] NULL, [NOT] IN (..), `::type`, COLLATE x, ESCAPE x, and
    /// `.method(..)` after a call.
    fn postfix(&mut self, mut i: usize, p: &mut Ex) -> Option<usize> {
        let mut guard = 0;
        loop {
            guard += 1;
            if guard > 64 {
                return Some(i);
            }
            match self.kw(i) {
                Kw::Is => {
                    let mut j = i + 1;
                    if self.kw(j) == Kw::Not {
                        j += 1;
                    }
                    match self.kw(j) {
                        Kw::Null => {
                            p.any_lit = true;
                            j += 1;
                        }
                        _ if self.is(j, K::Num) => {
                            p.any_lit = true;
                            j += 1;
                        }
                        Kw::Distinct if self.kw(j + 1) == Kw::From => {
                            let (k, o) = self.primary(j + 2)?;
                            p.join(&o);
                            j = k;
                        }
                        _ => return None,
                    }
                    p.cmp = true;
                    p.post = true;
                    i = j;
                }
                Kw::Not if self.kw(i + 1) == Kw::In => i += 1,
                Kw::In if self.is(i + 1, K::LParen) => {
                    let (j, o) = self.paren(i + 1)?;
                    p.cmp = true;
                    p.fw = p.fw.max(o.fw);
                    p.subq |= o.subq;
                    i = j;
                }
                Kw::Collate | Kw::Escape => {
                    let (j, _) = self.primary(i + 1)?;
                    p.post |= self.kw(i) == Kw::Collate;
                    i = j;
                }
                _ if (self.word_is(i, b"notnull") || self.word_is(i, b"isnull"))
                    && !self.is(i + 1, K::LParen) =>
                {
                    // PostgreSQL `x NOTNULL`, `x ISNULL`.
                    p.cmp = true;
                    p.any_lit = true;
                    p.post = true;
                    i += 1;
                }
                _ => match self.op(i) {
                    Some(Op::Cast) => {
                        if self.word_is(i + 1, b"json") || self.word_is(i + 1, b"jsonb") {
                            p.jcast |= p.strs;
                            p.json = true;
                        }
                        let numeric = [
                            &b"int"[..],
                            b"integer",
                            b"bigint",
                            b"smallint",
                            b"int4",
                            b"int8",
                            b"numeric",
                        ]
                        .iter()
                        .any(|w| self.word_is(i + 1, w));
                        // A lone column or call, or an informational call
                        // in arithmetic (`1+current_user::int`): the
                        // failed cast prints the value.
                        let lone = (!p.lit || p.fw >= 20) && p.nops == 1;
                        if numeric && !p.cmp && (lone || p.fw >= Fc::Info.weight()) {
                            p.errcast = true;
                        }
                        i = self.type_name(i + 1)?
                    }
                    _ => return Some(i),
                },
            }
        }
    }

    fn primary(&mut self, i: usize) -> Option<(usize, Ex)> {
        self.step()?;
        if i >= self.n {
            // The value ends where an operand was due: cut short.
            return Some((i, Ex::default()));
        }
        let t = *self.t.get(i)?;
        match t.k {
            K::Num => Some((i + 1, Ex::operand())),
            K::Str => {
                // An unclosed string is the end of the value.
                if t.f & F_CLOSED == 0 && i + 1 != self.n {
                    return None;
                }
                let mut e = Ex::operand();
                e.strs = true;
                Some((i + 1, e))
            }
            K::Var => {
                let mut e = Ex::operand();
                e.lit = false;
                if t.w == 1 {
                    // @@version and friends.
                    e.fw = Fc::Info.weight();
                    self.note_call(Fc::Info);
                }
                // @@global.max_connections
                let mut j = i + 1;
                let mut g = 0;
                while g < 4 && self.is(j, K::Dot) && self.is(j + 1, K::Word) {
                    j += 2;
                    g += 1;
                }
                Some((j, e))
            }
            K::LParen => self.paren(i),
            K::Word => self.word_primary(i),
            K::Other
                if self.src.get(t.start as usize) == Some(&b'{') && self.is(i + 1, K::Word) =>
            {
                // `{if expr}`, `{fn f(..)}`: an ODBC escape, which MySQL
                // reads as the expression after the word.
                let (j, e) = self.expr(i + 2)?;
                match self.t.get(j) {
                    None => Some((j, e)),
                    Some(c) if c.k == K::Other && self.src.get(c.start as usize) == Some(&b'}') => {
                        Some((j + 1, e))
                    }
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// `( select .. )` or `( expr, .. )`; the closing parenthesis may be
    /// missing at the end of the value (the application closes it).
    fn paren(&mut self, i: usize) -> Option<(usize, Ex)> {
        self.enter()?;
        let r = self.paren_inner(i);
        self.leave();
        r
    }

    fn paren_inner(&mut self, i: usize) -> Option<(usize, Ex)> {
        let mut j = i + 1;
        let mut e;
        if matches!(self.kw(j), Kw::Select | Kw::With) {
            let (k, s) = self.select(j)?;
            let sc = sel_score(&s);
            let end = self.t.get(k).map_or(self.end_before(k), |t| t.end);
            // In parentheses a SELECT is surer than bare.
            self.record(
                Rule::Subquery,
                sc.saturating_add(10).min(90),
                10,
                self.start(i),
                end,
            );
            e = Ex::operand();
            e.lit = false;
            e.subq = true;
            e.fw = s.fw;
            j = k;
            // (select ..) union (select ..) inside parentheses.
            if matches!(
                self.kw(j),
                Kw::Union | Kw::Intersect | Kw::Except | Kw::Minus
            ) {
                j = self.union_at(j)?;
            }
        } else {
            let (k, inner) = self.expr(j)?;
            e = inner;
            j = k;
            let mut guard = 0;
            while self.is(j, K::Comma) && guard < 4096 {
                let (k, o) = self.expr(j + 1)?;
                e.join(&o);
                e.lit &= o.lit;
                j = k;
                guard += 1;
            }
            if e.nops > 1 || e.logic {
                // Keep what the group is, as one operand.
                e.nops = 1;
            }
        }
        if self.is(j, K::RParen) {
            Some((j + 1, e))
        } else if j >= self.n {
            Some((j, e))
        } else {
            None
        }
    }

    fn word_primary(&mut self, i: usize) -> Option<(usize, Ex)> {
        let t = self.t[i];
        let w = t.word();
        let quoted = t.f & F_QUOTED != 0;
        if !quoted {
            match w.kw {
                Kw::Case => return self.case_expr(i),
                Kw::Exists => {
                    if !self.is(i + 1, K::LParen) {
                        return None;
                    }
                    let (j, mut e) = self.paren(i + 1)?;
                    e.cmp = true;
                    return Some((j, e));
                }
                Kw::Interval => {
                    let (j, mut e) = self.primary(i + 1)?;
                    e.lit = false;
                    return Some((j + usize::from(self.is(j, K::Word)), e));
                }
                Kw::Null => return Some((i + 1, Ex::operand())),
                Kw::All if self.is(i + 1, K::LParen) => {
                    // = ALL (select ..)
                    let (j, mut e) = self.paren(i + 1)?;
                    e.nops = 1;
                    return Some((j, e));
                }
                _ => {}
            }
            if (self.word_is(i, b"any") || self.word_is(i, b"some"))
                && self.is(i + 1, K::LParen)
                && self.kw(i + 2) == Kw::Select
            {
                // = ANY (select ..), = SOME (select ..)
                let (j, mut e) = self.paren(i + 1)?;
                e.nops = 1;
                return Some((j, e));
            }
            if self.word_is(i, b"array")
                && self.t.get(i + 1).is_some_and(|n| {
                    n.f & F_QUOTED != 0 && self.src.get(n.start as usize) == Some(&b'[')
                })
            {
                // PostgreSQL's ARRAY[..] constructor.
                let mut e = Ex::operand();
                e.lit = false;
                return Some((i + 2, e));
            }
            if w.flags & LIT != 0 && !self.is(i + 1, K::LParen) {
                let mut e = Ex::operand();
                if w.fc == Fc::Info {
                    e.fw = Fc::Info.weight();
                    self.note_call(Fc::Info);
                }
                return Some((i + 1, e));
            }
            if w.fc != Fc::None && i + 1 >= self.n {
                // A function name cut off at the end of the value.
                let mut e = Ex::operand();
                e.lit = false;
                e.fw = w.fc.weight();
                // `select pg_sleep`: a name only SQL has (not `sleep`).
                if w.name.contains(&b'_') && i > 0 {
                    let (a, b) = (t.start, t.end);
                    match w.fc {
                        Fc::Time => self.record(Rule::Time, 35, 20, a, b),
                        Fc::Exec => self.record(Rule::Exec, 35, 20, a, b),
                        Fc::Error => self.record(Rule::Error, 35, 20, a, b),
                        _ => {}
                    }
                }
                return Some((i + 1, e));
            }
            let dotted_name = self.is(i + 1, K::Dot) && self.is(i + 2, K::Word);
            if w.flags & RES != 0
                && !(w.fc != Fc::None && self.is(i + 1, K::LParen))
                && !dotted_name
            {
                return None;
            }
        }
        // A dotted name: a.b.c, master..xp_cmdshell.
        let mut j = i + 1;
        let mut last = i;
        let mut dotted = false;
        let mut guard = 0;
        while self.is(j, K::Dot) && guard < 8 {
            guard += 1;
            if self.is(j + 1, K::Word) {
                last = j + 1;
                j += 2;
            } else if self.is(j + 1, K::Dot) && self.is(j + 2, K::Word) {
                last = j + 2;
                j += 3;
            } else if self.is_op(j + 1, Op::Mul) {
                // t.* (a select item).
                j += 2;
                break;
            } else {
                break;
            }
            dotted = true;
        }
        if self.is(j, K::LParen) {
            return self.call(i, last, j);
        }
        let mut e = Ex::operand();
        e.lit = false;
        e.any_lit = false;
        e.ident = true;
        e.dotted = dotted;
        if self.schema_name(i, last) {
            let (s, en) = (self.start(i), self.t[last].end);
            self.record(Rule::Schema, 40, 10, s, en);
        }
        Some((j, e))
    }

    /// A name that designates a system catalog.
    fn schema_name(&self, first: usize, last: usize) -> bool {
        let mut k = first;
        while k <= last {
            if self.is(k, K::Word) && self.wflags(k) & SCHEMA != 0 {
                return true;
            }
            k += 1;
        }
        if last > first {
            if self.word_is(first, b"mysql") && self.word_is(last, b"user") {
                return true;
            }
            if self.word_is(first, b"sys") {
                return [
                    "objects",
                    "tables",
                    "columns",
                    "databases",
                    "sql_logins",
                    "sysobjects",
                ]
                .iter()
                .any(|w| self.word_is(last, w.as_bytes()));
            }
        }
        false
    }

    fn note_call(&mut self, fc: Fc) {
        self.note_weight(fc.weight());
    }

    fn note_weight(&mut self, w: u8) {
        if self.in_tail {
            self.fsum = self.fsum.saturating_add(u16::from(w));
        }
    }

    /// CASE [x] WHEN .. THEN .. [ELSE ..] END
    fn case_expr(&mut self, i: usize) -> Option<(usize, Ex)> {
        let mut j = i + 1;
        let mut e = Ex::operand();
        e.lit = false;
        if j >= self.n {
            // `SELECT (CASE` cut at the end.
            self.note_weight(20);
            return Some((j, e));
        }
        if self.kw(j) != Kw::When {
            let (k, o) = self.expr(j)?;
            e.join(&o);
            j = k;
        }
        let mut whens = 0;
        let mut guard = 0;
        while self.kw(j) == Kw::When && guard < 1024 {
            guard += 1;
            let (k, o) = self.expr(j + 1)?;
            e.fw = e.fw.max(o.fw);
            e.subq |= o.subq;
            if self.kw(k) != Kw::Then {
                return None;
            }
            let (k, o) = self.expr(k + 1)?;
            e.fw = e.fw.max(o.fw);
            e.subq |= o.subq;
            j = k;
            whens += 1;
        }
        if whens == 0 {
            return None;
        }
        if self.kw(j) == Kw::Else {
            let (k, o) = self.expr(j + 1)?;
            e.fw = e.fw.max(o.fw);
            e.subq |= o.subq;
            j = k;
        }
        let complete = self.kw(j) == Kw::End;
        if complete {
            j += 1;
        } else if j < self.n {
            return None;
        }
        // A whole CASE WHEN .. THEN .. END is SQL, not prose.
        e.fw = e.fw.max(Fc::Probe.weight());
        self.note_weight(if complete { 50 } else { 20 });
        Some((j, e))
    }

    /// A type name: `int`, `varchar(8000)`, `varchar(max)`, `double precision`.
    fn type_name(&mut self, i: usize) -> Option<usize> {
        if !self.is(i, K::Word) {
            return None;
        }
        let mut j = i + 1;
        if self.is(j, K::Word) && self.wflags(j) & TYPE != 0 {
            j += 1;
        }
        if self.is(j, K::LParen) {
            let mut k = j + 1;
            let mut guard = 0;
            while guard < 4 && (self.is(k, K::Num) || self.is(k, K::Word) || self.is(k, K::Comma)) {
                k += 1;
                guard += 1;
            }
            if self.is(k, K::RParen) {
                j = k + 1;
            }
        }
        Some(j)
    }

    /// A function call: `name` at `first..=last`, `(` at `lp`.
    fn call(&mut self, first: usize, last: usize, lp: usize) -> Option<(usize, Ex)> {
        self.enter()?;
        let r = self.call_inner(first, last, lp);
        self.leave();
        r
    }

    fn call_inner(&mut self, first: usize, last: usize, lp: usize) -> Option<(usize, Ex)> {
        let lt = self.t[last];
        let mut fc = lt.word().fc;
        if lt.f & F_QUOTED != 0 {
            fc = Fc::None;
        }
        if fc == Fc::None && lt.k == K::Word {
            let mut buf = [0u8; 24];
            if let Some(l) = self.lower(last, &mut buf) {
                fc = words::prefix_category(l);
            }
        }
        if last > first {
            let mut buf = [0u8; 24];
            if let Some(q) = self.lower(first, &mut buf) {
                let qc = words::qualifier_category(q);
                if qc != Fc::None {
                    fc = qc;
                }
            }
        }
        let name = lt.word().name;
        let read = self.args_sep(lp + 1, fc == Fc::Exec);
        let (mut j, a, loose) = match read {
            Some((j, a)) => (j, a, false),
            // A delay function whose arguments do not read (obfuscated,
            // cut off): read them loosely, scored lower.
            None if fc == Fc::Time => {
                let (j, a) = self.loose_args(lp + 1);
                (j, a, true)
            }
            None => return None,
        };
        let start = self.start(first);
        let end = self.end_before(j);
        let mut e = Ex::operand();
        // pi(), cos(3), char(65): a constant.
        e.lit = a.all_lit && !a.subq && matches!(fc, Fc::Common | Fc::Probe | Fc::None);
        e.any_lit = e.lit;
        e.fw = a.fw.max(fc.weight());
        e.subq = a.subq;
        e.json = fc == Fc::Json || a.json;
        match fc {
            Fc::Time => {
                let numeric = a.nargs >= 1 && a.first_lit;
                let sc = match name {
                    b"benchmark" if loose && a.nargs >= 2 && a.first_lit => 60,
                    b"pg_sleep" | b"pg_sleep_for" if loose && a.first_lit => 50,
                    _ if loose => 25,
                    b"benchmark" if a.nargs == 2 && a.first_lit => 75,
                    b"get_lock" if a.nargs == 2 => 60,
                    b"randomblob" if numeric => 55,
                    // sleep(5) also appears in prose about code: surer
                    // after a breakout (the anchored pass adds 20).
                    b"sleep" if numeric || a.subq => 45,
                    b"pg_sleep" | b"pg_sleep_for" if numeric || a.subq => 70,
                    b"pg_sleep_until" if a.nargs == 1 => 65,
                    _ if last > first && a.nargs >= 1 => 75,
                    _ => 25,
                };
                self.record(Rule::Time, sc, 20, start, end);
            }
            Fc::Error => {
                let sc = match name {
                    b"extractvalue" | b"updatexml" if a.nargs >= 2 => 80,
                    b"name_const" | b"xmltype" => 60,
                    _ if a.subq || (a.nargs >= 1 && a.fw >= 20) => 80,
                    _ if last > first && a.nargs >= 1 => 75,
                    _ => 40,
                };
                self.record(Rule::Error, sc, 15, start, end);
            }
            Fc::Exec => {
                let sc = if a.nargs >= 1 { 80 } else { 60 };
                self.record(Rule::Exec, sc, 10, start, end);
            }
            Fc::Info | Fc::Probe | Fc::Json | Fc::Common => {
                self.note_call(fc);
                if fc != Fc::Common && a.fw >= 20 {
                    // ascii(substring(..)): nested extraction functions.
                    self.note_weight(10);
                }
            }
            Fc::None => {}
        }
        // convert(int, (select ..)), cast((select ..) as int), exp(~(select ..)):
        // error-based extraction.
        if a.subq && matches!(name, b"convert" | b"cast" | b"exp" | b"json_keys") {
            self.record(Rule::Error, 75, 15, start, end);
        }
        // A method call on the result: XMLAGG(..).EXTRACT('//text()').
        let mut guard = 0;
        while guard < 8 && self.is(j, K::Dot) && self.is(j + 1, K::Word) {
            guard += 1;
            if self.is(j + 2, K::LParen) {
                let (k, b) = self.args(j + 3)?;
                e.fw = e.fw.max(b.fw);
                j = k;
            } else {
                j += 2;
            }
        }
        Some((j, e))
    }

    /// The lower-cased bytes of word token `i` into `buf` (words of at
    /// most 24 bytes).
    fn lower<'b>(&self, i: usize, buf: &'b mut [u8; 24]) -> Option<&'b [u8]> {
        let t = self.t.get(i)?;
        if t.k != K::Word || t.f & F_QUOTED != 0 {
            return None;
        }
        let w = self.src.get(t.start as usize..t.end as usize)?;
        if w.len() > buf.len() {
            return None;
        }
        for (d, c) in buf.iter_mut().zip(w) {
            *d = c.to_ascii_lowercase();
        }
        Some(&buf[..w.len()])
    }

    /// Arguments that do not parse, read as tokens up to the matching `)`
    /// or the end: counts the top-level arguments and whether the first
    /// starts with a number.
    fn loose_args(&mut self, from: usize) -> (usize, Args) {
        let mut a = Args {
            nargs: 1,
            first_lit: self.is(from, K::Num),
            ..Args::default()
        };
        let mut depth = 0u32;
        let mut j = from;
        while j < self.n {
            match self.t[j].k {
                K::LParen => depth += 1,
                K::RParen if depth == 0 => return (j + 1, a),
                K::RParen => depth -= 1,
                K::Comma if depth == 0 => a.nargs = a.nargs.saturating_add(1),
                K::Semi if depth == 0 => return (j, a),
                _ => {}
            }
            j += 1;
        }
        (j, a)
    }

    /// Call arguments after `(` at `j - 1`: returns the index after `)`.
    fn args(&mut self, j: usize) -> Option<(usize, Args)> {
        self.args_sep(j, false)
    }

    /// Call arguments; with `semi`, `;` also separates them (MSSQL
    /// `OPENROWSET('x', 'server';'user';'pass', 'query')`).
    fn args_sep(&mut self, mut j: usize, semi: bool) -> Option<(usize, Args)> {
        let mut a = Args {
            all_lit: true,
            ..Args::default()
        };
        if self.is(j, K::RParen) {
            return Some((j + 1, a));
        }
        if j >= self.n {
            return Some((j, a));
        }
        if self.is_op(j, Op::Mul) && self.is(j + 1, K::RParen) {
            a.nargs = 1;
            return Some((j + 2, a));
        }
        let mut guard = 0;
        loop {
            guard += 1;
            if guard > 4096 {
                return None;
            }
            if matches!(self.kw(j), Kw::Distinct | Kw::All) {
                j += 1;
            }
            if matches!(self.kw(j), Kw::Select | Kw::With) {
                // f(SELECT ..): a subquery in the call's parentheses.
                let (k, s) = self.select(j)?;
                let sc = sel_score(&s).saturating_add(10).min(90);
                let (start, end) = (self.start(j), self.end_before(k));
                self.record(Rule::Subquery, sc, 10, start, end);
                a.subq = true;
                a.fw = a.fw.max(s.fw);
                j = k;
            } else {
                let (k, e) = self.expr(j)?;
                if a.nargs == 0 {
                    a.first_lit = e.lit || e.subq;
                    a.all_lit = true;
                }
                a.all_lit &= e.lit;
                a.fw = a.fw.max(e.fw);
                a.subq |= e.subq;
                a.json |= e.json;
                j = k;
            }
            a.nargs += 1;
            // Keyword forms inside calls.
            let mut inner = 0;
            loop {
                inner += 1;
                if inner > 16 {
                    break;
                }
                match self.kw(j) {
                    Kw::As => j = self.type_name(j + 1)?,
                    Kw::Using if self.is(j + 1, K::Word) => j += 2,
                    Kw::From | Kw::For | Kw::In | Kw::Separator => {
                        let (k, e) = self.expr(j + 1)?;
                        a.fw = a.fw.max(e.fw);
                        a.subq |= e.subq;
                        j = k;
                    }
                    Kw::Order if self.kw(j + 1) == Kw::By => {
                        j = self.expr_list(j + 2)?;
                    }
                    // overlay(x PLACING y FROM n FOR m)
                    Kw::None if self.word_is(j, b"placing") => {
                        let (k, e) = self.expr(j + 1)?;
                        a.fw = a.fw.max(e.fw);
                        j = k;
                    }
                    _ => break,
                }
            }
            if self.is(j, K::Comma) || (semi && self.is(j, K::Semi)) {
                j += 1;
                continue;
            }
            break;
        }
        if self.is(j, K::RParen) {
            Some((j + 1, a))
        } else if j >= self.n {
            Some((j, a))
        } else {
            None
        }
    }

    /// `expr [ASC|DESC], ..` (ORDER BY, GROUP BY lists); returns the end.
    fn expr_list(&mut self, mut j: usize) -> Option<usize> {
        let mut guard = 0;
        loop {
            guard += 1;
            if guard > 4096 {
                return None;
            }
            let (k, _) = self.expr(j)?;
            j = k;
            if self.kw(j) == Kw::Asc {
                j += 1;
            }
            if self.is(j, K::Comma) {
                j += 1;
                continue;
            }
            return Some(j);
        }
    }

    // ---- SELECT ----

    pub fn select(&mut self, i: usize) -> Option<(usize, Sel)> {
        self.enter()?;
        let r = self.select_inner(i);
        self.leave();
        r
    }

    fn select_inner(&mut self, i: usize) -> Option<(usize, Sel)> {
        self.step()?;
        let mut s = Sel {
            plain_cols: true,
            ..Sel::default()
        };
        let mut j = i + 1;
        if self.kw(i) == Kw::With {
            // WITH x AS (select ..) select ..: read loosely.
            return None;
        }
        // Modifiers.
        let mut guard = 0;
        while guard < 8 {
            guard += 1;
            match self.kw(j) {
                Kw::All | Kw::Distinct => j += 1,
                Kw::Top => {
                    j += 1;
                    if self.is(j, K::Num) {
                        j += 1;
                    } else if self.is(j, K::LParen) {
                        j = self.paren(j)?.0;
                    }
                }
                Kw::Join if self.name_is(j, b"straight_join") => j += 1,
                _ if (self.word_is(j, b"first") || self.word_is(j, b"skip"))
                    && self.is(j + 1, K::Num) =>
                {
                    j += 2
                }
                _ => {
                    if self.word_starts(j, b"sql_")
                        || self.word_is(j, b"high_priority")
                        || self.word_is(j, b"distinctrow")
                    {
                        j += 1;
                    } else {
                        break;
                    }
                }
            }
        }
        // Select list.
        let mut guard = 0;
        loop {
            guard += 1;
            if guard > 4096 {
                return None;
            }
            s.var |= self.is(j, K::Var);
            let (k, sqlish, fw) = self.select_item(j, &mut s)?;
            s.items += 1;
            s.sqlish += u16::from(sqlish);
            s.fw = s.fw.max(fw);
            j = k;
            if self.is(j, K::Comma) {
                j += 1;
                continue;
            }
            break;
        }
        // Clauses; one that does not read stops the statement there.
        let mut guard = 0;
        while guard < 32 {
            guard += 1;
            match self.select_clause(j, &mut s) {
                Some(Some((k, more))) => {
                    j = k;
                    if !more {
                        break;
                    }
                }
                Some(None) => break,
                None => {
                    s.partial = true;
                    break;
                }
            }
        }
        Some((j, s))
    }

    /// One clause of a SELECT at `j`: `Some(Some((end, more)))` when read,
    /// `Some(None)` when there is none, `None` when it does not read.
    fn select_clause(&mut self, mut j: usize, s: &mut Sel) -> Option<Option<(usize, bool)>> {
        match self.kw(j) {
            Kw::Into => j = self.into(j)?,
            Kw::From => {
                j = self.table_list(j + 1, s)?;
                s.from = true;
            }
            Kw::Where => {
                s.where_ = true;
                if j + 1 >= self.n {
                    // `select x from t where` cut at the end.
                    return Some(Some((j + 1, false)));
                }
                let (k, e) = self.expr(j + 1)?;
                s.fw = s.fw.max(e.fw);
                j = k;
            }
            Kw::Group | Kw::Order if self.kw(j + 1) == Kw::By => {
                j = self.expr_list(j + 2)?;
                if self.kw(j) == Kw::With && self.is(j + 1, K::Word) {
                    j += 2;
                }
                s.clauses += 1;
            }
            Kw::Having => {
                let (k, _) = self.expr(j + 1)?;
                j = k;
                s.clauses += 1;
            }
            Kw::Limit | Kw::Offset => {
                let (k, _) = self.expr(j + 1)?;
                j = k;
                if self.is(j, K::Comma) || self.kw(j) == Kw::Offset {
                    let (k, _) = self.expr(j + 1)?;
                    j = k;
                }
                if self.is(j, K::Word) && self.word_starts(j, b"row") {
                    j += 1;
                }
                s.clauses += 1;
            }
            Kw::Fetch => {
                // FETCH FIRST n ROWS ONLY
                let mut k = j + 1;
                let mut g = 0;
                while g < 4 && (self.is(k, K::Word) || self.is(k, K::Num)) {
                    k += 1;
                    g += 1;
                }
                j = k;
                s.clauses += 1;
            }
            Kw::Procedure => {
                j = self.procedure(j)?;
                s.clauses += 1;
            }
            Kw::For if self.is(j + 1, K::Word) => {
                // FOR UPDATE, FOR XML PATH(''), FOR JSON AUTO
                j += 2;
                let mut g = 0;
                while g < 4 && (self.is(j, K::Word) || self.is(j, K::LParen)) {
                    if self.is(j, K::LParen) {
                        j = self.paren(j)?.0;
                    } else {
                        j += 1;
                    }
                    g += 1;
                }
                s.clauses += 1;
            }
            Kw::Union | Kw::Intersect | Kw::Except | Kw::Minus => {
                j = self.union_at(j)?;
                s.clauses += 1;
                return Some(Some((j, false)));
            }
            _ => return Some(None),
        }
        Some(Some((j, true)))
    }

    /// Word token `i` starts with `prefix` (lower case), any case.
    fn word_starts(&self, i: usize, prefix: &[u8]) -> bool {
        match self.t.get(i) {
            Some(t) if t.k == K::Word && t.f & F_QUOTED == 0 => self
                .src
                .get(t.start as usize..t.end as usize)
                .is_some_and(|w| {
                    w.len() >= prefix.len() && w[..prefix.len()].eq_ignore_ascii_case(prefix)
                }),
            _ => false,
        }
    }

    /// One select item: returns the end, whether it is more than a bare
    /// identifier, and its function weight.
    fn select_item(&mut self, j: usize, s: &mut Sel) -> Option<(usize, bool, u8)> {
        if self.is_op(j, Op::Mul) {
            return Some((j + 1, true, 0));
        }
        if j >= self.n {
            return None;
        }
        if self.determiner(j) {
            // select the best ..: English, not a column.
            s.prose = true;
        }
        if let Some(t) = self.t.get(j) {
            let text = self
                .src
                .get(t.start as usize..t.end as usize)
                .unwrap_or_default();
            if t.k == K::Num && text.len() >= 6 && text[1] | 0x20 == b'x' {
                s.hex = true;
            }
        }
        let (mut k, e) = self.expr(j)?;
        let sqlish = e.any_lit || e.fw > 0 || e.subq || e.dotted || e.json;
        if !e.ident || e.nops != 1 || e.cmp || e.logic {
            s.plain_cols = false;
        }
        // Alias.
        if self.kw(k) == Kw::As {
            if self.is_name(k + 1) || self.is(k + 1, K::Str) {
                k += 2;
            } else {
                return None;
            }
        } else if self.is_name(k) || (self.is(k, K::Str) && e.nops > 0 && !e.lit) {
            k += 1;
        }
        Some((k, sqlish, e.fw))
    }

    /// INTO OUTFILE 'x', INTO DUMPFILE 'x', INTO @a, .., INTO name.
    fn into(&mut self, j: usize) -> Option<usize> {
        let k = j + 1;
        if self.kw(k) == Kw::Outfile {
            let end = self.t.get(k + 1).map_or(self.end_before(k + 1), |t| t.end);
            let sc = if self.is(k + 1, K::Str) { 90 } else { 70 };
            self.record(Rule::Outfile, sc, 10, self.start(j), end);
            let mut m = k + 1 + usize::from(self.is(k + 1, K::Str));
            // FIELDS TERMINATED BY .. LINES TERMINATED BY ..
            let mut g = 0;
            while g < 16 && (self.is(m, K::Word) || self.is(m, K::Str) || self.is(m, K::Num)) {
                m += 1;
                g += 1;
            }
            return Some(m);
        }
        if self.is(k, K::Var) {
            let mut m = k + 1;
            let mut g = 0;
            while g < 64 && self.is(m, K::Comma) && self.is(m + 1, K::Var) {
                m += 2;
                g += 1;
            }
            return Some(m);
        }
        if self.is_name(k) {
            return Some(k + 1);
        }
        None
    }

    /// PROCEDURE ANALYSE(..)
    fn procedure(&mut self, j: usize) -> Option<usize> {
        if self.is(j + 1, K::Word) && self.is(j + 2, K::LParen) {
            let (k, _) = self.args(j + 3)?;
            if self.in_tail {
                self.probe = self.probe.max(70);
                self.probe_at = self.start(j);
            }
            return Some(k);
        }
        None
    }

    /// The table references of FROM.
    fn table_list(&mut self, mut j: usize, s: &mut Sel) -> Option<usize> {
        let mut guard = 0;
        loop {
            guard += 1;
            if guard > 1024 {
                return None;
            }
            j = self.table_ref(j, s)?;
            // Joins.
            let mut g = 0;
            loop {
                g += 1;
                if g > 64 {
                    return None;
                }
                let mut k = j;
                let mut h = 0;
                while h < 4
                    && matches!(self.kw(k), Kw::Join | Kw::Side)
                    && !self.name_is(k, b"join")
                {
                    k += 1;
                    h += 1;
                }
                if !(self.name_is(k, b"join") || self.name_is(k, b"straight_join")) {
                    break;
                }
                j = self.table_ref(k + 1, s)?;
                match self.kw(j) {
                    Kw::On => {
                        let (m, _) = self.expr(j + 1)?;
                        j = m;
                    }
                    Kw::Using if self.is(j + 1, K::LParen) => j = self.paren(j + 1)?.0,
                    _ => {}
                }
            }
            if self.is(j, K::Comma) {
                j += 1;
                continue;
            }
            return Some(j);
        }
    }

    fn table_ref(&mut self, j: usize, s: &mut Sel) -> Option<usize> {
        self.step()?;
        let mut k;
        if self.is(j, K::LParen) {
            let (m, e) = self.paren(j)?;
            s.fw = s.fw.max(e.fw);
            k = m;
        } else if self.is(j, K::Word)
            && (self.is_name(j) || self.wflags(j) & SCHEMA != 0 || self.kw(j) == Kw::Object)
        {
            if self.determiner(j) {
                s.prose = true;
            }
            let (m, e) = self.word_primary(j)?;
            s.fw = s.fw.max(e.fw);
            k = m;
            let mut last = j;
            let mut q = j;
            while q < k {
                if self.is(q, K::Word) {
                    last = q;
                }
                q += 1;
            }
            if self.schema_name(j, last) {
                s.schema = true;
            }
        } else if self.is(j, K::Str) && self.t[j].f & F_CLOSED != 0 {
            k = j + 1;
        } else {
            return None;
        }
        // Alias.
        if self.kw(k) == Kw::As {
            if !(self.is_name(k + 1) || self.is(k + 1, K::Str)) {
                return None;
            }
            k += 2;
        } else if self.is_name(k) && !self.name_is(k, b"straight_join") {
            k += 1;
        }
        // WITH (NOLOCK)
        if self.kw(k) == Kw::With && self.is(k + 1, K::LParen) {
            k = self.paren(k + 1)?.0;
        }
        Some(k)
    }

    /// UNION [ALL|DISTINCT] [(] SELECT ..: records the evidence; returns
    /// the end.
    pub fn union_at(&mut self, i: usize) -> Option<usize> {
        self.enter()?;
        let r = self.union_inner(i);
        self.leave();
        r
    }

    fn union_inner(&mut self, i: usize) -> Option<usize> {
        let mut j = i + 1;
        while j < i + 3 && matches!(self.kw(j), Kw::All | Kw::Distinct) {
            j += 1;
        }
        let mut opens = 0;
        while self.is(j, K::LParen) && opens < 8 {
            j += 1;
            opens += 1;
        }
        if self.kw(j) != Kw::Select {
            return None;
        }
        let start = self.start(i);
        let is_union = self.kw(i) == Kw::Union;
        match self.select(j) {
            Some((mut k, s)) => {
                let sc = sel_score(&s);
                let mut m = 0;
                while m < opens && self.is(k, K::RParen) {
                    k += 1;
                    m += 1;
                }
                let base = match (is_union, sc >= 45) {
                    (true, true) => 85,
                    (true, false) => 55,
                    (false, true) => 70,
                    (false, false) => 30,
                };
                let end = self.end_before(k.max(j + 1));
                self.record(Rule::Union, base, 10, start, end);
                Some(k)
            }
            None => {
                let end = self.t[j].end;
                let sc = if is_union { 55 } else { 30 };
                self.record(Rule::Union, sc, 10, start, end);
                None
            }
        }
    }

    /// The rows after VALUES: `(expr, ..)` or MySQL's `ROW(expr, ..)`,
    /// separated by commas; returns the end.
    fn values_rows(&mut self, mut j: usize) -> Option<usize> {
        let mut g = 0;
        loop {
            g += 1;
            if g > 1024 {
                return None;
            }
            if self.word_is(j, b"row") {
                j += 1;
            }
            if !self.is(j, K::LParen) {
                return None;
            }
            j = self.paren(j)?.0;
            if !self.is(j, K::Comma) {
                return Some(j);
            }
            j += 1;
        }
    }

    // ---- statements ----

    /// Statements one after the other (`;` between, or none as MSSQL
    /// allows); returns the end and the best statement score.
    pub fn statements(&mut self, i: usize) -> Option<(usize, u8)> {
        let mut j = i;
        let mut best = 0u8;
        let mut guard = 0;
        loop {
            guard += 1;
            if guard > 256 {
                return Some((j, best));
            }
            let (k, sc) = self.statement(j)?;
            best = best.max(sc);
            j = k;
            while self.is(j, K::Semi) {
                j += 1;
            }
            if j >= self.n || !self.starts_statement(j) {
                return Some((j, best));
            }
        }
    }

    fn starts_statement(&self, j: usize) -> bool {
        (self.wflags(j) & STMT != 0 && self.t.get(j).is_some_and(|t| t.f & F_QUOTED == 0))
            || (self.is(j, K::Word) && self.is_op(j + 1, Op::Colon))
            || self.replace_stmt(j)
    }

    /// `REPLACE [INTO] name`: MySQL's statement, not the function call.
    fn replace_stmt(&self, j: usize) -> bool {
        self.word_is(j, b"replace") && (self.kw(j + 1) == Kw::Into || self.is_name(j + 1))
    }

    fn statement(&mut self, i: usize) -> Option<(usize, u8)> {
        self.enter()?;
        let r = self.statement_inner(i);
        self.leave();
        r
    }

    fn statement_inner(&mut self, i: usize) -> Option<(usize, u8)> {
        self.step()?;
        if self.t.get(i)?.f & F_QUOTED != 0 {
            return None;
        }
        // MySQL's REPLACE [INTO] t ..: an INSERT (not the function).
        let kw = if self.replace_stmt(i) {
            Kw::Insert
        } else {
            self.kw(i)
        };
        match kw {
            Kw::Select => {
                let (j, s) = self.select(i)?;
                Some((j, sel_score(&s)))
            }
            Kw::Insert => {
                let mut j = i + 1;
                if self.word_is(j, b"ignore") {
                    j += 1;
                }
                if self.kw(j) == Kw::Into {
                    j += 1;
                    if j >= self.n && self.cut_ok != Cut::No {
                        // `; INSERT INTO` cut before the table.
                        return Some((j, 40));
                    }
                }
                j = if self.kw(j) == Kw::Object && self.is(j + 1, K::LParen) {
                    // INSERT INTO table (..): a table named `table`.
                    j + 1
                } else {
                    self.qualified_name(j)?
                };
                if j >= self.n && self.cut_ok != Cut::No && self.kw(i + 1) == Kw::Into {
                    // `; INSERT INTO t` cut before the values.
                    return Some((j, 40));
                }
                if self.is(j, K::LParen) {
                    j = self.paren(j)?.0;
                }
                match self.kw(j) {
                    Kw::Values if j + 1 >= self.n => {
                        // `INSERT INTO t (c) VALUES` cut at the end.
                        return Some((j + 1, 60));
                    }
                    Kw::Values => {
                        j += 1;
                        let mut g = 0;
                        loop {
                            g += 1;
                            if g > 1024 || !self.is(j, K::LParen) {
                                return None;
                            }
                            j = self.paren(j)?.0;
                            if self.is(j, K::Comma) {
                                j += 1;
                                continue;
                            }
                            break;
                        }
                    }
                    Kw::Select => j = self.select(j)?.0,
                    Kw::Set => j = self.assignments(j + 1)?,
                    _ => return None,
                }
                Some((j, 75))
            }
            Kw::Update => {
                let mut j = self.qualified_name(i + 1)?;
                if j >= self.n && self.cut_ok == Cut::Any && !self.determiner(i + 1) {
                    // `; UPDATE users` cut before SET.
                    return Some((j, 40));
                }
                if self.is_name(j) {
                    j += 1;
                }
                if self.kw(j) != Kw::Set {
                    return None;
                }
                j = self.assignments(j + 1)?;
                if self.kw(j) == Kw::Where {
                    j = self.expr(j + 1)?.0;
                }
                Some((j, 75))
            }
            Kw::Delete => {
                let mut j = i + 1;
                let mut g = 0;
                while g < 3
                    && (self.word_is(j, b"low_priority")
                        || self.word_is(j, b"quick")
                        || self.word_is(j, b"ignore"))
                {
                    j += 1;
                    g += 1;
                }
                if self.kw(j) != Kw::From {
                    return None;
                }
                if j + 1 >= self.n && self.cut_ok != Cut::No {
                    // `; DELETE FROM` cut before the table.
                    return Some((j + 1, 40));
                }
                j = self.qualified_name(j + 1)?;
                if self.kw(j) == Kw::Where {
                    let (k, _) = self.expr(j + 1)?;
                    return Some((k, 75));
                }
                Some((j, 45))
            }
            Kw::Drop | Kw::Truncate | Kw::Create | Kw::Alter => {
                let mut j = i + 1;
                if kw == Kw::Create && self.kw(j) == Kw::Or {
                    // CREATE OR REPLACE
                    j += 2;
                }
                if self.word_is(j, b"temporary") || self.word_is(j, b"temp") {
                    j += 1;
                }
                let object = matches!(self.kw(j), Kw::Object | Kw::Procedure)
                    || self.word_is(j, b"login")
                    || self.word_is(j, b"column");
                // `DROP/**/t`, `DROP t;--`: no object kind, but written
                // as code (an inline comment, a statement end then a
                // comment).
                let coded = self.t.get(j).is_some_and(|t| t.f & F_COMMENT != 0)
                    || (self.is(j + 1, K::Semi) && j + 2 >= self.n && self.ends_comment);
                if !object
                    && kw == Kw::Drop
                    && self.is_name(j)
                    && ((i > 0 && self.is(i - 1, K::Semi)) || coded)
                {
                    // `; DROP members`: no object kind, still a DROP.
                    let k = self.qualified_name(j)?;
                    return Some((k, 60));
                }
                if !object && kw != Kw::Truncate {
                    return None;
                }
                if object {
                    j += 1;
                    if j >= self.n && self.cut_ok != Cut::No {
                        // `; DROP TABLE` cut before the name.
                        return Some((j, 40));
                    }
                }
                if self.kw(j) == Kw::If {
                    // IF [NOT] EXISTS
                    j += 1;
                    if self.kw(j) == Kw::Not {
                        j += 1;
                    }
                    if self.kw(j) != Kw::Exists {
                        return None;
                    }
                    j += 1;
                }
                j = self.qualified_name(j)?;
                match kw {
                    Kw::Drop => {
                        let mut g = 0;
                        while g < 64 && self.is(j, K::Comma) {
                            j = self.qualified_name(j + 1)?;
                            g += 1;
                        }
                        Some((j, 85))
                    }
                    Kw::Truncate => Some((j, 75)),
                    _ => Some((self.skip_statement(j), 75)),
                }
            }
            Kw::Exec => self.exec_stmt(i),
            Kw::Declare => {
                let mut j = i + 1;
                if self.is_name(j) && self.word_is(j + 1, b"cursor") {
                    // DECLARE c CURSOR FOR SELECT ..
                    if self.kw(j + 2) != Kw::For || self.kw(j + 3) != Kw::Select {
                        return None;
                    }
                    let (k, _) = self.select(j + 3)?;
                    return Some((k, 80));
                }
                let mut g = 0;
                loop {
                    g += 1;
                    if g > 64 || !self.is(j, K::Var) {
                        return None;
                    }
                    j += 1;
                    if j >= self.n && g == 1 {
                        // `DECLARE @b` cut at the end: the type follows.
                        return Some((j, 60));
                    }
                    if self.kw(j) == Kw::As {
                        j += 1;
                    }
                    j = self.type_name(j)?;
                    if self.is_op(j, Op::Eq) {
                        j = self.expr(j + 1)?.0;
                    }
                    if self.is(j, K::Comma) {
                        j += 1;
                        continue;
                    }
                    break;
                }
                Some((j, 80))
            }
            Kw::Set => {
                let var = self.is(i + 1, K::Var);
                let j = self.assignments(i + 1)?;
                Some((j, if var { 65 } else { 40 }))
            }
            Kw::Shutdown => {
                let mut j = i + 1;
                if self.kw(j) == Kw::With && self.is(j + 1, K::Word) {
                    j += 2;
                }
                Some((j, 80))
            }
            Kw::Waitfor => self.waitfor(i),
            Kw::If => {
                let (mut j, e) = self.expr(i + 1)?;
                if self.kw(j) == Kw::Then {
                    j += 1;
                }
                let (mut k, sc) = self.statement(j)?;
                if self.kw(k) == Kw::Else {
                    let (m, sc2) = self.statement(k + 1)?;
                    k = m;
                    return Some((k, sc.max(sc2)));
                }
                let base = if e.cmp || e.subq { 50 } else { 0 };
                Some((k, sc.max(base)))
            }
            Kw::While => {
                let (j, e) = self.expr(i + 1)?;
                let (k, sc) = self.statement(j)?;
                let base = if e.cmp || e.subq { 50 } else { 0 };
                Some((k, sc.max(base)))
            }
            Kw::Begin => {
                let mut j = i + 1;
                if self.word_is(j, b"try")
                    || self.word_is(j, b"catch")
                    || self.word_is(j, b"tran")
                    || self.word_is(j, b"transaction")
                {
                    j += 1;
                }
                if j >= self.n {
                    return Some((j, 0));
                }
                let (mut k, sc) = self.statements(j)?;
                if self.kw(k) == Kw::End {
                    k += 1;
                    if self.is(k, K::Word) && self.kw(k) == Kw::None {
                        k += 1;
                    }
                }
                Some((k, sc))
            }
            Kw::Goto => {
                if self.is_name(i + 1) {
                    Some((i + 2, 40))
                } else {
                    None
                }
            }
            Kw::Use => {
                if self.is_name(i + 1) {
                    Some((i + 2, 30))
                } else {
                    None
                }
            }
            Kw::Call => {
                let j = self.qualified_name(i + 1)?;
                if !self.is(j, K::LParen) {
                    return None;
                }
                let (k, _) = self.args(j + 1)?;
                Some((k, 50))
            }
            Kw::Load => {
                // LOAD DATA [LOCAL] INFILE 'x' INTO TABLE t
                let mut j = i + 1;
                if !(self.word_is(j, b"data") || self.word_is(j, b"xml")) {
                    return None;
                }
                j += 1;
                let mut g = 0;
                while g < 2
                    && (self.word_is(j, b"local")
                        || self.word_is(j, b"low_priority")
                        || self.word_is(j, b"concurrent"))
                {
                    j += 1;
                    g += 1;
                }
                if !self.word_is(j, b"infile") || !self.is(j + 1, K::Str) {
                    return None;
                }
                let end = self.t[j + 1].end;
                self.record(Rule::Exec, 80, 10, self.start(i), end);
                Some((self.skip_statement(j + 2), 80))
            }
            Kw::Copy => {
                // COPY t FROM PROGRAM 'x' / COPY t TO 'file'
                let mut j = self.qualified_name(i + 1)?;
                if !matches!(self.kw(j), Kw::From | Kw::To) {
                    return None;
                }
                j += 1;
                let program = self.word_is(j, b"program");
                if program {
                    j += 1;
                }
                if !self.is(j, K::Str) {
                    return None;
                }
                if program {
                    self.record(Rule::Exec, 85, 10, self.start(i), self.t[j].end);
                }
                Some((j + 1, if program { 85 } else { 70 }))
            }
            Kw::Grant => {
                // GRANT .. ON .. TO ..
                let mut j = i + 1;
                let mut on = false;
                let mut g = 0;
                while g < 32 && j < self.n && !self.is(j, K::Semi) {
                    if self.kw(j) == Kw::On {
                        on = true;
                    }
                    if on && self.kw(j) == Kw::To {
                        return Some((self.skip_statement(j + 1), 70));
                    }
                    j += 1;
                    g += 1;
                }
                None
            }
            _ => {
                // A label: `name:`
                if self.is_name(i) && self.is_op(i + 1, Op::Colon) && self.starts_statement(i + 2) {
                    let (k, sc) = self.statement(i + 2)?;
                    return Some((k, sc));
                }
                None
            }
        }
    }

    /// An English determiner: `from the list` is prose, not a table.
    fn determiner(&self, i: usize) -> bool {
        const DET: [&str; 18] = [
            "a", "an", "the", "my", "your", "our", "their", "his", "her", "its", "this", "that",
            "these", "those", "each", "every", "some", "any",
        ];
        DET.iter().any(|d| self.word_is(i, d.as_bytes()))
    }

    /// Word token `i` is `lower`, any case.
    fn word_is(&self, i: usize, lower: &[u8]) -> bool {
        match self.t.get(i) {
            Some(t) if t.k == K::Word && t.f & F_QUOTED == 0 => self
                .src
                .get(t.start as usize..t.end as usize)
                .is_some_and(|w| w.eq_ignore_ascii_case(lower)),
            _ => false,
        }
    }

    /// `a = expr, b = expr` (SET lists).
    fn assignments(&mut self, mut j: usize) -> Option<usize> {
        let mut g = 0;
        loop {
            g += 1;
            if g > 256 {
                return None;
            }
            if self.is(j, K::Var) {
                j += 1;
            } else {
                j = self.qualified_name(j)?;
            }
            if !matches!(self.op(j), Some(Op::Eq | Op::Assign)) {
                return None;
            }
            j = self.expr(j + 1)?.0;
            if self.is(j, K::Comma) {
                j += 1;
                continue;
            }
            return Some(j);
        }
    }

    /// A possibly qualified name: `t`, `db.t`, `master..t`, `[dbo].[t]`.
    fn qualified_name(&mut self, i: usize) -> Option<usize> {
        if self.is(i, K::Other)
            && self
                .t
                .get(i)
                .is_some_and(|t| self.src.get(t.start as usize) == Some(&b'['))
            && self.is(i + 1, K::Word)
            && i + 2 >= self.n
        {
            // `[name` cut at the end: an MSSQL bracketed name.
            return Some(i + 2);
        }
        if !(self.is_name(i) || self.wflags(i) & SCHEMA != 0) {
            return None;
        }
        let mut j = i + 1;
        let mut g = 0;
        while g < 8 && self.is(j, K::Dot) {
            g += 1;
            if self.is(j + 1, K::Word) {
                j += 2;
            } else if self.is(j + 1, K::Dot) && self.is(j + 2, K::Word) {
                j += 3;
            } else {
                break;
            }
        }
        Some(j)
    }

    /// The rest of a statement read loosely: up to `;` or the end, parentheses
    /// balanced.
    fn skip_statement(&mut self, mut j: usize) -> usize {
        let mut depth = 0u32;
        while j < self.n {
            match self.t[j].k {
                K::Semi if depth == 0 => break,
                K::LParen => depth += 1,
                K::RParen => {
                    if depth == 0 {
                        break;
                    }
                    depth -= 1;
                }
                _ => {}
            }
            j += 1;
        }
        j
    }

    /// EXEC name args / EXEC(expr) / EXEC @var.
    fn exec_stmt(&mut self, i: usize) -> Option<(usize, u8)> {
        let mut j = i + 1;
        if self.is(j, K::LParen) {
            if j + 1 >= self.n {
                return None;
            }
            let (k, _) = self.paren(j)?;
            let end = self.end_before(k);
            self.record(Rule::Exec, 70, 10, self.start(i), end);
            return Some((k, 75));
        }
        if self.word_is(j, b"immediate") && (self.starts_operand(j + 1) || j + 1 >= self.n) {
            // Oracle's dynamic SQL: EXECUTE IMMEDIATE 'stmt' / v_sql.
            let (k, _) = self.expr(j + 1)?;
            let end = self.end_before(k.max(j + 1));
            self.record(Rule::Exec, 70, 10, self.start(i), end);
            return Some((k, 75));
        }
        if self.kw(j) == Kw::As {
            // EXECUTE AS LOGIN = 'x' / EXECUTE AS USER 'x'
            let mut k = j + 1;
            if !self.is(k, K::Word) {
                return None;
            }
            k += 1;
            if self.is_op(k, Op::Eq) {
                k += 1;
            }
            if !self.is(k, K::Str) {
                return None;
            }
            return Some((k + 1, 70));
        }
        if self.is(j, K::Var) {
            // EXEC @ret = proc .. or EXEC @sql
            if self.is_op(j + 1, Op::Eq) {
                j += 2;
            } else {
                return Some((j + 1, 75));
            }
        }
        let first = j;
        let k = self.qualified_name(j)?;
        let last = k - 1;
        let mut fc = Fc::None;
        let mut buf = [0u8; 24];
        if let Some(l) = self.lower(last, &mut buf) {
            fc = words::prefix_category(l);
        }
        if fc == Fc::None {
            fc = self.t[last].word().fc;
        }
        let qualified = last > first;
        // Arguments: expr, @p = expr, .. [OUTPUT]
        let mut m = k;
        let mut g = 0;
        while g < 256 && self.starts_operand(m) {
            g += 1;
            if self.is(m, K::Var) && self.is_op(m + 1, Op::Eq) {
                m += 2;
            }
            m = self.expr(m)?.0;
            if self.is(m, K::Comma) {
                m += 1;
            } else {
                break;
            }
        }
        let system = self.word_starts(last, b"sp_") || self.word_starts(last, b"xp_");
        let sc = if fc == Fc::Exec {
            90
        } else if qualified || system {
            70
        } else {
            30
        };
        if fc == Fc::Exec {
            let end = self.end_before(m);
            self.record(Rule::Exec, 85, 10, self.start(i), end);
        }
        Some((m, sc))
    }

    /// WAITFOR DELAY 'x' / WAITFOR TIME 'x'
    fn waitfor(&mut self, i: usize) -> Option<(usize, u8)> {
        let j = i + 1;
        if !(self.kw(j) == Kw::Delay || self.word_is(j, b"time")) {
            return None;
        }
        if !(self.is(j + 1, K::Str) || self.is(j + 1, K::Var)) {
            return None;
        }
        let end = self.t[j + 1].end;
        self.record(Rule::Time, 85, 10, self.start(i), end);
        Some((j + 2, 85))
    }

    // ---- the two passes ----

    /// The anchored pass; returns whether it read the whole stream, and
    /// records tail evidence when it did.
    pub fn anchored(&mut self, ctx: Ctx, ends: Ends) -> bool {
        self.in_tail = true;
        self.ends_comment = ends.comment;
        self.fsum = 0;
        self.probe = 0;
        let ok = self.tail(ctx, ends);
        self.in_tail = false;
        if ok {
            let t = self.tail_ev;
            self.ev.merge(&t);
        }
        ok
    }

    /// A statement from the first token (bare context).
    fn whole_statement(&mut self) -> bool {
        let n = self.n;
        match self.statements(0) {
            Some((j, sc)) => {
                let clean = j >= n;
                let mut sc = if clean { sc } else { sc / 2 };
                if clean && self.ends_comment && self.is(n - 1, K::Semi) {
                    // `DELETE FROM users;--`: ended and the rest cut off.
                    sc = sc.saturating_add(15).min(100);
                }
                // `drop table lamp`: three words, no SQL punctuation.
                if n <= 3 && self.t.iter().all(|t| t.k == K::Word) {
                    sc = sc.min(40);
                }
                let end = self.end_before(j.max(1));
                self.ev.add(Rule::Query, sc, self.start(0), end);
                if !clean {
                    self.loose_select();
                }
                clean
            }
            None => {
                self.loose_select();
                false
            }
        }
    }

    /// `FROM t WHERE .. [LIMIT ..]`: the rest of a SELECT whose list the
    /// application wrote. Counted only when it reads to the end.
    fn clause_fragment(&mut self) -> bool {
        let mut s = Sel::default();
        if self.determiner(1) {
            return false;
        }
        let Some(mut j) = self.table_list(1, &mut s) else {
            return false;
        };
        // The condition must compare (`where possible` is English).
        let mut cmp = false;
        if self.kw(j) == Kw::Where {
            let Some((k, e)) = self.expr(j + 1) else {
                return false;
            };
            cmp = e.cmp;
            j = k;
        }
        let mut guard = 0;
        while guard < 32 {
            guard += 1;
            match self.select_clause(j, &mut s) {
                Some(Some((k, more))) => {
                    j = k;
                    if !more {
                        break;
                    }
                }
                _ => break,
            }
        }
        if j < self.n {
            return false;
        }
        let sc = if s.schema {
            75
        } else if cmp {
            55
        } else if s.clauses > 0 {
            35
        } else {
            0
        };
        let end = self.t[self.n - 1].end;
        self.tail_ev.add(Rule::Query, sc, self.start(0), end);
        true
    }

    /// A SELECT that does not read to the end (unbalanced, cut): still a
    /// query when constants, calls or `*` come before a FROM and a name.
    fn loose_select(&mut self) {
        if self.kw(0) != Kw::Select {
            return;
        }
        let mut sqlish = false;
        for k in 1..self.n.min(256) {
            let t = self.t[k];
            match t.k {
                K::Num | K::Var => sqlish = true,
                K::Op if t.op() == Some(Op::Mul) => sqlish = true,
                K::Word if t.word().kw == Kw::From => {
                    let table = (self.is(k + 1, K::Word) && !self.determiner(k + 1))
                        || self.is(k + 1, K::LParen);
                    if sqlish && table {
                        let end = self.t[self.n - 1].end;
                        self.ev.add(Rule::Query, 55, self.start(0), end);
                    }
                    return;
                }
                K::Word if t.word().fc != Fc::None && self.is(k + 1, K::LParen) => sqlish = true,
                K::Semi => return,
                _ => {}
            }
        }
    }

    /// Tokens `from..to` hold something only SQL has: a number, a variable,
    /// a comparison or logic operator, an operator word, a call, a string.
    /// `strict` leaves out numbers and strings (`36"+X+48+"` is inches).
    fn sqlish(&self, from: usize, to: usize, strict: bool) -> bool {
        (from..to.min(self.n)).any(|k| {
            let t = self.t[k];
            match t.k {
                K::Var => true,
                K::Num => !strict,
                K::Str => !strict && t.f & F_CLOSED != 0,
                K::Op => t
                    .op()
                    .is_some_and(|o| o.is_cmp() || matches!(o, Op::AndAnd | Op::Pipes)),
                K::Word => {
                    let w = t.word();
                    matches!(
                        w.kw,
                        Kw::And
                            | Kw::Or
                            | Kw::Xor
                            | Kw::OpWord
                            | Kw::Is
                            | Kw::In
                            | Kw::Between
                            | Kw::Not
                            | Kw::Null
                            | Kw::Sounds
                    ) || (w.fc != Fc::None && self.is(k + 1, K::LParen))
                        || w.flags & LIT != 0
                }
                _ => false,
            }
        })
    }

    /// Tokens `from..to` are only strings and logic words: `I said 'or'
    /// not 'and'` is prose about words.
    fn words_and_strings(&self, from: usize, to: usize) -> bool {
        (from..to.min(self.n)).all(|k| {
            let t = self.t[k];
            t.k == K::Str
                || (t.k == K::Word && matches!(t.word().kw, Kw::And | Kw::Or | Kw::Xor | Kw::Not))
        })
    }

    /// An operator or a logic word anywhere in the stream.
    fn has_operator(&self) -> bool {
        self.t.iter().any(|t| {
            t.k == K::Op
                || (t.k == K::Word
                    && matches!(t.word().kw, Kw::And | Kw::Or | Kw::Xor | Kw::OpWord))
        })
    }

    /// An operand among tokens `from..to`: a literal, a variable, a name
    /// or a call (`<!--` has none).
    fn has_operand(&self, from: usize, to: usize) -> bool {
        (from..to.min(self.n)).any(|k| {
            let t = self.t[k];
            match t.k {
                K::Num | K::Str | K::Var => true,
                K::Word => {
                    let w = t.word();
                    t.f & F_QUOTED != 0
                        || w.flags & (RES | LIT) != RES
                        || w.kw == Kw::Null
                        || self.is(k + 1, K::LParen)
                }
                _ => false,
            }
        })
    }

    /// Bare words that are not SQL: no keyword, no function, not quoted.
    fn plain_idents(&self) -> usize {
        self.plain_idents_in(0, self.n)
    }

    /// [`Parser::plain_idents`] among tokens `from..to`.
    fn plain_idents_in(&self, from: usize, to: usize) -> usize {
        let mut count = 0;
        for k in from..to.min(self.n) {
            let t = &self.t[k];
            // Unknown words and words that are only type names (`text/*`).
            let w = t.word();
            let plain = t.w == words::NONE
                || (w.kw == Kw::None && w.fc == Fc::None && w.flags & (LIT | RES | SCHEMA) == 0);
            if t.k == K::Word && t.f & F_QUOTED == 0 && plain && !self.is(k + 1, K::LParen) {
                count += 1;
            }
        }
        count
    }

    fn tail(&mut self, ctx: Ctx, ends: Ends) -> bool {
        let n = self.n;
        if n == 0 {
            return false;
        }
        if ctx == Ctx::Bare && self.starts_statement(0) {
            return self.whole_statement();
        }
        if ctx == Ctx::Bare && self.kw(0) == Kw::From {
            return self.clause_fragment();
        }
        let (start, first, virtual_operand) = match ctx {
            Ctx::Quote => (1, Some(Ex::operand()), false),
            Ctx::Bare if self.starts_operand(0) => (0, None, false),
            Ctx::Bare => (0, Some(Ex::operand()), true),
        };
        let first_tok = self.t[0];
        let word_first = ctx == Ctx::Bare && !virtual_operand && first_tok.k == K::Word;
        let Some((mut i, mut ex)) = self.expr_from(start, first) else {
            return false;
        };
        let first_single = first.is_some() || ex.nops <= 1;
        // An operator followed the string the value closed.
        let continued = ctx == Ctx::Quote && i > 1;
        let breakout_at = if ctx == Ctx::Quote {
            first_tok.end.saturating_sub(1)
        } else {
            self.start(0)
        };
        // Parentheses the application opened.
        let mut closes = 0;
        while self.is(i, K::RParen) && closes < 8 {
            closes += 1;
            let Some((j, e)) = self.expr_from(i + 1, Some(Ex::operand())) else {
                return false;
            };
            if e.taut > ex.taut {
                ex.taut = e.taut;
                ex.taut_json = e.taut_json;
                ex.taut_at = e.taut_at;
            }
            ex.logic |= e.logic;
            i = j;
        }
        let after_operand = i;
        // Clauses after the condition.
        let mut guard = 0;
        while guard < 16 {
            guard += 1;
            match self.kw(i) {
                Kw::Union | Kw::Intersect | Kw::Except | Kw::Minus => match self.union_at(i) {
                    Some(j) => i = j,
                    None => {
                        // `-1 union` cut at the end: the start of a UNION probe.
                        let mut j = i + 1;
                        while j < n && matches!(self.kw(j), Kw::All | Kw::Distinct) {
                            j += 1;
                        }
                        let operand = ctx == Ctx::Quote || (ex.lit && !ex.strs) || closes > 0;
                        if operand && self.kw(j) == Kw::Values {
                            // `1 except values(1,2)`, `' union values (1,2)`:
                            // a set operator with a row constructor
                            // (PostgreSQL, SQLite, MySQL 8).
                            let Some(k) = self.values_rows(j + 1) else {
                                return false;
                            };
                            let end = self.end_before(k);
                            self.tail_ev.add(Rule::Union, 55, self.start(i), end);
                            i = k;
                            continue;
                        }
                        if j < n || self.kw(i) != Kw::Union || !operand {
                            return false;
                        }
                        let end = self.t[n - 1].end;
                        self.tail_ev.add(Rule::Union, 50, self.start(i), end);
                        i = n;
                    }
                },
                Kw::Group | Kw::Order if self.kw(i + 1) == Kw::By => {
                    let at = self.start(i);
                    let numeric = self.is(i + 2, K::Num);
                    let fsum = self.fsum;
                    let Some(j) = self.expr_list(i + 2) else {
                        return false;
                    };
                    let calls = self.fsum >= fsum + 20;
                    let mut sc = if numeric || calls { 60 } else { 25 };
                    if word_first {
                        sc = sc.min(40);
                    }
                    if sc > self.probe {
                        self.probe = sc;
                        self.probe_at = at;
                    }
                    i = j;
                }
                Kw::Having => {
                    let at = self.start(i);
                    let Some((j, e)) = self.expr(i + 1) else {
                        return false;
                    };
                    let sc = if strength(&e) >= 1 || e.taut >= 1 {
                        70
                    } else {
                        20
                    };
                    if sc > self.probe {
                        self.probe = sc;
                        self.probe_at = at;
                    }
                    i = j;
                }
                Kw::Limit | Kw::Offset => {
                    let Some((mut j, _)) = self.expr(i + 1) else {
                        return false;
                    };
                    if self.is(j, K::Comma) || self.kw(j) == Kw::Offset {
                        let Some((k, _)) = self.expr(j + 1) else {
                            return false;
                        };
                        j = k;
                    }
                    i = j;
                }
                Kw::Procedure => match self.procedure(i) {
                    Some(j) => i = j,
                    None => return false,
                },
                Kw::For if self.kw(i + 1) == Kw::Update => i += 2,
                Kw::From if closes > 0 => {
                    // 1) FROM users WHERE ..: the value closed a select list.
                    let at = self.start(i);
                    let mut s = Sel::default();
                    let Some(j) = self.table_list(i + 1, &mut s) else {
                        return false;
                    };
                    if self.kw(j) != Kw::Where {
                        return false;
                    }
                    let Some((k, _)) = self.expr(j + 1) else {
                        return false;
                    };
                    let end = self.end_before(k);
                    self.tail_ev.add(Rule::Query, 60, at, end);
                    i = k;
                }
                Kw::Into => match self.into(i) {
                    Some(j) => i = j,
                    None => return false,
                },
                Kw::Where => {
                    let Some((j, e)) = self.expr(i + 1) else {
                        return false;
                    };
                    let st = strength(&e).max(e.taut);
                    if st >= 2 && st > ex.taut {
                        ex.taut = st;
                        ex.taut_at = self.start(i);
                        ex.logic = true;
                    }
                    i = j;
                }
                _ => break,
            }
        }
        // Stacked statements.
        let mut stacked = false;
        // The condition ends with `;` (and what follows is no statement:
        // the database runs the first statement, then fails on the rest).
        let mut semi_end = false;
        let mut g = 0;
        while g < 64 && i < n {
            g += 1;
            let semi = self.is(i, K::Semi);
            if semi {
                i += 1;
                if i >= n {
                    semi_end = !stacked;
                    break;
                }
                if !stacked && !self.starts_statement(i) {
                    // Junk after the end: strong constructs in it are
                    // left to the scan.
                    semi_end = true;
                    self.junk = true;
                    i = n;
                    break;
                }
            }
            if !(semi || self.starts_statement(i)) {
                break;
            }
            // `;update users`, `1; insert into`, `x'; drop table`: the
            // separator right after the operand, then a statement cut
            // after its head and object (the value ends there).
            // After a number (`1; update firmware` is also a note), only
            // heads of two keywords: `1; insert into`, `1; drop table`.
            let lone = if !semi || i != after_operand + 1 {
                Cut::No
            } else {
                match ctx {
                    Ctx::Quote if after_operand == 1 + closes => Cut::Any,
                    Ctx::Bare if virtual_operand && after_operand == closes => Cut::Any,
                    Ctx::Bare if first_tok.k == K::Num && after_operand == 1 + closes => {
                        Cut::Keywords
                    }
                    _ => Cut::No,
                }
            };
            let at = self.start(i);
            self.cut_ok = lone;
            let read = self.statements(i);
            self.cut_ok = Cut::No;
            let Some((j, sc)) = read else {
                return false;
            };
            let end = self.end_before(j);
            // Counted only if the whole value reads (the scan finds `;`).
            let sc = if semi { sc + 10 } else { sc };
            self.tail_ev.add(Rule::Stacked, sc.min(100), at, end);
            stacked = true;
            i = j;
        }
        // `and 1=1'`, `or 2=2'`: a quote glued to the end of the
        // condition, the classic error probe (the query breaks on it).
        if ctx == Ctx::Bare && i > 0 && i + 1 == n && !stacked {
            let t = self.t[i];
            if t.k == K::Str && t.f & (F_CLOSED | F_SPACE) == 0 && t.end == t.start + 1 {
                i = n;
            }
        }
        if i < n {
            return false;
        }
        let end = self.t[n - 1].end;
        let last = self.t[n - 1];
        // The value ends inside a string it opened: the application's
        // closing quote closes it.
        let reopened = n > 1 && last.k == K::Str && last.f & F_CLOSED == 0;
        // The weak shapes count only now that the whole value is read.
        if ex.logic {
            let s = ex.taut;
            let mut sc = match s {
                3 => 80,
                2 => 60,
                1 if ends.comment && !ends.prose => 60,
                1 if ctx == Ctx::Quote => 50,
                1 => 35,
                _ => 0,
            };
            if ctx == Ctx::Bare {
                if !first_single {
                    sc = if s == 3 { 60 } else { sc.min(30) };
                } else if word_first && s < 3 {
                    sc = sc.min(40);
                } else if s < 3 && matches!(first_tok.op(), Some(Op::AndAnd | Op::Pipes)) {
                    // `&&(a="`, `|| langCode == '`: C-family code (JavaScript,
                    // PHP) starts with these too; only a comparison of
                    // constants (`|| 1=1`) reads as SQL.
                    sc = sc.min(35);
                }
            }
            let rule = if ex.taut_json {
                Rule::Json
            } else {
                Rule::Tautology
            };
            self.tail_ev.add(rule, sc, ex.taut_at, end);
        }
        if ex.jcast && (ex.nops >= 2 || ex.logic || ex.cmp) {
            // '{"a":1}'::jsonb @> .. : a JSON literal put to a JSON operator.
            self.tail_ev.add(Rule::Json, 55, breakout_at, end);
        }
        if ex.errcast {
            // password::int : the failed cast shows the value.
            self.tail_ev.add(Rule::Error, 50, breakout_at, end);
        }
        if self.probe > 0 {
            let mut sc = self.probe;
            if ctx == Ctx::Quote {
                sc += 5;
            }
            if ends.comment {
                sc += 10;
            }
            self.tail_ev.add(Rule::Probe, sc, self.probe_at, end);
        }
        if ctx == Ctx::Quote {
            let quote = self.src.get(breakout_at as usize).copied().unwrap_or(b'\'');
            // A comment that cuts the query after a single word (`admin'--`,
            // `1'--sp_password`, `admin'#`; not `FOO BAR'# BLAH` nor `7" #2`).
            let one_word = !self.src[..first_tok.end as usize].contains(&b' ');
            let cut = ends.comment
                && match ends.kind {
                    _ if !one_word => false,
                    b'#' => ends.plain,
                    _ => true,
                };
            // admin'; : the quote closed and the statement ended there.
            let semi_cut =
                semi_end && one_word && self.is(after_operand, K::Semi) && after_operand + 1 == n;
            if after_operand == 1 + closes && after_operand == n && cut && !ends.prose {
                // admin'-- : the quote closed, the rest of the query cut off.
                self.tail_ev.add(Rule::Breakout, 60, breakout_at, end);
            } else if after_operand == 1 + closes && semi_cut {
                self.tail_ev.add(Rule::Breakout, 55, breakout_at, end);
            } else if continued && !stacked {
                // aa'!='1 : the quote closed, an expression, a string reopened.
                let same = reopened && self.src.get(last.start as usize) == Some(&quote);
                // `a '&' b`: a symbol quoted in prose (space outside both
                // quotes), not `a'&'b`.
                let quoted_word = n == 3
                    && self.src[..first_tok.end as usize]
                        .iter()
                        .rev()
                        .nth(1)
                        .is_some_and(|&c| lex::is_space(c))
                    && self
                        .src
                        .get(last.start as usize + 1)
                        .is_none_or(|&c| lex::is_space(c));
                // x'|email-- : an operator on a column, the rest cut off.
                let arith = cut
                    && !ends.prose
                    && n == 3
                    && self.is(2, K::Word)
                    && self
                        .op(1)
                        .is_some_and(|o| o.is_arith() && !matches!(o, Op::Arrow | Op::Assign));
                // x'collate nocase-- , ' notnull -- : a postfix operator on
                // the closed string, the rest cut off.
                let post = ex.post && ends.comment && !ends.prose;
                let sql = (self.sqlish(1, n, quote == b'"')
                    || arith
                    || post
                    || (quote == b'\'' && same && self.plain_idents_in(1, n) == 0))
                    && !quoted_word
                    && !(n > 3 && self.words_and_strings(1, n))
                    && self.has_operand(1, n);
                // x' or json(id); , x'glob 1; : the statement ended right
                // there, after a comparison or a call (not `boys' or girls;`).
                let ended = quote == b'\''
                    && semi_end
                    && self.is(n - 1, K::Semi)
                    && (ex.cmp
                        || ex.taut > 0
                        || (1..n).any(|k| self.is(k, K::Word) && self.is(k + 1, K::LParen)));
                let mut sc = if (reopened || ends.comment || ended) && sql {
                    60
                } else {
                    40
                };
                if quote == b'"' && n == 3 {
                    // "LIKE" stamp: a quoted word in prose.
                    sc = 40;
                }
                self.tail_ev.add(Rule::Breakout, sc, breakout_at, end);
            }
        } else if ends.comment
            && ends.plain
            && !ends.prose
            && !stacked
            && self.plain_idents() == 0
            && !(n == 1 && first_tok.k == K::Str)
            && (ends.empty || self.has_operator())
            && self.has_operand(0, n)
        {
            // 1-- , ( 1 OR @a ) -- : SQL to the end, the rest commented out.
            self.tail_ev.add(Rule::Breakout, 55, breakout_at, end);
        }
        if self.fsum >= 20 {
            let bonus = match ctx {
                Ctx::Quote => 15,
                Ctx::Bare if virtual_operand || first_tok.k == K::Num => 10,
                Ctx::Bare => 0,
            };
            let sc = (self.fsum.min(85) as u8).saturating_add(bonus);
            self.tail_ev.add(Rule::Function, sc, breakout_at, end);
        }
        true
    }

    /// The anchor scan over the whole stream.
    pub fn scan(&mut self) {
        let n = self.n;
        let mut i = 0;
        while i < n {
            if self.steps > self.budget() {
                return;
            }
            let t = self.t[i];
            let next = match t.k {
                K::Word if t.f & F_QUOTED == 0 => {
                    let w = t.word();
                    match w.kw {
                        Kw::Union | Kw::Intersect | Kw::Except | Kw::Minus => self.union_at(i),
                        Kw::Waitfor => self.waitfor(i).map(|r| r.0),
                        Kw::Into if self.kw(i + 1) == Kw::Outfile => self.into(i),
                        Kw::Exec if i > 0 && !self.is(i - 1, K::Dot) => {
                            self.exec_stmt(i).map(|r| r.0)
                        }
                        Kw::Declare if i > 0 => match self.statement(i) {
                            Some((j, sc)) => {
                                let end = self.end_before(j);
                                self.ev
                                    .add(Rule::Stacked, sc.saturating_sub(10), t.start, end);
                                Some(j)
                            }
                            None => None,
                        },
                        _ if self.is(i + 1, K::LParen)
                            && matches!(w.fc, Fc::Time | Fc::Error | Fc::Exec) =>
                        {
                            self.word_primary(i).map(|r| r.0)
                        }
                        _ if self.is(i + 1, K::Dot) => {
                            let mut buf = [0u8; 24];
                            let qc = self
                                .lower(i, &mut buf)
                                .map_or(Fc::None, words::qualifier_category);
                            if qc != Fc::None || w.flags & SCHEMA != 0 {
                                self.word_primary(i).map(|r| r.0)
                            } else {
                                None
                            }
                        }
                        _ if w.flags & SCHEMA != 0 => {
                            self.ev.add(Rule::Schema, 40, t.start, t.end);
                            None
                        }
                        Kw::None if self.is(i + 1, K::LParen) => {
                            let mut buf = [0u8; 24];
                            let pc = self
                                .lower(i, &mut buf)
                                .map_or(Fc::None, words::prefix_category);
                            if pc != Fc::None {
                                self.word_primary(i).map(|r| r.0)
                            } else {
                                None
                            }
                        }
                        _ => None,
                    }
                }
                K::LParen if self.kw(i + 1) == Kw::Select => self.paren(i).map(|r| r.0),
                K::Semi if i + 1 < n && self.starts_statement(i + 1) => {
                    match self.statements(i + 1) {
                        Some((j, sc)) => {
                            let clean = j >= n || self.is(j, K::Semi);
                            let sc = if clean { sc } else { sc.saturating_sub(20) };
                            let end = self.end_before(j);
                            self.ev.add(Rule::Stacked, sc, t.start, end);
                            Some(j)
                        }
                        None => None,
                    }
                }
                _ => None,
            };
            i = match next {
                Some(j) if j > i => j,
                _ => i + 1,
            };
        }
    }

    /// The bonus for obfuscation seen in the stream: 15 for MySQL
    /// executable comments, 10 for inline comments before words or
    /// irregular case of keywords, else 0.
    pub fn obfuscation(&self) -> u8 {
        let mut b = 0;
        for t in self.t {
            if t.f & F_EXEC != 0 {
                return 15;
            }
            if t.f & F_MIXED != 0 || (t.f & F_COMMENT != 0 && t.k == K::Word) {
                b = 10;
            }
        }
        b
    }
}

/// What the arguments of a call are made of.
#[derive(Debug, Clone, Copy, Default)]
struct Args {
    nargs: u16,
    /// The first argument is a constant (or a subquery).
    first_lit: bool,
    /// Every argument is a constant (true for no arguments).
    all_lit: bool,
    fw: u8,
    subq: bool,
    json: bool,
}
