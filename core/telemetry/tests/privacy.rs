//! Benign traffic carrying canary values goes through the engine and the
//! aggregator: no canary appears in the batch a node would upload, while
//! what the learners need (endpoints, points, formats, counts) does.

#![allow(clippy::unwrap_used, clippy::panic)]

use rampart_core::{Engine, EngineConfig, Request};
use rampart_telemetry::{Aggregator, Batch, Config, Format, Observation};
use rampart_types::Header;

/// Personal data and secrets, and the distinctive parts of each that must
/// not leak in any form (lower-cased, split, percent- or plus-encoded).
const CANARIES: &[&str] = &[
    "zebulon",
    "quackenbush",
    "canary.person",
    "4111111111111111",
    "4111 1111",
    "hunter2",
    "sk_live_canary",
    "5550109999",
    "555 010 9999",
    "rue des canaris",
    "eyjhbgcioijiuzi1nij9",
];

fn engine() -> Engine {
    let reg = rampart_builtin_plugins::registry().unwrap();
    Engine::new(&reg, EngineConfig::default()).unwrap()
}

fn request(method: &str, target: &str, headers: &[(&str, &str)], body: &str) -> Request {
    let mut r = Request::new(method, target);
    for (n, v) in headers {
        r.headers.push(Header {
            name: n.as_bytes().to_vec(),
            value: v.as_bytes().to_vec(),
        });
    }
    if !body.is_empty() {
        r.body = body.as_bytes().to_vec();
        r.headers.push(Header {
            name: b"Content-Length".to_vec(),
            value: body.len().to_string().into_bytes(),
        });
    }
    r
}

/// The requests of one client: a sign-up, a login, a profile page, an
/// order with a card, a search, each carrying canaries in a different
/// request point.
fn traffic(client: u8) -> Vec<Request> {
    let host = ("Host", "shop.example");
    vec![
        request(
            "POST",
            "/api/signup",
            &[host, ("Content-Type", "application/json")],
            r#"{"user":{"name":"Zebulon Quackenbush","email":"canary.person@example.org","password":"Hunter2-Canary!","phone":"+1 555 010 9999","address":"12 rue des Canaris"}}"#,
        ),
        request(
            "POST",
            "/login",
            &[host, ("Content-Type", "application/x-www-form-urlencoded")],
            "email=canary.person%40example.org&password=Hunter2-Canary%21",
        ),
        request(
            "GET",
            "/users/zebulon-quackenbush/profile?ref=canary.person%40example.org",
            &[
                host,
                ("Authorization", "Bearer sk_live_CANARY1234567890abcdef"),
                (
                    "Cookie",
                    "session=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ6ZWJ1bG9uIn0.c2ln; theme=dark",
                ),
            ],
            "",
        ),
        request(
            "POST",
            "/api/orders/4111111111111111",
            &[host, ("Content-Type", "application/json")],
            r#"{"card":{"number":"4111 1111 1111 1111","holder":"ZEBULON QUACKENBUSH"},"items":[{"sku":"A1","qty":2},{"sku":"B2","qty":1}]}"#,
        ),
        request(
            "GET",
            &format!("/search?q=red+shoes&page={client}&user=Zebulon"),
            &[
                host,
                (
                    "User-Agent",
                    "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0",
                ),
            ],
            "",
        ),
    ]
}

fn batch() -> Batch {
    let engine = engine();
    let mut agg = Aggregator::new(Config {
        salt: b"node secret".to_vec(),
        ..Config::default()
    });
    // Two clients: fewer than the k = 3 it takes for a word to be reported.
    for client in 1..=2u8 {
        for (i, req) in traffic(client).into_iter().enumerate() {
            let mut req = req;
            req.client_ip = Some(std::net::IpAddr::from([203, 0, 113, client]));
            let ins = engine.inspect(&req);
            let session = rampart_core::rules::session_of(&ins.tree);
            agg.observe(&Observation {
                tree: &ins.tree,
                findings: &ins.findings,
                verdict: &ins.verdict,
                masked: &ins.rules.masked,
                tags: &ins.rules.tags,
                status: if i == 1 { 401 } else { 200 },
                latency_us: 900,
                client_ip: req.client_ip,
                session,
                request_id: "req-1",
                now: 1_764_331_200,
            });
        }
    }
    agg.take(1_764_331_260)
}

#[test]
fn no_canary_leaves_the_node() {
    let b = batch();
    assert_eq!(b.requests, 10);
    assert_eq!(b.blocked, 0, "benign traffic: {:?}", b.attacks);
    let json = serde_json::to_string(&b).unwrap();
    let folded = json.to_ascii_lowercase();
    for c in CANARIES {
        for form in [
            c.to_string(),
            c.replace(' ', "+"),
            c.replace(' ', "%20"),
            c.replace('.', "%2e"),
        ] {
            assert!(!folded.contains(&form), "{form:?} leaked:\n{json}");
        }
    }
}

