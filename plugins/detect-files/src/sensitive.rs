//! Tables of files and directories whose reading is the point of a path
//! traversal or a local file inclusion. Every table is sorted and searched
//! by binary search; segments are compared lower-cased, after the caller
//! has normalised them (disguised dots and slashes, `;` parameters, NUL
//! tails, trailing dots and `::$DATA` removed).

/// How a resolved path looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sens {
    /// A file or directory that holds secrets, or a classic probe file,
    /// wherever it sits: `etc/passwd`, `.ssh/`, `win.ini`, `WEB-INF/`,
    /// `proc/self/environ`.
    Strong,
    /// A system configuration or information file that users also talk
    /// about: `etc/hosts`, `php.ini`, `.bashrc`, `proc/cpuinfo`.
    Config,
    /// A system directory at the root: `/etc/...`, `/proc/...`,
    /// `C:\Windows\...`. Only meaningful for a path anchored at the root.
    System,
}

/// File names sensitive in any directory (sorted).
const FILE_NAMES: &[&str] = &[
    ".bash_history",
    ".boto",
    ".dockercfg",
    ".env",
    ".git-credentials",
    ".history",
    ".htaccess",
    ".htdigest",
    ".htpasswd",
    ".lesshst",
    ".my.cnf",
    ".mysql_history",
    ".netrc",
    ".npmrc",
    ".pgpass",
    ".php_history",
    ".psql_history",
    ".pypirc",
    ".python_history",
    ".rediscli_history",
    ".sh_history",
    ".sqlite_history",
    ".viminfo",
    ".zsh_history",
    "authorized_keys",
    "boot.ini",
    "config.inc.php",
    "configuration.php",
    "database.yml",
    "global.asa",
    "id_dsa",
    "id_ecdsa",
    "id_ed25519",
    "id_rsa",
    "known_hosts",
    "localsettings.php",
    "master.passwd",
    "ntuser.dat",
    "secrets.yml",
    "system.ini",
    "tomcat-users.xml",
    "web.config",
    "win.ini",
    "wp-config.php",
    "ws_ftp.ini",
];

/// Configuration file names that users also discuss (sorted).
const CONFIG_NAMES: &[&str] = &[
    ".bash_profile",
    ".bashrc",
    ".gitconfig",
    ".profile",
    ".zshrc",
    "apache2.conf",
    "appsettings.json",
    "httpd.conf",
    "my.cnf",
    "my.ini",
    "nginx.conf",
    "php.ini",
    "sshd_config",
];

/// Files of `/etc` that hold accounts and secrets (sorted).
const ETC_SECRETS: &[&str] = &[
    "group", "gshadow", "passwd", "shadow", "subgid", "subuid", "sudoers",
];

/// Other files of `/etc` that attacks read (sorted).
const ETC_FILES: &[&str] = &[
    "aliases",
    "crontab",
    "environment",
    "exports",
    "fstab",
    "hostname",
    "hosts",
    "inittab",
    "issue",
    "issue.net",
    "lsb-release",
    "motd",
    "mtab",
    "networks",
    "os-release",
    "redhat-release",
    "resolv.conf",
];

/// Directories sensitive wherever they appear in a path (sorted).
const DIRS: &[&str] = &[
    ".aws",
    ".azure",
    ".bzr",
    ".docker",
    ".git",
    ".gnupg",
    ".hg",
    ".kube",
    ".ssh",
    ".svn",
    "meta-inf",
    "serviceaccount",
    "web-inf",
];

/// Entries of `/proc` that expose a process's secrets or the kernel
/// (sorted); a number (a process id) also counts.
const PROC: &[&str] = &[
    "cmdline",
    "environ",
    "kallsyms",
    "kcore",
    "net",
    "sched_debug",
    "self",
    "sys",
    "thread-self",
];

