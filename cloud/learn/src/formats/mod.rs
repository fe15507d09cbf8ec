//! Layer 2 of the learners: the data format of every request parameter,
//! learned from aggregates only.
//!
//! # What it reads
//!
//! A node never sends a parameter's values. For each request point it sends
//! a [`PointStats`]: how many values it saw, a log2 histogram of their
//! lengths, the bytes of each character class summed over all values, one
//! vote per value for the [`Format`] the value looked like
//! ([`rampart_telemetry::shape::format_of`]), and a HyperLogLog estimate of
//! the distinct values. The point's shaped path (`body:json.user.email`) adds
//! its last member name when the node admitted it (a placeholder such as
//! `{word}` otherwise), a hint and nothing more.
//!
//! # Features
//!
//! [`features`] turns one point into [`WIDTH`] numbers, each in about
//! `[0, 1]`:
//!
//! - the share of each character class in all bytes, and the mean bytes of
//!   each class per value (log-scaled: a UUID has exactly four `-`, a JWT two
//!   `.`, an email one `@`);
//! - the shares of the length buckets, the exact mean length (total bytes
//!   over values) and the spread of the buckets;
//! - the share of each format vote, the top vote's share and the votes'
//!   entropy, and the entropy of the character classes;
//! - the distinct/count ratio, the distinct estimate itself (log-scaled and
//!   capped-linear: an enumeration or a boolean has a handful of distinct
//!   values whatever the traffic) and the count;
//! - the last member name's tokens (`avatarUrl` -> `avatar`, `url`, split at
//!   `_`, `-` and case changes; each token and its four-letter prefix hashed
//!   into [`NAME_BUCKETS`] buckets) and whether there is a name at all.
//!
//! Everything is normalised by its own total and bounded, so that counts
//! from an untrusted node that do not add up (votes summing to more than the
//! count, a short `chars` vector) give odd features, never a panic or a NaN.
//!
//! # Knowledge base and training
//!
//! [`kb`] generates points of every [`ParamFormat`] from general knowledge:
//! integers of many ranges (ids, counters, years, unix timestamps, which are
//! integers here, snowflake ids, zero-padded codes, signed offsets),
//! decimals (prices, coordinates, ratios), booleans (`true/false`, `0/1`,
//! `yes/no`, `on/off`, capitalised), enumerations (status and sort sets,
//! currency, country and language codes, generated codes and snake-case
//! members), UUID v1/v4 in either case, hex digests and object ids, base64
//! standard and URL-safe and random tokens, JWTs with real headers, emails of
//! many shapes, absolute, relative and protocol-relative URLs, IPv4 and
//! IPv6, dates and times (ISO 8601, RFC 2822, US and European, times of day),
//! phone numbers (E.164, national with separators), Luhn-valid card numbers
//! with and without separators, person names (first, last, full, with
//! accents), free text (search queries, sentences, comments, titles, other
//! languages and scripts), JSON, XML (with and without prolog, SOAP), HTML
//! fragments and file paths (Unix, Windows, relative, bare file names). The
//! words come from `cloud/learn/kb/formats/lexicon.txt`.
//!
//! Each point is folded into a [`PointStats`] exactly as a node folds values
//! ([`fold`]: the same `format_of`, `char_class`, `LogHistogram::add` and a
//! keyed-hash `Distinct`), with 5 to 2,000 values drawn with repetition from
//! a population whose size depends on the format, a few empty values or
//! outliers now and then, and a typical member name most of the time (a
//! generic one, another format's, or none otherwise, so that the values
//! decide). Ambiguous points, two formats in comparable shares, are added
//! once under each format: the network learns to split its confidence on
//! them instead of being sure of either.
//!
//! The classifier is [`crate::nn::Classifier`], an MLP with one hidden
//! layer, trained with a fixed seed: [`FormatModel::train`] gives the same
//! model on every run.
//!
//! # Network and votes
//!
//! The votes are features, so the network learns what they mean (a point of
//! `01-05-2024` values votes `phone` and is a date; an XML document without
//! prolog votes `html`). On top, a strict vote backs the network: when at
//! least [`UNANIMOUS`] of the non-empty values voted the same unambiguous
//! format (UUID, JWT, email, URL, card, JSON, XML: a value cannot look like
//! one of these by accident), the point gets that format with at least that
//! share as confidence, whatever the name says. A point with nothing to
//! learn from (no value, or only empty ones) is `free_text` with confidence
//! 0.
//!
//! Personal data ([`ParamFormat::personal_data`]: email, card, phone, name)
//! is flagged when the chosen format is one, or when the personal formats
//! together hold at least half the probability: masking errs on the side of
//! privacy.

