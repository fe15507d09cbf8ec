//! What compiled conditions call: the request context and the runtime
//! helpers' logic, in safe Rust. The `extern "C"` entry points that
//! compiled code calls are thin shims in [`super::abi`].
//!
//! Values cross the boundary as plain numbers: `bool` as `i8` (0 or 1),
//! `num` as `f64` (an absent number is NaN, which every comparison and
//! `in` treat exactly as the interpreter treats an absent value), `str` as
//! a 64-bit *handle* ([`Handle`]) that names where the bytes are (a
//! constant, a node of the request tree, the per-request arena, a context
//! value, a slice of the path) so that no pointer into Rust memory is ever
//! given to compiled code.

use std::cmp::Ordering;

use rampart_types::{Class, NodeId, Tree};

use super::facts::{Facts, Layout};
use super::kernel::{byte_set, subset, ByteSet, KTest, Kernel};
use crate::counters::CounterStore;
use crate::formats;
use crate::ir::{Builtin, Cmp, ConstList, CounterKind, Program};
use crate::path::Scratch;
use crate::profile;
use crate::view::RequestView;

/// A `str` value as compiled code holds it: a tag in the top 4 bits and a
/// payload below.
pub(crate) type Handle = u64;

pub(crate) const TAG_SHIFT: u32 = 60;
pub(crate) const ABSENT: Handle = 0;
pub(crate) const TAG_CONST: u64 = 1 << TAG_SHIFT;
pub(crate) const TAG_NODE: u64 = 2 << TAG_SHIFT;
const TAG_ARENA: u64 = 3 << TAG_SHIFT;
pub(crate) const TAG_IP: u64 = 4 << TAG_SHIFT;
pub(crate) const TAG_SESSION: u64 = 5 << TAG_SHIFT;
const TAG_PATH: u64 = 6 << TAG_SHIFT;
/// The key of a member node (`name(..)`): the payload is the node.
const TAG_KEY: u64 = 7 << TAG_SHIFT;
const PAYLOAD: u64 = (1 << TAG_SHIFT) - 1;
/// Start and length of a range share the payload: 30 bits each.
const RANGE_BITS: u32 = 30;
const RANGE_MAX: usize = (1 << RANGE_BITS) - 1;

fn range(tag: u64, start: usize, len: usize) -> Handle {
    if start > RANGE_MAX || len > RANGE_MAX {
        // Over a gigabyte of computed text in one request: treated as
        // absent rather than wrapped (no request gets near this).
        return ABSENT;
    }
    tag | ((start as u64) << RANGE_BITS) | len as u64
}

fn unrange(h: Handle) -> (usize, usize) {
    let p = h & PAYLOAD;
    ((p >> RANGE_BITS) as usize, (p & RANGE_MAX as u64) as usize)
}

/// Request-independent tables a compiled program refers to by index,
/// besides the [`Program`]'s own.
#[derive(Debug, Default)]
pub(crate) struct Tables {
    /// Built-in functions, interned (the `f` argument of the helpers).
    pub builtins: Vec<Builtin>,
    /// Detector-finding tests: class, rule name (a program string), score.
    pub findings: Vec<(Option<Class>, Option<u32>, u8)>,
    /// Fused quantifier loops.
    pub kernels: Vec<Kernel>,
    /// Where the per-request facts lie ([`super::facts`]).
    pub layout: Layout,
}

impl Tables {
    pub fn builtin(&mut self, b: Builtin) -> u32 {
        intern(&mut self.builtins, b)
    }

    pub fn finding(&mut self, f: (Option<Class>, Option<u32>, u8)) -> u32 {
        intern(&mut self.findings, f)
    }

    pub fn kernel(&mut self, k: Kernel) -> u32 {
        // Not interned: a large pack has thousands, mostly distinct.
        self.kernels.push(k);
        (self.kernels.len() - 1) as u32
    }
}

fn intern<T: PartialEq>(v: &mut Vec<T>, x: T) -> u32 {
    match v.iter().position(|y| *y == x) {
        Some(i) => i as u32,
        None => {
            v.push(x);
            (v.len() - 1) as u32
        }
    }
}

