//! Phase 4: rules in the rule language (rampart-dsl).
//!
//! An engine runs up to two rule sets, in this order: the node's own rules
//! (`--rules FILE`, compiled once when the node starts) and the rule pack
//! of a [`PackSlot`] (verified, compiled and swapped in while the node
//! serves). Each set keeps its counters in a [`SharedCounters`]; a pack
//! gets fresh counters when it is swapped in. A request takes a snapshot of
//! both sets when its rules are evaluated and keeps it for its response
//! phase, so it never sees a mix of two packs.
//!
//! What the rules said joins the detectors' findings in phase 5
//! (`decide.rs`); `spec/rule-language.md` section 13 is the contract.

use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use rampart_dsl::backend::BackendError;
use rampart_dsl::ir::{ActionIr, RulePhase};
use rampart_dsl::pack::{ActivePack, Installed, PackError, PackSlot};
use rampart_dsl::path::Scratch;
use rampart_dsl::view::is_at_or_below;
use rampart_dsl::{CounterStore, Evaluator, MemoryCounters, Outcome, Program, RequestView};
use rampart_dsl::{Interpreter, RuleBackend};
use rampart_types::{Action, Class, Finding, Mode, NodeId, Request, Source, Tree};

use crate::inspection::Inspection;

/// The back-end that compiles rules: the reference interpreter, or the
/// cranelift JIT when the engine is built with the `jit` feature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Interpreter,
    #[cfg(feature = "jit")]
    Jit,
}

impl Default for Backend {
    /// The JIT when it is built in, else the interpreter.
    fn default() -> Self {
        #[cfg(feature = "jit")]
        return Backend::Jit;
        #[cfg(not(feature = "jit"))]
        return Backend::Interpreter;
    }
}

impl Backend {
    /// `interpreter` or `jit`.
    pub fn parse(s: &str) -> Result<Backend, String> {
        match s {
            "interpreter" => Ok(Backend::Interpreter),
            #[cfg(feature = "jit")]
            "jit" => Ok(Backend::Jit),
            #[cfg(not(feature = "jit"))]
            "jit" => Err(
                "rules backend `jit`: this build has no JIT (the `jit` feature); use `interpreter`"
                    .into(),
            ),
            other => Err(format!(
                "rules backend `{other}`: expected `jit` or `interpreter`"
            )),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Backend::Interpreter => "interpreter",
            #[cfg(feature = "jit")]
            Backend::Jit => "jit",
        }
    }

    /// Compiles a checked program.
    pub fn compile(self, program: Program) -> Result<Arc<dyn Evaluator>, BackendError> {
        let p = Arc::new(program);
        Ok(match self {
            Backend::Interpreter => Arc::new(Interpreter.compile(p)?),
            #[cfg(feature = "jit")]
            Backend::Jit => Arc::new(rampart_dsl::Jit::default().compile(p)?),
        })
    }

    /// Verifies, compiles and swaps a pack into `slot`
    /// ([`PackSlot::install`]).
    pub fn install(self, slot: &PackSlot, bytes: &[u8]) -> Result<Installed, PackError> {
        match self {
            Backend::Interpreter => slot.install(bytes, &Interpreter),
            #[cfg(feature = "jit")]
            Backend::Jit => slot.install(bytes, &rampart_dsl::Jit::default()),
        }
    }
}

/// Counters and bans shared by every request of a rule set: sixteen
/// shards, each a bounded [`MemoryCounters`] behind its own lock, chosen
/// by a hash of the key, so concurrent requests rarely wait for each other.
#[derive(Debug)]
pub struct SharedCounters {
    shards: Vec<Mutex<MemoryCounters>>,
}

const SHARDS: usize = 16;

impl SharedCounters {
    /// At most `max_keys` keys in all (per kind) and `max_events` events
    /// per key.
    pub fn new(max_keys: usize, max_events: usize) -> SharedCounters {
        let per = (max_keys / SHARDS).max(1);
        SharedCounters {
            shards: (0..SHARDS)
                .map(|_| Mutex::new(MemoryCounters::new(per, max_events)))
                .collect(),
        }
    }

