//! Recall on the public corpora and false positives on benign sets.
//!
//! The corpora live in `../../../shared/corpus` (or `$RAMPART_SHARED/corpus`);
//! a missing corpus skips its test with a note. Each test prints its
//! figures (`cargo test -p rampart-detect-injections --test all corpus --
//! --nocapture`) and asserts the level reached, so that a regression fails.
//!
//! The engine is simulated, not run: a payload is inspected where its
//! placeholder puts it (`query.p`, `path`, `body:form.p`...), after the
//! percent-decoding the engine does (once for the query string and the
//! path, then again for each further round of valid `%XX` escapes, as the
//! `url` layer does); encoders that the engine undoes (base64, URL) are
//! taken as undone. XML bodies are inspected raw (no XML decoder here).
//! A probe is detected when its findings block: one class of this crate
//! sums to 50 or more.

use std::path::{Path, PathBuf};

use rampart_plugin_api::text::percent_decode;
use rampart_plugin_api::{Finding, Tree};

use crate::support::{add_path, blocks, describe, inspect, inspect_at, set_leaf};

fn shared() -> PathBuf {
    std::env::var_os("RAMPART_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"))
}

fn read(rel: &str) -> Option<String> {
    let p = shared().join("corpus").join(rel);
    match std::fs::read(&p) {
        Ok(b) => Some(String::from_utf8_lossy(&b).into_owned()),
        Err(_) => {
            eprintln!("corpus file {} not found: skipped", p.display());
            None
        }
    }
}

/// A YAML scalar: `'...'` (`''` is a quote), `"..."` (backslash escapes)
/// or plain.
fn scalar(s: &str) -> String {
    let s = s.trim();
    if let Some(inner) = s.strip_prefix('\'').and_then(|r| r.strip_suffix('\'')) {
        return inner.replace("''", "'");
    }
    if let Some(inner) = s.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
        let mut out = String::new();
        let mut it = inner.chars();
        while let Some(c) = it.next() {
            if c != '\\' {
                out.push(c);
                continue;
            }
            match it.next() {
                Some('n') => out.push('\n'),
                Some('r') => out.push('\r'),
                Some('t') => out.push('\t'),
                Some('0') => out.push('\0'),
                Some('x') => {
                    let h: String = it.by_ref().take(2).collect();
                    out.push(char::from(u8::from_str_radix(&h, 16).unwrap_or(b'?')));
                }
                Some('u') => {
                    let h: String = it.by_ref().take(4).collect();
                    let cp = u32::from_str_radix(&h, 16).unwrap_or(0xfffd);
                    out.push(char::from_u32(cp).unwrap_or('\u{fffd}'));
                }
                Some(o) => out.push(o),
                None => {}
            }
        }
        return out;
    }
    s.to_string()
}

/// The items of a top-level list `key:` in a GoTestWAF file (scalars, and
/// `|` block scalars).
fn yaml_list(text: &str, key: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut inside = false;
    let mut block: Option<(usize, String)> = None;
    for line in text.lines() {
        if let Some((indent, buf)) = block.as_mut() {
            let ind = line.len() - line.trim_start().len();
            if line.trim().is_empty() || ind >= *indent {
                buf.push_str(line.get(*indent..).unwrap_or(""));
                buf.push('\n');
                continue;
            }
            out.push(std::mem::take(buf));
            block = None;
        }
        if !line.starts_with(' ') && !line.starts_with('-') {
            inside = line.trim_end() == format!("{key}:");
            continue;
        }
        if !inside {
            continue;
        }
        let t = line.trim_start();
        if let Some(item) = t.strip_prefix("- ") {
            let item = item.trim_start_matches("!!str").trim();
            if item == "|" || item == "|-" {
                let ind = line.len() - t.len() + 2;
                block = Some((ind, String::new()));
            } else {
                out.push(scalar(item));
            }
        }
    }
    if let Some((_, buf)) = block {
        out.push(buf);
    }
    out
}

/// The values the engine would inspect for a payload at a placeholder:
/// the value as delivered, then each further round of percent-decoding.
fn layers(payload: &str, encoder: &str, placeholder: &str) -> Vec<(String, Vec<u8>)> {
    let (path, plus) = match placeholder {
        "URLParam" => ("query.p", true),
        "URLPath" => ("path[0]", false),
        "HTMLForm" => ("body:form.p", true),
        "HTMLMultipartForm" => ("body:multipart.p", false),
        "JSONRequest" | "JSONBody" => ("body:json.p", false),
        "XMLBody" => ("body", false),
        "Header" | "UserAgent" => ("header[\"x-p\"]", false),
        _ => ("query.p", true),
    };
    let mut v = payload.as_bytes().to_vec();
    let transport =
        encoder == "Plain" && matches!(placeholder, "URLParam" | "URLPath" | "HTMLForm");
    if transport {
        let mut d = Vec::new();
        percent_decode(&v, plus, &mut d);
        v = d;
    }
    let mut out = vec![(path.to_string(), v.clone())];
    let mut p = path.to_string();
    for _ in 0..3 {
        let mut d = Vec::new();
        if !percent_decode(&v, false, &mut d).decoded_any {
            break;
        }
        p.push_str(":url");
        out.push((p.clone(), d.clone()));
        v = d;
    }
    out
}

