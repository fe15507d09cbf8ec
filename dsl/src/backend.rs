//! The back-end contract: a [`RuleBackend`] compiles a checked
//! [`Program`] into an [`Evaluator`]; an evaluator answers, for one request
//! and phase, which rules matched and which of their actions took effect.
//! The reference interpreter ([`crate::interp::Interpreter`]) is the oracle
//! every other back-end (the cranelift JIT) must agree with.

use std::fmt;
use std::sync::Arc;

use rampart_types::Mode;

use crate::counters::CounterStore;
use crate::ir::{ActionIr, Program, RulePhase};
use crate::view::RequestView;

/// Why a back-end refused a program.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackendError(pub String);

impl fmt::Display for BackendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BackendError {}

/// Compiles programs. Building is where the expensive work happens (the
/// scope index, native code); evaluation allocates little.
pub trait RuleBackend {
    type Evaluator: Evaluator;

    fn name(&self) -> &'static str;

    fn compile(&self, program: Arc<Program>) -> Result<Self::Evaluator, BackendError>;
}

/// A compiled rule set. Shared by all requests (`Send + Sync`); the state
/// that changes (counters) is passed in.
pub trait Evaluator: Send + Sync {
    /// The program this evaluator runs.
    fn program(&self) -> &Program;

    /// Evaluates the rules of `phase` that can apply to the request. `now`
    /// is a time in milliseconds for counters. Clears `out` first.
    fn evaluate(
        &self,
        req: &dyn RequestView,
        phase: RulePhase,
        counters: &mut dyn CounterStore,
        now_ms: u64,
        out: &mut Outcome,
    );
}

/// An action of a rule that took effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fired {
    /// Index of the rule in [`Program::rules`].
    pub rule: u32,
    /// Index of the action in the rule's actions.
    pub action: u16,
}

/// What the rules said about one request in one phase.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Rules whose condition held (or whose rate-limit ban applied), in
    /// evaluation order.
    pub matched: Vec<u32>,
    /// Actions that took effect, in evaluation order. A `rate_limit`
    /// appears only when it blocks.
    pub fired: Vec<Fired>,
    /// Rules not evaluated because an `allow` exception covered them.
    pub suppressed: Vec<u32>,
    /// Number of rules evaluated (scope index hits).
    pub evaluated: u32,
}

/// The rules' decision for a mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub action: rampart_types::Action,
    pub status: u16,
    /// The rule that decided, when one did.
    pub rule: Option<u32>,
}

impl Outcome {
    pub fn clear(&mut self) {
        self.matched.clear();
        self.fired.clear();
        self.suppressed.clear();
        self.evaluated = 0;
    }

    /// The first blocking action in evaluation order decides. In
    /// [`Mode::Monitor`] only a `virtual_patch` blocks; the others make the
    /// request `Monitor`. In [`Mode::Off`] nothing is decided here.
    pub fn decide(&self, prog: &Program, mode: Mode) -> Decision {
        use rampart_types::Action as A;
        let mut monitor = None;
        for f in &self.fired {
            let Some(a) = prog
                .rules
                .get(f.rule as usize)
                .and_then(|r| r.actions.get(f.action as usize))
            else {
                continue;
            };
            let (status, forced) = match a {
                ActionIr::Block { status, .. } => (*status, false),
                ActionIr::RateLimit { status, .. } => (*status, false),
                ActionIr::VirtualPatch { status } => (*status, true),
                ActionIr::Monitor => {
                    monitor.get_or_insert(f.rule);
                    continue;
                }
                _ => continue,
            };
            match mode {
                Mode::Block => {
                    return Decision {
                        action: A::Block,
                        status,
                        rule: Some(f.rule),
                    }
                }
                Mode::Monitor if forced => {
                    return Decision {
                        action: A::Block,
                        status,
                        rule: Some(f.rule),
                    }
                }
                Mode::Monitor => {
                    monitor.get_or_insert(f.rule);
                }
                Mode::Off => {}
            }
        }
        match monitor {
            Some(r) if mode != Mode::Off => Decision {
                action: A::Monitor,
                status: 200,
                rule: Some(r),
            },
            _ => Decision {
                action: A::Allow,
                status: 200,
                rule: None,
            },
        }
    }

