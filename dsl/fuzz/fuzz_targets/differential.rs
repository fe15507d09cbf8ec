//! Differential fuzz target: the bytes drive a generator of rule sets (any
//! mix of points, wildcards, quantifiers, string and number functions,
//! names, format tests, globs, lists, findings, profiles, counters, allow
//! exceptions and rate limits) and of a few requests; every request is
//! evaluated in both phases by the reference interpreter and by the JIT,
//! each with its own counter store, and the outcomes must be identical.
//!
//! `cargo +nightly fuzz run differential fuzz/seeds/differential` (from dsl/)

#![no_main]

use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use rampart_dsl::ir::RulePhase;
use rampart_dsl::profile::{distribution, CharProfile};
use rampart_dsl::{
    compile_str, Evaluator, Interpreter, Jit, MemoryCounters, Outcome, RuleBackend, StaticView,
};
use rampart_types::{Class, Finding, NodeId, NodeKind, Seg, Source, Tree};

/// Reads choices from the fuzz input (zeros once it runs out).
struct G<'a> {
    d: &'a [u8],
    i: usize,
}

impl G<'_> {
    fn byte(&mut self) -> u8 {
        let b = self.d.get(self.i).copied().unwrap_or(0);
        self.i += 1;
        b
    }

    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.byte() as usize % xs.len()]
    }

    fn done(&self) -> bool {
        self.i >= self.d.len()
    }
}

const VALUES: &[&[u8]] = &[
    b"",
    b"1",
    b"42",
    b"-3.5",
    b"abc",
    b"ADMIN",
    b"' or 1=1--",
    b"<script>alert(1)</script>",
    b"${jndi:ldap://x/a}",
    "\u{c9}t\u{e9}".as_bytes(),
    b"10.0.0.1",
    b"a@b.co",
    b"550e8400-e29b-41d4-a716-446655440000",
    b"  padded  ",
    b"\xff\xfe",
    b"aGVsbG8=",
    b"shell.php",
    b"NaN",
];

const STR_LITS: &[&str] = &[
    "\"\"",
    "\"1\"",
    "\"abc\"",
    "\"admin\"",
    "\"<script\"",
    "\"${jndi:\"",
    "\"10.\"",
    "\"x\\xff\"",
    "\"php\"",
];
const GLOBS: &[&str] = &[
    "\"*\"",
    "\"*.php\"",
    "\"1?\"",
    "\"*script*\"",
    "\"10.*\"",
    "\"\\\\*\"",
];
const PATHS: &[&str] = &[
    "query.q",
    "query.id",
    "header[\"user-agent\"]",
    "cookie.session",
    "body:json.user.name",
    "path",
    "method",
];
const WILD: &[&str] = &[
    "query.*",
    "header.*",
    "body:json.**",
    "cookie.*",
    "query[*]",
];
const TESTS: &[&str] = &[
    "is_int",
    "is_number",
    "is_uuid",
    "is_email",
    "is_base64",
    "is_hex",
    "is_ip",
    "is_ipv4",
    "is_ipv6",
    "is_jwt",
    "is_alnum",
    "is_ascii",
];
const CMPS: &[&str] = &["==", "!=", "<", "<=", ">", ">="];
/// Every class `char_ratio` takes.
const CLASSES: &[&str] = &[
    "lower",
    "upper",
    "digit",
    "space",
    "punct",
    "special",
    "control",
    "non_ascii",
    "safe_punct",
    "quote",
    "bracket",
    "operator",
    "other_punct",
];
/// Points whose names differ in kind: members, an index, a layer, none.
const NAMED: &[&str] = &[
    "query.*",
    "query.q:base64",
    "body:json.**",
    "body:json.user.tags[*]",
    "cookie.*",
    "header.*",
    "path",
    "body:json",
];

struct Gen<'a, 'b> {
    g: &'b mut G<'a>,
    /// Inside a quantifier: `it` is a value.
    it: bool,
    /// The rule's endpoint has `{id}`.
    param: bool,
    /// Writing a counter key: a path stands for its first value, so
    /// `name` takes only `it`.
    key: bool,
}

