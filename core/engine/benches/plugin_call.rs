//! The cost of calling a detector through the C ABI against calling the
//! same detector linked in: the built-in scanner detector, static and
//! loaded from its shared library (built here by cargo, release profile).
//! Run: `cargo bench -p rampart-core --bench plugin_call`.

use std::path::Path;
use std::process::Command;

use criterion::{criterion_group, criterion_main, Criterion};
use rampart_core::loader::load_library;
use rampart_plugin_api::{DetectCtx, Detector, NodeId, NodeKind, Registry, Seg, Source, Tree};

fn library() -> std::path::PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let target = root.join("target/plugin-libs-release");
    let ok = Command::new(env!("CARGO"))
        .current_dir(&root)
        .args([
            "build",
            "--quiet",
            "--release",
            "-p",
            "rampart-detect-scanner",
        ])
        .args([
            "--features",
            "rampart-detect-scanner/plugin-export",
            "--target-dir",
        ])
        .arg(&target)
        .status()
        .expect("cargo runs");
    assert!(ok.success(), "building the scanner library failed");
    target.join("release/librampart_detect_scanner.so")
}

fn bench(c: &mut Criterion) {
    let mut reg = Registry::new();
    load_library(&library(), &mut reg).expect("loads");
    let dynamic = (reg.detectors()[0].factory)(&Default::default()).expect("creates");
    let stat: &dyn Detector = &rampart_detect_scanner::ScannerDetector;

    for (name, key, value) in [
        ("user_agent", "user-agent", &b"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36"[..]),
        ("short_param", "q", &b"red running shoes"[..]),
    ] {
        let mut tree = Tree::new();
        let src = tree.push_node(NodeId::ROOT, Seg::Source(Source::Header), NodeKind::Container, (0, 0));
        let k = tree.push_bytes(key.as_bytes());
        let v = tree.push_bytes(value);
        let point = tree.push_node(src, Seg::Key { start: k.0, end: k.1 }, NodeKind::Leaf, v);
        let ctx = DetectCtx {
            tree: &tree,
            point,
            source: Some(Source::Header),
            endpoint: b"/shop/search",
            content_type: None,
        };
        let mut out = Vec::new();
        let mut g = c.benchmark_group(format!("detector_call/{name}"));
        g.bench_function("static", |b| {
            b.iter(|| {
                out.clear();
                stat.inspect(value, &ctx, &mut out)
            })
        });
        g.bench_function("dynamic", |b| {
            b.iter(|| {
                out.clear();
                dynamic.inspect(value, &ctx, &mut out)
            })
        });
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
