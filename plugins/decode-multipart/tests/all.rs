//! Table tests and hostile-input tests of the `multipart` decoder.

use std::time::Duration;

use rampart_decode_multipart::{register, MultipartDecoder};
use rampart_plugin_api::testing::{check_table, run, Outcome};
use rampart_plugin_api::{DecodeError, Decoder, LimitKind, Limits, Registry};

const FD: &[u8] = b"multipart/form-data; boundary=b";

/// Default limits with a time budget that unoptimised test builds on a
/// busy machine cannot exhaust, so that the other limits are what is tested.
fn roomy() -> Limits {
    Limits {
        max_time: Duration::from_secs(10),
        ..Limits::default()
    }
}

fn declared(input: &[u8], limits: Limits) -> Outcome {
    run(&MultipartDecoder, input, Some(FD), true, limits)
}

/// The outcome stays inside the budget, whatever it is.
fn bounded(o: &Outcome, limits: &Limits) {
    assert!(
        o.tree.len() <= limits.max_nodes as usize + 2,
        "{} nodes",
        o.tree.len()
    );
    assert!(
        o.tree.bytes_len() <= o.state.byte_cap,
        "{} bytes",
        o.tree.bytes_len()
    );
}

fn sample() -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(b"preamble\r\n--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n");
    v.extend_from_slice(b"value a\r\n--b\r\nContent-Disposition: form-data; name=\"f\"; ");
    v.extend_from_slice(b"filename=\"x.json\"; filename*=UTF-8''y%2Ejson\r\nContent-Type: ");
    v.extend_from_slice(b"application/json\r\n folded\r\n\r\n{\"k\": [1, 2]}\n--b\r\n\r\n");
    v.extend_from_slice(b"anonymous\r\n--b--\r\nepilogue");
    v
}

#[test]
fn table() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/multipart.json");
    check_table(&MultipartDecoder, path);
}

#[test]
fn registers_under_its_layer_name() {
    let mut reg = Registry::new();
    register(&mut reg).unwrap();
    let names: Vec<_> = reg.decoders().iter().map(|e| e.info.name).collect();
    assert_eq!(names, ["multipart"]);
    assert_eq!(MultipartDecoder.info().name, MultipartDecoder.layer());
    assert!(MultipartDecoder
        .media_types()
        .contains(&"multipart/related"));
}

#[test]
fn sniff_accepts_multipart_and_rejects_prose() {
    let d = MultipartDecoder;
    assert!(d.sniff(b"--abc\r\nContent-Disposition: form-data; name=x\r\n\r\n1\r\n--abc--"));
    assert!(d.sniff(b"--abc\n\nx\n--abc--"));
    for no in [
        &b""[..],
        b"--",
        b"hello world",
        b"-- SQL comment\n-- SQL comment",
        b"--abc\r\nnever again",
        b"-- abc\r\n-- abc--",
        b"--()\r\n--()--",
        b"---\n---",
        b"{\"a\": \"--x\"}",
        b"--x",
    ] {
        assert!(!d.sniff(no), "{:?}", String::from_utf8_lossy(no));
    }
}

#[test]
fn part_content_type_is_a_hint() {
    let body = b"--b\r\nContent-Disposition: form-data; name=j\r\nContent-Type: application/json\r\n\r\n{}\r\n--b\r\nContent-Disposition: form-data; name=t\r\n\r\nx\r\n--b--";
    let o = declared(body, roomy());
    assert_eq!(o.result, Ok(()));
    assert_eq!(o.state.hints.len(), 1);
    let (node, (s, e)) = o.state.hints[0];
    assert_eq!(o.tree.path(node).to_string(), "body:multipart.j");
    assert_eq!(o.tree.value(node), b"{}");
    let mut tree = o.tree.clone();
    assert_eq!(&tree.buf_mut()[s as usize..e as usize], b"application/json");

    // A transfer-encoded body is left to sniffing: no hint.
    let body = b"--b\r\nContent-Disposition: form-data; name=j\r\nContent-Type: application/json\r\nContent-Transfer-Encoding: BASE64\r\n\r\ne30=\r\n--b--";
    let o = declared(body, roomy());
    assert_eq!(o.result, Ok(()));
    assert!(o.state.hints.is_empty());
    assert_eq!(o.findings(), ["multipart.transfer-encoding"]);
}

