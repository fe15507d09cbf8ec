//! The node side: an [`Aggregator`] folds each inspected request into the
//! window's aggregates and takes them out as a [`Batch`].

use std::collections::HashMap;
use std::net::IpAddr;

use rampart_types::{Action, Finding, NodeId, Seg, Source, Tree, Verdict};

use crate::batch::{
    AttackEvent, Batch, ClientStats, EndpointStats, FindingEvent, PointStats, BATCH_VERSION,
};
use crate::shape::{char_class, format_of, segment_kind, SegmentKind, CHAR_CLASSES};
use crate::sketch::Keyer;

/// Bounds and secrets of an [`Aggregator`].
#[derive(Debug, Clone)]
pub struct Config {
    /// The secret mixed into every hash (client ids, distinct values).
    /// Never sent anywhere; nodes of one application that share it make
    /// their distinct counts and client ids comparable.
    pub salt: Vec<u8>,
    /// A path segment or member name is reported as itself only once this
    /// many distinct clients sent it; before that, as `{word}`.
    pub k_anonymity: usize,
    pub max_endpoints: usize,
    pub max_points: usize,
    pub max_clients: usize,
    pub max_attacks: usize,
    /// Words (segments and names) remembered for the k-anonymity count.
    pub max_words: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            salt: Vec::new(),
            k_anonymity: 3,
            max_endpoints: 2000,
            max_points: 200,
            max_clients: 10_000,
            max_attacks: 1000,
            max_words: 50_000,
        }
    }
}

/// What the aggregator needs of one request and its response.
#[derive(Debug)]
pub struct Observation<'a> {
    pub tree: &'a Tree,
    pub findings: &'a [Finding],
    pub verdict: &'a Verdict,
    /// Points masked by rules (values at and below them never leave).
    pub masked: &'a [NodeId],
    pub tags: &'a [String],
    /// The status the client got (the block page's when blocked).
    pub status: u16,
    pub latency_us: u64,
    pub client_ip: Option<IpAddr>,
    pub session: Option<&'a [u8]>,
    pub request_id: &'a str,
    /// Unix seconds.
    pub now: u64,
}

#[derive(Debug)]
enum Word {
    /// Sent by this many distinct clients (their hashes), fewer than k.
    Pending(Vec<u64>),
    Admitted,
}

#[derive(Debug, Default)]
struct Endpoint {
    index: u32,
    stats: EndpointStats,
    points: HashMap<Box<[u8]>, usize>,
}

/// A client's aggregates while the window is open: endpoints by index,
/// names written out when the batch is taken.
#[derive(Debug, Default)]
struct Client {
    kind: &'static str,
    stats: ClientStats,
    endpoints: Vec<(u32, u64)>,
    transitions: Vec<((u32, u32), u64)>,
    last_endpoint: Option<u32>,
}

