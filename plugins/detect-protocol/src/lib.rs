//! Protocol anomalies: what a request's method, request-target and headers
//! show about request smuggling, header injection and protocol abuse.
//!
//! [`ProtocolDetector`] (plugin `protocol`, class [`Class::Protocol`]) is
//! called on every leaf like every detector, but only acts on three kinds
//! of point, so that each check runs exactly once per request:
//!
//! - the **`method`** point (every request has exactly one): the method
//!   itself (`method` module) and the checks that need the request as a
//!   whole, done in one pass over the `header` children (`request`
//!   module): `Content-Length` with `Transfer-Encoding`, repeated
//!   `Content-Length`, `Transfer-Encoding`, `Host` and `Content-Type`;
//! - the **`uri`** point: the raw request-target (`uri` module);
//! - each **`header["name"]`** point directly under the `header` source
//!   (not the layers decoded from it): that header's name and value
//!   (`headers` module).
//!
//! Every other point (path, query, cookies, body, decoded layers) is left
//! to the other detectors. Each check's doc comment says which real client
//! could send what it flags; only what real clients never send scores 50 or
//! more. The CRS 920 "protocol enforcement" policies (Accept required,
//! numeric Host, `Range` forbidden, restricted extensions and charsets,
//! methods outside GET/HEAD/POST/OPTIONS) are deliberately not copied: they
//! encode site policies that block real users.
//!
//! Rules (`protocol.*`) and scores:
//!
//! | rule | score | point |
//! |---|---|---|
//! | `cl-te` | 70 | method |
//! | `cl-duplicate` | 80 differing / 40 equal values | method |
//! | `te-duplicate` | 60 | method |
//! | `host-duplicate` | 60 | method |
//! | `content-type-duplicate` | 60 differing / 20 equal | method |
//! | `method-invalid` / `method-unknown` / `method-trace` / `method-disallowed` | 70 / 30 / 40 / 60 | method |
//! | `uri-control` | 70 | uri |
//! | `path-control` | 50 (30 for a bare double-encoded one) | uri |
//! | `uri-backslash`, `uri-fragment`, `uri-host-mismatch` | 20 | uri |
//! | `uri-long` | 30 | uri |
//! | `uri-unix-socket` | 60 | uri |
//! | `header-control` | 70 (CR, LF, NUL) / 30 (other controls) | header |
//! | `header-name` | 60 | header |
//! | `cl-invalid` | 70 | `Content-Length` |
//! | `te-invalid` | 60 | `Transfer-Encoding` |
//! | `host-invalid` | 60 (30 for raw non-ASCII) | `Host` |
//! | `connection-hop` | 50 (20 for other non-hop-by-hop names) | `Connection`, `Proxy-Connection` |
//! | `cookie-version` / `cookie-quote-split` | 30 / 40 | `Cookie` |
//! | `range-many` | 60 | `Range`, `Request-Range` |
//! | `expect-invalid` | 30 | `Expect` |
//! | `max-forwards` | 10 | `Max-Forwards` |
//! | `content-type-confusion` | 60 (30 for a plain boundary) | `Content-Type` |
//! | `h2c-upgrade` | 20 | `Upgrade` |
//!
//! Findings at the `method` point about headers have an empty span (they
//! are about the request, not the method's bytes); the others cover the
//! offending part of the value. Each rule is reported at most once per
//! call, the strongest occurrence kept.
//!
//! Settings ([`PolicyConfig`], `[plugin.protocol]`): `allowed_methods`,
//! `extra_methods`, `trace_score`, `unknown_method_score`, `max_ranges`,
//! `max_uri_length`; unknown keys are refused with the list of known ones.
//!
//! Bounds: at most [`MAX_HEADERS`] headers are looked at per request, at
//! most the first 64 KiB of any value is parsed, a `Connection` list is read
//! for at most 64 tokens. Work is linear in what is read; nothing is
//! allocated except the findings reported.

mod config;
mod cookie;
mod ctype;
mod headers;
mod host;
mod lex;
mod method;
mod request;
mod uri;

use std::borrow::Cow;

use rampart_plugin_api::types::{Seg, Source};
use rampart_plugin_api::{
    Class, DetectCtx, Detector, Finding, NodeId, Origin, PluginConfig, PluginError, PluginInfo,
    Registry, RegistryError, Span, Tree,
};

pub use config::{PolicyConfig, KEYS};

const NAME: &str = "protocol";

/// Headers looked at per request (the proxy allows far fewer).
pub const MAX_HEADERS: usize = 1000;

/// The protocol-anomaly detector.
#[derive(Debug, Clone, Default)]
pub struct ProtocolDetector {
    policy: PolicyConfig,
}

impl ProtocolDetector {
    /// A detector with the given policy.
    pub fn with_policy(policy: PolicyConfig) -> ProtocolDetector {
        ProtocolDetector { policy }
    }

    pub fn policy(&self) -> &PolicyConfig {
        &self.policy
    }
}

