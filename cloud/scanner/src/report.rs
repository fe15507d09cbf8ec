//! What a scan returns, and the helpers incidents need.

use serde::{Deserialize, Serialize};

/// The outcome of a scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The strategy proved the vulnerability; `evidence` says how.
    Confirmed,
    /// The strategy ran its probes and none worked.
    NotConfirmed,
    /// No conclusion: no strategy for the class, an unsupported point, a
    /// strategy error or limit (operations, wall time, request budget).
    Inconclusive,
    /// Safety refused the job or a probe: target not allowlisted, method not
    /// allowed, or a probe the non-destructive guard refused.
    Refused,
}

impl Verdict {
    /// `confirmed`, `not_confirmed`, `inconclusive` or `refused`.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Confirmed => "confirmed",
            Verdict::NotConfirmed => "not_confirmed",
            Verdict::Inconclusive => "inconclusive",
            Verdict::Refused => "refused",
        }
    }
}

/// A request the scanner sent, as sent (credential values redacted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProbeRequest {
    pub method: String,
    pub url: String,
    /// Headers the scanner set (lower-cased names), in order; the HTTP
    /// client adds `host`, `accept` and framing headers.
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
}

/// One piece of evidence: a request and an excerpt of its response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    /// What this exchange shows (written by the strategy).
    pub note: String,
    pub request: ProbeRequest,
    /// `HTTP <status>` (or the transport error) on the first line, then up
    /// to about 2 KB of the body around the proof the strategy named.
    pub response_excerpt: String,
}

/// The result of one scan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScanReport {
    /// The class as given in the target.
    pub class: String,
    /// `builtin:<name>`, `user:<path>`, `script:<name>` or empty when none ran.
    pub strategy: String,
    pub verdict: Verdict,
    /// The strategy's one-line summary (its reason when not confirmed).
    pub summary: String,
    pub evidence: Vec<Evidence>,
    /// Requests that left the scanner for this job.
    pub requests_sent: u32,
    /// Why the scan ended early, when it did (refusal, limit, script error).
    pub error: Option<String>,
}

impl ScanReport {
    pub(crate) fn early(class: &str, strategy: &str, verdict: Verdict, error: String) -> Self {
        ScanReport {
            class: class.to_string(),
            strategy: strategy.to_string(),
            verdict,
            summary: error.clone(),
            evidence: Vec::new(),
            requests_sent: 0,
            error: Some(error),
        }
    }
}

/// Quotes a string for a POSIX shell (single quotes, `'` written `'\''`).
pub fn shell_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        if c == '\'' {
            out.push_str("'\\''");
        } else {
            out.push(c);
        }
    }
    out.push('\'');
    out
}

/// A `curl` command line that replays the request (POSIX shell quoting;
/// `--path-as-is` and `--globoff` keep the URL exactly as sent).
pub fn curl_command(req: &ProbeRequest) -> String {
    let mut parts = vec![
        "curl".to_string(),
        "-sS".to_string(),
        "-i".to_string(),
        "--path-as-is".to_string(),
        "--globoff".to_string(),
    ];
    if req.method != "GET" || req.body.is_some() {
        if req.method == "HEAD" {
            parts.push("-I".to_string());
        } else {
            parts.push("-X".to_string());
            parts.push(shell_quote(&req.method));
        }
    }
    for (k, v) in &req.headers {
        parts.push("-H".to_string());
        parts.push(shell_quote(&format!("{k}: {v}")));
    }
    if let Some(b) = &req.body {
        parts.push("--data-binary".to_string());
        parts.push(shell_quote(b));
    }
    parts.push(shell_quote(&req.url));
    parts.join(" ")
}

/// Canonical class name for the names detectors and users give
/// (`rce` -> `cmdi`, `lfi`/`path_traversal` -> `traversal`, ...).
pub fn canonical_class(class: &str) -> String {
    let c = class.trim().to_ascii_lowercase().replace('_', "-");
    match c.as_str() {
        "sql-injection" | "sql" => "sqli".into(),
        "rce" | "command-injection" | "os-command-injection" | "os-command" | "shell-injection" => {
            "cmdi".into()
        }
        "lfi"
        | "path-traversal"
        | "directory-traversal"
        | "dir-traversal"
        | "file-inclusion"
        | "local-file-inclusion" => "traversal".into(),
        "cross-site-scripting" | "reflected-xss" => "xss".into(),
        "template-injection" | "server-side-template-injection" => "ssti".into(),
        "xml-external-entity" => "xxe".into(),
        "server-side-request-forgery" => "ssrf".into(),
        "remote-file-inclusion" => "rfi".into(),
        _ => c,
    }
}

