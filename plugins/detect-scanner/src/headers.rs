//! Which headers carry tool names, and which headers are fingerprints by
//! themselves.
//!
//! Tool names are looked for only in these headers:
//!
//! - `user-agent`: every tool in the table announces itself here unless told
//!   otherwise (`sqlmap/1.7.2#stable`, `Mozilla/4.0 (Hydra)`).
//! - `x-scanner`: Netsparker / Invicti add `X-Scanner: Netsparker` to every
//!   request so that site owners can recognise the scan; the header is a
//!   self-declaration whatever it names (rule `scanner.declared` when the
//!   value names no known tool).
//!
//! These headers are set only by one tool, so their presence is the
//! fingerprint (the value is reported whole, and also searched for tool
//! names):
//!
//! - `acunetix-*` (`acunetix-product`, `acunetix-scanning-agreement`,
//!   `acunetix-user-agreement`): Acunetix WVS sends them with its requests;
//!   `acunetix-aspect`, `acunetix-aspect-password` and
//!   `acunetix-aspect-queries` talk to its AcuSensor server-side agent.
//! - `x-wipp`: WebInspect (HP / Micro Focus / OpenText) marks its requests
//!   with it (`X-WIPP: AscVersion=...`).
//! - `x-scan-memo`: WebInspect's note of the audit step that built the
//!   request (`Category="Audit"; Function=...`).
//! - `x-request-memo`: WebInspect's request id / thread id note.
//! - `x-requestmanager-memo`: WebInspect's request manager state note.
//! - `x-zap-scan-id`: OWASP ZAP's active scanner, with "inject plugin id in
//!   header" on, names the scan rule that built the request.
//! - `x-zap-initiator`: added by ZAP's bundled `AddZapHeader.js` script so
//!   that ZAP traffic can be told apart (value: the initiator number).
//!
//! Headers that tool-detection lists often cite but that are not default
//! behaviour of any tool (`x-burp-*`, a `referer: nessus`) are left out.

/// What a header means for this detector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// `user-agent`: tool names count.
    Agent,
    /// `x-scanner`: tool names count; the header declares a scan anyway.
    Declares,
    /// Sent only by one tool: the header itself is the fingerprint.
    Presence {
        /// The header as written in messages.
        header: &'static str,
        rule: &'static str,
        tool: &'static str,
    },
}

/// Exact header names with a role, sorted (looked up by binary search).
const EXACT: &[(&[u8], Role)] = &[
    (b"user-agent", Role::Agent),
    (b"x-request-memo", WEBINSPECT[0]),
    (b"x-requestmanager-memo", WEBINSPECT[1]),
    (b"x-scan-memo", WEBINSPECT[2]),
    (b"x-scanner", Role::Declares),
    (b"x-wipp", WEBINSPECT[3]),
    (b"x-zap-initiator", ZAP[0]),
    (b"x-zap-scan-id", ZAP[1]),
];

const fn webinspect(header: &'static str) -> Role {
    Role::Presence {
        header,
        rule: "scanner.webinspect",
        tool: "WebInspect",
    }
}

const fn zap(header: &'static str) -> Role {
    Role::Presence {
        header,
        rule: "scanner.zap",
        tool: "OWASP ZAP",
    }
}

const WEBINSPECT: [Role; 4] = [
    webinspect("X-Request-Memo"),
    webinspect("X-RequestManager-Memo"),
    webinspect("X-Scan-Memo"),
    webinspect("X-WIPP"),
];

const ZAP: [Role; 2] = [zap("X-ZAP-Initiator"), zap("X-ZAP-Scan-ID")];

const ACUNETIX_PREFIX: &[u8] = b"acunetix-";

const ACUNETIX: Role = Role::Presence {
    header: "Acunetix-*",
    rule: "scanner.acunetix",
    tool: "Acunetix",
};

/// The role of a header (name compared without regard to ASCII case).
pub(crate) fn role(name: &[u8]) -> Option<Role> {
    const MAX: usize = 24;
    let n = ACUNETIX_PREFIX.len();
    if name.len() > n && name[..n].eq_ignore_ascii_case(ACUNETIX_PREFIX) {
        return Some(ACUNETIX);
    }
    if name.len() > MAX {
        return None;
    }
    let mut buf = [0u8; MAX];
    let lower = &mut buf[..name.len()];
    lower.copy_from_slice(name);
    lower.make_ascii_lowercase();
    EXACT
        .binary_search_by(|(k, _)| (*k).cmp(&*lower))
        .ok()
        .map(|i| EXACT[i].1)
}

const fn sorted() -> bool {
    let mut i = 1;
    while i < EXACT.len() {
        let (a, b) = (EXACT[i - 1].0, EXACT[i].0);
        let mut j = 0;
        while j < a.len() && j < b.len() && a[j] == b[j] {
            j += 1;
        }
        let less = if j < a.len() && j < b.len() {
            a[j] < b[j]
        } else {
            a.len() < b.len()
        };
        if !less {
            return false;
        }
        i += 1;
    }
    true
}

const _: () = assert!(sorted(), "EXACT must be sorted");
