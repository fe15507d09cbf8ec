use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use crate::decoder::Decoder;
use crate::detector::Detector;

/// Name, version and a one-line description of a plugin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PluginInfo {
    pub name: &'static str,
    pub version: &'static str,
    pub description: &'static str,
}

/// Plugin configuration: string keys and values from the node's
/// configuration (`[plugin.NAME]` in node.toml).
pub type PluginConfig = BTreeMap<String, String>;

/// A plugin could not be built or failed at run time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginError(pub String);

impl fmt::Display for PluginError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PluginError {}

/// Builds a decoder from its configuration (once, at start-up).
pub type DecoderFactory =
    Arc<dyn Fn(&PluginConfig) -> Result<Arc<dyn Decoder>, PluginError> + Send + Sync>;
/// Builds a detector from its configuration (once, at start-up).
pub type DetectorFactory =
    Arc<dyn Fn(&PluginConfig) -> Result<Arc<dyn Detector>, PluginError> + Send + Sync>;

/// Where a plugin came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// Linked into the binary.
    Builtin,
    /// Loaded from a shared library.
    Library(PathBuf),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Builtin => f.write_str("builtin"),
            Origin::Library(p) => write!(f, "{}", p.display()),
        }
    }
}

/// A registration was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegistryError {
    Duplicate {
        kind: &'static str,
        name: String,
        existing: Origin,
        new: Origin,
    },
}

impl fmt::Display for RegistryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RegistryError::Duplicate {
                kind,
                name,
                existing,
                new,
            } => write!(
                f,
                "{kind} plugin {name:?} from {new} refused: a {kind} of that name is already registered from {existing}"
            ),
        }
    }
}

impl std::error::Error for RegistryError {}

/// One registered plugin.
#[derive(Clone)]
pub struct Entry<F> {
    pub info: PluginInfo,
    pub origin: Origin,
    pub factory: F,
}

impl<F> fmt::Debug for Entry<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Entry")
            .field("info", &self.info)
            .field("origin", &self.origin)
            .finish()
    }
}

/// The plugins known to a node: one list per extension kind, names unique
/// within a kind, registration order kept (it is the order decoders are tried).
#[derive(Debug, Default, Clone)]
pub struct Registry {
    decoders: Vec<Entry<DecoderFactory>>,
    detectors: Vec<Entry<DetectorFactory>>,
}

impl Registry {
    pub fn new() -> Registry {
        Registry::default()
    }

    pub fn register_decoder(
        &mut self,
        info: PluginInfo,
        origin: Origin,
        factory: DecoderFactory,
    ) -> Result<(), RegistryError> {
        check_unique("decoder", &self.decoders, &info, &origin)?;
        self.decoders.push(Entry {
            info,
            origin,
            factory,
        });
        Ok(())
    }

    pub fn register_detector(
        &mut self,
        info: PluginInfo,
        origin: Origin,
        factory: DetectorFactory,
    ) -> Result<(), RegistryError> {
        check_unique("detector", &self.detectors, &info, &origin)?;
        self.detectors.push(Entry {
            info,
            origin,
            factory,
        });
        Ok(())
    }

    /// Registers a decoder that needs no configuration.
    pub fn add_decoder<D: Decoder + Clone>(
        &mut self,
        d: D,
        origin: Origin,
    ) -> Result<(), RegistryError> {
        let info = d.info();
        self.register_decoder(
            info,
            origin,
            Arc::new(move |cfg| {
                let mut d = d.clone();
                d.configure(cfg)?;
                Ok(Arc::new(d))
            }),
        )
    }

    /// Registers a detector that needs no configuration.
    pub fn add_detector<D: Detector + Clone>(
        &mut self,
        d: D,
        origin: Origin,
    ) -> Result<(), RegistryError> {
        let info = d.info();
        self.register_detector(
            info,
            origin,
            Arc::new(move |cfg| {
                let mut d = d.clone();
                d.configure(cfg)?;
                Ok(Arc::new(d))
            }),
        )
    }

    pub fn decoders(&self) -> &[Entry<DecoderFactory>] {
        &self.decoders
    }

    pub fn detectors(&self) -> &[Entry<DetectorFactory>] {
        &self.detectors
    }
}

fn check_unique<F>(
    kind: &'static str,
    list: &[Entry<F>],
    info: &PluginInfo,
    origin: &Origin,
) -> Result<(), RegistryError> {
    match list.iter().find(|e| e.info.name == info.name) {
        Some(e) => Err(RegistryError::Duplicate {
            kind,
            name: info.name.to_string(),
            existing: e.origin.clone(),
            new: origin.clone(),
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DecodeCtx, DecodeError, Emitter};

    #[derive(Clone)]
    struct Nop;
    impl Decoder for Nop {
        fn info(&self) -> PluginInfo {
            PluginInfo {
                name: "nop",
                version: "1",
                description: "does nothing",
            }
        }
        fn layer(&self) -> &'static str {
            "nop"
        }
        fn decode(
            &self,
            _: &[u8],
            _: &DecodeCtx<'_>,
            _: &mut Emitter<'_>,
        ) -> Result<(), DecodeError> {
            Ok(())
        }
    }

    #[test]
    fn duplicate_names_are_refused_with_both_origins() {
        let mut r = Registry::new();
        r.add_decoder(Nop, Origin::Builtin).unwrap();
        let err = r
            .add_decoder(Nop, Origin::Library("/tmp/libnop.so".into()))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "decoder plugin \"nop\" from /tmp/libnop.so refused: a decoder of that name is already registered from builtin"
        );
        assert_eq!(r.decoders().len(), 1);
    }
}
