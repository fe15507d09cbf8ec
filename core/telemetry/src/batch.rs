//! The batch a node uploads: aggregates of one window of traffic and the
//! attack events seen in it. `spec/metrics-privacy.md` says what each field
//! holds and why no raw value of ordinary traffic is among them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::shape::Format;
use crate::sketch::{Distinct, LogHistogram};

/// The format version of [`Batch`].
pub const BATCH_VERSION: u32 = 1;

/// One window of a node's traffic.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Batch {
    pub version: u32,
    /// Increases by one with every batch of a node; the cloud ingests a
    /// sequence number once, so a retried upload is not counted twice.
    pub seq: u64,
    /// Unix seconds.
    pub window_start: u64,
    pub window_end: u64,
    pub requests: u64,
    pub blocked: u64,
    pub monitored: u64,
    pub endpoints: Vec<EndpointStats>,
    /// Requests whose endpoint was not kept (over the bound).
    pub endpoints_dropped: u64,
    pub clients: Vec<ClientStats>,
    pub clients_dropped: u64,
    pub attacks: Vec<AttackEvent>,
    pub attacks_dropped: u64,
}

impl Batch {
    /// True when the window saw nothing.
    pub fn is_empty(&self) -> bool {
        self.requests == 0
    }
}

/// One endpoint: a method and a path *shape* (`/api/users/{int}`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EndpointStats {
    pub method: String,
    pub path: String,
    pub requests: u64,
    pub blocked: u64,
    /// Response status -> count.
    pub statuses: BTreeMap<u16, u64>,
    /// Time from the request to the response, microseconds.
    pub latency_us: LogHistogram,
    /// Media type essence (`application/json`) -> count.
    pub content_types: BTreeMap<String, u64>,
    pub points: Vec<PointStats>,
    pub points_dropped: u64,
}

/// One request point of an endpoint, by shaped path (`body:json.user.email`,
/// `query.page`, `body:json.items[*].qty`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PointStats {
    pub point: String,
    /// Values seen.
    pub count: u64,
    /// Value lengths in bytes.
    pub length: LogHistogram,
    /// Bytes per class of [`crate::shape::CHAR_CLASSES`], summed over values.
    pub chars: Vec<u64>,
    /// Format -> values that looked like it.
    pub formats: BTreeMap<Format, u64>,
    /// Distinct values, over keyed hashes.
    pub distinct: Distinct,
}

/// One client (a keyed hash of its address, or of its session).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClientStats {
    /// 16 hex digits of the keyed hash.
    pub client: String,
    /// `ip` or `session`.
    pub kind: String,
    pub requests: u64,
    /// Responses with status 400 or more.
    pub errors: u64,
    /// Responses 401 and 403.
    pub auth_failures: u64,
    pub blocked: u64,
    /// `METHOD shape` -> requests (at most 32 endpoints).
    pub endpoints: BTreeMap<String, u64>,
    /// `METHOD shape -> METHOD shape` -> count, consecutive requests (at
    /// most 32 transitions).
    pub transitions: BTreeMap<String, u64>,
    /// Distinct object ids (path segments that are numbers, UUIDs, hashes).
    pub objects: Distinct,
    /// Unix seconds of the first and last request in the window.
    pub first: u64,
    pub last: u64,
}

/// A request the node blocked or would have blocked.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AttackEvent {
    /// Unix seconds.
    pub time: u64,
    pub request_id: String,
    pub method: String,
    /// The endpoint's path shape.
    pub endpoint: String,
    /// `block` or `monitor`.
    pub action: String,
    pub status: u16,
    /// The deciding class and rule (a detector's or a rule-language rule).
    pub class: Option<String>,
    pub rule: Option<String>,
    pub score: u32,
    pub findings: Vec<FindingEvent>,
    pub tags: Vec<String>,
    /// The client's keyed hash.
    pub client: String,
}

/// One finding of an attack event, with the payload: the bytes of the
/// finding's span only (at most 512), or `[masked]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FindingEvent {
    pub class: String,
    pub rule: String,
    pub score: u8,
    /// The point's shaped path.
    pub point: String,
    /// `value` or `name`.
    #[serde(rename = "in")]
    pub in_: String,
    pub payload: String,
}
