#![allow(clippy::unwrap_used, clippy::panic)]

use std::sync::Arc;

use super::keys::{self, base64, hex, signing_key, unbase64, unhex};
use super::*;
use crate::{Interpreter, MemoryCounters, Outcome, RulePhase, StaticView};

const COMMON: &str = "rule scanner \"Scanner user agents\" {\n    when header[\"user-agent\"] ~ \"*sqlmap*\"\n    then block\n}\n";
const SHOP: &str = "include \"lib/common.rules\"\n\nrule no-php \"No PHP\" {\n    when path ~ \"*.php\"\n    then block(404)\n}\n";
const LIB_COMMON: &str = "include \"../common.rules\"\n";

fn files() -> Vec<(String, String)> {
    vec![
        ("common.rules".into(), COMMON.into()),
        ("lib/common.rules".into(), LIB_COMMON.into()),
        ("shop.rules".into(), SHOP.into()),
    ]
}

fn key(n: u8) -> ed25519_dalek::SigningKey {
    signing_key(&[n; 32])
}

fn signed(version: u64, files: Vec<(String, String)>) -> Vec<u8> {
    let mut p = Pack::build(
        "shop",
        version,
        1_764_331_200,
        vec!["shop.rules".into()],
        files,
    )
    .unwrap();
    p.sign(&key(1));
    p.to_bytes()
}

fn trust(n: u8) -> TrustedKeys {
    TrustedKeys::new(vec![key(n).verifying_key()])
}

#[test]
fn round_trip_sign_verify_compile() {
    let bytes = signed(3, files());
    let (pack, id, prog) = Pack::open(&bytes, &trust(1), Some("shop")).unwrap();
    assert_eq!(id, KeyId::of(&key(1).verifying_key()));
    assert_eq!(pack.manifest.version, 3);
    assert_eq!(pack.manifest.rules, 2);
    assert_eq!(prog.rules.len(), 2);
    assert_eq!(pack.file("lib/common.rules"), Some(LIB_COMMON));
    // Writing a parsed pack gives the same bytes.
    assert_eq!(pack.to_bytes(), bytes);
    let text = String::from_utf8(bytes).unwrap();
    assert!(
        text.starts_with("rampart-pack 1\napplication shop\nversion 3\n"),
        "{text}"
    );
    assert!(text.contains("\nentry shop.rules\n"));
}

#[test]
fn tampered_source_is_refused() {
    let bytes = signed(1, files());
    let text = String::from_utf8(bytes).unwrap();
    // Same length, other rule: the file hash no longer matches.
    let evil = text.replace("*.php", "*.PHP");
    let err = Pack::open(evil.as_bytes(), &trust(1), None).unwrap_err();
    assert!(matches!(err, PackError::FileMismatch(_)), "{err}");
    assert!(err.to_string().contains("SHA-256 of `shop.rules`"), "{err}");
}

#[test]
fn tampered_manifest_and_rehashed_is_refused() {
    // An attacker who rewrites a file, its hash and the digest still
    // cannot make the signature verify.
    let mut p = Pack::parse(&signed(1, files())).unwrap();
    let evil = SHOP.replace("block(404)", "monitor   ");
    let i = p
        .manifest
        .files
        .iter()
        .position(|f| f.name == "shop.rules")
        .unwrap();
    p.manifest.files[i].sha256 = keys::sha256(evil.as_bytes());
    p.manifest.files[i].len = evil.len() as u64;
    p.texts[i] = evil;
    let bytes = p.to_bytes();
    let err = Pack::open(&bytes, &trust(1), None).unwrap_err();
    assert!(matches!(err, PackError::BadSignature(_)), "{err}");
}

#[test]
fn wrong_key_is_refused() {
    let bytes = signed(1, files());
    let err = Pack::open(&bytes, &trust(2), None).unwrap_err();
    assert!(matches!(err, PackError::UnknownKey(_)), "{err}");
    assert!(err.to_string().contains("not trusted"));
    // A forged signature under the trusted key's id.
    let mut p = Pack::parse(&bytes).unwrap();
    p.sign(&key(2));
    p.signature.as_mut().unwrap().key_id = KeyId::of(&key(1).verifying_key());
    let err = Pack::open(&p.to_bytes(), &trust(1), None).unwrap_err();
    assert!(matches!(err, PackError::BadSignature(_)), "{err}");
}

#[test]
fn unsigned_is_refused() {
    let p = Pack::build("shop", 1, 0, vec!["shop.rules".into()], files()).unwrap();
    let err = Pack::open(&p.to_bytes(), &trust(1), None).unwrap_err();
    assert!(matches!(err, PackError::Unsigned), "{err}");
}

#[test]
fn wrong_application_is_refused() {
    let err = Pack::open(&signed(1, files()), &trust(1), Some("blog")).unwrap_err();
    assert!(matches!(err, PackError::WrongApplication { .. }), "{err}");
}

