//! Table tests for decoders (feature `testing`).
//!
//! A table is a JSON file holding a list of cases:
//!
//! ```json
//! [{"name": "nested object", "input": "{\"a\":{\"b\":1}}",
//!   "media_type": "application/json", "declared": true,
//!   "points": [["body:json.a.b", "1"]], "findings": [], "error": null}]
//! ```
//!
//! `input_hex` may replace `input` for binary input. `points` lists every
//! leaf below the decoded layer as `[path, value]` in creation order
//! (values as UTF-8 with invalid bytes written `\xNN`). `findings` lists the
//! rule names reported. `error` is `null`, `"not-this-format"`,
//! `"malformed"` or `"exhausted"`. Run with `RAMPART_BLESS=1` to rewrite
//! the expectations from what the decoder does now (then review the diff).

use std::path::Path;

use rampart_types::{Limits, NodeId, NodeKind, Seg, Source, Tree};
use serde::{Deserialize, Serialize};

use crate::{DecodeCtx, DecodeError, DecodeState, Decoder, Emitter};

/// One table case.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Case {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_hex: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    #[serde(default = "yes")]
    pub declared: bool,
    #[serde(default)]
    pub points: Vec<(String, String)>,
    #[serde(default)]
    pub findings: Vec<String>,
    #[serde(default)]
    pub error: Option<String>,
    /// The value of the layer point itself (for transforming decoders such
    /// as base64 or gzip); checked when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

impl Case {
    /// The input bytes of the case (`input`, or `input_hex` decoded).
    pub fn input_bytes(&self) -> Vec<u8> {
        match (&self.input, &self.input_hex) {
            (Some(s), _) => s.as_bytes().to_vec(),
            (None, Some(h)) => unhex(h),
            (None, None) => Vec::new(),
        }
    }
}

/// Reads a table file.
#[allow(clippy::panic)]
pub fn load_table(path: impl AsRef<Path>) -> Vec<Case> {
    let path = path.as_ref();
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{} is not a valid table: {e}", path.display()))
}

fn yes() -> bool {
    true
}

/// The outcome of running a decoder on one input.
#[derive(Debug)]
pub struct Outcome {
    pub tree: Tree,
    pub layer: NodeId,
    pub state: DecodeState,
    pub result: Result<(), DecodeError>,
}

impl Outcome {
    /// `[path, value]` of every leaf below the layer, in creation order.
    pub fn points(&self) -> Vec<(String, String)> {
        let mut v = Vec::new();
        for id in self.tree.ids() {
            if id.0 <= self.layer.0 {
                continue;
            }
            if self.tree.node(id).kind == NodeKind::Leaf {
                v.push((self.tree.path(id).to_string(), show(self.tree.value(id))));
            }
        }
        v
    }

    /// Rule names of the findings.
    pub fn findings(&self) -> Vec<String> {
        self.state
            .findings
            .iter()
            .map(|f| f.rule.to_string())
            .collect()
    }

    pub fn error_name(&self) -> Option<String> {
        match &self.result {
            Ok(()) => None,
            Err(DecodeError::NotThisFormat) => Some("not-this-format".into()),
            Err(DecodeError::Malformed { .. }) => Some("malformed".into()),
            Err(DecodeError::Exhausted(_)) => Some("exhausted".into()),
            Err(DecodeError::PluginFailed(_)) => Some("plugin-failed".into()),
        }
    }
}

/// Shows bytes as UTF-8, invalid bytes as `\xNN`.
pub fn show(bytes: &[u8]) -> String {
    let mut s = String::new();
    for chunk in bytes.utf8_chunks() {
        s.push_str(chunk.valid());
        for b in chunk.invalid() {
            s.push_str(&format!("\\x{b:02x}"));
        }
    }
    s
}

/// Runs `decoder` on `input` as the `body` of a request, under a layer
/// named after the decoder, with the given limits.
pub fn run(
    decoder: &dyn Decoder,
    input: &[u8],
    media_type: Option<&[u8]>,
    declared: bool,
    limits: Limits,
) -> Outcome {
    let mut tree = Tree::new();
    let (s, e) = tree.push_bytes(input);
    let body = tree.push_node(
        NodeId::ROOT,
        Seg::Source(Source::Body),
        NodeKind::Leaf,
        (s, e),
    );
    let layer = tree.push_node(body, Seg::Layer(decoder.layer()), NodeKind::Leaf, (0, 0));
    let mut state = DecodeState::new(limits, input.len());
    let ctx = DecodeCtx {
        declared,
        media_type,
        source: Some(Source::Body),
    };
    let result = {
        let mut out = Emitter::new(&mut tree, &mut state, layer, decoder.info().name);
        decoder.decode(input, &ctx, &mut out)
    };
    Outcome {
        tree,
        layer,
        state,
        result,
    }
}

fn unhex(s: &str) -> Vec<u8> {
    let clean: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    clean
        .chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap_or("00"), 16).unwrap_or(0))
        .collect()
}

