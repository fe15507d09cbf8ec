//! The raw `Cookie` header (the `cookie` source holds its parsed pairs;
//! this looks at the header line as sent).
//!
//! - **`$Version` attribute** (30, `protocol.cookie-version`): RFC 2109
//!   cookies, obsolete since 2011. No browser sends them; a few legacy Java
//!   clients did. Servers that still parse them treat quoted values and
//!   `$`-attributes differently from WAFs and frameworks that do not.
//! - **a quoted value running over a `;`** (40, `protocol.cookie-quote-split`):
//!   `a="x; PHPSESSID=...; b=y"`. Set-Cookie cannot store a `;` in a value,
//!   so a browser never sends one inside quotes; an RFC 2109 parser reads
//!   one cookie where the WAF reads three (cookie smuggling). Both together
//!   block.

use crate::lex::{eq_ci, trim_ows};
use crate::Sink;

pub(crate) fn check(v: &[u8], sink: &mut Sink<'_>) {
    let mut version = None;
    let mut split = None;
    let mut i = 0;
    while i < v.len() {
        // One `name=value` pair.
        let start = i;
        let eq = v[i..].iter().position(|&b| b == b'=' || b == b';');
        let Some(eq) = eq.map(|e| i + e) else { break };
        if v[eq] == b';' {
            i = eq + 1;
            continue;
        }
        let (ns, ne) = trim_ows(v, start, eq);
        if version.is_none() && eq_ci(&v[ns..ne], b"$version") {
            version = Some((ns, ne));
        }
        let mut j = eq + 1;
        while j < v.len() && v[j] == b' ' {
            j += 1;
        }
        let quoted = if v[j..].starts_with(b"\"") {
            Some(j + 1)
        } else if v[j..].starts_with(b"\\\"") {
            Some(j + 2)
        } else {
            None
        };
        match quoted {
            Some(q) => {
                let close = v[q..].iter().position(|&b| b == b'"').map(|c| q + c);
                let end = close.map_or(v.len(), |c| c + 1);
                if split.is_none() && v[q..end.min(v.len())].contains(&b';') {
                    split = Some((j, end));
                }
                i = end;
                // Continue after the next separator.
                match v[i.min(v.len())..].iter().position(|&b| b == b';') {
                    Some(s) => i += s + 1,
                    None => break,
                }
            }
            None => match v[j..].iter().position(|&b| b == b';') {
                Some(s) => i = j + s + 1,
                None => break,
            },
        }
    }
    if let Some((s, e)) = version {
        sink.report(
            "protocol.cookie-version",
            30,
            "an RFC 2109 $Version cookie attribute (obsolete; parsers disagree on it)",
            s,
            e,
        );
    }
    if let Some((s, e)) = split {
        sink.report(
            "protocol.cookie-quote-split",
            40,
            "a quoted cookie value that runs over a ';' (cookie smuggling)",
            s,
            e,
        );
    }
}