/// Buffers reused from request to request (one set per thread).
#[derive(Debug, Default)]
pub(crate) struct Buffers {
    /// Results of point lookups; compiled loops index into it.
    nodes: Vec<NodeId>,
    /// Per path of the program: (epoch, start, count) in `nodes`.
    paths: Vec<(u32, u32, u32)>,
    /// Per tree node: (epoch, lower, upper) handles, 0 when not computed.
    case: Vec<(u32, Handle, Handle)>,
    /// Per tree node: (epoch, which are known, byte sets of the value, its
    /// lower-case and its upper-case form).
    sets: Vec<(u32, u8, [ByteSet; 3])>,
    /// What compiled code reads inline: absent paths, byte sets of paths,
    /// finding answers.
    pub facts: Facts,
    epoch: u32,
    /// The request's tag in the facts (`epoch << 32`).
    tag: u64,
    /// Text computed during the request (`lower`, `upper`, `trim`).
    arena: Vec<u8>,
    tmp: Vec<u8>,
    key: Vec<u8>,
    /// The counted value of a `distinct` being built.
    value: Option<Handle>,
    scratch: Scratch,
    found: Vec<NodeId>,
    pub cands: Vec<u32>,
    /// The lower-cased host (for host clauses).
    pub host: Vec<u8>,
}

impl Buffers {
    /// Prepares the buffers for a request of `prog` over `tree`, with the
    /// facts laid out as `layout`.
    pub fn start(&mut self, prog: &Program, tree: &Tree, layout: &Layout) {
        self.epoch = self.epoch.wrapping_add(1);
        let wrapped = self.epoch == 0;
        if wrapped {
            self.paths.clear();
            self.case.clear();
            self.sets.clear();
            self.epoch = 1;
        }
        self.tag = u64::from(self.epoch) << 32;
        self.facts.start(layout, self.tag, wrapped);
        if self.paths.len() < prog.paths.len() {
            self.paths.resize(prog.paths.len(), (0, 0, 0));
        }
        if self.case.len() < tree.len() {
            self.case.resize(tree.len(), (0, 0, 0));
            self.sets.resize(tree.len(), (0, 0, [[0; 4]; 3]));
        }
        self.nodes.clear();
        self.arena.clear();
        self.key.clear();
        self.value = None;
        // Do not let one huge request keep its memory forever.
        if self.arena.capacity() > 1 << 20 {
            self.arena.shrink_to(1 << 16);
        }
        if self.nodes.capacity() > 1 << 16 {
            self.nodes.shrink_to(1 << 12);
        }
    }
}

/// Everything compiled code reaches through its context pointer.
pub(crate) struct Ctx<'a> {
    pub prog: &'a Program,
    pub tabs: &'a Tables,
    pub req: &'a dyn RequestView,
    pub tree: &'a Tree,
    pub counters: &'a mut dyn CounterStore,
    pub now: u64,
    pub path: &'a [u8],
    pub buf: &'a mut Buffers,
    /// Set when a helper panicked (the helper answered false/absent).
    pub panicked: bool,
}

impl<'a> Ctx<'a> {
    /// The facts table for compiled code and the request's tag; `None`
    /// when the table is shorter than the program's layout (it never is
    /// once [`Buffers::start`] ran).
    pub fn facts(&self) -> Option<(*const u64, u64)> {
        let (p, len) = self.buf.facts.raw();
        (len >= self.tabs.layout.len()).then_some((p, self.buf.tag))
    }

    /// The bytes of a handle; `None` when absent.
    pub fn bytes(&self, h: Handle) -> Option<&[u8]> {
        let p = h & PAYLOAD;
        match h & !PAYLOAD {
            TAG_CONST => self.prog.strings.get(p as usize).map(|s| &s[..]),
            TAG_NODE => (p < self.tree.len() as u64).then(|| self.tree.value(NodeId(p as u32))),
            TAG_ARENA => {
                let (s, l) = unrange(h);
                self.buf.arena.get(s..s + l)
            }
            TAG_IP => self.req.client_ip(),
            TAG_SESSION => self.req.client_session(),
            TAG_PATH => {
                let (s, l) = unrange(h);
                self.path.get(s..s + l)
            }
            TAG_KEY => (p < self.tree.len() as u64)
                .then(|| self.tree.key(self.tree.node(NodeId(p as u32)).seg))
                .flatten(),
            _ => None,
        }
    }