/// Inspects the layers of one probe in one tree.
fn probe(values: &[(String, Vec<u8>)]) -> Vec<Finding> {
    let mut tree = Tree::new();
    let ids: Vec<_> = values
        .iter()
        .map(|(p, v)| {
            let n = add_path(&mut tree, p);
            set_leaf(&mut tree, n, v);
            n
        })
        .collect();
    let mut f = Vec::new();
    for (id, (_, v)) in ids.iter().zip(values) {
        f.extend(inspect_at(&tree, *id, v));
    }
    f
}

struct Tally {
    probes: usize,
    hits: usize,
    payloads: usize,
    payload_hits: usize,
}

fn gotestwaf_file(rel: &str, misses: &mut Vec<String>) -> Option<Tally> {
    let text = read(rel)?;
    let payloads = yaml_list(&text, "payload");
    let encoders = yaml_list(&text, "encoder");
    let placeholders = yaml_list(&text, "placeholder");
    let mut t = Tally {
        probes: 0,
        hits: 0,
        payloads: payloads.len(),
        payload_hits: 0,
    };
    for p in &payloads {
        let mut any = false;
        for e in &encoders {
            for ph in &placeholders {
                let f = probe(&layers(p, e, ph));
                t.probes += 1;
                if blocks(&f) {
                    t.hits += 1;
                    any = true;
                } else {
                    misses.push(format!("{rel} {e}/{ph} {p:?} [{}]", describe(&f)));
                }
            }
        }
        t.payload_hits += usize::from(any);
    }
    Some(t)
}

const GOTESTWAF: [&str; 7] = [
    "gotestwaf/testcases/owasp/xml-injection.yml",
    "gotestwaf/testcases/owasp/ldap-injection.yml",
    "gotestwaf/testcases/owasp/nosql-injection.yml",
    "gotestwaf/testcases/owasp/crlf.yml",
    "gotestwaf/testcases/owasp/mail-injection.yml",
    "gotestwaf/testcases/owasp/ss-include.yml",
    "gotestwaf/testcases/community/community-xxe.yml",
];

#[test]
fn gotestwaf_recall() {
    let mut misses = Vec::new();
    let (mut probes, mut hits) = (0, 0);
    for rel in GOTESTWAF {
        let Some(t) = gotestwaf_file(rel, &mut misses) else {
            continue;
        };
        println!(
            "{rel}: probes {}/{} ({:.1}%), payloads {}/{}",
            t.hits,
            t.probes,
            100.0 * t.hits as f64 / t.probes.max(1) as f64,
            t.payload_hits,
            t.payloads
        );
        assert!(t.payloads > 0, "{rel}: no payloads read");
        probes += t.probes;
        hits += t.hits;
    }
    for m in &misses {
        println!("  miss: {m}");
    }
    if probes > 0 {
        let rate = hits as f64 / probes as f64;
        println!("GoTestWAF total: {hits}/{probes} ({:.1}%)", 100.0 * rate);
        assert!(rate >= 0.97, "GoTestWAF recall {rate:.3} under 97%");
        assert!(misses.is_empty(), "{} probes missed", misses.len());
    }
}

/// Contexts a benign text is tried in (line breaks as a browser sends them
/// in a form, as JSON carries them, as a query string would).
fn benign_blocks(text: &str) -> Option<String> {
    let lf = text.replace('\u{2424}', "\n");
    let crlf = text.replace('\u{2424}', "\r\n");
    for (path, v) in [
        ("query.q", &lf),
        ("body:form.comment", &crlf),
        ("body:json.text", &lf),
        ("body:multipart.message", &crlf),
    ] {
        let f = inspect(path, v.as_bytes());
        if blocks(&f) {
            return Some(format!("{path} {v:?} [{}]", describe(&f)));
        }
    }
    None
}

struct Benign {
    total: usize,
    blocked: Vec<String>,
    flagged: usize,
}

