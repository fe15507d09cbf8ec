use std::fmt;

use crate::finding::Class;

/// Filtration mode of a node or location.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub enum Mode {
    /// Requests whose findings pass the block threshold are refused.
    #[default]
    Block,
    /// Everything is inspected and logged; nothing is refused.
    Monitor,
    /// Nothing is inspected; traffic passes untouched.
    Off,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Block => "block",
            Mode::Monitor => "monitor",
            Mode::Off => "off",
        }
    }

    pub fn parse(s: &str) -> Option<Mode> {
        match s {
            "block" => Some(Mode::Block),
            "monitor" => Some(Mode::Monitor),
            "off" => Some(Mode::Off),
            _ => None,
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the adapter must do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Pass the request; nothing noteworthy.
    Allow,
    /// Pass the request, but it would have been blocked (or it carries
    /// findings worth logging): log it.
    Monitor,
    /// Refuse the request with `Verdict::status`.
    Block,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Allow => "allow",
            Action::Monitor => "monitor",
            Action::Block => "block",
        }
    }
}

/// The engine's decision about one request, as a value the adapter maps to
/// its server's behaviour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub action: Action,
    /// HTTP status to answer with when blocking (403 by default).
    pub status: u16,
    /// The class that decided, when there is one.
    pub class: Option<Class>,
    /// The rule or detector that decided (`limit.depth`, `sqli.union`...).
    pub rule: Option<String>,
    /// The path of the point that decided.
    pub point: Option<String>,
    /// The summed score of the deciding class.
    pub score: u32,
}

impl Verdict {
    pub fn allow() -> Verdict {
        Verdict {
            action: Action::Allow,
            status: 200,
            class: None,
            rule: None,
            point: None,
            score: 0,
        }
    }

    pub fn is_block(&self) -> bool {
        self.action == Action::Block
    }
}