pub mod kb;

use burn::tensor::Device;
use rampart_telemetry::shape::{char_class, format_of, Format, CHAR_CLASSES};
use rampart_telemetry::sketch::{Keyer, LogHistogram};
use rampart_telemetry::PointStats;
use serde::{Deserialize, Serialize};

use crate::nn::{Classifier, TrainConfig};
use crate::ParamFormat;

/// Buckets of the hashed member-name tokens.
pub const NAME_BUCKETS: usize = 32;

/// Length buckets kept as features: log2 buckets 0 to 10 (lengths up to
/// 1023 bytes) and one for everything longer.
const LEN_BUCKETS: usize = 12;

const CLASSES: usize = CHAR_CLASSES.len();
const FORMATS: usize = Format::ALL.len();

/// Width of a feature vector.
pub const WIDTH: usize = CLASSES * 2 + LEN_BUCKETS + 4 + FORMATS + 3 + 5 + 1 + NAME_BUCKETS;

/// Share of non-empty values that must vote one unambiguous format for the
/// point to take it whatever the network says.
pub const UNANIMOUS: f32 = 0.95;

/// The salt of the keyed hash [`fold`] uses for the distinct sketch.
const FOLD_SALT: &[u8] = b"rampart-learn/formats";

/// Folds values into a [`PointStats`] as a node does
/// (`rampart_telemetry::aggregate`): count, length histogram, bytes per
/// character class, one format vote per value, and a distinct sketch over
/// keyed hashes of the values (the domain is the point's path).
pub fn fold(values: &[&[u8]], point: &str) -> PointStats {
    let counted: Vec<(&[u8], u64)> = values.iter().map(|v| (*v, 1)).collect();
    fold_counted(&counted, point)
}

/// [`fold`] of values given with how many times each was seen: the same
/// aggregates as folding each value that many times, in a time that
/// depends on the distinct values only.
pub fn fold_counted(values: &[(&[u8], u64)], point: &str) -> PointStats {
    let keyer = Keyer::new(FOLD_SALT);
    let mut p = PointStats {
        point: point.to_string(),
        chars: vec![0; CLASSES],
        ..PointStats::default()
    };
    for &(v, times) in values {
        if times == 0 {
            continue;
        }
        p.count = p.count.saturating_add(times);
        let b = LogHistogram::bucket(v.len() as u64);
        if p.length.buckets.len() <= b {
            p.length.buckets.resize(b + 1, 0);
        }
        p.length.buckets[b] = p.length.buckets[b].saturating_add(times);
        for &c in v {
            let k = char_class(c);
            p.chars[k] = p.chars[k].saturating_add(times);
        }
        let f = p.formats.entry(format_of(v)).or_default();
        *f = f.saturating_add(times);
        p.distinct.add_hash(keyer.hash(point.as_bytes(), v));
    }
    p
}

/// The last member name of a shaped point path: `email` for
/// `body:json.user.email`, `user-agent` for `header["user-agent"]`, `items`
/// for `body:json.items[*]`; `None` when the last member is a placeholder
/// (`{word}`) or the path has no member.
pub fn last_member(point: &str) -> Option<&str> {
    let mut p = point.trim();
    while let Some(rest) = p.strip_suffix("[*]") {
        p = rest;
    }
    let name = if let Some(rest) = p.strip_suffix("\"]") {
        let start = rest.rfind("[\"")?;
        &rest[start + 2..]
    } else {
        let start = p.rfind('.')?;
        let seg = &p[start + 1..];
        seg.split(':').next().unwrap_or(seg)
    };
    if name.is_empty() || name.starts_with('{') {
        None
    } else {
        Some(name)
    }
}