impl Gen<'_, '_> {
    fn point(&mut self) -> String {
        if self.it && self.g.byte().is_multiple_of(3) {
            return "it".into();
        }
        if self.param && self.g.byte().is_multiple_of(5) {
            return "path.id".into();
        }
        match self.g.byte() % 8 {
            0 => self.g.pick(WILD).into(),
            1 => "client.ip".into(),
            2 => "client.session".into(),
            _ => self.g.pick(PATHS).into(),
        }
    }

    fn s(&mut self, depth: u32) -> String {
        if depth == 0 {
            return self.point();
        }
        match self.g.byte() % 8 {
            0 => self.g.pick(STR_LITS).into(),
            1 => format!("lower({})", self.s(depth - 1)),
            2 => format!("upper({})", self.s(depth - 1)),
            3 => format!("trim({})", self.s(depth - 1)),
            4 => self.name(),
            _ => self.point(),
        }
    }

    /// `name(..)` of `it` or of a request point.
    fn name(&mut self) -> String {
        if self.it && (self.key || self.g.byte().is_multiple_of(2)) {
            return "name(it)".into();
        }
        if self.key {
            return self.g.pick(STR_LITS).into();
        }
        format!("name({})", self.g.pick(NAMED))
    }

    /// A counter key.
    fn key(&mut self, depth: u32) -> String {
        let outer = std::mem::replace(&mut self.key, true);
        let k = self.s(depth);
        self.key = outer;
        k
    }

    fn n(&mut self, depth: u32) -> String {
        let d = depth.saturating_sub(1);
        match self.g.byte() % 12 {
            0 => format!("len({})", self.s(d)),
            1 => format!("num({})", self.s(d)),
            2 => format!("entropy({})", self.s(d)),
            3 => {
                let class = self.g.pick(CLASSES);
                format!("char_ratio({}, {class})", self.s(d))
            }
            4 => format!("count({}, 1s)", self.key(d)),
            5 => format!("distinct(client.ip, {}, 5s)", self.key(d)),
            6 => "response.status".into(),
            7 => "deviation(query.q)".into(),
            8 => "length_z(query.q)".into(),
            9 => "count(client.ip, 2s)".into(),
            _ => format!("{}", i32::from(self.g.byte()) - 20),
        }
    }

    fn b(&mut self, depth: u32) -> String {
        if depth == 0 {
            return self.g.pick(&["true", "false", "exists(query.q)"]).into();
        }
        let d = depth - 1;
        match self.g.byte() % 20 {
            0 => format!("{} {} {}", self.s(d), self.g.pick(&["==", "!="]), self.s(d)),
            1 | 2 => format!("{} {} {}", self.n(d), self.g.pick(CMPS), self.n(d)),
            3 => format!("contains({}, {})", self.s(d), self.s(d)),
            4 => format!("starts_with({}, {})", self.s(d), self.s(d)),
            5 => format!("ends_with({}, {})", self.s(d), self.s(d)),
            6 => format!("{}({})", self.g.pick(TESTS), self.s(d)),
            7 => format!(
                "{} {} {}",
                self.s(d),
                self.g.pick(&["~", "!~"]),
                self.g.pick(GLOBS)
            ),
            8 => format!("{} in [\"1\", \"abc\", \"ADMIN\"]", self.s(d)),
            9 => format!("{} not in [1, 42, -3.5]", self.n(d)),
            10 => format!("exists({})", self.g.pick(PATHS)),
            11 => format!("sqli({})", self.point_or_any()),
            12 => format!(
                "attack({}, class = xss, min_score = {})",
                self.point_or_any(),
                self.g.byte() % 100
            ),
            13 | 14 => {
                let q = self.g.pick(&["any", "all"]);
                let p = self.g.pick(WILD);
                let outer = self.it;
                self.it = true;
                let body = self.b(d);
                self.it = outer;
                format!("{q}({p}, {body})")
            }
            15 => format!("not {}", self.b(d)),
            16 | 17 => format!("({} and {})", self.b(d), self.b(d)),
            18 => format!("({} or {} or {})", self.b(d), self.b(d), self.b(d)),
            _ => format!("{} == {}", self.b(d), self.b(d)),
        }
    }

