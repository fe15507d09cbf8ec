//! Scanner fingerprints: the marks that automated attack tools and
//! vulnerability scanners leave in requests.
//!
//! [`ScannerDetector`] (plugin `scanner`, class [`Class::Scanner`]) reports
//! two kinds of evidence, without regular expressions:
//!
//! - **Tool names** (score 90), only where tools put them: the
//!   `User-Agent` header and the few headers that tools are known to set
//!   (listed, with the reason for each, in the `headers` module). A value is
//!   cut into lower-cased product words (`sqlmap/1.7.2#stable` gives
//!   `sqlmap`), each looked up in a sorted static table of about fifty
//!   names: sqlmap, Nikto, Nuclei, Nmap, masscan, ZGrab, DirBuster,
//!   gobuster, ffuf, Wfuzz, feroxbuster, Acunetix, Netsparker / Invicti,
//!   OpenVAS, w3af, Arachni, skipfish, WPScan, JoomScan, WhatWeb, Hydra,
//!   Medusa, commix, XSStrike, Dalfox, Havij, Jaeles, OWASP ZAP, AppScan,
//!   WebInspect, Qualys, Nessus, fimap, Grabber, Paros, webshag, Vega,
//!   ProjectDiscovery httpx, Burp Suite, sqlninja, DotDotPwn, ZmEu. Word
//!   boundaries count (`sqlmapper` is not `sqlmap`, `python-httpx` is not
//!   `httpx`), and names that are also ordinary words or device names
//!   (hydra, medusa, vega, zap, paros, grabber) count only as a product
//!   token (`Vega/1.0`, `Mozilla/4.0 (Hydra)`). Some tools are found by a
//!   phrase (`Fuzz Faster U Fool` is ffuf, `Teh Forest Lobster` is Medusa).
//!   Restricting names to these headers keeps prose ("a nuclear medusa")
//!   in parameters and bodies from being flagged. Browsers, crawlers and
//!   HTTP libraries (curl, python-requests, Go-http-client, okhttp) are
//!   not scanners by themselves and are not flagged.
//! - **Headers that only one tool sends** (score 90): `Acunetix-*`,
//!   WebInspect's `X-WIPP` and memo headers, ZAP's `X-ZAP-Scan-ID`; and
//!   `X-Scanner`, by which a scanner declares itself.
//! - **Out-of-band callback domains** (score 80) in any value: interactsh
//!   (`oast.pro`, `oast.live`, `oast.site`, `oast.online`, `oast.fun`,
//!   `oast.me`, `interact.sh`), Burp Collaborator (`burpcollaborator.net`,
//!   `oastify.com`), Acunetix AcuMonitor (`bxss.me`), `dnslog.cn` and
//!   `ceye.io`. A host under one of them in a parameter, a header or a JSON
//!   value is a blind-injection probe whatever the field.
//!
//! Rules are named `scanner.<tool>` (`scanner.sqlmap`, `scanner.interactsh`,
//! `scanner.burp-collaborator`, `scanner.declared` ...); each is reported at
//! most once per value, its span covering the first match (the whole value
//! for a header that is a fingerprint by its presence).
//!
//! The detector is linear in the value, allocates only for the findings it
//! reports, and never panics.

mod headers;
mod oast;
mod tools;

use rampart_plugin_api::types::{Seg, Source};
use rampart_plugin_api::{
    Class, DetectCtx, Detector, Finding, Origin, PluginInfo, Registry, RegistryError, Span,
};

use headers::Role;

/// Score of a tool name in a tool header, or of a tool-specific header.
pub const TOOL_SCORE: u8 = 90;
/// Score of an out-of-band callback domain.
pub const OAST_SCORE: u8 = 80;

const NAME: &str = "scanner";

/// Layers walked up from a point to find its header.
const MAX_LAYERS: usize = 64;

/// The scanner-fingerprint detector.
#[derive(Debug, Clone, Copy, Default)]
pub struct ScannerDetector;

impl Detector for ScannerDetector {
    fn info(&self) -> PluginInfo {
        PluginInfo {
            name: NAME,
            version: env!("CARGO_PKG_VERSION"),
            description: "fingerprints of scanners and attack tools: tool names in the \
                          User-Agent and tool headers, out-of-band callback domains",
        }
    }

    fn classes(&self) -> &'static [Class] {
        &[Class::Scanner]
    }

    fn inspect(&self, value: &[u8], ctx: &DetectCtx<'_>, out: &mut Vec<Finding>) {
        let base = out.len();
        if let Some(role) = header_name(ctx).and_then(headers::role) {
            tool_header(role, value, ctx, base, out);
        }
        oast::scan(value, |dom, start, end| {
            if !seen(out, base, dom.rule) {
                let msg = format!("out-of-band callback host of {}", dom.service);
                out.push(finding(ctx, dom.rule, OAST_SCORE, msg, start, end));
            }
            true
        });
        if ctx.is_value(value) && (introspection(ctx) || unparsed_introspection(value, ctx)) {
            out.push(finding(
                ctx,
                "scanner.graphql-introspection",
                INTROSPECTION_SCORE,
                "GraphQL introspection query (__schema/__type): schema reconnaissance".to_string(),
                0,
                0,
            ));
        }
    }
}

/// Score of a GraphQL introspection query. Production APIs rarely serve
/// introspection and scanners start with it; an API whose clients need it
/// sets `policy.class_thresholds.scanner` above this.
pub const INTROSPECTION_SCORE: u8 = 60;

