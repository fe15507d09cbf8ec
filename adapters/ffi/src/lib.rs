//! Rampart behind a C ABI: a static library (`librampart_ffi.a`) and the
//! header `include/rampart.h`, for server modules written in C or C++
//! (Apache httpd's `mod_rampart`, a native IIS module).
//!
//! The exported functions live in [`ffi`], the only module of this crate
//! with `unsafe` code. This module holds the safe side: the three opaque
//! handles a C caller sees ([`RampartGuard`], [`RampartRequest`],
//! [`RampartDecision`]) and what they do, so that everything but pointer
//! handling is ordinary, tested Rust.
//!
//! The engine is [`rampart_embed::Guard`]: the same engine, node.toml,
//! rules, rule packs, traffic aggregates and cloud sync as the proxy node.

use std::ffi::{CStr, CString};
use std::net::IpAddr;
use std::path::Path;

use rampart_embed::{Action, Decision, Guard, Header, Mode, NodeConfig, OverLimit, Request};

pub mod ffi;

/// The version of the C ABI (`RAMPART_ABI_VERSION` in the header). Bumped
/// on any incompatible change of a signature or a constant.
pub const ABI_VERSION: u32 = 1;

/// `mode_override` values (`RAMPART_MODE_*`).
pub const MODE_CONFIG: i32 = 0;
pub const MODE_BLOCK: i32 = 1;
pub const MODE_MONITOR: i32 = 2;
pub const MODE_OFF: i32 = 3;

/// Decision actions (`RAMPART_ACTION_*`).
pub const ACTION_ALLOW: i32 = 0;
pub const ACTION_BLOCK: i32 = 1;
pub const ACTION_MONITOR: i32 = 2;

/// `rampart_over_limit` values (`RAMPART_OVER_LIMIT_*`).
pub const OVER_LIMIT_INSPECT_PREFIX: i32 = 0;
pub const OVER_LIMIT_BLOCK: i32 = 1;

/// The mode a C `mode_override` stands for: `None` is node.toml's. Values
/// outside the `RAMPART_MODE_*` constants also mean node.toml's.
pub fn mode_from_c(v: i32) -> Option<Mode> {
    match v {
        MODE_BLOCK => Some(Mode::Block),
        MODE_MONITOR => Some(Mode::Monitor),
        MODE_OFF => Some(Mode::Off),
        _ => None,
    }
}

pub fn mode_to_c(m: Mode) -> i32 {
    match m {
        Mode::Block => MODE_BLOCK,
        Mode::Monitor => MODE_MONITOR,
        Mode::Off => MODE_OFF,
    }
}

pub fn action_to_c(a: Action) -> i32 {
    match a {
        Action::Allow => ACTION_ALLOW,
        Action::Block => ACTION_BLOCK,
        Action::Monitor => ACTION_MONITOR,
    }
}

/// The adapter's name as the guard logs it. The guard wants a `'static`
/// name: the known adapters map to constants; any other name is kept for
/// the life of the process (one small allocation per guard created).
fn adapter_name(name: &str) -> &'static str {
    match name {
        "" => "ffi",
        "apache" => "apache",
        "iis" => "iis",
        "nginx" => "nginx",
        "haproxy" => "haproxy",
        "ffi" => "ffi",
        other => {
            let short: String = other.chars().take(32).collect();
            Box::leak(short.into_boxed_str())
        }
    }
}

/// A C string from text that may hold NUL bytes (a request point made of
/// client input): they are dropped.
fn c_text(s: &str) -> CString {
    CString::new(s.replace('\0', "")).unwrap_or_default()
}

/// Checks a node.toml without starting anything (no thread, no log file):
/// what a server's master process can do before it forks its workers.
pub fn check_config(path: &Path) -> anyhow::Result<()> {
    NodeConfig::load(path)?.validate()
}

/// `rampart_guard`: one per server process.
#[derive(Debug)]
pub struct RampartGuard {
    guard: Guard,
}

impl RampartGuard {
    pub fn from_file(path: &Path, adapter: &str) -> anyhow::Result<RampartGuard> {
        Ok(RampartGuard {
            guard: Guard::from_file(path, adapter_name(adapter))?,
        })
    }

