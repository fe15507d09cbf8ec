//! Table tests (`testdata/sqli.json`) and hostile inputs for the SQL
//! injection detector.
//!
//! A table case names one request point and its value in `points`
//! (`[["query.q", "1 or 1=1"]]`) and, in `findings`, the rules the detector
//! must report at a blocking score (50 or more) for it; a benign case lists
//! none (a weak finding below 50 is allowed).

// The path parser of the table runner reports a malformed table by panicking.
#![allow(clippy::panic)]

use rampart_detect_sqli::{analyze, register, SqliDetector, MAX_FINDINGS};
use rampart_plugin_api::testing::check_detector_table;
use rampart_plugin_api::testing::point_tree as build;
use rampart_plugin_api::types::Source;
use rampart_plugin_api::{Class, DetectCtx, Detector, Finding, NodeId, Registry, Tree};

const BLOCK: u8 = 50;

fn inspect_at(tree: &Tree, point: NodeId, value: &[u8]) -> Vec<Finding> {
    let ctx = DetectCtx {
        tree,
        point,
        source: tree.source_of(point),
        endpoint: b"/",
        content_type: None,
    };
    let mut out = Vec::new();
    SqliDetector.inspect(value, &ctx, &mut out);
    check(&out, point, value);
    out
}

/// The invariants of every report.
fn check(out: &[Finding], point: NodeId, value: &[u8]) {
    assert!(out.len() <= MAX_FINDINGS, "{} findings", out.len());
    for (i, f) in out.iter().enumerate() {
        assert_eq!(f.point, point);
        assert_eq!(f.class, Class::Sqli);
        assert!(f.rule.starts_with("sqli."), "{}", f.rule);
        assert!(f.span.start <= f.span.end && f.span.end as usize <= value.len());
        assert!((20..=100).contains(&f.score), "score {}", f.score);
        assert_eq!(f.origin, "sqli");
        assert!(
            out[..i].iter().all(|g| g.rule != f.rule),
            "rule reported twice"
        );
    }
    if out.len() > 1 {
        assert!(
            out.iter().all(|f| f.score >= BLOCK),
            "weak findings ride along"
        );
    }
}

fn inspect(path: &str, value: &[u8]) -> Vec<Finding> {
    let (tree, leaf) = build(path, value);
    inspect_at(&tree, leaf, value)
}

fn q(value: &[u8]) -> Vec<Finding> {
    inspect("query.q", value)
}

/// The rules reported at a blocking score.
fn blocking(f: &[Finding]) -> Vec<String> {
    let mut v: Vec<String> = f
        .iter()
        .filter(|f| f.score >= BLOCK)
        .map(|f| f.rule.to_string())
        .collect();
    v.sort();
    v
}

fn total(f: &[Finding]) -> u32 {
    f.iter().map(|f| u32::from(f.score)).sum()
}

#[test]
fn table() {
    check_detector_table(
        concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/sqli.json"),
        120,
        |p, v| blocking(&inspect(p, v)),
    );
}

#[test]
fn benign_values_stay_below_the_block_score() {
    // The sum of what is reported must stay below 50, not only each finding.
    for v in [
        &b"union was a great select"[..],
        b"D'or 1st parfume",
        b"select your size",
        b"1) a-b=c",
        b"john+or@var.es",
        b"O'Brien",
        b"price < 100 and color = 'red'",
        b"Sleep(5) in the script pauses for 5 seconds.",
        b"guests' = 5",
        b"and 1=1 is true in maths class",
        b"Terms; update your settings",
        b"drop us a line",
        b"-- Alter ego",
        b"select or drop files",
        b"1; update firmware",
        b"|| langCode == '",
        b"&&(a=\"",
        b"note=and 1=1 is true in maths class",
    ] {
        let f = q(v);
        assert!(
            total(&f) < u32::from(BLOCK),
            "{:?}: {f:?}",
            String::from_utf8_lossy(v)
        );
    }
}

