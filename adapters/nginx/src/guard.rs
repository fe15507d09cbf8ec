//! The worker's guard and what the module does with a verdict, in safe
//! code: the FFI module gathers the request's parts from NGINX and acts on
//! the [`Act`] returned here.

use std::net::IpAddr;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use rampart_core::PluginFailure;
use rampart_embed::{Action, Decision, Guard, Header, Mode, NodeConfig, OverLimit, Request};

/// The worker process's guard. One per worker, made in `init_process`
/// (after the fork: the guard's thread and runtime do not survive a fork),
/// dropped in `exit_process`. The master never holds one.
#[derive(Debug, Default)]
enum Slot {
    /// No `rampart_config`, or not a worker.
    #[default]
    Empty,
    Ready(Arc<Guard>),
    /// The guard could not start: requests under `rampart on` follow
    /// `policy.on_plugin_error` (closed: 503; open: pass).
    Failed {
        closed: bool,
    },
}

static SLOT: Mutex<Slot> = Mutex::new(Slot::Empty);

fn slot() -> MutexGuard<'static, Slot> {
    // A panic while the lock was held cannot leave the slot half-written
    // (every write is one assignment), so a poisoned lock is still good.
    SLOT.lock().unwrap_or_else(|e| e.into_inner())
}

/// Starts this worker's guard from `path`. On failure the slot remembers
/// the policy for failures and the error is returned for NGINX's log.
pub fn start(path: &Path) -> Result<(), String> {
    match Guard::from_file(path, "nginx") {
        Ok(g) => {
            *slot() = Slot::Ready(Arc::new(g));
            Ok(())
        }
        Err(e) => {
            let closed = NodeConfig::load(path)
                .map(|c| c.policy.on_plugin_error == PluginFailure::Closed)
                .unwrap_or(false);
            *slot() = Slot::Failed { closed };
            Err(format!(
                "rampart: the guard could not start from {}: {e:#}; requests under \"rampart on\" {}",
                path.display(),
                if closed {
                    "are refused with 503 (policy.on_plugin_error = closed)"
                } else {
                    "pass uninspected (policy.on_plugin_error = open)"
                }
            ))
        }
    }
}

/// Stops this worker's guard: the last telemetry window and the spool are
/// flushed and its thread joined (within `timeouts.shutdown_ms`).
pub fn stop() {
    let taken = std::mem::take(&mut *slot());
    if let Slot::Ready(g) = taken {
        match Arc::try_unwrap(g) {
            Ok(g) => g.shutdown(),
            // A request still holds it (cannot happen at exit_process):
            // the last holder's drop stops the thread.
            Err(g) => drop(g),
        }
    }
}

/// What the access handler finds for this worker.
#[derive(Debug)]
pub enum Current {
    /// Inspect with this guard.
    Ready(Arc<Guard>),
    /// No guard: pass (`rampart off` in effect), or refuse (the guard
    /// failed with `on_plugin_error = closed`).
    Missing { closed: bool },
}

pub fn current() -> Current {
    match &*slot() {
        Slot::Ready(g) => Current::Ready(Arc::clone(g)),
        Slot::Failed { closed } => Current::Missing { closed: *closed },
        Slot::Empty => Current::Missing { closed: false },
    }
}

/// True when a failure of the module itself (a caught panic, an unreadable
/// body file) must refuse the request: `policy.on_plugin_error = closed`.
pub fn fails_closed() -> bool {
    match &*slot() {
        Slot::Ready(g) => g.config().policy.on_plugin_error == PluginFailure::Closed,
        Slot::Failed { closed } => *closed,
        Slot::Empty => false,
    }
}

/// The status a failure answers with when it fails closed.
pub const FAIL_STATUS: u16 = 503;

/// What the module does with a request.
#[derive(Debug)]
pub enum Act {
    /// Go on to the next handler (and to the upstream).
    Pass,
    /// Answer with the block page.
    Page {
        status: u16,
        content_type: &'static str,
        body: Vec<u8>,
        request_id: String,
    },
    /// Answer with NGINX's own error page for this status (a failure of
    /// the module, fail closed).
    Status(u16),
}

impl Act {
    /// The act for a failure of the module: policy.on_plugin_error.
    pub fn failure() -> Act {
        if fails_closed() {
            Act::Status(FAIL_STATUS)
        } else {
            Act::Pass
        }
    }
}

/// The per-request settings, from the merged location configuration.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// `rampart_mode`, overriding node.toml's.
    pub mode: Option<Mode>,
    /// The effective body limit (the smaller of node.toml's and
    /// `rampart_body_limit`).
    pub limit: usize,
}

