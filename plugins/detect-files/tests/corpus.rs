//! Recall on the attack corpora and false positives on the benign sets,
//! through a model of the engine's decoding of whole requests
//! (`common::tree_of`). A request counts as detected when the scores of
//! one class (traversal, rfi or ssrf) sum to 50 or more, as the engine
//! decides. Prints the figures; asserts the reached targets.
//!
//! `cargo test -p rampart-detect-files --test corpus -- --nocapture`
//! (`RAMPART_SHARED` points elsewhere than `../../../shared`; set
//! `RAMPART_VERBOSE=1` to list every miss and false positive).

mod common;

use common::*;

fn verbose() -> bool {
    std::env::var_os("RAMPART_VERBOSE").is_some()
}

/// GoTestWAF files of these types and how their payloads are placed.
const GTW: &[(&str, &[&str])] = &[
    (
        "gotestwaf/testcases/owasp/path-traversal.yml",
        &[
            "URLPath",
            "URLParam",
            "HTMLForm",
            "HTMLMultipartForm",
            "JSONRequest",
        ],
    ),
    (
        "gotestwaf/testcases/community/community-lfi.yml",
        &["URLParam", "HTMLForm", "HTMLMultipartForm", "JSONRequest"],
    ),
    (
        "gotestwaf/testcases/community/community-lfi-multipart.yml",
        &["MultipartName"],
    ),
];

/// The GoTestWAF payloads of other types that are (also) file or
/// request-forgery attacks.
const GTW_OTHER: &[&str] = &[
    "`curl -L http://\u{24BC}\u{24C4}\u{24C4}\u{24BC}\u{24C1}\u{24BA}.\u{24B8}\u{24C4}\u{24C2}`",
    "<!DOCTYPE foo [ <!ENTITY data SYSTEM \"netdoc:/etc/passwd\">]><foo>&data;</foo>",
    "cmd=cat /etc/passwd",
    "() { :; }; echo ; /bin/bash -c 'cat /etc/passwd'",
];

#[test]
fn gotestwaf_recall() {
    let (mut n, mut hit) = (0, 0);
    for (file, placeholders) in GTW {
        let Some(text) = corpus(file) else {
            eprintln!("skip: {file} not found");
            return;
        };
        let payloads = yaml_list(&text, "payload");
        assert!(!payloads.is_empty(), "{file}: no payloads");
        let (mut fn_, mut fh) = (0, 0);
        for p in &payloads {
            for ph in *placeholders {
                let (sums, rules) = score_request(&placed(ph, "file", p));
                let (sums2, _) = score_request(&placed(ph, "q", p));
                fn_ += 2;
                fh += usize::from(blocked(&sums)) + usize::from(blocked(&sums2));
                if (!blocked(&sums) || !blocked(&sums2)) && verbose() {
                    eprintln!("MISS {file} {ph} {p:?} {sums:?} {sums2:?} {rules:?}");
                }
            }
        }
        eprintln!("gotestwaf {file}: {fh}/{fn_}");
        n += fn_;
        hit += fh;
    }
    let mut other = 0;
    for p in GTW_OTHER {
        let (sums, _) = score_request(&placed("URLParam", "q", p));
        other += usize::from(blocked(&sums));
        if !blocked(&sums) {
            eprintln!("gotestwaf other type, missed: {p:?} {sums:?}");
        }
    }
    eprintln!(
        "gotestwaf traversal/lfi: {hit}/{n} = {:.1}%; other types with file/SSRF payloads: {other}/{}",
        100.0 * hit as f64 / n as f64,
        GTW_OTHER.len()
    );
    assert_eq!(hit, n, "recall {hit}/{n}");
    assert_eq!(other, GTW_OTHER.len());
}

/// CRS families and the rule files they are measured on.
const CRS: &[(&str, &str, &[&str])] = &[
    ("930 LFI", "REQUEST-930-APPLICATION-ATTACK-LFI", &[]),
    ("931 RFI", "REQUEST-931-APPLICATION-ATTACK-RFI", &[]),
    (
        "934 SSRF",
        "REQUEST-934-APPLICATION-ATTACK-GENERIC",
        &["934110", "934120", "934170", "934190"],
    ),
];

