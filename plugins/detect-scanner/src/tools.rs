//! Tool names: a tokenizer for product tokens and a sorted static table.
//!
//! A value is cut into *words*: maximal runs of ASCII letters and digits
//! (bytes above 0x7f count as word bytes, so a tool name glued to a
//! non-ASCII letter is no match). `sqlmap/1.7.2#stable` gives `sqlmap`,
//! `1`, `7`, `2`, `stable`. A word that is the tail of a compound name
//! (`python-httpx`, `OWASP_DirBuster`, `www.nikto`: a `-`, `_` or `.` with a
//! word byte before it) is skipped; a word followed by such a joiner is
//! kept (`DirBuster-1.0-RC1`, `OpenVAS-VT`, `w3af.org`); a tail is looked
//! up only for entries that are file-name extensions (`x.nasl`).
//!
//! Each word of at most [`MAX_KEY`] bytes is lower-cased into a stack
//! buffer and looked up by binary search; an entry then checks the word's
//! surroundings according to its [`Mode`].

/// How a table entry must appear for a word to count.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Mode {
    /// The word anywhere (names that mean nothing else).
    Word,
    /// The word as a product token: `name/1.2`, `name/v1`, `name v1`, or a
    /// whole comment element `(...; name; ...)`. For names that are also
    /// ordinary words or device names (hydra, vega, zap).
    Product,
    /// `name/` followed by this version prefix (skipfish's `SF/2.10b`).
    Versioned(&'static [u8]),
    /// The word followed by these words, one to three separator bytes
    /// between each (`Fuzz Faster U Fool`).
    Phrase(&'static [&'static [u8]]),
    /// The word as the extension of a file name (`check_cve.nasl`): after a
    /// `.` that follows a word, and not followed by one.
    Extension,
}

/// One entry of the tool table.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tool {
    /// Lower-case word the entry is found by.
    pub key: &'static [u8],
    /// Rule name reported.
    pub rule: &'static str,
    /// Name shown in messages.
    pub name: &'static str,
    pub mode: Mode,
}

const fn t(key: &'static [u8], rule: &'static str, name: &'static str, mode: Mode) -> Tool {
    Tool {
        key,
        rule,
        name,
        mode,
    }
}

use Mode::{Extension, Phrase, Product, Versioned, Word};