/// What decides before the body is read: a declared length over the limit
/// with `over_limit = "block"` is refused with 413 without reading it.
/// `parts` gives the request line and headers (for the log), only called
/// when the location's own limit decides.
pub fn before_body(
    guard: &Guard,
    s: Settings,
    declared: Option<u64>,
    parts: impl FnOnce() -> Parts,
) -> Option<Decision> {
    if let Some(d) = guard.refuse_length(declared, s.mode) {
        return Some(d);
    }
    // A location limit below node.toml's: the guard only knows its own,
    // so an over-long declared body is handed over as truncated (the guard
    // answers 413 for it, as for any truncated body under this policy).
    let over = declared.is_some_and(|n| n > s.limit as u64);
    if over && guard.over_limit() == OverLimit::Block {
        return Some(guard.inspect(&parts().into_request(Vec::new(), true), s.mode));
    }
    None
}

/// A request's parts as NGINX holds them.
#[derive(Debug, Default)]
pub struct Parts {
    pub method: Vec<u8>,
    /// The request target as on the request line (`unparsed_uri`).
    pub target: Vec<u8>,
    pub headers: Vec<Header>,
    /// `$remote_addr` (after the realip module, when configured).
    pub client: Vec<u8>,
}

impl Parts {
    pub fn into_request(self, body: Vec<u8>, body_truncated: bool) -> Request {
        let client_ip = std::str::from_utf8(&self.client)
            .ok()
            .and_then(|s| s.parse::<IpAddr>().ok());
        Request {
            method: self.method,
            target: self.target,
            headers: self.headers,
            body,
            body_truncated,
            client_ip,
        }
    }
}

/// The act for a decision: the block page (JSON, or HTML when `Accept`
/// prefers it) when it blocks, else pass (monitor mode passes).
pub fn act(guard: &Guard, d: &Decision, accept: Option<&[u8]>) -> Act {
    if d.action != Action::Block {
        return Act::Pass;
    }
    let (content_type, body) = guard.block_page(d, accept);
    Act::Page {
        status: d.status,
        content_type,
        body: body.into_bytes(),
        request_id: d.request_id.clone(),
    }
}

/// The `Accept` header's value, for the block page.
pub fn accept_of(headers: &[Header]) -> Option<&[u8]> {
    headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case(b"accept"))
        .map(|h| h.value.as_slice())
}

/// A body gathered from NGINX's buffers (memory and temp file), kept up to
/// the limit; `total` counts every byte seen.
#[derive(Debug)]
pub struct Body {
    pub data: Vec<u8>,
    pub total: u64,
    pub limit: usize,
}

impl Body {
    pub fn new(limit: usize) -> Body {
        Body {
            data: Vec::new(),
            total: 0,
            limit,
        }
    }

    /// How many more bytes are kept.
    pub fn room(&self) -> usize {
        self.limit - self.data.len()
    }

    pub fn push(&mut self, bytes: &[u8]) {
        let keep = bytes.len().min(self.room());
        self.data.extend_from_slice(&bytes[..keep]);
    }

    /// Counts `n` bytes of the body (kept or not).
    pub fn count(&mut self, n: u64) {
        self.total = self.total.saturating_add(n);
    }

    pub fn truncated(&self) -> bool {
        self.total > self.data.len() as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_keeps_the_limit_and_knows_it_was_cut() {
        let mut b = Body::new(5);
        b.push(b"abc");
        b.count(3);
        assert!(!b.truncated());
        b.push(b"defg");
        b.count(4);
        assert_eq!(b.data, b"abcde");
        assert!(b.truncated());
        assert_eq!(b.room(), 0);
    }

    #[test]
    fn parts_become_a_request() {
        let p = Parts {
            method: b"POST".to_vec(),
            target: b"/a?b=1".to_vec(),
            headers: vec![Header {
                name: b"Accept".to_vec(),
                value: b"text/html".to_vec(),
            }],
            client: b"::1".to_vec(),
        };
        assert_eq!(accept_of(&p.headers), Some(&b"text/html"[..]));
        let r = p.into_request(b"x=1".to_vec(), false);
        assert_eq!(r.client_ip, Some("::1".parse().expect("ip")));
        assert_eq!(r.target, b"/a?b=1");
        let unix = Parts {
            client: b"unix:".to_vec(),
            ..Parts::default()
        };
        assert_eq!(unix.into_request(Vec::new(), false).client_ip, None);
    }

    #[test]
    fn without_a_guard_requests_pass_unless_closed() {
        // This test process has no guard: failures pass (open).
        assert!(matches!(current(), Current::Missing { closed: false }));
        assert!(matches!(Act::failure(), Act::Pass));
    }
}
