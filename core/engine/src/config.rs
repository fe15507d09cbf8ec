use std::collections::BTreeMap;
use std::time::Duration;

use rampart_plugin_api::PluginConfig;
use rampart_types::{Class, Limits, Mode};
use serde::Deserialize;

/// What to do with a request whose decoding hit a budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum LimitAction {
    /// Refuse it (in block mode): a request that exhausts the budget is a
    /// bomb or an evasion attempt far more often than a real user.
    #[default]
    Block,
    /// Inspect what was decoded and decide on the findings alone.
    Inspect,
}

/// What to do when a plugin fails (returns an error or panics).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum PluginFailure {
    /// Let the request through (availability first).
    #[default]
    Open,
    /// Refuse the request (security first).
    Closed,
}

/// `[limits]` of node.toml. Omitted fields keep their defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsConfig {
    pub max_depth: u16,
    pub max_nesting: u16,
    pub max_nodes: u32,
    pub max_bytes: u32,
    pub max_expansion: u32,
    pub max_time_ms: u64,
    pub action: LimitAction,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        let l = Limits::default();
        LimitsConfig {
            max_depth: l.max_depth,
            max_nesting: l.max_nesting,
            max_nodes: l.max_nodes,
            max_bytes: l.max_bytes,
            max_expansion: l.max_expansion,
            max_time_ms: l.max_time.as_millis() as u64,
            action: LimitAction::Block,
        }
    }
}

impl LimitsConfig {
    pub fn limits(&self) -> Limits {
        Limits {
            max_depth: self.max_depth,
            max_nesting: self.max_nesting,
            max_nodes: self.max_nodes,
            max_bytes: self.max_bytes,
            max_expansion: self.max_expansion,
            max_time: Duration::from_millis(self.max_time_ms),
        }
    }
}

/// `[policy]` of node.toml: how findings become a verdict.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Policy {
    /// Status of a blocked request.
    pub block_status: u16,
    /// Summed score of one attack class at which a request is an attack.
    pub threshold: u32,
    /// Per-class overrides of `threshold` (`sqli = 40`).
    pub class_thresholds: BTreeMap<String, u32>,
    /// Summed score of anomalies at which a request is refused; 0 = never.
    pub anomaly_threshold: u32,
    pub on_plugin_error: PluginFailure,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            block_status: 403,
            threshold: 50,
            class_thresholds: BTreeMap::new(),
            anomaly_threshold: 0,
            on_plugin_error: PluginFailure::Open,
        }
    }
}

impl Policy {
    pub fn threshold_for(&self, class: Class) -> u32 {
        self.class_thresholds
            .get(class.as_str())
            .copied()
            .unwrap_or(self.threshold)
    }
}

/// The engine's configuration: the part of node.toml every adapter shares.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct EngineConfig {
    #[serde(with = "mode_serde")]
    pub mode: Mode,
    pub limits: LimitsConfig,
    pub policy: Policy,
    /// Per-plugin settings, `[plugin.NAME]`.
    pub plugin: BTreeMap<String, PluginConfig>,
    /// Decoders and detectors to leave out by name.
    pub disabled: Vec<String>,
}

mod mode_serde {
    use rampart_types::Mode;
    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Mode, D::Error> {
        let s = String::deserialize(d)?;
        Mode::parse(&s).ok_or_else(|| {
            serde::de::Error::custom(format!("mode {s:?}: expected block, monitor or off"))
        })
    }
}

/// Every problem found in a configuration, reported together.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid configuration:\n  - {}", .problems.join("\n  - "))]
pub struct ConfigError {
    pub problems: Vec<String>,
}

impl EngineConfig {
    /// Checks the values that types alone cannot, reporting all problems.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let mut p = Vec::new();
        let l = &self.limits;
        if l.max_depth == 0 || l.max_depth > 64 {
            p.push(format!(
                "limits.max_depth = {}: must be 1..=64",
                l.max_depth
            ));
        }
        if l.max_nesting == 0 || l.max_nesting > 4096 {
            p.push(format!(
                "limits.max_nesting = {}: must be 1..=4096",
                l.max_nesting
            ));
        }
        if l.max_nodes < 16 {
            p.push(format!(
                "limits.max_nodes = {}: must be at least 16",
                l.max_nodes
            ));
        }
        if l.max_bytes < 4096 {
            p.push(format!(
                "limits.max_bytes = {}: must be at least 4096",
                l.max_bytes
            ));
        }
        if l.max_expansion == 0 {
            p.push("limits.max_expansion = 0: must be at least 1".to_string());
        }
        if l.max_time_ms == 0 {
            p.push("limits.max_time_ms = 0: must be at least 1".to_string());
        }
        if !(400..=599).contains(&self.policy.block_status) {
            p.push(format!(
                "policy.block_status = {}: must be an HTTP error status (400..=599)",
                self.policy.block_status
            ));
        }
        if self.policy.threshold == 0 {
            p.push("policy.threshold = 0: every request would be an attack".to_string());
        }
        for name in self.policy.class_thresholds.keys() {
            match Class::parse(name) {
                Some(c) if c.is_attack() => {}
                _ => p.push(format!(
                    "policy.class_thresholds.{name}: not an attack class"
                )),
            }
        }
        if p.is_empty() {
            Ok(())
        } else {
            Err(ConfigError { problems: p })
        }
    }
}