/// The tokens of a member name, lower-cased: split at anything that is not
/// a letter and at lower-to-upper case changes (`avatarURL` -> `avatar`,
/// `url`).
pub fn name_tokens(name: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for c in name.chars() {
        if !c.is_alphabetic() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            prev_lower = false;
            continue;
        }
        if c.is_uppercase() && prev_lower && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        prev_lower = c.is_lowercase();
        cur.extend(c.to_lowercase());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out.truncate(8);
    out
}

fn fnv(seed: u64, s: &str) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64 ^ seed;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

fn entropy(parts: &[f64]) -> f64 {
    let total: f64 = parts.iter().sum();
    if total <= 0.0 {
        return 0.0;
    }
    parts
        .iter()
        .filter(|&&p| p > 0.0)
        .map(|&p| {
            let q = p / total;
            -q * q.ln()
        })
        .sum()
}

/// The feature vector of a point ([`WIDTH`] wide; see the module docs).
/// `point` is its shaped path (usually `stats.point`); pass `""` for no
/// name hint.
pub fn features(stats: &PointStats, point: &str) -> Vec<f32> {
    let mut f: Vec<f64> = Vec::with_capacity(WIDTH);
    let n = stats.count.max(1) as f64;

    // Character classes: shares, and bytes per value.
    let chars: Vec<f64> = (0..CLASSES)
        .map(|i| stats.chars.get(i).copied().unwrap_or(0) as f64)
        .collect();
    let total_chars: f64 = chars.iter().sum();
    for &c in &chars {
        f.push(if total_chars > 0.0 {
            c / total_chars
        } else {
            0.0
        });
    }
    for &c in &chars {
        f.push(((c / n).ln_1p() / 513f64.ln()).min(1.5));
    }

    // Lengths: bucket shares, mean, spread.
    let mut buckets = [0f64; LEN_BUCKETS];
    for (i, &c) in stats.length.buckets.iter().enumerate() {
        buckets[i.min(LEN_BUCKETS - 1)] += c as f64;
    }
    let len_total: f64 = buckets.iter().sum();
    for &b in &buckets {
        f.push(if len_total > 0.0 { b / len_total } else { 0.0 });
    }
    let mean_len = total_chars / n;
    f.push(mean_len.ln_1p() / 4097f64.ln());
    f.push((mean_len / 64.0).min(2.0));
    let (mut mean_b, mut var_b) = (0.0, 0.0);
    if len_total > 0.0 {
        for (i, &b) in stats.length.buckets.iter().enumerate() {
            mean_b += i as f64 * b as f64 / len_total;
        }
        for (i, &b) in stats.length.buckets.iter().enumerate() {
            var_b += (i as f64 - mean_b).powi(2) * b as f64 / len_total;
        }
    }
    f.push((mean_b / 12.0).min(2.0));
    f.push((var_b.sqrt() / 4.0).min(2.0));

    // Format votes.
    let votes: Vec<f64> = Format::ALL
        .iter()
        .map(|k| stats.formats.get(k).copied().unwrap_or(0) as f64)
        .collect();
    let vote_total: f64 = votes.iter().sum();
    let mut top = 0.0f64;
    for &v in &votes {
        let s = if vote_total > 0.0 {
            v / vote_total
        } else {
            0.0
        };
        top = top.max(s);
        f.push(s);
    }
    f.push(top);
    f.push(entropy(&votes) / (FORMATS as f64).ln());
    f.push(entropy(&chars) / (CLASSES as f64).ln());

    // Distinct values.
    let d = stats.distinct.estimate();
    let d = if d.is_finite() { d.max(0.0) } else { 0.0 };
    f.push((d / n).min(1.0));
    f.push(d.ln_1p() / 100_001f64.ln());
    f.push(d.min(16.0) / 16.0);
    f.push((3.0 - d).clamp(0.0, 1.0));
    f.push((stats.count as f64).ln_1p() / 1_000_001f64.ln());

    // The member name.
    let mut names = [0f64; NAME_BUCKETS];
    let member = last_member(point);
    f.push(if member.is_some() { 1.0 } else { 0.0 });
    if let Some(m) = member {
        for t in name_tokens(m) {
            names[(fnv(1, &t) % NAME_BUCKETS as u64) as usize] = 1.0;
            if t.chars().count() > 4 {
                let prefix: String = t.chars().take(4).collect();
                names[(fnv(2, &prefix) % NAME_BUCKETS as u64) as usize] = 1.0;
            }
        }
    }
    f.extend_from_slice(&names);

    debug_assert_eq!(f.len(), WIDTH);
    f.into_iter()
        .map(|x| if x.is_finite() { x as f32 } else { 0.0 })
        .collect()
}

