//! include/rampart.h is hand-written: this keeps it honest. It must declare
//! exactly the functions src/ffi.rs exports, each with as many parameters,
//! the library archive must export exactly those symbols, its constants
//! must be the library's, and it must compile as C and as C++.

#![allow(clippy::panic)] // test helpers: a bad fixture is a test bug

mod common;

use std::collections::BTreeMap;
use std::process::Command;

/// Text without C comments (`/* */` and `//`).
fn strip_c_comments(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < b.len() {
        if b[i..].starts_with(b"/*") {
            let end = s[i + 2..].find("*/").map_or(b.len(), |e| i + 2 + e + 2);
            out.push(' ');
            i = end;
        } else if b[i..].starts_with(b"//") {
            i = s[i..].find('\n').map_or(b.len(), |e| i + e);
        } else {
            let ch = s[i..].chars().next().expect("char");
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The text between the parenthesis at `open` and its match.
fn parenthesised(s: &str, open: usize) -> &str {
    let mut depth = 0;
    for (i, c) in s[open..].char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return &s[open + 1..open + i];
                }
            }
            _ => {}
        }
    }
    panic!("unbalanced parentheses after {}", &s[open..]);
}

/// Parameters in a parameter list (`void` and empty count 0).
fn count_params(list: &str) -> usize {
    let list = list.trim();
    if list.is_empty() || list == "void" {
        return 0;
    }
    let mut depth = 0;
    let mut n = 1;
    for c in list.chars() {
        match c {
            '(' | '<' | '[' => depth += 1,
            ')' | '>' | ']' => depth -= 1,
            ',' if depth == 0 => n += 1,
            _ => {}
        }
    }
    if list.ends_with(',') {
        n -= 1;
    }
    n
}

/// Functions declared in the header: `rampart_x(` outside comments.
fn header_functions(h: &str) -> BTreeMap<String, usize> {
    let h = strip_c_comments(h);
    let mut out = BTreeMap::new();
    let mut from = 0;
    while let Some(pos) = h[from..].find("rampart_") {
        let start = from + pos;
        from = start + 1;
        if h[..start].chars().next_back().is_some_and(is_ident) {
            continue;
        }
        let end = h[start..]
            .find(|c: char| !is_ident(c))
            .map_or(h.len(), |e| start + e);
        let name = &h[start..end];
        let rest = h[end..].trim_start();
        if !rest.starts_with('(') {
            continue;
        }
        let open = h.len() - rest.len();
        let n = count_params(parenthesised(&h, open));
        assert!(
            out.insert(name.to_string(), n).is_none(),
            "{name} declared twice in rampart.h"
        );
    }
    out
}

/// Functions src/ffi.rs exports: `extern "C" fn rampart_x(`.
fn exported_functions(src: &str) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    let marker = "extern \"C\" fn ";
    let mut from = 0;
    while let Some(pos) = src[from..].find(marker) {
        let start = from + pos + marker.len();
        from = start;
        let end = src[start..]
            .find(|c: char| !is_ident(c))
            .map_or(src.len(), |e| start + e);
        let name = &src[start..end];
        let line_start = src[..start].rfind('\n').map_or(0, |i| i + 1);
        assert!(
            src[line_start..start].trim_start().starts_with("pub "),
            "{name}: an exported function must be pub"
        );
        let before = &src[..line_start];
        let attr_line = before.trim_end().lines().last().unwrap_or("");
        assert!(
            before.trim_end().ends_with("#[no_mangle]") || attr_line.contains("no_mangle"),
            "{name}: extern \"C\" without #[no_mangle]"
        );
        let n = count_params(parenthesised(src, end));
        out.insert(name.to_string(), n);
    }
    out
}

/// `#define NAME VALUE` with an integer value.
fn header_constants(h: &str) -> BTreeMap<String, i64> {
    let h = strip_c_comments(h);
    h.lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            (w.next()? == "#define").then_some(())?;
            let name = w.next()?;
            let value = w.next()?.parse().ok()?;
            Some((name.to_string(), value))
        })
        .collect()
}

fn header_text() -> String {
    std::fs::read_to_string(common::crate_dir().join("include/rampart.h")).expect("rampart.h")
}

#[test]
fn the_header_declares_every_exported_function_with_its_arity() {
    let h = header_functions(&header_text());
    let src = std::fs::read_to_string(common::crate_dir().join("src/ffi.rs")).expect("ffi.rs");
    let rs = exported_functions(&src);
    assert!(
        rs.len() >= 20,
        "only {} exported functions found: {rs:?}",
        rs.len()
    );
    assert_eq!(
        h.keys().collect::<Vec<_>>(),
        rs.keys().collect::<Vec<_>>(),
        "rampart.h and src/ffi.rs disagree on the function set"
    );
    for (name, n) in &rs {
        assert_eq!(
            h[name], *n,
            "{name}: {} parameters in rampart.h, {n} in ffi.rs",
            h[name]
        );
    }
    for required in [
        "rampart_guard_new",
        "rampart_guard_free",
        "rampart_inspect",
        "rampart_decision_free",
        "rampart_body_limit",
        "rampart_over_limit",
    ] {
        assert!(rs.contains_key(required), "{required} is missing");
    }
}

