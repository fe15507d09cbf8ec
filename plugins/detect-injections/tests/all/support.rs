//! A small tree builder (a leaf at a path) and a runner of all detectors.

use std::collections::BTreeMap;

use rampart_detect_injections::{
    CrlfDetector, LdapDetector, MailInjectionDetector, NosqlDetector, SessionFixationDetector,
    SsiDetector, XmlInjectionDetector, XpathDetector, XxeDetector, CLASSES,
};
use rampart_plugin_api::types::{NodeKind, Seg, Source};
use rampart_plugin_api::{Class, DetectCtx, Detector, Finding, NodeId, Tree};

/// The engine's blocking threshold.
pub const BLOCK: u32 = 50;

pub fn detectors() -> [&'static dyn Detector; 9] {
    [
        &XxeDetector,
        &XmlInjectionDetector,
        &XpathDetector,
        &LdapDetector,
        &NosqlDetector,
        &CrlfDetector,
        &MailInjectionDetector,
        &SsiDetector,
        &SessionFixationDetector,
    ]
}

fn key(tree: &mut Tree, name: &[u8]) -> Seg {
    let (start, end) = tree.push_bytes(name);
    Seg::Key { start, end }
}

pub fn layer(name: &str) -> &'static str {
    match name {
        "json" => "json",
        "xml" => "xml",
        "form" => "form",
        "multipart" => "multipart",
        "base64" => "base64",
        "url" => "url",
        "jsesc" => "jsesc",
        "html" => "html",
        "graphql" => "graphql",
        other => panic!("unknown layer {other}"),
    }
}

/// Adds the nodes of `path` below the root (reusing none); returns the last.
pub fn add_path(tree: &mut Tree, path: &str) -> NodeId {
    let b = path.as_bytes();
    let mut i = b
        .iter()
        .position(|c| !c.is_ascii_lowercase())
        .unwrap_or(b.len());
    let source = Source::parse(&path[..i]).unwrap_or_else(|| panic!("bad source in {path}"));
    let mut node = match tree.source(source) {
        Some(n) => n,
        None => tree.push_node(
            NodeId::ROOT,
            Seg::Source(source),
            NodeKind::Container,
            (0, 0),
        ),
    };
    while i < b.len() {
        let seg = match b[i] {
            b'.' => {
                let s = i + 1;
                i = s + b[s..]
                    .iter()
                    .position(|c| b".:[".contains(c))
                    .unwrap_or(b.len() - s);
                key(tree, &b[s..i])
            }
            b'[' if b.get(i + 1) == Some(&b'"') => {
                // Quoted: `\"`, `\\` and `\xNN` escapes.
                let mut k = i + 2;
                let mut name = Vec::new();
                loop {
                    match b.get(k) {
                        Some(b'"') => break,
                        Some(b'\\') => {
                            match b.get(k + 1) {
                                Some(b'x') => {
                                    let h = &path[k + 2..k + 4];
                                    name.push(u8::from_str_radix(h, 16).expect("hex"));
                                    k += 4;
                                    continue;
                                }
                                Some(&c) => name.push(c),
                                None => panic!("bad escape in {path}"),
                            }
                            k += 2;
                        }
                        Some(&c) => {
                            name.push(c);
                            k += 1;
                        }
                        None => panic!("unclosed quote in {path}"),
                    }
                }
                i = k + 2;
                key(tree, &name)
            }
            b'[' => {
                let e = i + b[i..].iter().position(|&c| c == b']').expect("bracket");
                let n = path[i + 1..e].parse().expect("index");
                i = e + 1;
                Seg::Index(n)
            }
            b':' => {
                let s = i + 1;
                i = s + b[s..]
                    .iter()
                    .position(|c| b".:[".contains(c))
                    .unwrap_or(b.len() - s);
                Seg::Layer(layer(&path[s..i]))
            }
            _ => panic!("bad path {path}"),
        };
        node = child(tree, node, seg);
    }
    node
}

/// The child of `node` with this segment, added if missing (so that the
/// points of one table case share their parents, as in the engine's tree).
fn child(tree: &mut Tree, node: NodeId, seg: Seg) -> NodeId {
    let same = |t: &Tree, c: NodeId| match (t.node(c).seg, seg) {
        (Seg::Key { .. }, Seg::Key { .. }) => t.key(t.node(c).seg) == t.key(seg),
        (a, b) => a == b,
    };
    match tree.children(node).find(|&c| same(tree, c)) {
        Some(c) => c,
        None => tree.push_node(node, seg, NodeKind::Container, (0, 0)),
    }
}

