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

/// A keyed hash: SipHash-2-4 under a 128-bit key derived from the node's
/// secret salt (SHA-256). Values are hashed before they touch a sketch,
/// so a sketch can be compared across windows (and across nodes sharing
/// the salt) but not checked against guessed values by anyone without the
/// salt. SipHash is a pseudo-random function under its key, and fast on
/// the short values of requests.
#[derive(Clone)]
pub struct Keyer {
    k0: u64,
    k1: u64,
}

impl std::fmt::Debug for Keyer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keyer(..)")
    }
}

impl Keyer {
    pub fn new(salt: &[u8]) -> Keyer {
        let d = Sha256::digest(salt);
        let mut a = [0u8; 8];
        let mut b = [0u8; 8];
        a.copy_from_slice(&d[..8]);
        b.copy_from_slice(&d[8..16]);
        Keyer {
            k0: u64::from_le_bytes(a),
            k1: u64::from_le_bytes(b),
        }
    }

    /// The hash of `v` in `domain` (a label that keeps client ids, object
    /// ids and each point's values apart).
    pub fn hash(&self, domain: &[u8], v: &[u8]) -> u64 {
        let mut s = Sip::new(self.k0, self.k1);
        s.write(domain);
        s.write(&[0xff]);
        s.write(v);
        s.finish()
    }
}

/// SipHash-2-4 (Aumasson and Bernstein), streaming.
struct Sip {
    v: [u64; 4],
    tail: u64,
    ntail: usize,
    len: usize,
}

impl Sip {
    fn new(k0: u64, k1: u64) -> Sip {
        Sip {
            v: [
                k0 ^ 0x736f_6d65_7073_6575,
                k1 ^ 0x646f_7261_6e64_6f6d,
                k0 ^ 0x6c79_6765_6e65_7261,
                k1 ^ 0x7465_6462_7974_6573,
            ],
            tail: 0,
            ntail: 0,
            len: 0,
        }
    }

    fn round(v: &mut [u64; 4]) {
        v[0] = v[0].wrapping_add(v[1]);
        v[1] = v[1].rotate_left(13) ^ v[0];
        v[0] = v[0].rotate_left(32);
        v[2] = v[2].wrapping_add(v[3]);
        v[3] = v[3].rotate_left(16) ^ v[2];
        v[0] = v[0].wrapping_add(v[3]);
        v[3] = v[3].rotate_left(21) ^ v[0];
        v[2] = v[2].wrapping_add(v[1]);
        v[1] = v[1].rotate_left(17) ^ v[2];
        v[2] = v[2].rotate_left(32);
    }

    fn block(&mut self, m: u64) {
        self.v[3] ^= m;
        Self::round(&mut self.v);
        Self::round(&mut self.v);
        self.v[0] ^= m;
    }

    fn write(&mut self, mut bytes: &[u8]) {
        self.len += bytes.len();
        // Fill a pending partial word first, then whole words, then keep
        // the rest.
        while self.ntail != 0 && !bytes.is_empty() {
            self.tail |= u64::from(bytes[0]) << (8 * self.ntail);
            self.ntail += 1;
            bytes = &bytes[1..];
            if self.ntail == 8 {
                let m = self.tail;
                self.block(m);
                self.tail = 0;
                self.ntail = 0;
            }
        }
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.block(u64::from_le_bytes(w));
        }
        for (i, &b) in chunks.remainder().iter().enumerate() {
            self.tail |= u64::from(b) << (8 * i);
            self.ntail += 1;
        }
    }

    fn finish(mut self) -> u64 {
        let m = self.tail | ((self.len as u64 & 0xff) << 56);
        self.block(m);
        self.v[2] ^= 0xff;
        for _ in 0..4 {
            Self::round(&mut self.v);
        }
        self.v[0] ^ self.v[1] ^ self.v[2] ^ self.v[3]
    }
}

/// [`Keyer::hash`] with a keyer made for one call (tests, one-off uses).
pub fn keyed_hash(salt: &[u8], domain: &[u8], v: &[u8]) -> u64 {
    Keyer::new(salt).hash(domain, v)
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
    fn siphash_matches_the_reference_vectors() {
        // The SipHash paper's test key 00 01 .. 0f and messages 00 01 ..
        // (len) bytes long; expected outputs from its appendix.
        let k0 = u64::from_le_bytes([0, 1, 2, 3, 4, 5, 6, 7]);
        let k1 = u64::from_le_bytes([8, 9, 10, 11, 12, 13, 14, 15]);
        let msg: Vec<u8> = (0..15).collect();
        let hash = |n: usize| {
            let mut s = Sip::new(k0, k1);
            s.write(&msg[..n]);
            s.finish()
        };
        assert_eq!(hash(0), 0x726f_db47_dd0e_0e31);
        assert_eq!(hash(1), 0x74f8_39c5_93dc_67fd);
        assert_eq!(hash(15), 0xa129_ca61_49be_45e5);
    }

    #[test]
    fn the_salt_changes_the_hash() {
        assert_ne!(keyed_hash(b"a", b"d", b"v"), keyed_hash(b"b", b"d", b"v"));
        assert_ne!(keyed_hash(b"a", b"d", b"v"), keyed_hash(b"a", b"e", b"v"));
    }
}