fn benign_set(lines: impl Iterator<Item = String>) -> Benign {
    let mut b = Benign {
        total: 0,
        blocked: Vec::new(),
        flagged: 0,
    };
    for l in lines {
        b.total += 1;
        if let Some(why) = benign_blocks(&l) {
            b.blocked.push(why);
        }
        let v = l.replace('\u{2424}', "\r\n");
        if !inspect("body:form.comment", v.as_bytes()).is_empty() {
            b.flagged += 1;
        }
    }
    b
}

fn report(name: &str, b: &Benign) -> f64 {
    let pass = 1.0 - b.blocked.len() as f64 / b.total.max(1) as f64;
    println!(
        "{name}: {} lines, {} blocked ({:.2}% pass), {} with any finding",
        b.total,
        b.blocked.len(),
        100.0 * pass,
        b.flagged
    );
    for w in &b.blocked {
        println!("  blocked: {w}");
    }
    pass
}

#[test]
fn benign_own_set() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/benign.txt");
    let text = std::fs::read_to_string(path).expect("testdata/benign.txt");
    let lines: Vec<String> = text
        .lines()
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect();
    assert!(lines.len() >= 300, "only {} benign lines", lines.len());
    let b = benign_set(lines.into_iter());
    let pass = report("testdata/benign.txt", &b);
    assert!(pass >= 0.995, "benign pass rate {pass:.4} under 99.5%");
}

#[test]
fn benign_gotestwaf_texts() {
    let Some(text) = read("gotestwaf/testcases/false-pos/texts.yml") else {
        return;
    };
    let lines = yaml_list(&text, "payload");
    assert!(lines.len() > 40);
    let b = benign_set(lines.into_iter());
    report("gotestwaf false-pos/texts.yml", &b);
    assert!(b.blocked.is_empty(), "GoTestWAF false positives");
}

#[test]
fn benign_libinjection() {
    let Some(text) = read("libinjection/false_positives.txt") else {
        return;
    };
    let lines = text
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(String::from);
    let b = benign_set(lines);
    report("libinjection/false_positives.txt", &b);
    assert!(b.blocked.is_empty(), "libinjection false positives");
}

/// One go-ftw test: the values it sends and whether the rule must fire.
#[derive(Debug, Default)]
struct FtwTest {
    id: String,
    uri: String,
    data: Option<String>,
    headers: Vec<(String, String)>,
    expect: Option<bool>,
}

/// A minimal reader of go-ftw YAML: `test_id`, `uri`, `data`, the
/// `headers` map and `expect_ids` / `no_expect_ids`.
fn ftw_tests(text: &str) -> Vec<FtwTest> {
    let mut tests = Vec::new();
    let mut cur: Option<FtwTest> = None;
    let mut in_headers: Option<usize> = None;
    for line in text.lines() {
        let t = line.trim_start();
        let ind = line.len() - t.len();
        if t.starts_with('#') || t.is_empty() {
            continue;
        }
        if let Some(h) = in_headers {
            if ind > h {
                if let (Some(c), Some((k, v))) = (cur.as_mut(), t.split_once(':')) {
                    c.headers.push((k.trim().to_string(), scalar(v)));
                }
                continue;
            }
            in_headers = None;
        }
        if let Some(id) = t.strip_prefix("- test_id:") {
            if let Some(c) = cur.take() {
                tests.push(c);
            }
            cur = Some(FtwTest {
                id: id.trim().to_string(),
                ..FtwTest::default()
            });
            continue;
        }
        let Some(c) = cur.as_mut() else { continue };
        if let Some(v) = t.strip_prefix("uri:") {
            c.uri = scalar(v);
        } else if let Some(v) = t.strip_prefix("data:") {
            c.data = Some(scalar(v));
        } else if t == "headers:" {
            in_headers = Some(ind);
        } else if t.starts_with("no_expect_ids") {
            c.expect = Some(false);
        } else if t.starts_with("expect_ids") {
            c.expect = Some(true);
        }
    }
    if let Some(c) = cur {
        tests.push(c);
    }
    tests
}

fn pct(v: &str, plus: bool) -> Vec<u8> {
    let mut d = Vec::new();
    percent_decode(v.as_bytes(), plus, &mut d);
    d
}

