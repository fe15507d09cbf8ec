//! The detector through the `Detector` trait, as the engine calls it: one
//! value of a small request-point tree (`query.card`) at a time.

use card_detector::{CardDetector, AWS_RULE, CARD_RULE, MAX_FINDINGS, NAME};
use rampart_plugin_api::types::{NodeKind, Seg, Source};
use rampart_plugin_api::{Class, DetectCtx, Detector, Finding, NodeId, PluginConfig, Tree};

/// Inspects `value` as the query parameter `card` of `GET /pay`.
fn inspect_with(d: &CardDetector, value: &[u8]) -> (Vec<Finding>, NodeId) {
    let mut tree = Tree::new();
    let query = tree.push_node(
        NodeId::ROOT,
        Seg::Source(Source::Query),
        NodeKind::Container,
        (0, 0),
    );
    let (start, end) = tree.push_bytes(b"card");
    let span = tree.push_bytes(value);
    let point = tree.push_node(query, Seg::Key { start, end }, NodeKind::Leaf, span);
    let ctx = DetectCtx {
        tree: &tree,
        point,
        source: Some(Source::Query),
        endpoint: b"/pay",
        content_type: None,
    };
    let mut out = Vec::new();
    d.inspect(value, &ctx, &mut out);
    for f in &out {
        assert_eq!(f.point, point, "a finding names the point inspected");
        assert!(f.span.start <= f.span.end && f.span.end as usize <= value.len());
    }
    (out, point)
}

fn inspect(value: &str) -> Vec<Finding> {
    inspect_with(&CardDetector::default(), value.as_bytes()).0
}

fn configured(pairs: &[(&str, &str)]) -> Result<CardDetector, String> {
    let cfg: PluginConfig = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let mut d = CardDetector::default();
    d.configure(&cfg).map(|()| d).map_err(|e| e.0)
}

/// The text a finding covers.
fn covered<'v>(value: &'v str, f: &Finding) -> &'v str {
    &value[f.span.start as usize..f.span.end as usize]
}

/// No run of 5 or more digits (or of the key's characters) in a message.
fn assert_masked(f: &Finding, secret: &str) {
    let digits: String = secret.chars().filter(char::is_ascii_alphanumeric).collect();
    assert!(
        !f.message.contains(secret),
        "{:?} leaks {secret}",
        f.message
    );
    assert!(
        !f.message.contains(&digits),
        "{:?} leaks {digits}",
        f.message
    );
    let tail = &digits[digits.len() - 4..];
    assert!(
        f.message.ends_with(tail),
        "{:?} should end with {tail}",
        f.message
    );
    let longest = f
        .message
        .split(|c: char| !c.is_ascii_digit())
        .map(str::len)
        .max()
        .unwrap_or(0);
    assert!(longest <= 4, "{:?} shows more than 4 digits", f.message);
}

const CARDS: &[(&str, &str)] = &[
    ("4111111111111111", "Visa"),
    ("4012888888881881", "Visa"),
    ("4222222222222", "Visa"),
    ("4170000000000000007", "Visa"),
    ("5555555555554444", "Mastercard"),
    ("5105105105105100", "Mastercard"),
    ("2223003122003222", "Mastercard"),
    ("2720990000000007", "Mastercard"),
    ("378282246310005", "American Express"),
    ("371449635398431", "American Express"),
    ("6011111111111117", "Discover"),
    ("6011000990139424", "Discover"),
    ("6500000000000002", "Discover"),
    ("6440000000000005", "Discover"),
    ("30569309025904", "Diners Club"),
    ("38520000023237", "Diners Club"),
    ("36227206271667", "Diners Club"),
    ("30950000000000", "Diners Club"),
    ("3530111333300000", "JCB"),
    ("3566002020360505", "JCB"),
    ("6200000000000005", "UnionPay"),
    ("6759649826438453", "Maestro"),
    ("501800000000007", "Maestro"),
    ("2200000000000004", "Mir"),
];

