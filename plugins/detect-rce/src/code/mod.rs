//! Code injection: PHP, Node.js, Python, Java (class names, reflection,
//! deserialization gadgets, EL/OGNL/SpEL), Ruby, Perl, ASP/VBScript,
//! .NET and YAML deserialization tags.
//!
//! [`CodeInjectionDetector`] reads a value once as a stream of
//! identifiers, dotted chains (`java.lang.Runtime`,
//! `process.mainModule`, `os.system`) and punctuation. Each identifier is
//! looked up in a sorted table of names that matter to code execution
//! (about 150), most of which count only when called: the call is
//! confirmed by skipping blanks and comments up to `(`, and its arguments
//! are judged (a quoted string, a variable, a backtick or a nested call
//! is strong; prose is not a call). Chains are judged as a whole
//! (`getRuntime().exec`, `child_process`, `constructor.constructor`,
//! `java.*` classes). Punctuation triggers the PHP open tag, superglobals,
//! variable functions (`$a(1)`, `$__['o'](4)`), callables built from
//! strings (`("sys"."tem")('id')`, `[system][0](ls)`), serialized PHP
//! objects (`O:8:"stdClass":...`), Perl `@{[ ... ]}`, OGNL (`%{(#...`,
//! `#_memberAccess`, `@java.lang.Runtime@`), YAML tags (`!!python/...`),
//! and Java serialization magic (`rO0AB`, `aced0005`, and base64 of
//! gadget names at any byte alignment at the start of a base64 token).
//! String concatenation used to hide a name (`"Ex"&"e"&"cute(`,
//! `'sys'.'tem'(`) is undone in a second, allocation-free pass when the
//! value shows it.
//!
//! Rules: `code-injection.php`, `.node`, `.python`, `.java`,
//! `.java-deserialization`, `.ruby`, `.perl`, `.asp`, `.dotnet`,
//! `.yaml-deserialization`, `.exec-function` (`system(`, `eval(`, `exec(`
//! in any language), `.callable-string`, `.concat-obfuscation`,
//! `.prototype-pollution`, `.infinite-loop`, and, from the point's place
//! in the request ([`upload`]), `.script-upload` (an uploaded file's name,
//! `@filename` or `X-Filename`, with a server-side script extension:
//! `shell.php`, `a.jsp..`, `photo. php`, 80; a script extension hidden
//! before an image extension, `x.php.jpg`, 60) and
//! `.session-file-upload` (`sess_<id>`, a PHP session file, 70).
//! Prototype pollution is also read from the keys above a JSON value
//! (`{"__proto__":{"x":1}}`), and a parameter's name is scanned like a
//! value when it is longer than five bytes or holds more than an
//! identifier (`{"java.io.File": "x"}`, `{"rO0ABQ": "x"}`). Scores run from 30 (Java
//! class names in prose) and 40-50 (a lone PHP-looking call, a generic
//! PHP function of an extension such as `pg_...(`) to 95
//! (`_$$ND_FUNC$$_`, `class.module.classLoader`). Precision guards:
//! English-like names (`system`, `include`, `eval`) in prose count only
//! with strong arguments; anything inside markdown backticks in prose is
//! capped at 35 (a review comment about `os.system`); Java exception and
//! error classes (stack traces) and `java.util` are not reported; PHP
//! configuration directives only at the start of a line.
//!
//! PHP stream wrappers (`php://filter`, `phar://`) are left to the path
//! traversal and file inclusion detectors, except `expect://`, which runs
//! a command, and the SSH2 wrappers (`ssh2.exec://`, `ssh2.sftp://`),
//! which reach a remote shell or file over SSH.

mod b64;
mod names;
pub mod upload;

use rampart_plugin_api::{Class, DetectCtx, Detector, Finding, PluginInfo};

use crate::common::{find_ci, is_ident, lc, prose_words, starts_ci, windows, Hits, Small};
use names::{Need, Rule, NAMES};

const NAME: &str = "code-injection";

/// Segments of a dotted chain kept.
pub const CHAIN_MAX: usize = 8;

/// The code injection detector.
#[derive(Debug, Clone, Copy, Default)]
pub struct CodeInjectionDetector;

impl Detector for CodeInjectionDetector {
    fn info(&self) -> PluginInfo {
        PluginInfo {
            name: NAME,
            version: env!("CARGO_PKG_VERSION"),
            description:
                "code injection: PHP, Node.js, Python, Java/EL/OGNL, Ruby, Perl, ASP code \
                          and deserialization payloads",
        }
    }

    fn classes(&self) -> &'static [Class] {
        &[Class::CodeInjection]
    }

    fn inspect(&self, value: &[u8], ctx: &DetectCtx<'_>, out: &mut Vec<Finding>) {
        // The engine offers members' names too (class names and serialized
        // objects as JSON keys: `java.io.File`, `rO0AB...`); short
        // identifiers (`q`, `page`) hold nothing this detector reads.
        let is_value = ctx.is_value(value);
        if !is_value && value.len() < 6 && crate::common::plain_name(value) {
            return;
        }
        let mut hits = Hits::default();
        scan_value(value, &mut hits);
        if is_value {
            upload::check(value, ctx, &mut hits);
        }
        if !hits.is_empty() {
            hits.emit(ctx, Class::CodeInjection, NAME, value.len(), out);
        }
        // Keys above the value (prototype pollution): context, reported
        // with the value only.
        if is_value && upload::pollution_key(ctx) {
            let mut keyed = Hits::default();
            upload::pollution_keys(ctx, &mut keyed);
            keyed.emit(ctx, Class::CodeInjection, NAME, 0, out);
        }
    }
}

/// Scans a value into `hits`.
pub fn scan_value(value: &[u8], hits: &mut Hits) {
    for (off, w) in windows(value) {
        if w.len() >= 2 {
            let mut s = Scan {
                w,
                off,
                hits,
                prose: None,
                concat: 0,
                asp: 0,
                asp_at: 0,
            };
            s.run();
        }
    }
}

struct Scan<'a> {
    w: &'a [u8],
    off: usize,
    hits: &'a mut Hits,
    /// The window reads as natural language (computed when first needed).
    prose: Option<bool>,
    /// String concatenations seen (`"a"&"b"`, `'a'.'b'`).
    concat: u32,
    /// ASP/VBScript signals seen.
    asp: u32,
    asp_at: usize,
}

fn b64c(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'+' || c == b'/' || c == b'_' || c == b'-'
}

