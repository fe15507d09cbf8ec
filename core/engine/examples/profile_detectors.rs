//! The cost of each detector on the requests of the `decode` bench: the
//! whole engine with all detectors but one disabled, per request, minus the
//! engine with none (decoding alone).
//! Run: `cargo run --release -p rampart-core --example profile_detectors`.
//! With `-- get` or `-- json` it only inspects that request with every
//! detector, 20,000 times: a steady load for `perf record` or
//! `valgrind --tool=callgrind`.

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
    if std::env::args().nth(1).as_deref() == Some("matrix") {
        matrix(&reg, &reqs);
        return;
    }
    if let Some(which) = std::env::args().nth(1) {
        let (_, req) = reqs
            .iter()
            .find(|(n, _)| n.starts_with(which.as_str()))
            .expect("get or json");
        let e = engine(Vec::new());
        let mut ins = rampart_core::Inspection::new();
        for _ in 0..20_000 {
            e.inspect_into(req, &mut ins);
        }
        return;
    }
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

/// `-- matrix`: the cost of each detector on each leaf and name of the
/// requests, in ns, where it is over 40 ns.
fn matrix(reg: &rampart_plugin_api::Registry, reqs: &[(&str, Request)]) {
    use rampart_plugin_api::{member_name, DetectCtx, PluginConfig};
    let every = Engine::new(reg, EngineConfig::default()).unwrap();
    let dets: Vec<_> = reg
        .detectors()
        .iter()
        .map(|e| (e.info.name, (e.factory)(&PluginConfig::default()).unwrap()))
        .collect();
    for (rname, req) in reqs {
        let ins = every.inspect(req);
        let t = &ins.tree;
        let mut points: Vec<_> = t.leaves().map(|id| (id, t.value(id), false)).collect();
        points.extend(
            t.ids()
                .filter_map(|id| member_name(t, id).map(|n| (id, n, true))),
        );
        let mut total = 0.0;
        for (id, value, name) in points {
            let ctx = DetectCtx {
                tree: t,
                point: id,
                source: t.source_of(id),
                endpoint: req.path(),
                content_type: req.header_value("content-type"),
            };
            let mut row = String::new();
            for (dname, d) in &dets {
                let mut out = Vec::new();
                let n = 2000;
                let start = Instant::now();
                for _ in 0..n {
                    out.clear();
                    d.inspect(value, &ctx, &mut out);
                }
                let ns = start.elapsed().as_secs_f64() / f64::from(n) * 1e9;
                total += ns;
                if ns > 40.0 {
                    row.push_str(&format!(" {dname}={ns:.0}"));
                }
            }
            let shown: String = String::from_utf8_lossy(value).chars().take(40).collect();
            println!(
                "{rname} {}{} {shown:?}:{row}",
                t.path(id),
                if name { " (name)" } else { "" }
            );
        }
        println!("{rname}: {:.2} us in detectors", total / 1000.0);
    }
}
