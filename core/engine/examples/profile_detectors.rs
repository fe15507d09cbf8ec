//! The cost of each detector on the requests of the `decode` bench: the
//! whole engine with all detectors but one disabled, per request, minus the
//! engine with none (decoding alone).
//! Run: `cargo run --release -p rampart-core --example profile_detectors`.

#![allow(clippy::unwrap_used, clippy::print_stdout)]

#[allow(dead_code)]
#[path = "../benches/common/requests.rs"]
mod requests;

use rampart_core::{Engine, EngineConfig, Request};
use std::time::Instant;

fn per_request_us(e: &Engine, req: &Request) -> f64 {
    let mut ins = rampart_core::Inspection::new();
    for _ in 0..200 {
        e.inspect_into(req, &mut ins);
    }
    let n = 2000;
    let t = Instant::now();
    for _ in 0..n {
        e.inspect_into(req, &mut ins);
    }
    t.elapsed().as_secs_f64() / f64::from(n) * 1e6
}

fn main() {
    let reg = rampart_builtin_plugins::registry().unwrap();
    let names: Vec<&str> = reg.detectors().iter().map(|e| e.info.name).collect();
    let reqs = [
        ("get_5_params", requests::get_5_params()),
        ("json_2k", requests::json_post()),
    ];
    let engine = |disabled: Vec<String>| {
        Engine::new(
            &reg,
            EngineConfig {
                disabled,
                ..EngineConfig::default()
            },
        )
        .unwrap()
    };
    let all: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    let none = engine(all.clone());
    let every = engine(Vec::new());
    let base: Vec<f64> = reqs.iter().map(|(_, r)| per_request_us(&none, r)).collect();
    println!("{:<18} {:>14} {:>14}", "", reqs[0].0, reqs[1].0);
    println!(
        "{:<18} {:>11.2} us {:>11.2} us",
        "decoding alone", base[0], base[1]
    );
    let full: Vec<f64> = reqs
        .iter()
        .map(|(_, r)| per_request_us(&every, r))
        .collect();
    println!(
        "{:<18} {:>11.2} us {:>11.2} us",
        "all detectors", full[0], full[1]
    );
    for n in &names {
        let e = engine(all.iter().filter(|x| x != n).cloned().collect());
        let t: Vec<f64> = reqs.iter().map(|(_, r)| per_request_us(&e, r)).collect();
        println!(
            "{:<18} {:>+11.2} us {:>+11.2} us",
            n,
            t[0] - base[0],
            t[1] - base[1]
        );
    }
    for (name, req) in &reqs {
        let leaves = every.inspect(req).tree.leaves().count();
        println!("{name}: {leaves} leaves");
    }
}