    /// Nodes carrying path `p`, looked up once per request:
    /// `(start << 32) | count` in the node buffer.
    #[inline]
    pub fn lookup(&mut self, p: u32) -> u64 {
        let epoch = self.buf.epoch;
        if let Some(&(e, s, n)) = self.buf.paths.get(p as usize) {
            if e == epoch {
                return (u64::from(s) << 32) | u64::from(n);
            }
        }
        self.lookup_slow(p)
    }

    #[cold]
    #[inline(never)]
    fn lookup_slow(&mut self, p: u32) -> u64 {
        let epoch = self.buf.epoch;
        let Some(path) = self.prog.paths.get(p as usize) else {
            return 0;
        };
        let mut found = std::mem::take(&mut self.buf.found);
        found.clear();
        self.req.lookup(path, &mut found, &mut self.buf.scratch);
        let start = self.buf.nodes.len() as u32;
        self.buf.nodes.extend_from_slice(&found);
        let n = found.len() as u32;
        self.buf.found = found;
        if let Some(slot) = self.buf.paths.get_mut(p as usize) {
            *slot = (epoch, start, n);
            let f = self.tabs.layout.path(p);
            self.buf.facts.set(f, self.buf.tag | u64::from(n));
        }
        (u64::from(start) << 32) | u64::from(n)
    }

    pub fn node(&self, i: u64) -> u64 {
        self.buf
            .nodes
            .get(i as usize)
            .map_or(NodeId::ROOT.0, |n| n.0)
            .into()
    }

    pub fn exists(&mut self, p: u32) -> bool {
        self.lookup(p) & 0xffff_ffff != 0
    }

    pub fn first(&mut self, p: u32) -> Handle {
        let r = self.lookup(p);
        if r & 0xffff_ffff == 0 {
            return ABSENT;
        }
        TAG_NODE | self.node(r >> 32)
    }

    /// `path.NAME` of the rule being evaluated (as the interpreter: the
    /// name from the first template, the value from any that matches).
    pub fn param(&self, rule: u32, idx: u32) -> Handle {
        let Some(r) = self.prog.rules.get(rule as usize) else {
            return ABSENT;
        };
        let Some(name) = r
            .scope
            .endpoints
            .first()
            .and_then(|t| t.params().nth(idx as usize))
        else {
            return ABSENT;
        };
        for t in &r.scope.endpoints {
            if let Some(v) = t.param(self.path, name) {
                let start = v.as_ptr() as usize - self.path.as_ptr() as usize;
                return range(TAG_PATH, start, v.len());
            }
        }
        ABSENT
    }

    pub fn status(&self) -> f64 {
        self.req.response_status().map_or(f64::NAN, f64::from)
    }

    pub fn str_cmp(&self, op: u32, a: Handle, b: Handle) -> bool {
        let (Some(a), Some(b)) = (self.bytes(a), self.bytes(b)) else {
            return false;
        };
        let o = a.cmp(b);
        match op {
            0 => o == Ordering::Equal,
            1 => o != Ordering::Equal,
            2 => o == Ordering::Less,
            3 => o != Ordering::Greater,
            4 => o == Ordering::Greater,
            _ => o != Ordering::Less,
        }
    }

    pub fn in_str(&self, h: Handle, list: u32) -> bool {
        let Some(s) = self.bytes(h) else { return false };
        match self.prog.lists.get(list as usize) {
            Some(ConstList::Str(items)) => items.iter().any(|i| i[..] == *s),
            _ => false,
        }
    }

    pub fn in_num(&self, x: f64, list: u32) -> bool {
        match self.prog.lists.get(list as usize) {
            Some(ConstList::Num(items)) => items.contains(&x),
            _ => false,
        }
    }