/// The tool table, sorted by key (checked at compile time below).
pub(crate) const TOOLS: &[Tool] = &[
    t(b"acunetix", "scanner.acunetix", "Acunetix", Word),
    t(b"appscan", "scanner.appscan", "IBM AppScan", Word),
    t(b"arachni", "scanner.arachni", "Arachni", Word),
    t(b"burpsuite", "scanner.burp", "Burp Suite", Word),
    t(b"commix", "scanner.commix", "commix", Word),
    t(b"dalfox", "scanner.dalfox", "Dalfox", Word),
    t(b"dirbuster", "scanner.dirbuster", "DirBuster", Word),
    t(b"dotdotpwn", "scanner.dotdotpwn", "DotDotPwn", Word),
    t(b"feroxbuster", "scanner.feroxbuster", "feroxbuster", Word),
    t(b"ffuf", "scanner.ffuf", "ffuf", Word),
    t(b"fimap", "scanner.fimap", "fimap", Word),
    t(
        b"fuzz",
        "scanner.ffuf",
        "ffuf",
        Phrase(&[b"faster", b"u", b"fool"]),
    ),
    t(b"gobuster", "scanner.gobuster", "gobuster", Word),
    t(b"grabber", "scanner.grabber", "Grabber", Product),
    t(b"havij", "scanner.havij", "Havij", Word),
    t(
        b"httpx",
        "scanner.httpx",
        "httpx",
        Phrase(&[b"open", b"source", b"project"]),
    ),
    t(b"hydra", "scanner.hydra", "THC Hydra", Product),
    t(
        b"invicti",
        "scanner.netsparker",
        "Invicti (Netsparker)",
        Word,
    ),
    t(b"jaeles", "scanner.jaeles", "Jaeles", Word),
    t(b"joomscan", "scanner.joomscan", "OWASP JoomScan", Word),
    t(b"masscan", "scanner.masscan", "masscan", Word),
    t(b"medusa", "scanner.medusa", "Medusa", Product),
    t(
        b"nasl",
        "scanner.nessus",
        "Nessus (a NASL plugin name)",
        Extension,
    ),
    t(b"nessus", "scanner.nessus", "Nessus", Word),
    t(b"netsparker", "scanner.netsparker", "Netsparker", Word),
    t(b"nikto", "scanner.nikto", "Nikto", Word),
    t(b"nmap", "scanner.nmap", "Nmap Scripting Engine", Word),
    t(b"nuclei", "scanner.nuclei", "Nuclei", Word),
    t(b"openvas", "scanner.openvas", "OpenVAS", Word),
    t(b"openvasvt", "scanner.openvas", "OpenVAS", Word),
    t(b"owasp", "scanner.zap", "OWASP ZAP", Phrase(&[b"zap"])),
    t(b"paros", "scanner.paros", "Paros", Product),
    t(
        b"projectdiscovery",
        "scanner.httpx",
        "httpx",
        Phrase(&[b"httpx"]),
    ),
    t(b"qualys", "scanner.qualys", "Qualys", Word),
    t(b"qualysguard", "scanner.qualys", "Qualys", Word),
    t(b"sf", "scanner.skipfish", "skipfish", Versioned(b"2.")),
    t(b"skipfish", "scanner.skipfish", "skipfish", Word),
    t(b"sqlmap", "scanner.sqlmap", "sqlmap", Word),
    t(b"sqlninja", "scanner.sqlninja", "sqlninja", Word),
    t(
        b"teh",
        "scanner.medusa",
        "Medusa",
        Phrase(&[b"forest", b"lobster"]),
    ),
    t(b"vega", "scanner.vega", "Vega", Product),
    t(b"w3af", "scanner.w3af", "w3af", Word),
    t(b"webinspect", "scanner.webinspect", "WebInspect", Word),
    t(b"webshag", "scanner.webshag", "webshag", Word),
    t(b"wfuzz", "scanner.wfuzz", "Wfuzz", Word),
    t(b"whatweb", "scanner.whatweb", "WhatWeb", Word),
    t(b"wpscan", "scanner.wpscan", "WPScan", Word),
    t(b"xsstrike", "scanner.xsstrike", "XSStrike", Word),
    t(b"zap", "scanner.zap", "OWASP ZAP", Product),
    t(b"zaproxy", "scanner.zap", "OWASP ZAP", Word),
    t(b"zgrab", "scanner.zgrab", "ZGrab", Word),
    t(b"zgrab2", "scanner.zgrab", "ZGrab", Word),
    t(b"zmeu", "scanner.zmeu", "ZmEu", Word),
];

/// The longest key; longer words cannot match.
pub(crate) const MAX_KEY: usize = 16;

const fn key_ok(k: &[u8]) -> bool {
    if k.is_empty() || k.len() > MAX_KEY {
        return false;
    }
    let mut i = 0;
    while i < k.len() {
        if !(k[i].is_ascii_lowercase() || k[i].is_ascii_digit()) {
            return false;
        }
        i += 1;
    }
    true
}

const fn le(a: &[u8], b: &[u8]) -> bool {
    let mut i = 0;
    while i < a.len() && i < b.len() {
        if a[i] != b[i] {
            return a[i] < b[i];
        }
        i += 1;
    }
    a.len() <= b.len()
}

const fn table_ok(tools: &[Tool]) -> bool {
    let mut i = 0;
    while i < tools.len() {
        if !key_ok(tools[i].key) || (i > 0 && !le(tools[i - 1].key, tools[i].key)) {
            return false;
        }
        i += 1;
    }
    true
}

const _: () = assert!(table_ok(TOOLS), "TOOLS must be sorted, lower-case, short");

/// A 1024-bit filter over (length, first and last byte) of the keys: a word
/// whose bit is clear is in no entry, and is rejected without a search.
const FILTER: [u64; 16] = filter(TOOLS);

const fn filter_bit(len: usize, first: u8, last: u8) -> usize {
    (len.wrapping_mul(131) ^ (first as usize).wrapping_mul(31) ^ (last as usize).wrapping_mul(7))
        & 1023
}

const fn filter(tools: &[Tool]) -> [u64; 16] {
    let mut f = [0u64; 16];
    let mut i = 0;
    while i < tools.len() {
        let k = tools[i].key;
        let b = filter_bit(k.len(), k[0], k[k.len() - 1]);
        f[b / 64] |= 1 << (b % 64);
        i += 1;
    }
    f
}

/// True when a word of this length and lower-case first and last byte may
/// be a key.
fn filter_has(len: usize, first: u8, last: u8) -> bool {
    let b = filter_bit(len, first, last);
    FILTER[b / 64] & (1 << (b % 64)) != 0
}

