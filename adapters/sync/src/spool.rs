//! The bounded on-disk spool of batches waiting for the cloud
//! (`spec/node-protocol.md` section 3): one file per batch, named by its
//! sequence number, gzip-compressed JSON, written to a temporary name and
//! renamed so that a crash never leaves half a batch.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use flate2::write::GzEncoder;
use flate2::Compression;
use rampart_telemetry::Batch;

/// A folder of pending batches, at most `max_bytes` in all.
#[derive(Debug)]
pub struct Spool {
    dir: PathBuf,
    max_bytes: u64,
    dropped: u64,
}

const EXT: &str = "batch.gz";
/// The highest sequence number ever spooled: a node restarting with an
/// empty spool (everything delivered) must not number batches the cloud
/// has already taken, which it would discard as retries.
const HIGH_WATER: &str = "last-seq";

fn seq_of(p: &Path) -> Option<u64> {
    let name = p.file_name()?.to_str()?;
    name.strip_suffix(&format!(".{EXT}"))?.parse().ok()
}

impl Spool {
    /// Opens (creating) the spool folder.
    pub fn open(dir: &Path, max_bytes: u64) -> std::io::Result<Spool> {
        std::fs::create_dir_all(dir)?;
        Ok(Spool {
            dir: dir.to_path_buf(),
            max_bytes,
            dropped: 0,
        })
    }

    /// The pending batches, oldest first, with their sizes.
    pub fn pending(&self) -> std::io::Result<Vec<(u64, PathBuf, u64)>> {
        let mut out = Vec::new();
        for e in std::fs::read_dir(&self.dir)? {
            let p = e?.path();
            if let Some(seq) = seq_of(&p) {
                let len = std::fs::metadata(&p).map(|m| m.len()).unwrap_or(0);
                out.push((seq, p, len));
            }
        }
        out.sort_by_key(|(s, _, _)| *s);
        Ok(out)
    }

    /// The highest sequence number ever spooled here, delivered or not (a
    /// restarting node goes on after it).
    pub fn max_seq(&self) -> u64 {
        let pending = self
            .pending()
            .ok()
            .and_then(|p| p.last().map(|(s, _, _)| *s))
            .unwrap_or(0);
        let written = std::fs::read_to_string(self.dir.join(HIGH_WATER))
            .ok()
            .and_then(|t| t.trim().parse::<u64>().ok())
            .unwrap_or(0);
        pending.max(written)
    }

    /// Batches removed to make room, since the spool was opened.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Writes a batch; when it does not fit, the oldest batches go (and
    /// are counted as dropped). A batch larger than the whole spool is
    /// dropped itself.
    pub fn push(&mut self, batch: &Batch) -> std::io::Result<()> {
        let json = serde_json::to_vec(batch)?;
        let mut gz = GzEncoder::new(Vec::new(), Compression::fast());
        gz.write_all(&json)?;
        let bytes = gz.finish()?;
        let size = bytes.len() as u64;
        if size > self.max_bytes {
            self.dropped += 1;
            tracing::warn!(
                seq = batch.seq,
                size,
                max = self.max_bytes,
                "batch larger than the whole spool: dropped"
            );
            return Ok(());
        }
        let pending = self.pending()?;
        let mut used: u64 = pending.iter().map(|(_, _, l)| l).sum();
        for (seq, path, len) in &pending {
            if used + size <= self.max_bytes {
                break;
            }
            std::fs::remove_file(path)?;
            used -= len;
            self.dropped += 1;
            tracing::warn!(
                seq,
                "spool full: the oldest batch was dropped (the cloud has been unreachable)"
            );
        }
        let tmp = self.dir.join(format!(".{}.tmp", batch.seq));
        let dst = self.dir.join(format!("{:020}.{EXT}", batch.seq));
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(&bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, &dst)?;
        let mark = self.dir.join(format!(".{HIGH_WATER}.tmp"));
        std::fs::write(&mark, batch.seq.to_string())?;
        std::fs::rename(&mark, self.dir.join(HIGH_WATER))
    }

    /// The compressed bytes of a pending batch.
    pub fn read(&self, path: &Path) -> std::io::Result<Vec<u8>> {
        std::fs::read(path)
    }

    /// Removes a batch the cloud accepted.
    pub fn remove(&self, path: &Path) -> std::io::Result<()> {
        match std::fs::remove_file(path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::disallowed_methods)]
mod tests {
    use super::*;

    fn batch(seq: u64, pad: usize) -> Batch {
        Batch {
            version: 1,
            seq,
            requests: 1,
            attacks: (0..pad)
                .map(|i| rampart_telemetry::AttackEvent {
                    // Incompressible-ish text so sizes grow with `pad`.
                    request_id: format!(
                        "{:x}",
                        (i as u64 + seq).wrapping_mul(0x9e37_79b9_7f4a_7c15)
                    ),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn batches_come_back_in_order_and_the_oldest_go_when_full() {
        let dir = std::env::temp_dir().join(format!("rampart-spool-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mut s = Spool::open(&dir, 20_000).unwrap();
        for seq in 1..=3 {
            s.push(&batch(seq, 10)).unwrap();
        }
        let p = s.pending().unwrap();
        assert_eq!(p.iter().map(|x| x.0).collect::<Vec<_>>(), [1, 2, 3]);
        assert_eq!(s.max_seq(), 3);
        // Readable back.
        let bytes = s.read(&p[0].1).unwrap();
        let mut d = flate2::read::GzDecoder::new(&bytes[..]);
        let mut json = Vec::new();
        std::io::Read::read_to_end(&mut d, &mut json).unwrap();
        let b: Batch = serde_json::from_slice(&json).unwrap();
        assert_eq!(b.seq, 1);
        // Big batches push the old ones out.
        for seq in 4..=40 {
            s.push(&batch(seq, 200)).unwrap();
        }
        let p = s.pending().unwrap();
        assert!(s.dropped() > 0);
        assert_eq!(p.last().unwrap().0, 40);
        assert!(p.iter().map(|x| x.2).sum::<u64>() <= 20_000);
        s.remove(&p[0].1).unwrap();
        assert_eq!(s.pending().unwrap().len(), p.len() - 1);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn numbering_goes_on_after_everything_was_delivered() {
        let dir = std::env::temp_dir().join(format!("rampart-spool-hw-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let s = {
            let mut s = Spool::open(&dir, 1 << 20).unwrap();
            for seq in 1..=5 {
                s.push(&batch(seq, 1)).unwrap();
            }
            for (_, p, _) in s.pending().unwrap() {
                s.remove(&p).unwrap();
            }
            s
        };
        assert!(s.pending().unwrap().is_empty());
        drop(s);
        // A restart with an empty spool: the next batch is 6, not 1 (the
        // cloud would discard 1..=5 again as retries).
        let s = Spool::open(&dir, 1 << 20).unwrap();
        assert_eq!(s.max_seq(), 5);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