/// Entries of `/proc` that describe the machine (sorted).
const PROC_INFO: &[&str] = &[
    "config.gz",
    "cpuinfo",
    "filesystems",
    "interrupts",
    "iomem",
    "ioports",
    "loadavg",
    "meminfo",
    "modules",
    "mounts",
    "partitions",
    "stat",
    "version",
];

/// Entries of `/sys` (sorted).
const SYS: &[&str] = &[
    "block",
    "bus",
    "class",
    "devices",
    "firmware",
    "fs",
    "hypervisor",
    "kernel",
    "module",
    "power",
];

/// Directories that are system locations when a path starts with them
/// (sorted).
const ROOTS: &[&str] = &[
    "boot", "etc", "inetpub", "proc", "root", "sys", "var", "windows", "winnt",
];

/// `.env.local`, `.env.production`; not the committed templates
/// (`.env.example`, `.env.sample`, `.env.dist`, `.env.template`).
fn is_env_file(name: &[u8]) -> bool {
    name.starts_with(b".env.")
        && ![&b".example"[..], b".sample", b".dist", b".template"]
            .iter()
            .any(|s| name.ends_with(s))
}

fn has(table: &[&str], seg: &[u8]) -> bool {
    crate::lookup(table, seg)
}

/// Classifies a resolved path given as its segments (lower-cased, root
/// first). `bottom` says whether `segs[0]` is really the first segment
/// (not lost to the caller's cap).
pub fn classify(segs: &[&[u8]], bottom: bool) -> Option<Sens> {
    let n = segs.len();
    let last = *segs.last()?;
    // Every single-segment entry holds a dot, a dash or an underscore.
    if n == 1 && !last.iter().any(|&b| b == b'.' || b == b'_' || b == b'-') {
        return None;
    }
    if has(FILE_NAMES, last) || is_env_file(last) {
        return Some(Sens::Strong);
    }
    let mut found = None;
    for (i, s) in segs.iter().enumerate() {
        let next = segs.get(i + 1).copied();
        let strong = has(DIRS, s)
            || (*s == b"etc" && next.is_some_and(|c| has(ETC_SECRETS, c)))
            || (*s == b"proc"
                && next.is_some_and(|c| {
                    has(PROC, c) || (!c.is_empty() && c.iter().all(u8::is_ascii_digit))
                }))
            || (*s == b"security" && next == Some(b"passwd"))
            || (*s == b"config"
                && i > 0
                && segs[i - 1] == b"system32"
                && next.is_some_and(|c| c == b"sam" || c == b"system" || c == b"security"))
            || (*s == b"repair" && next.is_some_and(|c| c == b"sam" || c == b"system"));
        if strong {
            return Some(Sens::Strong);
        }
        let config = (*s == b"etc" && next.is_some_and(|c| has(ETC_FILES, c)))
            || (*s == b"proc" && next.is_some_and(|c| has(PROC_INFO, c)))
            || (*s == b"sys" && next.is_some_and(|c| has(SYS, c)));
        if config {
            found = Some(Sens::Config);
        }
    }
    if found.is_some() || has(CONFIG_NAMES, last) {
        return Some(Sens::Config);
    }
    if bottom && n >= 2 && has(ROOTS, segs[0]) {
        return Some(Sens::System);
    }
    None
}

/// Segments `classify` can start from: a file name it knows
/// (`FILE_NAMES`, `CONFIG_NAMES`, `.env.*`), a sensitive directory
/// (`DIRS`), a system root (`ROOTS`, which holds `etc`, `proc` and `sys`)
/// or the other directories its rules begin at. A path with none of them
/// classifies as nothing.
const OTHER_STARTS: &[&str] = &["config", "repair", "security"];

/// Longest segment `may_classify` needs to look up.
const TRIGGER_MAX: usize = 32;

/// For each segment length, the first, the last and the second bytes (as
/// bits, see `bit`) of the table entries of that length: a quick no for
/// most words.
static TRIGGER_ENDS: [(u64, u64, u64); TRIGGER_MAX + 1] = trigger_ends();