impl Detector for ProtocolDetector {
    fn info(&self) -> PluginInfo {
        PluginInfo {
            name: NAME,
            version: env!("CARGO_PKG_VERSION"),
            description: "protocol anomalies: request smuggling signals, header injection, \
                          invalid methods, request-target and header abuse",
        }
    }

    fn configure(&mut self, config: &PluginConfig) -> Result<(), PluginError> {
        self.policy = PolicyConfig::from_config(config)?;
        Ok(())
    }

    fn classes(&self) -> &'static [Class] {
        &[Class::Protocol]
    }

    fn inspect(&self, value: &[u8], ctx: &DetectCtx<'_>, out: &mut Vec<Finding>) {
        let tree = ctx.tree;
        if ctx.point.index() >= tree.len() || ctx.point == NodeId::ROOT {
            return;
        }
        let node = tree.node(ctx.point);
        let Some(parent) = node.parent() else {
            return;
        };
        let mut sink = Sink::new(ctx, out, value.len());
        match node.seg {
            Seg::Source(Source::Method) if parent == NodeId::ROOT => {
                method_point(value, &self.policy, &mut sink);
                request::check(tree, &mut sink);
            }
            Seg::Source(Source::Uri) if parent == NodeId::ROOT => {
                uri::check(value, tree, &self.policy, &mut sink);
                if leaf_source(tree, Source::Method).is_none() {
                    // No method point: the request-level checks run here.
                    request::check(tree, &mut sink);
                }
            }
            Seg::Key { .. } => {
                let pnode = tree.node(parent);
                if pnode.seg == Seg::Source(Source::Header) && pnode.parent() == Some(NodeId::ROOT)
                {
                    let name = tree.key(node.seg).unwrap_or_default();
                    headers::check(name, value, tree, &self.policy, &mut sink);
                }
            }
            _ => {}
        }
    }
}

fn method_point(value: &[u8], policy: &PolicyConfig, sink: &mut Sink<'_>) {
    let len = value.len();
    match method::check(value, policy) {
        method::Verdict::Fine => {}
        method::Verdict::Invalid(i) => sink.report(
            "protocol.method-invalid",
            70,
            "the method is not an HTTP token: no client emits it",
            i,
            len,
        ),
        method::Verdict::Unknown => sink.report(
            "protocol.method-unknown",
            policy.unknown_method_score,
            "a method that no known client or protocol extension uses",
            0,
            len,
        ),
        method::Verdict::Trace => sink.report(
            "protocol.method-trace",
            policy.trace_score,
            "TRACE/TRACK echo the request (cross-site tracing); only debugging tools send them",
            0,
            len,
        ),
        method::Verdict::Disallowed => sink.report(
            "protocol.method-disallowed",
            60,
            "the method is not in the configured allowed_methods",
            0,
            len,
        ),
    }
}

/// The top-level node of a source when it is a leaf.
pub(crate) fn leaf_source(tree: &Tree, source: Source) -> Option<NodeId> {
    tree.source(source)
        .filter(|&id| tree.node(id).kind == rampart_plugin_api::NodeKind::Leaf)
}

/// Collects findings for one call: at most one per rule, the strongest.
pub(crate) struct Sink<'a> {
    point: NodeId,
    out: &'a mut Vec<Finding>,
    base: usize,
    len: usize,
}

impl<'a> Sink<'a> {
    fn new(ctx: &DetectCtx<'_>, out: &'a mut Vec<Finding>, len: usize) -> Sink<'a> {
        let base = out.len();
        Sink {
            point: ctx.point,
            out,
            base,
            len,
        }
    }

    /// Reports `rule` with a span inside the value (clamped); a score of 0
    /// reports nothing.
    pub(crate) fn report(
        &mut self,
        rule: &'static str,
        score: u8,
        msg: impl Into<Cow<'static, str>>,
        start: usize,
        end: usize,
    ) {
        if score == 0 {
            return;
        }
        let end = end.min(self.len);
        let start = start.min(end);
        let f = Finding::new(self.point, Class::Protocol, rule, score, msg)
            .with_span(Span::new(start, end))
            .with_origin(NAME);
        let new = &mut self.out[self.base..];
        match new.iter_mut().find(|g| g.rule == rule) {
            Some(g) if g.score < f.score => *g = f,
            Some(_) => {}
            None => self.out.push(f),
        }
    }

    /// Reports a finding about the request as a whole (empty span).
    pub(crate) fn report_request(
        &mut self,
        rule: &'static str,
        score: u8,
        msg: impl Into<Cow<'static, str>>,
    ) {
        self.report(rule, score, msg, 0, 0);
    }
}

impl std::fmt::Debug for Sink<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sink").field("point", &self.point).finish()
    }
}

/// Registers the detector of this crate.
pub fn register(reg: &mut Registry) -> Result<(), RegistryError> {
    reg.add_detector(ProtocolDetector::default(), Origin::Builtin)
}

// Loadable as a shared library: `cargo build -p rampart-detect-protocol --features plugin-export`.
#[cfg(feature = "plugin-export")]
rampart_plugin_api::declare_plugin! {
    decoders: [],
    detectors: [ProtocolDetector],
}