/// Skips blanks and comments (`/* */`, `//...`, `#...` to the end of the
/// line) after `i`, at most 256 bytes.
pub(crate) fn skip_gap(w: &[u8], mut i: usize) -> usize {
    let lim = (i + 256).min(w.len());
    while i < lim {
        match w[i] {
            b' ' | b'\t' | b'\r' | b'\n' | 0x0b | 0x0c => i += 1,
            b'/' if w.get(i + 1) == Some(&b'*') => match find_seq(&w[i + 2..lim], b"*/") {
                Some(e) => i = i + 2 + e + 2,
                None => return i,
            },
            b'/' if w.get(i + 1) == Some(&b'/') => match w[i..lim].iter().position(|&c| c == b'\n')
            {
                Some(e) => i += e + 1,
                None => return i,
            },
            b'#' => match w[i..lim].iter().position(|&c| c == b'\n') {
                Some(e) => i += e + 1,
                None => return i,
            },
            _ => return i,
        }
    }
    i
}

fn find_seq(h: &[u8], n: &[u8]) -> Option<usize> {
    h.windows(n.len()).position(|x| x == n)
}

/// How a call's arguments look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Args {
    /// Not called.
    None,
    /// `f()`.
    Empty,
    /// A quoted string, a variable, a backtick, a nested call, a
    /// superglobal.
    Strong,
    /// One bare token (`system(whoami)`).
    Token,
    /// Words (`system (sun and planets)`).
    Prose,
}

/// Judges the call that may follow `i`; returns how its arguments look
/// and whether `(` is glued to the name.
fn call_at(w: &[u8], i: usize) -> (Args, bool) {
    let j = skip_gap(w, i);
    if j >= w.len() || w[j] != b'(' {
        return (Args::None, false);
    }
    let glued = j == i;
    let k = crate::common::skip_ws(w, j + 1);
    let Some(&c) = w.get(k) else {
        return (Args::Empty, glued);
    };
    let a = match c {
        b')' => Args::Empty,
        b'\'' | b'"' | b'$' | b'`' | b'@' | b'[' => Args::Strong,
        _ => {
            // A nested call or a bare token.
            let mut e = k;
            while e < w.len()
                && e - k < 128
                && (is_ident(w[e]) || w[e] == b'.' || w[e] == b'-' || w[e] == b'/')
            {
                e += 1;
            }
            let n = crate::common::skip_ws(w, e);
            if e > k && w.get(n) == Some(&b'(') {
                Args::Strong
            } else if w.get(n) == Some(&b')') || w.get(n) == Some(&b',') {
                Args::Token
            } else {
                let close = w[k..w.len().min(k + 256)]
                    .iter()
                    .position(|&c| c == b')')
                    .map_or(w.len().min(k + 256), |p| k + p);
                if prose_words(&w[k..close]) >= 2 {
                    Args::Prose
                } else {
                    Args::Token
                }
            }
        }
    };
    (a, glued)
}

