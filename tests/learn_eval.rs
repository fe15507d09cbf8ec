//! `rampart learn eval` at a small scale, as CI can afford it: one held-out
//! synthetic application, traffic through a real node (block mode, all
//! detectors) to a real cloud on SQLite, the learners, the learned rules
//! installed on the node, behaviour scenarios assessed as they happen.
//! The floors are below the goals because the run is small (the
//! full-size figures are in docs/BENCHMARKS.md); each is a behaviour that
//! fails when a layer breaks.

#![cfg(feature = "cloud")]
#![allow(clippy::unwrap_used, clippy::panic, clippy::disallowed_methods)]

use std::process::Command;

#[test]
fn learners_learn_a_held_out_application_through_a_real_node_and_cloud() {
    let data = std::env::temp_dir().join(format!("rampart-learn-eval-{}", std::process::id()));
    let out = Command::new(env!("CARGO_BIN_EXE_rampart"))
        .args([
            "learn",
            "eval",
            "--apps",
            "1",
            "--seed",
            "1003",
            "--demo",
            "false",
            "--learn-sessions",
            "300",
            "--monitor-sessions",
            "60",
            "--test-sessions",
            "300",
            "--per-threat",
            "1",
            "--injections",
            "60",
            "--phase-secs",
            "120",
            "--time-scale",
            "0.1",
            "--json",
            "--data",
        ])
        .arg(&data)
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&data);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let f = |k: &str| r[k].as_f64().unwrap_or(f64::NAN);
    let app = &r["apps"][0];
    eprintln!("{}", serde_json::to_string_pretty(&r).unwrap());
    // Layer 1: the requests land in templates that match the truth.
    assert!(
        f("grouping_accuracy") >= 0.9,
        "grouping {}",
        f("grouping_accuracy")
    );
    assert!(
        f("template_recall") >= 0.85,
        "recall {}",
        f("template_recall")
    );
    assert!(
        f("function_accuracy_held_out") >= 0.7,
        "functions {}",
        f("function_accuracy_held_out")
    );
    // Layer 2.
    assert!(
        f("format_accuracy") >= 0.8,
        "formats {}",
        f("format_accuracy")
    );
    // Layer 3: attacks detected, normal clients left alone.
    assert!(app["scenarios"].as_u64().unwrap() >= 3);
    assert!(
        f("behaviour_detection") >= 0.6,
        "behaviour {}",
        f("behaviour_detection")
    );
    assert!(
        app["false_alarm_clients"].as_u64().unwrap() <= 3,
        "false alarms {}",
        app["false_alarm_clients"]
    );
    // The rules: learned, promoted, installed; normal traffic passes and
    // injected values are blocked.
    assert!(app["learned_rules"].as_u64().unwrap() >= 10);
    assert!(app["blocking_rules"].as_u64().unwrap() >= 5);
    assert!(f("normal_tnr") >= 0.99, "TNR {}", f("normal_tnr"));
    assert!(
        f("injected_blocked") >= 0.6,
        "injected {}",
        f("injected_blocked")
    );
}
