//! The cloud's error type.

/// Result of the cloud's functions.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What can go wrong when starting the cloud or in an operator call.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The configuration is not valid.
    #[error("configuration: {0}")]
    Config(String),
    /// The database refused or failed.
    #[error(transparent)]
    Store(#[from] rampart_store::Error),
    /// A file or socket operation failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The pack signing key could not be read or created.
    #[error("pack signing key: {0}")]
    Key(String),
    /// No application has this name.
    #[error("no application is named {0:?}")]
    UnknownApplication(String),
    /// An argument was refused.
    #[error("invalid {0}")]
    Invalid(String),
    /// A rule does not compile (alone, or with the application's other
    /// rules); `diagnostics` are rendered like the compiler's.
    #[error("rule {rule:?} is refused: {summary}\n{diagnostics}")]
    Rule {
        /// The rule id.
        rule: String,
        /// One line: why.
        summary: String,
        /// The compiler's diagnostics, rendered.
        diagnostics: String,
    },
}