    pub fn glob(&self, h: Handle, g: u32) -> bool {
        match (self.bytes(h), self.prog.globs.get(g as usize)) {
            (Some(s), Some(g)) => g.matches(s),
            _ => false,
        }
    }

    fn builtin(&self, f: u32) -> Option<Builtin> {
        self.tabs.builtins.get(f as usize).copied()
    }

    /// `lower`, `upper`, `trim`.
    pub fn str_fn(&mut self, f: u32, h: Handle) -> Handle {
        match self.builtin(f) {
            Some(f) => self.map_str(f, h),
            None => ABSENT,
        }
    }

    fn map_str(&mut self, f: Builtin, h: Handle) -> Handle {
        let node = (h & !PAYLOAD == TAG_NODE).then_some((h & PAYLOAD) as usize);
        let epoch = self.buf.epoch;
        if let (Some(n), Builtin::Lower | Builtin::Upper) = (node, f) {
            if let Some(&(e, lo, up)) = self.buf.case.get(n) {
                let cached = if f == Builtin::Lower { lo } else { up };
                if e == epoch && cached != ABSENT {
                    return cached;
                }
            }
        }
        let mut tmp = std::mem::take(&mut self.buf.tmp);
        tmp.clear();
        let out = match self.bytes(h) {
            None => None,
            Some(x) => {
                match f {
                    Builtin::Lower if x.is_ascii() => {
                        tmp.extend(x.iter().map(u8::to_ascii_lowercase))
                    }
                    Builtin::Upper if x.is_ascii() => {
                        tmp.extend(x.iter().map(u8::to_ascii_uppercase))
                    }
                    Builtin::Lower => match std::str::from_utf8(x) {
                        Ok(s) => tmp.extend_from_slice(s.to_lowercase().as_bytes()),
                        Err(_) => tmp.extend(x.iter().map(u8::to_ascii_lowercase)),
                    },
                    Builtin::Upper => match std::str::from_utf8(x) {
                        Ok(s) => tmp.extend_from_slice(s.to_uppercase().as_bytes()),
                        Err(_) => tmp.extend(x.iter().map(u8::to_ascii_uppercase)),
                    },
                    _ => tmp.extend_from_slice(x.trim_ascii()),
                }
                Some(())
            }
        };
        let r = match out {
            None => ABSENT,
            Some(()) => {
                let start = self.buf.arena.len();
                self.buf.arena.extend_from_slice(&tmp);
                range(TAG_ARENA, start, tmp.len())
            }
        };
        self.buf.tmp = tmp;
        if let Some(n) = node {
            if let Some(c) = self.buf.case.get_mut(n) {
                if c.0 != epoch {
                    *c = (epoch, ABSENT, ABSENT);
                }
                match f {
                    Builtin::Lower => c.1 = r,
                    Builtin::Upper => c.2 = r,
                    _ => {}
                }
            }
        }
        r
    }

    /// `len`, `num`, `entropy`, `char_ratio`: NaN when absent.
    pub fn num_fn(&self, f: u32, h: Handle) -> f64 {
        match self.builtin(f) {
            Some(f) => self.num_b(f, h),
            None => f64::NAN,
        }
    }

    fn num_b(&self, f: Builtin, h: Handle) -> f64 {
        let Some(x) = self.bytes(h) else {
            return f64::NAN;
        };
        match f {
            Builtin::Len => {
                if x.is_ascii() {
                    x.len() as f64
                } else {
                    match std::str::from_utf8(x) {
                        Ok(s) => s.chars().count() as f64,
                        Err(_) => x.len() as f64,
                    }
                }
            }
            Builtin::Num => formats::parse_num(x).unwrap_or(f64::NAN),
            Builtin::Entropy => profile::entropy(x),
            Builtin::CharRatio(c) => profile::ratio(x, c),
            _ => f64::NAN,
        }
    }