    /// Forgets every count, distinct value and ban.
    pub fn clear(&self) {
        for s in &self.shards {
            let mut g = s.lock().unwrap_or_else(PoisonError::into_inner);
            *g = MemoryCounters::new(g.max_keys(), g.max_events());
        }
    }

    fn shard(&self, key: &[u8]) -> std::sync::MutexGuard<'_, MemoryCounters> {
        // FNV-1a: keys are short and this runs under no attacker-chosen
        // table (each shard's HashMap has its own random state).
        let mut h: u32 = 0x811c_9dc5;
        for &b in key {
            h = (h ^ u32::from(b)).wrapping_mul(0x0100_0193);
        }
        self.shards[h as usize % SHARDS]
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl Default for SharedCounters {
    fn default() -> Self {
        SharedCounters::new(100_000, 10_000)
    }
}

/// A [`CounterStore`] over shared counters: each call locks one shard.
struct Locked<'a>(&'a SharedCounters);

impl CounterStore for Locked<'_> {
    fn hit(&mut self, key: &[u8], window_ms: u64, now_ms: u64) -> u64 {
        self.0.shard(key).hit(key, window_ms, now_ms)
    }

    fn distinct(&mut self, key: &[u8], value: &[u8], window_ms: u64, now_ms: u64) -> u64 {
        self.0.shard(key).distinct(key, value, window_ms, now_ms)
    }

    fn ban(&mut self, key: &[u8], until_ms: u64) {
        self.0.shard(key).ban(key, until_ms);
    }

    fn banned(&mut self, key: &[u8], now_ms: u64) -> bool {
        self.0.shard(key).banned(key, now_ms)
    }
}

/// A compiled rule set with its counters.
pub struct RuleSet {
    eval: Arc<dyn Evaluator>,
    counters: SharedCounters,
    has_response: bool,
    /// The pack's version, for a pack.
    pack_version: Option<u64>,
}

impl std::fmt::Debug for RuleSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuleSet")
            .field("rules", &self.eval.program().rules.len())
            .field("pack_version", &self.pack_version)
            .finish()
    }
}

impl RuleSet {
    pub fn new(eval: Arc<dyn Evaluator>) -> RuleSet {
        let has_response = eval
            .program()
            .rules
            .iter()
            .any(|r| r.phase == RulePhase::Response);
        RuleSet {
            eval,
            counters: SharedCounters::default(),
            has_response,
            pack_version: None,
        }
    }

    pub fn program(&self) -> &Program {
        self.eval.program()
    }

    /// The set's counters.
    pub fn counters(&self) -> &SharedCounters {
        &self.counters
    }
}

/// The engine's rules: its own set and a pack slot, both optional.
#[derive(Debug)]
pub(crate) struct Rules {
    local: Option<Arc<RuleSet>>,
    slot: Option<Arc<PackSlot>>,
    /// The rule set built for the pack in place (fresh counters per pack).
    pack: Mutex<Option<(Arc<ActivePack>, Arc<RuleSet>)>>,
    /// Counters run on milliseconds since the engine was built.
    epoch: Instant,
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            local: None,
            slot: None,
            pack: Mutex::new(None),
            epoch: Instant::now(),
        }
    }
}

impl Rules {
    pub(crate) fn set_local(&mut self, set: RuleSet) {
        self.local = Some(Arc::new(set));
    }

    pub(crate) fn set_slot(&mut self, slot: Arc<PackSlot>) {
        self.slot = Some(slot);
    }

    pub(crate) fn slot(&self) -> Option<&Arc<PackSlot>> {
        self.slot.as_ref()
    }

    pub(crate) fn local(&self) -> Option<&Arc<RuleSet>> {
        self.local.as_ref()
    }

    /// The rule sets in place now, in evaluation order.
    fn snapshot(&self, into: &mut Vec<Arc<RuleSet>>) {
        into.clear();
        if let Some(l) = &self.local {
            into.push(l.clone());
        }
        let Some(active) = self.slot.as_ref().and_then(|s| s.current()) else {
            return;
        };
        let mut cached = self.pack.lock().unwrap_or_else(PoisonError::into_inner);
        match &*cached {
            Some((a, set)) if Arc::ptr_eq(a, &active) => into.push(set.clone()),
            _ => {
                let mut set = RuleSet::new(active.evaluator.clone());
                set.pack_version = Some(active.manifest.version);
                let set = Arc::new(set);
                *cached = Some((active, set.clone()));
                into.push(set);
            }
        }
    }