/// Aggregates of the current window. Not thread-safe by itself: a node
/// keeps it behind a lock and takes a batch every few seconds.
#[derive(Debug)]
pub struct Aggregator {
    cfg: Config,
    seq: u64,
    window_start: u64,
    requests: u64,
    blocked: u64,
    monitored: u64,
    endpoints: HashMap<String, Endpoint>,
    endpoints_dropped: u64,
    clients: HashMap<(u64, &'static str), Client>,
    /// `METHOD shape` of each endpoint of the window, by index.
    endpoint_keys: Vec<String>,
    clients_dropped: u64,
    attacks: Vec<AttackEvent>,
    attacks_dropped: u64,
    words: HashMap<Vec<u8>, Word>,
    keyer: Keyer,
    /// Shaped point paths of the request being observed, one after the
    /// other, and where each starts and ends (reused across requests).
    shapes: Vec<u8>,
    spans: Vec<(usize, usize, NodeId)>,
    ranges: Vec<(usize, usize)>,
    chain: Vec<NodeId>,
}

/// What a masked value becomes.
const MASK: &str = "[masked]";

/// Longest payload excerpt of an attack event.
const MAX_PAYLOAD: usize = 512;

fn is_at_or_below(tree: &Tree, mut n: NodeId, target: NodeId) -> bool {
    loop {
        if n == target {
            return true;
        }
        match tree.node(n).parent() {
            Some(p) => n = p,
            None => return false,
        }
    }
}

/// Header names of HTTP itself and of common infrastructure: reported as
/// they are, whoever sent them (they name no one).
const STANDARD_HEADERS: &[&str] = &[
    "accept",
    "accept-charset",
    "accept-encoding",
    "accept-language",
    "authorization",
    "cache-control",
    "connection",
    "content-encoding",
    "content-length",
    "content-type",
    "cookie",
    "dnt",
    "expect",
    "forwarded",
    "host",
    "if-match",
    "if-modified-since",
    "if-none-match",
    "if-range",
    "if-unmodified-since",
    "keep-alive",
    "origin",
    "pragma",
    "priority",
    "proxy-authorization",
    "range",
    "referer",
    "sec-ch-ua",
    "sec-ch-ua-mobile",
    "sec-ch-ua-platform",
    "sec-fetch-dest",
    "sec-fetch-mode",
    "sec-fetch-site",
    "sec-fetch-user",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "upgrade-insecure-requests",
    "user-agent",
    "via",
    "x-api-key",
    "x-csrf-token",
    "x-forwarded-for",
    "x-forwarded-host",
    "x-forwarded-proto",
    "x-real-ip",
    "x-request-id",
    "x-requested-with",
    "x-xsrf-token",
];

fn standard_header(name: &[u8]) -> bool {
    STANDARD_HEADERS
        .iter()
        .any(|h| name.eq_ignore_ascii_case(h.as_bytes()))
}

/// Counts `key` in a short list of at most `max` keys.
fn bump<K: PartialEq>(list: &mut Vec<(K, u64)>, key: K, max: usize) {
    if let Some((_, n)) = list.iter_mut().find(|(k, _)| *k == key) {
        *n += 1;
    } else if list.len() < max {
        list.push((key, 1));
    }
}

fn hex16(h: u64) -> String {
    format!("{h:016x}")
}

impl Aggregator {
    pub fn new(cfg: Config) -> Aggregator {
        Aggregator {
            keyer: Keyer::new(&cfg.salt),
            shapes: Vec::new(),
            spans: Vec::new(),
            ranges: Vec::new(),
            chain: Vec::new(),
            cfg,
            seq: 0,
            window_start: 0,
            requests: 0,
            blocked: 0,
            monitored: 0,
            endpoints: HashMap::new(),
            endpoints_dropped: 0,
            clients: HashMap::new(),
            endpoint_keys: Vec::new(),
            clients_dropped: 0,
            attacks: Vec::new(),
            attacks_dropped: 0,
            words: HashMap::new(),
        }
    }

    /// The sequence number the next batch will have (batches start at 1).
    pub fn next_seq(&self) -> u64 {
        self.seq + 1
    }

    /// Continues numbering after `seq` (a node restarting with a spool).
    pub fn resume_after(&mut self, seq: u64) {
        self.seq = self.seq.max(seq);
    }

    /// True when nothing was observed since the last batch.
    pub fn is_empty(&self) -> bool {
        self.requests == 0
    }

    /// Appends a segment or member name as reported: itself once k
    /// distinct clients sent it, else its placeholder. True when it is
    /// data (a placeholder other than `{word}`).
    fn word_into(&mut self, s: &[u8], client: u64, out: &mut Vec<u8>) -> bool {
        match segment_kind(s) {
            SegmentKind::Data(f) => {
                out.extend_from_slice(f.placeholder().as_bytes());
                true
            }
            SegmentKind::Word => {
                let k = self.cfg.k_anonymity.max(1);
                let full = self.words.len() >= self.cfg.max_words;
                let admitted = match self.words.get_mut(s) {
                    Some(Word::Admitted) => true,
                    Some(Word::Pending(seen)) => {
                        if !seen.contains(&client) {
                            seen.push(client);
                        }
                        if seen.len() >= k {
                            self.words.insert(s.to_vec(), Word::Admitted);
                            true
                        } else {
                            false
                        }
                    }
                    None if full => false,
                    None if k == 1 => {
                        self.words.insert(s.to_vec(), Word::Admitted);
                        true
                    }
                    None => {
                        self.words.insert(s.to_vec(), Word::Pending(vec![client]));
                        false
                    }
                };
                // Route words are ASCII (segment_kind checked).
                out.extend_from_slice(if admitted { s } else { b"{word}" });
                false
            }
        }
    }