/// Remediation advice for a class (a few sentences).
pub fn remediation(class: &str) -> &'static str {
    match canonical_class(class).as_str() {
        "sqli" => "Build SQL with parameterized queries (prepared statements with bound parameters) for every value that comes from a request; never concatenate or format request data into SQL text. Where identifiers must vary (sort column, table), pick them from a fixed allowlist. Run the application's database user with the least privileges it needs.",
        "xss" => "Encode output for the context it is written into: HTML-escape text and quoted attribute values, and never place request data in a tag or attribute name, an unquoted attribute, a URL attribute (reject schemes other than http/https) or a script block. Prefer a template engine that escapes by default, and add a Content-Security-Policy that forbids inline script.",
        "cmdi" => "Do not pass request data to a shell. Run programs directly with an argument vector (no `sh -c`), validate values against an allowlist, and put `--` before user-supplied arguments. Where possible replace the external command with a library call.",
        "traversal" => "Do not build file paths from request data. Map requested names to files through an allowlist or an identifier lookup; otherwise reject `..`, absolute paths and path separators, resolve the final path (canonicalize) and check that it is still inside the intended directory.",
        "ssti" => "Never concatenate request data into a template's source. Pass it to the template as data (a variable) so the engine escapes it; if users must supply templates, use a logic-less or sandboxed engine.",
        "ssrf" => "Do not fetch URLs taken from requests. If the feature requires it, allow only an explicit list of hosts and schemes, resolve the name and refuse private, loopback and link-local addresses (checking again after redirects), and send such requests from a network segment without access to internal services.",
        "xxe" => "Disable DTD processing and external entity resolution in the XML parser (or use a parser that never fetches external resources), and prefer a data format without entities (JSON) for untrusted input.",
        "rfi" => "Never include or fetch code from a URL taken from a request. Include files only from a fixed allowlist and disable remote includes in the runtime (e.g. PHP's allow_url_include).",
        _ => "Validate and encode request data for the context it is used in, and apply the vendor's guidance for this class of vulnerability.",
    }
}

/// The name of a class for a title (`SQL injection`).
pub fn class_title(class: &str) -> String {
    match canonical_class(class).as_str() {
        "sqli" => "SQL injection".into(),
        "xss" => "Cross-site scripting (reflected)".into(),
        "cmdi" => "OS command injection".into(),
        "traversal" => "Path traversal".into(),
        "ssti" => "Server-side template injection".into(),
        "ssrf" => "Server-side request forgery".into(),
        "xxe" => "XML external entity injection".into(),
        "rfi" => "Remote file inclusion".into(),
        other => format!("{other} vulnerability"),
    }
}

/// Severity of a confirmed vulnerability of a class: `critical`, `high` or
/// `medium`.
pub fn severity(class: &str) -> &'static str {
    match canonical_class(class).as_str() {
        "sqli" | "cmdi" | "ssti" | "code-injection" | "rfi" | "jndi" | "shellshock" => "critical",
        "traversal" | "ssrf" | "xxe" | "nosql" | "ldap" | "xpath" => "high",
        _ => "medium",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn curl_quotes() {
        let r = ProbeRequest {
            method: "POST".into(),
            url: "http://127.0.0.1:1/a?q=1%27".into(),
            headers: vec![(
                "content-type".into(),
                "application/x-www-form-urlencoded".into(),
            )],
            body: Some("q=it's".into()),
        };
        assert_eq!(
            curl_command(&r),
            "curl -sS -i --path-as-is --globoff -X 'POST' -H 'content-type: application/x-www-form-urlencoded' --data-binary 'q=it'\\''s' 'http://127.0.0.1:1/a?q=1%27'"
        );
        let g = ProbeRequest {
            method: "GET".into(),
            url: "http://h/".into(),
            headers: vec![],
            body: None,
        };
        assert_eq!(
            curl_command(&g),
            "curl -sS -i --path-as-is --globoff 'http://h/'"
        );
    }

    #[test]
    fn classes() {
        assert_eq!(canonical_class("RCE"), "cmdi");
        assert_eq!(canonical_class("path_traversal"), "traversal");
        assert_eq!(canonical_class("lfi"), "traversal");
        assert_eq!(severity("sqli"), "critical");
        assert_eq!(severity("lfi"), "high");
        assert_eq!(severity("xss"), "medium");
        assert!(remediation("xss").contains("Encode"));
        assert!(!remediation("unknown").is_empty());
    }
}
