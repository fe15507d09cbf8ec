//! The scanner's configuration.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::ScanError;

/// Configuration of a [`Scanner`](crate::Scanner). Every field has a
/// default; the default allows **no** target.
///
/// ```toml
/// allow = ["127.0.0.1:8080", "staging.example.com"]
/// rate_limit = 5.0
/// max_requests = 60
/// request_timeout_ms = 10000
/// script_max_operations = 200000
/// script_timeout_ms = 30000
/// strategies_dir = "/etc/rampart/strategies"
/// oob_listen = "127.0.0.1:0"
///
/// [test_credentials]
/// Cookie = "session=test-user"
/// ```
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ScannerConfig {
    /// Targets probes may go to: `host` (any port) or `host:port`
    /// (`[v6]:port` for IPv6). Host names are compared case-insensitively
    /// and literally: no DNS resolution, no wildcard. Empty: nothing is
    /// allowed.
    pub allow: Vec<String>,
    /// Requests per second per target (`host:port`), shared by all jobs of
    /// one scanner; token bucket with a burst of `max(1, rate_limit)`.
    pub rate_limit: f64,
    /// Requests one job (one scan) may send, the baseline included.
    pub max_requests: u32,
    /// Timeout of one request, connecting included, in milliseconds.
    pub request_timeout_ms: u64,
    /// rhai operations a strategy may run.
    pub script_max_operations: u64,
    /// Wall time of one strategy run, requests included, in milliseconds.
    pub script_timeout_ms: u64,
    /// Response bodies are read up to this many bytes (the rest is dropped).
    pub max_body_bytes: usize,
    /// Headers added to every probe (e.g. `Cookie` or `Authorization` of a
    /// test account). When absent, `Cookie`, `Authorization` and the other
    /// credential headers are stripped from every probe. Their values are
    /// redacted in reports.
    pub test_credentials: Option<BTreeMap<String, String>>,
    /// A folder of user strategies: `<class>.rhai` there overrides the
    /// built-in strategy of that class.
    pub strategies_dir: Option<PathBuf>,
    /// Address of the out-of-band listener (SSRF, XXE callbacks).
    pub oob_listen: String,
    /// Base URL the *target* uses to reach the listener (e.g.
    /// `http://scanner.internal:8099`) when it is not the listener's own
    /// address (the default, fine when the target runs on the same host).
    pub oob_public_url: Option<String>,
    /// Methods a job may use. A job whose method is not listed is refused.
    /// The default leaves out PUT, PATCH and DELETE: replaying those
    /// changes state by itself.
    pub methods: Vec<String>,
    /// The `User-Agent` of probes.
    pub user_agent: String,
}

impl Default for ScannerConfig {
    fn default() -> Self {
        ScannerConfig {
            allow: Vec::new(),
            rate_limit: 5.0,
            max_requests: 60,
            request_timeout_ms: 10_000,
            script_max_operations: 200_000,
            script_timeout_ms: 30_000,
            max_body_bytes: 256 * 1024,
            test_credentials: None,
            strategies_dir: None,
            oob_listen: "127.0.0.1:0".to_string(),
            oob_public_url: None,
            methods: ["GET", "HEAD", "POST", "OPTIONS"]
                .map(String::from)
                .to_vec(),
            user_agent: concat!("rampart-scanner/", env!("CARGO_PKG_VERSION")).to_string(),
        }
    }
}

/// One allowlist entry, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AllowEntry {
    pub host: String,
    pub port: Option<u16>,
}

/// Normalizes a host for comparison: lower case, no trailing dot,
/// IPv6 in brackets.
pub(crate) fn normalize_host(h: &str) -> String {
    let h = h.trim().trim_end_matches('.').to_ascii_lowercase();
    if h.contains(':') && !h.starts_with('[') {
        format!("[{h}]")
    } else {
        h
    }
}