/// True when the point is the first leaf below a `__schema` or `__type`
/// field of a decoded GraphQL document (so one query reports once).
fn introspection(ctx: &DetectCtx<'_>) -> bool {
    use rampart_plugin_api::{NodeKind, Seg};
    let t = ctx.tree;
    if ctx.point.index() >= t.len() {
        return false;
    }
    // Find the introspection field among the ancestors, below a graphql layer.
    let mut field = None;
    let mut cur = t.node(ctx.point).parent();
    let mut steps = 0;
    while let Some(id) = cur {
        steps += 1;
        if steps > 256 {
            return false;
        }
        let n = t.node(id);
        match n.seg {
            Seg::Key { .. } if matches!(t.key(n.seg), Some(b"__schema" | b"__type")) => {
                field = Some(id)
            }
            Seg::Layer("graphql") => break,
            Seg::Layer(_) | Seg::Source(_) | Seg::Root => return false,
            _ => {}
        }
        cur = n.parent();
    }
    let (Some(field), Some(_)) = (field, cur) else {
        return false;
    };
    // Only the first leaf below that field reports.
    !(field.0 + 1..ctx.point.0).any(|i| {
        let id = rampart_plugin_api::NodeId(i);
        t.node(id).kind == NodeKind::Leaf && {
            let mut c = t.node(id).parent();
            let mut hops = 0;
            while let Some(p) = c {
                if p == field || hops > 256 {
                    break;
                }
                hops += 1;
                c = t.node(p).parent();
            }
            c == Some(field)
        }
    })
}

/// Registers the detector of this crate.
/// An introspection query the GraphQL decoder could not read (a malformed
/// document still shows what it was after): the value of a `query` member or
/// parameter, GraphQL-over-HTTP's transport, that was not decoded as GraphQL
/// and names `__schema` or `__type` followed by a selection set or arguments.
fn unparsed_introspection(value: &[u8], ctx: &DetectCtx<'_>) -> bool {
    let t = ctx.tree;
    if ctx.point.index() >= t.len() || t.key(t.node(ctx.point).seg) != Some(b"query") {
        return false;
    }
    if t.children(ctx.point)
        .any(|c| t.node(c).seg == Seg::Layer("graphql"))
    {
        return false;
    }
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut i = 0;
    while let Some(off) = value
        .get(i..)
        .and_then(|r| r.windows(2).position(|w| w == b"__"))
    {
        let start = i + off;
        let mut end = start;
        while end < value.len() && word(value[end]) {
            end += 1;
        }
        let name = &value[start..end];
        let free = start == 0 || !word(value[start - 1]);
        if free && matches!(name, b"__schema" | b"__type") {
            let next = value[end..].iter().find(|b| !b.is_ascii_whitespace());
            if matches!(next, Some(b'{' | b'(')) {
                return true;
            }
        }
        i = end.max(start + 2);
    }
    false
}

pub fn register(reg: &mut Registry) -> Result<(), RegistryError> {
    reg.add_detector(ScannerDetector, Origin::Builtin)
}

fn tool_header(role: Role, value: &[u8], ctx: &DetectCtx<'_>, base: usize, out: &mut Vec<Finding>) {
    if let Role::Presence { header, rule, tool } = role {
        let msg = format!("the {header} header is sent only by {tool}");
        out.push(finding(ctx, rule, TOOL_SCORE, msg, 0, value.len()));
    }
    let place = match role {
        Role::Agent => "User-Agent",
        Role::Declares => "X-Scanner header",
        Role::Presence { header, .. } => header,
    };
    tools::scan(value, |tool, start, end| {
        if !seen(out, base, tool.rule) {
            let msg = format!("the {place} names the attack tool {}", tool.name);
            out.push(finding(ctx, tool.rule, TOOL_SCORE, msg, start, end));
        }
        true
    });
    if role == Role::Declares && out.len() == base {
        let msg = "the X-Scanner header declares scanner traffic";
        out.push(finding(
            ctx,
            "scanner.declared",
            TOOL_SCORE,
            msg,
            0,
            value.len(),
        ));
    }
}

fn finding(
    ctx: &DetectCtx<'_>,
    rule: &'static str,
    score: u8,
    msg: impl Into<std::borrow::Cow<'static, str>>,
    start: usize,
    end: usize,
) -> Finding {
    Finding::new(ctx.point, Class::Scanner, rule, score, msg)
        .with_span(Span::new(start, end))
        .with_origin(NAME)
}

/// A finding with this rule was already reported for this value.
fn seen(out: &[Finding], base: usize, rule: &str) -> bool {
    out.get(base..)
        .is_some_and(|new| new.iter().any(|f| f.rule == rule))
}

/// The name of the header the point is (or was decoded from, through
/// layers only): `header["user-agent"]` or `header["user-agent"]:base64`.
fn header_name<'t>(ctx: &DetectCtx<'t>) -> Option<&'t [u8]> {
    if ctx.source != Some(Source::Header) {
        return None;
    }
    let tree = ctx.tree;
    let mut id = ctx.point;
    for _ in 0..MAX_LAYERS {
        if id.index() >= tree.len() {
            return None;
        }
        let node = tree.node(id);
        match node.seg {
            Seg::Layer(_) => id = node.parent()?,
            Seg::Key { .. } => {
                let parent = node.parent()?;
                return (tree.node(parent).seg == Seg::Source(Source::Header))
                    .then(|| tree.key(node.seg))
                    .flatten();
            }
            _ => return None,
        }
    }
    None
}

// Loadable as a shared library: `cargo build -p rampart-detect-scanner --features plugin-export`.
#[cfg(feature = "plugin-export")]
rampart_plugin_api::declare_plugin! {
    decoders: [],
    detectors: [ScannerDetector],
}
