//! The reference interpreter: the oracle. It walks the IR arena directly
//! and defines, with `spec/rule-language.md`, what every back-end computes.

use std::borrow::Cow;
use std::sync::Arc;

use rampart_types::{NodeId, Tree};

use crate::backend::{BackendError, Evaluator, Fired, Outcome, RuleBackend};
use crate::counters::CounterStore;
use crate::formats;
use crate::index::ScopeIndex;
use crate::ir::*;
use crate::path::Scratch;
use crate::profile;
use crate::view::RequestView;

/// The interpreter back-end.
#[derive(Debug, Clone, Copy, Default)]
pub struct Interpreter;

impl RuleBackend for Interpreter {
    type Evaluator = Interpreted;

    fn name(&self) -> &'static str {
        "interpreter"
    }

    fn compile(&self, program: Arc<Program>) -> Result<Interpreted, BackendError> {
        let index = ScopeIndex::build(&program);
        Ok(Interpreted { program, index })
    }
}

/// A program ready for interpretation.
#[derive(Debug)]
pub struct Interpreted {
    program: Arc<Program>,
    index: ScopeIndex,
}

/// A value during evaluation. `Absent` is what a missing point, a
/// context value the host does not know or a failed conversion yield:
/// every comparison with it is false.
#[derive(Debug, Clone)]
enum V<'a> {
    Num(f64),
    Str(Cow<'a, [u8]>),
    Bool(bool),
    Absent,
}

struct State<'a> {
    prog: &'a Program,
    req: &'a dyn RequestView,
    tree: &'a Tree,
    counters: &'a mut dyn CounterStore,
    now: u64,
    rule: u32,
    slots: Vec<NodeId>,
    path: &'a [u8],
    key: Vec<u8>,
    scratch: Scratch,
    /// Node lists for nested quantifiers, reused.
    pool: Vec<Vec<NodeId>>,
}

