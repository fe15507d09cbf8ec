//! Malformed and hostile input through the whole engine: every case ends
//! with a finding and a bounded tree, never a crash.

use std::io::Write;

use rampart_core::{Action, Engine, EngineConfig, Inspection, LimitsConfig, Mode, Request};

fn engine_with(limits: LimitsConfig) -> Engine {
    let reg = rampart_builtin_plugins::registry().unwrap();
    // Debug builds on a loaded CI machine are slow: a generous time budget
    // keeps these outcomes about content, not speed.
    let limits = LimitsConfig {
        max_time_ms: 20_000,
        ..limits
    };
    Engine::new(
        &reg,
        EngineConfig {
            mode: Mode::Block,
            limits,
            ..EngineConfig::default()
        },
    )
    .unwrap()
}

fn engine() -> Engine {
    engine_with(LimitsConfig::default())
}

fn post(ct: &str, body: impl Into<Vec<u8>>) -> Request {
    Request::new("POST", "/api")
        .header("Content-Type", ct)
        .body(body)
}

fn rules(ins: &Inspection) -> Vec<String> {
    ins.findings.iter().map(|f| f.rule.to_string()).collect()
}

fn has_rule(ins: &Inspection, rule: &str) -> bool {
    ins.findings.iter().any(|f| f.rule == rule)
}

fn bounded(ins: &Inspection, raw_len: usize) {
    let l = LimitsConfig::default();
    assert!(ins.tree.len() <= l.max_nodes as usize);
    assert!(ins.tree.bytes_len() <= (l.max_bytes as usize).max(raw_len * 3));
}

#[test]
fn truncated_documents_give_anomalies_and_keep_what_decoded() {
    let e = engine();
    let ins = e.inspect(&post(
        "application/json",
        r#"{"user":{"name":"ann","bio":"hel"#,
    ));
    assert!(has_rule(&ins, "json.malformed"), "{:?}", rules(&ins));
    assert!(ins
        .points()
        .iter()
        .any(|(p, v)| p == "body:json.user.name" && v == "ann"));
    assert_eq!(ins.verdict.action, Action::Allow);

    let ins = e.inspect(&post("text/xml", "<order><id>7</id><note>hi"));
    assert!(has_rule(&ins, "xml.malformed"), "{:?}", rules(&ins));
    assert!(ins
        .points()
        .iter()
        .any(|(p, v)| p == "body:xml.order.id" && v == "7"));

    let mp = "--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n--b\r\nContent-Disposition: form-data; name=\"c\"\r\n\r\nyy";
    let ins = e.inspect(&post("multipart/form-data; boundary=b", mp));
    assert!(
        has_rule(&ins, "multipart.no-final-boundary"),
        "{:?}",
        rules(&ins)
    );
    assert!(ins
        .points()
        .iter()
        .any(|(p, v)| p == "body:multipart.a" && v == "x"));

    let ins = e.inspect(&post("application/graphql", "query { user(id: 1) { name "));
    assert!(has_rule(&ins, "graphql.malformed"), "{:?}", rules(&ins));
}

#[test]
fn invalid_utf8_and_overlong_encodings_are_flagged() {
    let e = engine();
    let ins = e.inspect(&Request::new(
        "GET",
        "/f?name=%ff%fe&p=%c0%ae%c0%ae%c0%afetc%2fpasswd&z=a%00b",
    ));
    let r = rules(&ins);
    assert!(r.contains(&"url.invalid-utf8".to_string()), "{r:?}");
    assert!(r.contains(&"url.overlong-utf8".to_string()), "{r:?}");
    assert!(r.contains(&"url.nul-byte".to_string()), "{r:?}");
    assert!(ins
        .points()
        .iter()
        .any(|(p, v)| p == "query.p" && v == "../etc/passwd"));
}

#[test]
fn a_gzip_bomb_stops_at_the_byte_cap_and_blocks() {
    let mut gz = Vec::new();
    let mut enc = flate2::write::GzEncoder::new(&mut gz, flate2::Compression::best());
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..256 {
        enc.write_all(&zeros).unwrap();
    }
    enc.finish().unwrap();
    let req = post("application/json", gz.clone()).header("Content-Encoding", "gzip");
    let ins = engine().inspect(&req);
    assert!(has_rule(&ins, "limit.bytes"), "{:?}", rules(&ins));
    assert_eq!(ins.verdict.action, Action::Block);
    assert_eq!(ins.verdict.rule.as_deref(), Some("limit.bytes"));
    bounded(&ins, gz.len());
}

