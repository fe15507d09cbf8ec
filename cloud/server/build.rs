//! Embeds the web console (`console/`) and the REST API's OpenAPI document
//! (`spec/console-api.openapi.yaml`) in the binary: every file of the
//! console folder is served at `/console/NAME`.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let console = dir.join("console");
    let spec = dir.join("../../spec/console-api.openapi.yaml");
    println!("cargo:rerun-if-changed={}", console.display());
    println!("cargo:rerun-if-changed={}", spec.display());
    let mut names: Vec<String> = std::fs::read_dir(&console)
        .expect("cloud/server/console must exist")
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_file())
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| !n.starts_with('.'))
        .collect();
    names.sort();
    let mut out = String::from(
        "/// The console's files: name, bytes.\npub(crate) static FILES: &[(&str, &[u8])] = &[\n",
    );
    for n in &names {
        let p = console.join(n);
        println!("cargo:rerun-if-changed={}", p.display());
        let _ = writeln!(
            out,
            "    ({n:?}, include_bytes!({:?})),",
            p.display().to_string()
        );
    }
    out.push_str("];\n");
    let _ = writeln!(
        out,
        "/// `spec/console-api.openapi.yaml`.\npub(crate) static OPENAPI: &str = include_str!({:?});",
        spec.display().to_string()
    );
    let target = Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR")).join("console.rs");
    std::fs::write(target, out).expect("cannot write console.rs");
}
