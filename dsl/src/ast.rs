//! The syntax tree of a rule file. Every node carries its [`Span`].

use crate::span::{Span, Spanned};

/// One parsed file.
#[derive(Debug, Clone, Default)]
pub struct File {
    pub items: Vec<Item>,
}

#[derive(Debug, Clone)]
pub enum Item {
    Include(Spanned<String>),
    RuleSet(RuleSet),
    Rule(Rule),
}

/// `ruleset "name" priority N { scope clauses and rules }`.
#[derive(Debug, Clone)]
pub struct RuleSet {
    pub name: Spanned<String>,
    pub priority: Spanned<i64>,
    /// Scope clauses every rule of the set inherits.
    pub clauses: Vec<Clause>,
    pub rules: Vec<Rule>,
    pub span: Span,
}

/// `rule ID "name" { clauses }`.
#[derive(Debug, Clone)]
pub struct Rule {
    pub id: Spanned<String>,
    pub name: Spanned<String>,
    pub clauses: Vec<Clause>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Clause {
    pub kind: ClauseKind,
    /// The span of the clause keyword (used for duplicate reports).
    pub keyword: Span,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum ClauseKind {
    Tags(Vec<Spanned<String>>),
    Severity(Spanned<String>),
    Confidence(Spanned<f64>),
    Origin {
        kind: Spanned<String>,
        explanation: Option<Spanned<String>>,
    },
    Host(Vec<Spanned<String>>),
    Method(Vec<Spanned<String>>),
    Endpoint(Vec<Spanned<String>>),
    When(Expr),
    Then(Vec<Action>),
}

impl ClauseKind {
    /// The clause keyword as written.
    pub fn keyword(&self) -> &'static str {
        match self {
            ClauseKind::Tags(_) => "tags",
            ClauseKind::Severity(_) => "severity",
            ClauseKind::Confidence(_) => "confidence",
            ClauseKind::Origin { .. } => "origin",
            ClauseKind::Host(_) => "host",
            ClauseKind::Method(_) => "method",
            ClauseKind::Endpoint(_) => "endpoint",
            ClauseKind::When(_) => "when",
            ClauseKind::Then(_) => "then",
        }
    }
}

/// `name` or `name(args)` in a `then` clause.
#[derive(Debug, Clone)]
pub struct Action {
    pub name: Spanned<String>,
    pub args: Vec<Arg>,
    pub span: Span,
}

/// A positional or named (`name = expr`) argument.
#[derive(Debug, Clone)]
pub struct Arg {
    pub name: Option<Spanned<String>>,
    pub value: Expr,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    pub fn as_str(self) -> &'static str {
        match self {
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quantifier {
    Any,
    All,
}

#[derive(Debug, Clone)]
pub enum ExprKind {
    Bool(bool),
    Num(f64),
    Str(Vec<u8>),
    /// A number with a unit, checked later (`1m`, `500ms`).
    Duration {
        amount: u64,
        unit: String,
    },
    Point(PathAst),
    List(Vec<Expr>),
    Not(Box<Expr>),
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Cmp {
        op: CmpOp,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    In {
        negated: bool,
        lhs: Box<Expr>,
        list: Box<Expr>,
    },
    Glob {
        negated: bool,
        lhs: Box<Expr>,
        pattern: Box<Expr>,
    },
    Call {
        name: Spanned<String>,
        args: Vec<Arg>,
    },
    Quant {
        q: Quantifier,
        path: PathAst,
        body: Box<Expr>,
    },
}

/// A point path as written: a root name and steps.
#[derive(Debug, Clone, PartialEq)]
pub struct PathAst {
    pub root: Spanned<String>,
    pub steps: Vec<Spanned<StepAst>>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum StepAst {
    /// `.name` or `["name"]`.
    Member(Vec<u8>),
    /// `[3]`.
    Index(u32),
    /// `:json`.
    Layer(String),
    /// `.*` or `[*]`: any one member or index.
    Wild,
    /// `.**`: any number of levels (one or more), through layers.
    DeepWild,
}