const fn trigger_ends() -> [(u64, u64, u64); TRIGGER_MAX + 1] {
    let mut t = [(0u64, 0u64, 0u64); TRIGGER_MAX + 1];
    let tables: [&[&str]; 5] = [FILE_NAMES, CONFIG_NAMES, DIRS, ROOTS, OTHER_STARTS];
    let mut k = 0;
    while k < tables.len() {
        let tab = tables[k];
        let mut i = 0;
        while i < tab.len() {
            let e = tab[i].as_bytes();
            t[e.len()].0 |= 1 << bit(e[0]);
            t[e.len()].1 |= 1 << bit(e[e.len() - 1]);
            t[e.len()].2 |= 1 << bit(e[1]);
            i += 1;
        }
        k += 1;
    }
    t
}

/// A byte's bit in `TRIGGER_ENDS`: letters of either case 0..26, digits
/// 26..36, `.` `_` `-` their own, everything else shares the last.
const fn bit(b: u8) -> u32 {
    match b {
        b'a'..=b'z' => (b - b'a') as u32,
        b'A'..=b'Z' => (b - b'A') as u32,
        b'0'..=b'9' => 26 + (b - b'0') as u32,
        b'.' => 36,
        b'_' => 37,
        b'-' => 38,
        _ => 39,
    }
}

static BITS: [u8; 256] = bits();

const fn bits() -> [u8; 256] {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        t[b] = bit(b as u8) as u8;
        b += 1;
    }
    t
}

/// [`may_classify`] of a piece without `;`.
#[inline]
pub fn may_classify_quick(raw: &[u8]) -> bool {
    let mut n = raw.len();
    if n > TRIGGER_MAX {
        return false;
    }
    if n >= 7 && (raw[n - 1] | 0x20) == b'a' && raw[n - 7..].eq_ignore_ascii_case(b"::$data") {
        n -= 7;
    }
    if n > 1 && raw[n - 1] == b'.' {
        while n > 1 && raw[n - 1] == b'.' {
            n -= 1;
        }
    }
    if n < 3 {
        return false; // every entry has three bytes or more
    }
    let s = &raw[..n];
    if s[0] == b'.' && n >= 5 && s[..5].eq_ignore_ascii_case(b".env.") {
        return true;
    }
    let (first, last, second) = TRIGGER_ENDS[n];
    if first & (1 << BITS[s[0] as usize]) == 0
        || last & (1 << BITS[s[n - 1] as usize]) == 0
        || second & (1 << BITS[s[1] as usize]) == 0
    {
        return false;
    }
    in_tables(s)
}

#[inline(never)]
fn in_tables(s: &[u8]) -> bool {
    let n = s.len();
    let mut buf = [0u8; TRIGGER_MAX];
    let low = &mut buf[..n];
    low.copy_from_slice(s);
    low.make_ascii_lowercase();
    let s = &*low;
    has(FILE_NAMES, s)
        || has(CONFIG_NAMES, s)
        || has(DIRS, s)
        || has(ROOTS, s)
        || has(OTHER_STARTS, s)
}

/// Whether a raw path segment (ASCII, as written between separators)
/// could be one `classify` starts from, once normalised the way the
/// traversal reader does: cut at `;`, lower-cased, `::$DATA` and trailing
/// dots removed; longer than 32 bytes it matches nothing. False means no
/// path holding this segment (with only such segments) is sensitive.
#[cfg(test)]
pub fn may_classify(raw: &[u8]) -> bool {
    let seg = match raw.iter().position(|&b| b == b';') {
        Some(p) => &raw[..p],
        None => raw,
    };
    may_classify_quick(seg)
}

/// Extensions of files a web page legitimately links relatively (sorted).
const ASSET_EXT: &[&str] = &[
    "avif", "css", "gif", "htm", "html", "ico", "jpeg", "jpg", "js", "json", "md", "mp3", "mp4",
    "pdf", "png", "svg", "ttf", "txt", "webm", "webp", "woff", "woff2",
];

