//! The cranelift JIT back-end (cargo feature `jit`): every rule condition
//! (and rate-limit key) is compiled to one native function, and the rules
//! without an endpoint clause of each phase to a *sequence* function that
//! runs their conditions back to back with direct calls, returning to Rust
//! only at a rule that matched or needs its gate (method, host, rate-limit
//! ban). The rule loop around them (scope index, exceptions, bans, actions)
//! is the interpreter's, so the back-ends agree by construction there; the
//! golden tests and the differential fuzz target compare them on the rest.
//!
//! What runs natively: constants, numbers and booleans, comparisons,
//! `and`/`or`/`not` as short-circuit branches in the normative order,
//! `in` over up to eight numbers, quantifier loops over point slots, and
//! the control flow of counters (keys left to right, absent keys). What
//! calls a runtime helper (`abi`): point lookups, string operations and
//! tests, globs, `in` over strings, detector findings, profiles, path
//! parameters, context values and counters. A quantifier whose body is
//! one test of the slot's value (what the checker makes of
//! `len(query.q) > 3` or `any(query.*, it ~ "*<script*")`) is one helper
//! call that runs the loop in Rust (`kernel`). Every IR operation is
//! compiled; a program the back-end cannot compile is refused with a
//! [`BackendError`], never run some other way.
//!
//! Work shared by rules is done once per request: each distinct point
//! path is looked up once (equal paths share one slot), and what rules
//! ask again and again is kept in a table of per-request facts (`facts`)
//! that compiled code reads without a call: that a path is absent (a
//! quantifier over it is then decided), the byte set of a path's values
//! (which rejects a `contains` or glob whose bytes no value has), and the
//! answer of each detector-finding test. These are answers the helpers
//! would give, so order and counters are untouched.
//!
//! Unsafe code is confined to `abi` (the calls into compiled code, the
//! helpers' context pointer, freeing the code), each block with its
//! `SAFETY` argument.
//!
//! ```
//! # #[cfg(feature = "jit")] {
//! use rampart_dsl::{compile_str, jit::Jit, RuleBackend};
//! let prog = compile_str("a.rules", r#"rule r "x" { when len(query.q) > 3 then block }"#)
//!     .expect("valid rules");
//! let eval = Jit::default().compile(std::sync::Arc::new(prog)).expect("compiles");
//! # let _ = eval; }
//! ```

mod abi;
mod codegen;
mod facts;
mod kernel;
mod runtime;
#[cfg(test)]
mod tests;

use std::cell::RefCell;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use cranelift_jit::JITModule;

use crate::backend::{BackendError, Evaluator, Fired, Outcome, RuleBackend};
use crate::counters::CounterStore;
use crate::index::ScopeIndex;
use crate::ir::{ActionIr, Exception, Program, RuleIr, RulePhase};
use crate::view::RequestView;
use abi::Code;
use runtime::{Buffers, Ctx, Tables};

/// The JIT back-end.
#[derive(Debug, Clone)]
pub struct Jit {
    /// Cranelift's `opt_level`: `"none"`, `"speed"` or `"speed_and_size"`.
    pub opt_level: &'static str,
}

impl Default for Jit {
    fn default() -> Self {
        Jit { opt_level: "none" }
    }
}

impl RuleBackend for Jit {
    type Evaluator = Jitted;

    fn name(&self) -> &'static str {
        "jit"
    }

    fn compile(&self, program: Arc<Program>) -> Result<Jitted, BackendError> {
        program
            .validate()
            .map_err(|e| BackendError(format!("jit: invalid program: {e}")))?;
        let c = codegen::compile(&program, self.opt_level)?;
        let index = ScopeIndex::build(&program);
        let mut gpos = vec![NONE; program.rules.len()];
        for (list, _) in &c.seqs {
            for (p, &ri) in list.iter().enumerate() {
                gpos[ri as usize] = p as u32;
            }
        }
        let rules = program
            .rules
            .iter()
            .enumerate()
            .map(|(i, r)| RuleCode {
                cond: c.conds[i],
                key: c.keys[i],
                gpos: gpos[i],
                allow: r.actions.iter().any(|a| matches!(a, ActionIr::Allow(_))),
                scoped: !r.scope.methods.is_empty() || !r.scope.hosts.is_empty(),
                gated: codegen::gated(r),
                rate_limit: r
                    .actions
                    .iter()
                    .position(|a| matches!(a, ActionIr::RateLimit { .. }))
                    .map(|p| p as u16),
            })
            .collect();
        let any_host = program.rules.iter().any(|r| !r.scope.hosts.is_empty());
        let endpoint_rules = [RulePhase::Request, RulePhase::Response].map(|p| {
            program
                .rules
                .iter()
                .any(|r| r.phase == p && !r.scope.endpoints.is_empty())
        });
        Ok(Jitted {
            program,
            index,
            tables: c.tables,
            rules,
            any_host,
            seqs: c.seqs,
            panics: AtomicU64::new(0),
            endpoint_rules,
            module: Mutex::new(Some(c.module)),
        })
    }
}

