//! File and request-target attacks: path traversal and local file
//! inclusion, remote file inclusion, server-side request forgery.
//!
//! Three detectors, each its own plugin, without regular expressions:
//!
//! - [`TraversalDetector`] (`traversal`, [`Class::Traversal`]): values read
//!   as paths, climbing above their start, reaching sensitive files, PHP
//!   stream wrappers, and restricted files asked for in the URL path.
//! - [`RfiDetector`] (`rfi`, [`Class::Rfi`]): URLs where a file, a page or
//!   a template is expected, and URLs shaped for inclusion (script
//!   extensions, a trailing `?`, NUL or `#` to cut a suffix, IP-literal
//!   hosts, UNC shares).
//! - [`SsrfDetector`] (`ssrf`, [`Class::Ssrf`]): URLs and host values
//!   that point inside: loopback, private, link-local and reserved
//!   addresses in every spelling (decimal, octal, hex, short, IPv4-mapped
//!   IPv6, circled and full-width digits), cloud metadata endpoints,
//!   internal names (`localhost`, `*.internal`, Docker and Kubernetes
//!   names, `localtest.me`, `nip.io` with an internal address), URL parser
//!   confusion (userinfo and `#@` tricks), and schemes that smuggle other
//!   protocols (`gopher`, `dict`, `tftp`, `jar`, `netdoc`, `file`).
//!
//! Each module documents its rules and scores. Common to all: the raw
//! request-target (`uri`) is not read, since its path and query are
//! inspected decoded, with their names; on a decoding layer of another
//! value (`query.q:url`) only findings scoring 50 or more are reported,
//! so that weak evidence seen in both is not counted twice; at most the
//! first 64 KiB of a value is read ([`CAP`]); each rule is reported at most
//! once per value, with its strongest evidence; work is linear in the
//! value; nothing allocates except the findings. The point's own key (a
//! query or JSON key, a multipart field name) is read too by the
//! traversal and SSRF detectors, its findings without a span.
//!
//! Decisions on borderline traffic (scores below 50 never block alone):
//! - `../` is common in benign values (relative links, imports, docs):
//!   one level scores 20, two 35; a link to a web asset (`../img/a.png`,
//!   `../docs/setup.md`) 5 and is not reported. Three levels, a disguise
//!   (`..;/`, `....//`, encoded dots), an upload file name or the URL path
//!   block.
//! - An absolute path to a secret (`/etc/passwd`, `C:\Windows\win.ini`)
//!   blocks even inside a sentence: people rarely type them, attacks
//!   always do. Configuration files people do discuss (`/etc/hosts`,
//!   `php.ini`) block only outside prose.
//! - Windows paths of uploads (`C:\Users\Ann\report.docx`) are benign.
//! - A URL in a parameter named for URLs (`url`, `website`, `redirect`) is
//!   no inclusion; only its host matters, to the SSRF detector. A plain
//!   URL to another site in an unknown parameter (CRS 931130) is not
//!   flagged: links are everywhere. Given whole and ending in `?` (the
//!   suffix-cutting tail of inclusion), outside parameters named for
//!   URLs, it blocks: the trick needs the attacker's server.
//! - Internal hosts inside prose ("my server 192.168.1.10 is down",
//!   "open http://localhost:3000") are support-ticket talk: not reported
//!   for a bare address, 30 for a URL. A metadata address is reported
//!   anywhere.
//! - `Host`, `Origin`, `Referer` and forwarding headers carry internal
//!   addresses in development and behind proxies: only metadata
//!   endpoints and smuggling schemes count there.

mod context;
mod host;
mod norm;
mod rfi;
mod sensitive;
mod ssrf;
mod traversal;
mod url;

use std::borrow::Cow;

use rampart_plugin_api::{Class, DetectCtx, Finding, Origin, Registry, RegistryError, Span};

pub use rfi::RfiDetector;
pub use ssrf::SsrfDetector;
pub use traversal::TraversalDetector;

/// Bytes of a value (or key) that are read.
pub const CAP: usize = 64 * 1024;

/// Registers the three detectors of this crate.
pub fn register(reg: &mut Registry) -> Result<(), RegistryError> {
    reg.add_detector(TraversalDetector, Origin::Builtin)?;
    reg.add_detector(RfiDetector, Origin::Builtin)?;
    reg.add_detector(SsrfDetector, Origin::Builtin)
}

/// Binary search of a short byte string in a sorted table, comparing
/// inline (the tables are small and their entries short).
fn lookup(table: &[&str], s: &[u8]) -> bool {
    let (mut lo, mut hi) = (0usize, table.len());
    while lo < hi {
        let mid = (lo + hi) / 2;
        let e = table[mid].as_bytes();
        let mut ord = e.len().cmp(&s.len());
        for (a, b) in e.iter().zip(s) {
            if a != b {
                ord = a.cmp(b);
                break;
            }
        }
        match ord {
            std::cmp::Ordering::Less => lo = mid + 1,
            std::cmp::Ordering::Greater => hi = mid,
            std::cmp::Ordering::Equal => return true,
        }
    }
    false
}

/// The engine's default blocking threshold.
const BLOCK: u8 = 50;

/// Most distinct rules one detector reports for one value.
const MAX_RULES: usize = 6;

/// The strongest finding per rule for one value.
struct Best {
    class: Class,
    origin: &'static str,
    items: [Option<Item>; MAX_RULES],
}

#[derive(Clone, Copy)]
struct Item {
    rule: &'static str,
    score: u8,
    span: (usize, usize),
    msg: &'static str,
}

impl Best {
    fn new(class: Class, origin: &'static str) -> Best {
        Best {
            class,
            origin,
            items: [None; MAX_RULES],
        }
    }

    /// Keeps the evidence if it is the strongest for its rule.
    fn add(&mut self, rule: &'static str, score: u8, span: (usize, usize), msg: &'static str) {
        if score == 0 {
            return;
        }
        let item = Item {
            rule,
            score,
            span,
            msg,
        };
        for slot in self.items.iter_mut() {
            match slot {
                Some(it) if it.rule == rule => {
                    if score > it.score {
                        *it = item;
                    }
                    return;
                }
                Some(_) => {}
                None => {
                    *slot = Some(item);
                    return;
                }
            }
        }
    }

    /// Takes in the findings of the point's key: they have no span in
    /// the value.
    fn merge_key(&mut self, key: &Best) {
        for it in key.items.iter().flatten() {
            self.add(it.rule, it.score, (0, 0), it.msg);
        }
    }

    fn max(&self) -> u8 {
        self.items
            .iter()
            .flatten()
            .map(|i| i.score)
            .max()
            .unwrap_or(0)
    }

    /// Appends the findings. On a decoding layer (`query.q:url`) only
    /// those that can block alone: the weak evidence of a re-decoded copy
    /// was mostly seen in its parent already and must not count twice.
    fn emit(&self, ctx: &DetectCtx<'_>, layer: bool, out: &mut Vec<Finding>) {
        for it in self.items.iter().flatten() {
            if layer && it.score < BLOCK {
                continue;
            }
            out.push(
                Finding::new(
                    ctx.point,
                    self.class,
                    it.rule,
                    it.score,
                    Cow::Borrowed(it.msg),
                )
                .with_span(Span::new(it.span.0, it.span.1))
                .with_origin(self.origin),
            );
        }
    }
}

// Loadable as a shared library: `cargo build -p rampart-detect-files --features plugin-export`.
#[cfg(feature = "plugin-export")]
rampart_plugin_api::declare_plugin! {
    decoders: [],
    detectors: [TraversalDetector, RfiDetector, SsrfDetector],
}
