//! Counters over time windows, and rate-limit bans. Time is passed in
//! (milliseconds on any monotonic clock) so evaluation is deterministic.

use std::collections::{HashMap, VecDeque};

/// True when an event at `t` is inside the window `(now - window, now]`.
fn live(t: u64, window_ms: u64, now_ms: u64) -> bool {
    match now_ms.checked_sub(window_ms) {
        Some(floor) => t > floor,
        None => true,
    }
}

/// Where `count`, `distinct` and `rate_limit` keep their state.
pub trait CounterStore {
    /// Records one event for `key` at `now` and returns the number of
    /// events in the window `(now - window, now]`, this one included.
    fn hit(&mut self, key: &[u8], window_ms: u64, now_ms: u64) -> u64;

    /// Records `value` for `key` at `now` and returns the number of
    /// distinct values seen for `key` in the window, this one included.
    fn distinct(&mut self, key: &[u8], value: &[u8], window_ms: u64, now_ms: u64) -> u64;

    /// Bans `key` until `until_ms`.
    fn ban(&mut self, key: &[u8], until_ms: u64);

    /// True while `key` is banned.
    fn banned(&mut self, key: &[u8], now_ms: u64) -> bool;
}

/// An exact sliding-window store in memory, bounded: at most `max_keys`
/// keys per kind and `max_events` events (or distinct values) per key; a
/// key over its bound keeps its most recent events.
#[derive(Debug)]
pub struct MemoryCounters {
    hits: HashMap<Vec<u8>, VecDeque<u64>>,
    values: HashMap<Vec<u8>, HashMap<Vec<u8>, u64>>,
    bans: HashMap<Vec<u8>, u64>,
    max_keys: usize,
    max_events: usize,
}

impl Default for MemoryCounters {
    fn default() -> Self {
        MemoryCounters::new(100_000, 10_000)
    }
}

impl MemoryCounters {
    pub fn new(max_keys: usize, max_events: usize) -> MemoryCounters {
        MemoryCounters {
            hits: HashMap::new(),
            values: HashMap::new(),
            bans: HashMap::new(),
            max_keys: max_keys.max(1),
            max_events: max_events.max(1),
        }
    }

    /// The bound on keys per kind.
    pub fn max_keys(&self) -> usize {
        self.max_keys
    }

    /// The bound on events (or distinct values) per key.
    pub fn max_events(&self) -> usize {
        self.max_events
    }

    /// Number of keys held (all kinds).
    pub fn len(&self) -> usize {
        self.hits.len() + self.values.len() + self.bans.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Drops what no window of at most `max_window_ms` can see any more.
    pub fn sweep(&mut self, now_ms: u64, max_window_ms: u64) {
        self.hits
            .retain(|_, q| q.back().is_some_and(|&t| live(t, max_window_ms, now_ms)));
        self.values.retain(|_, m| {
            m.retain(|_, &mut t| live(t, max_window_ms, now_ms));
            !m.is_empty()
        });
        self.bans.retain(|_, &mut until| until > now_ms);
    }
}

impl CounterStore for MemoryCounters {
    fn hit(&mut self, key: &[u8], window_ms: u64, now_ms: u64) -> u64 {
        if !self.hits.contains_key(key) && self.hits.len() >= self.max_keys {
            self.hits
                .retain(|_, q| q.back().is_some_and(|&t| live(t, window_ms, now_ms)));
            if self.hits.len() >= self.max_keys {
                return 1;
            }
        }
        let q = self.hits.entry(key.to_vec()).or_default();
        while q.front().is_some_and(|&t| !live(t, window_ms, now_ms)) {
            q.pop_front();
        }
        if q.len() >= self.max_events {
            q.pop_front();
        }
        q.push_back(now_ms);
        q.len() as u64
    }

    fn distinct(&mut self, key: &[u8], value: &[u8], window_ms: u64, now_ms: u64) -> u64 {
        if !self.values.contains_key(key) && self.values.len() >= self.max_keys {
            self.values
                .retain(|_, m| m.values().any(|&t| live(t, window_ms, now_ms)));
            if self.values.len() >= self.max_keys {
                return 1;
            }
        }
        let m = self.values.entry(key.to_vec()).or_default();
        m.retain(|_, &mut t| live(t, window_ms, now_ms));
        if !m.contains_key(value) && m.len() >= self.max_events {
            if let Some(oldest) = m.iter().min_by_key(|(_, &t)| t).map(|(k, _)| k.clone()) {
                m.remove(&oldest);
            }
        }
        m.insert(value.to_vec(), now_ms);
        m.len() as u64
    }

    fn ban(&mut self, key: &[u8], until_ms: u64) {
        if self.bans.len() >= self.max_keys && !self.bans.contains_key(key) {
            return;
        }
        let e = self.bans.entry(key.to_vec()).or_insert(0);
        *e = (*e).max(until_ms);
    }

    fn banned(&mut self, key: &[u8], now_ms: u64) -> bool {
        match self.bans.get(key) {
            Some(&until) if until > now_ms => true,
            Some(_) => {
                self.bans.remove(key);
                false
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sliding_window() {
        let mut c = MemoryCounters::default();
        assert_eq!(c.hit(b"k", 1000, 0), 1);
        assert_eq!(c.hit(b"k", 1000, 500), 2);
        assert_eq!(c.hit(b"k", 1000, 1000), 2); // the event at 0 left the window
        assert_eq!(c.hit(b"k", 1000, 2600), 1);
        assert_eq!(c.distinct(b"d", b"a", 1000, 0), 1);
        assert_eq!(c.distinct(b"d", b"a", 1000, 10), 1);
        assert_eq!(c.distinct(b"d", b"b", 1000, 20), 2);
        assert_eq!(c.distinct(b"d", b"c", 1000, 1015), 2);
        c.ban(b"x", 100);
        assert!(c.banned(b"x", 99));
        assert!(!c.banned(b"x", 100));
        c.sweep(5000, 1000);
        assert!(c.is_empty());
    }

    #[test]
    fn bounded() {
        let mut c = MemoryCounters::new(2, 3);
        for t in 0..10 {
            c.hit(b"a", 100_000, t);
        }
        assert_eq!(c.hit(b"a", 100_000, 11), 3);
        c.hit(b"b", 100_000, 0);
        assert_eq!(c.hit(b"c", 100_000, 0), 1);
        assert_eq!(c.hits.len(), 2);
    }
}