fn crs_family(dir: &str, only: &[&str]) -> Option<Vec<FtwCase>> {
    let base = shared().join("corpus/crs-regression/tests").join(dir);
    let mut files: Vec<_> = std::fs::read_dir(&base)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let stem = f
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_string();
        if !only.is_empty() && !only.contains(&stem.as_str()) {
            continue;
        }
        let text = String::from_utf8_lossy(&std::fs::read(&f).ok()?).into_owned();
        out.extend(read_ftw(&text));
    }
    Some(out)
}

#[test]
fn crs_recall() {
    let mut results = Vec::new();
    for (name, dir, only) in CRS {
        let Some(cases) = crs_family(dir, only) else {
            eprintln!("skip: {dir} not found");
            return;
        };
        let (mut n, mut hit, mut neg, mut neg_hit) = (0, 0, 0, 0);
        for c in &cases {
            let (sums, rules) = score_request(&c.req);
            let b = blocked(&sums);
            if c.attack {
                n += 1;
                hit += usize::from(b);
                if !b {
                    eprintln!(
                        "  {name} passed {}: {} {:?} {:?}",
                        c.id,
                        String::from_utf8_lossy(&c.req.uri),
                        String::from_utf8_lossy(&c.req.body[..c.req.body.len().min(120)]),
                        if verbose() { rules } else { Vec::new() }
                    );
                }
            } else {
                neg += 1;
                neg_hit += usize::from(b);
                if b && verbose() {
                    eprintln!("  {name} negative flagged {}: {:?}", c.id, rules);
                }
            }
        }
        eprintln!(
            "CRS {name}: {hit}/{n} = {:.1}% (no_expect cases flagged: {neg_hit}/{neg})",
            100.0 * hit as f64 / n.max(1) as f64
        );
        results.push((*name, hit, n));
    }
    for (name, hit, n) in results {
        // Reached on this corpus; 931 stays low by design: plain URLs to
        // other domains (931130) and bare scheme words (931120) pass.
        let target = match name {
            "930 LFI" => 93,
            "931 RFI" => 55,
            _ => 100,
        };
        assert!(hit * 100 >= n * target, "{name}: {hit}/{n} below {target}%");
    }
}

fn benign_lines(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(
            |l| match l.strip_prefix('@').and_then(|r| r.split_once(' ')) {
                Some((k, v)) => (k.to_string(), v.to_string()),
                None => ("q".to_string(), l.to_string()),
            },
        )
        .collect()
}

fn fp_rate(name: &str, items: &[(String, String)], placeholders: &[&str]) -> (usize, usize) {
    let mut fp = 0;
    for (k, v) in items {
        let mut bad = false;
        for ph in placeholders {
            let (sums, rules) = score_request(&placed(ph, k, v));
            if blocked(&sums) {
                bad = true;
                eprintln!("  FP {name} {ph} {k}={v:?} {sums:?} {rules:?}");
            }
        }
        fp += usize::from(bad);
    }
    eprintln!(
        "benign {name}: {fp}/{} flagged ({:.2}%)",
        items.len(),
        100.0 * fp as f64 / items.len().max(1) as f64
    );
    (fp, items.len())
}

#[test]
fn gotestwaf_false_positives() {
    let Some(text) = corpus("gotestwaf/testcases/false-pos/texts.yml") else {
        eprintln!("skip: texts.yml not found");
        return;
    };
    let items: Vec<_> = yaml_list(&text, "payload")
        .into_iter()
        .map(|p| ("q".to_string(), p))
        .collect();
    assert!(items.len() > 40);
    let (fp, _) = fp_rate(
        "gotestwaf false-pos",
        &items,
        &["URLParam", "HTMLForm", "HTMLMultipartForm"],
    );
    assert_eq!(fp, 0);
}

