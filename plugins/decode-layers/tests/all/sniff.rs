//! What each decoder's sniff accepts and, as important, what it leaves
//! alone: ordinary words, prose, identifiers, numbers.

use rampart_decode_layers::{
    register, Base64Decoder, DeflateDecoder, GzipDecoder, HtmlEntityDecoder, JsEscapeDecoder,
    JwtDecoder, UrlDecoder,
};
use rampart_plugin_api::{Decoder, Registry};

fn check(d: &dyn Decoder, yes: &[&[u8]], no: &[&[u8]]) {
    for v in yes {
        assert!(
            d.sniff(v),
            "{} should sniff {:?}",
            d.layer(),
            String::from_utf8_lossy(v)
        );
    }
    for v in no {
        assert!(
            !d.sniff(v),
            "{} should not sniff {:?}",
            d.layer(),
            String::from_utf8_lossy(v)
        );
    }
}

/// Words, prose and identifiers no layer should be tried on.
const ORDINARY: &[&[u8]] = &[
    b"",
    b"password",
    b"Administrator",
    b"HelloWorld",
    b"1234567890",
    b"deadbeef",
    b"DEADBEEF",
    b"my-product-name",
    b"My-Product-Name",
    b"user_name_2",
    b"JavaScript",
    b"camelCaseVariableName",
    b"The quick brown fox jumps over the lazy dog.",
    b"550e8400-e29b-41d4-a716-446655440000",
    b"2024-01-01T10:00:00Z",
    b"bob@example.com",
    b"/usr/local/bin",
    b"Tom & Jerry",
    b"100% sure",
    b"C:\\Users\\bob",
];

#[test]
fn ordinary_values_are_left_alone() {
    let all: [&dyn Decoder; 7] = [
        &GzipDecoder,
        &DeflateDecoder,
        &JwtDecoder,
        &Base64Decoder,
        &UrlDecoder,
        &HtmlEntityDecoder,
        &JsEscapeDecoder,
    ];
    for d in all {
        check(d, &[], ORDINARY);
    }
}

#[test]
fn base64_sniff() {
    check(
        &Base64Decoder,
        &[
            b"YWRtaW4=",
            b"PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg",
            b"eyJhIjoxfQ",
            b"eyJhbGciOiJIUzI1NiJ9",
            b"dGVzdGluZw",
            b"Pz8_Pj4-",
            b"Pz8/Pj4+",
            b"  YWRtaW4=\n",
            b"H4sIAAAAAAAA/ytJLS4BAAx+f9gEAAAA",
        ],
        &[
            b"YWRtaW4",
            b"YWRtaW4==",
            b"YWRtaW4=x",
            b"YWRtaW4g\r\ncGFz",
            b"YWRtaW4gc",
            b"Pz8_Pj4+",
            b"ABCDEFGHIJ",
            b"abcdefghij",
            b"aGVsbG8=====",
        ],
    );
}

#[test]
fn compression_sniffs() {
    check(
        &GzipDecoder,
        &[b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03"],
        &[b"\x1f\x8b", b"\x1f\x8b\x07", b"\x8b\x1f\x08"],
    );
    check(
        &DeflateDecoder,
        &[
            b"\x78\x9c\xcb\x48\xcd\xc9\xc9\x07\x00\x06",
            b"\x78\x01\x03\x00\x00\x00\x00\x01",
            b"\x78\xda\x03\x00\x00\x00\x00\x01",
        ],
        &[
            b"\x78\x9c\x03",
            b"\x78\xbb\x03\x00\x00\x00\x00\x01",
            b"\x79\x9c\x03\x00\x00\x00\x00\x01",
            b"x^ hello world, plain text",
            b"XGA monitor for sale",
        ],
    );
}

#[test]
fn jwt_sniff() {
    check(
        &JwtDecoder,
        &[
            b"eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.",
            b"eyJhbGciOiJIUzI1NiJ9.e30.abc-_",
        ],
        &[
            b"eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0",
            b"eyJhbGciOiJub25lIn0.e30.a.b.c",
            b"eyJhbGciOiJub25lIn0=.e30.x",
            b"eyJhbGciOiJub25lIn0.e3+0.x",
            b"abc.def.ghi",
        ],
    );
}

#[test]
fn text_layer_sniffs() {
    check(
        &UrlDecoder,
        &[b"%3Cscript%3E", b"a%2fb", b"%u003c", b"%U003C"],
        &[b"100%", b"%zz", b"%u00", b"50%-off", b"%4"],
    );
    check(
        &HtmlEntityDecoder,
        &[b"&lt;script&gt;", b"&#60", b"x &#", b"&amp;", b"AT&T;"],
        &[
            b"&lt",
            b"Tom & Jerry;",
            b"&1;",
            b"a&b",
            b"&aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa;",
        ],
    );
    check(
        &JsEscapeDecoder,
        &[b"\\u003c", b"\\u{1F600}", b"\\x3c", b"abc\\x4a"],
        &[
            b"\\u12",
            b"\\u{}",
            b"\\x4",
            b"\\n\\t",
            b"\\uGGGG",
            b"C:\\xampp",
        ],
    );
}

#[test]
fn registration_order_and_names() {
    let mut reg = Registry::new();
    register(&mut reg).unwrap();
    let names: Vec<_> = reg.decoders().iter().map(|e| e.info.name).collect();
    assert_eq!(
        names,
        ["gzip", "deflate", "jwt", "base64", "url", "html", "jsesc"]
    );
    for e in reg.decoders() {
        let d = (e.factory)(&Default::default()).unwrap();
        assert_eq!(d.info().name, d.layer());
        assert_eq!(d.info().version, env!("CARGO_PKG_VERSION"));
        assert!(d.media_types().is_empty());
    }
    assert!(register(&mut reg).is_err(), "registering twice is refused");
}

/// camelCase identifiers with several humps look like short base64 (the
/// sniff tries them, so that `DQpRVUlUDQo` is decoded), but their decoded
/// bytes are not text: the speculative decoding rejects them and no layer
/// is left behind.
#[test]
fn camel_case_identifiers_are_tried_but_not_decoded() {
    use rampart_plugin_api::testing::run;
    use rampart_plugin_api::Limits;
    for v in [
        &b"getElementById"[..],
        b"addEventListener",
        b"XMLHttpRequest",
    ] {
        let o = run(&Base64Decoder, v, None, false, Limits::default());
        assert_eq!(
            o.error_name().as_deref(),
            Some("not-this-format"),
            "{}",
            String::from_utf8_lossy(v)
        );
    }
    let o = run(
        &Base64Decoder,
        b"DQpRVUlUDQo",
        None,
        false,
        Limits::default(),
    );
    assert_eq!(o.tree.value(o.layer), b"\r\nQUIT\r\n");
}
