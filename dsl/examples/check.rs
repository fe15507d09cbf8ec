//! Checks rule files and prints their diagnostics, like the future
//! `rampart rules check`: `cargo run -p rampart-dsl --example check -- FILE...`
//! Exit status 1 when a file has errors.

use std::path::{Path, PathBuf};

use rampart_dsl::{compile, Loader};

/// Reads includes relative to the including file.
struct FsLoader;

impl Loader for FsLoader {
    fn load(&mut self, from: Option<&str>, name: &str) -> Result<(String, String), String> {
        let base = from
            .and_then(|f| Path::new(f).parent())
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let path: PathBuf = base.join(name);
        let text = std::fs::read_to_string(&path).map_err(|e| e.to_string())?;
        Ok((path.to_string_lossy().into_owned(), text))
    }
}

fn main() {
    let mut failed = false;
    for file in std::env::args().skip(1) {
        match compile(&file, &mut FsLoader) {
            Ok(p) => println!("{file}: {} rules", p.rules.len()),
            Err(d) => {
                failed = true;
                eprint!("{}", d.render());
            }
        }
    }
    std::process::exit(i32::from(failed));
}
