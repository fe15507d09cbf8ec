//! The table of programs an injected command names, and of the paths and
//! variables that give an argument away.

use std::sync::OnceLock;

use crate::common::{starts_ci, Index};

/// What a program is for; decides which arguments count as evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A shell or command interpreter (`sh`, `bash`, `cmd`, `powershell`).
    Shell,
    /// A language interpreter or compiler (`python`, `perl`, `gcc`).
    Interp,
    /// A network client (`wget`, `curl`, `nc`, `ping`).
    Net,
    /// System reconnaissance (`whoami`, `uname`, `ifconfig`).
    Recon,
    /// File reading and writing (`cat`, `ls`, `echo`, `chmod`).
    File,
    /// System administration (`kill`, `useradd`, `crontab`).
    Sys,
    /// Runs the command that follows (`time`, `nohup`, `sudo`, `env`).
    Prefix,
    /// A Windows administration tool (`net`, `reg`, `wmic`).
    Win,
    /// A PowerShell cmdlet or alias (`iex`, `Invoke-WebRequest`).
    Ps,
}

/// How much the name alone says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Tier {
    /// A common word or abbreviation (`cat`, `time`, `id`, `curl`).
    Word,
    /// Not an ordinary word (`wget`, `chmod`, `netcat`).
    Distinct,
    /// A reconnaissance probe that is an attack even alone (`whoami`).
    Probe,
}

/// One program.
#[derive(Debug, Clone, Copy)]
pub struct Bin {
    pub name: &'static str,
    pub kind: Kind,
    pub tier: Tier,
}

impl Bin {
    const fn new(name: &'static str, kind: Kind, tier: Tier) -> Bin {
        Bin { name, kind, tier }
    }
}

include!("bins.rs");

/// Looks a lower-case program name up: as given, then without a version
/// suffix (`python3.10`, `gcc7.4`, `php7`) and without `.exe`.
fn index() -> &'static Index {
    static INDEX: OnceLock<Index> = OnceLock::new();
    INDEX.get_or_init(|| Index::new(BINS, |b| b.name))
}

fn lookup(name: &[u8]) -> Option<&'static Bin> {
    index().find(BINS, name, |b| b.name)
}

/// The first two bytes of the names: bit `b` of `[a]` is set when a name
/// starts with `ab` (every bit of `[a]` for a one-byte name `a`).
fn prefixes() -> &'static [u128; 128] {
    static PREFIXES: OnceLock<[u128; 128]> = OnceLock::new();
    PREFIXES.get_or_init(|| {
        let mut t = [0u128; 128];
        for b in BINS {
            match b.name.as_bytes() {
                [a] => t[usize::from(a & 127)] = u128::MAX,
                [a, b, ..] => t[usize::from(a & 127)] |= 1 << (b & 127),
                [] => {}
            }
        }
        t
    })
}

/// False when no name of the table starts with the first two bytes of
/// `name` (lower-case): then neither `name` nor any form [`find_bin`]
/// strips it to (an extension or a version removed, which keeps at least
/// one byte; a one-byte name sets every bit of its row) is a program.
#[inline]
pub fn may_be_bin(name: &[u8]) -> bool {
    match name {
        [a, b, ..] => *a < 128 && *b < 128 && prefixes()[usize::from(*a)] >> b & 1 != 0,
        [a] => *a < 128 && prefixes()[usize::from(*a)] != 0,
        [] => false,
    }
}

pub fn find_bin(name: &[u8]) -> Option<&'static Bin> {
    if name.is_empty() || name.len() > 40 || !may_be_bin(name) {
        return None;
    }
    if let Some(b) = lookup(name) {
        return Some(b);
    }
    let mut n = name;
    // Every extension is a dot and three bytes.
    if n.len() > 4 && n[n.len() - 4] == b'.' {
        for ext in [&b".exe"[..], b".com", b".bat", b".cmd", b".ps1"] {
            if n.len() > ext.len() && n.ends_with(ext) {
                n = &n[..n.len() - ext.len()];
                if let Some(b) = lookup(n) {
                    return Some(b);
                }
            }
        }
    }
    // Version suffix: trailing digits, dots and dashes.
    if !n
        .last()
        .is_some_and(|&c| c.is_ascii_digit() || c == b'.' || c == b'-')
    {
        return None;
    }
    let mut end = n.len();
    while end > 0 && (n[end - 1].is_ascii_digit() || n[end - 1] == b'.' || n[end - 1] == b'-') {
        end -= 1;
    }
    if end > 0 && end < n.len() {
        if let Some(b) = lookup(&n[..end]) {
            if matches!(
                b.kind,
                Kind::Interp | Kind::Shell | Kind::Sys | Kind::File | Kind::Net
            ) {
                return Some(b);
            }
        }
    }
    None
}

/// Finds a program whose name matches a glob pattern (`c?t`, `?s`,
/// `wh*mi`): the first match in table order among non-word-like names,
/// else among all. Patterns without a literal letter match nothing.
pub fn find_bin_glob(pat: &[u8]) -> Option<&'static Bin> {
    if pat.is_empty() || pat.len() > 40 || !pat.iter().any(|c| c.is_ascii_alphabetic()) {
        return None;
    }
    // `*` matches too much in a bare name (`x*y` is `xcopy`): only
    // single-character wildcards and brackets spell a name.
    if pat.contains(&b'*') {
        return None;
    }
    // Without `*` a pattern matches names of exactly its unit count.
    let mut units = 0;
    let mut i = 0;
    while i < pat.len() {
        if pat[i] == b'[' {
            match pat[i + 1..].iter().position(|&c| c == b']') {
                Some(p) => i += p + 2,
                None => i += 1,
            }
        } else {
            i += 1;
        }
        units += 1;
    }
    BINS.iter()
        .filter(|b| b.name.len() == units && b.name.len() >= 2)
        .find(|b| crate::common::glob_match(pat, b.name.as_bytes()))
}