    pub fn from_guard(guard: Guard) -> RampartGuard {
        RampartGuard { guard }
    }

    pub fn guard(&self) -> &Guard {
        &self.guard
    }

    pub fn mode(&self) -> i32 {
        mode_to_c(self.guard.mode())
    }

    pub fn body_limit(&self) -> usize {
        self.guard.body_limit()
    }

    pub fn over_limit(&self) -> i32 {
        match self.guard.over_limit() {
            OverLimit::InspectPrefix => OVER_LIMIT_INSPECT_PREFIX,
            OverLimit::Block => OVER_LIMIT_BLOCK,
        }
    }

    /// The 413 refusal of a body by its declared length (`None`: unknown),
    /// against `limit` (the server's body limit: node.toml's unless the
    /// server configures its own), when `over_limit = "block"`.
    pub fn refuse_length(
        &self,
        req: Option<&RampartRequest>,
        declared: Option<u64>,
        limit: usize,
        mode: Option<Mode>,
    ) -> Option<RampartDecision> {
        let declared = declared?;
        if declared <= limit as u64 {
            return None;
        }
        // The guard compares with node.toml's limit; a server limit below
        // it still refuses, reported as one byte over node.toml's.
        let over = declared.max(self.guard.body_limit() as u64 + 1);
        let d = self.guard.refuse_length(Some(over), mode)?;
        Some(self.decision(d, req.and_then(|r| r.accept())))
    }

    /// Inspects a request built by the server.
    pub fn inspect(&self, req: &RampartRequest, mode: Option<Mode>) -> RampartDecision {
        let d = self.guard.inspect(&req.req, mode);
        self.decision(d, req.accept())
    }

    /// The response phase (see [`Guard::finish`]); the decision keeps its
    /// request-phase action and can be finished once.
    pub fn finish(&self, d: &mut RampartDecision, status: u16) -> i32 {
        match d.decision.take() {
            Some(dec) => action_to_c(self.guard.finish(dec, status)),
            None => d.action,
        }
    }

    fn decision(&self, d: Decision, accept: Option<&[u8]>) -> RampartDecision {
        let (content_type, page) = if d.blocks() {
            let (ct, body) = self.guard.block_page(&d, accept);
            (c_text(ct), body.into_bytes())
        } else {
            (CString::default(), Vec::new())
        };
        RampartDecision {
            action: action_to_c(d.action),
            status: d.status,
            score: d.score,
            class: d.class.map(c_text),
            rule: d.rule.as_deref().map(c_text),
            point: d.point.as_deref().map(c_text),
            request_id: c_text(&d.request_id),
            reason: c_text(d.reason),
            content_type,
            page,
            decision: Some(d),
        }
    }

    pub fn shutdown(self) {
        self.guard.shutdown();
    }
}

/// `rampart_request`: a request as the server parsed it, built field by
/// field. The body keeps at most `body_limit` bytes; what is appended past
/// it sets `body_truncated`.
#[derive(Debug, Clone)]
pub struct RampartRequest {
    req: Request,
    limit: usize,
}

impl RampartRequest {
    pub fn new(body_limit: usize) -> RampartRequest {
        RampartRequest {
            req: Request::default(),
            limit: body_limit,
        }
    }

    pub fn request(&self) -> &Request {
        &self.req
    }

    pub fn body_limit(&self) -> usize {
        self.limit
    }

    pub fn set_method(&mut self, m: &[u8]) {
        self.req.method = m.to_vec();
    }

    pub fn set_target(&mut self, t: &[u8]) {
        self.req.target = t.to_vec();
    }

    pub fn add_header(&mut self, name: &[u8], value: &[u8]) {
        self.req.headers.push(Header {
            name: name.to_vec(),
            value: value.to_vec(),
        });
    }

    /// Appends body bytes up to the limit; returns how many were kept.
    pub fn append_body(&mut self, chunk: &[u8]) -> usize {
        let room = self.limit.saturating_sub(self.req.body.len());
        let kept = room.min(chunk.len());
        self.req.body.extend_from_slice(&chunk[..kept]);
        if kept < chunk.len() {
            self.req.body_truncated = true;
        }
        kept
    }

    pub fn body_len(&self) -> usize {
        self.req.body.len()
    }

