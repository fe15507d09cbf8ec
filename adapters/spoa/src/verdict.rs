//! The Rampart handler: `rampart-req` messages inspected by the [`Guard`],
//! the decision answered as transaction variables; `rampart-res` messages
//! (optional) run the response phase.
//!
//! Variables (scope `txn`, prefixed by HAProxy with the agent's
//! `var-prefix`, `rampart` in the example: `txn.rampart.action`...):
//!
//! | variable        | type   | value                                                   |
//! |-----------------|--------|---------------------------------------------------------|
//! | `action`        | int    | 0 allow, 1 block, 2 monitor (passed, logged)             |
//! | `status`        | int    | the status to block with (403, 413, 503), else 200      |
//! | `request_id`    | string | the request's id (logged, on the block page)            |
//! | `reason`        | string | `allowed`, `blocked`, `body_too_large`, `inspection_failed` |
//! | `class`         | string | the attack class that decided, when one did             |
//! | `rule`          | string | the rule or detector that decided, when one did         |
//! | `page`          | string | the block page (only when blocking)                     |
//! | `page_type`     | string | `html` or `json` (only when blocking)                   |
//! | `resp_action`   | int    | after `rampart-res`: 1 when the response must be blocked |
//! | `resp_status`   | int    | after `rampart-res`: the status to block it with         |

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use bytes::Bytes;
use rampart_core::PluginFailure;
use rampart_embed::{Action as Verdict, Decision, Guard, Mode};
use tracing::{debug, error};

use crate::codec::{Action, Message, TypedData};
use crate::request::{self, REQUEST_MESSAGE};
use crate::server::Handler;

/// The message HAProxy sends when the response status is known.
pub const RESPONSE_MESSAGE: &str = "rampart-res";

/// `txn.<prefix>.action` values.
pub const ACTION_ALLOW: u32 = 0;
pub const ACTION_BLOCK: u32 = 1;
pub const ACTION_MONITOR: u32 = 2;

/// Decisions waiting for their response are kept this long at most.
const PENDING_TTL: Duration = Duration::from_secs(120);
/// And at most this many (the oldest go first): an inspection holds the
/// request's decoded tree.
const PENDING_MAX: usize = 4096;
/// Strings sent back are cut to this many bytes (the page excepted).
const MAX_STRING: usize = 256;

/// Decisions of requests that passed, by request id, until `rampart-res`.
#[derive(Debug, Default)]
struct Pending {
    by_id: HashMap<String, (Instant, Decision)>,
    order: VecDeque<(Instant, String)>,
}

impl Pending {
    fn expire(&mut self, now: Instant) {
        while let Some((t, _)) = self.order.front() {
            if now.duration_since(*t) < PENDING_TTL && self.order.len() <= PENDING_MAX {
                break;
            }
            if let Some((t, id)) = self.order.pop_front() {
                // Only drop the entry this queue item was for (an id seen
                // twice keeps its newest decision).
                if self.by_id.get(&id).is_some_and(|(at, _)| *at == t) {
                    self.by_id.remove(&id);
                }
            }
        }
    }

    fn insert(&mut self, d: Decision) {
        let now = Instant::now();
        self.expire(now);
        self.order.push_back((now, d.request_id.clone()));
        self.by_id.insert(d.request_id.clone(), (now, d));
    }

    fn take(&mut self, id: &str) -> Option<Decision> {
        self.by_id.remove(id).map(|(_, d)| d)
    }
}

/// The SPOE handler around a [`Guard`].
#[derive(Debug)]
pub struct RampartHandler {
    guard: Guard,
    /// `rampart spoa --mode`: overrides node.toml; a `mode` argument in the
    /// message overrides both.
    mode: Option<Mode>,
    /// Whether requests that passed wait for a `rampart-res` message: set
    /// by the first one that arrives (a configuration without the response
    /// message never holds decisions).
    responses: AtomicBool,
    pending: Mutex<Pending>,
    fail_closed: bool,
    warned: AtomicBool,
}

fn cut(s: &str, max: usize) -> Bytes {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    Bytes::copy_from_slice(&s.as_bytes()[..end])
}

fn int(v: u32) -> TypedData {
    TypedData::Uint32(v)
}

fn string(s: &str) -> TypedData {
    TypedData::String(cut(s, MAX_STRING))
}

impl RampartHandler {
    /// `mode` overrides node.toml's mode (`rampart spoa --mode`).
    pub fn new(guard: Guard, mode: Option<Mode>) -> RampartHandler {
        let fail_closed = guard.config().policy.on_plugin_error == PluginFailure::Closed;
        RampartHandler {
            guard,
            mode,
            responses: AtomicBool::new(false),
            pending: Mutex::new(Pending::default()),
            fail_closed,
            warned: AtomicBool::new(false),
        }
    }

    pub fn guard(&self) -> &Guard {
        &self.guard
    }

    /// Gives the guard back (to shut it down).
    pub fn into_guard(self) -> Guard {
        self.guard
    }

