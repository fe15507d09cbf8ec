use std::borrow::Cow;
use std::fmt;

use rampart_types::{Exhausted, LimitKind, Source};

use crate::emitter::Emitter;
use crate::registry::{PluginConfig, PluginError, PluginInfo};

/// What a decoder knows about the value it is asked to decode.
#[derive(Debug, Clone, Copy)]
pub struct DecodeCtx<'a> {
    /// True when the format was declared (a `Content-Type`, a multipart part
    /// header, the query string itself); false when the engine is trying the
    /// decoder speculatively on a string that looked like its format.
    pub declared: bool,
    /// The full declared media type with parameters
    /// (`multipart/form-data; boundary=x`), when there is one.
    pub media_type: Option<&'a [u8]>,
    /// The source the value descends from.
    pub source: Option<Source>,
}

/// Why decoding stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// The value is not in this decoder's format at all. For a speculative
    /// decoding the engine discards everything emitted, silently.
    NotThisFormat,
    /// The value is in this format but broken (truncated JSON, a multipart
    /// body without its final boundary). What was emitted before the error
    /// is kept when the format was declared, and the engine records an
    /// `anomaly` finding with this rule and message.
    Malformed {
        rule: &'static str,
        message: Cow<'static, str>,
        offset: usize,
    },
    /// A budget ran out; the engine records a `limit-exceeded` finding.
    Exhausted(LimitKind),
    /// The plugin itself failed (a dynamically loaded decoder that panicked
    /// inside its library). The engine discards the output and records a
    /// `plugin-error` finding, as for a panic.
    PluginFailed(Cow<'static, str>),
}

impl DecodeError {
    pub fn malformed(
        rule: &'static str,
        message: impl Into<Cow<'static, str>>,
        offset: usize,
    ) -> Self {
        DecodeError::Malformed {
            rule,
            message: message.into(),
            offset,
        }
    }
}

impl From<Exhausted> for DecodeError {
    fn from(e: Exhausted) -> Self {
        DecodeError::Exhausted(e.0)
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::NotThisFormat => f.write_str("not in this format"),
            DecodeError::Malformed {
                rule,
                message,
                offset,
            } => {
                write!(f, "{rule}: {message} (at byte {offset})")
            }
            DecodeError::Exhausted(k) => write!(f, "decoding budget exhausted: {}", k.as_str()),
            DecodeError::PluginFailed(m) => write!(f, "plugin failed: {m}"),
        }
    }
}

impl std::error::Error for DecodeError {}

/// A decoder: bytes in, child request points out.
///
/// Implementations must be total: any input, however hostile, returns
/// (`Ok` or an error) in time bounded by the input size and the budget, and
/// never panics. Nesting must be handled without recursion on the call
/// stack, or with recursion bounded by [`Emitter::limits`]`().max_nesting`.
pub trait Decoder: Send + Sync + 'static {
    /// Name and version of the plugin.
    fn info(&self) -> PluginInfo;

    /// Applies the plugin's configuration (`[plugin.NAME]` of node.toml)
    /// once, before the first call. The default accepts only an empty one.
    fn configure(&mut self, config: &PluginConfig) -> Result<(), PluginError> {
        match config.keys().next() {
            None => Ok(()),
            Some(k) => Err(PluginError(format!(
                "{}: unknown setting {k:?}",
                self.info().name
            ))),
        }
    }

    /// The layer name this decoder adds to a path (`json` in `body:json.a`).
    fn layer(&self) -> &'static str;

    /// Media types this decoder handles when they are declared: full types
    /// (`application/json`) or structured-syntax suffixes (`+json`).
    fn media_types(&self) -> &'static [&'static str] {
        &[]
    }

    /// A cheap plausibility test for undeclared values (a query parameter
    /// that may hold base64 or JSON). `false` means the engine never tries
    /// this decoder on the value. The default never tries.
    fn sniff(&self, _value: &[u8]) -> bool {
        false
    }

    /// Decodes `input`, emitting children under [`Emitter::root`].
    fn decode(
        &self,
        input: &[u8],
        ctx: &DecodeCtx<'_>,
        out: &mut Emitter<'_>,
    ) -> Result<(), DecodeError>;
}