impl Scan<'_> {
    fn prose(&mut self) -> bool {
        let w = self.w;
        *self
            .prose
            .get_or_insert_with(|| crate::common::prose_like(w))
    }

    fn add(&mut self, rule: Rule, score: u8, a: usize, z: usize) {
        let (name, msg) = rule.text();
        // Code quoted in prose (`os.system` in a review comment) is talk
        // about code.
        let score = if self.prose() && in_backticks(self.w, a) {
            score.min(35)
        } else {
            score
        };
        self.hits.add(
            name,
            score,
            self.off + a,
            self.off + z.min(self.w.len()),
            msg,
        );
    }

    fn run(&mut self) {
        let w = self.w;
        let mut i = 0;
        while i < w.len() {
            let c = w[i];
            if c.is_ascii_alphabetic() || c == b'_' {
                if i == 0 || !b64c(w[i - 1]) {
                    self.base64_token(i);
                }
                i = self.chain(i);
                continue;
            }
            match c {
                b'<' => self.php_tag(i),
                b'$' => self.dollar(i),
                b'@' => self.at(i),
                b'!' => self.yaml(i),
                b'%' => self.percent(i),
                b'#' if starts_ci(&w[i + 1..], b"_memberaccess") => {
                    self.add(Rule::Java, 90, i, i + 14);
                }
                b'(' => self.callable(i),
                b'\'' | b'"' => self.concat_mark(i),
                b'[' => {
                    let r = &w[i..];
                    if starts_ci(r, b"[php]") || starts_ci(r, b"[/php]") || starts_ci(r, b"[\\php]")
                    {
                        self.add(Rule::Php, 55, i, i + 6);
                    }
                }
                b'\\' => self.raw_magic(i),
                0xac if w.get(i + 1) == Some(&0xed)
                    && w.get(i + 2) == Some(&0)
                    && w.get(i + 3) == Some(&5) =>
                {
                    self.add(Rule::JavaDeser, 85, i, i + 4);
                }
                _ => {}
            }
            i += 1;
        }
        if self.concat >= 2 {
            self.deconcat();
        }
        if self.asp >= 2 {
            let score = (45 + 20 * self.asp).min(90) as u8;
            self.add(Rule::Asp, score, self.asp_at, self.asp_at + 1);
        }
    }

    /// Reads the identifier or dotted chain at `i`, judges it; returns
    /// the index after it.
    fn chain(&mut self, i: usize) -> usize {
        let w = self.w;
        // The common case first: one identifier, no dotted chain.
        let mut j = i;
        while j < w.len() && is_ident(w[j]) {
            j += 1;
        }
        let dotted = j + 1 < w.len()
            && w[j] == b'.'
            && (w[j + 1].is_ascii_alphabetic() || w[j + 1] == b'_')
            && j - i < 256;
        if !dotted {
            if i == 0 || !is_ident(w[i - 1]) {
                self.ini_directive(i, j);
            }
            return self.lone_name(i, j);
        }
        let mut segs: [(usize, usize); CHAIN_MAX] = [(0, 0); CHAIN_MAX];
        let mut n = 0;
        let mut j = i;
        loop {
            let s = j;
            while j < w.len() && is_ident(w[j]) {
                j += 1;
            }
            if n < CHAIN_MAX {
                segs[n] = (s, j);
                n += 1;
            }
            if j + 1 < w.len()
                && w[j] == b'.'
                && (w[j + 1].is_ascii_alphabetic() || w[j + 1] == b'_')
                && j - i < 256
            {
                j += 1;
                continue;
            }
            break;
        }
        let end = j;
        if i == 0 || !is_ident(w[i - 1]) {
            self.ini_directive(i, end);
        }
        if n == 1 {
            return self.lone_name(i, end);
        }
        // Lower-cased keys.
        let mut keys: [Small<64>; CHAIN_MAX] = [Small::default(); CHAIN_MAX];
        for (k, &(s, e)) in segs[..n].iter().enumerate() {
            keys[k].extend_lower(&w[s..e]);
        }
        if n >= 2 {
            self.judge_chain(&segs[..n], &keys[..n], i, end);
        }
        for k in 0..n {
            let key = keys[k].as_bytes();
            if keys[k].truncated {
                continue;
            }
            let (s, e) = segs[k];
            let last = k + 1 == n;
            self.judge_name(
                key,
                s,
                e,
                last,
                if k > 0 {
                    Some(keys[k - 1].as_bytes())
                } else {
                    None
                },
                i,
            );
        }
        end
    }

    /// A lone identifier `w[i..end]` (no dotted chain): judged when the
    /// table may hold it. Returns `end`.
    fn lone_name(&mut self, i: usize, end: usize) -> usize {
        let w = self.w;
        let next = w[end..]
            .iter()
            .copied()
            .find(|c| !matches!(c, b' ' | b'\t' | b'\r' | b'\n' | 0x0b | 0x0c));
        if !names::may_matter(&w[i..end], next) {
            return end;
        }
        let mut key = Small::<64>::default();
        key.extend_lower(&w[i..end]);
        if !key.truncated {
            self.judge_name(key.as_bytes(), i, end, true, None, i);
        }
        end
    }

    /// One name of the table.
    fn judge_name(
        &mut self,
        key: &[u8],
        s: usize,
        e: usize,
        last: bool,
        prev: Option<&[u8]>,
        chain_start: usize,
    ) {
        let w = self.w;
        let entry = match names::find(key) {
            Some(e) => e,
            None if key.len() > 4 && key.starts_with(b"__") && key.ends_with(b"__") => {
                match names::find(&key[2..key.len() - 2]) {
                    Some(e) => e,
                    None => return,
                }
            }
            None if last
                && prev.is_none()
                && !(s > 0 && matches!(w[s - 1], b'.' | b'>' | b':'))
                && call_at(w, e).0 != Args::None
                && php_family(key)
                && !self.prose() =>
            {
                // A function of a PHP extension (`pg_...`, `ldap_...`).
                self.add(Rule::Php, 50, s, close_paren(w, e));
                return;
            }
            None if last && key.len() > 8 && w.get(e) == Some(&b'(') => {
                // `FOOfsockopen()`: a PHP function glued to junk.
                match NAMES.iter().find(|n| {
                    n.need == Need::Call
                        && !n.wordy
                        && n.name.len() >= 7
                        && key.ends_with(n.name.as_bytes())
                }) {
                    Some(n) => {
                        let z = close_paren(w, e);
                        self.add(
                            n.rule,
                            n.score.saturating_sub(5).max(50),
                            e - n.name.len(),
                            z,
                        );
                        return;
                    }
                    None => return,
                }
            }
            None => return,
        };
        let key = entry.name.as_bytes();
        let (args, glued) = if last {
            call_at(w, e)
        } else {
            (Args::None, false)
        };
        let next = if last {
            w.get(skip_gap(w, e)).copied()
        } else {
            Some(b'.')
        };
        let before = if s > 0 { Some(w[s - 1]) } else { None };
        let score = match entry.need {
            Need::Any => entry.score,
            Need::Call => match args {
                Args::None | Args::Prose => 0,
                Args::Strong => entry.strong,
                Args::Empty | Args::Token => {
                    if glued {
                        entry.score
                    } else if w[e..]
                        .iter()
                        .take_while(|&&c| c != b'(')
                        .take(64)
                        .any(|&c| matches!(c, b'#' | b'/' | b'\n' | b'\r' | 0x0b))
                    {
                        // A comment or a line break between the name and `(`.
                        entry.score.saturating_add(15)
                    } else {
                        entry.score.saturating_sub(5)
                    }
                }
            },
            Need::Attr => {
                if matches!(next, Some(b'.' | b'[' | b'(')) || before == Some(b'.') {
                    entry.score
                } else {
                    0
                }
            }
            Need::Key => {
                // `__proto__[x]`, `"__proto__":`, `__proto__.x`.
                if matches!(next, Some(b'.' | b'[' | b'"' | b'\'' | b':' | b'='))
                    || matches!(before, Some(b'"' | b'\'' | b'[' | b'.'))
                {
                    entry.score
                } else {
                    0
                }
            }
            Need::After(p) => {
                if prev == Some(p.as_bytes()) {
                    entry.score
                } else {
                    0
                }
            }
            Need::Special => {
                self.special(key, s, e, chain_start);
                0
            }
        };
        if score == 0 {
            return;
        }
        // English-like names in prose need a strong call.
        if self.prose() && entry.wordy && args != Args::Strong && entry.need == Need::Call {
            return;
        }
        if entry.rule == Rule::Asp {
            self.asp += 1;
            self.asp_at = s;
            if score < 60 {
                return;
            }
        }
        let z = if args != Args::None {
            close_paren(w, e)
        } else {
            e
        };
        self.add(entry.rule, score, s, z);
    }

    /// Names with their own check.
    fn special(&mut self, key: &[u8], s: usize, e: usize, _cs: usize) {
        let w = self.w;
        match key {
            b"require" => {
                if w.get(e) == Some(&b'[') && !self.prose() {
                    // `require[req.query.a]`: the loader reached by index.
                    self.add(Rule::Node, 80, s, e + 1);
                    return;
                }
                let (args, _) = call_at(w, e);
                if args == Args::None {
                    return;
                }
                let z = close_paren(w, e);
                let arg = &w[e..z];
                let mods: [&[u8]; 7] = [
                    b"child_process",
                    b"'fs'",
                    b"\"fs\"",
                    b"'net'",
                    b"\"net\"",
                    b"'vm'",
                    b"'os'",
                ];
                if mods.iter().any(|m| find_ci(arg, m).is_some()) {
                    self.add(Rule::Node, 90, s, z);
                } else if args == Args::Strong && !self.prose() {
                    self.add(Rule::Node, 35, s, z);
                }
            }
            b"while" => self.infinite_loop(s, e),
            b"constructor" if s > 0 && w[s - 1] == b':' && starts_ci(&w[e..], b":constructor") => {
                // `"$3:constructor:constructor"`: a React Server Components
                // reference walking to `Function`.
                self.add(Rule::Node, 85, s, e + 12);
            }
            b"process" | b"constructor" => {
                if key == b"constructor" {
                    // `constructor[prototype]`, `[constructor][prototype]`,
                    // `constructor["prototype"]`.
                    let mut k = e;
                    while k < w.len()
                        && k - e < 4
                        && matches!(w[k], b'[' | b']' | b'"' | b'\'' | b'.')
                    {
                        k += 1;
                    }
                    if k > e && starts_ci(&w[k..], b"prototype") && w.get(e) != Some(&b'.') {
                        self.add(Rule::ProtoPollution, 60, s, k + 9);
                    }
                    return;
                }
                // `process[mainModule`, `process["env"]`.
                if w.get(e) != Some(&b'[') || s > 0 && w[s - 1] == b'.' {
                    return;
                }
                let r = &w[e + 1..w.len().min(e + 40)];
                let q = r.first().is_some_and(|&c| c == b'"' || c == b'\'');
                let inner = if q { &r[1..] } else { r };
                let score = if key == b"constructor" {
                    return;
                } else if starts_ci(inner, b"mainmodule")
                    || starts_ci(inner, b"binding")
                    || starts_ci(inner, b"req.")
                    || key == b"require"
                {
                    80
                } else if starts_ci(inner, b"env") {
                    50
                } else {
                    0
                };
                if score > 0 && !self.prose() {
                    self.add(Rule::Node, score, s, e + 1);
                }
            }
            b"o" | b"c" => self.php_object(s, e),
            b"import" | b"from" => self.python_import(s, e),
            b"expect" if w[e..].starts_with(b"://") => {
                self.add(Rule::Php, 80, s, e + 3);
            }
            b"compile" => {
                let b = &w[s.saturating_sub(6)..s];
                if (find_ci(b, b"eval(").is_some() || find_ci(b, b"exec(").is_some())
                    && call_at(w, e).0 != Args::None
                {
                    self.add(Rule::Python, 85, s.saturating_sub(5), close_paren(w, e));
                }
            }
            b"on" if starts_ci(&w[s..], b"on error resume next") => {
                self.asp += 1;
                self.asp_at = s;
            }
            b"function" => {
                // `new Function(`
                let b = &w[..s];
                let t = b
                    .iter()
                    .rposition(|c| !c.is_ascii_whitespace())
                    .map_or(b, |p| &b[..=p]);
                if t.len() >= 3
                    && t[t.len() - 3..].eq_ignore_ascii_case(b"new")
                    && call_at(w, e).0 != Args::None
                {
                    self.add(
                        Rule::Node,
                        65,
                        s - (s - t.len() + 3).min(s),
                        close_paren(w, e),
                    );
                }
            }
            _ => {}
        }
    }

    /// A dotted chain as a whole.
    fn judge_chain(&mut self, segs: &[(usize, usize)], keys: &[Small<64>], a: usize, z: usize) {
        let k = |i: usize| keys[i].as_bytes();
        let n = keys.len();
        let has = |x: &[u8]| {
            keys.iter()
                .any(|s| crate::common::eq_short(s.as_bytes(), x))
        };
        let first = k(0);
        // Spring4Shell.
        if n >= 3
            && (0..n - 2)
                .any(|i| k(i) == b"class" && k(i + 1) == b"module" && k(i + 2) == b"classloader")
        {
            self.add(Rule::Java, 95, a, z);
            return;
        }
        // PHP's SSH2 stream wrappers (`ssh2.exec://`, `ssh2.sftp://`): a
        // file parameter that opens a shell, a tunnel or a remote file.
        if n == 2
            && first == b"ssh2"
            && matches!(k(1), b"shell" | b"exec" | b"tunnel" | b"sftp" | b"scp")
            && self.w[z..].starts_with(b"://")
        {
            self.add(Rule::Php, 75, a, z + 3);
            return;
        }
        let exec_cls = has(b"runtime") || has(b"processbuilder") || has(b"getruntime");
        let javaish = has(b"java") || has(b"javax") || has(b"lang") || has(b"getruntime");
        if names::is_gadget_chain(keys) {
            self.add(Rule::Java, 85, a, z);
            return;
        }
        if exec_cls && javaish {
            self.add(Rule::Java, 85, a, z);
            return;
        }
        // Python: `os.system`, `subprocess.Popen`, `pty.spawn`.
        let second = k(1);
        let py = match (first, second) {
            (
                b"os",
                b"system" | b"popen" | b"execl" | b"execle" | b"execlp" | b"execv" | b"execve"
                | b"execvp" | b"spawnl" | b"spawnv" | b"fork" | b"startfile",
            ) => 85,
            (
                b"subprocess",
                b"popen" | b"call" | b"run" | b"check_output" | b"getoutput" | b"check_call"
                | b"getstatusoutput",
            ) => 90,
            (b"pty", b"spawn") => 90,
            (b"pickle" | b"cpickle" | b"marshal" | b"_pickle", b"loads" | b"load") => 70,
            (b"socket", b"socket") => 60,
            (b"commands", b"getoutput") => 85,
            _ => 0,
        };
        if py > 0 {
            let z2 = close_paren(self.w, z);
            self.add(Rule::Python, py, a, z2);
            return;
        }
        // Node.js.
        let pair = |a: &[u8], b: &[&[u8]]| {
            (0..n.saturating_sub(1)).any(|i| k(i) == a && b.contains(&k(i + 1)))
        };
        let node = if pair(b"constructor", &[b"constructor"])
            || pair(b"process", &[b"mainmodule", b"binding", b"dlopen"])
            || pair(b"require", &[b"main"])
        {
            85
        } else if (0..n.saturating_sub(1)).any(|i| k(i) == b"global" && k(i + 1) == b"process") {
            80
        } else if first == b"this" && second == b"constructor" {
            60
        } else if first == b"process" && second == b"env" && n == 2 {
            if self.prose() {
                30
            } else {
                50
            }
        } else if first == b"string" && second == b"fromcharcode" {
            let before = &self.w[a.saturating_sub(6)..a];
            if find_ci(before, b"eval(").is_some() {
                85
            } else {
                45
            }
        } else if first == b"module" && second == b"exports" {
            if self.w.get(crate::common::skip_ws(self.w, z)) == Some(&b'=') && !self.prose() {
                50
            } else {
                40
            }
        } else if (0..n.saturating_sub(1))
            .any(|i| k(i) == b"constructor" && k(i + 1) == b"prototype")
        {
            self.add(Rule::ProtoPollution, 60, a, z);
            0
        } else {
            0
        };
        if node > 0 {
            self.add(Rule::Node, node, a, z);
            return;
        }
        // Ruby and .NET.
        let called = call_at(self.w, z).0 != Args::None;
        let other = match (k(n - 2), k(n - 1)) {
            (b"kernel", b"exec" | b"system" | b"spawn" | b"open" | b"eval") => (Rule::Ruby, 85),
            (b"io", b"popen") => (Rule::Ruby, 85),
            (b"open3", _) => (Rule::Ruby, 75),
            (b"process", b"spawn") if called => (Rule::Ruby, 80),
            (b"process", b"start") if called => (Rule::Dotnet, 75),
            (b"diagnostics", b"process" | b"processstartinfo") => (Rule::Dotnet, 85),
            (b"wscript", b"shell") => (Rule::Asp, 80),
            (b"scripting", b"filesystemobject") => (Rule::Asp, 70),
            (b"server", b"createobject" | b"execute" | b"mappath") => {
                self.asp += 1;
                self.asp_at = a;
                (Rule::Asp, 0)
            }
            (b"response", b"write" | b"end" | b"binarywrite") => {
                self.asp += 1;
                self.asp_at = a;
                (Rule::Asp, 0)
            }
            (b"class", b"forname") => (Rule::Java, 85),
            _ => (Rule::Java, 0),
        };
        if other.1 > 0 {
            self.add(other.0, other.1, a, z);
            return;
        }
        // Java classes by package.
        let last = k(n - 1);
        if last.ends_with(b"exception") || last.ends_with(b"error") {
            // Stack traces in bug reports.
            return;
        }
        let pkg = match first {
            b"java" => {
                matches!(
                    second,
                    b"lang" | b"io" | b"net" | b"nio" | b"rmi" | b"beans" | b"security"
                ) || n == 2
            }
            b"javax" => matches!(
                second,
                b"script" | b"naming" | b"management" | b"el" | b"faces"
            ),
            b"jdk" => matches!(second, b"internal" | b"nashorn" | b"jshell"),
            b"sun" => matches!(second, b"misc" | b"reflect" | b"rmi" | b"net" | b"nio"),
            b"com" => {
                matches!(second, b"sun" | b"opensymphony" | b"mchange" | b"alibaba") && n >= 3
            }
            b"org" => {
                n >= 3
                    && matches!(
                        (second, k(2)),
                        (
                            b"apache",
                            b"commons" | b"xalan" | b"xbean" | b"tomcat" | b"naming" | b"batik"
                        ) | (b"omg", _)
                            | (b"springframework", _)
                            | (b"codehaus", _)
                            | (b"hibernate", _)
                            | (b"mozilla", b"javascript")
                    )
            }
            _ => false,
        };
        if pkg {
            let score = if exec_cls {
                85
            } else if self.prose() {
                30
            } else {
                55
            };
            self.add(Rule::Java, score, a, z);
        }
        let _ = segs;
    }

    /// Base64 tokens that begin with Java serialization or gadget names.
    fn base64_token(&mut self, i: usize) {
        let w = self.w;
        let mut e = i;
        while e < w.len() && e - i < 4096 && b64c(w[e]) {
            e += 1;
        }
        let t = &w[i..e];
        if t.len() < 6 {
            return;
        }
        if t.starts_with(b"rO0AB")
            || t.starts_with(b"KztAAU")
            || t.starts_with(b"Cs7QAF")
            || starts_ci(t, b"aced0005")
        {
            self.add(Rule::JavaDeser, 85, i, e);
            return;
        }
        if t.len() < 8 {
            return;
        }
        static INDEX: std::sync::OnceLock<crate::common::Index> = std::sync::OnceLock::new();
        let idx = INDEX.get_or_init(|| crate::common::Index::new(b64::B64_JAVA, |e| e.0));
        for off in 0..4.min(t.len()) {
            let r = &t[off..];
            let Some(&c0) = r.first() else { break };
            for &(core, _) in &b64::B64_JAVA[idx.range(c0)] {
                let core = core.as_bytes();
                if r.len() >= core.len() && r[1] == core[1] && r.starts_with(core) {
                    self.add(Rule::JavaDeser, 70, i, e);
                    return;
                }
            }
        }
    }

    /// `<?php`, `<?=`, `<? code`.
    fn php_tag(&mut self, i: usize) {
        let w = self.w;
        if w.get(i + 1) != Some(&b'?') {
            return;
        }
        let r = &w[i + 2..];
        if starts_ci(r, b"xml") {
            // `<?xml` not followed by a declaration (`<?xml :echo 1;`):
            // PHP's short open tag.
            let k = crate::common::skip_ws(r, 3);
            if k < r.len()
                && (k == 3 && !r[3].is_ascii_whitespace() && r[3] != b'-' && r[3] != b'?'
                    || matches!(r[k], b':' | b'(' | b';' | b'$'))
                && !r[3].is_ascii_alphanumeric()
            {
                self.add(Rule::Php, 60, i, i + 2 + k + 1);
            }
            return;
        }
        if starts_ci(r, b"php") {
            self.add(Rule::Php, 85, i, i + 5);
        } else if r.first() == Some(&b'=') {
            self.add(Rule::Php, 80, i, i + 3);
        } else if r.first().is_some_and(|c| c.is_ascii_whitespace()) {
            let body = &r[..r.len().min(96)];
            let k = crate::common::skip_ws(body, 0);
            let word = &body[k..];
            let xmlish = [&b"xml"[..], b"xpacket", b"xsl"]
                .iter()
                .any(|x| starts_ci(word, x));
            let kw = [
                &b"php"[..],
                b"echo",
                b"print",
                b"system",
                b"exec",
                b"eval",
                b"include",
                b"require",
                b"passthru",
            ]
            .iter()
            .any(|x| {
                starts_ci(word, x) && !word.get(x.len()).is_some_and(|c| c.is_ascii_alphanumeric())
            });
            if !xmlish
                && (kw
                    || body
                        .iter()
                        .any(|&c| c == b'(' || c == b'$' || c == b';' || c == b'`'))
            {
                self.add(Rule::Php, 75, i, i + 2 + body.len());
            }
        } else if r.is_empty() {
            self.add(Rule::Php, 50, i, i + 2);
        }
    }

    /// `$_GET[`, `$a(`, `$$b(`, `${'a'}(`, `${@...}`, `_$$ND_FUNC$$_`.
    fn dollar(&mut self, i: usize) {
        let w = self.w;
        let r = &w[i + 1..];
        if starts_ci(r, b"$nd_func$$") {
            self.add(Rule::Node, 95, i.saturating_sub(1), i + 11);
            return;
        }
        if r.first() == Some(&b'{') {
            match r.get(1) {
                Some(b'@') => self.add(Rule::Php, 85, i, close_brace(w, i + 2)),
                Some(b'\'' | b'"') => {
                    let z = close_brace(w, i + 2);
                    let (args, _) = call_at(w, z);
                    let score = if args != Args::None { 75 } else { 50 };
                    self.add(Rule::Php, score, i, z);
                }
                _ => {
                    // `${$a}(`, `${_.__}(`, `${$s}['x'](`.
                    let mut z = close_brace(w, i + 2);
                    for _ in 0..4 {
                        let g = skip_gap(w, z);
                        if w.get(g) != Some(&b'[') {
                            break;
                        }
                        match crate::common::close_within(w, g + 1, b'[', b']', 128) {
                            Some(p) => z = p + 1,
                            None => break,
                        }
                    }
                    if z > i + 3
                        && call_at(w, z).0 != Args::None
                        && w[i + 2..z - 1]
                            .iter()
                            .any(|&c| c == b'$' || c == b'_' || c == b'@')
                    {
                        self.add(Rule::Php, 65, i, z);
                    }
                }
            }
            return;
        }
        if i > 0 && (is_ident(w[i - 1]) || w[i - 1] == b'$') {
            return;
        }
        if r.first() == Some(&b' ') {
            // `$ {'a'}`, `$   {$a}`: PHP's variable-variable with blanks.
            let k = crate::common::skip_ws(w, i + 1);
            if w.get(k) == Some(&b'{') {
                let q = crate::common::skip_ws(w, k + 1);
                if matches!(w.get(q), Some(b'\'' | b'"' | b'$' | b'@')) {
                    self.add(Rule::Php, 60, i, close_brace(w, k + 1));
                }
            }
            return;
        }
        // `$$$name`
        let mut j = i + 1;
        while j < w.len() && w[j] == b'$' && j - i < 4 {
            j += 1;
        }
        let s = j;
        while j < w.len() && is_ident(w[j]) && j - s < 40 {
            j += 1;
        }
        if j == s || w[s].is_ascii_digit() {
            return;
        }
        let name = &w[s..j];
        let sup: [&[u8]; 9] = [
            b"_GET",
            b"_POST",
            b"_REQUEST",
            b"_COOKIE",
            b"_SERVER",
            b"_FILES",
            b"_ENV",
            b"_SESSION",
            b"GLOBALS",
        ];
        let is_sup = sup.iter().any(|x| name.eq_ignore_ascii_case(x));
        // Index groups and comments before a call.
        let mut k = j;
        let mut indexed = false;
        for _ in 0..6 {
            let g = skip_gap(w, k);
            match w.get(g) {
                Some(&o @ (b'[' | b'{')) => {
                    let cl = if o == b'[' { b']' } else { b'}' };
                    match crate::common::close_within(w, g + 1, o, cl, 128) {
                        Some(p) if p > g + 1 => {
                            k = p + 1;
                            indexed = true;
                        }
                        _ => break,
                    }
                }
                _ => break,
            }
        }
        if is_sup {
            let score = if indexed { 65 } else { 55 };
            self.add(Rule::Php, score, i, k);
        }
        let g = skip_gap(w, k);
        if w.get(g) == Some(&b'(') {
            // A variable used as a function.
            let glued = g == k;
            let (args, _) = call_at(w, k);
            if args == Args::Prose || (!glued && self.prose()) {
                return;
            }
            let strong = s > i + 1 || name.starts_with(b"_") || indexed || is_sup;
            let score = if strong { 65 } else { 55 };
            self.add(Rule::Php, score, i, close_paren(w, k));
        } else if w.get(g) == Some(&b'-')
            && w.get(g + 1) == Some(&b'>')
            && w.get(g + 2) == Some(&b'$')
        {
            // `$foo->$funcname()`
            let mut e = g + 3;
            while e < w.len() && is_ident(w[e]) {
                e += 1;
            }
            if call_at(w, e).0 != Args::None {
                self.add(Rule::Php, 60, i, close_paren(w, e));
            }
        }
    }

    /// `@{[ ... ]}` (Perl), `@java.lang.Runtime@` (OGNL).
    fn at(&mut self, i: usize) {
        let w = self.w;
        let r = &w[i + 1..];
        if r.first() == Some(&b'{') && w.get(crate::common::skip_ws(w, i + 2)) == Some(&b'[') {
            let z = close_brace(w, i + 2);
            self.add(Rule::Perl, 75, i, z);
        } else if starts_ci(r, b"java.")
            || starts_ci(r, b"ognl.")
            || starts_ci(r, b"javax.")
            || starts_ci(r, b"org.apache")
        {
            let e = r.iter().take(128).position(|&c| c == b'@');
            if let Some(e) = e {
                self.add(Rule::Java, 90, i, i + 1 + e + 1);
            }
        }
    }

    /// YAML deserialization tags.
    fn yaml(&mut self, i: usize) {
        let w = self.w;
        let r = &w[i + 1..];
        let hit = if r.first() == Some(&b'!') {
            let t = &r[1..];
            [
                "python/", "java", "javax", "com.sun", "org.", "ruby/", "php/",
            ]
            .iter()
            .any(|p| starts_ci(t, p.as_bytes()))
        } else {
            starts_ci(r, b"ruby/object")
                || starts_ci(r, b"ruby/hash")
                || starts_ci(r, b"ruby/marshal")
        };
        if hit {
            let e = r
                .iter()
                .take(64)
                .position(|c| c.is_ascii_whitespace() || *c == b'[')
                .map_or(i + 1 + r.len().min(64), |p| i + 1 + p);
            self.add(Rule::Yaml, 90, i, e);
        }
    }

    /// `%{(#...)}` OGNL, `%x(...)` Ruby.
    fn percent(&mut self, i: usize) {
        let w = self.w;
        let r = &w[i + 1..];
        if r.first() == Some(&b'{') {
            let z = close_brace(w, i + 2);
            let inner = &w[i + 2..z.saturating_sub(1).max(i + 2)];
            if inner
                .iter()
                .take(4)
                .any(|&c| c == b'#' || c == b'(' && inner.contains(&b'#'))
                || inner.contains(&b'@') && inner.contains(&b'#')
            {
                self.add(Rule::Java, 80, i, z);
            }
        } else if (r.first() == Some(&b'x') || r.first() == Some(&b'X'))
            && matches!(r.get(1), Some(b'(' | b'{' | b'[' | b'|'))
            && (i == 0 || !w[i - 1].is_ascii_alphanumeric())
        {
            self.add(Rule::Ruby, 70, i, i + 3);
        }
    }

    /// A call whose callee is a parenthesised, bracketed or quoted
    /// expression: `(system)('id')`, `("sys"."tem")(...)`,
    /// `[system][0](ls)`, `"\x73ystem"(ls)`.
    fn callable(&mut self, i: usize) {
        let w = self.w;
        let mut k = i;
        while k > 0 && w[k - 1].is_ascii_whitespace() {
            k -= 1;
        }
        if k == 0 || !matches!(w[k - 1], b')' | b']' | b'\'' | b'"' | b'}') {
            return;
        }
        // The argument must not be a URL (markdown links).
        let a = crate::common::skip_ws(w, i + 1);
        let arg = &w[a..];
        if starts_ci(arg, b"http")
            || arg.first().is_some_and(|c| matches!(c, b'/' | b'#' | b'.'))
            || starts_ci(arg, b"www.")
            || starts_ci(arg, b"mailto:")
        {
            return;
        }
        // Walk back over balanced groups and strings (at most 160 bytes).
        let lo = k.saturating_sub(160);
        let mut depth = 0i32;
        let mut j = k;
        let mut quote: Option<u8> = None;
        while j > lo {
            let c = w[j - 1];
            if let Some(q) = quote {
                if c == q {
                    quote = None;
                }
                j -= 1;
                continue;
            }
            match c {
                b')' | b']' | b'}' => depth += 1,
                b'(' | b'[' | b'{' => {
                    depth -= 1;
                    if depth < 0 {
                        break;
                    }
                }
                b'\'' | b'"' => quote = Some(c),
                c if depth == 0
                    && !(is_ident(c)
                        || c == b'.'
                        || c == b'\\'
                        || c.is_ascii_whitespace()
                        || c == b'+'
                        || c == b'&') =>
                {
                    break
                }
                _ => {}
            }
            j -= 1;
            if depth == 0
                && quote.is_none()
                && j > lo
                && !matches!(
                    w[j - 1],
                    b')' | b']' | b'}' | b'\'' | b'"' | b'.' | b'+' | b'&' | b' '
                )
            {
                break;
            }
        }
        let callee = &w[j..k];
        let mut sq = Small::<64>::default();
        squeeze(callee, &mut sq);
        if names::has_exec_name(sq.as_bytes()) {
            self.add(Rule::CallableString, 80, j, close_paren(w, i));
        }
    }

    /// Counts string concatenation marks at a quote: `"a"&"b"`, `'a'.'b'`.
    fn concat_mark(&mut self, i: usize) {
        let w = self.w;
        let q = w[i];
        let mut j = i + 1;
        while j < w.len() && w[j] == b' ' {
            j += 1;
        }
        if j < w.len() && matches!(w[j], b'&' | b'+' | b'.') {
            j += 1;
            while j < w.len() && w[j] == b' ' {
                j += 1;
            }
            if j < w.len()
                && (w[j] == q || w[j] == b'\'' || w[j] == b'"')
                && i > 0
                && w[i - 1] != b'\\'
            {
                self.concat += 1;
            }
        }
    }

    /// Reads the window with quotes, concatenation operators and blanks
    /// removed and looks for an execution function called.
    fn deconcat(&mut self) {
        let w = self.w;
        let mut ring = Small::<24>::default();
        let mut start_at = 0usize;
        for (i, &c) in w.iter().enumerate() {
            if matches!(c, b'"' | b'\'' | b'&' | b'+' | b'.' | b' ' | b'\t') {
                continue;
            }
            if c == b'(' {
                if names::ends_with_exec_name(ring.as_bytes()) {
                    self.add(Rule::Concat, 80, start_at, i + 1);
                    return;
                }
                ring.clear();
                continue;
            }
            if !c.is_ascii_alphanumeric() && c != b'_' {
                ring.clear();
                continue;
            }
            if ring.is_empty() {
                start_at = i;
            }
            if ring.len() == 24 {
                // Keep the last 12.
                let mut t = Small::<24>::default();
                t.extend(&ring.as_bytes()[12..]);
                ring = t;
            }
            ring.push(lc(c));
        }
    }

    /// `while(true)`, `while(!0)`: an endless loop (a denial probe).
    fn infinite_loop(&mut self, s: usize, e: usize) {
        let w = self.w;
        let j = crate::common::skip_ws(w, e);
        if w.get(j) != Some(&b'(') {
            return;
        }
        let z = close_paren(w, j);
        if z <= j + 1 {
            return;
        }
        let inner = trim(&w[j + 1..z - 1]);
        if truthy(inner) == Some(true) {
            self.add(Rule::Loop, 55, s, z);
        }
    }

    /// `O:8:"stdClass":1:{...}`: a serialized PHP object.
    fn php_object(&mut self, s: usize, e: usize) {
        let w = self.w;
        if e != s + 1 || w.get(e) != Some(&b':') {
            return;
        }
        let mut j = e + 1;
        let ds = j;
        while j < w.len() && w[j].is_ascii_digit() && j - ds < 4 {
            j += 1;
        }
        if j == ds || !w[j..].starts_with(b":\"") {
            return;
        }
        let ns = j + 2;
        let mut k = ns;
        while k < w.len() && k - ns < 128 && (is_ident(w[k]) || w[k] == b'\\') {
            k += 1;
        }
        if k == ns || !w[k..].starts_with(b"\":") {
            return;
        }
        let mut m = k + 2;
        let cs = m;
        while m < w.len() && w[m].is_ascii_digit() && m - cs < 5 {
            m += 1;
        }
        if m > cs && w[m..].starts_with(b":{") {
            self.add(Rule::Php, 80, s, m + 2);
        }
    }

    /// `import os`, `from subprocess import ...`.
    fn python_import(&mut self, s: usize, e: usize) {
        let w = self.w;
        if s > 0
            && !matches!(
                w[s - 1],
                b' ' | b';' | b'\n' | b'\t' | b'[' | b'(' | b'\'' | b'"' | b'{'
            )
        {
            return;
        }
        let j = crate::common::skip_ws(w, e);
        if j == e {
            return;
        }
        let mut k = j;
        while k < w.len() && is_ident(w[k]) {
            k += 1;
        }
        let m = &w[j..k];
        let mods: [&[u8]; 7] = [
            b"os",
            b"subprocess",
            b"socket",
            b"pty",
            b"pickle",
            b"commands",
            b"ctypes",
        ];
        if mods.iter().any(|x| m.eq_ignore_ascii_case(x)) {
            self.add(Rule::Python, 75, s, k);
        }
    }

    /// A PHP configuration directive set (`opcache.jit=...`,
    /// `auto_prepend_file=...`): what a `.user.ini` injection writes.
    fn ini_directive(&mut self, s: usize, e: usize) {
        let w = self.w;
        // Only as a line of a configuration file: at the start of a line.
        if s > 0 && !matches!(w[s - 1], b'\n' | b'\r') {
            return;
        }
        let g = crate::common::skip_ws(w, e);
        if w.get(g) != Some(&b'=') || e - s > 64 {
            return;
        }
        let name = &w[s..e];
        const PREFIXES: [&[u8]; 11] = [
            b"opcache.",
            b"mbstring.",
            b"session.",
            b"zend.",
            b"pcre.",
            b"phar.",
            b"assert.",
            b"xdebug.",
            b"allow_url_",
            b"auto_prepend_file",
            b"auto_append_file",
        ];
        const NAMES: [&[u8]; 9] = [
            b"open_basedir",
            b"disable_functions",
            b"disable_classes",
            b"memory_limit",
            b"extension_dir",
            b"include_path",
            b"unserialize_max_depth",
            b"short_open_tag",
            b"register_argc_argv",
        ];
        if PREFIXES.iter().any(|p| starts_ci(name, p))
            || NAMES.iter().any(|n| name.eq_ignore_ascii_case(n))
        {
            self.add(Rule::Php, 55, s, (g + 1).min(w.len()));
        }
    }

    /// `\xac\xed\x00\x05` written as escapes.
    fn raw_magic(&mut self, i: usize) {
        if starts_ci(&self.w[i..], b"\\xac\\xed\\x00\\x05") {
            self.add(Rule::JavaDeser, 85, i, i + 16);
        }
    }
}