#[test]
fn spans_cover_the_construct() {
    let v = b"name=x' UNION SELECT password FROM users--";
    let f = q(v);
    let u = f.iter().find(|f| f.rule == "sqli.union").expect("union");
    let s = &v[u.span.start as usize..u.span.end as usize];
    assert!(
        s.starts_with(b"UNION SELECT"),
        "{}",
        String::from_utf8_lossy(s)
    );
    assert!(s.ends_with(b"users"), "{}", String::from_utf8_lossy(s));

    let v = b"1; DROP TABLE users";
    let f = q(v);
    let d = f
        .iter()
        .find(|f| f.rule == "sqli.stacked")
        .expect("stacked");
    let s = &v[d.span.start as usize..d.span.end as usize];
    assert!(
        s.ends_with(b"DROP TABLE users"),
        "{}",
        String::from_utf8_lossy(s)
    );

    let v = b"abc' and sleep(5)--";
    let f = q(v);
    let t = f.iter().find(|f| f.rule == "sqli.time").expect("time");
    assert_eq!(&v[t.span.start as usize..t.span.end as usize], b"sleep(5)");
}

#[test]
fn embedded_parameters_are_read_with_their_offsets() {
    // A parameter list left in one value (a form name `pay=AND 1=2`, a
    // query string encoded twice): each value is read, and spans point
    // into the whole value.
    let v = b"a=red&b=x&name=1 AND 2771=1709";
    let f = q(v);
    assert_eq!(blocking(&f), ["sqli.tautology"]);
    let t = &f[0];
    assert!(t.span.start as usize >= 15, "{t:?}");
    assert_eq!(t.span.end as usize, v.len());
    // `&` not followed by a name and `=` stays in the value.
    assert!(q(b"q=Tom & Jerry's or so").is_empty());
    // Only a value that starts with a name and `=` is split.
    assert!(blocking(&q(b"x y=1 AND 2771=1709")).is_empty());
}

#[test]
fn padding_before_the_payload_is_read() {
    // GoTestWAF pads payloads to 8-128 KiB; the tail window reads them.
    for kb in [8usize, 64, 128, 1024] {
        let mut v = vec![b'A'; kb * 1024];
        v.extend_from_slice(b"' UNION SELECT username || ':' || password FROM users");
        let f = q(&v);
        assert_eq!(blocking(&f), ["sqli.union"], "{kb} KiB");
        let u = &f[0];
        assert!(
            u.span.start as usize >= kb * 1024,
            "span inside the payload"
        );
        assert!(u.span.end as usize <= v.len());
    }
}

#[test]
fn payloads_between_many_tokens_are_read() {
    // Word padding fills the token cap of a window; the next windows (and
    // the tail window of a long value) still read the payload.
    for (before, after) in [
        (30_000usize, 0usize),
        (60_000, 0),
        (100_000, 0),
        (20_000, 20_000),
    ] {
        let mut v = b"a ".repeat(before / 2);
        v.extend_from_slice(b"1; DROP TABLE users; --");
        v.extend_from_slice(&b", ".repeat(after / 2));
        let f = q(&v);
        assert!(
            blocking(&f).contains(&"sqli.stacked".to_string()),
            "{before}+{after}: {f:?}"
        );
    }
}

#[test]
fn one_finding_per_rule_and_at_most_three() {
    let v = b"1' union select load_file('/etc/passwd') into outfile '/tmp/x'; drop table users; \
              select sleep(5), extractvalue(1, version()) -- ";
    let f = q(v);
    assert!(!f.is_empty() && f.len() <= MAX_FINDINGS);
    assert!(f.iter().all(|f| f.score >= BLOCK));
}

#[test]
fn appends_to_existing_findings() {
    let (tree, leaf) = build("query.q", b"1 or 1=1");
    let ctx = DetectCtx {
        tree: &tree,
        point: leaf,
        source: Some(Source::Query),
        endpoint: b"/",
        content_type: None,
    };
    let earlier = Finding::new(leaf, Class::Sqli, "sqli.tautology", 1, "earlier");
    let mut out = vec![earlier];
    SqliDetector.inspect(b"1 or 1=1", &ctx, &mut out);
    assert_eq!(out.len(), 2, "earlier findings are kept");
}

