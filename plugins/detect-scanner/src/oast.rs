//! Out-of-band callback (OAST) domains, found in any value.
//!
//! Blind injections are confirmed by making the target resolve or fetch a
//! unique host under a domain the tester watches. A request that carries
//! such a host is a probe whatever the field, so these domains are matched
//! in every value.
//!
//! The value is cut into host runs (maximal runs of ASCII letters, digits,
//! `.` and `-`); a run, trailing dots removed, matches a domain when it is
//! the domain or ends with `.` and the domain. `x.oast.pro` and `oast.pro`
//! match; `boast.pro` and `x.oast.pro.example.com` do not.

/// A callback domain and the service it belongs to.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Domain {
    pub suffix: &'static [u8],
    pub rule: &'static str,
    pub service: &'static str,
}

const fn d(suffix: &'static [u8], rule: &'static str, service: &'static str) -> Domain {
    Domain {
        suffix,
        rule,
        service,
    }
}

const INTERACTSH: &str = "scanner.interactsh";
const BURP: &str = "scanner.burp-collaborator";

/// The callback domains.
pub(crate) const DOMAINS: &[Domain] = &[
    // ProjectDiscovery interactsh public servers (used by nuclei).
    d(b"oast.pro", INTERACTSH, "interactsh"),
    d(b"oast.live", INTERACTSH, "interactsh"),
    d(b"oast.site", INTERACTSH, "interactsh"),
    d(b"oast.online", INTERACTSH, "interactsh"),
    d(b"oast.fun", INTERACTSH, "interactsh"),
    d(b"oast.me", INTERACTSH, "interactsh"),
    d(b"interact.sh", INTERACTSH, "interactsh"),
    // Burp Collaborator: the old and the current public server.
    d(b"burpcollaborator.net", BURP, "Burp Collaborator"),
    d(b"oastify.com", BURP, "Burp Collaborator"),
    // Acunetix AcuMonitor (blind XSS and out-of-band checks).
    d(b"bxss.me", "scanner.acumonitor", "Acunetix AcuMonitor"),
    // Public DNS-log services used to confirm blind injections.
    d(b"dnslog.cn", "scanner.dnslog", "dnslog.cn"),
    d(b"ceye.io", "scanner.ceye", "ceye.io"),
];

/// The shortest suffix; shorter runs are skipped.
const MIN: usize = 7;

fn is_host(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'.' || b == b'-'
}

/// Calls `hit(domain, start, end)` for every host of `v` under a callback
/// domain, the span covering the host. Returns early when `hit` returns
/// `false`.
pub(crate) fn scan(v: &[u8], mut hit: impl FnMut(&'static Domain, usize, usize) -> bool) {
    // Only runs of host characters holding a dot can name a domain: jump
    // from dot to dot and read the run around each (runs are maximal, so a
    // dot after the end of a run read starts a new one).
    let mut from = 0;
    while let Some(off) = v
        .get(from..)
        .and_then(|r| r.iter().position(|&b| b == b'.'))
    {
        let dot = from + off;
        let mut start = dot;
        while start > 0 && is_host(v[start - 1]) {
            start -= 1;
        }
        let mut i = dot + 1;
        while i < v.len() && is_host(v[i]) {
            i += 1;
        }
        from = i;
        let mut end = i;
        while end > start && v[end - 1] == b'.' {
            end -= 1;
        }
        let host = &v[start..end];
        if host.len() < MIN {
            continue;
        }
        if let Some(dom) = DOMAINS.iter().find(|dm| under(host, dm.suffix)) {
            let first = host.iter().position(|&b| b != b'.').unwrap_or(0);
            if !hit(dom, start + first, end) {
                return;
            }
        }
    }
}

/// `host` is `suffix` or a name below it (ASCII case ignored).
fn under(host: &[u8], suffix: &[u8]) -> bool {
    let (h, s) = (host.len(), suffix.len());
    if h < s || !host[h - s..].eq_ignore_ascii_case(suffix) {
        return false;
    }
    h == s || host[h - s - 1] == b'.'
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every maximal run of host characters, read one by one: what `scan`
    /// must find by jumping from dot to dot.
    fn reference(v: &[u8]) -> Vec<(&'static str, usize, usize)> {
        let mut found = Vec::new();
        let mut i = 0;
        while i < v.len() {
            if !is_host(v[i]) {
                i += 1;
                continue;
            }
            let start = i;
            while i < v.len() && is_host(v[i]) {
                i += 1;
            }
            let mut end = i;
            while end > start && v[end - 1] == b'.' {
                end -= 1;
            }
            let host = &v[start..end];
            let dots = host.contains(&b'.') || end < i;
            if !dots || host.len() < MIN {
                continue;
            }
            if let Some(dom) = DOMAINS.iter().find(|dm| under(host, dm.suffix)) {
                let first = host.iter().position(|&b| b != b'.').unwrap_or(0);
                found.push((dom.rule, start + first, end));
            }
        }
        found
    }

    #[test]
    fn dot_jumps_find_what_reading_every_run_finds() {
        let parts: &[&[u8]] = &[
            b"a",
            b"x.oast.pro",
            b".",
            b"..",
            b" ",
            b"/",
            b"-",
            b"interact.sh",
            b"OASTIFY.COM",
            b"burpcollaborator.net",
            b"9",
            b"ceye.io.",
            b"?",
            b"bxss.me",
            b"dnslog.cn",
            b"_",
        ];
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        for _ in 0..20_000 {
            let mut v = Vec::new();
            for _ in 0..(seed % 9) {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                v.extend_from_slice(parts[(seed % parts.len() as u64) as usize]);
            }
            let mut got = Vec::new();
            scan(&v, |d, s, e| {
                got.push((d.rule, s, e));
                true
            });
            assert_eq!(got, reference(&v), "{}", String::from_utf8_lossy(&v));
        }
    }
}