impl Evaluator for Interpreted {
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
        let prog = &*self.program;
        let path = req.path();
        let method = req.method();
        let host = req.host().to_ascii_lowercase();
        let mut cands = Vec::with_capacity(32);
        self.index.candidates(phase, path, &mut cands);
        let mut st = State {
            prog,
            req,
            tree: req.tree(),
            counters,
            now: now_ms,
            rule: 0,
            slots: Vec::new(),
            path,
            key: Vec::with_capacity(64),
            scratch: Scratch::default(),
            pool: Vec::new(),
        };
        let mut exceptions: Vec<&Exception> = Vec::new();
        for &ri in &cands {
            let rule = &prog.rules[ri as usize];
            if !rule.scope.methods.is_empty()
                && !rule.scope.methods.iter().any(|m| m.as_bytes() == method)
            {
                continue;
            }
            if !rule.scope.hosts.is_empty() && !rule.scope.hosts.iter().any(|g| g.matches(&host)) {
                continue;
            }
            let is_allow = rule.actions.iter().any(|a| matches!(a, ActionIr::Allow(_)));
            if !is_allow && exceptions.iter().any(|e| suppresses(e, rule)) {
                out.suppressed.push(ri);
                continue;
            }
            out.evaluated += 1;
            st.rule = ri;
            st.slots.clear();
            st.slots.resize(rule.slots as usize, NodeId::ROOT);
            // A key banned by this rule's rate limit is blocked in the
            // rule's scope whatever the condition says.
            if let Some((ai, ActionIr::RateLimit { key, .. })) = rate_limit(rule) {
                if let Some(k) = st.rl_key(*key) {
                    if st.counters.banned(&k, now_ms) {
                        out.matched.push(ri);
                        out.fired.push(Fired {
                            rule: ri,
                            action: ai,
                        });
                        continue;
                    }
                }
            }
            let ok = match rule.cond {
                Some(c) => st.test(c),
                None => true,
            };
            if !ok {
                continue;
            }
            out.matched.push(ri);
            for (ai, a) in rule.actions.iter().enumerate() {
                let fire = match a {
                    ActionIr::RateLimit {
                        key,
                        limit,
                        window_ms,
                        ban_ms,
                        ..
                    } => match st.rl_key(*key) {
                        Some(k) => {
                            let n = st.counters.hit(&k, *window_ms, now_ms);
                            if n > *limit {
                                st.counters.ban(&k, now_ms.saturating_add(*ban_ms));
                                true
                            } else {
                                false
                            }
                        }
                        None => false,
                    },
                    ActionIr::Allow(ex) => {
                        exceptions.push(ex);
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
}

fn rate_limit(rule: &RuleIr) -> Option<(u16, &ActionIr)> {
    rule.actions
        .iter()
        .enumerate()
        .find(|(_, a)| matches!(a, ActionIr::RateLimit { .. }))
        .map(|(i, a)| (i as u16, a))
}

/// True when an `allow` exception covers a rule.
fn suppresses(ex: &Exception, rule: &RuleIr) -> bool {
    if ex.rules.is_empty() && ex.tags.is_empty() {
        // `allow` alone covers every rule; `allow(class = .., point = ..)`
        // covers detector findings only.
        return ex.class.is_none() && ex.point.is_none();
    }
    ex.rules.contains(&rule.id) || ex.tags.iter().any(|t| rule.tags.contains(t))
}

impl<'a> State<'a> {
    fn rl_key(&mut self, key: ExprId) -> Option<Vec<u8>> {
        let v = self.value(key);
        let V::Str(s) = v else { return None };
        let mut k = Vec::with_capacity(s.len() + 8);
        k.extend_from_slice(b"rl\0");
        k.extend_from_slice(&self.rule.to_le_bytes());
        k.extend_from_slice(&s);
        Some(k)
    }

    fn node_value(&self, slot: u16) -> &'a [u8] {
        let n = self
            .slots
            .get(slot as usize)
            .copied()
            .unwrap_or(NodeId::ROOT);
        self.tree.value(n)
    }

    fn test(&mut self, id: ExprId) -> bool {
        let prog = self.prog;
        match &prog.expr(id).op {
            Op::Bool(b) => *b,
            Op::Not(e) => !self.test(*e),
            Op::And(s, e) => prog.args_of(*s, *e).iter().all(|&a| self.test(a)),
            Op::Or(s, e) => prog.args_of(*s, *e).iter().any(|&a| self.test(a)),
            Op::Any { path, slot, body } => self.quantify(*path, *slot, *body, true),
            Op::All { path, slot, body } => self.quantify(*path, *slot, *body, false),
            Op::Exists(p) => {
                let mut found = self.pool.pop().unwrap_or_default();
                found.clear();
                self.req
                    .lookup(&prog.paths[*p as usize], &mut found, &mut self.scratch);
                let r = !found.is_empty();
                self.pool.push(found);
                r
            }
            Op::Finding {
                slot,
                class,
                rule,
                min_score,
            } => self.finding(*slot, *class, *rule, *min_score),
            _ => matches!(self.value(id), V::Bool(true)),
        }
    }

    fn quantify(&mut self, path: u32, slot: u16, body: ExprId, any: bool) -> bool {
        let mut nodes = self.pool.pop().unwrap_or_default();
        nodes.clear();
        self.req.lookup(
            &self.prog.paths[path as usize],
            &mut nodes,
            &mut self.scratch,
        );
        let mut result = !any;
        for &n in &nodes {
            if let Some(s) = self.slots.get_mut(slot as usize) {
                *s = n;
            }
            if self.test(body) == any {
                result = any;
                break;
            }
        }
        self.pool.push(nodes);
        result
    }

    fn finding(
        &self,
        slot: Option<u16>,
        class: Option<rampart_types::Class>,
        rule: Option<u32>,
        min_score: u8,
    ) -> bool {
        let at = slot.map(|s| self.slots.get(s as usize).copied().unwrap_or(NodeId::ROOT));
        let rule = rule.map(|r| &self.prog.strings[r as usize][..]);
        self.req.has_finding(at, class, rule, min_score)
    }

    fn value(&mut self, id: ExprId) -> V<'a> {
        let prog = self.prog;
        let e = prog.expr(id);
        match &e.op {
            Op::Num(n) => V::Num(*n),
            Op::Str(s) => V::Str(Cow::Borrowed(&prog.strings[*s as usize])),
            Op::Slot(s) => V::Str(Cow::Borrowed(self.node_value(*s))),
            Op::PathParam(_) => self.path_param(id),
            Op::Context(c) => match c {
                Context::ClientIp => opt_str(self.req.client_ip()),
                Context::ClientSession => opt_str(self.req.client_session()),
                Context::ResponseStatus => match self.req.response_status() {
                    Some(s) => V::Num(f64::from(s)),
                    None => V::Absent,
                },
            },
            Op::First(p) => {
                let mut found = self.pool.pop().unwrap_or_default();
                found.clear();
                self.req
                    .lookup(&prog.paths[*p as usize], &mut found, &mut self.scratch);
                let v = match found.first() {
                    Some(&n) => V::Str(Cow::Borrowed(self.tree.value(n))),
                    None => V::Absent,
                };
                self.pool.push(found);
                v
            }
            Op::Cmp(op, l, r) => {
                let (l, r) = (self.value(*l), self.value(*r));
                V::Bool(compare(*op, &l, &r))
            }
            Op::In(v, list) => {
                let v = self.value(*v);
                V::Bool(match (&v, &prog.lists[*list as usize]) {
                    (V::Str(s), ConstList::Str(items)) => items.iter().any(|i| i[..] == s[..]),
                    (V::Num(n), ConstList::Num(items)) => items.contains(n),
                    _ => false,
                })
            }
            Op::Glob(v, g) => match self.value(*v) {
                V::Str(s) => V::Bool(prog.globs[*g as usize].matches(&s)),
                _ => V::Bool(false),
            },
            Op::Call(f, s, e) => self.call(*f, *s, *e),
            Op::Deviation(slot) | Op::LengthZ(slot) => {
                let node = self
                    .slots
                    .get(*slot as usize)
                    .copied()
                    .unwrap_or(NodeId::ROOT);
                match self.req.profile(node) {
                    Some(p) => {
                        let v = self.tree.value(node);
                        V::Num(if matches!(e.op, Op::Deviation(_)) {
                            p.deviation(v)
                        } else {
                            p.length_z(v)
                        })
                    }
                    None => V::Absent,
                }
            }
            Op::Name(slot) => {
                let node = self
                    .slots
                    .get(*slot as usize)
                    .copied()
                    .unwrap_or(NodeId::ROOT);
                opt_str(crate::view::point_name(self.tree, node))
            }
            Op::Counter(c) => self.counter(*c),
            _ => V::Bool(self.test(id)),
        }
    }

    fn path_param(&self, id: ExprId) -> V<'a> {
        let Op::PathParam(idx) = self.prog.expr(id).op else {
            return V::Absent;
        };
        let rule = &self.prog.rules[self.rule as usize];
        // The parameter's name is taken from the first template; any
        // template of the rule that matches the path gives its value.
        let Some(name) = rule
            .scope
            .endpoints
            .first()
            .and_then(|t| t.params().nth(idx as usize))
        else {
            return V::Absent;
        };
        for t in &rule.scope.endpoints {
            if let Some(v) = t.param(self.path, name) {
                return V::Str(Cow::Borrowed(v));
            }
        }
        V::Absent
    }

    fn counter(&mut self, c: u32) -> V<'a> {
        let site = &self.prog.counters[c as usize];
        let keys = self.prog.args_of(site.keys.0, site.keys.1);
        let mut key = std::mem::take(&mut self.key);
        key.clear();
        key.extend_from_slice(&self.rule.to_le_bytes());
        key.extend_from_slice(&c.to_le_bytes());
        let n = keys.len();
        let mut value: Option<V<'a>> = None;
        for (i, &k) in keys.iter().enumerate() {
            let v = self.value(k);
            let V::Str(s) = &v else {
                self.key = key;
                return V::Absent;
            };
            if site.kind == CounterKind::Distinct && i + 1 == n {
                value = Some(v);
                break;
            }
            key.extend_from_slice(&(s.len() as u32).to_le_bytes());
            key.extend_from_slice(s);
        }
        let count = match (site.kind, value) {
            (CounterKind::Count, _) => self.counters.hit(&key, site.window_ms, self.now),
            (CounterKind::Distinct, Some(V::Str(v))) => {
                self.counters.distinct(&key, &v, site.window_ms, self.now)
            }
            _ => 0,
        };
        self.key = key;
        V::Num(count as f64)
    }