    /// The path shape of the request (`/api/users/{int}`), and the object
    /// ids in it (hashed).
    fn path_shape(&mut self, tree: &Tree, client: u64, objects: &mut Vec<u64>) -> String {
        let mut out = Vec::new();
        if let Some(p) = tree.source(Source::Path) {
            for id in tree.children(p) {
                let v = tree.value(id);
                out.push(b'/');
                if self.word_into(v, client, &mut out) {
                    objects.push(self.keyer.hash(b"object", v));
                }
            }
        }
        if out.is_empty() {
            out.push(b'/');
        }
        String::from_utf8_lossy(&out).into_owned()
    }

    /// Appends one segment of a point's shaped path: a name shaped (`.name`,
    /// `.{word}`, `["user-agent"]`), `[*]` for a position, `:layer`.
    fn segment_into(
        &mut self,
        tree: &Tree,
        seg: Seg,
        header: bool,
        client: u64,
        out: &mut Vec<u8>,
    ) {
        match seg {
            Seg::Root => {}
            Seg::Source(s) => out.extend_from_slice(s.as_str().as_bytes()),
            Seg::Key { .. } => {
                let key = tree.key(seg).unwrap_or_default();
                let start = out.len();
                out.push(b'.');
                if header && standard_header(key) {
                    out.extend_from_slice(key);
                } else {
                    self.word_into(key, client, out);
                }
                let w = &out[start + 1..];
                let ident = w.first() == Some(&b'{')
                    || (w.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'_')
                        && w.first().is_some_and(|b| !b.is_ascii_digit()));
                if !ident {
                    let mut quoted = Vec::with_capacity(w.len() + 4);
                    quoted.extend_from_slice(b"[\"");
                    for &b in w {
                        if b == b'"' || b == b'\\' {
                            quoted.push(b'\\');
                        }
                        quoted.push(b);
                    }
                    quoted.extend_from_slice(b"\"]");
                    out.truncate(start);
                    out.extend_from_slice(&quoted);
                }
            }
            Seg::Index(_) => out.extend_from_slice(b"[*]"),
            Seg::Layer(l) => {
                out.push(b':');
                out.extend_from_slice(l.as_bytes());
            }
        }
    }

    /// A point's shaped path, as a new string (for attack events).
    fn point_shape(&mut self, tree: &Tree, id: NodeId, client: u64) -> String {
        let mut chain = std::mem::take(&mut self.chain);
        chain.clear();
        let mut cur = Some(id);
        while let Some(c) = cur {
            chain.push(c);
            cur = tree.node(c).parent();
        }
        let header = tree.source_of(id) == Some(Source::Header);
        let mut out = Vec::new();
        for &c in chain.iter().rev() {
            self.segment_into(tree, tree.node(c).seg, header, client, &mut out);
        }
        self.chain = chain;
        String::from_utf8_lossy(&out).into_owned()
    }

    /// Folds one request into the window.
    pub fn observe(&mut self, o: &Observation<'_>) {
        if self.requests == 0 {
            self.window_start = o.now;
        }
        self.requests += 1;
        match o.verdict.action {
            Action::Block => self.blocked += 1,
            Action::Monitor => self.monitored += 1,
            Action::Allow => {}
        }
        let tree = o.tree;
        let client = match o.client_ip {
            Some(IpAddr::V4(a)) => self.keyer.hash(b"client-ip", &a.octets()),
            Some(IpAddr::V6(a)) => self.keyer.hash(b"client-ip", &a.octets()),
            None => self.keyer.hash(b"client-ip", b""),
        };
        let method = tree
            .source(Source::Method)
            .map(|m| String::from_utf8_lossy(tree.value(m)).to_ascii_uppercase())
            .unwrap_or_default();
        let method = if method.len() <= 16 && method.bytes().all(|b| b.is_ascii_alphabetic()) {
            method
        } else {
            "{other}".to_string()
        };
        let mut objects = Vec::new();
        let path = self.path_shape(tree, client, &mut objects);
        let key = format!("{method} {path}");
        let endpoint = self.endpoint(o, &key, &method, &path, client);
        self.client(o, endpoint, client, "ip", &objects);
        if let Some(s) = o.session {
            let h = self.keyer.hash(b"client-session", s);
            self.client(o, endpoint, h, "session", &objects);
        }
        if o.verdict.action != Action::Allow {
            self.attack(o, &method, &path, client);
        }
    }