/// The format of a point, as [`FormatModel::classify`] infers it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Inference {
    /// The most likely format.
    pub format: ParamFormat,
    /// Its probability, in `[0, 1]` (0 when there was nothing to learn
    /// from).
    pub confidence: f32,
    /// Whether the point's values are personal data, to be masked.
    pub personal_data: bool,
}

/// How many points of each format the shipped training set has.
pub const TRAIN_PER_FORMAT: usize = 100;
/// How many ambiguous two-format points it adds (each counted twice).
pub const TRAIN_MIXTURES: usize = 100;
/// The most values a training point has.
pub const TRAIN_MAX_VALUES: usize = 2000;
/// The seed of the shipped training set and network.
pub const TRAIN_SEED: u64 = 0x00F0_4D47;

/// The knowledge base's training points, folded: features and labels
/// (indices into [`ParamFormat::ALL`]).
pub fn training_set(seed: u64, per_format: usize, mixtures: usize) -> (Vec<Vec<f32>>, Vec<usize>) {
    let lex = kb::Lexicon::shipped();
    let mut r = kb::Rng::new(seed);
    let mut x = Vec::new();
    let mut y = Vec::new();
    let push = |s: &kb::Sample, x: &mut Vec<Vec<f32>>, y: &mut Vec<usize>| {
        let values: Vec<(&[u8], u64)> = s.values.iter().map(|(v, n)| (v.as_bytes(), *n)).collect();
        let stats = fold_counted(&values, &s.point);
        x.push(features(&stats, &s.point));
        y.push(s.format.index());
    };
    for _ in 0..per_format {
        for &f in ParamFormat::ALL {
            let count = kb::value_count(&mut r, TRAIN_MAX_VALUES);
            let s = kb::sample(&mut r, &lex, f, count);
            push(&s, &mut x, &mut y);
        }
    }
    for _ in 0..mixtures {
        let count = kb::value_count(&mut r, TRAIN_MAX_VALUES).max(10);
        for s in kb::mixture(&mut r, &lex, count) {
            push(&s, &mut x, &mut y);
        }
    }
    (x, y)
}

/// The network's training configuration.
pub fn train_config() -> TrainConfig {
    TrainConfig {
        hidden: vec![48],
        epochs: 60,
        batch: 512,
        learning_rate: 1e-2,
        seed: TRAIN_SEED,
    }
}

/// The strict format a vote stands for, if any: a value cannot look like
/// one of these by accident.
fn strict(f: Format) -> Option<ParamFormat> {
    Some(match f {
        Format::Uuid => ParamFormat::Uuid,
        Format::Jwt => ParamFormat::Jwt,
        Format::Email => ParamFormat::Email,
        Format::Url => ParamFormat::Url,
        Format::Card => ParamFormat::Card,
        Format::Json => ParamFormat::Json,
        Format::Xml => ParamFormat::Xml,
        _ => return None,
    })
}

/// The parameter-format model: a classifier over [`features`].
#[derive(Debug, Clone)]
pub struct FormatModel {
    classifier: Classifier,
}

impl FormatModel {
    /// Trains on the knowledge base ([`training_set`] with the shipped
    /// sizes and seed): deterministic.
    pub fn train(device: &Device) -> FormatModel {
        let (x, y) = training_set(TRAIN_SEED, TRAIN_PER_FORMAT, TRAIN_MIXTURES);
        FormatModel::train_on(&x, &y, &train_config(), device)
    }

    /// Trains on given rows (labels index [`ParamFormat::ALL`]).
    pub fn train_on(
        x: &[Vec<f32>],
        y: &[usize],
        cfg: &TrainConfig,
        device: &Device,
    ) -> FormatModel {
        let classes = ParamFormat::ALL
            .iter()
            .map(|f| f.name().to_string())
            .collect();
        FormatModel {
            classifier: Classifier::train(x, y, classes, cfg, device),
        }
    }