/// PHP extension prefixes whose functions no other language shares.
const PHP_PREFIXES: [&[u8]; 40] = [
    b"apcu_",
    b"array_",
    b"ctype_",
    b"curl_",
    b"fbird_",
    b"ftp_",
    b"gmp_",
    b"gz",
    b"hash_",
    b"ibase_",
    b"iconv_",
    b"igbinary_",
    b"imap_",
    b"ldap_",
    b"libxml_",
    b"mb_",
    b"mcrypt_",
    b"mysql_",
    b"mysqli_",
    b"oci_",
    b"odbc_",
    b"ob_",
    b"opcache_",
    b"openssl_",
    b"pcntl_",
    b"pg_",
    b"posix_",
    b"proc_",
    b"pspell_",
    b"readline_",
    b"sem_",
    b"shm_",
    b"shmop_",
    b"simplexml_",
    b"snmp_",
    b"sodium_",
    b"sqlite_",
    b"stream_",
    b"tidy_",
    b"zend_",
];

/// A lower-case identifier with a PHP extension prefix and more after it.
fn php_family(key: &[u8]) -> bool {
    key.len() >= 6
        && PHP_PREFIXES
            .iter()
            .any(|p| key.len() > p.len() + 2 && key.starts_with(p))
}

/// True when `a` lies inside a backtick-quoted span (an odd number of
/// backticks before it on its line).
fn in_backticks(w: &[u8], a: usize) -> bool {
    let line = w[..a.min(w.len())]
        .iter()
        .rposition(|&c| c == b'\n')
        .map_or(0, |p| p + 1);
    w[line..a.min(w.len())]
        .iter()
        .filter(|&&c| c == b'`')
        .count()
        % 2
        == 1
}