#[test]
fn malformed_packs_are_refused() {
    let good = String::from_utf8(signed(1, files())).unwrap();
    let cases: Vec<(String, &str)> = vec![
        ("hello".into(), "no end of header"),
        (
            good.replacen("rampart-pack 1", "rampart-pack 9", 1),
            "format 9",
        ),
        (
            good.replacen("version 1\n", "version 01\n", 1),
            "decimal number",
        ),
        (good.replacen("version 1\n", "", 1), "expected `version"),
        (format!("{good}trailing"), "after the last file"),
        (good[..good.len() - 3].to_string(), "cut short"),
        (
            good.replacen("file ", "file x", 1),
            "file LENGTH SHA256 NAME",
        ),
        (
            good.replacen("application shop\n", "application shop\r\n", 1),
            "application",
        ),
        (
            good.replacen("digest sha256:", "digest sha256:0", 1),
            "digest sha256:HEX",
        ),
        (
            good.replacen("signature ed25519 ", "signature rsa ", 1),
            "signature ed25519",
        ),
    ];
    for (text, want) in cases {
        let err = Pack::parse(text.as_bytes()).unwrap_err();
        assert!(err.to_string().contains(want), "{want}: {err}");
    }
}

#[test]
fn build_refuses_bad_names_and_broken_rules() {
    for bad in ["../x.rules", "/abs.rules", "a//b", "a\"b", "<entries>"] {
        let files = vec![(bad.to_string(), COMMON.to_string())];
        let err = Pack::build("shop", 1, 0, vec![bad.into()], files).unwrap_err();
        assert!(matches!(err, PackError::Malformed(_)), "{bad}: {err}");
    }
    let err = Pack::build(
        "sh op",
        1,
        0,
        vec!["a".into()],
        vec![("a".into(), COMMON.into())],
    )
    .unwrap_err();
    assert!(err.to_string().contains("application"), "{err}");
    let broken = vec![(
        "shop.rules".to_string(),
        "rule x \"x\" { when qurey.q == \"1\" then block }\n".to_string(),
    )];
    let err = Pack::build("shop", 1, 0, vec!["shop.rules".into()], broken).unwrap_err();
    let PackError::Compile(d) = &err else {
        panic!("{err}")
    };
    assert!(d.render().contains("error[E0201]"), "{}", d.render());
    // An include that leaves the pack.
    let out = vec![(
        "a.rules".to_string(),
        "include \"../b.rules\"\n".to_string(),
    )];
    let err = Pack::build("shop", 1, 0, vec!["a.rules".into()], out).unwrap_err();
    assert!(err.to_string().contains("inside the pack"), "{err}");
}

#[test]
fn several_entries_compile_together() {
    let files = vec![
        ("a.rules".to_string(), COMMON.to_string()),
        (
            "b.rules".to_string(),
            "rule b \"b\" { when path == \"/b\" then monitor }\n".to_string(),
        ),
    ];
    let mut p = Pack::build(
        "shop",
        1,
        0,
        vec!["a.rules".into(), "b.rules".into()],
        files,
    )
    .unwrap();
    assert_eq!(p.manifest.rules, 2);
    p.sign(&key(1));
    let (_, _, prog) = Pack::open(&p.to_bytes(), &trust(1), None).unwrap();
    let ids: Vec<&str> = prog.rules.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["scanner", "b"]);
}

#[test]
fn rule_count_mismatch_is_refused() {
    let mut p = Pack::build("shop", 1, 0, vec!["shop.rules".into()], files()).unwrap();
    p.manifest.rules = 7;
    p.sign(&key(1));
    let err = Pack::open(&p.to_bytes(), &trust(1), None).unwrap_err();
    assert!(
        matches!(
            err,
            PackError::RuleCount {
                manifest: 7,
                compiled: 2
            }
        ),
        "{err}"
    );
}

fn eval_path(slot: &PackSlot, path: &str) -> Vec<String> {
    let active = slot.current().unwrap();
    let mut view = StaticView::default();
    let t = &mut view.tree;
    let v = t.push_bytes(path.as_bytes());
    t.push_node(
        rampart_types::NodeId::ROOT,
        rampart_types::Seg::Source(rampart_types::Source::Path),
        rampart_types::NodeKind::Leaf,
        v,
    );
    let mut out = Outcome::default();
    let mut c = MemoryCounters::default();
    active
        .evaluator
        .evaluate(&view, RulePhase::Request, &mut c, 0, &mut out);
    out.describe(active.evaluator.program())
}

