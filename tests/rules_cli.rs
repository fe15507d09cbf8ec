//! The `rampart rules` tools, run as a user would: check, test, fmt,
//! keygen, pack and verify, on the example rules and on broken input.

#![allow(clippy::unwrap_used, clippy::panic, clippy::disallowed_methods)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn rampart() -> Command {
    Command::new(env!("CARGO_BIN_EXE_rampart"))
}

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/rules")
}

/// Runs `rampart rules ARGS...`.
fn rules(args: &[&str]) -> Output {
    rampart().arg("rules").args(args).output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A fresh folder for one test.
fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("rampart-rules-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn example_files() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(examples())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "rules"))
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn check_accepts_the_examples() {
    let files = example_files();
    assert!(files.len() >= 6, "{files:?}");
    let args: Vec<&str> = std::iter::once("check")
        .chain(files.iter().map(String::as_str))
        .collect();
    let o = rules(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("all.rules: ok, 11 rules"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn check_reports_every_error_with_a_caret() {
    let d = scratch("check");
    let f = d.join("bad.rules");
    std::fs::write(
        &f,
        "rule a \"A\" {\n    endpoint \"/x\"\n    when qurey.q == \"1\"\n    then block\n}\n\nrule b \"B\" {\n    when len(query.q) > \"3\"\n    then blok\n}\n",
    )
    .unwrap();
    let o = rules(&["check", s(&f)]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.contains("error[E0201]: unknown point source `qurey`"),
        "{err}"
    );
    assert!(err.contains("bad.rules:3:10"), "{err}");
    assert!(
        err.contains("3 |     when qurey.q == \"1\"\n  |          ^^^^^"),
        "{err}"
    );
    assert!(err.contains("error[E0303]"), "{err}");
    assert!(err.contains("error[E0401]"), "{err}");
    assert!(err.contains("bad.rules: 3 errors"), "{err}");
}

#[test]
fn test_runs_the_example_cases() {
    let o = rules(&[
        "test",
        s(&examples().join("all.rules")),
        "--cases",
        s(&examples().join("cases.yaml")),
    ]);
    let out = stdout(&o);
    assert!(o.status.success(), "{out}{}", stderr(&o));
    assert!(out.contains("rules: 22 passed, 0 failed"), "{out}");
    assert!(!out.contains("FAIL"), "{out}");
}

#[test]
fn bench_compares_the_back_ends_on_generated_traffic() {
    for args in [
        vec![s(&examples().join("all.rules"))],
        vec!["--synthetic", "200", "--endpoints", "20"],
    ] {
        let mut all = vec!["bench", "--requests", "300", "--rounds", "1"];
        all.extend(args);
        let o = rules(&all);
        let out = stdout(&o);
        assert!(o.status.success(), "{out}{}", stderr(&o));
        assert!(out.contains("generated requests"), "{out}");
        assert!(out.contains("interpreter"), "{out}");
        // The binary's default build has the JIT: both back-ends ran and
        // agreed on every request.
        assert!(out.contains("jit"), "{out}");
        assert!(
            out.contains("the back-ends agree on every request"),
            "{out}"
        );
    }
}

#[test]
fn test_reports_a_failing_case() {
    let d = scratch("cases");
    let cases = d.join("cases.yaml");
    std::fs::write(
        &cases,
        "cases:\n  - name: wrong on purpose\n    request: { target: \"/cgi-bin/.%2e/.%2e/bin/sh\" }\n    expect: { decision: allow, matched: [] }\n  - name: right\n    request: { target: /index.html }\n    expect: { decision: allow }\n",
    )
    .unwrap();
    let o = rules(&[
        "test",
        s(&examples().join("virtual-patches.rules")),
        "--cases",
        s(&cases),
    ]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(out.contains("FAIL  wrong on purpose"), "{out}");
    assert!(out.contains("decision: expected allow, got block"), "{out}");
    assert!(
        out.contains("matched: expected [], got [\"cve-2021-41773\"]"),
        "{out}"
    );
    assert!(out.contains("ok    right"), "{out}");
    assert!(out.contains("rules: 1 passed, 1 failed"), "{out}");

    // A typo in a cases file is an error, not a silently ignored key.
    std::fs::write(
        &cases,
        "cases:\n  - name: typo\n    request: { target: / }\n    expect: { decison: allow }\n",
    )
    .unwrap();
    let o = rules(&[
        "test",
        s(&examples().join("virtual-patches.rules")),
        "--cases",
        s(&cases),
    ]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("decison"), "{}", stderr(&o));
}

#[test]
fn fmt_leaves_the_examples_alone_and_formats_a_messy_file() {
    let files = example_files();
    let args: Vec<&str> = ["fmt", "--check"]
        .into_iter()
        .chain(files.iter().map(String::as_str))
        .collect();
    let o = rules(&args);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));

    let d = scratch("fmt");
    let f = d.join("messy.rules");
    std::fs::write(
        &f,
        "# keep me\nrule   x \"X\"{then block when path~\"*.php\"   # trailing\n}\n",
    )
    .unwrap();
    let o = rules(&["fmt", "--check", s(&f)]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o).contains("messy.rules: not formatted"),
        "{}",
        stdout(&o)
    );
    let o = rules(&["fmt", s(&f)]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(&f).unwrap(),
        "# keep me\nrule x \"X\" {\n    when path ~ \"*.php\"  # trailing\n    then block\n}\n"
    );
    let o = rules(&["fmt", "--check", s(&f)]);
    assert!(o.status.success(), "{}", stdout(&o));

    // A file that does not parse is left alone, with its syntax errors.
    std::fs::write(&f, "rule x \"X\" { when path ~ then block }\n").unwrap();
    let o = rules(&["fmt", s(&f)]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("error[E0001]"), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(&f).unwrap(),
        "rule x \"X\" { when path ~ then block }\n"
    );
}

#[test]
fn keygen_pack_verify() {
    let d = scratch("pack");
    let key = d.join("ops");
    let o = rules(&["keygen", "--out", s(&key)]);
    assert!(o.status.success(), "{}", stderr(&o));
    let secret = d.join("ops.key");
    let public = d.join("ops.pub");
    assert_eq!(std::fs::read_to_string(&secret).unwrap().trim().len(), 64);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&secret).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // keygen never overwrites a key by accident.
    let o = rules(&["keygen", "--out", s(&key)]);
    assert!(!o.status.success());

    let pack = d.join("shop.pack");
    let o = rules(&[
        "pack",
        "--key",
        s(&secret),
        "--version",
        "3",
        "--app",
        "shop",
        "--out",
        s(&pack),
        s(&examples().join("all.rules")),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("application shop version 3, 11 rules in 6 files"),
        "{}",
        stdout(&o)
    );
    let text = std::fs::read_to_string(&pack).unwrap();
    assert!(
        text.starts_with("rampart-pack 1\napplication shop\nversion 3\n"),
        "{text}"
    );
    assert!(text.contains("\nentry all.rules\n"), "{text}");
    assert!(text.contains(" bola-guard.rules\n"), "{text}");

    let o = rules(&["verify", "--pubkey", s(&public), "--app", "shop", s(&pack)]);
    let out = stdout(&o);
    assert!(o.status.success(), "{out}{}", stderr(&o));
    assert!(out.contains("verified"), "{out}");
    assert!(out.contains("rules        11"), "{out}");
    assert!(out.contains("version      3"), "{out}");

    // Another application, another key, a modified pack: refused.
    let o = rules(&["verify", "--pubkey", s(&public), "--app", "blog", s(&pack)]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("not `blog`"), "{}", stderr(&o));
    let other = d.join("other");
    assert!(rules(&["keygen", "--out", s(&other)]).status.success());
    let o = rules(&["verify", "--pubkey", s(&d.join("other.pub")), s(&pack)]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("not trusted"), "{}", stderr(&o));
    let evil = d.join("evil.pack");
    std::fs::write(&evil, text.replace("limit = 5", "limit = 9")).unwrap();
    let o = rules(&["verify", "--pubkey", s(&public), s(&evil)]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("does not match its manifest"),
        "{}",
        stderr(&o)
    );

    // Rules with errors make no pack.
    let bad = d.join("bad.rules");
    std::fs::write(&bad, "rule x \"X\" { when qurey.q == \"1\" then block }\n").unwrap();
    let none = d.join("none.pack");
    let o = rules(&[
        "pack",
        "--key",
        s(&secret),
        "--version",
        "4",
        "--out",
        s(&none),
        s(&bad),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("error[E0201]"), "{}", stderr(&o));
    assert!(!none.exists());
}