    pub(crate) fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }
}

/// What a rule set's blocking or monitoring action decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleDecision {
    pub action: Action,
    pub status: u16,
    /// The id of the deciding rule.
    pub rule: String,
}

/// What the rules said about one request (both phases).
#[derive(Debug, Clone, Default)]
pub struct RulesReport {
    /// Ids of the rules that matched, in evaluation order.
    pub matched: Vec<String>,
    /// Ids of the rules an exception suppressed.
    pub suppressed: Vec<String>,
    /// Tags of the request's event.
    pub tags: Vec<String>,
    /// Points whose values are masked in logs and events (with everything
    /// below them).
    pub masked: Vec<NodeId>,
    /// The first blocking (or, failing one, monitoring) action.
    pub decision: Option<RuleDecision>,
    /// `score(n, class = C)` summed per class, with the first rule that
    /// scored the class.
    pub class_points: Vec<(Class, i32, String)>,
    /// `score(n)` summed, and the rule that added the most.
    pub total_points: i32,
    pub total_rule: Option<String>,
    /// Detector findings an exception took out of the scores.
    pub excepted: Vec<Finding>,
    /// The version of the pack the request was evaluated against.
    pub pack_version: Option<u64>,
    /// The number of rules evaluated (scope index hits).
    pub evaluated: u32,
}

impl RulesReport {
    pub(crate) fn clear(&mut self) {
        self.matched.clear();
        self.suppressed.clear();
        self.tags.clear();
        self.masked.clear();
        self.decision = None;
        self.class_points.clear();
        self.total_points = 0;
        self.total_rule = None;
        self.excepted.clear();
        self.pack_version = None;
        self.evaluated = 0;
    }

    /// The points added to `class` by rules.
    pub fn points_for(&self, class: Class) -> i32 {
        self.class_points
            .iter()
            .filter(|(c, _, _)| *c == class)
            .map(|(_, p, _)| *p)
            .sum()
    }

    /// True when `node` is masked (it or a point above it).
    pub fn is_masked(&self, tree: &Tree, node: NodeId) -> bool {
        self.masked.iter().any(|&m| is_at_or_below(tree, node, m))
    }
}

/// The per-request state of the rules phase, kept in the [`Inspection`].
#[derive(Debug, Default)]
pub(crate) struct RuleState {
    sets: Vec<Arc<RuleSet>>,
    outcome: Outcome,
    nodes: Vec<NodeId>,
    scratch: Scratch,
    client: Client,
}

/// `client.ip` and `client.session` of the request being evaluated.
#[derive(Debug, Default)]
struct Client {
    ip: Vec<u8>,
    session: Vec<u8>,
    has_session: bool,
}

impl Client {
    /// The request as the rules see it, from this client.
    fn view<'a>(&'a self, ins: &'a Inspection, status: Option<u16>) -> InspectionView<'a> {
        InspectionView {
            tree: &ins.tree,
            findings: &ins.findings,
            client_ip: (!self.ip.is_empty()).then_some(self.ip.as_slice()),
            session: self.has_session.then_some(self.session.as_slice()),
            status,
        }
    }
}

impl RuleState {
    pub(crate) fn reset(&mut self) {
        self.sets.clear();
    }
}

/// A [`RequestView`] over an inspection.
#[derive(Debug)]
pub struct InspectionView<'a> {
    pub tree: &'a Tree,
    pub findings: &'a [Finding],
    pub client_ip: Option<&'a [u8]>,
    pub session: Option<&'a [u8]>,
    pub status: Option<u16>,
}

impl RequestView for InspectionView<'_> {
    fn tree(&self) -> &Tree {
        self.tree
    }

    fn findings(&self) -> &[Finding] {
        self.findings
    }

    fn client_ip(&self) -> Option<&[u8]> {
        self.client_ip
    }

    fn client_session(&self) -> Option<&[u8]> {
        self.session
    }

    fn response_status(&self) -> Option<u16> {
        self.status
    }
}

/// Cookie names that hold a session id, compared without case. A cookie
/// whose name contains `session` counts too.
const SESSION_COOKIES: &[&[u8]] = &[b"sid", b"phpsessid", b"jsessionid", b"connect.sid"];