/// True when a file name ends in a web-asset extension.
pub fn is_asset(name: &[u8]) -> bool {
    match name.iter().rposition(|&b| b == b'.') {
        Some(d) if d > 0 => has(ASSET_EXT, &name[d + 1..]),
        _ => false,
    }
}

/// Dot-directories that sites serve on purpose (sorted): `/.well-known/`,
/// Azure App Service authentication (`/.auth/`), Netlify functions, the
/// Vite dependency cache, the Anubis challenge.
const DOT_ALLOWED: &[&str] = &[
    ".auth",
    ".netlify",
    ".vite",
    ".well-known",
    ".within.website",
];

/// Suffixes of backup, dump and log files (sorted, without the dot).
const LEAK_EXT: &[&str] = &[
    "backup", "bak", "bkp", "log", "old", "orig", "save", "sql", "swo", "swp", "tmp",
];

/// Second extensions that make an archive a database dump
/// (`backup.sql.gz`).
const ARCHIVE_EXT: &[&str] = &["7z", "bz2", "gz", "rar", "tar", "tgz", "xz", "zip"];

/// What a URL-path segment gives away, if anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Leak {
    /// A hidden file or directory (`.env`, `.git`, `.claude`).
    Hidden,
    /// A backup, dump or log file (`index.php.bak`, `db.sql.gz`,
    /// `debug.log`, `index.php~`).
    Backup,
}

