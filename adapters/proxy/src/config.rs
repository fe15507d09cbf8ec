//! node.toml: the proxy node's configuration. CLI flags override it.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;

use rampart_core::{EngineConfig, LimitsConfig, Policy};
use rampart_plugin_api::PluginConfig;
use rampart_types::Mode;
use serde::Deserialize;

/// What to do with a body longer than `inspection.body_limit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum OverLimit {
    /// Inspect the first `body_limit` bytes, then stream the rest unread.
    #[default]
    InspectPrefix,
    /// Refuse the request with 413.
    Block,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Inspection {
    /// Bytes of a request body buffered for inspection.
    pub body_limit: usize,
    pub over_limit: OverLimit,
}

impl Default for Inspection {
    fn default() -> Self {
        Inspection {
            body_limit: 1 << 20,
            over_limit: OverLimit::InspectPrefix,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Timeouts {
    /// Time a client has to send the request head.
    pub header_read_ms: u64,
    /// Time a client has to send the (inspected part of the) body.
    pub body_read_ms: u64,
    /// Time the upstream has to answer with a response head.
    pub upstream_ms: u64,
    /// Time given to in-flight requests at shutdown.
    pub shutdown_ms: u64,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            header_read_ms: 10_000,
            body_read_ms: 30_000,
            upstream_ms: 60_000,
            shutdown_ms: 10_000,
        }
    }
}

/// What happens to a request that finds `overload.max_in_flight` requests
/// already in the node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum OverloadPolicy {
    /// Answer 503 with `Retry-After` at once.
    Shed,
    /// Wait up to `overload.queue_ms` for a slot (at most
    /// `overload.queue_max` requests wait), then answer 503 with
    /// `Retry-After`.
    #[default]
    Queue,
}

/// `[overload]`: how many requests the node handles at once, and what
/// happens to the next one. A request holds its slot from the moment its
/// head is read until its response head is ready (reading and inspecting
/// the body, waiting for the upstream). A request over the bound is never
/// forwarded uninspected: overload always fails closed, with a 503.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Overload {
    /// Requests handled at once; 0: [`Overload::PER_CPU`] per CPU core.
    pub max_in_flight: usize,
    pub policy: OverloadPolicy,
    /// Longest wait for a slot with `policy = "queue"`.
    pub queue_ms: u64,
    /// Requests that may wait at once with `policy = "queue"` (the next
    /// ones are shed at once); 0: as many as the bound in force.
    pub queue_max: usize,
    /// Seconds sent in the `Retry-After` of a 503.
    pub retry_after_s: u32,
    /// Bytes of request bodies the node holds in memory at once, all
    /// requests together (bodies are read whole, up to the inspection
    /// limit, before inspection); a request whose body would go over it is
    /// answered 503 like a shed one. 0: 256 MiB.
    pub body_memory: usize,
}

impl Default for Overload {
    fn default() -> Self {
        Overload {
            max_in_flight: 0,
            policy: OverloadPolicy::Queue,
            queue_ms: 250,
            queue_max: 0,
            retry_after_s: 1,
            body_memory: 0,
        }
    }
}

impl Overload {
    /// Slots per CPU core when `max_in_flight = 0`.
    pub const PER_CPU: usize = 1024;

    /// The bound in force: `max_in_flight`, or sized for the machine.
    pub fn limit(&self) -> usize {
        if self.max_in_flight > 0 {
            return self.max_in_flight;
        }
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        cpus.saturating_mul(Self::PER_CPU)
    }

    /// The default of `body_memory`.
    pub const BODY_MEMORY: usize = 256 << 20;

    /// The body memory bound in force.
    pub fn body_memory(&self) -> usize {
        if self.body_memory > 0 {
            self.body_memory
        } else {
            Self::BODY_MEMORY
        }
    }

    /// Requests that may wait for a slot: `queue_max`, or the bound in
    /// force.
    pub fn queue_max(&self) -> usize {
        if self.queue_max > 0 {
            self.queue_max
        } else {
            self.limit()
        }
    }
}

