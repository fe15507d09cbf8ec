//! Remote code execution detectors: five detectors, each its own plugin.
//!
//! | plugin | class | finds |
//! |---|---|---|
//! | `cmdi` ([`CmdiDetector`]) | `cmdi` | OS commands in command position (sh/bash, cmd.exe, PowerShell), substitutions, shell obfuscation |
//! | `shellshock` ([`ShellshockDetector`]) | `shellshock` | bash function definitions `() {` |
//! | `code-injection` ([`CodeInjectionDetector`]) | `code-injection` | PHP, Node.js, Python, Java/EL/OGNL, Ruby, Perl, ASP code; deserialization payloads |
//! | `ssti` ([`SstiDetector`]) | `ssti` | template expressions that probe (`{{7*7}}`) or execute |
//! | `jndi` ([`JndiDetector`]) | `jndi` | Log4Shell lookups, evaluated through the lookup language |
//!
//! None uses regular expressions: the command detector is a shell lexer
//! with a table of programs; the code detector reads identifiers and
//! dotted chains against a sorted table; the template detector reads
//! expressions between delimiters; the JNDI detector evaluates Log4j
//! lookups with a bounded stack.
//!
//! Every detector inspects at most the first [`common::HEAD`] and the
//! last [`common::TAIL`] bytes of a value (64 KiB each; a payload in the
//! middle of a longer value is not seen), is linear in what it inspects,
//! allocates only for the findings it reports (the command detector also
//! boxes a small variable table for values that assign and expand shell
//! variables), and reports at most three findings per value (the
//! strongest per rule); when none reaches the blocking score of 50 only
//! the strongest is reported, so that the engine's per-class sum does not
//! turn correlated weak evidence of one detector into a block.
//!
//! The engine offers the detectors members' names as well as values (a
//! JSON key such as `java.io.File` or `;id`); a name that is a plain
//! identifier is skipped by cmdi (and by code-injection under 6 bytes).
//! The code detector reads uploaded file names (`@filename`,
//! `X-Filename`) for server-side script extensions and PHP session file
//! names.
//!
//! Tests: `tests/all.rs` (tables in `testdata/*.json`, spans, hostile
//! inputs, registration), `tests/measure.rs` (recall on GoTestWAF and, by
//! value scanning alone, on the CRS regression tests; false positives on
//! GoTestWAF's and libinjection's benign sets and on
//! `testdata/benign.txt`). The CRS cases are measured end to end, with the
//! reason for each case let pass, by `plugins/builtin/tests/crs.rs`
//! (`tests/crs/{932,933,934-rce,944}.txt` there). `examples/speed.rs`
//! prints the per-value cost of each detector, `examples/inspect_speed.rs`
//! that of `cmdi` and `code-injection` through `Detector::inspect` at the
//! points of the engine's bench requests (measurements, not tests); one
//! fuzz target per detector lives under `fuzz/`.

pub mod cmdi;
pub mod code;
pub mod common;
pub mod jndi;
pub mod shellshock;
pub mod ssti;

pub use cmdi::CmdiDetector;
pub use code::CodeInjectionDetector;
pub use jndi::JndiDetector;
pub use shellshock::ShellshockDetector;
pub use ssti::SstiDetector;

use rampart_plugin_api::{Origin, Registry, RegistryError};

use common::Hits;

/// Registers the detectors of this crate.
pub fn register(reg: &mut Registry) -> Result<(), RegistryError> {
    reg.add_detector(CmdiDetector, Origin::Builtin)?;
    reg.add_detector(ShellshockDetector, Origin::Builtin)?;
    reg.add_detector(CodeInjectionDetector, Origin::Builtin)?;
    reg.add_detector(SstiDetector, Origin::Builtin)?;
    reg.add_detector(JndiDetector, Origin::Builtin)?;
    Ok(())
}

/// Runs every detector of the crate on a value without a request tree:
/// `(plugin, hits)` per detector. For tests, benches and the `probe`
/// example; the engine calls [`rampart_plugin_api::Detector::inspect`].
pub fn scan_all(value: &[u8]) -> [(&'static str, Hits); 5] {
    let mut out: [(&'static str, Hits); 5] = [
        ("cmdi", Hits::default()),
        ("shellshock", Hits::default()),
        ("code-injection", Hits::default()),
        ("ssti", Hits::default()),
        ("jndi", Hits::default()),
    ];
    cmdi::scan_value(value, &mut out[0].1);
    shellshock::scan_value(value, &mut out[1].1);
    code::scan_value(value, &mut out[2].1);
    ssti::scan_value(value, &mut out[3].1);
    jndi::scan_value(value, &mut out[4].1);
    out
}

/// `rule=score` of every hit for a value, strongest first per detector
/// (a development aid).
pub fn probe(value: &[u8]) -> String {
    let mut s = String::new();
    for (_, h) in scan_all(value) {
        for hit in h.sorted() {
            s.push_str(hit.rule);
            s.push('=');
            s.push_str(&hit.score.to_string());
            s.push(' ');
        }
    }
    s
}

// Loadable as a shared library: `cargo build -p rampart-detect-rce --features plugin-export`.
#[cfg(feature = "plugin-export")]
rampart_plugin_api::declare_plugin! {
    decoders: [],
    detectors: [CmdiDetector, ShellshockDetector, CodeInjectionDetector, SstiDetector, JndiDetector],
}
