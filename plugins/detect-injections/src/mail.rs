//! Mail injection: SMTP header injection into a mail field and SMTP, POP3
//! or IMAP command injection into a mail-server conversation.
//!
//! Only what follows a line break counts (CR/LF bytes, or literal `\r\n`
//! escapes, scored lower):
//!
//! - `mail-injection.header`: a recipient header (`Bcc:`, `Cc:`, `To:`,
//!   `From:`, `Reply-To:`...) holding an address, or a content header
//!   in a mail field (`Subject:`, `Content-Type:`, `MIME-Version:`). A
//!   recipient header scores high when the break looks like a breakout:
//!   the value is a mail field by its name (`email`, `to`, `subject`...),
//!   or the text before the first break is empty or one word (an
//!   address); a pasted e-mail in a support ticket starts with prose and
//!   scores low. Content headers elsewhere are the CRLF detector's.
//! - `mail-injection.smtp-command`: `RCPT TO:` / `MAIL FROM:` with an address
//!   (or in upper case without one), an
//!   SMTP or POP3 verb with its argument (`HELO`, `EHLO`, `VRFY`, `EXPN`,
//!   `AUTH`, `RETR`, `DELE`...), or a verb alone on its line (`DATA`,
//!   `QUIT`, `RSET`, `NOOP`, `STARTTLS`...). Verbs are upper case, as
//!   injected conversations write them; prose lines rarely are.
//! - `mail-injection.imap-command`: an IMAP tagged command, a tag holding a digit
//!   (`a001`, `V100`) then a command (`LOGIN`, `FETCH`, `UID`, `SELECT`,
//!   `CAPABILITY`...). The command is upper case unless the tag has the
//!   conventional letter-and-three-digits shape or the arguments are IMAP's
//!   own: a system flag (`\Deleted`), a flags item (`+FLAGS`), or a
//!   reference and a mailbox pattern as two quoted strings. With a flag or
//!   flags item the tag needs no digit (`d store 2 +FLAGS (\Deleted)`).

use rampart_plugin_api::{Class, DetectCtx, Detector, Finding, PluginInfo};

use crate::lines::{breaks, header_at, line_at, Break, Kind};
use crate::util::{eq_ci, head, in_table, own_key, skip_blank, starts_ci, Reporter};

const NAME: &str = "mail-injection";

/// The mail-injection detector (plugin `mail-injection`, class
/// [`Class::MailInjection`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct MailInjectionDetector;

impl Detector for MailInjectionDetector {
    fn info(&self) -> PluginInfo {
        PluginInfo {
            name: NAME,
            version: env!("CARGO_PKG_VERSION"),
            description: "mail injection: SMTP headers and SMTP/POP3/IMAP commands after a \
                          line break",
        }
    }

    fn classes(&self) -> &'static [Class] {
        &[Class::MailInjection]
    }

    fn inspect(&self, value: &[u8], ctx: &DetectCtx<'_>, out: &mut Vec<Finding>) {
        let s = head(value);
        let mut first = None;
        let mut rep = Reporter::new(out, ctx, Class::MailInjection, NAME, value.len());
        let mut field = None;
        breaks(s, |br| {
            if br.kind == Kind::Lookalike {
                return true;
            }
            let field = *field.get_or_insert_with(|| own_key(ctx).is_some_and(mail_key));
            let breakout = *first.get_or_insert_with(|| one_word(&s[..br.start])) || field;
            line(s, br, breakout, field, &mut rep);
            true
        });
    }
}

/// Recipient headers: scored when they hold an address.
const RECIPIENT: &[&str] = &[
    "bcc",
    "cc",
    "delivered-to",
    "disposition-notification-to",
    "errors-to",
    "from",
    "reply-to",
    "resent-bcc",
    "resent-cc",
    "resent-to",
    "return-path",
    "sender",
    "to",
];

/// Content headers: scored on a breakout only.
const CONTENT: &[&str] = &[
    "content-transfer-encoding",
    "content-type",
    "mime-version",
    "subject",
    "x-mailer",
];

