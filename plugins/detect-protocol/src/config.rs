//! [`PolicyConfig`]: the settings of `[plugin.protocol]` in node.toml.

use rampart_plugin_api::{PluginConfig, PluginError};

use crate::lex::is_token;

/// The settings the protocol detector accepts; every one is optional.
///
/// | key | default | meaning |
/// |---|---|---|
/// | `allowed_methods` | unset | comma- or space-separated methods; when set, any other method is `protocol.method-disallowed` (60) and the known-method table is not used |
/// | `extra_methods` | empty | methods added to the known-method table (custom verbs such as `BAN`) |
/// | `trace_score` | 40 | score of `TRACE` / `TRACK` (0 turns the rule off, 50 or more blocks) |
/// | `unknown_method_score` | 30 | score of a well-formed method that is in no table |
/// | `max_ranges` | 16 | ranges allowed in one `Range` header (1..=10000) |
/// | `max_uri_length` | 8192 | request-target length above which `protocol.uri-long` is reported (64..=16777216) |
///
/// Methods are case-sensitive, as in HTTP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyConfig {
    /// Sorted; `None` when unset.
    pub allowed_methods: Option<Vec<Vec<u8>>>,
    /// Sorted.
    pub extra_methods: Vec<Vec<u8>>,
    pub trace_score: u8,
    pub unknown_method_score: u8,
    pub max_ranges: usize,
    pub max_uri_length: usize,
}

impl Default for PolicyConfig {
    fn default() -> PolicyConfig {
        PolicyConfig {
            allowed_methods: None,
            extra_methods: Vec::new(),
            trace_score: 40,
            unknown_method_score: 30,
            max_ranges: 16,
            max_uri_length: 8192,
        }
    }
}

/// The keys [`PolicyConfig::from_config`] knows, for error messages.
pub const KEYS: [&str; 6] = [
    "allowed_methods",
    "extra_methods",
    "max_ranges",
    "max_uri_length",
    "trace_score",
    "unknown_method_score",
];

impl PolicyConfig {
    /// Reads a plugin configuration. Every problem is reported at once, in
    /// one error (`protocol: unknown setting "x" (known: ...); max_ranges: ...`).
    pub fn from_config(cfg: &PluginConfig) -> Result<PolicyConfig, PluginError> {
        let mut p = PolicyConfig::default();
        let mut errors = Vec::new();
        for (key, value) in cfg {
            let r = match key.as_str() {
                "allowed_methods" => methods(value).map(|m| p.allowed_methods = Some(m)),
                "extra_methods" => methods(value).map(|m| p.extra_methods = m),
                "trace_score" => number(value, 0, 100).map(|n| p.trace_score = n as u8),
                "unknown_method_score" => {
                    number(value, 0, 100).map(|n| p.unknown_method_score = n as u8)
                }
                "max_ranges" => number(value, 1, 10_000).map(|n| p.max_ranges = n),
                "max_uri_length" => number(value, 64, 1 << 24).map(|n| p.max_uri_length = n),
                _ => {
                    errors.push(format!(
                        "unknown setting {key:?} (known: {})",
                        KEYS.join(", ")
                    ));
                    continue;
                }
            };
            if let Err(e) = r {
                errors.push(format!("{key}: {e}"));
            }
        }
        if errors.is_empty() {
            Ok(p)
        } else {
            Err(PluginError(format!("protocol: {}", errors.join("; "))))
        }
    }

    /// The method is in `allowed_methods` (`None` when that is unset).
    pub fn method_allowed(&self, method: &[u8]) -> Option<bool> {
        self.allowed_methods.as_ref().map(|m| contains(m, method))
    }

    /// The method is one of `extra_methods`.
    pub fn is_extra_method(&self, method: &[u8]) -> bool {
        contains(&self.extra_methods, method)
    }
}

fn contains(sorted: &[Vec<u8>], m: &[u8]) -> bool {
    sorted.binary_search_by(|x| x.as_slice().cmp(m)).is_ok()
}

fn methods(value: &str) -> Result<Vec<Vec<u8>>, String> {
    let mut v: Vec<Vec<u8>> = Vec::new();
    for m in value.split(|c: char| c == ',' || c.is_ascii_whitespace()) {
        if m.is_empty() {
            continue;
        }
        if !is_token(m.as_bytes()) {
            return Err(format!("{m:?} is not a valid method token"));
        }
        v.push(m.as_bytes().to_vec());
    }
    if v.is_empty() {
        return Err("expected at least one method (e.g. \"GET, POST\")".into());
    }
    v.sort();
    v.dedup();
    Ok(v)
}

fn number(value: &str, min: usize, max: usize) -> Result<usize, String> {
    match value.trim().parse::<usize>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(format!(
            "expected a whole number {min}..={max}, got {value:?}"
        )),
    }
}
