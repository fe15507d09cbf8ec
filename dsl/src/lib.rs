//! Rampart's rule language (`spec/rule-language.md`).
//!
//! Source text goes through four steps:
//! 1. [`loader::load`] reads the root file and its `include`s through a
//!    [`Loader`] (no file system access is hidden here) and parses each file
//!    with the pest grammar (`grammar.pest`) into an [`ast`] whose nodes
//!    carry [`Span`]s;
//! 2. [`check::check`] type-checks everything and lowers it to the typed,
//!    flat [`ir::Program`], reporting every problem at once as
//!    [`Diagnostic`]s rendered like rustc;
//! 3. a [`RuleBackend`] compiles the program: the reference
//!    [`Interpreter`] (the oracle) now, a cranelift JIT later;
//! 4. the [`Evaluator`] runs the rules that can apply to a request (by
//!    host, method and endpoint template) against a [`RequestView`] and a
//!    [`CounterStore`], giving an [`Outcome`].
//!
//! ```
//! use rampart_dsl::{compile_str, Evaluator, Interpreter, RuleBackend};
//! let prog = compile_str("app.rules", r#"
//!     rule no-php "No PHP files here" {
//!         when path ~ "*.php"
//!         then block(404)
//!     }
//! "#).expect("valid rules");
//! let eval = Interpreter.compile(std::sync::Arc::new(prog)).expect("compiles");
//! assert_eq!(eval.program().rules.len(), 1);
//! ```

#![cfg_attr(not(feature = "jit"), forbid(unsafe_code))]
// With the JIT, `unsafe` is denied everywhere but `jit::abi`, the one
// module that calls compiled code.
#![cfg_attr(feature = "jit", deny(unsafe_code))]

pub mod ast;
pub mod backend;
pub mod check;
pub mod counters;
pub mod diag;
pub mod fmt;
pub mod formats;
pub mod glob;
pub mod index;
pub mod interp;
pub mod ir;
#[cfg(feature = "jit")]
pub mod jit;
pub mod loader;
pub mod pack;
pub mod parser;
pub mod path;
pub mod profile;
pub mod span;
pub mod synthetic;
pub mod view;

pub use backend::{Decision, Evaluator, Fired, Outcome, RuleBackend};
pub use counters::{CounterStore, MemoryCounters};
pub use diag::{Diagnostic, Diagnostics};
pub use interp::Interpreter;
pub use ir::{Program, RulePhase};
#[cfg(feature = "jit")]
pub use jit::Jit;
pub use loader::{FsLoader, Loader, MemoryLoader};
pub use span::{SourceMap, Span};
pub use view::{RequestView, StaticView};

/// Reads, parses and checks the rule set rooted at `root`. Either the
/// program or every diagnostic (with the sources, for rendering).
pub fn compile(root: &str, loader: &mut dyn Loader) -> Result<Program, Diagnostics> {
    let loaded = loader::load(root, loader);
    let (prog, mut diags) = check::check(&loaded.items, &loaded.sources);
    let mut all = loaded.diags;
    all.append(&mut diags);
    if all.iter().any(|d| d.severity == diag::Severity::Error) {
        all.sort_by_key(|d| (d.span.file, d.span.start));
        return Err(Diagnostics {
            list: all,
            sources: loaded.sources,
        });
    }
    Ok(prog)
}

/// Compiles several root files from disk as one rule set, as if one file
/// included each of them in order (a node's `--rules A --rules B`).
pub fn compile_files(files: &[std::path::PathBuf]) -> Result<Program, Diagnostics> {
    const ROOT: &str = "<rules>";
    struct Roots {
        fs: FsLoader,
        root: String,
    }
    impl Loader for Roots {
        fn load(&mut self, from: Option<&str>, name: &str) -> Result<(String, String), String> {
            if from.is_none() && name == ROOT {
                return Ok((ROOT.to_string(), self.root.clone()));
            }
            // Files named by the root are relative to the working folder.
            self.fs.load(from.filter(|f| *f != ROOT), name)
        }
    }
    if let [one] = files {
        return compile(&one.to_string_lossy(), &mut FsLoader::default());
    }
    let root = files
        .iter()
        .map(|f| format!("include {}\n", fmt::quote(&f.to_string_lossy())))
        .collect();
    compile(
        ROOT,
        &mut Roots {
            fs: FsLoader::default(),
            root,
        },
    )
}

/// [`compile`] for one file held in memory (no includes can resolve).
pub fn compile_str(name: &str, text: &str) -> Result<Program, Diagnostics> {
    let mut l = MemoryLoader::new().with(name, text);
    compile(name, &mut l)
}
