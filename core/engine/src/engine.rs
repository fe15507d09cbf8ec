use std::sync::Arc;

use rampart_plugin_api::text::media_essence;
use rampart_plugin_api::{Decoder, Detector, Origin, PluginConfig, Registry};
use rampart_types::{Class, Mode, Request};

use crate::config::{ConfigError, EngineConfig};
use crate::inspection::Inspection;
use crate::rules::{RuleSet, Rules};

/// The engine could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("plugin {name} ({origin}) could not be built: {message}")]
    Plugin {
        name: String,
        origin: String,
        message: String,
    },
}

/// A decoder instance with what the engine needs to dispatch to it.
pub(crate) struct DecoderSlot {
    pub name: &'static str,
    pub decoder: Arc<dyn Decoder>,
    pub media_types: &'static [&'static str],
}

pub(crate) struct DetectorSlot {
    pub name: &'static str,
    pub detector: Arc<dyn Detector>,
    /// Offered the raw `method` and `uri` leaves: the detectors of the
    /// protocol and scanner classes (attack detectors read their decoded
    /// views, `path` and `query`).
    pub raw_target: bool,
}

/// Decoders the engine applies by name for parts of HTTP itself.
#[derive(Default)]
pub(crate) struct Wellknown {
    pub path: Option<usize>,
    pub form: Option<usize>,
    pub cookie: Option<usize>,
    pub basic: Option<usize>,
    pub bearer: Option<usize>,
    pub gzip: Option<usize>,
    pub deflate: Option<usize>,
}