    fn call(&mut self, f: Builtin, s: u32, e: u32) -> V<'a> {
        let prog = self.prog;
        let args = prog.args_of(s, e);
        let a0 = match args.first() {
            Some(&a) => self.value(a),
            None => return V::Absent,
        };
        let V::Str(x) = a0 else {
            return match f {
                Builtin::Len | Builtin::Lower | Builtin::Upper | Builtin::Trim | Builtin::Num => {
                    V::Absent
                }
                Builtin::Entropy | Builtin::CharRatio(_) => V::Absent,
                _ => V::Bool(false),
            };
        };
        let b = |v: bool| V::Bool(v);
        match f {
            Builtin::Len => V::Num(match std::str::from_utf8(&x) {
                Ok(s) => s.chars().count() as f64,
                Err(_) => x.len() as f64,
            }),
            Builtin::Lower => V::Str(Cow::Owned(match std::str::from_utf8(&x) {
                Ok(s) => s.to_lowercase().into_bytes(),
                Err(_) => x.to_ascii_lowercase(),
            })),
            Builtin::Upper => V::Str(Cow::Owned(match std::str::from_utf8(&x) {
                Ok(s) => s.to_uppercase().into_bytes(),
                Err(_) => x.to_ascii_uppercase(),
            })),
            Builtin::Trim => V::Str(match x {
                Cow::Borrowed(s) => Cow::Borrowed(s.trim_ascii()),
                Cow::Owned(s) => Cow::Owned(s.trim_ascii().to_vec()),
            }),
            Builtin::Num => match formats::parse_num(&x) {
                Some(n) => V::Num(n),
                None => V::Absent,
            },
            Builtin::Contains | Builtin::StartsWith | Builtin::EndsWith => {
                let y = match args.get(1) {
                    Some(&a) => self.value(a),
                    None => V::Absent,
                };
                let V::Str(y) = y else { return V::Bool(false) };
                b(match f {
                    Builtin::Contains => contains(&x, &y),
                    Builtin::StartsWith => x.starts_with(&y),
                    _ => x.ends_with(&y),
                })
            }
            Builtin::IsInt => b(formats::is_int(&x)),
            Builtin::IsNumber => b(formats::is_number(&x)),
            Builtin::IsUuid => b(formats::is_uuid(&x)),
            Builtin::IsEmail => b(formats::is_email(&x)),
            Builtin::IsBase64 => b(formats::is_base64(&x)),
            Builtin::IsHex => b(formats::is_hex(&x)),
            Builtin::IsIp => b(formats::is_ip(&x)),
            Builtin::IsIpv4 => b(formats::is_ipv4(&x)),
            Builtin::IsIpv6 => b(formats::is_ipv6(&x)),
            Builtin::IsJwt => b(formats::is_jwt(&x)),
            Builtin::IsAlnum => b(formats::is_alnum(&x)),
            Builtin::IsAscii => b(formats::is_ascii(&x)),
            Builtin::Entropy => V::Num(profile::entropy(&x)),
            Builtin::CharRatio(c) => V::Num(profile::ratio(&x, c)),
        }
    }
}

fn opt_str(v: Option<&[u8]>) -> V<'_> {
    match v {
        Some(s) => V::Str(Cow::Borrowed(s)),
        None => V::Absent,
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || hay.windows(needle.len()).any(|w| w == needle)
}

fn compare(op: Cmp, l: &V<'_>, r: &V<'_>) -> bool {
    let ord = match (l, r) {
        (V::Num(a), V::Num(b)) => a.partial_cmp(b),
        (V::Str(a), V::Str(b)) => Some(a[..].cmp(&b[..])),
        (V::Bool(a), V::Bool(b)) => Some(a.cmp(b)),
        _ => None,
    };
    let Some(o) = ord else { return false };
    use std::cmp::Ordering::*;
    match op {
        Cmp::Eq => o == Equal,
        Cmp::Ne => o != Equal,
        Cmp::Lt => o == Less,
        Cmp::Le => o != Greater,
        Cmp::Gt => o == Greater,
        Cmp::Ge => o != Less,
    }
}
