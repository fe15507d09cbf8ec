use std::fmt;
use std::time::Duration;

/// The decoding budget of one request. Every decoder works inside it; the
/// first limit reached stops decoding of that part and is recorded as a
/// `limit-exceeded` finding. Defaults are safe for production traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Maximum number of decoding layers on one path (base64 inside JSON
    /// inside multipart is three).
    pub max_depth: u16,
    /// Maximum structural nesting inside one document (JSON arrays and
    /// objects, XML elements).
    pub max_nesting: u16,
    /// Maximum number of points in the tree.
    pub max_nodes: u32,
    /// Maximum bytes held by the tree (keys and decoded values), absolute.
    pub max_bytes: u32,
    /// Maximum bytes held by the tree as a multiple of the raw request size:
    /// caps the expansion of compressed or encoded input.
    pub max_expansion: u32,
    /// Maximum wall time spent decoding one request.
    pub max_time: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 8,
            max_nesting: 64,
            max_nodes: 10_000,
            max_bytes: 8 << 20,
            max_expansion: 16,
            max_time: Duration::from_millis(50),
        }
    }
}

impl Limits {
    /// The byte cap for a request whose raw size is `raw_len`: the smaller of
    /// the absolute cap and `max_expansion` times the raw size (with a floor
    /// of 64 KiB so tiny requests may still hold a small decoded document).
    pub fn byte_cap(&self, raw_len: usize) -> usize {
        let scaled = raw_len
            .saturating_mul(self.max_expansion as usize)
            .max(64 << 10);
        scaled.min(self.max_bytes as usize)
    }
}

/// Which limit was reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LimitKind {
    Depth,
    Nesting,
    Nodes,
    Bytes,
    Time,
}

impl LimitKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LimitKind::Depth => "depth",
            LimitKind::Nesting => "nesting",
            LimitKind::Nodes => "nodes",
            LimitKind::Bytes => "bytes",
            LimitKind::Time => "time",
        }
    }
}

/// A budget was exhausted. Returned by every emit call once it happens; a
/// decoder stops and returns it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exhausted(pub LimitKind);

impl fmt::Display for Exhausted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "decoding budget exhausted: {}", self.0.as_str())
    }
}

impl std::error::Error for Exhausted {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_cap_scales_with_input_and_is_bounded() {
        let l = Limits::default();
        assert_eq!(l.byte_cap(10), 64 << 10);
        assert_eq!(l.byte_cap(100_000), 1_600_000);
        assert_eq!(l.byte_cap(100 << 20), 8 << 20);
    }
}