#[test]
fn the_learners_get_endpoints_points_and_formats() {
    let b = batch();
    let ep = |path: &str| {
        b.endpoints
            .iter()
            .find(|e| e.path == path)
            .unwrap_or_else(|| panic!("no endpoint {path}: {:#?}", b.endpoints))
    };
    // Route words sent by two clients stay placeholders (k = 3); ids and
    // data are shaped.
    let order = ep("/{word}/{word}/{card}");
    assert_eq!(order.method, "POST");
    assert_eq!(order.requests, 2);
    let signup = ep("/{word}/{word}");
    assert!(signup.content_types.contains_key("application/json"));
    let point = |e: &rampart_telemetry::EndpointStats, p: &str| {
        e.points
            .iter()
            .find(|x| x.point == p)
            .unwrap_or_else(|| panic!("no point {p}: {:#?}", e.points))
            .clone()
    };
    // Member names are shaped like segments: below k they are `{word}`.
    let card = point(order, "body:json.{word}.{word}");
    assert!(card.formats.contains_key(&Format::Card), "{card:?}");
    // `sku` and `qty` share the shape while fewer than k clients sent them.
    let items = point(order, "body:json.{word}[*].{word}");
    assert_eq!(items.count, 8);
    assert_eq!(items.formats.get(&Format::Int), Some(&4));
    // Standard header names are reported as they are.
    point(signup, "header[\"content-type\"]");
    // Clients are keyed hashes, with their failures.
    assert_eq!(b.clients.iter().filter(|c| c.kind == "ip").count(), 2);
    assert!(b.clients.iter().all(|c| c.client.len() == 16));
    assert!(b.clients.iter().any(|c| c.auth_failures == 1));
}

#[test]
fn words_are_reported_once_k_clients_sent_them() {
    let engine = engine();
    let mut agg = Aggregator::new(Config::default());
    for client in 1..=3u8 {
        let mut req = request("GET", "/catalog/shoes/17?page=2", &[("Host", "x")], "");
        req.client_ip = Some(std::net::IpAddr::from([198, 51, 100, client]));
        let ins = engine.inspect(&req);
        agg.observe(&Observation {
            tree: &ins.tree,
            findings: &ins.findings,
            verdict: &ins.verdict,
            masked: &[],
            tags: &[],
            status: 200,
            latency_us: 10,
            client_ip: req.client_ip,
            session: None,
            request_id: "r",
            now: 1,
        });
    }
    let b = agg.take(2);
    let paths: Vec<&str> = b.endpoints.iter().map(|e| e.path.as_str()).collect();
    assert!(paths.contains(&"/{word}/{word}/{int}"), "{paths:?}");
    assert!(paths.contains(&"/catalog/shoes/{int}"), "{paths:?}");
    let client = b.clients.iter().find(|c| c.kind == "ip").unwrap();
    assert!(client.objects.estimate() > 0.5);
    // The next window starts with the words known.
    assert_eq!(b.seq, 1);
    assert!(agg.is_empty());
    assert_eq!(agg.take(3).seq, 2);
}

#[test]
fn attack_payloads_are_cut_to_the_span_and_masked_points_left_out() {
    let engine = engine();
    let mut agg = Aggregator::new(Config::default());
    let mut req = request(
        "GET",
        "/search?q=zebulon%27%20UNION%20SELECT%20password%20FROM%20users--&email=canary.person%40example.org",
        &[("Host", "x")],
        "",
    );
    req.client_ip = Some(std::net::IpAddr::from([192, 0, 2, 1]));
    let ins = engine.inspect(&req);
    agg.observe(&Observation {
        tree: &ins.tree,
        findings: &ins.findings,
        verdict: &ins.verdict,
        masked: &[],
        tags: &[],
        status: 403,
        latency_us: 10,
        client_ip: req.client_ip,
        session: None,
        request_id: "r-9",
        now: 1,
    });
    let b = agg.take(2);
    assert_eq!(b.attacks.len(), 1);
    let a = &b.attacks[0];
    assert_eq!(a.action, "block");
    assert_eq!(a.class.as_deref(), Some("sqli"));
    assert!(a
        .findings
        .iter()
        .any(|f| f.payload.contains("UNION SELECT password FROM users")));
    let json = serde_json::to_string(&b).unwrap();
    // The span starts after the name in front of the quote, and the other
    // parameter is not in the event.
    assert!(!json.contains("canary.person"), "{json}");
    assert!(!json.contains("zebulon"), "{json}");
}