/// Classifies one segment of the URL path (lower-cased).
pub fn leak(seg: &[u8], last: bool) -> Option<Leak> {
    if seg.len() >= 2 && seg[0] == b'.' && seg[1] != b'.' && !has(DOT_ALLOWED, seg) {
        return Some(Leak::Hidden);
    }
    if !last {
        return None;
    }
    if seg.len() > 1 && seg.ends_with(b"~") {
        return Some(Leak::Backup);
    }
    let mut exts = seg.rsplit(|&b| b == b'.');
    let e1 = exts.next()?;
    let e2 = exts.next();
    e2?;
    if has(LEAK_EXT, e1) {
        return Some(Leak::Backup);
    }
    if has(ARCHIVE_EXT, e1) && e2.is_some_and(|e| e == b"sql") {
        return Some(Leak::Backup);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sorted(t: &[&str]) {
        let mut s = t.to_vec();
        s.sort_unstable();
        assert_eq!(s, t);
    }

    #[test]
    fn tables_are_sorted() {
        for t in [
            FILE_NAMES,
            CONFIG_NAMES,
            ETC_SECRETS,
            ETC_FILES,
            DIRS,
            PROC,
            PROC_INFO,
            SYS,
            ROOTS,
            ASSET_EXT,
            DOT_ALLOWED,
            LEAK_EXT,
            ARCHIVE_EXT,
            OTHER_STARTS,
        ] {
            sorted(t);
        }
    }

    /// Whenever `classify` finds something, one of the segments is one
    /// `may_classify` accepts (it is the traversal reader's quick skip).
    #[test]
    fn classify_needs_a_trigger_segment() {
        for t in [FILE_NAMES, CONFIG_NAMES, DIRS, ROOTS, OTHER_STARTS] {
            assert!(t.iter().all(|e| (3..=TRIGGER_MAX).contains(&e.len())));
        }
        let mut words: Vec<&str> = vec![
            "",
            "a",
            "x",
            "home",
            "usr",
            "local",
            "www",
            "img",
            "logo.png",
            "system32",
            "sam",
            "system",
            "self",
            "1234",
            "nginx",
            "default",
            "passwd",
            "hosts",
            "cpuinfo",
            "kernel",
            "foo.bar",
            "id",
            "win",
            "ini",
            "etcx",
            "ssh",
            "env",
            ".envx",
            "config.php",
            "c:",
        ];
        for t in [
            FILE_NAMES,
            CONFIG_NAMES,
            ETC_SECRETS,
            ETC_FILES,
            DIRS,
            PROC,
            PROC_INFO,
            SYS,
            ROOTS,
            OTHER_STARTS,
        ] {
            words.extend_from_slice(t);
        }
        words.extend([".env.local", ".env.production", ".env.example"]);
        let upper: Vec<String> = words.iter().map(|w| w.to_ascii_uppercase()).collect();
        let mut all: Vec<&str> = words.clone();
        all.extend(upper.iter().map(String::as_str));
        let mut checked = 0;
        for a in &words {
            for b in &words {
                for segs in [vec![*a], vec![*a, *b], vec!["x", *a, *b], vec![*a, *b, "x"]] {
                    let bytes: Vec<&[u8]> = segs.iter().map(|s| s.as_bytes()).collect();
                    if classify(&bytes, true).is_some() {
                        checked += 1;
                        assert!(segs.iter().any(|s| may_classify(s.as_bytes())), "{segs:?}");
                    }
                }
            }
        }
        assert!(checked > 1000, "{checked}");
        // Raw spellings the reader normalises.
        for raw in [
            "win.ini...",
            "web.config::$DATA",
            ".htaccess;x",
            "ETC",
            ".Env.Prod",
        ] {
            assert!(may_classify(raw.as_bytes()), "{raw}");
        }
        assert!(!may_classify(b"PASSWD")); // only after `etc`
        for w in &all {
            let lower = w.to_ascii_lowercase();
            if may_classify(lower.as_bytes()) {
                assert!(may_classify(w.as_bytes()), "{w}");
            }
        }
        for w in &all {
            for raw in [w.to_string(), format!("{w}."), format!("{w}::$DATA")] {
                assert_eq!(
                    may_classify_quick(raw.as_bytes()),
                    may_classify(raw.as_bytes()),
                    "{raw}"
                );
            }
        }
        assert!(!may_classify(b"mozilla"));
        assert!(!may_classify(b"5.0"));
        assert!(!may_classify(b"html"));
        assert!(!may_classify(b"shop.example.com"));
        assert!(!may_classify(&[b'a'; 40]));
    }

    fn c(p: &str) -> Option<Sens> {
        let segs: Vec<&[u8]> = p.split('/').map(str::as_bytes).collect();
        classify(&segs, true)
    }

    #[test]
    fn classify_paths() {
        assert_eq!(c("etc/passwd"), Some(Sens::Strong));
        assert_eq!(c("proc/self/environ"), Some(Sens::Strong));
        assert_eq!(c("proc/1234/cmdline"), Some(Sens::Strong));
        assert_eq!(c("home/ann/.ssh/id_rsa"), Some(Sens::Strong));
        assert_eq!(c("windows/win.ini"), Some(Sens::Strong));
        assert_eq!(c("etc/nginx/sites-enabled/default"), Some(Sens::System));
        assert_eq!(c("etc/hosts"), Some(Sens::Config));
        assert_eq!(c("proc/cpuinfo"), Some(Sens::Config));
        assert_eq!(c("usr/local/etc/php.ini"), Some(Sens::Config));
        assert_eq!(c("etc"), None);
        assert_eq!(c("images/logo.png"), None);
        assert_eq!(c("static/etc/readme.md"), None);
    }

    #[test]
    fn leaks() {
        assert_eq!(leak(b".env", true), Some(Leak::Hidden));
        assert_eq!(leak(b".well-known", false), None);
        assert_eq!(leak(b"backup.sql.zip", true), Some(Leak::Backup));
        assert_eq!(leak(b"debug.log", true), Some(Leak::Backup));
        assert_eq!(leak(b"index.php~", true), Some(Leak::Backup));
        assert_eq!(leak(b"app-1.2.zip", true), None);
        assert_eq!(leak(b"log", true), None);
        assert_eq!(leak(b"style.css", true), None);
    }
}