    pub fn set_truncated(&mut self, truncated: bool) {
        self.req.body_truncated = truncated;
    }

    pub fn truncated(&self) -> bool {
        self.req.body_truncated
    }

    /// The client address as text (`192.0.2.1`, `2001:db8::1`, also
    /// `[2001:db8::1]`); false when it is not an address.
    pub fn set_client_ip(&mut self, ip: &str) -> bool {
        let s = ip.trim();
        let s = s
            .strip_prefix('[')
            .and_then(|r| r.strip_suffix(']'))
            .unwrap_or(s);
        match s.parse::<IpAddr>() {
            Ok(ip) => {
                self.req.client_ip = Some(ip);
                true
            }
            Err(_) => false,
        }
    }

    /// The first `Accept` header: it chooses the block page's format.
    fn accept(&self) -> Option<&[u8]> {
        self.req
            .headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(b"accept"))
            .map(|h| h.value.as_slice())
    }
}

/// `rampart_decision`: the verdict, with its text fields ready as C
/// strings that live as long as the handle.
#[derive(Debug)]
pub struct RampartDecision {
    action: i32,
    status: u16,
    score: u32,
    class: Option<CString>,
    rule: Option<CString>,
    point: Option<CString>,
    request_id: CString,
    reason: CString,
    content_type: CString,
    page: Vec<u8>,
    /// The engine's decision, until `finish` consumes it.
    decision: Option<Decision>,
}

impl RampartDecision {
    pub fn action(&self) -> i32 {
        self.action
    }

    pub fn status(&self) -> u16 {
        self.status
    }

    pub fn score(&self) -> u32 {
        self.score
    }

    pub fn class(&self) -> Option<&CStr> {
        self.class.as_deref()
    }

    pub fn rule(&self) -> Option<&CStr> {
        self.rule.as_deref()
    }

    pub fn point(&self) -> Option<&CStr> {
        self.point.as_deref()
    }

    pub fn request_id(&self) -> &CStr {
        &self.request_id
    }

    pub fn reason(&self) -> &CStr {
        &self.reason
    }

    /// The block page (empty unless the decision blocks).
    pub fn page(&self) -> &[u8] {
        &self.page
    }

    pub fn content_type(&self) -> &CStr {
        &self.content_type
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_body_keeps_at_most_the_limit_and_marks_the_rest() {
        let mut r = RampartRequest::new(10);
        assert_eq!(r.append_body(b"12345"), 5);
        assert!(!r.truncated());
        assert_eq!(r.append_body(b"67890"), 5);
        assert!(!r.truncated());
        assert_eq!(r.append_body(b""), 0);
        assert!(!r.truncated());
        assert_eq!(r.append_body(b"x"), 0);
        assert!(r.truncated());
        assert_eq!(r.request().body, b"1234567890");
        let mut r = RampartRequest::new(4);
        assert_eq!(r.append_body(b"abcdef"), 4);
        assert!(r.truncated());
    }

    #[test]
    fn client_addresses_parse_or_are_refused() {
        let mut r = RampartRequest::new(0);
        assert!(r.set_client_ip("192.0.2.7"));
        assert!(r.set_client_ip("[2001:db8::1]"));
        assert_eq!(r.request().client_ip, "2001:db8::1".parse().ok());
        assert!(!r.set_client_ip("not-an-ip"));
        assert_eq!(r.request().client_ip, "2001:db8::1".parse().ok());
    }

    #[test]
    fn modes_and_actions_map_to_the_header_constants() {
        assert_eq!(mode_from_c(MODE_CONFIG), None);
        assert_eq!(mode_from_c(42), None);
        for m in [Mode::Block, Mode::Monitor, Mode::Off] {
            assert_eq!(mode_from_c(mode_to_c(m)), Some(m));
        }
        assert_eq!(action_to_c(Action::Allow), 0);
        assert_eq!(action_to_c(Action::Block), 1);
        assert_eq!(action_to_c(Action::Monitor), 2);
    }

    #[test]
    fn text_with_nul_bytes_becomes_a_c_string() {
        assert_eq!(c_text("a\0b").as_bytes(), b"ab");
        assert_eq!(adapter_name("apache"), "apache");
        assert_eq!(adapter_name("my-server"), "my-server");
    }
}