#[test]
fn finds_test_numbers_of_every_scheme() {
    for &(number, scheme) in CARDS {
        let fs = inspect(number);
        assert_eq!(fs.len(), 1, "{number}: {fs:?}");
        let f = &fs[0];
        assert_eq!(f.rule, CARD_RULE);
        assert_eq!(f.class, Class::Anomaly);
        assert_eq!(f.origin, NAME);
        assert_eq!(f.score, 50);
        assert_eq!(covered(number, f), number);
        assert!(f.message.starts_with(scheme), "{number}: {:?}", f.message);
        assert_masked(f, number);
    }
}

#[test]
fn finds_formatted_numbers_in_text_with_exact_spans() {
    let cases: &[(&str, &str)] = &[
        ("4111 1111 1111 1111", "4111 1111 1111 1111"),
        ("4111-1111-1111-1111", "4111-1111-1111-1111"),
        ("3782 822463 10005", "3782 822463 10005"),
        ("3056-930902-5904", "3056-930902-5904"),
        (
            "my card is 4111 1111 1111 1111, exp 12/25 cvv 123",
            "4111 1111 1111 1111",
        ),
        ("card 4111 1111 1111 1111 12/25", "4111 1111 1111 1111"),
        ("exp 12/25 4111 1111 1111 1111", "4111 1111 1111 1111"),
        ("{\"pan\":\"5555555555554444\"}", "5555555555554444"),
        ("2024-01-15 4111111111111111", "4111111111111111"),
        ("pan=4111111111111111&cvv=123", "4111111111111111"),
        ("(4111111111111111)", "4111111111111111"),
        ("-4111111111111111-", "4111111111111111"),
        (
            "tel 555 1234 card 6011 1111 1111 1117",
            "6011 1111 1111 1117",
        ),
        ("4111111111111111\n", "4111111111111111"),
        ("ref-4111111111111111", "4111111111111111"),
    ];
    for &(value, want) in cases {
        let fs = inspect(value);
        assert_eq!(fs.len(), 1, "{value:?}: {fs:?}");
        assert_eq!(covered(value, &fs[0]), want, "{value:?}");
        assert_masked(&fs[0], want);
    }
}

#[test]
fn finds_every_card_of_a_value() {
    let value = "a 4111111111111111, b 5555 5555 5555 4444; c 378282246310005";
    let fs = inspect(value);
    let got: Vec<&str> = fs.iter().map(|f| covered(value, f)).collect();
    assert_eq!(
        got,
        ["4111111111111111", "5555 5555 5555 4444", "378282246310005"]
    );
}

/// Numbers that are not cards: order ids, phone numbers, timestamps,
/// ISBNs, decimals, hashes, and card-like digits inside longer numbers.
const BENIGN: &[&str] = &[
    // Order, invoice and tracking numbers.
    "ORD-2024-000123456789",
    "order 1234567812345670",
    "INV4111111111111111",
    "order_4111111111111111",
    "1Z999AA10123456784",
    "9400 1000 0000 0000 0000 00",
    "1000000000000000009",
    "17000000001234560",
    // Phone numbers.
    "+1 (555) 123-4567",
    "555-123-4567",
    "+44 20 7946 0958",
    "+4915123456787",
    "tel:+4915123456787",
    "004915123456789",
    "0049 151 2345 6789",
    // Timestamps and dates.
    "1700000000123",
    "1700000000129",
    "1700000000123456",
    "1700000000123456789",
    "2024-01-15T10:30:00.123456Z",
    "2024-01-15 10:30:00",
    "20240115103002",
    "2024/01/15 4111",
    // ISBNs.
    "9780306406157",
    "9780306406156",
    "978-0-306-40615-7",
    "ISBN 978 0 306 40615 7",
    "0-306-40615-2",
    // Decimals and thousands separators.
    "4111111111111111.00",
    "0.4111111111111111",
    "3.14159265358979323846",
    "4,111,111,111,111,111",
    "$4,111.11",
    "192.168.100.200",
    // Identifiers and hashes.
    "123e4567-e89b-12d3-a456-426614174000",
    "DE89370400440532013000",
    "GB82 WEST 1234 5698 7654 32",
    "d41d8cd98f00b204e9800998ecf8427e",
    "4111111111111111abcdef",
    "x4111111111111111",
    // Inside longer numbers.
    "41111111111111111111",
    "99994111111111111111",
    "0004111111111111111",
    "4111 1111 1111 1111 1111",
    "1234-4111111111111111",
    // Not quite cards.
    "4111111111111112",
    "411111111111111",
    "4111 1111 1111 111",
    "4111-1111 1111-1111",
    "4111  1111  1111  1111",
    "41 11 11 11 11 11 11 11",
    "card ending in 1111",
    "0000000000000000",
    "",
];