const _: () = {
    let mut i = 0;
    while i < TOOLS.len() {
        assert!(
            !TOOLS[i].key[0].is_ascii_digit(),
            "a key starts with a digit"
        );
        i += 1;
    }
};

/// True for bytes that belong to a word.
pub(crate) fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b >= 0x80
}

/// Calls `hit(tool, start, end)` for every table match in `v`, in order.
/// Returns early when `hit` returns `false`.
pub(crate) fn scan(v: &[u8], mut hit: impl FnMut(&'static Tool, usize, usize) -> bool) {
    let mut i = 0;
    while i < v.len() {
        if !is_word(v[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < v.len() && is_word(v[i]) {
            i += 1;
        }
        let end = i;
        // No key is longer than MAX_KEY or starts with a digit; the filter
        // needs only the first and last byte, lower-cased.
        if end - start > MAX_KEY || v[start].is_ascii_digit() {
            continue;
        }
        let (first, last) = (
            v[start].to_ascii_lowercase(),
            v[end - 1].to_ascii_lowercase(),
        );
        if !filter_has(end - start, first, last) {
            continue;
        }
        let tail = is_compound_tail(v, start);
        let mut buf = [0u8; MAX_KEY];
        let word = &mut buf[..end - start];
        word.copy_from_slice(&v[start..end]);
        word.make_ascii_lowercase();
        let first = TOOLS.partition_point(|e| e.key < &*word);
        for tool in TOOLS[first..].iter().take_while(|e| e.key == &*word) {
            // A compound's tail counts only as a file name's extension.
            if tail != matches!(tool.mode, Extension) {
                continue;
            }
            if let Some(stop) = matches(tool.mode, v, start, end) {
                if !hit(tool, start, stop) {
                    return;
                }
            }
        }
    }
}

/// The word at `start` continues a compound name (`python-httpx`).
fn is_compound_tail(v: &[u8], start: usize) -> bool {
    start >= 2 && matches!(v[start - 1], b'-' | b'_' | b'.') && is_word(v[start - 2])
}

/// Where the match of an entry found at `start..end` ends, if it matches.
fn matches(mode: Mode, v: &[u8], start: usize, end: usize) -> Option<usize> {
    match mode {
        Word => Some(end),
        Product => (versioned(v, end) || comment_element(v, start, end)).then_some(end),
        Versioned(prefix) => {
            (v.get(end) == Some(&b'/') && v[end + 1..].starts_with(prefix)).then_some(end)
        }
        Phrase(words) => phrase_end(v, end, words),
        Extension => {
            let dot = start.checked_sub(1).and_then(|i| v.get(i)) == Some(&b'.');
            let more = v
                .get(end)
                .is_some_and(|&b| is_word(b) || matches!(b, b'.' | b'-' | b'_'));
            (dot && !more).then_some(end)
        }
    }
}

/// `/1`, `/v1` or ` v1` after the word.
fn versioned(v: &[u8], end: usize) -> bool {
    let digit = |i: usize| v.get(i).is_some_and(u8::is_ascii_digit);
    let vee = |i: usize| matches!(v.get(i), Some(b'v' | b'V'));
    match v.get(end) {
        Some(b'/') => digit(end + 1) || (vee(end + 1) && digit(end + 2)),
        Some(b' ') => vee(end + 1) && digit(end + 2),
        _ => false,
    }
}

/// The word is a whole element of a comment: `(Hydra)`, `(a; Hydra; b)`.
fn comment_element(v: &[u8], start: usize, end: usize) -> bool {
    const SPACES: usize = 4;
    let before = v[..start].iter().rev().take(SPACES).find(|&&b| b != b' ');
    let after = v[end..].iter().take(SPACES).find(|&&b| b != b' ');
    matches!(before, Some(b'(' | b';')) && matches!(after, Some(b')' | b';'))
}

/// End of the phrase starting with the word that ends at `pos`.
fn phrase_end(v: &[u8], mut pos: usize, words: &[&[u8]]) -> Option<usize> {
    for w in words {
        let gap = pos;
        while pos < v.len() && !is_word(v[pos]) && pos - gap < 3 {
            pos += 1;
        }
        if pos == gap || pos >= v.len() || !is_word(v[pos]) {
            return None;
        }
        let s = pos;
        while pos < v.len() && is_word(v[pos]) {
            pos += 1;
        }
        if !v[s..pos].eq_ignore_ascii_case(w) {
            return None;
        }
    }
    Some(pos)
}
