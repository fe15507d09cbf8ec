//! The typed IR: the checked, backend-neutral form of a rule set and the
//! contract between the checker and the back-ends (the reference
//! interpreter now, the cranelift JIT later).
//!
//! Everything is flat: expressions live in one arena ([`Program::exprs`]) and
//! refer to each other, to constants, paths, globs and counters by index.
//! Children always come before their parents, so a back-end can compile the
//! arena in one forward pass. Point references are bound to *slots* by
//! [`Op::Any`] / [`Op::All`] loops: a slot holds a node of the request tree.
//! Evaluation order is normative (left to right, `and`/`or` short-circuit)
//! because counters record an event when they are evaluated.

use rampart_types::Class;

use crate::glob::Glob;
use crate::path::{PointPath, Template};

/// Index into [`Program::exprs`].
pub type ExprId = u32;

/// The type of an expression.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ty {
    Bool,
    Num,
    Str,
}

impl Ty {
    pub fn as_str(self) -> &'static str {
        match self {
            Ty::Bool => "bool",
            Ty::Num => "num",
            Ty::Str => "str",
        }
    }
}

/// A request-independent value the host provides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    /// `client.ip` (str).
    ClientIp,
    /// `client.session` (str): the session key the engine derives.
    ClientSession,
    /// `response.status` (num), response phase only.
    ResponseStatus,
}

/// Comparison operators; `Str` compares bytes, `Num` compares numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// Built-in functions over values (not the ones with their own [`Op`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Builtin {
    Len,
    Lower,
    Upper,
    Trim,
    /// Parses a number (absent when the text is not one).
    Num,
    Contains,
    StartsWith,
    EndsWith,
    IsInt,
    IsNumber,
    IsUuid,
    IsEmail,
    IsBase64,
    IsHex,
    IsIp,
    IsIpv4,
    IsIpv6,
    IsJwt,
    IsAlnum,
    IsAscii,
    /// Shannon entropy of the bytes, in bits per byte.
    Entropy,
    /// Share (0..=1) of the bytes in a [`crate::profile::CharClass`]
    /// (written as the call's second argument, a constant; the call has
    /// one operand).
    CharRatio(crate::profile::CharClass),
}

/// One operation. Operands are [`ExprId`]s of earlier expressions.
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    Bool(bool),
    Num(f64),
    /// A constant string from [`Program::strings`].
    Str(u32),
    /// The value of the node in a slot.
    Slot(u16),
    /// A path parameter of the rule's endpoint template (`path.id`): index
    /// of the `{name}` among the template's parameters.
    PathParam(u16),
    Context(Context),
    /// The first point carrying a path (counter keys), absent when none.
    First(u32),
    /// Some point carries the path.
    Exists(u32),
    /// True when `body` holds for some point carrying `path` (bound to `slot`).
    Any {
        path: u32,
        slot: u16,
        body: ExprId,
    },
    /// True when `body` holds for every point carrying `path` (and when none does).
    All {
        path: u32,
        slot: u16,
        body: ExprId,
    },
    Not(ExprId),
    /// Short-circuit conjunction over `args[start..end]`.
    And(u32, u32),
    Or(u32, u32),
    Cmp(Cmp, ExprId, ExprId),
    /// The value is one of a constant list ([`Program::lists`]).
    In(ExprId, u32),
    /// The value matches a glob ([`Program::globs`]).
    Glob(ExprId, u32),
    /// A built-in over `args[start..end]`.
    Call(Builtin, u32, u32),
    /// A finding of the detectors at the node in `slot` or below it (the
    /// whole request when `None`), of a class (any attack class when
    /// `None`), of a detector rule name ([`Program::strings`]), with at
    /// least `min_score`.
    Finding {
        slot: Option<u16>,
        class: Option<Class>,
        rule: Option<u32>,
        min_score: u8,
    },
    /// Distance (0..=1) between the character classes of the node in the
    /// slot and its learned profile; absent without a profile.
    Deviation(u16),
    /// z-score of the node's length against its learned profile.
    LengthZ(u16),
    /// The name of the node in the slot (`str`): the key of the node, or
    /// of the nearest member above it through index and layer steps;
    /// absent when a source comes first ([`crate::view::named_node`]).
    Name(u16),
    /// Records an event in a counter and yields its value ([`Program::counters`]).
    Counter(u32),
}