    fn point_or_any(&mut self) -> String {
        if self.g.byte().is_multiple_of(3) {
            "any".into()
        } else {
            let p = self.point();
            if p.starts_with("client.") || p == "path.id" {
                "query.q".into()
            } else {
                p
            }
        }
    }
}

fn rules(g: &mut G<'_>) -> String {
    let mut s = String::new();
    let n = 1 + g.byte() % 6;
    for i in 0..n {
        let prio = g.pick(&[0, 0, 10, -5]);
        let ep = g.pick(&["", "/api/users/{id}", "/search", "/api/**"]);
        let method = g.pick(&["", "GET", "POST"]);
        let host = g.pick(&["", "", "*.example.com"]);
        let mut gen = Gen {
            g,
            it: false,
            param: ep.contains("{id}"),
            key: false,
        };
        let depth = 1 + gen.g.byte() % 4;
        let cond = gen.b(u32::from(depth));
        let action = match g.byte() % 9 {
            0 => "block".to_string(),
            1 => "monitor".into(),
            2 => "allow".into(),
            3 => format!("allow(rules = [\"r{}\"])", g.byte() % n),
            4 => "allow(tags = [\"t\"])".into(),
            5 => format!("score({}), tag(\"t\")", g.byte() % 30),
            6 => "rate_limit(client.ip, limit = 1, window = 5s, ban = 3s)".into(),
            7 => "virtual_patch".into(),
            _ => "tag(\"t\"), mask(query.q)".into(),
        };
        let mut r = format!("ruleset \"s{i}\" priority {prio} {{\nrule r{i} \"n\" {{\n");
        r.push_str("  tags t\n");
        if !ep.is_empty() {
            r.push_str(&format!("  endpoint \"{ep}\"\n"));
        }
        if !method.is_empty() {
            r.push_str(&format!("  method {method}\n"));
        }
        if !host.is_empty() {
            r.push_str(&format!("  host \"{host}\"\n"));
        }
        if !g.byte().is_multiple_of(5) {
            r.push_str(&format!("  when {cond}\n"));
        }
        r.push_str(&format!("  then {action}\n}}\n}}\n"));
        s.push_str(&r);
    }
    s
}

fn leaf(t: &mut Tree, parent: NodeId, key: &[u8], value: &[u8]) -> NodeId {
    let (start, end) = t.push_bytes(key);
    let v = t.push_bytes(value);
    t.push_node(parent, Seg::Key { start, end }, NodeKind::Leaf, v)
}

