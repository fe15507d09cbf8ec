//! The whole engine on arbitrary requests: every decoder composed with every
//! other, in any order. It must never panic and must stay in budget.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use rampart_core::{Engine, EngineConfig, LimitsConfig};

fn engine() -> &'static Engine {
    static E: OnceLock<Engine> = OnceLock::new();
    E.get_or_init(|| {
        let reg = rampart_builtin_plugins::registry().expect("registry");
        let cfg = EngineConfig {
            limits: LimitsConfig { max_nodes: 500, max_bytes: 1 << 18, ..LimitsConfig::default() },
            ..EngineConfig::default()
        };
        Engine::new(&reg, cfg).expect("engine")
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(req) = rampart_core::http1::parse_request(data) else { return };
    let ins = engine().inspect(&req);
    assert!(ins.tree.len() <= 500);
    let _ = ins.to_json();
});