/// SMTP/POP3 verbs that take an argument.
const WITH_ARG: &[&str] = &[
    "apop", "auth", "dele", "ehlo", "expn", "helo", "help", "retr", "uidl", "vrfy",
];

/// Verbs that stand alone on their line.
const ALONE: &[&str] = &[
    "capa",
    "capability",
    "data",
    "help",
    "logout",
    "noop",
    "quit",
    "rset",
    "starttls",
    "stls",
];

/// IMAP commands (after a tag).
const IMAP: &[&str] = &[
    "append",
    "authenticate",
    "capability",
    "check",
    "close",
    "copy",
    "create",
    "delete",
    "enable",
    "examine",
    "expunge",
    "fetch",
    "getquota",
    "idle",
    "list",
    "login",
    "logout",
    "lsub",
    "move",
    "namespace",
    "noop",
    "rename",
    "search",
    "select",
    "setacl",
    "starttls",
    "status",
    "store",
    "subscribe",
    "uid",
    "unselect",
    "unsubscribe",
];

/// Arguments only IMAP writes: a system flag (`\Deleted`, `\Seen`) or a
/// flags item (`+FLAGS`, `-FLAGS.SILENT`) (first), or arguments that are
/// two quoted strings, a reference and a mailbox pattern (`"INBOX/" "*"`)
/// (second).
fn imap_arguments(a: &[u8]) -> (bool, bool) {
    const FLAGS: &[&[u8]] = &[
        b"\\answered",
        b"\\flagged",
        b"\\deleted",
        b"\\seen",
        b"\\draft",
    ];
    let flag = FLAGS
        .iter()
        .any(|f| a.windows(f.len()).any(|w| w.eq_ignore_ascii_case(f)));
    let item = [&b"+flags"[..], b"-flags"]
        .iter()
        .any(|f| a.windows(f.len()).any(|w| w.eq_ignore_ascii_case(f)));
    (flag || item, two_quoted(a))
}

/// ` "a" "b"` and nothing after: two quoted strings as the whole argument
/// list.
fn two_quoted(a: &[u8]) -> bool {
    let mut i = 0;
    for _ in 0..2 {
        let k = skip_blank(a, i);
        if k == i || a.get(k) != Some(&b'"') {
            return false;
        }
        let Some(close) = a[k + 1..].iter().position(|&b| b == b'"') else {
            return false;
        };
        i = k + 1 + close + 1;
    }
    a[i..].trim_ascii().is_empty()
}

/// Names of fields that hold mail addresses or headers.
fn mail_key(k: &[u8]) -> bool {
    const WHOLE: &[&str] = &["bcc", "cc", "from", "replyto", "to"];
    const PARTS: &[&[u8]] = &[b"mail", b"subject", b"recipient", b"sender", b"reply"];
    in_table(WHOLE, k)
        || (k.len() <= 64
            && PARTS
                .iter()
                .any(|p| k.windows(p.len()).any(|w| w.eq_ignore_ascii_case(p))))
}

/// Empty or a single word: the text before an injected break.
fn one_word(t: &[u8]) -> bool {
    let t = t.trim_ascii();
    t.len() <= 254 && !t.iter().any(|&b| b == b' ' || b == b'\t')
}

fn word_end(t: &[u8], i: usize) -> usize {
    let mut k = i;
    while t.get(k).is_some_and(|b| b.is_ascii_alphanumeric()) {
        k += 1;
    }
    k
}

fn upper(w: &[u8]) -> bool {
    w.iter().all(|b| !b.is_ascii_lowercase())
}

