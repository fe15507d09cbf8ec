//! Hostile inputs: every outcome must be bounded (an error or findings, no
//! panic, the tree within the limits) and fast. Shared helpers, then the
//! registry, the sniff, entity attacks and nesting.

use std::time::Duration;

use rampart_decode_xml::XmlDecoder;
use rampart_plugin_api::testing::{run, Outcome};
use rampart_plugin_api::types::Class;
use rampart_plugin_api::{DecodeError, Decoder, LimitKind, Limits, Registry};

pub(crate) const SOAP: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE soap:Envelope [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">
  <soap:Header><t:Token xmlns:t="urn:t" ttl='60'>abc&amp;def</t:Token></soap:Header>
  <soap:Body>
    <!-- order -->
    <m:Order id="42"><?audit on?>{"q":"1' OR '1'='1","x":"&xxe;"}<![CDATA[<b>]]></m:Order>
    <p>mixed <i>text</i> here</p>
    <empty/>
  </soap:Body>
</soap:Envelope>
"#;

/// Decodes and checks what must hold for any input.
pub(crate) fn decode(input: &[u8], declared: bool, limits: Limits) -> Outcome {
    let o = run(
        &XmlDecoder,
        input,
        Some(b"application/xml"),
        declared,
        limits,
    );
    assert!(
        o.tree.len() <= limits.max_nodes as usize,
        "node limit overrun"
    );
    assert!(
        o.tree.bytes_len() <= limits.byte_cap(input.len()) + input.len(),
        "byte cap overrun"
    );
    assert!(o.state.findings.len() <= 1024);
    if o.result == Err(DecodeError::NotThisFormat) {
        assert!(
            o.state.findings.is_empty(),
            "speculative failure left findings"
        );
    }
    o
}

/// Default limits but for time: tests run unoptimised on a shared machine,
/// and [`decode`] bounds the wall time itself.
pub(crate) fn limits() -> Limits {
    Limits {
        max_time: Duration::from_secs(10),
        ..Limits::default()
    }
}

pub(crate) fn both(input: &[u8]) -> (Outcome, Outcome) {
    (
        decode(input, true, limits()),
        decode(input, false, limits()),
    )
}

pub(crate) fn rules(o: &Outcome) -> Vec<&str> {
    o.state.findings.iter().map(|f| &*f.rule).collect()
}

#[test]
fn registers_one_builtin_decoder() {
    let mut reg = Registry::new();
    rampart_decode_xml::register(&mut reg).unwrap();
    assert_eq!(reg.decoders().len(), 1);
    let e = &reg.decoders()[0];
    assert_eq!(e.info.name, "xml");
    assert_eq!(e.info.name, XmlDecoder.layer());
    assert_eq!(e.origin, rampart_plugin_api::Origin::Builtin);
    for mt in [
        "application/xml",
        "text/xml",
        "+xml",
        "application/soap+xml",
    ] {
        assert!(XmlDecoder.media_types().contains(&mt));
    }
    assert!(rampart_decode_xml::register(&mut reg).is_err());
}

#[test]
fn sniff_accepts_xml_and_rejects_prose() {
    let yes: &[&[u8]] = &[
        b"<a/>",
        b"<?xml version=\"1.0\"?><a/>",
        b"\xEF\xBB\xBF <a>1</a>\n",
        b"<!DOCTYPE a><a/>",
        b"<!-- c --><a/>",
        b"<soap:Envelope/>",
        b"<_x>1</_x>",
    ];
    let no: &[&[u8]] = &[
        b"",
        b"<",
        b"<>",
        b"hello",
        b"hello <b>x</b>",
        b"<b>unterminated",
        b"<3 you>",
        b"< a>",
        b"{\"a\":\"<b>\"}",
        b"a > b",
        b"\xFF\xFE<\0a\0/\0>\0",
    ];
    for v in yes {
        assert!(XmlDecoder.sniff(v), "{:?}", String::from_utf8_lossy(v));
    }
    for v in no {
        assert!(!XmlDecoder.sniff(v), "{:?}", String::from_utf8_lossy(v));
    }
    let mut padded = vec![b' '; 1 << 20];
    padded.extend_from_slice(b"<a/>");
    assert!(!XmlDecoder.sniff(&padded));
}

#[test]
fn billion_laughs_is_just_declarations() {
    let mut doc =
        String::from("<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n <!ENTITY lol \"lol\">\n");
    for i in 1..=9 {
        let prev = if i == 1 {
            "lol".to_string()
        } else {
            format!("lol{}", i - 1)
        };
        doc.push_str(&format!(
            " <!ENTITY lol{i} \"{}\">\n",
            format!("&{prev};").repeat(10)
        ));
    }
    doc.push_str("]>\n<lolz>&lol9;</lolz>\n");
    let (d, s) = both(doc.as_bytes());
    for o in [&d, &s] {
        assert_eq!(o.result, Ok(()));
        let pts = o.points();
        assert_eq!(pts.len(), 1 + 1 + 10 + 1, "{pts:?}");
        assert!(pts.contains(&("body:xml.lolz".into(), "&lol9;".into())));
        assert!(pts.contains(&("body:xml[\"!entity\"].lol9".into(), "&lol8;".repeat(10))));
        let r = rules(o);
        assert_eq!(
            r.iter().filter(|&&x| x == "xml.entity-declaration").count(),
            10
        );
        assert!(r.contains(&"xml.doctype") && r.contains(&"xml.entity-reference"));
        assert!(o.tree.bytes_len() < 4 * doc.len());
    }
    // A wide variant: thousands of declarations run into the node budget.
    let mut doc = String::from("<!DOCTYPE x [");
    for i in 0..50_000 {
        doc.push_str(&format!("<!ENTITY e{i} \"&e{};&e{};\">", i + 1, i + 1));
    }
    doc.push_str("]><x>&e0;</x>");
    let o = decode(doc.as_bytes(), true, limits());
    assert_eq!(o.result, Err(DecodeError::Exhausted(LimitKind::Nodes)));
}

#[test]
fn xxe_is_surfaced_flagged_and_never_fetched() {
    let doc = b"<?xml version=\"1.0\"?><!DOCTYPE foo [<!ELEMENT foo ANY><!ENTITY xxe SYSTEM \"file:///etc/passwd\">]><foo>&xxe;</foo>";
    let o = decode(doc, true, limits());
    assert_eq!(o.result, Ok(()));
    let pts = o.points();
    assert!(pts.contains(&(
        "body:xml[\"!entity\"].xxe".into(),
        "file:///etc/passwd".into()
    )));
    assert!(pts.contains(&("body:xml.foo".into(), "&xxe;".into())));
    let find = |rule: &str| o.state.findings.iter().find(|f| f.rule == rule).unwrap();
    let ext = find("xml.external-entity");
    assert_eq!(
        (ext.score, ext.class, ext.origin),
        (60, Class::Anomaly, "xml")
    );
    assert_eq!(o.tree.value(ext.point), b"file:///etc/passwd");
    assert_eq!((ext.span.start, ext.span.end), (0, 18));
    assert_eq!(find("xml.entity-declaration").score, 20);
    let dt = find("xml.doctype");
    assert_eq!(dt.score, 10);
    assert!(o.tree.value(dt.point).starts_with(b"<!DOCTYPE foo ["));
    let r = find("xml.entity-reference");
    assert_eq!(r.score, 20);
    let v = o.tree.value(r.point);
    assert_eq!(&v[r.span.start as usize..r.span.end as usize], b"&xxe;");
}

fn nested(depth: usize) -> Vec<u8> {
    let mut doc = b"<a>".repeat(depth);
    doc.extend_from_slice(b"deep");
    doc.extend_from_slice(&b"</a>".repeat(depth));
    doc
}

#[test]
fn deep_nesting_stops_at_max_nesting() {
    let doc = nested(100_000);
    let (d, s) = both(&doc);
    for o in [&d, &s] {
        assert_eq!(o.result, Err(DecodeError::Exhausted(LimitKind::Nesting)));
        // Every element within the limit was kept, as containers.
        assert_eq!(o.tree.len(), 3 + 64);
    }
    // The most the budget allows: an explicit stack, no recursion.
    let big = Limits {
        max_nesting: u16::MAX,
        max_nodes: 1_000_000,
        ..limits()
    };
    let o = decode(&doc, true, big);
    assert_eq!(o.result, Err(DecodeError::Exhausted(LimitKind::Nesting)));
    assert_eq!(o.tree.len(), 3 + usize::from(u16::MAX));
    // Within the limit the whole document decodes.
    let doc = nested(60_000);
    let o = decode(&doc, true, big);
    assert_eq!(o.result, Ok(()));
    assert_eq!(o.points().len(), 1);
    // Deep and unclosed, and deep with stray end tags.
    let o = decode(&b"<a>".repeat(100_000), true, big);
    assert!(matches!(
        o.result,
        Err(DecodeError::Exhausted(LimitKind::Nesting))
    ));
    let mut doc = b"<a>".repeat(64);
    doc.extend_from_slice(&b"</b>".repeat(250_000));
    let o = decode(&doc, true, limits());
    assert!(matches!(o.result, Err(DecodeError::Malformed { .. })));
}