/// What the rule loop reads of a rule (32 bytes: the candidates of a
/// request cost one cache line each, or half of one).
#[derive(Debug, Clone, Copy)]
struct RuleCode {
    cond: Option<Code>,
    key: Option<Code>,
    /// Its position in its phase's sequence ([`NONE`]: it has an
    /// endpoint clause).
    gpos: u32,
    allow: bool,
    /// The rule has a method or host clause.
    scoped: bool,
    /// The sequence function hands the rule back before its condition.
    gated: bool,
    rate_limit: Option<u16>,
}

/// A program compiled to native code.
pub struct Jitted {
    program: Arc<Program>,
    index: ScopeIndex,
    tables: Tables,
    rules: Vec<RuleCode>,
    any_host: bool,
    /// Per phase: the rules without an endpoint clause and their compiled
    /// sequence.
    seqs: [(Vec<u32>, Option<Code>); 2],
    /// Evaluations in which a runtime helper panicked (it then answered
    /// false or absent); see [`Jitted::helper_panics`].
    panics: AtomicU64,
    /// Per phase: some rule has an endpoint clause (the index is needed).
    endpoint_rules: [bool; 2],
    /// Owns the code; only dropped (see `Drop`).
    module: Mutex<Option<JITModule>>,
}

impl Jitted {
    /// How many evaluations met a panic in a runtime helper (a bug: the
    /// helper answered false or absent and the outcome may differ from
    /// the interpreter's). Zero in every test and fuzz run.
    pub fn helper_panics(&self) -> u64 {
        self.panics.load(Ordering::Relaxed)
    }
}

impl fmt::Debug for Jitted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Jitted")
            .field("rules", &self.rules.len())
            .finish_non_exhaustive()
    }
}

impl Drop for Jitted {
    fn drop(&mut self) {
        let m = match self.module.get_mut() {
            Ok(m) => m.take(),
            Err(p) => p.into_inner().take(),
        };
        if let Some(m) = m {
            abi::free(m);
        }
    }
}

const NONE: u32 = u32::MAX;

thread_local! {
    static BUFFERS: RefCell<Buffers> = RefCell::new(Buffers::default());
}

/// The request-wide state of one evaluation.
struct Run<'p> {
    prog: &'p Program,
    method: &'p [u8],
    /// The lower-cased host (empty when no rule has a host clause).
    host: &'p [u8],
    now: u64,
    exceptions: Vec<&'p Exception>,
}

impl Jitted {
    /// Evaluates one candidate rule the way the interpreter does: scope,
    /// exceptions, ban, condition, actions.
    fn rule(&self, ri: u32, run: &mut Run<'_>, ctx: &mut Ctx<'_>, out: &mut Outcome) {
        let prog = run.prog;
        let code = self.rules[ri as usize];
        // The rule's IR is read only when its clauses need it.
        let rule = &prog.rules[ri as usize];
        if code.scoped {
            if !rule.scope.methods.is_empty()
                && !rule
                    .scope
                    .methods
                    .iter()
                    .any(|m| m.as_bytes() == run.method)
            {
                return;
            }
            if !rule.scope.hosts.is_empty() && !rule.scope.hosts.iter().any(|g| g.matches(run.host))
            {
                return;
            }
        }
        if !code.allow
            && !run.exceptions.is_empty()
            && run.exceptions.iter().any(|e| suppresses(e, rule))
        {
            out.suppressed.push(ri);
            return;
        }
        out.evaluated += 1;
        if let Some(ai) = code.rate_limit {
            if let Some(k) = rl_key(ctx, code.key, ri) {
                if ctx.counters.banned(&k, run.now) {
                    out.matched.push(ri);
                    out.fired.push(Fired {
                        rule: ri,
                        action: ai,
                    });
                    return;
                }
            }
        }
        let ok = match code.cond {
            Some(c) => abi::call_cond(c, ctx),
            None => true,
        };
        if ok {
            self.fire(ri, run, ctx, out);
        }
    }

    /// A rule's condition held: its actions take effect.
    fn fire(&self, ri: u32, run: &mut Run<'_>, ctx: &mut Ctx<'_>, out: &mut Outcome) {
        let prog = run.prog;
        let code = self.rules[ri as usize];
        out.matched.push(ri);
        for (ai, a) in prog.rules[ri as usize].actions.iter().enumerate() {
            let fire = match a {
                ActionIr::RateLimit {
                    limit,
                    window_ms,
                    ban_ms,
                    ..
                } => match rl_key(ctx, code.key, ri) {
                    Some(k) => {
                        let n = ctx.counters.hit(&k, *window_ms, run.now);
                        if n > *limit {
                            ctx.counters.ban(&k, run.now.saturating_add(*ban_ms));
                            true
                        } else {
                            false
                        }
                    }
                    None => false,
                },
                ActionIr::Allow(ex) => {
                    run.exceptions.push(ex);
                    true
                }
                _ => true,
            };
            if fire {
                out.fired.push(Fired {
                    rule: ri,
                    action: ai as u16,
                });
            }
        }
    }
}

