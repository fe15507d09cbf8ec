//! Mergeable summaries: log-scale histograms and HyperLogLog distinct
//! counters over keyed hashes. Both merge by addition or maximum, so the
//! cloud can combine windows and nodes in any order.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Buckets of a [`LogHistogram`]: bucket 0 holds 0, bucket `i` holds
/// `2^(i-1) ..= 2^i - 1`, the last one everything above.
pub const LOG_BUCKETS: usize = 24;

/// Counts of values in power-of-two buckets.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogHistogram {
    /// Counts per bucket; trailing empty buckets are left out.
    pub buckets: Vec<u64>,
}

impl LogHistogram {
    /// The bucket of `v`.
    pub fn bucket(v: u64) -> usize {
        ((64 - v.leading_zeros()) as usize).min(LOG_BUCKETS - 1)
    }

    pub fn add(&mut self, v: u64) {
        let b = Self::bucket(v);
        if self.buckets.len() <= b {
            self.buckets.resize(b + 1, 0);
        }
        self.buckets[b] += 1;
    }

    pub fn merge(&mut self, other: &LogHistogram) {
        if self.buckets.len() < other.buckets.len() {
            self.buckets.resize(other.buckets.len(), 0);
        }
        for (a, b) in self.buckets.iter_mut().zip(&other.buckets) {
            *a += b;
        }
    }

    pub fn count(&self) -> u64 {
        self.buckets.iter().sum()
    }
}

/// Registers of a [`Distinct`] sketch: 2^8 (a standard error of 6.5%).
const P: u32 = 8;
const M: usize = 1 << P;

/// A HyperLogLog distinct counter. What goes in is a keyed hash, and what
/// is kept is, per register, the longest run of zero bits seen: no value
/// can be read back from it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Distinct {
    /// The registers in hex, two digits each (empty: no value yet).
    #[serde(with = "hex_registers")]
    pub registers: Vec<u8>,
}

impl Distinct {
    /// Adds a value already hashed with the node's key ([`keyed_hash`]).
    pub fn add_hash(&mut self, h: u64) {
        if self.registers.is_empty() {
            self.registers = vec![0; M];
        }
        let idx = (h >> (64 - P)) as usize;
        let rest = (h << P) | (1 << (P - 1));
        let rank = (rest.leading_zeros() + 1) as u8;
        if rank > self.registers[idx] {
            self.registers[idx] = rank;
        }
    }

    pub fn merge(&mut self, other: &Distinct) {
        if other.registers.is_empty() {
            return;
        }
        if self.registers.is_empty() {
            self.registers = vec![0; M];
        }
        for (a, &b) in self.registers.iter_mut().zip(&other.registers) {
            *a = (*a).max(b);
        }
    }

    /// The estimated number of distinct values.
    pub fn estimate(&self) -> f64 {
        if self.registers.is_empty() {
            return 0.0;
        }
        let m = M as f64;
        let alpha = 0.7213 / (1.0 + 1.079 / m);
        let sum: f64 = self
            .registers
            .iter()
            .map(|&r| 2f64.powi(-i32::from(r)))
            .sum();
        let raw = alpha * m * m / sum;
        let zeros = self.registers.iter().filter(|&&r| r == 0).count();
        if raw <= 2.5 * m && zeros > 0 {
            m * (m / zeros as f64).ln()
        } else {
            raw
        }
    }
}

/// SHA-256 of the node's secret salt and `v`, first 8 bytes: values are
/// hashed before they touch a sketch, so a sketch can be compared across
/// windows (and across nodes sharing the salt) but not reversed by
/// someone without the salt.
pub fn keyed_hash(salt: &[u8], domain: &[u8], v: &[u8]) -> u64 {
    let mut h = Sha256::new();
    h.update(salt);
    h.update([0u8]);
    h.update(domain);
    h.update([0u8]);
    h.update(v);
    let d = h.finalize();
    let mut b = [0u8; 8];
    b.copy_from_slice(&d[..8]);
    u64::from_be_bytes(b)
}

mod hex_registers {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(r: &[u8], s: S) -> Result<S::Ok, S::Error> {
        let mut out = String::with_capacity(r.len() * 2);
        for b in r {
            out.push_str(&format!("{b:02x}"));
        }
        s.serialize_str(&out)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s = String::deserialize(d)?;
        if s.is_empty() {
            return Ok(Vec::new());
        }
        if s.len() != super::M * 2 {
            return Err(serde::de::Error::custom(
                "a distinct sketch has 256 registers",
            ));
        }
        (0..s.len())
            .step_by(2)
            .map(|i| {
                u8::from_str_radix(&s[i..i + 2], 16)
                    .map_err(|_| serde::de::Error::custom("registers are hex digits"))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_and_merge() {
        let mut h = LogHistogram::default();
        for v in [0, 1, 2, 3, 4, 1000] {
            h.add(v);
        }
        assert_eq!(h.buckets[..4], [1, 1, 2, 1]);
        assert_eq!(h.count(), 6);
        let mut g = LogHistogram::default();
        g.add(u64::MAX);
        h.merge(&g);
        assert_eq!(h.count(), 7);
        assert_eq!(h.buckets.len(), LOG_BUCKETS);
    }

    #[test]
    fn distinct_estimates_within_its_error_and_merges() {
        let salt = b"s";
        for n in [10u32, 1000, 20_000] {
            let mut d = Distinct::default();
            for i in 0..n {
                d.add_hash(keyed_hash(salt, b"t", &i.to_be_bytes()));
                d.add_hash(keyed_hash(salt, b"t", &i.to_be_bytes()));
            }
            let e = d.estimate();
            let err = (e - f64::from(n)).abs() / f64::from(n);
            assert!(err < 0.2, "{n}: {e}");
        }
        let (mut a, mut b) = (Distinct::default(), Distinct::default());
        for i in 0..500u32 {
            a.add_hash(keyed_hash(salt, b"t", &i.to_be_bytes()));
            b.add_hash(keyed_hash(salt, b"t", &(i + 250).to_be_bytes()));
        }
        a.merge(&b);
        let e = a.estimate();
        assert!((e - 750.0).abs() / 750.0 < 0.2, "{e}");
        let json = serde_json::to_string(&a).unwrap();
        let back: Distinct = serde_json::from_str(&json).unwrap();
        assert_eq!(back, a);
    }

    #[test]
    fn the_salt_changes_the_hash() {
        assert_ne!(keyed_hash(b"a", b"d", b"v"), keyed_hash(b"b", b"d", b"v"));
        assert_ne!(keyed_hash(b"a", b"d", b"v"), keyed_hash(b"a", b"e", b"v"));
    }
}
