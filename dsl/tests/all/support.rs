//! Builds requests (request-point trees) for the tests, and runs rules.

#![allow(clippy::panic)] // test helpers: a bad fixture is a test bug

use std::sync::Arc;

use rampart_dsl::ir::RulePhase;
use rampart_dsl::{
    compile, Evaluator, Interpreter, MemoryCounters, MemoryLoader, Outcome, Program, RuleBackend,
    StaticView,
};
use rampart_types::{Class, Finding, NodeId, NodeKind, Seg, Source, Tree};

/// A request under construction.
pub struct Req {
    pub view: StaticView,
}

fn layer_name(s: &str) -> &'static str {
    match s {
        "json" => "json",
        "xml" => "xml",
        "form" => "form",
        "base64" => "base64",
        "basic" => "basic",
        "bearer" => "bearer",
        "jwt" => "jwt",
        "multipart" => "multipart",
        "gzip" => "gzip",
        "url" => "url",
        "html" => "html",
        other => panic!("unknown layer {other} in a test path"),
    }
}

/// One step of a test path.
enum Step {
    Key(String),
    Index(u32),
    Layer(&'static str),
}

/// Splits `body:json.user["first name"][2]` into a source and steps.
fn split(path: &str) -> (Source, Vec<Step>) {
    let b = path.as_bytes();
    let mut i = 0;
    while i < b.len() && b[i].is_ascii_alphabetic() {
        i += 1;
    }
    let source = Source::parse(&path[..i]).expect("a source");
    let mut steps = Vec::new();
    while i < b.len() {
        match b[i] {
            b'.' | b':' => {
                let layer = b[i] == b':';
                let s = i + 1;
                i = s;
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'-')
                {
                    i += 1;
                }
                let name = &path[s..i];
                steps.push(if layer {
                    Step::Layer(layer_name(name))
                } else {
                    Step::Key(name.to_string())
                });
            }
            b'[' => {
                let close = path[i..].find(']').expect("]") + i;
                let inner = &path[i + 1..close];
                steps.push(match inner.strip_prefix('"') {
                    Some(q) => Step::Key(q.trim_end_matches('"').to_string()),
                    None => Step::Index(inner.parse().expect("index")),
                });
                i = close + 1;
            }
            _ => panic!("bad test path {path}"),
        }
    }
    (source, steps)
}

impl Req {
    /// A request with a method and a target (`/a/b?x=1&y=2`, no escapes).
    pub fn new(method: &str, target: &str) -> Req {
        let mut t = Tree::new();
        let v = t.push_bytes(method.as_bytes());
        t.push_node(NodeId::ROOT, Seg::Source(Source::Method), NodeKind::Leaf, v);
        let v = t.push_bytes(target.as_bytes());
        t.push_node(NodeId::ROOT, Seg::Source(Source::Uri), NodeKind::Leaf, v);
        let (path, query) = match target.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (target, None),
        };
        let v = t.push_bytes(path.as_bytes());
        let pnode = t.push_node(NodeId::ROOT, Seg::Source(Source::Path), NodeKind::Leaf, v);
        let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        for (i, s) in segs.iter().enumerate() {
            if s.is_empty() && i + 1 == segs.len() {
                break;
            }
            let v = t.push_bytes(s.as_bytes());
            t.push_node(pnode, Seg::Index(i as u32), NodeKind::Leaf, v);
        }
        let mut req = Req {
            view: StaticView {
                tree: t,
                client_ip: Some(b"203.0.113.7".to_vec()),
                ..StaticView::default()
            },
        };
        if let Some(q) = query {
            let t = &mut req.view.tree;
            let v = t.push_bytes(q.as_bytes());
            t.push_node(NodeId::ROOT, Seg::Source(Source::Query), NodeKind::Leaf, v);
            for pair in q.split('&').filter(|p| !p.is_empty()) {
                let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                req = req.leaf(&format!("query[\"{k}\"]"), v);
            }
        }
        req
    }

    pub fn get(target: &str) -> Req {
        Req::new("GET", target)
    }

    pub fn post(target: &str) -> Req {
        Req::new("POST", target)
    }

    fn source_node(&mut self, s: Source) -> NodeId {
        let t = &mut self.view.tree;
        if let Some(n) = t.source(s) {
            return n;
        }
        let kind = if s == Source::Body {
            NodeKind::Leaf
        } else {
            NodeKind::Container
        };
        t.push_node(NodeId::ROOT, Seg::Source(s), kind, (0, 0))
    }

    /// Adds a leaf at a path, creating containers on the way; a repeated
    /// path adds a sibling.
    pub fn leaf(mut self, path: &str, value: &str) -> Req {
        let (source, steps) = split(path);
        let mut cur = self.source_node(source);
        let t = &mut self.view.tree;
        let n = steps.len();
        for (i, st) in steps.into_iter().enumerate() {
            let last = i + 1 == n;
            let existing = match &st {
                Step::Key(k) => t.child_by_key(cur, k.as_bytes()),
                Step::Index(x) => t.children(cur).find(|&c| t.node(c).seg == Seg::Index(*x)),
                Step::Layer(l) => t.layer_child(cur, l),
            };
            if let (Some(e), false) = (existing, last) {
                cur = e;
                continue;
            }
            let seg = match st {
                Step::Key(k) => {
                    let (start, end) = t.push_bytes(k.as_bytes());
                    Seg::Key { start, end }
                }
                Step::Index(x) => Seg::Index(x),
                Step::Layer(l) => Seg::Layer(l),
            };
            if last {
                let v = t.push_bytes(value.as_bytes());
                cur = t.push_node(cur, seg, NodeKind::Leaf, v);
            } else {
                cur = t.push_node(cur, seg, NodeKind::Container, (0, 0));
            }
        }
        self
    }

    pub fn header(self, name: &str, value: &str) -> Req {
        self.leaf(&format!("header[\"{}\"]", name.to_ascii_lowercase()), value)
    }

    pub fn cookie(self, name: &str, value: &str) -> Req {
        self.leaf(&format!("cookie[\"{name}\"]"), value)
    }

    /// A finding at the last node whose path displays as `path`.
    pub fn finding(mut self, path: &str, class: Class, score: u8) -> Req {
        let t = &self.view.tree;
        let node = t
            .ids()
            .filter(|&id| t.path(id).to_string() == path)
            .last()
            .unwrap_or_else(|| panic!("no point {path}"));
        self.view.findings.push(Finding::new(
            node,
            class,
            format!("{class}.test"),
            score,
            "test",
        ));
        self
    }

    pub fn ip(mut self, ip: &str) -> Req {
        self.view.client_ip = Some(ip.as_bytes().to_vec());
        self
    }

    pub fn session(mut self, s: &str) -> Req {
        self.view.client_session = Some(s.as_bytes().to_vec());
        self
    }

    pub fn status(mut self, s: u16) -> Req {
        self.view.response_status = Some(s);
        self
    }
}

