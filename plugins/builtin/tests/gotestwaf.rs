//! The GoTestWAF corpus (`../shared/corpus/gotestwaf`) through the engine
//! with every built-in plugin, in block mode with the default policy, in
//! process: the requests `bench/wafbench.sh` sends to a node over HTTP,
//! byte for byte. Attack sets must be blocked at a true-positive rate of at
//! least 97% and the `false-pos` sets let through at a true-negative rate of
//! at least 98% (issue 4's goals); the misses are printed.

#![allow(clippy::print_stdout)]

use rampart_core::{http1, Engine, EngineConfig};
use rampart_types::Action;

#[test]
fn gotestwaf_true_positive_and_true_negative_rates() {
    let reg = rampart_builtin_plugins::registry().unwrap();
    let engine = Engine::new(&reg, EngineConfig::default()).unwrap();
    let reqs = rampart_testkit::gotestwaf_requests(".", "localhost:8080");
    assert!(reqs.len() > 700, "only {} requests", reqs.len());
    let (mut tp, mut attacks, mut tn, mut benign) = (0usize, 0usize, 0usize, 0usize);
    for (pid, raw) in &reqs {
        // A request the node cannot parse is answered 400: not blocked.
        let blocked = http1::parse_request(raw)
            .is_ok_and(|req| engine.inspect(&req).verdict.action == Action::Block);
        if pid.starts_with("false-pos/") {
            benign += 1;
            tn += usize::from(!blocked);
            if blocked {
                println!("false positive: {pid}");
            }
        } else {
            attacks += 1;
            tp += usize::from(blocked);
            if !blocked {
                println!("bypass: {pid}");
            }
        }
    }
    let tpr = 100.0 * tp as f64 / attacks as f64;
    let tnr = 100.0 * tn as f64 / benign as f64;
    println!("GoTestWAF: TPR {tpr:.2}% ({tp}/{attacks}), TNR {tnr:.2}% ({tn}/{benign})");
    assert!(tpr >= 97.0, "TPR {tpr:.2}% below 97%");
    assert!(tnr >= 98.0, "TNR {tnr:.2}% below 98%");
}