/// An expression: an operation and its type.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub op: Op,
    pub ty: Ty,
}

/// A constant list for `in [..]`.
#[derive(Debug, Clone, PartialEq)]
pub enum ConstList {
    Str(Vec<Box<[u8]>>),
    Num(Vec<f64>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CounterKind {
    /// Events in the window.
    Count,
    /// Distinct values of the last key expression in the window.
    Distinct,
}

/// A `count(..)`/`distinct(..)` site. Keys are `args[keys.0..keys.1]`; for
/// `Distinct` the last one is the counted value.
#[derive(Debug, Clone, PartialEq)]
pub struct CounterSite {
    pub kind: CounterKind,
    pub keys: (u32, u32),
    pub window_ms: u64,
    /// Index of the rule the site belongs to (counters are per rule).
    pub rule: u32,
}

/// Severity of a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn parse(s: &str) -> Option<Severity> {
        Some(match s {
            "info" => Severity::Info,
            "low" => Severity::Low,
            "medium" => Severity::Medium,
            "high" => Severity::High,
            "critical" => Severity::Critical,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

/// Who wrote a rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Custom,
    /// Emitted by a learner, with its explanation.
    Learned(String),
}

/// When a rule runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RulePhase {
    /// Once the request (headers and body) is known.
    Request,
    /// Once the response status is known (the rule reads `response.*`).
    Response,
}

/// Where a rule applies. Empty lists mean "any".
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Scope {
    /// Host globs, lower-case.
    pub hosts: Vec<Glob>,
    /// Upper-case method names.
    pub methods: Vec<String>,
    pub endpoints: Vec<Template>,
}

/// An `allow` exception.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Exception {
    /// Rule ids suppressed; empty with no tags means "all rules".
    pub rules: Vec<String>,
    /// Rules carrying any of these tags are suppressed.
    pub tags: Vec<String>,
    /// Detector findings of this class are suppressed (all when `None`
    /// and `rules`/`tags` are empty).
    pub class: Option<Class>,
    /// Only findings at this point (or below) are suppressed.
    pub point: Option<PointPath>,
    /// The exception names rules or tags only: detector findings stay.
    pub rules_only: bool,
}

/// What a rule does when it matches.
#[derive(Debug, Clone, PartialEq)]
pub enum ActionIr {
    Block {
        status: u16,
        page: Option<String>,
    },
    Monitor,
    Allow(Exception),
    /// Adds to a class's score, or to the total when `class` is `None`.
    Score {
        points: i32,
        class: Option<Class>,
    },
    Tag(Vec<String>),
    Mask(PointPath),
    /// Once the key's events in `window_ms` exceed `limit`, block the key
    /// for `ban_ms` (its requests in the rule's scope are blocked).
    RateLimit {
        key: ExprId,
        limit: u64,
        window_ms: u64,
        ban_ms: u64,
        status: u16,
    },
    /// Block even when the node is in monitor mode.
    VirtualPatch {
        status: u16,
    },
}

/// One checked rule.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleIr {
    pub id: String,
    pub name: String,
    pub set: Option<String>,
    pub priority: i64,
    pub tags: Vec<String>,
    pub severity: Severity,
    /// 0..=100.
    pub confidence: u8,
    pub origin: Origin,
    pub scope: Scope,
    pub phase: RulePhase,
    /// `None`: the rule matches every request in its scope.
    pub cond: Option<ExprId>,
    pub actions: Vec<ActionIr>,
    /// Number of slots the condition uses.
    pub slots: u16,
    /// Where the rule was written (`file:line:col`).
    pub location: String,
}