#[test]
fn the_header_constants_are_the_librarys() {
    let c = header_constants(&header_text());
    let want: [(&str, i64); 10] = [
        ("RAMPART_ABI_VERSION", i64::from(rampart_ffi::ABI_VERSION)),
        ("RAMPART_MODE_CONFIG", rampart_ffi::MODE_CONFIG.into()),
        ("RAMPART_MODE_BLOCK", rampart_ffi::MODE_BLOCK.into()),
        ("RAMPART_MODE_MONITOR", rampart_ffi::MODE_MONITOR.into()),
        ("RAMPART_MODE_OFF", rampart_ffi::MODE_OFF.into()),
        ("RAMPART_ACTION_ALLOW", rampart_ffi::ACTION_ALLOW.into()),
        ("RAMPART_ACTION_BLOCK", rampart_ffi::ACTION_BLOCK.into()),
        ("RAMPART_ACTION_MONITOR", rampart_ffi::ACTION_MONITOR.into()),
        (
            "RAMPART_OVER_LIMIT_INSPECT_PREFIX",
            rampart_ffi::OVER_LIMIT_INSPECT_PREFIX.into(),
        ),
        (
            "RAMPART_OVER_LIMIT_BLOCK",
            rampart_ffi::OVER_LIMIT_BLOCK.into(),
        ),
    ];
    for (name, value) in want {
        assert_eq!(c.get(name), Some(&value), "{name}");
    }
    assert_eq!(
        rampart_ffi::ffi::rampart_abi_version(),
        rampart_ffi::ABI_VERSION
    );
}

#[test]
fn the_archive_exports_exactly_the_declared_functions() {
    if !common::have("nm", &["--version"]) {
        assert!(!common::servers_required(), "nm (binutils) is missing");
        eprintln!("SKIP: nm not found");
        return;
    }
    let lib = common::staticlib();
    let out = Command::new("nm")
        .args(["--defined-only", "--extern-only", "-P"])
        .arg(&lib)
        .output()
        .expect("nm");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let mut exported: Vec<String> = text
        .lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            let name = w.next()?;
            let kind = w.next()?;
            (name.starts_with("rampart_") && kind == "T").then(|| name.to_string())
        })
        .collect();
    exported.sort();
    exported.dedup();
    let declared: Vec<String> = header_functions(&header_text()).into_keys().collect();
    assert_eq!(exported, declared, "{} exports", lib.display());
}

#[test]
fn the_header_compiles_as_c_and_as_cpp() {
    let dir = common::scratch("header");
    let src = dir.join("h.c");
    std::fs::write(
        &src,
        "#include \"rampart.h\"\nint main(void) { return rampart_abi_version() == RAMPART_ABI_VERSION ? 0 : 1; }\n",
    )
    .expect("write");
    common::compile_c(&src, &dir.join("h"));
    let st = Command::new(dir.join("h")).status().expect("run");
    assert!(st.success());
    let _ = std::fs::remove_file(dir.join("h"));
    let cxx = std::env::var("CXX").unwrap_or_else(|_| "c++".into());
    if !common::have(&cxx, &["--version"]) {
        eprintln!("SKIP: no C++ compiler ({cxx})");
        return;
    }
    let cpp = dir.join("h.cpp");
    std::fs::copy(&src, &cpp).expect("copy");
    let o = Command::new(&cxx)
        .args([
            "-std=c++11",
            "-Wall",
            "-Wextra",
            "-Werror",
            "-pedantic",
            "-fsyntax-only",
        ])
        .arg("-I")
        .arg(common::crate_dir().join("include"))
        .arg(&cpp)
        .output()
        .expect("c++");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_scanner_finds_declarations_and_ignores_comments() {
    let h = "/* rampart_fake(int a) */\nint rampart_a(void);\nvoid rampart_b(const char *x, size_t n);\ntypedef struct X rampart_t;\n// rampart_c(int)\n";
    let f = header_functions(h);
    assert_eq!(f.len(), 2, "{f:?}");
    assert_eq!(f["rampart_a"], 0);
    assert_eq!(f["rampart_b"], 2);
    let rs = "#[no_mangle]\npub unsafe extern \"C\" fn rampart_x(\n    a: *const u8,\n    b: usize,\n) -> i32 {}\n";
    assert_eq!(exported_functions(rs)["rampart_x"], 2);
}