#[test]
fn benign_numbers_are_not_cards() {
    for value in BENIGN {
        let fs = inspect(value);
        assert!(fs.is_empty(), "{value:?}: {fs:?}");
    }
}

#[test]
fn finds_aws_access_key_ids() {
    let cases: &[(&str, &str, &str)] = &[
        ("AKIAIOSFODNN7EXAMPLE", "AKIAIOSFODNN7EXAMPLE", "long-term"),
        ("ASIAY34FZKBOKMUTVV7A", "ASIAY34FZKBOKMUTVV7A", "temporary"),
        (
            "aws_access_key_id = AKIAIOSFODNN7EXAMPLE\n",
            "AKIAIOSFODNN7EXAMPLE",
            "long-term",
        ),
        (
            "{\"k\":\"AKIAIOSFODNN7EXAMPLE\"}",
            "AKIAIOSFODNN7EXAMPLE",
            "long-term",
        ),
        (
            "/keys/AKIAIOSFODNN7EXAMPLE/rotate",
            "AKIAIOSFODNN7EXAMPLE",
            "long-term",
        ),
        (
            "key=ASIAY34FZKBOKMUTVV7A&x=1",
            "ASIAY34FZKBOKMUTVV7A",
            "temporary",
        ),
    ];
    for &(value, key, kind) in cases {
        let fs = inspect(value);
        assert_eq!(fs.len(), 1, "{value:?}: {fs:?}");
        let f = &fs[0];
        assert_eq!(f.rule, AWS_RULE);
        assert_eq!(covered(value, f), key);
        assert!(f.message.contains(kind), "{:?}", f.message);
        assert!(!f.message.contains(&key[..8]), "{:?}", f.message);
        assert!(f.message.ends_with(&format!("****{}", &key[16..])));
    }
}

#[test]
fn aws_lookalikes_are_not_keys() {
    for value in [
        "AKIAIOSFODNN7EXAMPL",
        "AKIAIOSFODNN7EXAMPLE1",
        "xAKIAIOSFODNN7EXAMPLE",
        "AKIAIOSFODNN7EXAMPLEx",
        "_AKIAIOSFODNN7EXAMPLE",
        "AKIAIOSFODNN7EXAMPLE_",
        "akiaiosfodnn7example",
        "AKIAiosfodnn7example",
        "AKIA-IOSFODNN7EXAMPL",
        "ABIAIOSFODNN7EXAMPLE",
        "AKIA",
        "the ASIAN market",
    ] {
        let fs = inspect(value);
        assert!(fs.is_empty(), "{value:?}: {fs:?}");
    }
}