#[test]
fn hundred_thousand_tiny_parts_stop_at_the_node_budget() {
    let mut body = Vec::new();
    for _ in 0..100_000 {
        body.extend_from_slice(b"--b\r\nContent-Disposition: form-data; name=a\r\n\r\nx\r\n");
    }
    body.extend_from_slice(b"--b--\r\n");
    let limits = roomy();
    let o = declared(&body, limits);
    assert_eq!(o.result, Err(DecodeError::Exhausted(LimitKind::Nodes)));
    bounded(&o, &limits);
    let points = o.points();
    assert!(points.len() > 4000, "kept {} points", points.len());
    assert_eq!(points[0], ("body:multipart.a".to_string(), "x".to_string()));

    // Parts without headers: still one node each.
    let body = b"--b\r\n\r\n".repeat(100_000);
    let o = declared(&body, limits);
    assert_eq!(o.result, Err(DecodeError::Exhausted(LimitKind::Nodes)));
    bounded(&o, &limits);
}

#[test]
fn megabyte_header_line() {
    let mut body = b"--b\r\nContent-Disposition: form-data; name=a\r\nX-Big: ".to_vec();
    body.extend(std::iter::repeat_n(b'v', 1 << 20));
    body.extend_from_slice(b"\r\n\r\n1\r\n--b--\r\n");
    let o = declared(&body, roomy());
    assert_eq!(o.result, Ok(()));
    assert!(o.findings().contains(&"multipart.long-header".to_string()));
    bounded(&o, &roomy());

    // A megabyte Content-Disposition full of parameters.
    let mut body = b"--b\r\nContent-Disposition: form-data".to_vec();
    for _ in 0..100_000 {
        body.extend_from_slice(b"; name=\"x\"");
    }
    body.extend_from_slice(b"\r\n\r\n1\r\n--b--");
    let o = declared(&body, roomy());
    assert_eq!(o.result, Ok(()));
    assert!(o
        .findings()
        .contains(&"multipart.ambiguous-disposition".to_string()));

    // A megabyte first line without a line break, declared and speculative.
    let mut line = b"--".to_vec();
    line.extend(std::iter::repeat_n(b'a', 1 << 20));
    for (mt, decl) in [(None, true), (Some(FD), true), (None, false)] {
        let o = run(&MultipartDecoder, &line, mt, decl, roomy());
        assert!(o.result.is_err());
        assert!(!MultipartDecoder.sniff(&line));
    }
}

#[test]
fn truncation_at_every_byte() {
    let body = sample();
    let limits = roomy();
    let full = declared(&body, limits);
    assert_eq!(full.result, Ok(()));
    let mut f = full.findings();
    f.sort();
    assert_eq!(
        f,
        [
            "multipart.ambiguous-disposition",
            "multipart.bare-lf",
            "multipart.epilogue",
            "multipart.folded-header",
            "multipart.no-disposition",
            "multipart.preamble"
        ]
    );
    for cut in 0..=body.len() {
        let part = &body[..cut];
        let o = declared(part, limits);
        bounded(&o, &limits);
        match &o.result {
            Ok(()) => {}
            Err(DecodeError::Malformed { rule, .. }) => assert_eq!(*rule, "multipart.malformed"),
            Err(e) => panic!("cut {cut}: {e}"),
        }
        let spec = run(&MultipartDecoder, part, None, false, limits);
        match &spec.result {
            Ok(()) => assert!(spec.findings().is_empty()),
            Err(e) => assert_eq!(*e, DecodeError::NotThisFormat, "cut {cut}"),
        }
        let _ = MultipartDecoder.sniff(part);
    }
}