    /// `contains`, `starts_with`, `ends_with`.
    pub fn str2(&self, f: u32, a: Handle, b: Handle) -> bool {
        let (Some(f), Some(x), Some(y)) = (self.builtin(f), self.bytes(a), self.bytes(b)) else {
            return false;
        };
        match f {
            Builtin::Contains => contains(x, y),
            Builtin::StartsWith => x.starts_with(y),
            Builtin::EndsWith => x.ends_with(y),
            _ => false,
        }
    }

    /// The format tests (`is_int`, ...).
    pub fn test(&self, f: u32, h: Handle) -> bool {
        match self.builtin(f) {
            Some(f) => self.test_b(f, h),
            None => false,
        }
    }

    fn test_b(&self, f: Builtin, h: Handle) -> bool {
        let Some(x) = self.bytes(h) else {
            return false;
        };
        match f {
            Builtin::IsInt => formats::is_int(x),
            Builtin::IsNumber => formats::is_number(x),
            Builtin::IsUuid => formats::is_uuid(x),
            Builtin::IsEmail => formats::is_email(x),
            Builtin::IsBase64 => formats::is_base64(x),
            Builtin::IsHex => formats::is_hex(x),
            Builtin::IsIp => formats::is_ip(x),
            Builtin::IsIpv4 => formats::is_ipv4(x),
            Builtin::IsIpv6 => formats::is_ipv6(x),
            Builtin::IsJwt => formats::is_jwt(x),
            Builtin::IsAlnum => formats::is_alnum(x),
            Builtin::IsAscii => formats::is_ascii(x),
            _ => false,
        }
    }

    /// A detector finding (table entry `site`) at `node` or below it, or
    /// anywhere when `node` is `u32::MAX`. The view's answer is kept in
    /// the facts: the next test of the site at the node, by any rule,
    /// reads it there.
    pub fn finding(&self, site: u32, node: u64) -> bool {
        let Some(&(class, rule, min)) = self.tabs.findings.get(site as usize) else {
            return false;
        };
        let node = node & 0xffff_ffff;
        let key = self.buf.tag | node;
        let f = self.tabs.layout.find(site);
        if self.buf.facts.get(f) == key {
            return self.buf.facts.get(f + 1) != 0;
        }
        let at = (node != u64::from(u32::MAX)).then_some(NodeId(node as u32));
        let rule = rule
            .and_then(|r| self.prog.strings.get(r as usize))
            .map(|s| &s[..]);
        let r = self.req.has_finding(at, class, rule, min);
        self.buf.facts.set(f, key);
        self.buf.facts.set(f + 1, u64::from(r));
        r
    }

    /// `deviation` (kind 0) and `length_z` (kind 1) of a node.
    pub fn profile(&self, kind: u32, node: u64) -> f64 {
        let n = NodeId(node as u32);
        if n.index() >= self.tree.len() {
            return f64::NAN;
        }
        match self.req.profile(n) {
            Some(p) => {
                let v = self.tree.value(n);
                if kind == 0 {
                    p.deviation(v)
                } else {
                    p.length_z(v)
                }
            }
            None => f64::NAN,
        }
    }

    /// `name(..)` of a node: the key of the member that names it
    /// ([`crate::view::named_node`]), absent when none does.
    pub fn name(&self, node: u64) -> Handle {
        let Ok(n) = u32::try_from(node) else {
            return ABSENT;
        };
        match crate::view::named_node(self.tree, NodeId(n)) {
            Some(k) => TAG_KEY | u64::from(k.0),
            None => ABSENT,
        }
    }

    /// Starts the key of counter site `c` in rule `rule` (as the
    /// interpreter builds it).
    pub fn key_begin(&mut self, c: u32, rule: u32) {
        self.buf.key.clear();
        self.buf.key.extend_from_slice(&rule.to_le_bytes());
        self.buf.key.extend_from_slice(&c.to_le_bytes());
        self.buf.value = None;
    }