/// The points of a go-ftw request: path, query and form parameters (keys
/// as tree keys), cookies and the other headers; a body that is not a
/// form is inspected raw.
fn ftw_points(t: &FtwTest) -> Vec<(String, Vec<u8>)> {
    let mut pts = Vec::new();
    let (path, query) = t.uri.split_once('?').unwrap_or((&t.uri, ""));
    pts.push(("path".to_string(), pct(path, false)));
    let params = |src: &str, s: &str, pts: &mut Vec<(String, Vec<u8>)>| {
        for kv in s.split('&').filter(|x| !x.is_empty()) {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            let key: String = pct(k, true)
                .iter()
                .map(|&b| match b {
                    b'"' | b'\\' => format!("\\{}", char::from(b)),
                    b' '..=b'~' => char::from(b).to_string(),
                    _ => format!("\\x{b:02x}"),
                })
                .collect();
            pts.push((format!("{src}[\"{key}\"]"), pct(v, true)));
        }
    };
    params("query", query, &mut pts);
    let ct = t
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
        .map(|(_, v)| v.to_ascii_lowercase());
    if let Some(d) = &t.data {
        let form = ct
            .as_deref()
            .is_none_or(|c| c.contains("x-www-form-urlencoded"))
            && !d.trim_start().starts_with(['{', '[', '<']);
        if form {
            params("body:form", d, &mut pts);
        } else {
            pts.push(("body".to_string(), d.as_bytes().to_vec()));
        }
    }
    for (k, v) in &t.headers {
        let k = k.to_ascii_lowercase();
        if matches!(
            k.as_str(),
            "host" | "user-agent" | "accept" | "content-type" | "content-length"
        ) {
            continue;
        }
        if k == "cookie" {
            for c in v.split(';') {
                let (n, cv) = c.trim().split_once('=').unwrap_or((c.trim(), ""));
                pts.push((format!("cookie[\"{n}\"]"), pct(cv, false)));
            }
        } else {
            pts.push((format!("header[\"{k}\"]"), v.as_bytes().to_vec()));
            let d = pct(v, false);
            if d != v.as_bytes() {
                pts.push((format!("header[\"{k}\"]:url"), d));
            }
        }
    }
    pts
}

/// The CRS rules whose tests are about the classes of this crate.
const CRS: [&str; 8] = [
    "REQUEST-921-PROTOCOL-ATTACK/921120.yaml",
    "REQUEST-921-PROTOCOL-ATTACK/921130.yaml",
    "REQUEST-921-PROTOCOL-ATTACK/921140.yaml",
    "REQUEST-921-PROTOCOL-ATTACK/921150.yaml",
    "REQUEST-921-PROTOCOL-ATTACK/921160.yaml",
    "REQUEST-921-PROTOCOL-ATTACK/921190.yaml",
    "REQUEST-921-PROTOCOL-ATTACK/921200.yaml",
    "REQUEST-942-APPLICATION-ATTACK-SQLI/942290.yaml",
];

#[test]
fn crs_regression() {
    let (mut pos, mut pos_hit, mut neg, mut neg_hit) = (0, 0, 0, 0);
    let mut notes = Vec::new();
    for rel in CRS {
        let Some(text) = read(&format!("crs-regression/tests/{rel}")) else {
            continue;
        };
        let (mut p, mut ph) = (0, 0);
        for t in ftw_tests(&text) {
            let Some(expect) = t.expect else { continue };
            let f = probe(&ftw_points(&t));
            let hit = blocks(&f);
            if expect {
                p += 1;
                ph += usize::from(hit);
            } else {
                neg += 1;
                neg_hit += usize::from(hit);
            }
            if hit != expect {
                notes.push(format!(
                    "{} {rel} #{} {}: {:?} {:?} [{}]",
                    if expect { "miss" } else { "fp" },
                    t.id,
                    t.uri,
                    t.data.as_deref().unwrap_or(""),
                    t.headers,
                    describe(&f)
                ));
            }
        }
        println!("CRS {rel}: {ph}/{p} attacks blocked");
        pos += p;
        pos_hit += ph;
    }
    println!("CRS total: {pos_hit}/{pos} attacks, {neg_hit}/{neg} negative tests blocked");
    for n in &notes {
        println!("  {n}");
    }
    // Reached: 47 of 53 (the misses are XML bodies, which this simulation
    // does not decode, and 921130's meta refresh and HTTP/1.2 request
    // lines, which are not this crate's classes); one negative test blocks
    // (921140 #1, a bare CR in a header that the server answers with 400).
    if pos > 0 {
        assert!(pos_hit >= 47, "CRS recall {pos_hit}/{pos}");
        assert!(neg_hit <= 1, "CRS negatives blocked: {neg_hit}");
    }
}

#[test]
fn yaml_reader() {
    let y = "payload:\n  - 'a''b'\n  - \"c\\r\\nd\"\n  - plain text\n  - !!str |\n    line1\n    line2\nencoder:\n  - Plain\n";
    assert_eq!(
        yaml_list(y, "payload"),
        ["a'b", "c\r\nd", "plain text", "line1\nline2\n"]
    );
    assert_eq!(yaml_list(y, "encoder"), ["Plain"]);
}