/// A trusted proxy: an address or a CIDR block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    pub addr: IpAddr,
    pub prefix: u8,
}

impl Cidr {
    pub fn parse(s: &str) -> Option<Cidr> {
        let (a, p) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = a.trim().parse().ok()?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match p {
            Some(p) => p.trim().parse().ok().filter(|&n| n <= max)?,
            None => max,
        };
        Some(Cidr { addr, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match (self.addr, ip) {
            (IpAddr::V4(_), IpAddr::V6(v6)) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
            _ => ip,
        };
        match (self.addr, ip) {
            (IpAddr::V4(a), IpAddr::V4(b)) => {
                let mask = if self.prefix == 0 {
                    0
                } else {
                    u32::MAX << (32 - self.prefix)
                };
                u32::from(a) & mask == u32::from(b) & mask
            }
            (IpAddr::V6(a), IpAddr::V6(b)) => {
                let mask = if self.prefix == 0 {
                    0
                } else {
                    u128::MAX << (128 - self.prefix)
                };
                u128::from(a) & mask == u128::from(b) & mask
            }
            _ => false,
        }
    }
}

/// The node's configuration file.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NodeConfig {
    pub listen: SocketAddr,
    pub upstream: String,
    /// Health and metrics listener; none when absent.
    pub admin_listen: Option<SocketAddr>,
    pub mode: String,
    /// Peers whose `X-Forwarded-For`, `Forwarded` and `X-Request-Id` are
    /// believed (addresses or CIDR blocks).
    pub trusted_proxies: Vec<String>,
    /// Add `X-Forwarded-For`, `X-Forwarded-Proto` and `X-Request-Id` to
    /// requests sent upstream.
    pub forwarded_headers: bool,
    pub max_connections: usize,
    /// Requests handled at once, and load shedding beyond.
    pub overload: Overload,
    pub inspection: Inspection,
    pub timeouts: Timeouts,
    pub limits: LimitsConfig,
    pub policy: Policy,
    pub plugin: BTreeMap<String, PluginConfig>,
    pub disabled: Vec<String>,
    /// Plugin libraries to load (shared objects built with
    /// `declare_plugin!`), in order.
    pub plugins: Vec<std::path::PathBuf>,
    /// Link in the built-in plugins (`false`: only `plugins` are used).
    pub builtin_plugins: bool,
    /// Log format: `text` or `json`.
    pub log_format: String,
    /// A file the log is appended to instead of standard error (an
    /// adapter inside NGINX, HAProxy or Apache has no terminal).
    pub log_file: Option<std::path::PathBuf>,
    /// Rules in the rule language: the node's own and a rule pack.
    pub rules: RulesConfig,
    /// Traffic aggregates (`spec/metrics-privacy.md`).
    pub telemetry: crate::telemetry::TelemetryConfig,
    /// The cloud this node reports to and takes rule packs from
    /// (`spec/node-protocol.md`).
    pub cloud: rampart_sync::SyncConfig,
}

/// `[rules]`: the node's own rule files and the rule pack it enforces.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RulesConfig {
    /// Rule files compiled when the node starts (`--rules FILE`); a file
    /// that does not compile stops the node from starting.
    pub files: Vec<std::path::PathBuf>,
    /// A signed rule pack, installed at start and again whenever the file
    /// changes; a pack that fails to verify or compile is refused and the
    /// last good one stays.
    pub pack: Option<std::path::PathBuf>,
    /// Public keys (`rampart rules keygen`'s `.pub` files) packs must be
    /// signed with.
    pub pack_keys: Vec<std::path::PathBuf>,
    /// The application packs must be for (any when absent).
    pub application: Option<String>,
    /// How often the pack file is checked for a change.
    pub pack_poll_ms: u64,
    /// `jit` (when built in) or `interpreter`; empty: the JIT when built in.
    pub backend: String,
}

impl Default for RulesConfig {
    fn default() -> Self {
        RulesConfig {
            files: Vec::new(),
            pack: None,
            pack_keys: Vec::new(),
            application: None,
            pack_poll_ms: 2000,
            backend: String::new(),
        }
    }
}

