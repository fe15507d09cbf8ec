//! The cost of each detector on the GET request of the `decode` bench: the
//! whole engine with all detectors but one disabled, per request.
//! Run: `cargo run --release -p rampart-core --example profile_detectors`.

#![allow(clippy::unwrap_used)]

use rampart_core::{Engine, EngineConfig, Request};
use std::time::Instant;
fn main() {
    let reg = rampart_builtin_plugins::registry().unwrap();
    let names: Vec<&str> = reg.detectors().iter().map(|e| e.info.name).collect();
    let req = Request::new("GET", "/shop/search?q=red+running+shoes&category=footwear&sort=price_asc&page=2&size=42")
        .header("Host", "shop.example.com")
        .header("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36")
        .header("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
        .header("Accept-Language", "en-US,en;q=0.7")
        .header("Cookie", "session=3f2a9c1e8b7d4a6f; theme=dark; consent=yes");
    let run = |disabled: Vec<String>| {
        let e = Engine::new(
            &reg,
            EngineConfig {
                disabled,
                ..EngineConfig::default()
            },
        )
        .unwrap();
        let mut ins = rampart_core::Inspection::new();
        for _ in 0..200 {
            e.inspect_into(&req, &mut ins);
        }
        let t = Instant::now();
        for _ in 0..2000 {
            e.inspect_into(&req, &mut ins);
        }
        t.elapsed().as_secs_f64() / 2000.0 * 1e6
    };
    let all: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    println!("no detectors: {:.2} us", run(all.clone()));
    for n in &names {
        let others: Vec<String> = all.iter().filter(|x| x != n).cloned().collect();
        println!("{n}: {:.2} us", run(others));
    }
    let e = Engine::new(&reg, EngineConfig::default()).unwrap();
    let ins = e.inspect(&req);
    println!("leaves: {}", ins.tree.leaves().count());
}
