//! Server-side includes (`<!--#exec cmd="ls"-->`) and edge-side includes
//! (`<esi:include src=...>`).
//!
//! A directive is `<!--`, optional whitespace, `#`, optional whitespace and
//! a directive name from a small table; the score depends on the directive
//! and on whether it carries the attribute that makes it act (`cmd=`,
//! `virtual=`, `file=`...). Prose about SSI rarely writes the `<!--#`
//! opener, and HTML comments (`<!-- note -->`, `<!--[if IE]>`) have no `#`.

use rampart_plugin_api::{Class, DetectCtx, Detector, Finding, PluginInfo};

use crate::util::{find_byte, find_ci, head, ident_end, is_ws, skip_ws, starts_ci, Reporter};

const NAME: &str = "ssi";

/// Directives scanned per value.
const MAX_DIRECTIVES: usize = 32;

/// The server-side-include detector (plugin `ssi`, class [`Class::Ssi`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct SsiDetector;

impl Detector for SsiDetector {
    fn info(&self) -> PluginInfo {
        PluginInfo {
            name: NAME,
            version: env!("CARGO_PKG_VERSION"),
            description: "server-side include directives (<!--#exec-->, <!--#include-->...) \
                          and edge-side includes",
        }
    }

    fn classes(&self) -> &'static [Class] {
        &[Class::Ssi]
    }

    fn inspect(&self, value: &[u8], ctx: &DetectCtx<'_>, out: &mut Vec<Finding>) {
        let mut rep = Reporter::new(out, ctx, Class::Ssi, NAME, value.len());
        scan(head(value), &mut rep);
    }
}

/// One directive: name, rule, score when it carries one of its acting
/// attributes, score without them.
struct Directive {
    name: &'static [u8],
    rule: &'static str,
    armed: u8,
    bare: u8,
    attrs: &'static [&'static [u8]],
}

const DIRECTIVES: &[Directive] = &[
    Directive {
        name: b"exec",
        rule: "ssi.exec",
        armed: 95,
        bare: 60,
        attrs: &[b"cmd", b"cgi"],
    },
    Directive {
        name: b"include",
        rule: "ssi.include",
        armed: 75,
        bare: 50,
        attrs: &[b"virtual", b"file"],
    },
    Directive {
        name: b"printenv",
        rule: "ssi.printenv",
        armed: 60,
        bare: 60,
        attrs: &[],
    },
    Directive {
        name: b"echo",
        rule: "ssi.echo",
        armed: 40,
        bare: 30,
        attrs: &[b"var", b"encoding"],
    },
    Directive {
        name: b"config",
        rule: "ssi.config",
        armed: 35,
        bare: 30,
        attrs: &[b"timefmt", b"errmsg", b"sizefmt", b"echomsg"],
    },
    Directive {
        name: b"set",
        rule: "ssi.set",
        armed: 40,
        bare: 30,
        attrs: &[b"var", b"value"],
    },
    Directive {
        name: b"fsize",
        rule: "ssi.file-info",
        armed: 35,
        bare: 30,
        attrs: &[b"virtual", b"file"],
    },
    Directive {
        name: b"flastmod",
        rule: "ssi.file-info",
        armed: 35,
        bare: 30,
        attrs: &[b"virtual", b"file"],
    },
    Directive {
        name: b"if",
        rule: "ssi.conditional",
        armed: 35,
        bare: 20,
        attrs: &[b"expr"],
    },
    Directive {
        name: b"elif",
        rule: "ssi.conditional",
        armed: 35,
        bare: 20,
        attrs: &[b"expr"],
    },
];

/// ESI tags: name, score.
const ESI: &[(&[u8], u8)] = &[
    (b"include", 70),
    (b"eval", 70),
    (b"inline", 60),
    (b"vars", 40),
    (b"debug", 40),
    (b"assign", 40),
    (b"choose", 30),
    (b"try", 30),
];

fn scan(s: &[u8], rep: &mut Reporter<'_>) {
    let mut i = 0;
    let mut n = 0;
    while let Some(p) = find_byte(s, i, b'<') {
        i = p + 1;
        if s[p..].starts_with(b"<!--") {
            n += 1;
            if n > MAX_DIRECTIVES {
                return;
            }
            directive(s, p, rep);
        } else if starts_ci(s, p, b"<esi:") {
            n += 1;
            if n > MAX_DIRECTIVES {
                return;
            }
            esi(s, p, rep);
        }
    }
}

/// The directive of the comment opening at `s[at]`, if it is one.
fn directive(s: &[u8], at: usize, rep: &mut Reporter<'_>) {
    let k = skip_ws(s, at + 4);
    if s.get(k) != Some(&b'#') {
        return;
    }
    let name_at = skip_ws(s, k + 1);
    let name_end = ident_end(s, name_at);
    let name = &s[name_at..name_end];
    let Some(d) = DIRECTIVES
        .iter()
        .find(|d| name.eq_ignore_ascii_case(d.name))
    else {
        return;
    };
    // The directive ends at `-->`; an unterminated one is still scored
    // (the rest of the page may close it), up to 512 bytes.
    let lim = s.len().min(name_end + 512);
    let end = find_ci(&s[..lim], name_end, b"-->").map_or(lim, |e| e + 3);
    let after = s.get(name_end).copied();
    // `<!--#exec-->`, `<!--#exec cmd=...`, `<!--#printenv -->`: the name
    // must end at whitespace or the comment end, not run into a word.
    if !(after.is_none() || after.is_some_and(is_ws) || s[name_end..].starts_with(b"-")) {
        return;
    }
    let armed = has_attr(&s[name_end..end], d.attrs);
    let score = if armed { d.armed } else { d.bare };
    let name = d.name;
    rep.report(
        d.rule,
        score,
        || {
            format!(
                "server-side include directive #{}{}",
                String::from_utf8_lossy(name),
                if armed {
                    " with its acting attribute"
                } else {
                    ""
                }
            )
        },
        at,
        end,
    );
}

/// One of `attrs` followed by optional whitespace and `=`.
fn has_attr(s: &[u8], attrs: &[&[u8]]) -> bool {
    let mut i = 0;
    while i < s.len() {
        if s[i].is_ascii_alphabetic() && (i == 0 || !s[i - 1].is_ascii_alphanumeric()) {
            let e = ident_end(s, i);
            let word = &s[i..e];
            if attrs.iter().any(|a| word.eq_ignore_ascii_case(a))
                && s.get(skip_ws(s, e)) == Some(&b'=')
            {
                return true;
            }
            i = e.max(i + 1);
        } else {
            i += 1;
        }
    }
    false
}

/// An edge-side include tag at `s[at]` (`<esi:`).
fn esi(s: &[u8], at: usize, rep: &mut Reporter<'_>) {
    let name_at = at + 5;
    let name_end = ident_end(s, name_at);
    let name = &s[name_at..name_end];
    let Some(&(tag, score)) = ESI.iter().find(|(t, _)| name.eq_ignore_ascii_case(t)) else {
        return;
    };
    if !matches!(
        s.get(name_end),
        None | Some(b' ' | b'\t' | b'\r' | b'\n' | b'/' | b'>')
    ) {
        return;
    }
    let end = find_byte(s, name_end, b'>').map_or(s.len(), |e| e + 1);
    rep.report(
        "ssi.esi",
        score,
        || format!("edge-side include tag esi:{}", String::from_utf8_lossy(tag)),
        at,
        end,
    );
}