/// Squeezes a callee expression to its letters: quotes, dots,
/// brackets, digits, blanks and comments dropped, `\xHH` decoded.
fn squeeze<const N: usize>(e: &[u8], out: &mut Small<N>) {
    let mut i = 0;
    while i < e.len() {
        let c = e[i];
        if c == b'\\' && e.get(i + 1) == Some(&b'x') && i + 3 < e.len() {
            let h = |x: u8| (x as char).to_digit(16);
            if let (Some(a), Some(b)) = (h(e[i + 2]), h(e[i + 3])) {
                out.push(lc((a * 16 + b) as u8));
                i += 4;
                continue;
            }
        }
        if c == b'/' && e.get(i + 1) == Some(&b'*') {
            match find_seq(&e[i + 2..], b"*/") {
                Some(p) => {
                    i += p + 4;
                    continue;
                }
                None => break,
            }
        }
        if c.is_ascii_alphabetic() || c == b'_' {
            out.push(lc(c));
        }
        i += 1;
    }
}

/// JavaScript truthiness of a literal condition (`true`, `!0`, `!!{}`,
/// `Infinity`, `new Date`), `None` when it is not a literal.
fn truthy(e: &[u8]) -> Option<bool> {
    let mut e = e;
    let mut neg = false;
    loop {
        match e.first() {
            Some(b'!') => {
                neg = !neg;
                e = &e[1..];
            }
            Some(b'+' | b'-') => e = &e[1..],
            Some(b'(') if e.last() == Some(&b')') => e = trim(&e[1..e.len() - 1]),
            Some(b'(') if e.ends_with(b"))") => e = trim(&e[1..e.len() - 2]),
            _ => break,
        }
    }
    let v = match e {
        b"true" | b"Infinity" | b"this" | b"String" | b"Object" | b"{}" | b"[]" | b"new Date"
        | b"new Date()" => true,
        b"false" | b"null" | b"undefined" | b"NaN" | b"\"\"" | b"''" | b"``" => false,
        _ if !e.is_empty() && e.iter().all(|c| c.is_ascii_digit()) => e.iter().any(|&c| c != b'0'),
        _ => return None,
    };
    Some(v != neg)
}

fn trim(e: &[u8]) -> &[u8] {
    let s = e
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(e.len());
    let z = e
        .iter()
        .rposition(|c| !c.is_ascii_whitespace())
        .map_or(s, |z| z + 1);
    &e[s..z]
}

/// The index after the `)` closing the call that starts at or after `i`
/// (or a bounded guess).
fn close_paren(w: &[u8], i: usize) -> usize {
    let j = skip_gap(w, i);
    if w.get(j) != Some(&b'(') {
        return i;
    }
    crate::common::close_within(w, j + 1, b'(', b')', 512).map_or(w.len().min(j + 64), |e| e + 1)
}

/// The index after the `}` closing a brace opened before `i`.
fn close_brace(w: &[u8], i: usize) -> usize {
    crate::common::close_within(w, i, b'{', b'}', 512).map_or(w.len().min(i + 64), |e| e + 1)
}