/// The engine: built once from plugins and configuration, shared by every
/// request (it is `Send + Sync`; `inspect` takes `&self`).
pub struct Engine {
    pub(crate) config: EngineConfig,
    pub(crate) decoders: Vec<DecoderSlot>,
    pub(crate) detectors: Vec<DetectorSlot>,
    pub(crate) wellknown: Wellknown,
    /// Indices of decoders with a plausibility test, in registration order.
    pub(crate) sniffers: Vec<usize>,
    pub(crate) rules: Rules,
    plugins: Vec<(String, &'static str, String, Origin)>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("mode", &self.config.mode)
            .field(
                "decoders",
                &self.decoders.iter().map(|d| d.name).collect::<Vec<_>>(),
            )
            .field(
                "detectors",
                &self.detectors.iter().map(|d| d.name).collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// Layers that are applied only where HTTP declares them, never sniffed on
/// arbitrary values, even if the decoder has a sniff.
const DECLARED_ONLY: &[&str] = &["path", "cookie", "basic", "bearer"];

impl Engine {
    /// Builds every plugin of the registry (except the disabled ones) with
    /// its configuration.
    pub fn new(registry: &Registry, config: EngineConfig) -> Result<Engine, BuildError> {
        config.validate()?;
        // Settings for a plugin that is not there are a typo or a missing
        // library: say so rather than ignore them.
        let unknown: Vec<String> = config
            .plugin
            .keys()
            .filter(|n| {
                !registry
                    .decoders()
                    .iter()
                    .any(|e| e.info.name == n.as_str())
                    && !registry
                        .detectors()
                        .iter()
                        .any(|e| e.info.name == n.as_str())
            })
            .map(|n| format!("[plugin.{n}]: no plugin of that name is loaded"))
            .collect();
        if !unknown.is_empty() {
            return Err(BuildError::Config(ConfigError { problems: unknown }));
        }
        let empty = PluginConfig::new();
        let mut decoders = Vec::new();
        let mut plugins = Vec::new();
        for e in registry.decoders() {
            if config.disabled.iter().any(|d| d == e.info.name) {
                continue;
            }
            let cfg = config.plugin.get(e.info.name).unwrap_or(&empty);
            let decoder = (e.factory)(cfg).map_err(|err| BuildError::Plugin {
                name: e.info.name.to_string(),
                origin: e.origin.to_string(),
                message: err.0,
            })?;
            plugins.push((
                "decoder".to_string(),
                e.info.name,
                e.info.version.to_string(),
                e.origin.clone(),
            ));
            let media_types = decoder.media_types();
            decoders.push(DecoderSlot {
                name: decoder.layer(),
                decoder,
                media_types,
            });
        }
        let mut detectors = Vec::new();
        for e in registry.detectors() {
            if config.disabled.iter().any(|d| d == e.info.name) {
                continue;
            }
            let cfg = config.plugin.get(e.info.name).unwrap_or(&empty);
            let detector = (e.factory)(cfg).map_err(|err| BuildError::Plugin {
                name: e.info.name.to_string(),
                origin: e.origin.to_string(),
                message: err.0,
            })?;
            plugins.push((
                "detector".to_string(),
                e.info.name,
                e.info.version.to_string(),
                e.origin.clone(),
            ));
            let raw_target = detector
                .classes()
                .iter()
                .any(|c| matches!(c, Class::Protocol | Class::Scanner));
            detectors.push(DetectorSlot {
                name: e.info.name,
                detector,
                raw_target,
            });
        }
        let find = |n: &str| decoders.iter().position(|d: &DecoderSlot| d.name == n);
        let wellknown = Wellknown {
            path: find("path"),
            form: find("form"),
            cookie: find("cookie"),
            basic: find("basic"),
            bearer: find("bearer"),
            gzip: find("gzip"),
            deflate: find("deflate"),
        };
        let sniffers = (0..decoders.len())
            .filter(|&i| !DECLARED_ONLY.contains(&decoders[i].name))
            .collect();
        Ok(Engine {
            config,
            decoders,
            detectors,
            wellknown,
            sniffers,
            rules: Rules::default(),
            plugins,
        })
    }

    /// Adds the node's own rules (evaluated before a pack's).
    pub fn with_rules(mut self, rules: RuleSet) -> Engine {
        self.rules.set_local(rules);
        self
    }

    /// Evaluates the pack in `slot` too, whichever is in place when a
    /// request arrives.
    pub fn with_pack_slot(mut self, slot: Arc<rampart_dsl::pack::PackSlot>) -> Engine {
        self.rules.set_slot(slot);
        self
    }

    /// The pack slot, when the engine has one.
    pub fn pack_slot(&self) -> Option<&Arc<rampart_dsl::pack::PackSlot>> {
        self.rules.slot()
    }

    /// The node's own rules, when it has some.
    pub fn local_rules(&self) -> Option<&Arc<RuleSet>> {
        self.rules.local()
    }

    /// True when the rules in place for `ins` have response-phase rules,
    /// so the adapter should call [`Engine::inspect_response`].
    pub fn wants_response(&self, ins: &Inspection) -> bool {
        crate::rules::wants_response(ins)
    }

    /// The response phase: evaluates the response-phase rules of the rule
    /// sets the request was inspected with, given the response's status. A
    /// blocking rule turns the verdict into a block (the adapter then
    /// answers with the block page instead of the response).
    pub fn inspect_response(&self, ins: &mut Inspection, status: u16) {
        if ins.mode == Mode::Off || !crate::rules::wants_response(ins) {
            return;
        }
        let now = self.rules.now_ms();
        self.inspect_response_at(ins, status, now);
    }

    /// [`Engine::inspect_response`] on the caller's clock (see
    /// [`Engine::inspect_at`]).
    pub fn inspect_response_at(&self, ins: &mut Inspection, status: u16, now_ms: u64) {
        if ins.mode == Mode::Off || !crate::rules::wants_response(ins) {
            return;
        }
        crate::rules::response_phase(ins.mode, now_ms, ins, status);
        crate::decide::apply_rule_decision(&self.config, &mut ins.verdict, &ins.rules);
    }

    pub fn mode(&self) -> Mode {
        self.config.mode
    }

    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// `(kind, name, version, origin)` of every plugin in use.
    pub fn plugins(&self) -> impl Iterator<Item = (&str, &str, &str, &Origin)> {
        self.plugins
            .iter()
            .map(|(k, n, v, o)| (k.as_str(), *n, v.as_str(), o))
    }

    /// The decoder for a declared media type: an exact match of the
    /// essence first, then a structured-syntax suffix (`+json`), then a
    /// major type wildcard (`multipart/`).
    pub(crate) fn decoder_for_media(&self, content_type: &[u8]) -> Option<usize> {
        let essence = media_essence(content_type);
        let exact = self.decoders.iter().position(|d| {
            d.media_types
                .iter()
                .any(|m| m.as_bytes() == essence.as_slice())
        });
        if exact.is_some() {
            return exact;
        }
        self.decoders.iter().position(|d| {
            d.media_types.iter().any(|m| {
                (m.starts_with('+') && essence.ends_with(m.as_bytes()))
                    || (m.ends_with('/') && essence.starts_with(m.as_bytes()))
            })
        })
    }

    /// Inspects one request: decode, detect, decide.
    pub fn inspect(&self, req: &Request) -> Inspection {
        let mut ins = Inspection::new();
        self.inspect_into(req, &mut ins);
        ins
    }

    /// Like [`Engine::inspect`], reusing the allocations of `ins`.
    pub fn inspect_into(&self, req: &Request, ins: &mut Inspection) {
        let now = self.rules.now_ms();
        self.inspect_at(req, ins, now);
    }

    /// Like [`Engine::inspect_into`] on the caller's clock: the rules'
    /// counters see `now_ms` (milliseconds on any monotonic clock) instead
    /// of the engine's. For tools that replay traffic with its own timing
    /// (`rampart rules test`); a node uses [`Engine::inspect_into`].
    pub fn inspect_at(&self, req: &Request, ins: &mut Inspection, now_ms: u64) {
        self.inspect_in(req, ins, now_ms, self.config.mode);
    }

    /// Like [`Engine::inspect`] in `mode` instead of the configured one:
    /// an adapter's per-location mode (`rampart_mode monitor` in one NGINX
    /// location of a node in block mode). The response phase of this
    /// inspection follows the same mode.
    pub fn inspect_in_mode(&self, req: &Request, mode: Mode) -> Inspection {
        let mut ins = Inspection::new();
        let now = self.rules.now_ms();
        self.inspect_in(req, &mut ins, now, mode);
        ins
    }

    fn inspect_in(&self, req: &Request, ins: &mut Inspection, now_ms: u64, mode: Mode) {
        ins.reset(self.config.limits.limits(), req);
        ins.mode = mode;
        if mode == Mode::Off {
            return;
        }
        let t0 = std::time::Instant::now();
        crate::decode::decode(self, req, ins);
        ins.take_decode_findings();
        let t1 = std::time::Instant::now();
        crate::detect::detect(self, req, ins);
        crate::rules::request_phase(&self.rules, mode, now_ms, req, ins);
        let t2 = std::time::Instant::now();
        ins.verdict =
            crate::decide::decide(&self.config, mode, &ins.tree, &ins.findings, &ins.rules);
        ins.decode_time = t1 - t0;
        ins.detect_time = t2 - t1;
    }
}