fn request(g: &mut G<'_>) -> StaticView {
    let mut t = Tree::new();
    let method: &[u8] = g.pick(&[b"GET", b"POST"]);
    let v = t.push_bytes(method);
    t.push_node(NodeId::ROOT, Seg::Source(Source::Method), NodeKind::Leaf, v);
    let path: &[u8] = g.pick(&[
        b"/api/users/7",
        b"/api/users/x%20y",
        b"/search",
        b"/api/a/b",
        b"/",
    ]);
    let v = t.push_bytes(path);
    t.push_node(NodeId::ROOT, Seg::Source(Source::Path), NodeKind::Leaf, v);
    let v = t.push_bytes(b"q=...");
    let q = t.push_node(NodeId::ROOT, Seg::Source(Source::Query), NodeKind::Leaf, v);
    let mut nodes = vec![q];
    for k in [&b"q"[..], b"id", b"q"] {
        if !g.byte().is_multiple_of(4) {
            let val = g.pick(VALUES);
            nodes.push(leaf(&mut t, q, k, val));
        }
    }
    if let (Some(&p), true) = (nodes.last(), g.byte().is_multiple_of(3)) {
        // A decoding of the last parameter: named by the parameter.
        let v = t.push_bytes(g.pick(VALUES));
        nodes.push(t.push_node(p, Seg::Layer("base64"), NodeKind::Leaf, v));
    }
    let h = t.push_node(
        NodeId::ROOT,
        Seg::Source(Source::Header),
        NodeKind::Container,
        (0, 0),
    );
    let host: &[u8] = g.pick(&[b"shop.example.com:8443", b"other.test"]);
    leaf(&mut t, h, b"host", host);
    let ua = g.pick(VALUES);
    nodes.push(leaf(&mut t, h, b"user-agent", ua));
    let c = t.push_node(
        NodeId::ROOT,
        Seg::Source(Source::Cookie),
        NodeKind::Container,
        (0, 0),
    );
    if g.byte().is_multiple_of(2) {
        let s = g.pick(VALUES);
        nodes.push(leaf(&mut t, c, b"session", s));
    }
    if g.byte().is_multiple_of(2) {
        let body = t.push_node(
            NodeId::ROOT,
            Seg::Source(Source::Body),
            NodeKind::Leaf,
            (0, 0),
        );
        let json = t.push_node(body, Seg::Layer("json"), NodeKind::Container, (0, 0));
        let user = leaf(&mut t, json, b"user", b"");
        let name = g.pick(VALUES);
        nodes.push(leaf(&mut t, user, b"name", name));
        if g.byte().is_multiple_of(2) {
            // An array: its elements are named by `tags`.
            let tags = leaf(&mut t, user, b"tags", b"");
            for i in 0..1 + u32::from(g.byte() % 2) {
                let v = t.push_bytes(g.pick(VALUES));
                nodes.push(t.push_node(tags, Seg::Index(i), NodeKind::Leaf, v));
            }
        }
    }
    let mut findings = Vec::new();
    for _ in 0..g.byte() % 3 {
        let at = g.pick(&nodes);
        let class = g.pick(&[Class::Sqli, Class::Xss, Class::Anomaly]);
        findings.push(Finding::new(
            at,
            class,
            format!("{class}.f"),
            g.byte() % 101,
            "fuzz",
        ));
    }
    let mut profiles = std::collections::HashMap::new();
    if g.byte().is_multiple_of(2) {
        profiles.insert(
            "query.q".to_string(),
            CharProfile {
                classes: distribution(b"plain words 123"),
                len_mean: 10.0,
                len_std: f64::from(g.byte() % 5),
            },
        );
    }
    StaticView {
        tree: t,
        findings,
        client_ip: (!g.byte().is_multiple_of(4))
            .then(|| g.pick(&[&b"10.0.0.1"[..], b"192.0.2.9"]).to_vec()),
        client_session: (g.byte().is_multiple_of(2)).then(|| b"s1".to_vec()),
        response_status: (g.byte().is_multiple_of(2)).then(|| g.pick(&[200, 401, 502])),
        profiles,
    }
}

fuzz_target!(|data: &[u8]| {
    let mut g = G { d: data, i: 0 };
    let text = rules(&mut g);
    let prog = match compile_str("fuzz.rules", &text) {
        Ok(p) => p,
        Err(d) => {
            // The generator should write valid rules; show what it missed.
            if std::env::var_os("DIFF_SHOW_REFUSED").is_some() {
                eprintln!("{text}\n{}", d.render());
            }
            return;
        }
    };
    if std::env::var_os("DIFF_SHOW").is_some() {
        eprintln!("{text}");
    }
    let prog = Arc::new(prog);
    let interp = Interpreter
        .compile(prog.clone())
        .expect("the interpreter compiles");
    let jit = Jit::default()
        .compile(prog)
        .unwrap_or_else(|e| panic!("the JIT refuses a checked program: {e}\n{text}"));
    let (mut ci, mut cj) = (MemoryCounters::default(), MemoryCounters::default());
    let (mut oi, mut oj) = (Outcome::default(), Outcome::default());
    for step in 0..4u64 {
        if step > 0 && g.done() {
            break;
        }
        let req = request(&mut g);
        let now = step * 1500;
        for phase in [RulePhase::Request, RulePhase::Response] {
            interp.evaluate(&req, phase, &mut ci, now, &mut oi);
            jit.evaluate(&req, phase, &mut cj, now, &mut oj);
            assert_eq!(
                oi, oj,
                "back-ends disagree at step {step} {phase:?}\n{text}"
            );
            if std::env::var_os("DIFF_SHOW").is_some() {
                eprintln!("step {step} {phase:?}: {oi:?}");
            }
        }
    }
});
