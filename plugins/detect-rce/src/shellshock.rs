//! Shellshock (CVE-2014-6271 and its variants): a bash function
//! definition `() {` in a value that a CGI program passes to bash in an
//! environment variable.
//!
//! [`ShellshockDetector`] reports `shellshock.function-definition` (90)
//! for `()`, optional blanks, `{` when the `(` is not glued to a name or
//! keyword (`function() {`, `foo () {` are code, not Shellshock) and is
//! not an arrow function (`() => {`). Blanks between the parentheses and
//! around the brace are allowed (`( ) {`, `(){`, `()  {`). The span runs
//! to the closing brace, and past a following `;` and command when the
//! classic trailer `:;};` is there.

use rampart_plugin_api::{Class, DetectCtx, Detector, Finding, PluginInfo};

use crate::common::{is_ident, windows, Hits};

const NAME: &str = "shellshock";

/// Score of a function-definition prefix.
pub const SCORE: u8 = 90;

/// The Shellshock detector.
#[derive(Debug, Clone, Copy, Default)]
pub struct ShellshockDetector;

impl Detector for ShellshockDetector {
    fn info(&self) -> PluginInfo {
        PluginInfo {
            name: NAME,
            version: env!("CARGO_PKG_VERSION"),
            description: "Shellshock: bash function definitions `() {` in values",
        }
    }

    fn classes(&self) -> &'static [Class] {
        &[Class::Shellshock]
    }

    fn inspect(&self, value: &[u8], ctx: &DetectCtx<'_>, out: &mut Vec<Finding>) {
        let mut hits = Hits::default();
        scan_value(value, &mut hits);
        hits.emit(ctx, Class::Shellshock, NAME, value.len(), out);
    }
}

fn blank(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'+' | b'\r' | b'\n')
}

/// Scans a value into `hits`.
pub fn scan_value(value: &[u8], hits: &mut Hits) {
    for (off, w) in windows(value) {
        let mut i = 0;
        while i < w.len() {
            let Some(p) = w[i..].iter().position(|&c| c == b'(') else {
                break;
            };
            let o = i + p;
            i = o + 1;
            if let Some(end) = definition(w, o) {
                hits.add(
                    "shellshock.function-definition",
                    SCORE,
                    off + o,
                    off + end,
                    "a bash function definition (Shellshock)",
                );
                return;
            }
        }
    }
}

/// The end of a Shellshock prefix starting at `w[o] == '('`.
fn definition(w: &[u8], o: usize) -> Option<usize> {
    // Not glued to a name: `f()`, `function ()`.
    let mut k = o;
    while k > 0 && matches!(w[k - 1], b' ' | b'\t') {
        k -= 1;
    }
    if k > 0 && (is_ident(w[k - 1]) || w[k - 1] == b'$' || w[k - 1] == b'.') {
        return None;
    }
    let mut j = o + 1;
    while j < w.len() && blank(w[j]) && j - o < 8 {
        j += 1;
    }
    if j >= w.len() || w[j] != b')' {
        return None;
    }
    j += 1;
    let mut n = 0;
    while j < w.len() && blank(w[j]) && n < 16 {
        j += 1;
        n += 1;
    }
    if j >= w.len() || w[j] != b'{' {
        return None;
    }
    // `() => {` is caught above (no `=>` between); the body runs to `}`.
    let end = w[j..]
        .iter()
        .take(256)
        .position(|&c| c == b'}')
        .map_or(j + 1, |e| j + e + 1);
    Some(end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hit(v: &str) -> bool {
        let mut h = Hits::default();
        scan_value(v.as_bytes(), &mut h);
        h.best() == SCORE
    }

    #[test]
    fn prefixes() {
        assert!(hit("() { :; }; echo vulnerable"));
        assert!(hit("() {"));
        assert!(hit("(){ :;};/bin/sh"));
        assert!(hit("( ) { _; } >_[$($())] { id; }"));
        assert!(hit("{ \"() { :; }\":\"foo\" }"));
        assert!(hit("x=() { :;}; echo"));
        assert!(!hit("function() { return 1; }"));
        assert!(!hit("function () { return 1; }"));
        assert!(!hit("foo() { bar; }"));
        assert!(!hit("() => { x }"));
        assert!(!hit("(a) { b }"));
        assert!(!hit("call $() {"));
    }
}