    /// The probability of each format (in [`ParamFormat::ALL`] order) for
    /// each point, after the vote rule of the module docs; empty rows for
    /// points with nothing to learn from.
    pub fn probabilities(&self, points: &[(&PointStats, &str)]) -> Vec<Vec<f32>> {
        let rows: Vec<Vec<f32>> = points.iter().map(|(s, p)| features(s, p)).collect();
        let probs = self.classifier.probabilities(&rows);
        points
            .iter()
            .zip(probs)
            .map(|((s, _), mut p)| {
                let empty = s.formats.get(&Format::Empty).copied().unwrap_or(0);
                let total: u64 = s.formats.values().fold(0u64, |a, &b| a.saturating_add(b));
                let filled = total.saturating_sub(empty);
                if s.count == 0 || filled == 0 || p.len() != ParamFormat::ALL.len() {
                    return Vec::new();
                }
                if filled >= 3 {
                    for (&f, &c) in &s.formats {
                        let share = (c as f64 / filled as f64) as f32;
                        if let Some(label) = strict(f).filter(|_| share >= UNANIMOUS) {
                            let i = label.index();
                            let target = p[i].max(share.min(1.0));
                            let rest: f32 = 1.0 - p[i];
                            let scale = if rest > 0.0 {
                                (1.0 - target) / rest
                            } else {
                                0.0
                            };
                            for (j, q) in p.iter_mut().enumerate() {
                                *q = if j == i { target } else { *q * scale };
                            }
                        }
                    }
                }
                p
            })
            .collect()
    }

    /// Classifies many points at once (one pass of the network).
    pub fn classify_all(&self, points: &[(&PointStats, &str)]) -> Vec<Inference> {
        self.probabilities(points)
            .into_iter()
            .zip(points)
            .map(|(mut p, (stats, _))| {
                // A boolean has two values: a point with clearly more
                // distinct values (small counts, ratings) is something else.
                let d = stats.distinct.estimate();
                if d.is_finite() && d > 2.5 {
                    if let Some(b) = ParamFormat::ALL
                        .iter()
                        .position(|f| *f == ParamFormat::Boolean)
                        .and_then(|i| p.get_mut(i))
                    {
                        *b = 0.0;
                    }
                }
                let Some((i, &conf)) = p.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1))
                else {
                    return Inference {
                        format: ParamFormat::FreeText,
                        confidence: 0.0,
                        personal_data: false,
                    };
                };
                let format = ParamFormat::ALL
                    .get(i)
                    .copied()
                    .unwrap_or(ParamFormat::FreeText);
                let personal: f32 = ParamFormat::ALL
                    .iter()
                    .zip(&p)
                    .filter(|(f, _)| f.personal_data())
                    .map(|(_, q)| q)
                    .sum();
                Inference {
                    format,
                    confidence: conf.clamp(0.0, 1.0),
                    personal_data: format.personal_data() || personal >= 0.5,
                }
            })
            .collect()
    }

    /// Classifies one point; `point` is its shaped path (usually
    /// `stats.point`), `""` for no name hint.
    pub fn classify(&self, stats: &PointStats, point: &str) -> Inference {
        self.classify_all(&[(stats, point)])
            .into_iter()
            .next()
            .unwrap_or(Inference {
                format: ParamFormat::FreeText,
                confidence: 0.0,
                personal_data: false,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_names_and_tokens() {
        assert_eq!(last_member("body:json.user.email"), Some("email"));
        assert_eq!(last_member("header[\"user-agent\"]"), Some("user-agent"));
        assert_eq!(last_member("body:json.items[*]"), Some("items"));
        assert_eq!(last_member("body:form.{word}"), None);
        assert_eq!(last_member("body:json"), None);
        assert_eq!(name_tokens("avatarURL"), vec!["avatar", "url"]);
        assert_eq!(name_tokens("first_name2"), vec!["first", "name"]);
    }

    #[test]
    fn counted_fold_equals_the_plain_fold() {
        let plain = fold(&[b"a1", b"a1", b"", b"x@y.io"], "query.q");
        let counted = fold_counted(&[(b"a1", 2), (b"", 1), (b"x@y.io", 1)], "query.q");
        assert_eq!(plain, counted);
        let f = features(&plain, "query.q");
        assert_eq!(f.len(), WIDTH);
        assert!(f.iter().all(|x| x.is_finite()));
    }
}