/// Paths whose mention as an argument makes a command an attack
/// (lower-case, compared as prefixes of the normalised argument).
const SENSITIVE_PREFIXES: &[&[u8]] = &[
    b"/etc/",
    b"/proc/",
    b"/dev/tcp",
    b"/dev/udp",
    b"/bin/",
    b"/sbin/",
    b"/usr/bin/",
    b"/usr/sbin/",
    b"/usr/local/bin/",
    b"/var/log/",
    b"/var/www/",
    b"/var/run/",
    b"/root/",
    b"/home/",
    b"/tmp/",
    b"/dev/shm",
    b"/boot",
    b"~/.",
    b"c:\\windows",
    b"c:/windows",
    b"c:\\users",
    b"c:\\inetpub",
    b"%systemroot%",
    b"%windir%",
    b"\\windows\\",
];

/// File names that make any path sensitive.
const SENSITIVE_NAMES: &[&[u8]] = &[
    b"passwd",
    b"shadow",
    b"id_rsa",
    b"authorized_keys",
    b".htpasswd",
    b".bash_history",
    b"win.ini",
    b"boot.ini",
    b"web.config",
    b"environ",
];

/// True when a normalised (lower-case) argument names a sensitive path:
/// a system directory, a credential file, `/` itself, `/etc`.
pub fn sensitive_path(a: &[u8]) -> bool {
    if a == b"/" || a == b"/etc" || a == b"/tmp" || a == b"/root" || a == b"~" || a == b"/*" {
        return true;
    }
    if SENSITIVE_PREFIXES.iter().any(|p| starts_ci(a, p)) {
        return true;
    }
    if a.contains(&b'/') || a.contains(&b'\\') {
        let base = a
            .iter()
            .rposition(|&c| c == b'/' || c == b'\\')
            .map_or(a, |i| &a[i + 1..]);
        return SENSITIVE_NAMES.contains(&base);
    }
    false
}

/// True for an argument that reads as a file-system path.
pub fn is_path(a: &[u8]) -> bool {
    match a.first() {
        Some(b'/') => true,
        Some(b'~') => true,
        Some(b'.') => a.get(1) == Some(&b'/') || a.starts_with(b"../"),
        Some(b'\\') => a.get(1) == Some(&b'\\'),
        Some(c) if c.is_ascii_alphabetic() => {
            (a.get(1) == Some(&b':') && matches!(a.get(2), Some(b'\\' | b'/')))
                || a.starts_with(b"%systemroot%")
                || a.starts_with(b"%windir%")
        }
        Some(b'%') => {
            a.starts_with(b"%systemroot%") || a.starts_with(b"%windir%") || a.starts_with(b"%temp%")
        }
        _ => false,
    }
}

/// True for a dotted-quad IPv4 address, possibly with a port or path.
pub fn is_ipv4(a: &[u8]) -> bool {
    let mut parts = 0;
    let mut digits = 0;
    for &c in a {
        match c {
            b'0'..=b'9' => {
                digits += 1;
                if digits > 3 {
                    return false;
                }
            }
            b'.' => {
                if digits == 0 {
                    return false;
                }
                parts += 1;
                digits = 0;
            }
            b':' | b'/' => break,
            _ => return false,
        }
    }
    parts == 3 && digits > 0
}

/// True for `host.tld` (letters, digits, dashes, at least one dot and an
/// alphabetic last label of 2+ letters), possibly with a port or path.
pub fn is_host(a: &[u8]) -> bool {
    let end = a
        .iter()
        .position(|&c| c == b'/' || c == b':')
        .unwrap_or(a.len());
    let h = &a[..end];
    if h.len() < 4 || !h.contains(&b'.') || h.starts_with(b".") {
        return false;
    }
    if !h
        .iter()
        .all(|&c| c.is_ascii_alphanumeric() || c == b'.' || c == b'-' || c == b'_' || c >= 0x80)
    {
        return false;
    }
    let mut labels = h.split(|&c| c == b'.').filter(|l| !l.is_empty());
    let n = labels.clone().count();
    let last = labels.next_back().unwrap_or(&[]);
    n >= 2 && last.len() >= 2 && last.iter().all(|c| c.is_ascii_alphabetic() || *c >= 0x80)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_and_unique() {
        for w in BINS.windows(2) {
            assert!(w[0].name < w[1].name, "{} !< {}", w[0].name, w[1].name);
        }
    }

    #[test]
    fn lookups() {
        assert_eq!(find_bin(b"cat").map(|b| b.name), Some("cat"));
        assert_eq!(find_bin(b"python3.10").map(|b| b.name), Some("python"));
        assert_eq!(find_bin(b"gcc7.4").map(|b| b.name), Some("gcc"));
        assert_eq!(find_bin(b"cmd.exe").map(|b| b.name), Some("cmd"));
        assert!(find_bin(b"warner").is_none());
        assert_eq!(find_bin_glob(b"c?t").map(|b| b.name), Some("cat"));
        assert!(sensitive_path(b"/etc/passwd"));
        assert!(sensitive_path(b"../../x/passwd"));
        assert!(!sensitive_path(b"food"));
        assert!(is_ipv4(b"127.0.0.1"));
        assert!(is_host(b"evil.com/x"));
        assert!(!is_host(b"1.5"));
    }
}