/// The rules of one test: a program on every back-end, and counters.
pub struct Rules {
    pub evals: Vec<Box<dyn Evaluator>>,
    pub counters: Vec<MemoryCounters>,
}

/// Every back-end the crate has: the interpreter, and the JIT with the
/// `jit` feature.
fn backends(prog: Arc<Program>) -> Vec<Box<dyn Evaluator>> {
    #[allow(unused_mut)]
    let mut v: Vec<Box<dyn Evaluator>> = vec![Box::new(
        Interpreter
            .compile(prog.clone())
            .expect("interpreter compiles"),
    )];
    #[cfg(feature = "jit")]
    v.push(Box::new(
        rampart_dsl::Jit::default()
            .compile(prog)
            .expect("the JIT compiles"),
    ));
    v
}

pub fn program(files: &[(&str, &str)]) -> Program {
    let mut l = MemoryLoader::new();
    for (n, t) in files {
        l.insert(n, t);
    }
    match compile(files[0].0, &mut l) {
        Ok(p) => p,
        Err(d) => panic!("rules do not compile:\n{}", d.render()),
    }
}

impl Rules {
    pub fn new(text: &str) -> Rules {
        Rules::files(&[("test.rules", text)])
    }

    pub fn files(files: &[(&str, &str)]) -> Rules {
        let prog = Arc::new(program(files));
        let evals = backends(prog);
        let counters = evals.iter().map(|_| MemoryCounters::default()).collect();
        Rules { evals, counters }
    }

    /// Fired actions as `rule-id: action`, checked equal on every back-end.
    pub fn run_phase(&mut self, req: &Req, phase: RulePhase, now: u64) -> (Vec<String>, Outcome) {
        let mut first: Option<(Vec<String>, Outcome)> = None;
        for (e, c) in self.evals.iter().zip(self.counters.iter_mut()) {
            let mut out = Outcome::default();
            e.evaluate(&req.view, phase, c, now, &mut out);
            let d = out.describe(e.program());
            match &first {
                None => first = Some((d, out)),
                Some((fd, fo)) => {
                    assert_eq!(fd, &d, "back-ends disagree");
                    assert_eq!(fo, &out, "back-ends disagree on the outcome");
                }
            }
        }
        first.expect("one back-end")
    }

    pub fn run(&mut self, req: &Req) -> Vec<String> {
        self.run_phase(req, RulePhase::Request, 0).0
    }

    pub fn run_at(&mut self, req: &Req, now: u64) -> Vec<String> {
        self.run_phase(req, RulePhase::Request, now).0
    }

    pub fn program(&self) -> &Program {
        self.evals[0].program()
    }
}