    /// The answer to a message the agent cannot read (a configuration
    /// mistake): blocked with 503 when `on_plugin_error = "closed"`, else
    /// passed.
    fn unreadable(&self, why: &'static str) -> Vec<Action> {
        if self.warned.swap(true, Ordering::Relaxed) {
            debug!(error = why, "unreadable rampart-req message");
        } else {
            error!(error = why, "unreadable rampart-req message: check the spoe-message arguments (this is logged once)");
        }
        let reason = TypedData::String(Bytes::from_static(b"inspection_failed"));
        if self.fail_closed {
            let id = rampart_proxy::new_request_id();
            let (_, page) = rampart_proxy::page_body(
                503,
                "inspection_failed",
                "The request could not be inspected.",
                &id,
                None,
            );
            vec![
                Action::set_txn("action", int(ACTION_BLOCK)),
                Action::set_txn("status", int(503)),
                Action::set_txn("request_id", string(&id)),
                Action::set_txn("reason", reason),
                Action::set_txn("page_type", string("json")),
                Action::set_txn(
                    "page",
                    TypedData::String(Bytes::from(page.trim_end().to_string())),
                ),
            ]
        } else {
            vec![
                Action::set_txn("action", int(ACTION_ALLOW)),
                Action::set_txn("status", int(200)),
                Action::set_txn("reason", reason),
            ]
        }
    }

    /// Inspects one request and answers the decision.
    fn request(&self, m: &Message) -> Vec<Action> {
        let received = match request::from_message(m) {
            Ok(r) => r,
            Err(why) => return self.unreadable(why),
        };
        let mode = received.mode.or(self.mode);
        if let Some(d) = self.guard.refuse_length(received.declared, mode) {
            return self.answer(d, None);
        }
        let mut req = received.request;
        let limit = self.guard.body_limit();
        let arrived = req.body.len() as u64;
        // More than the limit arrived, or less than declared (HAProxy's
        // buffer was full): the body is known only in part.
        if req.body.len() > limit || received.declared.is_some_and(|n| n > arrived) {
            req.body_truncated = true;
            req.body.truncate(limit);
        }
        let accept = req
            .headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(b"accept"))
            .map(|h| h.value.clone());
        let d = self.guard.inspect(&req, mode);
        self.answer(d, accept.as_deref())
    }

    fn answer(&self, d: Decision, accept: Option<&[u8]>) -> Vec<Action> {
        let action = match d.action {
            Verdict::Allow => ACTION_ALLOW,
            Verdict::Block => ACTION_BLOCK,
            Verdict::Monitor => ACTION_MONITOR,
        };
        let mut out = vec![
            Action::set_txn("action", int(action)),
            Action::set_txn("status", int(u32::from(d.status))),
            Action::set_txn("request_id", string(&d.request_id)),
            Action::set_txn("reason", string(d.reason)),
        ];
        if let Some(c) = d.class {
            out.push(Action::set_txn("class", string(c)));
        }
        if let Some(r) = &d.rule {
            out.push(Action::set_txn("rule", string(r)));
        }
        if d.blocks() {
            let (ctype, page) = self.guard.block_page(&d, accept);
            let kind = if ctype.starts_with("text/html") {
                "html"
            } else {
                "json"
            };
            out.push(Action::set_txn("page_type", string(kind)));
            // HAProxy's log-format escapes control characters (a newline
            // would show as %0A): the page goes on one line.
            let page: String = page
                .trim_end()
                .chars()
                .filter(|c| !c.is_control())
                .collect();
            out.push(Action::set_txn(
                "page",
                TypedData::String(Bytes::from(page)),
            ));
            // The response never comes: the request ends here.
            let status = d.status;
            self.guard.finish(d, status);
        } else if self.responses.load(Ordering::Relaxed) && !d.request_id.is_empty() {
            if let Ok(mut p) = self.pending.lock() {
                p.insert(d);
            }
        } else {
            self.guard.finish(d, 200);
        }
        out
    }

    /// The response phase of a request that passed.
    fn response(&self, m: &Message) -> Vec<Action> {
        self.responses.store(true, Ordering::Relaxed);
        let Some(id) = m.arg("id").and_then(TypedData::as_bytes) else {
            return Vec::new();
        };
        let Some(status) = m.arg("status").and_then(TypedData::as_u64) else {
            return Vec::new();
        };
        let id = String::from_utf8_lossy(id);
        let d = match self.pending.lock() {
            Ok(mut p) => p.take(&id),
            Err(_) => None,
        };
        let Some(d) = d else {
            return Vec::new();
        };
        let status = u16::try_from(status).unwrap_or(0);
        if self.guard.finish(d, status) == Verdict::Block {
            let block = self.guard.config().policy.block_status;
            vec![
                Action::set_txn("resp_action", int(ACTION_BLOCK)),
                Action::set_txn("resp_status", int(u32::from(block))),
            ]
        } else {
            vec![Action::set_txn("resp_action", int(ACTION_ALLOW))]
        }
    }
}

impl Handler for RampartHandler {
    fn notify(&self, messages: &[Message]) -> Vec<Action> {
        let mut out = Vec::new();
        for m in messages {
            match m.name.as_ref() {
                n if n == REQUEST_MESSAGE.as_bytes() => out.extend(self.request(m)),
                n if n == RESPONSE_MESSAGE.as_bytes() => out.extend(self.response(m)),
                _ => {}
            }
        }
        out
    }
}
