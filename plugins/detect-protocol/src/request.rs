//! Request-level checks, run once per request at the `method` point: one
//! pass over the `header` children (at most [`MAX_HEADERS`]).
//!
//! - **`Content-Length` and `Transfer-Encoding` together** (70,
//!   `protocol.cl-te`): RFC 9112 forbids a sender to send both; browsers,
//!   curl and HTTP libraries pick one framing. Two framings are how CL.TE
//!   and TE.CL desync attacks make a front end and a back end disagree
//!   about where the request ends.
//! - **repeated `Content-Length`** (80 with different values, 40 with equal
//!   ones, `protocol.cl-duplicate`): no client repeats it; different values
//!   are a desync outright, equal ones come from buggy middleboxes that
//!   duplicate headers, so they only raise suspicion.
//! - **repeated `Transfer-Encoding`** (60, `protocol.te-duplicate`): lets
//!   one parser read the first line and another the combined list.
//! - **repeated `Host`** (60, `protocol.host-duplicate`): RFC 9112 requires a
//!   400; front ends that route on one copy and back ends that use the
//!   other give host-header injection and cache poisoning.
//! - **repeated `Content-Type`** (60 with different values, 20 equal,
//!   `protocol.content-type-duplicate`): the WAF, httpd (which joins them)
//!   and the application can pick different body parsers, a known WAF
//!   bypass; no client sends two.

use rampart_plugin_api::types::Source;
use rampart_plugin_api::Tree;

use crate::lex::{eq_ci, trim_ows};
use crate::{Sink, MAX_HEADERS};

/// One header seen repeatedly: how often and whether the values differ.
#[derive(Debug, Default)]
struct Seen<'t> {
    count: usize,
    first: &'t [u8],
    differ: bool,
}

impl<'t> Seen<'t> {
    fn add(&mut self, v: &'t [u8]) {
        let (s, e) = trim_ows(v, 0, v.len());
        let v = &v[s..e];
        if self.count == 0 {
            self.first = v;
        } else if v != self.first {
            self.differ = true;
        }
        self.count += 1;
    }
}

pub(crate) fn check(tree: &Tree, sink: &mut Sink<'_>) {
    let Some(hdr) = tree.source(Source::Header) else {
        return;
    };
    let mut cl = Seen::default();
    let mut te = Seen::default();
    let mut host = Seen::default();
    let mut ct = Seen::default();
    for id in tree.children(hdr).take(MAX_HEADERS) {
        let Some(name) = tree.key(tree.node(id).seg) else {
            continue;
        };
        let slot = match name.len() {
            4 if eq_ci(name, b"host") => &mut host,
            12 if eq_ci(name, b"content-type") => &mut ct,
            14 if eq_ci(name, b"content-length") => &mut cl,
            17 if eq_ci(name, b"transfer-encoding") => &mut te,
            _ => continue,
        };
        slot.add(tree.value(id));
    }
    if cl.count > 0 && te.count > 0 {
        sink.report_request(
            "protocol.cl-te",
            70,
            "both Content-Length and Transfer-Encoding: two framings of one body (request smuggling)",
        );
    }
    if cl.count > 1 {
        if cl.differ {
            sink.report_request(
                "protocol.cl-duplicate",
                80,
                "several Content-Length headers with different values (request smuggling)",
            );
        } else {
            sink.report_request(
                "protocol.cl-duplicate",
                40,
                "the Content-Length header is repeated",
            );
        }
    }
    if te.count > 1 {
        sink.report_request(
            "protocol.te-duplicate",
            60,
            "the Transfer-Encoding header is repeated (request smuggling)",
        );
    }
    if host.count > 1 {
        sink.report_request(
            "protocol.host-duplicate",
            60,
            "several Host headers: front end and back end may route on different ones",
        );
    }
    if ct.count > 1 {
        if ct.differ {
            sink.report_request(
                "protocol.content-type-duplicate",
                60,
                "several Content-Type headers with different values: body parsers may disagree",
            );
        } else {
            sink.report_request(
                "protocol.content-type-duplicate",
                20,
                "the Content-Type header is repeated",
            );
        }
    }
}
