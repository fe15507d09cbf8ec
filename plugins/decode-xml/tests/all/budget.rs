//! Hostile inputs against the budgets: megabyte values, floods, the byte
//! cap, truncation at every byte, and random mutations.

use rampart_plugin_api::{DecodeError, LimitKind, Limits};

use crate::hostile::{both, decode, limits, rules, SOAP};

#[test]
fn megabyte_values() {
    const MB: usize = 1 << 20;
    let x = "x".repeat(MB);
    let cases: Vec<(String, usize)> = vec![
        (format!("<a>{x}</a>"), MB),
        (format!("<a v=\"{x}\"/>"), MB),
        (format!("<a><!--{x}--></a>"), MB),
        (format!("<a><![CDATA[{x}]]></a>"), MB),
        (format!("<a><?pi {x}?></a>"), MB),
        (format!("<a>{}</a>", "&amp;".repeat(MB / 5)), MB / 5),
        (format!("<!DOCTYPE a [<!ENTITY e \"{x}\">]><a/>"), MB),
    ];
    for (doc, longest) in &cases {
        let (d, s) = both(doc.as_bytes());
        for o in [&d, &s] {
            assert_eq!(o.result, Ok(()), "{}", &doc[..20]);
            let max = o.points().iter().map(|(_, v)| v.len()).max().unwrap();
            assert!(max >= *longest, "{}", &doc[..20]);
        }
    }
    // Unknown references everywhere: one finding per value, not per reference.
    let doc = format!("<a x=\"{r}\">{r}</a>", r = "&e;".repeat(MB / 3));
    let o = decode(doc.as_bytes(), true, limits());
    assert_eq!(o.result, Ok(()));
    assert_eq!(rules(&o), ["xml.entity-reference", "xml.entity-reference"]);
    // A megabyte of one line with no markup, of NULs, of '<', of '&'.
    for b in [b'x', 0, b'<', b'&', b']', b'-'] {
        let doc = vec![b; MB];
        let (d, s) = both(&doc);
        assert!(d.result.is_err() || !d.state.findings.is_empty());
        assert!(
            d.state.findings.len() <= 32,
            "{b}: {}",
            d.state.findings.len()
        );
        assert_eq!(s.result, Err(DecodeError::NotThisFormat));
    }
}

#[test]
fn floods_run_into_the_node_budget() {
    let floods = [
        "<a/>".repeat(100_000),
        format!("<r>{}</r>", "<a/>".repeat(100_000)),
        format!("<r>{}</r>", "<!---->".repeat(100_000)),
        format!("<r {}/>", "a=\"\" ".repeat(100_000)),
        format!("<r>{}</r>", "x<b/>".repeat(100_000)),
    ];
    for doc in &floods {
        let o = decode(doc.as_bytes(), true, limits());
        assert_eq!(
            o.result,
            Err(DecodeError::Exhausted(LimitKind::Nodes)),
            "{}",
            &doc[..12]
        );
        assert_eq!(o.state.exhausted, Some(LimitKind::Nodes));
    }
}

#[test]
fn byte_budget_is_respected() {
    let limits = Limits {
        max_bytes: 1000,
        ..limits()
    };
    for doc in [
        format!("<a>{}</a>", "x".repeat(5000)),
        format!("<a v=\"{}\"/>", "x".repeat(5000)),
        format!("<a>{}</a>", "<b>12345</b>".repeat(500)),
        format!("<!DOCTYPE a [<!ENTITY e \"{}\">]><a/>", "x".repeat(5000)),
    ] {
        let o = decode(doc.as_bytes(), true, limits);
        assert_eq!(
            o.result,
            Err(DecodeError::Exhausted(LimitKind::Bytes)),
            "{}",
            &doc[..12]
        );
        assert_eq!(o.state.exhausted, Some(LimitKind::Bytes));
        // The input itself sits in the tree before the budget starts.
        assert!(o.tree.bytes_len() <= 1000 + doc.len());
    }
}

#[test]
fn soap_truncated_at_every_byte() {
    let full = SOAP.as_bytes();
    let whole = decode(full, true, limits());
    assert_eq!(whole.result, Ok(()));
    let leaves = whole.points().len();
    assert_eq!(leaves, 15, "{:?}", whole.points());
    for cut in 0..full.len() {
        let part = &full[..cut];
        let (d, s) = both(part);
        let complete = part.ends_with(b"</soap:Envelope>") || part.ends_with(b"</soap:Envelope>\n");
        match &d.result {
            Ok(()) => assert!(complete, "cut {cut}: {:?}", String::from_utf8_lossy(part)),
            Err(DecodeError::Malformed { rule, .. }) => assert_eq!(*rule, "xml.malformed"),
            Err(e) => panic!("cut {cut}: {e}"),
        }
        assert!(d.points().len() <= leaves + 1, "cut {cut}");
        match &s.result {
            Ok(()) => assert!(complete, "cut {cut}"),
            Err(e) => assert_eq!(*e, DecodeError::NotThisFormat, "cut {cut}"),
        }
    }
}

#[test]
fn invalid_utf8_and_binary_are_bounded() {
    let mut seed: u32 = 0x2545_F491;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        seed
    };
    const ALPHABET: &[u8] = b"<>&;\"'/!?[]-=#x \0\xff";
    let base = SOAP.as_bytes();
    for round in 0..3000 {
        let mut doc = base.to_vec();
        for _ in 0..(1 + round % 8) {
            if doc.is_empty() {
                break;
            }
            let i = next() as usize % doc.len();
            match next() % 4 {
                0 => doc[i] = next() as u8,
                1 => doc.truncate(i.max(1)),
                2 => doc.insert(i, ALPHABET[next() as usize % ALPHABET.len()]),
                _ => {
                    doc.remove(i);
                }
            }
        }
        let small = Limits {
            max_nodes: 50,
            max_nesting: 8,
            max_bytes: 4096,
            ..limits()
        };
        decode(&doc, true, small);
        decode(&doc, false, small);
        decode(&doc, true, limits());
    }
}

/// Speed of a typical 2 KB SOAP body (run with `--ignored --nocapture`; the
/// numbers are only meaningful in an optimised build).
#[test]
#[ignore]
fn speed_of_a_2kb_soap_body() {
    let item = "<m:Item sku=\"A-1&amp;2\"><m:Name>Blue shoe</m:Name><m:Qty>2</m:Qty></m:Item>\n";
    let doc = SOAP.replace("<empty/>", &item.repeat(24));
    assert!((2000..3000).contains(&doc.len()), "{}", doc.len());
    let n = 2000;
    let start = std::time::Instant::now();
    for _ in 0..n {
        let o = rampart_plugin_api::testing::run(
            &rampart_decode_xml::XmlDecoder,
            doc.as_bytes(),
            None,
            true,
            limits(),
        );
        assert_eq!(o.result, Ok(()));
    }
    println!(
        "{} bytes: {:?} per decode (incl. tree setup)",
        doc.len(),
        start.elapsed() / n
    );
}
