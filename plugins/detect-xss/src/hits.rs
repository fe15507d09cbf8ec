//! The evidence gathered for one value: the strongest hit per rule.

/// The rules of the detector. Names are stable (`xss.<what>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    ScriptTag,
    EventHandler,
    JsUrl,
    DataUrl,
    Srcdoc,
    Css,
    DangerousTag,
    ScriptClose,
    JsBreakout,
    JsCode,
    TemplateInjection,
}

pub const RULES: usize = 11;

impl Rule {
    pub const ALL: [Rule; RULES] = [
        Rule::ScriptTag,
        Rule::EventHandler,
        Rule::JsUrl,
        Rule::DataUrl,
        Rule::Srcdoc,
        Rule::Css,
        Rule::DangerousTag,
        Rule::ScriptClose,
        Rule::JsBreakout,
        Rule::JsCode,
        Rule::TemplateInjection,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Rule::ScriptTag => "xss.script-tag",
            Rule::EventHandler => "xss.event-handler",
            Rule::JsUrl => "xss.js-url",
            Rule::DataUrl => "xss.data-url",
            Rule::Srcdoc => "xss.srcdoc",
            Rule::Css => "xss.css",
            Rule::DangerousTag => "xss.dangerous-tag",
            Rule::ScriptClose => "xss.script-close",
            Rule::JsBreakout => "xss.js-breakout",
            Rule::JsCode => "xss.js-code",
            Rule::TemplateInjection => "xss.template-injection",
        }
    }
}

/// One piece of evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    pub score: u8,
    pub start: usize,
    pub end: usize,
    pub what: &'static str,
}

/// The strongest hit of each rule.
#[derive(Debug, Clone, Copy, Default)]
pub struct Hits {
    best: [Option<Hit>; RULES],
}

impl Hits {
    pub fn add(&mut self, rule: Rule, score: u8, span: (usize, usize), what: &'static str) {
        if score == 0 {
            return;
        }
        let slot = &mut self.best[rule as usize];
        if slot.is_none_or(|h| score > h.score) {
            *slot = Some(Hit {
                score,
                start: span.0,
                end: span.1.max(span.0),
                what,
            });
        }
    }

    /// The highest score of any rule.
    pub fn max(&self) -> u8 {
        self.best
            .iter()
            .flatten()
            .map(|h| h.score)
            .max()
            .unwrap_or(0)
    }

    pub fn iter(&self) -> impl Iterator<Item = (Rule, Hit)> + '_ {
        Rule::ALL
            .iter()
            .filter_map(|&r| self.best[r as usize].map(|h| (r, h)))
    }

    /// Adds every hit of `other` with its span replaced by `span` (hits
    /// of a derived copy of the value).
    pub fn merge_mapped(&mut self, other: &Hits, span: (usize, usize)) {
        for (r, h) in other.iter() {
            self.add(r, h.score, span, h.what);
        }
    }

    /// Moves every hit by `offset` (hits of a window of the value).
    pub fn merge_shifted(&mut self, other: &Hits, offset: usize) {
        for (r, h) in other.iter() {
            self.add(r, h.score, (h.start + offset, h.end + offset), h.what);
        }
    }
}