#[test]
fn registers_once() {
    let mut reg = Registry::new();
    register(&mut reg).expect("first registration");
    assert!(register(&mut reg).is_err());
    assert_eq!(reg.detectors().len(), 1);
    assert_eq!(reg.detectors()[0].info.name, "sqli");
    assert_eq!(SqliDetector.classes(), &[Class::Sqli]);
}

/// Runs `f` on a hostile value and checks that the report stays bounded
/// (how long it takes is measured by the `hostile` bench, not asserted).
fn bounded(what: &str, f: impl FnOnce() -> Vec<Finding>) -> Vec<Finding> {
    let out = f();
    assert!(out.len() <= MAX_FINDINGS, "{what}: {} findings", out.len());
    out
}

const MB: usize = 1 << 20;

fn repeat(unit: &[u8]) -> Vec<u8> {
    unit.iter().copied().cycle().take(MB).collect()
}

#[test]
fn hostile_megabyte_values() {
    let units: [&[u8]; 26] = [
        b"(",
        b")",
        b"'",
        b"\"",
        b"`",
        b"[",
        b"(select ",
        b"select ",
        b"union select ",
        b"1 or ",
        b"' or '1'='1 ",
        b"/*",
        b"/*!",
        b"*/",
        b"--\n",
        b"#\n",
        b"$$",
        b"$a$",
        b"q'[",
        b"case when 1 then ",
        b"@@",
        b";",
        b"1,",
        b"a.",
        b"a=(select &",
        b"x=1 or 1=&",
    ];
    for unit in units {
        let v = repeat(unit);
        bounded("1 MB value", || q(&v));
    }
    // Pseudo-random bytes.
    let mut x: u32 = 0x1234_5678;
    let noise: Vec<u8> = (0..MB)
        .map(|_| {
            x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (x >> 24) as u8
        })
        .collect();
    bounded("noise", || q(&noise));
    // Pseudo-random SQL words and punctuation.
    let words: [&[u8]; 16] = [
        b"select ", b"(", b")", b"'", b"1", b" or ", b"=", b",", b"union ", b"from ", b"x ",
        b"/**/", b"--\n", b";", b"case ", b"when ",
    ];
    let mut soup = Vec::with_capacity(MB);
    while soup.len() < MB {
        x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        soup.extend_from_slice(words[(x >> 28) as usize]);
    }
    bounded("sql soup", || q(&soup));
}

#[test]
fn deep_nesting_is_bounded() {
    let mut v = Vec::new();
    for _ in 0..5000 {
        v.extend_from_slice(b"(select ");
    }
    v.extend_from_slice(b"1");
    bounded("nested selects", || q(&v));
    let v = [b"(".repeat(60_000), b"1".to_vec(), b")".repeat(60_000)].concat();
    bounded("nested parens", || q(&v));
    let v = b"1 or ".repeat(20_000);
    bounded("long condition", || q(&v));
}

#[test]
fn invalid_utf8_and_nul() {
    assert_eq!(blocking(&q(b"\xff' or 1=1--")), ["sqli.tautology"]);
    assert_eq!(blocking(&q(b"1\0union\0select\x001,2")), ["sqli.union"]);
    assert_eq!(
        blocking(&q(b"x'\xc2\xa0or\xc2\xa01=1-- ")),
        ["sqli.tautology"]
    );
    assert!(q(b"").is_empty());
    assert!(q(b"\0\0\0").is_empty());
    assert!(q(b"\xff\xfe\xfd").is_empty());
    for n in 0..=20 {
        let cut = &b"x' union select 1,2--"[..n];
        let f = q(cut);
        assert!(f.len() <= MAX_FINDINGS);
    }
}

#[test]
fn analysis_reports_context() {
    let a = analyze(b"x' or 'a'='a").expect("found");
    assert_eq!(a.context, "after '");
    assert!(a.score() >= BLOCK);
    let a = analyze(b"1 or 1=1").expect("found");
    assert_eq!(a.context, "as is");
    assert!(analyze(b"hello").is_none());
}
