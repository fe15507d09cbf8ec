//! The suite can fail: with nothing in front of the echo backend (the
//! "server under test" is the backend itself), every attack, the virtual
//! patch and the oversized bodies fail, and every benign case passes.

use rampart_conformance::backend::Echo;
use rampart_conformance::cases::{all, Expect};
use rampart_conformance::{prepare, run, Targets};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unprotected_server_fails_exactly_the_protective_cases() {
    let dir = std::env::temp_dir().join(format!("rampart-conformance-none-{}", std::process::id()));
    let echo = Echo::start("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let files = prepare(&dir, echo.addr()).unwrap();
    let report = run(
        &Targets {
            adapter: "none".into(),
            block: Some(echo.addr()),
            monitor: Some(echo.addr()),
            files,
            log_wait: std::time::Duration::from_millis(200),
        },
        &echo,
    )
    .await;
    let cases = all();
    for o in &report.outcomes {
        let case = cases.iter().find(|c| c.id == o.case).unwrap();
        let should_pass = match (case.expect, o.mode) {
            (Expect::Benign, _) => true,
            // Monitor mode passes attacks, but the log line is missing.
            (Expect::Attack, _) | (Expect::Patched, _) | (Expect::TooLarge, _) => false,
        };
        assert_eq!(o.passed, should_pass, "{} {}: {}", o.mode, o.case, o.detail);
    }
    assert!(!report.ok());
    assert!(report.render().contains("FAILED"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_configuration_parses_as_a_node_toml() {
    let dir =
        std::env::temp_dir().join(format!("rampart-conformance-files-{}", std::process::id()));
    let files = prepare(&dir, "127.0.0.1:18080".parse().unwrap()).unwrap();
    for p in [&files.block_config, &files.monitor_config] {
        let text = std::fs::read_to_string(p).unwrap();
        let v: toml::Value = toml::from_str(&text).unwrap();
        assert_eq!(v["upstream"].as_str(), Some("http://127.0.0.1:18080"));
        assert_eq!(v["inspection"]["over_limit"].as_str(), Some("block"));
    }
    let _ = std::fs::remove_dir_all(&dir);
}
