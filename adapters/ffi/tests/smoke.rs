//! The C ABI from a C program: tests/c/smoke.c compiled with cc, linked
//! against the static library this test run built, run on real node.toml
//! files (attack blocked, benign allowed, bad configuration reported, NULL
//! and non-UTF-8 arguments, several threads, the over-limit policy).

mod common;

use std::process::Command;

#[test]
fn the_c_smoke_program_passes() {
    let dir = common::scratch("smoke");
    let log = dir.join("rampart.log");
    let block = dir.join("block.toml");
    std::fs::write(
        &block,
        format!(
            "mode = \"block\"\nlog_format = \"json\"\nlog_file = {:?}\n",
            log.display().to_string()
        ),
    )
    .expect("write");
    let over = dir.join("over-limit.toml");
    std::fs::write(
        &over,
        "mode = \"block\"\n[inspection]\nbody_limit = 1024\nover_limit = \"block\"\n[telemetry]\nenabled = false\n",
    )
    .expect("write");
    let bad = dir.join("bad.toml");
    std::fs::write(&bad, "mode = \"sideways\"\n").expect("write");

    let exe = dir.join("smoke");
    common::compile_c(&common::crate_dir().join("tests/c/smoke.c"), &exe);
    let out = Command::new(&exe)
        .arg(&block)
        .arg(&over)
        .arg(&bad)
        .output()
        .expect("run smoke");
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    eprintln!("{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        out.status.success(),
        "smoke failed ({}):\n{stdout}",
        out.status
    );
    assert!(stdout.contains("0 of "), "{stdout}");

    // The verdicts went to node.toml's log file, as JSON lines naming the
    // adapter the C caller gave.
    let text = std::fs::read_to_string(&log).expect("the guard's log file");
    let blocked: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("\"request blocked\""))
        .collect();
    assert!(!blocked.is_empty(), "no verdict lines in {text}");
    assert!(
        blocked.iter().all(|l| l.contains("\"adapter\":\"smoke\"")),
        "{text}"
    );
    assert!(text.contains("\"path\":\"/search\""), "{text}");
    // The program links the whole engine (tens of MB): do not keep it.
    let _ = std::fs::remove_dir_all(&dir);
}