fn line(s: &[u8], br: Break, breakout: bool, field: bool, rep: &mut Reporter<'_>) {
    let i = skip_blank(s, br.end);
    let t = line_at(s, i, 1024);
    let end = i + t.len();
    let escaped = br.kind == Kind::Escaped;
    let damp = |score: u8| if escaped { score.min(40) } else { score };
    if let Some((n0, n1, v)) = header_at(s, i) {
        let name = &s[n0..n1];
        let val = s.get(v..end).unwrap_or_default();
        let filled = !val.trim_ascii().is_empty();
        let score = if in_table(RECIPIENT, name) {
            match (val.contains(&b'@'), breakout) {
                (true, true) => 70,
                (true, false) => 40,
                (false, true) if filled && (eq_ci(name, b"bcc") || eq_ci(name, b"cc")) => 50,
                _ => 0,
            }
        } else if in_table(CONTENT, name) && field && filled {
            50
        } else {
            0
        };
        rep.report(
            "mail-injection.header",
            damp(score),
            || {
                format!(
                    "a line break followed by the mail header {}",
                    String::from_utf8_lossy(name)
                )
            },
            br.start,
            end,
        );
        // `RCPT TO:` is no header (a space in the name); go on.
    }
    smtp(t, br, end, damp(80), rep);
    imap(t, br, end, damp(70), rep);
}

fn smtp(t: &[u8], br: Break, end: usize, top: u8, rep: &mut Reporter<'_>) {
    for (verb, arg) in [(&b"rcpt"[..], &b"to"[..]), (b"mail", b"from")] {
        if starts_ci(t, 0, verb) {
            let k = skip_blank(t, verb.len());
            if k > verb.len() && starts_ci(t, k, arg) {
                let c = skip_blank(t, k + arg.len());
                if t.get(c) == Some(&b':') {
                    let rest = &t[c + 1..];
                    let score = if rest.contains(&b'@') || rest.contains(&b'<') {
                        top
                    } else if upper(&t[..c]) {
                        top.min(50)
                    } else {
                        0
                    };
                    rep.report(
                        "mail-injection.smtp-command",
                        score,
                        || {
                            format!(
                                "a line break followed by the SMTP command {} {}:",
                                String::from_utf8_lossy(verb).to_uppercase(),
                                String::from_utf8_lossy(arg).to_uppercase()
                            )
                        },
                        br.start,
                        end,
                    );
                    return;
                }
            }
        }
    }
    let w = word_end(t, 0);
    let verb = &t[..w];
    if w == 0 || !upper(verb) {
        return;
    }
    let rest = &t[w..];
    let alone = rest.trim_ascii().is_empty();
    let with_arg = matches!(rest.first(), Some(b' ' | b'\t')) && !rest.trim_ascii().is_empty();
    if (alone && in_table(ALONE, verb)) || (with_arg && in_table(WITH_ARG, verb)) {
        let score = top.min(60);
        rep.report(
            "mail-injection.smtp-command",
            score,
            || {
                format!(
                    "a line break followed by the mail command {}",
                    String::from_utf8_lossy(verb)
                )
            },
            br.start,
            end,
        );
    }
}

fn imap(t: &[u8], br: Break, end: usize, top: u8, rep: &mut Reporter<'_>) {
    let w = word_end(t, 0);
    let tag = &t[..w];
    if w == 0 || w > 10 || t.get(w) != Some(&b' ') {
        return;
    }
    let c0 = w + 1;
    let c1 = word_end(t, c0);
    let cmd = &t[c0..c1];
    if !in_table(IMAP, cmd) || !matches!(t.get(c1), None | Some(b' ' | b'\t')) {
        return;
    }
    let (flags, mailbox) = imap_arguments(&t[c1..]);
    // A tag without a digit needs arguments that only IMAP writes.
    if !tag.iter().any(u8::is_ascii_digit) && !flags {
        return;
    }
    let args = flags || mailbox;
    let classic =
        tag[0].is_ascii_alphabetic() && tag.len() >= 4 && tag[1..].iter().all(u8::is_ascii_digit);
    let shouted = upper(cmd) && cmd.iter().any(u8::is_ascii_uppercase);
    if !(shouted || classic || args) {
        return;
    }
    rep.report(
        "mail-injection.imap-command",
        top,
        || {
            format!(
                "a line break followed by the IMAP command {}",
                String::from_utf8_lossy(cmd).to_uppercase()
            )
        },
        br.start,
        end,
    );
}