/// `client.session`: the first session cookie, else the `Authorization`
/// header's value (a bearer token or basic credentials: the same client
/// until it changes).
pub fn session_of(tree: &Tree) -> Option<&[u8]> {
    if let Some(c) = tree.source(Source::Cookie) {
        for id in tree.children(c) {
            let Some(name) = tree.key(tree.node(id).seg) else {
                continue;
            };
            let is_session = SESSION_COOKIES.iter().any(|s| name.eq_ignore_ascii_case(s))
                || name.windows(7).any(|w| w.eq_ignore_ascii_case(b"session"));
            if is_session && !tree.value(id).is_empty() {
                return Some(tree.value(id));
            }
        }
    }
    let h = tree.source(Source::Header)?;
    let auth = tree.child_by_key(h, b"authorization")?;
    Some(tree.value(auth)).filter(|v| !v.is_empty())
}

fn ip_text(ip: Option<IpAddr>, out: &mut Vec<u8>) {
    use std::io::Write as _;
    out.clear();
    if let Some(ip) = ip {
        let _ = write!(out, "{ip}");
    }
}

/// Evaluates the request phase of every rule set in place and records what
/// the rules said in `ins.rules`; exceptions move the findings they cover
/// into `ins.rules.excepted`.
pub(crate) fn request_phase(
    rules: &Rules,
    mode: Mode,
    now: u64,
    req: &Request,
    ins: &mut Inspection,
) {
    ins.rules.clear();
    let mut st = std::mem::take(&mut ins.rule_state);
    rules.snapshot(&mut st.sets);
    if st.sets.is_empty() {
        ins.rule_state = st;
        return;
    }
    ip_text(req.client_ip, &mut st.client.ip);
    st.client.session.clear();
    st.client.has_session = false;
    if let Some(s) = session_of(&ins.tree) {
        st.client.session.extend_from_slice(s);
        st.client.has_session = true;
    }
    let mut exceptions: Vec<(Option<Class>, Option<NodeId>)> = Vec::new();
    let sets = std::mem::take(&mut st.sets);
    for set in &sets {
        let view = st.client.view(ins, None);
        set.eval.evaluate(
            &view,
            RulePhase::Request,
            &mut Locked(&set.counters),
            now,
            &mut st.outcome,
        );
        let prog = set.eval.program();
        record(&mut ins.rules, prog, &st.outcome, mode);
        if set.pack_version.is_some() {
            ins.rules.pack_version = set.pack_version;
        }
        collect_scores(&mut ins.rules, prog, &st.outcome);
        for ex in st.outcome.exceptions(prog) {
            if ex.rules_only {
                continue;
            }
            match &ex.point {
                None => exceptions.push((ex.class, None)),
                Some(p) => {
                    st.nodes.clear();
                    p.lookup(&ins.tree, &mut st.nodes, &mut st.scratch);
                    for &n in &st.nodes {
                        exceptions.push((ex.class, Some(n)));
                    }
                }
            }
        }
        add_masks(&mut ins.rules, &ins.tree, prog, &mut st);
    }
    if !exceptions.is_empty() {
        let tree = &ins.tree;
        let covered = |f: &Finding| {
            f.class.is_attack()
                && exceptions.iter().any(|&(c, at)| {
                    c.is_none_or(|c| c == f.class)
                        && at.is_none_or(|n| {
                            is_at_or_below(tree, f.point, n) || in_excepted_part(tree, f, n)
                        })
                })
        };
        let (kept, gone): (Vec<Finding>, Vec<Finding>) =
            ins.findings.drain(..).partition(|f| !covered(f));
        ins.findings = kept;
        ins.rules.excepted = gone;
    }
    st.sets = sets;
    ins.rule_state = st;
}

/// Evaluates the response phase of the rule sets the request phase used,
/// with the response's status; a blocking action replaces the verdict.
pub(crate) fn response_phase(mode: Mode, now: u64, ins: &mut Inspection, status: u16) {
    let mut st = std::mem::take(&mut ins.rule_state);
    let sets = std::mem::take(&mut st.sets);
    for set in sets.iter().filter(|s| s.has_response) {
        let view = st.client.view(ins, Some(status));
        set.eval.evaluate(
            &view,
            RulePhase::Response,
            &mut Locked(&set.counters),
            now,
            &mut st.outcome,
        );
        let prog = set.eval.program();
        record(&mut ins.rules, prog, &st.outcome, mode);
        add_masks(&mut ins.rules, &ins.tree, prog, &mut st);
    }
    st.sets = sets;
    ins.rule_state = st;
}