#[test]
fn body_without_final_boundary_keeps_parts() {
    let body = b"--b\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n--b\r\nContent-Disposition: form-data; name=b\r\n\r\n2\r\n--b-";
    let o = declared(body, roomy());
    assert_eq!(o.result, Ok(()));
    let p = o.points();
    assert_eq!(p[0], ("body:multipart.a".into(), "1".into()));
    assert_eq!(p[2], ("body:multipart.b".into(), "2\r\n--b-".into()));
    let f = o.findings();
    assert!(
        f.contains(&"multipart.no-final-boundary".to_string()),
        "{f:?}"
    );
}

#[test]
fn byte_budget_stops_a_big_part() {
    let limits = Limits {
        max_bytes: 4096,
        ..roomy()
    };
    let mut body = b"--b\r\nContent-Disposition: form-data; name=a\r\n\r\n".to_vec();
    body.extend(std::iter::repeat_n(b'z', 100_000));
    body.extend_from_slice(b"\r\n--b--");
    let o = declared(&body, limits);
    assert_eq!(o.result, Err(DecodeError::Exhausted(LimitKind::Bytes)));
    assert!(o.tree.bytes_len() <= 4096 + body.len());
}

#[test]
fn hostile_bytes_stay_bounded() {
    // Deterministic noise made of pieces that matter to the parser.
    let pieces: [&[u8]; 12] = [
        b"--b",
        b"\r\n",
        b"\n",
        b"--",
        b":",
        b";",
        b"name=",
        b"\"",
        b"\\",
        b" ",
        b"\x00\xff",
        b"x",
    ];
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let limits = Limits {
        max_nodes: 200,
        ..roomy()
    };
    for _ in 0..2000 {
        let mut v = Vec::new();
        for _ in 0..(seed % 64) {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            v.extend_from_slice(pieces[(seed % 12) as usize]);
        }
        for decl in [true, false] {
            let o = run(&MultipartDecoder, &v, Some(FD), decl, limits);
            bounded(&o, &limits);
            if !decl {
                assert!(o.result.is_err() || o.findings().is_empty());
            }
        }
    }
    // Many lines that start like a delimiter, and deep textual nesting.
    let body = b"\n--b-".repeat(200_000);
    let o = declared(&body, roomy());
    assert!(o.result.is_err());
    let mut deep = Vec::new();
    for i in 0..100_000u32 {
        deep.extend_from_slice(
            format!(
                "--b{i}\r\nContent-Type: multipart/mixed; boundary=b{}\r\n\r\n",
                i + 1
            )
            .as_bytes(),
        );
    }
    let o = run(
        &MultipartDecoder,
        &deep,
        Some(b"multipart/mixed; boundary=b0"),
        true,
        roomy(),
    );
    bounded(&o, &roomy());
    assert!(matches!(
        o.result,
        Ok(()) | Err(DecodeError::Exhausted(LimitKind::Bytes))
    ));
    assert!(o.points().len() <= 2);
}

#[test]
fn a_sixteen_kilobyte_body_decodes_into_its_fields() {
    let mut body = Vec::new();
    for i in 0..8 {
        body.extend_from_slice(format!("------WebKitFormBoundaryePkpFF7tjBAqx29L\r\nContent-Disposition: form-data; name=\"field{i}\"\r\n\r\n").as_bytes());
        for j in 0..50 {
            body.extend_from_slice(
                format!("line {j} of field {i}: some ordinary text\r\n").as_bytes(),
            );
        }
    }
    body.extend_from_slice(b"------WebKitFormBoundaryePkpFF7tjBAqx29L--\r\n");
    assert!(body.len() > 15_000, "{}", body.len());
    let mt = b"multipart/form-data; boundary=----WebKitFormBoundaryePkpFF7tjBAqx29L";
    // Its speed is measured by `cargo bench -p rampart-core --bench decode`.
    let o = run(&MultipartDecoder, &body, Some(mt), true, roomy());
    assert_eq!(o.result, Ok(()));
    let points = o.points();
    for i in 0..8 {
        let name = format!("body:multipart.field{i}");
        let value = points.iter().find(|(p, _)| *p == name).map(|(_, v)| v);
        assert!(
            value.is_some_and(|v| v.starts_with(&format!("line 0 of field {i}"))),
            "{name} in {points:?}"
        );
    }
}