pub(crate) fn parse_allow(entry: &str) -> Result<AllowEntry, ScanError> {
    let bad = |why: &str| ScanError::Config(format!("allow entry `{entry}`: {why}"));
    let mut e = entry.trim();
    if let Some((scheme, rest)) = e.split_once("://") {
        if scheme != "http" && scheme != "https" {
            return Err(bad("only http and https targets"));
        }
        e = rest.trim_end_matches('/');
    }
    if e.is_empty() {
        return Err(bad("empty"));
    }
    if e.contains(['/', '?', '#', '@', '*', ' ']) {
        return Err(bad("a host or host:port, without path, user or wildcard"));
    }
    let (host, port) = if let Some(rest) = e.strip_prefix('[') {
        let Some((h, after)) = rest.split_once(']') else {
            return Err(bad("unclosed `[`"));
        };
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p.parse::<u16>().map_err(|_| bad("bad port"))?),
            None if after.is_empty() => None,
            None => return Err(bad("unexpected text after `]`")),
        };
        (format!("[{}]", h.to_ascii_lowercase()), port)
    } else if e.matches(':').count() > 1 {
        (normalize_host(e), None)
    } else if let Some((h, p)) = e.split_once(':') {
        (
            normalize_host(h),
            Some(p.parse::<u16>().map_err(|_| bad("bad port"))?),
        )
    } else {
        (normalize_host(e), None)
    };
    if host.is_empty() || host == "[]" {
        return Err(bad("empty host"));
    }
    Ok(AllowEntry { host, port })
}

impl ScannerConfig {
    /// Checks the values (allowlist syntax, positive limits, header names).
    pub fn validate(&self) -> Result<(), ScanError> {
        for a in &self.allow {
            parse_allow(a)?;
        }
        if !(self.rate_limit.is_finite() && self.rate_limit > 0.0) {
            return Err(ScanError::Config(
                "rate_limit must be a positive number".into(),
            ));
        }
        if self.max_requests == 0 {
            return Err(ScanError::Config("max_requests must be at least 1".into()));
        }
        if self.request_timeout_ms == 0
            || self.script_timeout_ms == 0
            || self.script_max_operations == 0
        {
            return Err(ScanError::Config(
                "timeouts and script_max_operations must be positive".into(),
            ));
        }
        if self.max_body_bytes == 0 {
            return Err(ScanError::Config("max_body_bytes must be positive".into()));
        }
        if let Some(c) = &self.test_credentials {
            for (k, v) in c {
                if http::HeaderName::from_bytes(k.as_bytes()).is_err() {
                    return Err(ScanError::Config(format!(
                        "test_credentials: bad header name `{k}`"
                    )));
                }
                if http::HeaderValue::from_str(v).is_err() {
                    return Err(ScanError::Config(format!(
                        "test_credentials: bad value for `{k}`"
                    )));
                }
            }
        }
        if let Some(u) = &self.oob_public_url {
            if !(u.starts_with("http://") || u.starts_with("https://")) {
                return Err(ScanError::Config(format!(
                    "oob_public_url `{u}` must be an http or https URL"
                )));
            }
        }
        if self.methods.is_empty() {
            return Err(ScanError::Config("methods must not be empty".into()));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_entries() {
        assert_eq!(
            parse_allow("127.0.0.1:8080").unwrap(),
            AllowEntry {
                host: "127.0.0.1".into(),
                port: Some(8080)
            }
        );
        assert_eq!(
            parse_allow("Staging.Example.com.").unwrap(),
            AllowEntry {
                host: "staging.example.com".into(),
                port: None
            }
        );
        assert_eq!(
            parse_allow("[::1]:9").unwrap(),
            AllowEntry {
                host: "[::1]".into(),
                port: Some(9)
            }
        );
        assert_eq!(
            parse_allow("http://h:1/").unwrap(),
            AllowEntry {
                host: "h".into(),
                port: Some(1)
            }
        );
        for bad in [
            "",
            "h:x",
            "*.example.com",
            "h/path",
            "ftp://h",
            "[::1",
            "u@h",
        ] {
            assert!(parse_allow(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn defaults_allow_nothing() {
        let c: ScannerConfig = toml::from_str("").unwrap();
        assert!(c.allow.is_empty());
        assert_eq!(c.max_requests, 60);
        assert!(c.validate().is_ok());
        let c: ScannerConfig =
            toml::from_str("allow = [\"127.0.0.1:1\"]\n[test_credentials]\nCookie = \"a=b\"\n")
                .unwrap();
        assert_eq!(c.test_credentials.unwrap()["Cookie"], "a=b");
        assert!(toml::from_str::<ScannerConfig>("nope = 1").is_err());
    }
}