#[test]
fn slot_swaps_and_keeps_the_last_good_pack() {
    let slot = PackSlot::new(trust(1), Some("shop".into()));
    assert!(slot.current().is_none());
    let r = slot.install(&signed(1, files()), &Interpreter).unwrap();
    assert_eq!(
        r,
        Installed::Swapped {
            previous: None,
            version: 1
        }
    );
    assert_eq!(eval_path(&slot, "/x.php"), ["no-php: block 404"]);
    let held = slot.current().unwrap();

    // Broken rules: refused, version 1 stays.
    let mut broken = files();
    broken[2].1 = SHOP.replace("when path", "when pth");
    let mut p = Pack::parse(&signed(1, files())).unwrap();
    p.manifest.version = 2;
    p.manifest.files[2].sha256 = keys::sha256(broken[2].1.as_bytes());
    p.manifest.files[2].len = broken[2].1.len() as u64;
    p.texts[2] = broken[2].1.clone();
    p.sign(&key(1));
    let err = slot.install(&p.to_bytes(), &Interpreter).unwrap_err();
    assert!(matches!(err, PackError::Compile(_)), "{err}");
    assert!(slot.last_error().unwrap().contains("E0201"));
    assert_eq!(slot.current().unwrap().manifest.version, 1);
    assert_eq!(eval_path(&slot, "/x.php"), ["no-php: block 404"]);

    // Unsigned and wrong key: refused too.
    let err = slot
        .install(
            &Pack::build("shop", 5, 0, vec!["shop.rules".into()], files())
                .unwrap()
                .to_bytes(),
            &Interpreter,
        )
        .unwrap_err();
    assert!(matches!(err, PackError::Unsigned));
    let mut other = Pack::build("shop", 5, 0, vec!["shop.rules".into()], files()).unwrap();
    other.sign(&key(3));
    assert!(matches!(
        slot.install(&other.to_bytes(), &Interpreter),
        Err(PackError::UnknownKey(_))
    ));

    // A newer good pack swaps in; the request that held version 1 still
    // evaluates against it.
    let mut newer = files();
    newer[2].1 = SHOP.replace("block(404)", "block(410)");
    let r = slot.install(&signed(4, newer), &Interpreter).unwrap();
    assert_eq!(
        r,
        Installed::Swapped {
            previous: Some(1),
            version: 4
        }
    );
    assert!(slot.last_error().is_none());
    assert_eq!(eval_path(&slot, "/x.php"), ["no-php: block 410"]);
    assert_eq!(held.manifest.version, 1);

    // Going backwards is refused; the same pack again is a no-op.
    let err = slot.install(&signed(3, files()), &Interpreter).unwrap_err();
    assert!(
        matches!(
            err,
            PackError::NotNewer {
                current: 4,
                offered: 3
            }
        ),
        "{err}"
    );
    let mut same_version = files();
    same_version[2].1 = SHOP.replace("block(404)", "block(499)");
    let err = slot
        .install(&signed(4, same_version), &Interpreter)
        .unwrap_err();
    assert!(matches!(err, PackError::NotNewer { .. }), "{err}");
    let mut again = files();
    again[2].1 = SHOP.replace("block(404)", "block(410)");
    let r = slot.install(&signed(4, again), &Interpreter).unwrap();
    assert_eq!(r, Installed::Unchanged { version: 4 });
}

#[test]
fn slot_is_shared_across_threads() {
    let slot = Arc::new(PackSlot::new(trust(1), None));
    slot.install(&signed(1, files()), &Interpreter).unwrap();
    let readers: Vec<_> = (0..4)
        .map(|_| {
            let s = Arc::clone(&slot);
            std::thread::spawn(move || {
                for _ in 0..200 {
                    let v = s.current().unwrap().manifest.version;
                    assert!((1..=6).contains(&v));
                }
            })
        })
        .collect();
    for v in 2..=6 {
        slot.install(&signed(v, files()), &Interpreter).unwrap();
    }
    for r in readers {
        r.join().unwrap();
    }
    assert_eq!(slot.current().unwrap().manifest.version, 6);
}

#[test]
fn keys_read_hex_and_base64() {
    let k = key(9);
    let pubk = k.verifying_key();
    let h = hex(pubk.as_bytes());
    let b = base64(pubk.as_bytes());
    assert_eq!(b.len(), 44);
    assert_eq!(keys::read_verifying_key(&format!("{h}\n")).unwrap(), pubk);
    assert_eq!(keys::read_verifying_key(&b).unwrap(), pubk);
    assert_eq!(
        keys::read_verifying_key(b.trim_end_matches('=')).unwrap(),
        pubk
    );
    let seed = hex(&[9u8; 32]);
    assert_eq!(keys::read_signing_key(&seed).unwrap().verifying_key(), pubk);
    assert!(keys::read_verifying_key("abc").is_err());
    assert!(keys::read_signing_key(&hex(&[1u8; 31])).is_err());
    for data in [&b""[..], b"f", b"fo", b"foo", b"foob", b"fooba", b"foobar"] {
        assert_eq!(unbase64(&base64(data)).unwrap(), data);
        assert_eq!(unhex(&hex(data)).unwrap(), data);
    }
    assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    assert!(unbase64("Zm9=").is_none());
}

#[test]
fn names_resolve_inside_the_pack() {
    assert_eq!(
        normalize_name(Some("a/b/c.rules"), "../d.rules").as_deref(),
        Some("a/d.rules")
    );
    assert_eq!(
        normalize_name(Some("c.rules"), "./x/y.rules").as_deref(),
        Some("x/y.rules")
    );
    assert_eq!(normalize_name(None, "x.rules").as_deref(), Some("x.rules"));
    assert!(normalize_name(Some("c.rules"), "../x.rules").is_none());
    assert!(normalize_name(Some("c.rules"), "/etc/passwd").is_none());
}

#[test]
fn dates() {
    assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
    assert_eq!(rfc3339(1_764_331_200), "2025-11-28T12:00:00Z");
    assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
}