/// Runs every case of a table file; panics with a readable diff on the
/// first mismatch (or rewrites the file under `RAMPART_BLESS=1`).
#[allow(clippy::panic)]
pub fn check_table(decoder: &dyn Decoder, path: impl AsRef<Path>) {
    let path = path.as_ref();
    let cases = load_table(path);
    let bless = std::env::var_os("RAMPART_BLESS").is_some();
    let mut blessed = Vec::new();
    let mut failures = Vec::new();
    for case in &cases {
        let input = case.input_bytes();
        let out = run(
            decoder,
            &input,
            case.media_type.as_deref().map(str::as_bytes),
            case.declared,
            Limits::default(),
        );
        let mut got = case.clone();
        got.points = out.points();
        got.findings = out.findings();
        got.error = out.error_name();
        let layer_value = show(out.tree.value(out.layer));
        if case.value.is_some() || (bless && !layer_value.is_empty()) {
            got.value = Some(layer_value);
        }
        let mut want_f = case.findings.clone();
        let mut got_f = got.findings.clone();
        want_f.sort();
        got_f.sort();
        let value_ok = case.value.is_none() || case.value == got.value;
        if got.points != case.points || want_f != got_f || got.error != case.error || !value_ok {
            failures.push(format!(
                "case {:?}:\n  want points {:?}\n  got  points {:?}\n  want findings {:?} error {:?} value {:?}\n  got  findings {:?} error {:?} value {:?}",
                case.name, case.points, got.points, case.findings, case.error, case.value, got.findings, got.error, got.value
            ));
        }
        blessed.push(got);
    }
    if bless {
        let text = serde_json::to_string_pretty(&blessed).unwrap_or_default();
        std::fs::write(path, text + "\n").unwrap_or_else(|e| panic!("cannot bless: {e}"));
        return;
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases in {} failed:\n{}",
        failures.len(),
        cases.len(),
        path.display(),
        failures.join("\n")
    );
}

/// Runs every case of a detector table file (`testdata/*.json`: one point
/// per case and the rule names expected) through `judge`, which inspects
/// the value at the point and returns the rule names to compare, and
/// panics listing every mismatch. `min_cases` guards against a table that
/// lost its cases.
#[allow(clippy::panic)]
pub fn check_detector_table(
    path: impl AsRef<Path>,
    min_cases: usize,
    judge: impl Fn(&str, &[u8]) -> Vec<String>,
) {
    let path = path.as_ref();
    let cases = load_table(path);
    assert!(
        cases.len() >= min_cases,
        "{}: only {} cases",
        path.display(),
        cases.len()
    );
    let mut failures = Vec::new();
    for case in &cases {
        assert_eq!(case.points.len(), 1, "case {:?}: one point", case.name);
        let (p, value) = &case.points[0];
        let mut got = judge(p, value.as_bytes());
        got.sort();
        let mut want = case.findings.clone();
        want.sort();
        if got != want {
            failures.push(format!("{:?} at {p}: want {want:?} got {got:?}", case.name));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases in {} failed:\n{}",
        failures.len(),
        cases.len(),
        path.display(),
        failures.join("\n")
    );
}

/// A tree holding one leaf at `path` (syntax of `spec/request-points.md`:
/// `query.q`, `header["user-agent"]`, `body:json.a[0]`) with `value`, every
/// step above it a container; returns the tree and the leaf. For detector
/// tests. Panics on a path it cannot read.
#[allow(clippy::panic)]
pub fn point_tree(path: &str, value: &[u8]) -> (Tree, NodeId) {
    let mut tree = Tree::new();
    let b = path.as_bytes();
    let mut i = b
        .iter()
        .position(|c| !c.is_ascii_lowercase())
        .unwrap_or(b.len());
    let source = Source::parse(&path[..i]).unwrap_or_else(|| panic!("bad source in {path}"));
    let mut node = tree.push_node(
        NodeId::ROOT,
        Seg::Source(source),
        NodeKind::Container,
        (0, 0),
    );
    let name_end = |s: usize| {
        s + b[s..]
            .iter()
            .position(|c| b".:[".contains(c))
            .unwrap_or(b.len() - s)
    };
    while i < b.len() {
        let seg = match b[i] {
            b'.' => {
                let s = i + 1;
                i = name_end(s);
                let (start, end) = tree.push_bytes(&b[s..i]);
                Seg::Key { start, end }
            }
            b'[' if b.get(i + 1) == Some(&b'"') => {
                let s = i + 2;
                let e = s + b[s..]
                    .iter()
                    .position(|&c| c == b'"')
                    .unwrap_or_else(|| panic!("no closing quote in {path}"));
                i = e + 2;
                let (start, end) = tree.push_bytes(&b[s..e]);
                Seg::Key { start, end }
            }
            b'[' => {
                let e = i + b[i..]
                    .iter()
                    .position(|&c| c == b']')
                    .unwrap_or_else(|| panic!("no closing bracket in {path}"));
                let n = path[i + 1..e]
                    .parse()
                    .unwrap_or_else(|_| panic!("bad index in {path}"));
                i = e + 1;
                Seg::Index(n)
            }
            b':' => {
                let s = i + 1;
                i = name_end(s);
                // Test helper: a layer name lives for the rest of the test run.
                Seg::Layer(Box::leak(path[s..i].to_string().into_boxed_str()))
            }
            _ => panic!("bad path {path}"),
        };
        node = tree.push_node(node, seg, NodeKind::Container, (0, 0));
    }
    let span = tree.push_bytes(value);
    tree.set_value(node, span);
    tree.set_kind(node, NodeKind::Leaf);
    (tree, node)
}