/// True when some rule set in place for this request has response-phase
/// rules.
pub(crate) fn wants_response(ins: &Inspection) -> bool {
    ins.rule_state.sets.iter().any(|s| s.has_response)
}

/// Adds an outcome's matches, suppressions, tags and decision to the
/// report. The first blocking decision stands; a monitoring one stands
/// until a blocking one comes.
fn record(r: &mut RulesReport, prog: &Program, out: &Outcome, mode: Mode) {
    let id = |i: &u32| prog.rules.get(*i as usize).map(|r| r.id.as_str());
    for m in out.matched.iter().filter_map(id) {
        push_unique(&mut r.matched, m);
    }
    for m in out.suppressed.iter().filter_map(id) {
        push_unique(&mut r.suppressed, m);
    }
    for t in out.tags(prog) {
        push_unique(&mut r.tags, t);
    }
    r.evaluated = r.evaluated.saturating_add(out.evaluated);
    if r.decision
        .as_ref()
        .is_some_and(|d| d.action == Action::Block)
    {
        return;
    }
    let d = out.decide(prog, mode);
    let replace = match d.action {
        Action::Block => true,
        Action::Monitor => r.decision.is_none(),
        Action::Allow => false,
    };
    if replace {
        if let Some(rule) = d.rule.and_then(|i| prog.rules.get(i as usize)) {
            r.decision = Some(RuleDecision {
                action: d.action,
                status: d.status,
                rule: rule.id.clone(),
            });
        }
    }
}

/// True when `f` is a finding on a point above `n` whose value holds the
/// whole of the values below it (the whole query or form string) and its
/// span lies inside `n`'s value there: the same bytes an exception for
/// `n` covers. The point's own parts are inspected one by one, so a
/// finding in another part still counts.
fn in_excepted_part(tree: &Tree, f: &Finding, n: NodeId) -> bool {
    if f.on_name || !is_at_or_below(tree, n, f.point) || n == f.point {
        return false;
    }
    let whole = tree.value(f.point);
    let part = tree.value(n);
    let (s, e) = (f.span.start as usize, f.span.end as usize);
    if part.is_empty() || e > whole.len() || s > e {
        return false;
    }
    let mut from = 0;
    while let Some(i) = whole[from..]
        .windows(part.len())
        .position(|w| w == part)
        .map(|i| i + from)
    {
        if s >= i && e <= i + part.len() {
            return true;
        }
        from = i + 1;
    }
    false
}

/// Resolves the points of the outcome's `mask` actions.
fn add_masks(r: &mut RulesReport, tree: &Tree, prog: &Program, st: &mut RuleState) {
    for p in st.outcome.masks(prog) {
        st.nodes.clear();
        p.lookup(tree, &mut st.nodes, &mut st.scratch);
        for &n in &st.nodes {
            if !r.masked.contains(&n) {
                r.masked.push(n);
            }
        }
    }
}

fn push_unique(into: &mut Vec<String>, s: &str) {
    if !into.iter().any(|x| x == s) {
        into.push(s.to_string());
    }
}

fn collect_scores(r: &mut RulesReport, prog: &Program, out: &Outcome) {
    let mut best_total = 0;
    for f in &out.fired {
        let Some(rule) = prog.rules.get(f.rule as usize) else {
            continue;
        };
        if let Some(ActionIr::Score { points, class }) = rule.actions.get(f.action as usize) {
            match class {
                Some(c) => match r.class_points.iter_mut().find(|(x, _, _)| x == c) {
                    Some((_, p, _)) => *p = p.saturating_add(*points),
                    None => r.class_points.push((*c, *points, rule.id.clone())),
                },
                None => {
                    r.total_points = r.total_points.saturating_add(*points);
                    if *points > best_total {
                        best_total = *points;
                        r.total_rule = Some(rule.id.clone());
                    }
                }
            }
        }
    }
}