#[test]
fn libinjection_false_positives() {
    let Some(text) = corpus("libinjection/false_positives.txt") else {
        eprintln!("skip: false_positives.txt not found");
        return;
    };
    let items: Vec<_> = text
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| ("q".to_string(), l.to_string()))
        .collect();
    let (fp, n) = fp_rate("libinjection false_positives", &items, &["URLParam"]);
    assert!(fp * 1000 <= n * 5, "{fp}/{n}");
}

#[test]
fn own_benign_set() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/benign.txt"))
        .expect("testdata/benign.txt");
    let items = benign_lines(&text);
    assert!(items.len() >= 300, "only {} benign lines", items.len());
    let (fp, n) = fp_rate("testdata/benign.txt", &items, &["URLParam", "JSONRequest"]);
    assert!(fp * 1000 <= n * 5, "{fp}/{n}");
}

/// Prints what the detectors report for the request in `RAMPART_DEBUG_URI`
/// (and `RAMPART_DEBUG_BODY`, `RAMPART_DEBUG_CT`).
#[test]
#[ignore]
fn debug_request() {
    let uri = std::env::var("RAMPART_DEBUG_URI").unwrap_or_else(|_| "/".into());
    let mut req = Req::get(uri.as_bytes());
    if let Ok(b) = std::env::var("RAMPART_DEBUG_BODY") {
        req.method = "POST".into();
        req.body = b.replace("\\n", "\n").into_bytes();
    }
    if let Ok(c) = std::env::var("RAMPART_DEBUG_CT") {
        req.headers.push(("Content-Type".into(), c.into_bytes()));
    }
    let t = tree_of(&req);
    for id in t.leaves() {
        eprintln!(
            "point {} = {:?}",
            t.path(id),
            String::from_utf8_lossy(t.value(id))
        );
    }
    let (sums, rules) = score_request(&req);
    eprintln!("{sums:?} {rules:#?}");
}

/// Informational: how often the detectors block the attack lines of other
/// classes (libinjection SQLi and XSS) and the `no_expect_ids` stages of
/// every CRS family (requests a rule must not flag; mostly benign).
#[test]
#[ignore]
fn cross_class_noise() {
    let Ok(dir) = std::fs::read_dir(shared().join("corpus/libinjection")) else {
        return;
    };
    let mut files: Vec<_> = dir.flatten().map(|e| e.path()).collect();
    files.sort();
    let (mut n, mut hit) = (0, 0);
    for f in files {
        let name = f
            .file_name()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_string();
        if !(name.starts_with("sqli-") || name.starts_with("xss-")) {
            continue;
        }
        let text = String::from_utf8_lossy(&std::fs::read(&f).unwrap_or_default()).into_owned();
        for l in text.lines().filter(|l| !l.is_empty()) {
            n += 1;
            let (sums, rules) = score_request(&placed("URLParam", "q", l));
            if blocked(&sums) {
                hit += 1;
                if verbose() {
                    eprintln!("  {name}: {l:?} {rules:?}");
                }
            }
        }
    }
    eprintln!("libinjection sqli/xss lines blocked by file detectors: {hit}/{n}");
    let base = shared().join("corpus/crs-regression/tests");
    let Ok(dirs) = std::fs::read_dir(&base) else {
        return;
    };
    let mut dirs: Vec<_> = dirs.flatten().map(|e| e.path()).collect();
    dirs.sort();
    let (mut n, mut hit) = (0, 0);
    for d in dirs {
        let mut files: Vec<_> = std::fs::read_dir(&d)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .collect();
        files.sort();
        for f in files {
            let text = String::from_utf8_lossy(&std::fs::read(&f).unwrap_or_default()).into_owned();
            for c in read_ftw(&text).into_iter().filter(|c| !c.attack) {
                n += 1;
                let (sums, rules) = score_request(&c.req);
                if blocked(&sums) {
                    hit += 1;
                    eprintln!("  CRS no_expect {} blocked: {rules:?}", c.id);
                }
            }
        }
    }
    eprintln!("CRS no_expect stages (all families) blocked: {hit}/{n}");
}