    fn endpoint(
        &mut self,
        o: &Observation<'_>,
        key: &str,
        method: &str,
        path: &str,
        client: u64,
    ) -> Option<u32> {
        if !self.endpoints.contains_key(key) && self.endpoints.len() >= self.cfg.max_endpoints {
            self.endpoints_dropped += 1;
            return None;
        }
        let tree = o.tree;
        let mut shapes = std::mem::take(&mut self.shapes);
        let mut spans = std::mem::take(&mut self.spans);
        let mut ranges = std::mem::take(&mut self.ranges);
        shapes.clear();
        spans.clear();
        ranges.clear();
        ranges.resize(tree.len(), (0, 0));
        // Parents come before their children: each node's shaped path is
        // its parent's and one segment, each name shaped once.
        for id in tree.ids().skip(1) {
            let node = tree.node(id);
            let start = shapes.len();
            match node.seg {
                Seg::Source(Source::Query | Source::Body | Source::Cookie | Source::Header) => {
                    self.segment_into(tree, node.seg, false, client, &mut shapes);
                }
                seg => {
                    let Some(parent) = node.parent() else {
                        continue;
                    };
                    let (ps, pe) = ranges[parent.index()];
                    if ps == pe {
                        continue;
                    }
                    shapes.extend_from_within(ps..pe);
                    let header = tree.source_of(id) == Some(Source::Header);
                    self.segment_into(tree, seg, header, client, &mut shapes);
                }
            }
            ranges[id.index()] = (start, shapes.len());
            if node.kind == rampart_types::NodeKind::Leaf {
                spans.push((start, shapes.len(), id));
            }
        }
        let content_type = tree
            .source(Source::Header)
            .and_then(|h| tree.child_by_key(h, b"content-type"))
            .map(|c| {
                let v = tree.value(c);
                let end = v.iter().position(|&b| b == b';').unwrap_or(v.len());
                String::from_utf8_lossy(v[..end].trim_ascii()).to_ascii_lowercase()
            })
            .filter(|ct| {
                ct.len() <= 80
                    && ct
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"/+.-".contains(&b))
            });
        let keyer = self.keyer.clone();
        let max_points = self.cfg.max_points;
        let next = self.endpoint_keys.len() as u32;
        let ep = self
            .endpoints
            .entry(key.to_string())
            .or_insert_with(|| Endpoint {
                index: next,
                ..Endpoint::default()
            });
        if ep.index == next {
            self.endpoint_keys.push(key.to_string());
        }
        let index = ep.index;
        let s = &mut ep.stats;
        if s.requests == 0 {
            s.method = method.to_string();
            s.path = path.to_string();
        }
        s.requests += 1;
        if o.verdict.action == Action::Block {
            s.blocked += 1;
        }
        *s.statuses.entry(o.status).or_default() += 1;
        s.latency_us.add(o.latency_us);
        if let Some(ct) = content_type {
            *s.content_types.entry(ct).or_default() += 1;
        }
        for &(start, end, id) in &spans {
            let shaped = &shapes[start..end];
            let idx = match ep.points.get(shaped) {
                Some(&i) => i,
                None if ep.points.len() >= max_points => {
                    ep.stats.points_dropped += 1;
                    continue;
                }
                None => {
                    ep.stats.points.push(PointStats {
                        point: String::from_utf8_lossy(shaped).into_owned(),
                        chars: vec![0; CHAR_CLASSES.len()],
                        ..PointStats::default()
                    });
                    let i = ep.stats.points.len() - 1;
                    ep.points.insert(shaped.into(), i);
                    i
                }
            };
            let p = &mut ep.stats.points[idx];
            let v = tree.value(id);
            p.count += 1;
            p.length.add(v.len() as u64);
            for &b in v {
                p.chars[char_class(b)] += 1;
            }
            *p.formats.entry(format_of(v)).or_default() += 1;
            p.distinct.add_hash(keyer.hash(shaped, v));
        }
        self.shapes = shapes;
        self.spans = spans;
        self.ranges = ranges;
        Some(index)
    }

    fn client(
        &mut self,
        o: &Observation<'_>,
        endpoint: Option<u32>,
        id: u64,
        kind: &'static str,
        objects: &[u64],
    ) {
        if !self.clients.contains_key(&(id, kind)) && self.clients.len() >= self.cfg.max_clients {
            self.clients_dropped += 1;
            return;
        }
        let c = self.clients.entry((id, kind)).or_default();
        let s = &mut c.stats;
        if s.requests == 0 {
            c.kind = kind;
            s.first = o.now;
        }
        s.last = o.now;
        s.requests += 1;
        // Errors and authentication failures are the application's
        // answers; a request the node refused is counted as blocked only
        // (its status is the node's).
        if o.verdict.action == Action::Block {
            s.blocked += 1;
        } else {
            if o.status >= 400 {
                s.errors += 1;
            }
            if o.status == 401 || o.status == 403 {
                s.auth_failures += 1;
            }
        }
        for &h in objects {
            s.objects.add_hash(h);
        }
        let Some(e) = endpoint else {
            return;
        };
        bump(&mut c.endpoints, e, 32);
        if let Some(prev) = c.last_endpoint {
            bump(&mut c.transitions, (prev, e), 32);
        }
        c.last_endpoint = Some(e);
    }

    fn attack(&mut self, o: &Observation<'_>, method: &str, path: &str, client: u64) {
        if self.attacks.len() >= self.cfg.max_attacks {
            self.attacks_dropped += 1;
            return;
        }
        let tree = o.tree;
        let mut top: Vec<&Finding> = o.findings.iter().filter(|f| f.class.is_attack()).collect();
        top.sort_by_key(|f| std::cmp::Reverse(f.score));
        top.truncate(8);
        let findings = top
            .into_iter()
            .map(|f| {
                let masked = o.masked.iter().any(|&m| is_at_or_below(tree, f.point, m));
                let bytes = if f.on_name {
                    tree.key(tree.node(f.point).seg).unwrap_or_default()
                } else {
                    tree.value(f.point)
                };
                let (s, e) = (
                    (f.span.start as usize).min(bytes.len()),
                    (f.span.end as usize).min(bytes.len()),
                );
                let span = &bytes[s..e.max(s)];
                let payload = if masked {
                    MASK.to_string()
                } else {
                    let cut = &span[..span.len().min(MAX_PAYLOAD)];
                    String::from_utf8_lossy(cut).into_owned()
                };
                FindingEvent {
                    class: f.class.as_str().to_string(),
                    rule: f.rule.to_string(),
                    score: f.score,
                    point: self.point_shape(tree, f.point, client),
                    in_: if f.on_name { "name" } else { "value" }.to_string(),
                    payload,
                }
            })
            .collect();
        let v = o.verdict;
        self.attacks.push(AttackEvent {
            time: o.now,
            request_id: o.request_id.chars().take(64).collect(),
            method: method.to_string(),
            endpoint: path.to_string(),
            action: v.action.as_str().to_string(),
            status: o.status,
            class: v.class.map(|c| c.as_str().to_string()),
            rule: v.rule.clone(),
            score: v.score,
            findings,
            tags: o.tags.to_vec(),
            client: hex16(client),
        });
    }

    /// Takes the window's aggregates out as the next batch and starts a new
    /// window (the k-anonymity counts carry over).
    pub fn take(&mut self, now: u64) -> Batch {
        self.seq += 1;
        let mut endpoints: Vec<EndpointStats> =
            self.endpoints.drain().map(|(_, e)| e.stats).collect();
        endpoints.sort_by(|a, b| (&a.path, &a.method).cmp(&(&b.path, &b.method)));
        let keys = std::mem::take(&mut self.endpoint_keys);
        let name = |i: u32| keys.get(i as usize).cloned().unwrap_or_default();
        let mut clients: Vec<ClientStats> = self
            .clients
            .drain()
            .map(|((id, _), c)| {
                let mut s = c.stats;
                s.client = hex16(id);
                s.kind = c.kind.to_string();
                s.endpoints = c.endpoints.iter().map(|&(e, n)| (name(e), n)).collect();
                s.transitions = c
                    .transitions
                    .iter()
                    .map(|&((a, b), n)| (format!("{} -> {}", name(a), name(b)), n))
                    .collect();
                s
            })
            .collect();
        clients.sort_by(|a, b| b.requests.cmp(&a.requests).then(a.client.cmp(&b.client)));
        let b = Batch {
            version: BATCH_VERSION,
            seq: self.seq,
            window_start: if self.requests == 0 {
                now
            } else {
                self.window_start
            },
            window_end: now,
            requests: self.requests,
            blocked: self.blocked,
            monitored: self.monitored,
            endpoints,
            endpoints_dropped: self.endpoints_dropped,
            clients,
            clients_dropped: self.clients_dropped,
            attacks: std::mem::take(&mut self.attacks),
            attacks_dropped: self.attacks_dropped,
        };
        self.requests = 0;
        self.blocked = 0;
        self.monitored = 0;
        self.endpoints_dropped = 0;
        self.clients_dropped = 0;
        self.attacks_dropped = 0;
        b
    }
}
