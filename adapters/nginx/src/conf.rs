//! The module's directives, parsed and merged without touching NGINX
//! memory (the FFI module hands over the arguments as bytes).

use std::path::PathBuf;

use rampart_embed::Mode;

/// `http { rampart_config ...; }`: one per `http` block.
#[derive(Debug, Default)]
pub struct MainConf {
    /// The node.toml every worker's guard is made from.
    pub config: Option<PathBuf>,
}

/// `rampart`, `rampart_mode`, `rampart_body_limit`: set at the `http`,
/// `server` or `location` level, inherited downwards.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct LocConf {
    /// `rampart on|off`; off when never set.
    pub enable: Option<bool>,
    /// `rampart_mode block|monitor`; node.toml's `mode` when never set.
    pub mode: Option<Mode>,
    /// `rampart_body_limit SIZE`; node.toml's `[inspection] body_limit`
    /// when never set.
    pub body_limit: Option<usize>,
}

impl LocConf {
    /// NGINX's merge: what this level set, else what the level above set.
    pub fn merge(&mut self, parent: &LocConf) {
        self.enable = self.enable.or(parent.enable);
        self.mode = self.mode.or(parent.mode);
        self.body_limit = self.body_limit.or(parent.body_limit);
    }

    pub fn enabled(&self) -> bool {
        self.enable == Some(true)
    }

    /// The body limit that applies here: the smaller of node.toml's and
    /// this location's (`rampart_body_limit` only ever lowers it: raising
    /// it would let a location buffer more than the node was sized for).
    pub fn effective_limit(&self, node_limit: usize) -> usize {
        match self.body_limit {
            Some(l) => l.min(node_limit),
            None => node_limit,
        }
    }
}

/// `on` / `off` (NGINX's flag syntax, case-insensitive).
pub fn parse_flag(v: &[u8]) -> Result<bool, &'static str> {
    if v.eq_ignore_ascii_case(b"on") {
        Ok(true)
    } else if v.eq_ignore_ascii_case(b"off") {
        Ok(false)
    } else {
        Err("invalid value: expected \"on\" or \"off\"")
    }
}

/// `block` / `monitor`. (`off` is `rampart off`.)
pub fn parse_mode(v: &[u8]) -> Result<Mode, &'static str> {
    if v.eq_ignore_ascii_case(b"block") {
        Ok(Mode::Block)
    } else if v.eq_ignore_ascii_case(b"monitor") {
        Ok(Mode::Monitor)
    } else {
        Err("invalid value: expected \"block\" or \"monitor\"")
    }
}

/// A size in NGINX's syntax: bytes, or a number with `k`/`K` or `m`/`M`
/// (or `g`/`G`) after it.
pub fn parse_size(v: &[u8]) -> Result<usize, &'static str> {
    const BAD: &str = "invalid size: expected a number of bytes, optionally with k, m or g";
    let (digits, scale) = match v.last() {
        Some(b'k' | b'K') => (&v[..v.len() - 1], 1usize << 10),
        Some(b'm' | b'M') => (&v[..v.len() - 1], 1 << 20),
        Some(b'g' | b'G') => (&v[..v.len() - 1], 1 << 30),
        _ => (v, 1),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Err(BAD);
    }
    let mut n: usize = 0;
    for d in digits {
        n = n
            .checked_mul(10)
            .and_then(|n| n.checked_add(usize::from(d - b'0')))
            .ok_or(BAD)?;
    }
    n.checked_mul(scale).ok_or(BAD)
}

/// Checks a node.toml at configuration time (`nginx -t`, start, reload),
/// in the master: the file parses and validates. Nothing is started here:
/// the guard (and its thread) is made in each worker after the fork.
pub fn check_node_config(path: &std::path::Path) -> Result<(), String> {
    let cfg = rampart_embed::NodeConfig::load(path).map_err(|e| format!("{e:#}"))?;
    cfg.validate()
        .map_err(|e| format!("{}: {e:#}", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_modes_and_sizes_parse() {
        assert_eq!(parse_flag(b"on"), Ok(true));
        assert_eq!(parse_flag(b"OFF"), Ok(false));
        assert!(parse_flag(b"yes").is_err());
        assert_eq!(parse_mode(b"monitor"), Ok(Mode::Monitor));
        assert_eq!(parse_mode(b"Block"), Ok(Mode::Block));
        assert!(parse_mode(b"off").is_err());
        assert_eq!(parse_size(b"100"), Ok(100));
        assert_eq!(parse_size(b"64k"), Ok(65536));
        assert_eq!(parse_size(b"2M"), Ok(2 << 20));
        assert_eq!(parse_size(b"1g"), Ok(1 << 30));
        for bad in [
            &b""[..],
            b"k",
            b"-1",
            b"1.5m",
            b"12x",
            b"99999999999999999999999",
        ] {
            assert!(parse_size(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn settings_are_inherited_and_the_smaller_limit_wins() {
        let http = LocConf {
            enable: Some(true),
            mode: None,
            body_limit: Some(8192),
        };
        let mut loc = LocConf {
            mode: Some(Mode::Monitor),
            ..LocConf::default()
        };
        loc.merge(&http);
        assert!(loc.enabled());
        assert_eq!(loc.mode, Some(Mode::Monitor));
        assert_eq!(loc.effective_limit(65536), 8192);
        assert_eq!(loc.effective_limit(1024), 1024);
        let mut off = LocConf {
            enable: Some(false),
            ..LocConf::default()
        };
        off.merge(&http);
        assert!(!off.enabled());
        assert!(!LocConf::default().enabled());
        assert_eq!(LocConf::default().effective_limit(77), 77);
    }

    #[test]
    fn a_node_config_is_checked_without_starting_anything() {
        let dir = std::env::temp_dir().join(format!("rampart-nginx-conf-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let good = dir.join("good.toml");
        std::fs::write(&good, "mode = \"monitor\"\n").expect("write");
        assert_eq!(check_node_config(&good), Ok(()));
        let bad = dir.join("bad.toml");
        std::fs::write(&bad, "mode = \"sideways\"\n").expect("write");
        let e = check_node_config(&bad).expect_err("refused");
        assert!(e.contains("sideways"), "{e}");
        let e = check_node_config(&dir.join("missing.toml")).expect_err("refused");
        assert!(e.contains("missing.toml"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