impl Jitted {
    /// Evaluates the rules at positions `from..end` of phase `pi`'s
    /// sequence (rules without an endpoint clause, all candidates). While
    /// no exception is in force their conditions run back to back in the
    /// sequence function, which stops at a rule that matched or needs its
    /// gate (scope, rate limit); once one is, rule by rule.
    fn run_seq(
        &self,
        pi: usize,
        mut from: u32,
        end: u32,
        run: &mut Run<'_>,
        ctx: &mut Ctx<'_>,
        out: &mut Outcome,
    ) {
        let (rules, code) = (&self.seqs[pi].0, self.seqs[pi].1);
        while from < end {
            let p = match code {
                Some(code) if run.exceptions.is_empty() => abi::call_seq(code, ctx, from, end),
                _ => None,
            };
            let Some(p) = p else {
                if let Some(&ri) = rules.get(from as usize) {
                    self.rule(ri, run, ctx, out);
                }
                from += 1;
                continue;
            };
            let p = p.clamp(from, end);
            out.evaluated += p - from;
            let Some(&rj) = rules.get(p as usize).filter(|_| p < end) else {
                return;
            };
            if self.rules[rj as usize].gated {
                self.rule(rj, run, ctx, out);
            } else {
                out.evaluated += 1;
                self.fire(rj, run, ctx, out);
            }
            from = p + 1;
        }
    }

    /// One evaluation with the thread's buffers.
    fn run(
        &self,
        buf: &mut Buffers,
        req: &dyn RequestView,
        phase: RulePhase,
        counters: &mut dyn CounterStore,
        now_ms: u64,
        out: &mut Outcome,
    ) {
        let prog = &*self.program;
        let tree = req.tree();
        buf.start(prog, tree, &self.tables.layout);
        let mut cands = std::mem::take(&mut buf.cands);
        let mut host = std::mem::take(&mut buf.host);
        host.clear();
        if self.any_host {
            host.extend(req.host().iter().map(u8::to_ascii_lowercase));
        }
        let path = req.path();
        let pi = match phase {
            RulePhase::Request => 0,
            RulePhase::Response => 1,
        };
        let mut run = Run {
            prog,
            method: req.method(),
            host: &host,
            now: now_ms,
            exceptions: Vec::new(),
        };
        let mut ctx = Ctx {
            prog,
            tabs: &self.tables,
            req,
            tree,
            counters,
            now: now_ms,
            path,
            buf,
            panicked: false,
        };
        if self.endpoint_rules[pi] {
            cands.clear();
            self.index.candidates(phase, path, &mut cands);
            let mut i = 0;
            while i < cands.len() {
                let ri = cands[i];
                let gp = self.rules[ri as usize].gpos;
                if gp == NONE {
                    self.rule(ri, &mut run, &mut ctx, out);
                    i += 1;
                    continue;
                }
                // A run of consecutive rules of the sequence.
                let mut k = 1;
                while i + k < cands.len() && self.rules[cands[i + k] as usize].gpos == gp + k as u32
                {
                    k += 1;
                }
                self.run_seq(pi, gp, gp + k as u32, &mut run, &mut ctx, out);
                i += k;
            }
        } else {
            // No rule of the phase has an endpoint clause: the candidates
            // are its sequence, in order (what the index gives).
            let n = self.seqs[pi].0.len() as u32;
            self.run_seq(pi, 0, n, &mut run, &mut ctx, out);
        }
        if ctx.panicked {
            self.panics.fetch_add(1, Ordering::Relaxed);
        }
        drop(run);
        ctx.buf.cands = cands;
        ctx.buf.host = host;
    }
}

impl Evaluator for Jitted {
    fn program(&self) -> &Program {
        &self.program
    }

    fn evaluate(
        &self,
        req: &dyn RequestView,
        phase: RulePhase,
        counters: &mut dyn CounterStore,
        now_ms: u64,
        out: &mut Outcome,
    ) {
        out.clear();
        let done = BUFFERS.try_with(|b| match b.try_borrow_mut() {
            Ok(mut b) => {
                self.run(&mut b, req, phase, &mut *counters, now_ms, &mut *out);
                true
            }
            Err(_) => false,
        });
        if !matches!(done, Ok(true)) {
            // Re-entered on this thread, or its buffers are gone.
            self.run(&mut Buffers::default(), req, phase, counters, now_ms, out);
        }
    }
}

/// The rate-limit key of rule `ri` (as the interpreter builds it).
fn rl_key(ctx: &mut Ctx<'_>, code: Option<Code>, ri: u32) -> Option<Vec<u8>> {
    let h = abi::call_key(code?, ctx);
    let s = ctx.bytes(h)?;
    let mut k = Vec::with_capacity(s.len() + 8);
    k.extend_from_slice(b"rl\0");
    k.extend_from_slice(&ri.to_le_bytes());
    k.extend_from_slice(s);
    Some(k)
}

/// True when an `allow` exception covers a rule (as the interpreter).
fn suppresses(ex: &Exception, rule: &RuleIr) -> bool {
    if ex.rules.is_empty() && ex.tags.is_empty() {
        return ex.class.is_none() && ex.point.is_none();
    }
    ex.rules.contains(&rule.id) || ex.tags.iter().any(|t| rule.tags.contains(t))
}
