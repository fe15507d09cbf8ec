//! Everything a Rampart plugin author depends on.
//!
//! - [`Decoder`]: turns bytes into child request points through an
//!   [`Emitter`], inside the request's decoding budget.
//! - [`Detector`]: looks at one value and reports [`Finding`]s.
//! - [`Registry`]: one per extension kind, refuses duplicate names and
//!   records where each plugin came from.
//!
//! A decoder is written once and serves both as a structural decoder for a
//! declared content type (`application/json` bodies) and as a transparent
//! layer tried on string values that look like its format. See the crates
//! under `plugins/` for complete examples.

pub mod abi;
mod decoder;
mod detector;
mod emitter;
#[doc(hidden)]
pub mod export;
mod registry;
#[cfg(feature = "testing")]
pub mod testing;
pub mod text;

pub use decoder::{DecodeCtx, DecodeError, Decoder};
pub use detector::{member_name, DetectCtx, Detector};
pub use emitter::{DecodeState, Emitter, Key};
pub use registry::{
    DecoderFactory, DetectorFactory, Entry, Origin, PluginConfig, PluginError, PluginInfo,
    Registry, RegistryError,
};

pub use rampart_types as types;
pub use rampart_types::{
    Class, Exhausted, Finding, LimitKind, Limits, NodeId, NodeKind, Seg, Source, Span, Tree,
};