    /// Score added per class (`None`: the total), summed over fired
    /// `score` actions.
    pub fn scores(&self, prog: &Program) -> Vec<(Option<rampart_types::Class>, i32)> {
        let mut out: Vec<(Option<rampart_types::Class>, i32)> = Vec::new();
        for f in &self.fired {
            if let Some(ActionIr::Score { points, class }) = prog
                .rules
                .get(f.rule as usize)
                .and_then(|r| r.actions.get(f.action as usize))
            {
                match out.iter_mut().find(|(c, _)| c == class) {
                    Some((_, p)) => *p += points,
                    None => out.push((*class, *points)),
                }
            }
        }
        out
    }

    /// The fired actions with their rules.
    fn actions<'a, 'p: 'a>(
        &'a self,
        prog: &'p Program,
    ) -> impl Iterator<Item = (u32, &'p ActionIr)> + 'a {
        self.fired.iter().filter_map(move |f| {
            prog.rules
                .get(f.rule as usize)
                .and_then(|r| r.actions.get(f.action as usize))
                .map(|a| (f.rule, a))
        })
    }

    /// The exceptions that took effect: the host applies the ones about
    /// detector findings (`class`, `point`, or `allow` alone) to the
    /// detectors' scores.
    pub fn exceptions<'p>(&self, prog: &'p Program) -> Vec<&'p crate::ir::Exception> {
        self.actions(prog)
            .filter_map(|(_, a)| match a {
                ActionIr::Allow(ex) => Some(ex),
                _ => None,
            })
            .collect()
    }

    /// The points to mask in logs and exported events.
    pub fn masks<'p>(&self, prog: &'p Program) -> Vec<&'p crate::path::PointPath> {
        self.actions(prog)
            .filter_map(|(_, a)| match a {
                ActionIr::Mask(p) => Some(p),
                _ => None,
            })
            .collect()
    }

    /// The tags the request's event carries.
    pub fn tags<'p>(&self, prog: &'p Program) -> Vec<&'p str> {
        let mut out: Vec<&str> = Vec::new();
        for (_, a) in self.actions(prog) {
            if let ActionIr::Tag(t) = a {
                for x in t {
                    if !out.contains(&x.as_str()) {
                        out.push(x);
                    }
                }
            }
        }
        out
    }

    /// One line per fired action, `rule-id: action`, for tests and tools.
    pub fn describe(&self, prog: &Program) -> Vec<String> {
        self.fired
            .iter()
            .filter_map(|f| {
                let r = prog.rules.get(f.rule as usize)?;
                let a = r.actions.get(f.action as usize)?;
                Some(format!("{}: {}", r.id, describe_action(a)))
            })
            .collect()
    }
}

/// A short text form of an action.
pub fn describe_action(a: &ActionIr) -> String {
    match a {
        ActionIr::Block { status, page } => match page {
            Some(p) => format!("block {status} page {p}"),
            None => format!("block {status}"),
        },
        ActionIr::Monitor => "monitor".into(),
        ActionIr::Allow(ex) => {
            let mut parts = Vec::new();
            if !ex.rules.is_empty() {
                parts.push(format!("rules {}", ex.rules.join(",")));
            }
            if !ex.tags.is_empty() {
                parts.push(format!("tags {}", ex.tags.join(",")));
            }
            if let Some(c) = ex.class {
                parts.push(format!("class {c}"));
            }
            if let Some(p) = &ex.point {
                parts.push(format!("point {p}"));
            }
            if parts.is_empty() {
                "allow all".into()
            } else {
                format!("allow {}", parts.join(" "))
            }
        }
        ActionIr::Score { points, class } => match class {
            Some(c) => format!("score {points:+} {c}"),
            None => format!("score {points:+}"),
        },
        ActionIr::Tag(t) => format!("tag {}", t.join(",")),
        ActionIr::Mask(p) => format!("mask {p}"),
        ActionIr::RateLimit { status, .. } => format!("rate_limit {status}"),
        ActionIr::VirtualPatch { status } => format!("virtual_patch {status}"),
    }
}