impl RulesConfig {
    /// The back-end rules are compiled with.
    pub fn backend(&self) -> anyhow::Result<rampart_core::Backend> {
        if self.backend.is_empty() {
            return Ok(rampart_core::Backend::default());
        }
        rampart_core::Backend::parse(&self.backend).map_err(|e| anyhow::anyhow!("{e}"))
    }
}

impl Default for NodeConfig {
    fn default() -> Self {
        NodeConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            upstream: "http://127.0.0.1:8081".to_string(),
            admin_listen: None,
            mode: "block".to_string(),
            trusted_proxies: Vec::new(),
            forwarded_headers: true,
            max_connections: 10_000,
            overload: Overload::default(),
            inspection: Inspection::default(),
            timeouts: Timeouts::default(),
            limits: LimitsConfig::default(),
            policy: Policy::default(),
            plugin: BTreeMap::new(),
            disabled: Vec::new(),
            plugins: Vec::new(),
            builtin_plugins: true,
            log_format: "text".to_string(),
            log_file: None,
            rules: RulesConfig::default(),
            telemetry: crate::telemetry::TelemetryConfig::default(),
            cloud: rampart_sync::SyncConfig::default(),
        }
    }
}

impl NodeConfig {
    /// Reads and parses a node.toml.
    pub fn load(path: &Path) -> anyhow::Result<NodeConfig> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
        toml::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
    }

    /// The engine part of the configuration.
    pub fn engine(&self) -> anyhow::Result<EngineConfig> {
        let mode = Mode::parse(&self.mode).ok_or_else(|| {
            anyhow::anyhow!("mode {:?}: expected block, monitor or off", self.mode)
        })?;
        Ok(EngineConfig {
            mode,
            limits: self.limits,
            policy: self.policy.clone(),
            plugin: self.plugin.clone(),
            disabled: self.disabled.clone(),
        })
    }

    /// Checks everything, reporting all problems at once.
    pub fn validate(&self) -> anyhow::Result<()> {
        let mut problems = Vec::new();
        if let Err(e) = self.engine().and_then(|c| c.validate().map_err(Into::into)) {
            problems.push(e.to_string());
        }
        match self.upstream.parse::<http::Uri>() {
            Ok(u) if u.scheme_str() == Some("http") && u.authority().is_some() => {}
            Ok(_) => problems.push(format!(
                "upstream {:?}: expected http://HOST[:PORT][/PREFIX]",
                self.upstream
            )),
            Err(e) => problems.push(format!("upstream {:?}: {e}", self.upstream)),
        }
        for p in &self.trusted_proxies {
            if Cidr::parse(p).is_none() {
                problems.push(format!(
                    "trusted_proxies: {p:?} is not an address or CIDR block"
                ));
            }
        }
        if self.inspection.body_limit == 0 {
            problems.push("inspection.body_limit = 0: nothing would be inspected".to_string());
        }
        if self.max_connections == 0 {
            problems.push("max_connections = 0".to_string());
        }
        if self.overload.policy == OverloadPolicy::Queue && self.overload.queue_ms == 0 {
            problems.push(
                "overload.queue_ms = 0 with policy = \"queue\": nothing would wait (use policy = \"shed\")"
                    .to_string(),
            );
        }
        if self.overload.queue_ms > 60_000 {
            problems.push(format!(
                "overload.queue_ms = {}: at most 60000",
                self.overload.queue_ms
            ));
        }
        if self.overload.retry_after_s == 0 {
            problems.push("overload.retry_after_s = 0: at least 1".to_string());
        }
        if !matches!(self.log_format.as_str(), "text" | "json") {
            problems.push(format!(
                "log_format {:?}: expected text or json",
                self.log_format
            ));
        }
        if let Err(e) = self.rules.backend() {
            problems.push(e.to_string());
        }
        if self.cloud.enabled() && self.rules.pack.is_some() {
            problems.push(
                "rules.pack and cloud.url: the pack comes from the cloud or from a file, not both"
                    .into(),
            );
        }
        if self.cloud.enabled() && !self.telemetry.enabled {
            problems.push("cloud.url needs telemetry.enabled = true".into());
        }
        if self.rules.pack.is_some() && self.rules.pack_keys.is_empty() {
            problems.push(
                "rules.pack needs rules.pack_keys: the public keys packs are signed with".into(),
            );
        }
        if self.telemetry.k_anonymity == 0 {
            problems.push("telemetry.k_anonymity = 0: at least 1".to_string());
        }
        if self.telemetry.flush_seconds == 0 {
            problems.push("telemetry.flush_seconds = 0".to_string());
        }
        if self.rules.pack_poll_ms == 0 {
            problems.push("rules.pack_poll_ms = 0".to_string());
        }
        if problems.is_empty() {
            Ok(())
        } else {
            anyhow::bail!(
                "invalid node configuration:\n  - {}",
                problems.join("\n  - ")
            )
        }
    }

    pub fn trusted(&self) -> Vec<Cidr> {
        self.trusted_proxies
            .iter()
            .filter_map(|p| Cidr::parse(p))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_node_toml_is_valid_and_states_the_defaults() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/node.toml");
        let c = NodeConfig::load(Path::new(path)).unwrap();
        c.validate().unwrap();
        let d = NodeConfig::default();
        assert_eq!(c.inspection, d.inspection);
        assert_eq!(c.timeouts, d.timeouts);
        assert_eq!(c.overload, d.overload);
        assert_eq!(c.max_connections, d.max_connections);
        assert_eq!(c.limits, d.limits);
        assert_eq!(c.policy, d.policy);
        assert_eq!(c.rules, d.rules);
        assert_eq!(c.telemetry, d.telemetry);
        assert_eq!(c.cloud, d.cloud);
    }

    #[test]
    fn cidr_matching() {
        let c = Cidr::parse("10.0.0.0/8").unwrap();
        assert!(c.contains("10.2.3.4".parse().unwrap()));
        assert!(!c.contains("11.0.0.1".parse().unwrap()));
        assert!(c.contains("::ffff:10.0.0.1".parse().unwrap()));
        assert!(Cidr::parse("::1").unwrap().contains("::1".parse().unwrap()));
        assert!(Cidr::parse("10.0.0.0/33").is_none());
    }

    #[test]
    fn a_full_file_parses_and_bad_values_are_all_reported() {
        let c: NodeConfig = toml::from_str(
            r#"
listen = "127.0.0.1:18080"
upstream = "http://127.0.0.1:18081"
admin_listen = "127.0.0.1:19090"
mode = "monitor"
trusted_proxies = ["127.0.0.1", "10.0.0.0/8"]
[overload]
max_in_flight = 2
policy = "shed"
[inspection]
body_limit = 65536
over_limit = "block"
[limits]
max_depth = 6
[policy]
block_status = 406
"#,
        )
        .unwrap();
        c.validate().unwrap();
        assert_eq!(c.inspection.over_limit, OverLimit::Block);
        assert_eq!(c.overload.policy, OverloadPolicy::Shed);
        assert_eq!(c.overload.limit(), 2);
        assert_eq!(c.overload.retry_after_s, 1);
        assert_eq!(c.engine().unwrap().limits.max_depth, 6);
        let bad = NodeConfig {
            upstream: "ftp://x".into(),
            trusted_proxies: vec!["nope".into()],
            mode: "loud".into(),
            overload: Overload {
                queue_ms: 0,
                retry_after_s: 0,
                ..Overload::default()
            },
            ..NodeConfig::default()
        };
        let e = bad.validate().unwrap_err().to_string();
        assert!(
            e.contains("upstream")
                && e.contains("nope")
                && e.contains("loud")
                && e.contains("overload.queue_ms")
                && e.contains("overload.retry_after_s"),
            "{e}"
        );
        assert!(Overload::default().limit() >= Overload::PER_CPU);
    }
}