    /// Adds key `i` of counter site `c`; false when it is absent (the
    /// counter is then absent and records nothing).
    pub fn key_push(&mut self, c: u32, i: u32, h: Handle) -> bool {
        let Some(site) = self.prog.counters.get(c as usize) else {
            return false;
        };
        let n = site.keys.1.saturating_sub(site.keys.0);
        let mut key = std::mem::take(&mut self.buf.key);
        let ok = match self.bytes(h) {
            None => false,
            Some(_) if site.kind == CounterKind::Distinct && i + 1 == n => {
                self.buf.value = Some(h);
                true
            }
            Some(s) => {
                key.extend_from_slice(&(s.len() as u32).to_le_bytes());
                key.extend_from_slice(s);
                true
            }
        };
        self.buf.key = key;
        ok
    }

    /// Records the event of counter site `c` and yields its count.
    pub fn counter(&mut self, c: u32) -> f64 {
        let Some(site) = self.prog.counters.get(c as usize) else {
            return f64::NAN;
        };
        let key = std::mem::take(&mut self.buf.key);
        let n = match site.kind {
            CounterKind::Count => self.counters.hit(&key, site.window_ms, self.now),
            CounterKind::Distinct => {
                let v = self
                    .buf
                    .value
                    .and_then(|h| self.bytes(h))
                    .map(<[u8]>::to_vec);
                match v {
                    Some(v) => self.counters.distinct(&key, &v, site.window_ms, self.now),
                    None => 0,
                }
            }
        };
        self.buf.key = key;
        n as f64
    }
}

impl Ctx<'_> {
    /// Runs a fused quantifier loop ([`Kernel`]).
    /// `path` is the kernel's (passed along so that the lookup does not
    /// wait for the kernel's entry to load).
    pub fn kernel(&mut self, k: u32, path: u32) -> bool {
        let r = self.lookup(path);
        let tabs = self.tabs;
        let Some(kern) = tabs.kernels.get(k as usize) else {
            return false;
        };
        let (start, n) = ((r >> 32) as usize, (r & 0xffff_ffff) as usize);
        if n == 0 {
            return !kern.any;
        }
        // A literal no node's bytes can supply fails every node at once:
        // `any` and `all` (over at least one node) are both false. The
        // union goes to the facts, where compiled code finds it for the
        // next rule that tests the path in the same form.
        if let Some((v, need)) = kern.need() {
            if !subset(need, &self.union_of(path, v, start, n, &kern.maps)) {
                return false;
            }
        }
        let each = n > 1;
        for i in start..start + n {
            let node = self.buf.nodes.get(i).copied().unwrap_or(NodeId::ROOT);
            if self.kernel_test(kern, node, each) == kern.any {
                return kern.any;
            }
        }
        !kern.any
    }

    /// The union of the byte sets of the `n` nodes of `path` (from `start`
    /// in the node buffer), in form `v` (see [`Ctx::set_of`]), computed
    /// once per request.
    fn union_of(
        &mut self,
        path: u32,
        v: usize,
        start: usize,
        n: usize,
        maps: &[Builtin],
    ) -> ByteSet {
        let at = self.tabs.layout.set(path, v);
        let tag = self.buf.tag;
        if let Some(u) = self.buf.facts.byte_set(at, tag) {
            return u;
        }
        let mut u = [0u64; 4];
        for i in start..start + n {
            let node = self.buf.nodes.get(i).copied().unwrap_or(NodeId::ROOT);
            let mut h = TAG_NODE | u64::from(node.0);
            for &f in maps {
                h = self.map_str(f, h);
            }
            let s = self.set_of(node, v, h);
            for (a, b) in u.iter_mut().zip(s) {
                *a |= b;
            }
        }
        self.buf.facts.set_byte_set(at, tag, &u);
        u
    }

    /// The byte set of a node's value (`v` 0), its lower-case (1) or
    /// upper-case (2) form `h`, computed once per request.
    fn set_of(&mut self, node: NodeId, v: usize, h: Handle) -> ByteSet {
        let epoch = self.buf.epoch;
        if let Some((e, known, sets)) = self.buf.sets.get(node.index()) {
            if *e == epoch && known & (1 << v) != 0 {
                return sets[v];
            }
        }
        let set = byte_set(self.bytes(h).unwrap_or(&[]));
        if let Some(entry) = self.buf.sets.get_mut(node.index()) {
            if entry.0 != epoch {
                *entry = (epoch, 0, [[0; 4]; 3]);
            }
            entry.1 |= 1 << v;
            entry.2[v] = set;
        }
        set
    }

    /// The kernel's test of one node; `each`: check the node's bytes
    /// first (the union of several nodes' passed).
    fn kernel_test(&mut self, kern: &Kernel, node: NodeId, each: bool) -> bool {
        if let KTest::Finding(site) = kern.test {
            return self.finding(site, u64::from(node.0));
        }
        let mut h = TAG_NODE | u64::from(node.0);
        for &f in &kern.maps {
            h = self.map_str(f, h);
        }
        if let (Some((v, need)), true) = (kern.need(), each) {
            if !subset(need, &self.set_of(node, v, h)) {
                return false;
            }
        }
        match &kern.test {
            KTest::Glob(g, _) => self.glob(h, *g),
            KTest::Str2(f, c, _) => {
                let (Some(x), Some(y)) = (self.bytes(h), self.prog.strings.get(*c as usize)) else {
                    return false;
                };
                match f {
                    Builtin::Contains => contains(x, y),
                    Builtin::StartsWith => x.starts_with(y),
                    _ => x.ends_with(y),
                }
            }
            KTest::Test(f) => self.test_b(*f, h),
            KTest::InStr(l) => self.in_str(h, *l),
            KTest::StrCmp(op, c, flip) => {
                let c = TAG_CONST | u64::from(*c);
                if *flip {
                    self.str_cmp(cmp_code(*op), c, h)
                } else {
                    self.str_cmp(cmp_code(*op), h, c)
                }
            }
            KTest::NumCmp(f, op, c, flip) => {
                let x = self.num_b(*f, h);
                let (a, b) = if *flip { (*c, x) } else { (x, *c) };
                num_cmp(*op, a, b)
            }
            KTest::Finding(_) => false,
        }
    }
}