#[test]
fn configuration_switches_detections_and_score() {
    let both = "4111111111111111 AKIAIOSFODNN7EXAMPLE";
    let rules = |d: &CardDetector| -> Vec<String> {
        inspect_with(d, both.as_bytes())
            .0
            .iter()
            .map(|f| f.rule.to_string())
            .collect()
    };
    assert_eq!(rules(&CardDetector::default()), [CARD_RULE, AWS_RULE]);
    assert_eq!(
        rules(&configured(&[("cards", "false")]).unwrap()),
        [AWS_RULE]
    );
    assert_eq!(
        rules(&configured(&[("aws_keys", "false"), ("cards", "true")]).unwrap()),
        [CARD_RULE]
    );
    let d = configured(&[("score", "85")]).unwrap();
    assert!(inspect_with(&d, both.as_bytes())
        .0
        .iter()
        .all(|f| f.score == 85));
    assert_eq!(configured(&[]).unwrap(), CardDetector::default());
}

#[test]
fn bad_configuration_is_refused_clearly() {
    let cases: &[(&[(&str, &str)], &str)] = &[
        (
            &[("card", "false")],
            "leaked-secrets: unknown setting \"card\" (known: cards, aws_keys, score)",
        ),
        (
            &[("cards", "no")],
            "leaked-secrets: cards = \"no\": expected \"true\" or \"false\"",
        ),
        (
            &[("score", "101")],
            "leaked-secrets: score = \"101\": expected a number from 0 to 100",
        ),
        (
            &[("score", "-1")],
            "leaked-secrets: score = \"-1\": expected a number from 0 to 100",
        ),
        (
            &[("cards", "false"), ("aws_keys", "false")],
            "leaked-secrets: cards and aws_keys are both \"false\"",
        ),
    ];
    for (pairs, want) in cases {
        let err = configured(pairs).unwrap_err();
        assert!(err.starts_with(want), "{pairs:?}: {err}");
    }
}

#[test]
fn findings_per_value_are_bounded() {
    let value = "4111111111111111, ".repeat(100) + &"AKIAIOSFODNN7EXAMPLE ".repeat(100);
    let fs = inspect(&value);
    assert_eq!(fs.len(), MAX_FINDINGS);
    assert!(fs.iter().all(|f| f.rule == CARD_RULE));
    let aws = "AKIAIOSFODNN7EXAMPLE ".repeat(100);
    assert_eq!(inspect(&aws).len(), MAX_FINDINGS);
}

#[test]
fn plugin_describes_itself() {
    let d = CardDetector::default();
    assert_eq!(d.info().name, NAME);
    assert_eq!(d.classes(), &[Class::Anomaly]);
    assert_eq!(
        card_detector::rampart_plugin_abi_version(),
        rampart_plugin_api::abi::ABI_VERSION
    );
    assert!(!card_detector::rampart_plugin_manifest().is_null());
}

/// A small deterministic generator, for hostile inputs without a
/// dependency.
fn noise(seed: u64, len: usize, alphabet: &[u8]) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            alphabet[(x % alphabet.len() as u64) as usize]
        })
        .collect()
}

#[test]
fn hostile_values_are_bounded_and_never_panic() {
    // Every truncation of a value full of near-misses.
    let sample = "4111 1111 1111 1111 12/25 +4111111111111111 AKIAIOSFODNN7EXAMPLE 0.4111-1111";
    for end in 0..=sample.len() {
        for start in 0..end {
            let _ = inspect_with(&CardDetector::default(), &sample.as_bytes()[start..end]);
        }
    }
    // Random digit soup, separators and letters, and non-UTF-8 bytes.
    for seed in 0..200 {
        let v = noise(seed, 512, b"0123456789    ----..,,/:+AKISIAX_\xff\x00");
        let _ = inspect_with(&CardDetector::default(), &v);
    }
    // Large values of each shape: nothing found.
    for shape in [
        "1".repeat(1 << 22),
        "4111 ".repeat(1 << 20),
        "4-".repeat(1 << 21),
        "A".repeat(1 << 22),
        "AKIA ".repeat(1 << 20),
    ] {
        let (fs, _) = inspect_with(&CardDetector::default(), shape.as_bytes());
        assert!(fs.is_empty());
    }
}