#[test]
fn xml_entity_bombs_are_surfaced_never_expanded() {
    let mut doc = String::from("<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">");
    for i in 1..10 {
        let prev = if i == 1 {
            "lol".to_string()
        } else {
            format!("lol{}", i - 1)
        };
        doc.push_str(&format!(
            "<!ENTITY lol{i} \"{}\">",
            format!("&{prev};").repeat(10)
        ));
    }
    doc.push_str("]><lolz>&lol9;</lolz>");
    let ins = engine().inspect(&post("application/xml", doc.clone()));
    let r = rules(&ins);
    assert!(r.contains(&"xml.doctype".to_string()), "{r:?}");
    assert!(r.contains(&"xml.entity-declaration".to_string()), "{r:?}");
    assert!(ins
        .points()
        .iter()
        .any(|(p, v)| p == "body:xml.lolz" && v == "&lol9;"));
    assert!(ins.tree.bytes_len() < doc.len() * 4, "nothing expanded");

    let xxe = "<!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><r>&x;</r>";
    let ins = engine().inspect(&post("application/xml", xxe));
    assert!(has_rule(&ins, "xml.external-entity"), "{:?}", rules(&ins));
    assert!(
        ins.points()
            .iter()
            .any(|(p, v)| p == "body:xml[\"!entity\"].x" && v == "file:///etc/passwd"),
        "{:?}",
        ins.points()
    );
}

#[test]
fn json_nested_100000_deep_stops_at_the_nesting_limit() {
    let body = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let ins = engine().inspect(&post("application/json", body.clone()));
    assert!(has_rule(&ins, "limit.nesting"), "{:?}", rules(&ins));
    assert_eq!(ins.verdict.action, Action::Block);
    bounded(&ins, body.len());
    let body = format!("{}1{}", "{\"a\":".repeat(100_000), "}".repeat(100_000));
    let ins = engine().inspect(&post("application/json", body.clone()));
    assert!(has_rule(&ins, "limit.nesting"));
    bounded(&ins, body.len());
}

#[test]
fn one_megabyte_header_lines_and_ten_thousand_headers_are_bounded() {
    let big = "x".repeat(1 << 20);
    let req = Request::new("GET", "/")
        .header("X-Big", &big)
        .header("Cookie", &format!("a={big}"));
    let ins = engine().inspect(&req);
    bounded(&ins, 2 << 20);
    assert!(ins
        .points()
        .iter()
        .any(|(p, v)| p == "cookie.a" && v.len() == 1 << 20));
    let mut req = Request::new("GET", "/");
    for i in 0..10_000 {
        req = req.header(&format!("X-H{i}"), "v");
    }
    let ins = engine().inspect(&req);
    assert!(has_rule(&ins, "limit.nodes"), "{:?}", rules(&ins));
    bounded(&ins, 200_000);
}

#[test]
fn layers_beyond_max_depth_are_not_decoded() {
    // JSON inside base64, ten times over.
    let mut v = "{\"k\":\"core\"}".to_string();
    for _ in 0..10 {
        let b = base64(v.as_bytes());
        v = format!("{{\"k\":\"{b}\"}}");
    }
    let ins = engine().inspect(&post("application/json", v));
    assert!(has_rule(&ins, "limit.depth"), "{:?}", rules(&ins));
    assert!(ins.tree.ids().all(|id| ins.tree.node(id).depth <= 8));
}

#[test]
fn speculative_decodings_that_fail_leave_no_trace() {
    let ins = engine().inspect(&Request::new(
        "GET",
        "/?q=%7B%22a%22%3A1%2C%7D&w=password&x=Hello+World",
    ));
    assert!(ins.findings.is_empty(), "{:?}", rules(&ins));
    let paths: Vec<String> = ins.points().into_iter().map(|(p, _)| p).collect();
    assert!(paths.iter().all(|p| !p.contains(':')), "{paths:?}");
}

#[test]
fn a_body_that_is_not_its_declared_type_is_flagged_then_sniffed() {
    let ins = engine().inspect(&post("application/json", "user=ann&role=admin"));
    assert!(has_rule(&ins, "json.malformed"), "{:?}", rules(&ins));
    assert!(
        ins.points()
            .iter()
            .any(|(p, v)| p == "body:form.role" && v == "admin"),
        "{:?}",
        ins.points()
    );
}

fn base64(b: &[u8]) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::new();
    for c in b.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= c.len() {
                s.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                s.push('=');
            }
        }
    }
    s
}