/// A comparison of numbers as the interpreter makes it (false with NaN).
fn num_cmp(op: Cmp, a: f64, b: f64) -> bool {
    let Some(o) = a.partial_cmp(&b) else {
        return false;
    };
    match op {
        Cmp::Eq => o == Ordering::Equal,
        Cmp::Ne => o != Ordering::Equal,
        Cmp::Lt => o == Ordering::Less,
        Cmp::Le => o != Ordering::Greater,
        Cmp::Gt => o == Ordering::Greater,
        Cmp::Ge => o != Ordering::Less,
    }
}

/// Byte-wise substring test; the empty needle is everywhere.
fn contains(hay: &[u8], needle: &[u8]) -> bool {
    let Some((&first, rest)) = needle.split_first() else {
        return true;
    };
    if needle.len() > hay.len() {
        return false;
    }
    let last_start = hay.len() - needle.len();
    let mut i = 0;
    while i <= last_start {
        match hay[i..=last_start].iter().position(|&b| b == first) {
            None => return false,
            Some(p) => {
                let at = i + p;
                if &hay[at + 1..at + needle.len()] == rest {
                    return true;
                }
                i = at + 1;
            }
        }
    }
    false
}

/// The comparison code passed to [`Ctx::str_cmp`].
pub(crate) fn cmp_code(op: Cmp) -> u32 {
    match op {
        Cmp::Eq => 0,
        Cmp::Ne => 1,
        Cmp::Lt => 2,
        Cmp::Le => 3,
        Cmp::Gt => 4,
        Cmp::Ge => 5,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substring() {
        assert!(contains(b"abc", b""));
        assert!(contains(b"abc", b"c"));
        assert!(contains(b"aab", b"ab"));
        assert!(!contains(b"ab", b"abc"));
        assert!(!contains(b"abd", b"bc"));
        assert!(contains(b"${jndi:x", b"${jndi:"));
    }

    #[test]
    fn ranges() {
        let h = range(TAG_ARENA, 12, 34);
        assert_eq!(h & !PAYLOAD, TAG_ARENA);
        assert_eq!(unrange(h), (12, 34));
        assert_eq!(range(TAG_ARENA, RANGE_MAX + 1, 1), ABSENT);
    }
}