/// A checked rule set, ready for a back-end. Rules are in evaluation
/// order: priority descending, `allow` rules first within a priority, then
/// source order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Program {
    pub rules: Vec<RuleIr>,
    pub exprs: Vec<Expr>,
    /// Operand lists of `And`, `Or`, `Call` and counter keys.
    pub args: Vec<ExprId>,
    pub strings: Vec<Box<[u8]>>,
    pub paths: Vec<PointPath>,
    pub globs: Vec<Glob>,
    pub lists: Vec<ConstList>,
    pub counters: Vec<CounterSite>,
}

impl Program {
    pub fn expr(&self, id: ExprId) -> &Expr {
        &self.exprs[id as usize]
    }

    /// The expressions an expression reads (its operands, list members and
    /// counter keys).
    pub fn operands(&self, id: ExprId) -> Vec<ExprId> {
        match &self.expr(id).op {
            Op::Any { body, .. } | Op::All { body, .. } | Op::Not(body) => vec![*body],
            Op::And(s, e) | Op::Or(s, e) | Op::Call(_, s, e) => self.args_of(*s, *e).to_vec(),
            Op::Cmp(_, l, r) => vec![*l, *r],
            Op::In(v, _) | Op::Glob(v, _) => vec![*v],
            Op::Counter(c) => match self.counters.get(*c as usize) {
                Some(site) => self.args_of(site.keys.0, site.keys.1).to_vec(),
                None => Vec::new(),
            },
            _ => Vec::new(),
        }
    }

    /// Checks the invariants back-ends rely on: every index in range,
    /// operands before their users, slots within each rule's count, types
    /// as the operations require. `Err` names the first violation.
    pub fn validate(&self) -> Result<(), String> {
        let n = self.exprs.len() as u32;
        for (i, e) in self.exprs.iter().enumerate() {
            let i = i as u32;
            let in_range = |idx: u32, len: usize, what: &str| {
                if (idx as usize) < len {
                    Ok(())
                } else {
                    Err(format!("expr {i}: {what} {idx} out of range"))
                }
            };
            match &e.op {
                Op::Str(s) => in_range(*s, self.strings.len(), "string")?,
                Op::First(p) | Op::Exists(p) => in_range(*p, self.paths.len(), "path")?,
                Op::Any { path, .. } | Op::All { path, .. } => {
                    in_range(*path, self.paths.len(), "path")?
                }
                Op::In(_, l) => in_range(*l, self.lists.len(), "list")?,
                Op::Glob(_, g) => in_range(*g, self.globs.len(), "glob")?,
                Op::Counter(c) => in_range(*c, self.counters.len(), "counter")?,
                Op::Finding { rule: Some(r), .. } => in_range(*r, self.strings.len(), "string")?,
                Op::And(s, e) | Op::Or(s, e) | Op::Call(_, s, e)
                    if s > e || *e as usize > self.args.len() =>
                {
                    return Err(format!("expr {i}: operand list {s}..{e} out of range"));
                }
                _ => {}
            }
            for o in self.operands(i) {
                if o >= i || o >= n {
                    return Err(format!("expr {i}: operand {o} does not come before it"));
                }
            }
            let want_bool = matches!(
                e.op,
                Op::Any { .. }
                    | Op::All { .. }
                    | Op::Not(_)
                    | Op::And(..)
                    | Op::Or(..)
                    | Op::Cmp(..)
                    | Op::In(..)
                    | Op::Glob(..)
                    | Op::Exists(_)
                    | Op::Finding { .. }
            );
            if want_bool && e.ty != Ty::Bool {
                return Err(format!("expr {i}: {:?} must be bool", e.op));
            }
        }
        for (ri, r) in self.rules.iter().enumerate() {
            if let Some(c) = r.cond {
                if c >= n || self.expr(c).ty != Ty::Bool {
                    return Err(format!("rule {ri}: condition is not a bool expression"));
                }
            }
        }
        for (ci, c) in self.counters.iter().enumerate() {
            if c.rule as usize >= self.rules.len() {
                return Err(format!("counter {ci}: rule {} out of range", c.rule));
            }
        }
        Ok(())
    }

    pub fn args_of(&self, start: u32, end: u32) -> &[ExprId] {
        &self.args[start as usize..end as usize]
    }
}
