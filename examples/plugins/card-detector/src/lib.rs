//! An example Rampart detector plugin: secrets that should never travel in a
//! request.
//!
//! [`CardDetector`] (plugin `leaked-secrets`) reports, in every value the
//! engine hands it (query parameters, headers, cookies, decoded body
//! fields, raw bodies):
//!
//! - `secrets.card-number`: a payment card number (13 to 19 digits, spaces
//!   or dashes allowed between groups) of a major scheme (Visa, Mastercard,
//!   American Express, Discover, JCB, Diners Club, UnionPay, Maestro, Mir)
//!   that passes the Luhn check. Digits that belong to a longer number, a
//!   decimal, a date, a time, a phone number or a word are not searched;
//!   the exact rules are in the `card` module.
//! - `secrets.aws-access-key`: an AWS access key id, `AKIA` or `ASIA`
//!   followed by 16 upper-case letters or digits, as a token of its own.
//!
//! Each finding's span covers the secret (separators included); its
//! message names what was found and shows only the last 4 characters
//! (`Visa card number ************1111`). At most
//! [`MAX_FINDINGS`] findings are reported per value.
//!
//! Rampart has no class for leaked data, so the findings are
//! [`Class::Anomaly`]: they are logged and scored but block a request only
//! when the node's `policy.anomaly_threshold` says so.
//!
//! # Configuration (`[plugin.leaked-secrets]` in node.toml)
//!
//! | key | values | default |
//! |---|---|---|
//! | `cards` | `"true"`, `"false"` | `"true"` |
//! | `aws_keys` | `"true"`, `"false"` | `"true"` |
//! | `score` | `"0"` to `"100"` | `"50"` |
//!
//! Any other key, or a value outside these, is refused at start-up.

#![deny(unsafe_code)]

mod aws;
mod card;

use rampart_plugin_api::{
    Class, DetectCtx, Detector, Finding, PluginConfig, PluginError, PluginInfo, Span,
};

/// The plugin's name (also the `[plugin.NAME]` table of node.toml).
pub const NAME: &str = "leaked-secrets";
/// Rule of a payment card number.
pub const CARD_RULE: &str = "secrets.card-number";
/// Rule of an AWS access key id.
pub const AWS_RULE: &str = "secrets.aws-access-key";
/// Most findings reported for one value.
pub const MAX_FINDINGS: usize = 16;
/// Score of a finding unless configured.
pub const DEFAULT_SCORE: u8 = 50;

/// The `leaked-secrets` detector; see the crate documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CardDetector {
    /// Look for payment card numbers.
    pub cards: bool,
    /// Look for AWS access key ids.
    pub aws_keys: bool,
    /// Score of every finding.
    pub score: u8,
}

impl Default for CardDetector {
    fn default() -> Self {
        CardDetector {
            cards: true,
            aws_keys: true,
            score: DEFAULT_SCORE,
        }
    }
}

fn flag(key: &str, value: &str) -> Result<bool, PluginError> {
    match value {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(PluginError(format!(
            "{NAME}: {key} = {value:?}: expected \"true\" or \"false\""
        ))),
    }
}

/// All but the last 4 characters replaced by `*`.
fn masked(secret: &[u8]) -> String {
    let keep = secret.len().saturating_sub(4);
    let mut s = "*".repeat(keep);
    s.push_str(&String::from_utf8_lossy(&secret[keep..]));
    s
}

impl Detector for CardDetector {
    fn info(&self) -> PluginInfo {
        PluginInfo {
            name: NAME,
            version: env!("CARGO_PKG_VERSION"),
            description: "payment card numbers (Luhn, major schemes) and AWS access key ids",
        }
    }

    fn configure(&mut self, config: &PluginConfig) -> Result<(), PluginError> {
        for (key, value) in config {
            match key.as_str() {
                "cards" => self.cards = flag(key, value)?,
                "aws_keys" => self.aws_keys = flag(key, value)?,
                "score" => {
                    self.score = value.parse().ok().filter(|s| *s <= 100).ok_or_else(|| {
                        PluginError(format!(
                            "{NAME}: score = {value:?}: expected a number from 0 to 100"
                        ))
                    })?;
                }
                _ => {
                    return Err(PluginError(format!(
                        "{NAME}: unknown setting {key:?} (known: cards, aws_keys, score)"
                    )))
                }
            }
        }
        if !self.cards && !self.aws_keys {
            return Err(PluginError(format!(
                "{NAME}: cards and aws_keys are both \"false\", nothing is left to detect \
                 (to turn the detector off, list {NAME:?} in `disabled` instead)"
            )));
        }
        Ok(())
    }

    fn classes(&self) -> &'static [Class] {
        &[Class::Anomaly]
    }

    fn inspect(&self, value: &[u8], ctx: &DetectCtx<'_>, out: &mut Vec<Finding>) {
        let mut left = MAX_FINDINGS;
        let mut report = |rule: &'static str, start: usize, end: usize, message: String| {
            out.push(
                Finding::new(ctx.point, Class::Anomaly, rule, self.score, message)
                    .with_span(Span::new(start, end))
                    .with_origin(NAME),
            );
            left -= 1;
            left > 0
        };
        let mut more = true;
        if self.cards {
            card::scan(value, |m| {
                let msg = format!("{} card number {}", m.scheme, masked(m.digits()));
                more = report(CARD_RULE, m.start, m.end, msg);
                more
            });
        }
        if self.aws_keys && more {
            aws::scan(value, |m| {
                let kind = if m.temporary {
                    "temporary (STS)"
                } else {
                    "long-term"
                };
                let key = &value[m.start..m.end];
                let msg = format!("AWS access key id of a {kind} key {}", masked(key));
                report(AWS_RULE, m.start, m.end, msg)
            });
        }
    }
}

rampart_plugin_api::declare_plugin! {
    decoders: [],
    detectors: [CardDetector],
}