/// Sets a node's value and makes it a leaf.
pub fn set_leaf(tree: &mut Tree, node: NodeId, value: &[u8]) {
    let span = tree.push_bytes(value);
    tree.set_value(node, span);
    tree.set_kind(node, NodeKind::Leaf);
}

/// A tree holding one leaf at `path` with `value`.
pub fn build(path: &str, value: &[u8]) -> (Tree, NodeId) {
    let mut tree = Tree::new();
    let node = add_path(&mut tree, path);
    set_leaf(&mut tree, node, value);
    (tree, node)
}

/// Runs every detector on one point, checking the findings' invariants.
pub fn inspect_at(tree: &Tree, point: NodeId, value: &[u8]) -> Vec<Finding> {
    let ctx = DetectCtx {
        tree,
        point,
        source: tree.source_of(point),
        // The engine's endpoint is the request path: a case's `path` point.
        endpoint: tree
            .source(Source::Path)
            .filter(|&p| tree.node(p).kind == NodeKind::Leaf)
            .map_or(&b"/"[..], |p| tree.value(p)),
        content_type: None,
    };
    let mut all = Vec::new();
    for d in detectors() {
        let mut out = Vec::new();
        d.inspect(value, &ctx, &mut out);
        let name = d.info().name;
        assert!(out.len() <= 4, "{name}: {} findings", out.len());
        for (k, f) in out.iter().enumerate() {
            assert_eq!(f.point, point);
            assert!(d.classes().contains(&f.class));
            assert_eq!(f.class.as_str(), name, "plugin named after its class");
            assert_eq!(f.origin, name);
            assert!(
                f.rule.starts_with(name) && f.rule[name.len()..].starts_with('.'),
                "{}",
                f.rule
            );
            assert!(f.span.start <= f.span.end && f.span.end as usize <= value.len());
            assert!(f.score > 0 && f.score <= 100);
            assert!(
                out[..k].iter().all(|g| g.rule != f.rule),
                "{} twice for {:?}",
                f.rule,
                String::from_utf8_lossy(value)
            );
        }
        all.extend(out);
    }
    all
}

pub fn inspect(path: &str, value: &[u8]) -> Vec<Finding> {
    let (tree, leaf) = build(path, value);
    inspect_at(&tree, leaf, value)
}

/// Summed scores per class.
pub fn sums(f: &[Finding]) -> BTreeMap<Class, u32> {
    let mut m = BTreeMap::new();
    for x in f {
        *m.entry(x.class).or_insert(0) += u32::from(x.score);
    }
    m
}

/// The findings would block the request on their own.
pub fn blocks(f: &[Finding]) -> bool {
    sums(f).values().any(|&s| s >= BLOCK)
}

pub fn rules(f: &[Finding]) -> Vec<String> {
    let mut v: Vec<String> = f.iter().map(|f| f.rule.to_string()).collect();
    v.sort();
    v
}

pub fn describe(f: &[Finding]) -> String {
    f.iter()
        .map(|f| format!("{}={}", f.rule, f.score))
        .collect::<Vec<_>>()
        .join(", ")
}

#[test]
fn classes_and_names() {
    let ds = detectors();
    assert_eq!(ds.len(), CLASSES.len());
    for (d, c) in ds.iter().zip(CLASSES) {
        assert_eq!(d.classes(), &[c]);
        assert_eq!(d.info().name, c.as_str());
    }
}

/// Prints what blocks among the lines of the files named by `$FILES`
/// (investigation aid, not a check).
#[test]
#[ignore]
fn scan_files() {
    let files = std::env::var("FILES").unwrap_or_default();
    let (mut n, mut b) = (0, 0);
    for f in files.split_whitespace() {
        let text = std::fs::read(f).unwrap_or_default();
        for line in text.split(|&c| c == b'\n') {
            if line.is_empty() {
                continue;
            }
            n += 1;
            let found = inspect("body:form.comment", line);
            if blocks(&found) {
                b += 1;
                println!(
                    "{f}: {} [{}]",
                    String::from_utf8_lossy(line),
                    describe(&found)
                );
            }
        }
    }
    println!("{b}/{n} lines block");
}
