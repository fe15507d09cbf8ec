//! `Content-Disposition` of a part: the `name` and `filename` parameters in
//! every form parsers disagree about (duplicates, RFC 2231 / RFC 5987
//! `name*=` extended values and `name*0=` continuations), so that ambiguity
//! is seen and flagged.

use rampart_plugin_api::text::{percent_decode, PctReport};

use crate::params::{Param, Params};

/// Most continuation segments assembled for one parameter.
const MAX_SEGMENTS: usize = 64;

/// A parameter value in one of its forms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Val<'a> {
    /// `name="a"` or `name=a`.
    Plain(Param<'a>),
    /// `name*=utf-8''a%20b`.
    Ext(&'a [u8]),
    /// `name*0="a"; name*1*=%20b`: (index, extended, segment).
    Cont(Vec<(u32, bool, Param<'a>)>),
}

/// Appends the unescaped content of a quoted string (`\"` and `\\` are
/// escapes; any other backslash is kept, as in Windows paths).
fn unquote_into(v: &[u8], dst: &mut Vec<u8>) {
    let mut i = 0;
    while i < v.len() {
        if v[i] == b'\\' && matches!(v.get(i + 1), Some(b'"' | b'\\')) {
            i += 1;
        }
        dst.push(v[i]);
        i += 1;
    }
}

/// Appends an RFC 2231 value, dropping `charset'language'` when `first`.
fn ext_into(v: &[u8], first: bool, dst: &mut Vec<u8>) -> PctReport {
    let mut v = v;
    if first {
        if let Some(a) = v.iter().position(|&b| b == b'\'') {
            if let Some(b) = v[a + 1..].iter().position(|&b| b == b'\'') {
                v = &v[a + b + 2..];
            }
        }
    }
    percent_decode(v, false, dst)
}

fn merge(a: &mut PctReport, b: PctReport) {
    a.invalid_escape = a.invalid_escape.or(b.invalid_escape);
    a.u_escape = a.u_escape.or(b.u_escape);
    a.overlong = a.overlong.or(b.overlong);
    a.nul = a.nul.or(b.nul);
    a.invalid_utf8 |= b.invalid_utf8;
    a.decoded_any |= b.decoded_any;
}

impl Val<'_> {
    /// Bytes of the raw value: the decoded value is never longer.
    pub fn raw_len(&self) -> usize {
        match self {
            Val::Plain(p) => p.value.len(),
            Val::Ext(v) => v.len(),
            Val::Cont(segs) => segs.iter().map(|s| s.2.value.len()).sum(),
        }
    }

    /// The raw value when it decodes to itself.
    pub fn verbatim(&self) -> Option<&[u8]> {
        match self {
            Val::Plain(p) if !(p.quoted && p.value.contains(&b'\\')) => Some(p.value),
            _ => None,
        }
    }

    /// Appends the decoded value to `dst`.
    pub fn write(&self, dst: &mut Vec<u8>) -> PctReport {
        let mut rep = PctReport::default();
        match self {
            Val::Plain(p) if p.quoted => unquote_into(p.value, dst),
            Val::Plain(p) => dst.extend_from_slice(p.value),
            Val::Ext(v) => rep = ext_into(v, true, dst),
            Val::Cont(segs) => {
                for &(i, ext, p) in segs {
                    if ext {
                        merge(&mut rep, ext_into(p.value, i == 0, dst));
                    } else if p.quoted {
                        unquote_into(p.value, dst);
                    } else {
                        dst.extend_from_slice(p.value);
                    }
                }
            }
        }
        rep
    }
}

/// What a `Content-Disposition` value says about `name` and `filename`.
#[derive(Debug, Default)]
pub(crate) struct Disposition<'a> {
    pub name: Option<Val<'a>>,
    pub name_ext: Option<Val<'a>>,
    pub filename: Option<Val<'a>>,
    pub filename_ext: Option<Val<'a>>,
    /// Duplicates, continuations, broken quoting: parsers will disagree.
    pub ambiguous: bool,
    /// An unquoted value with whitespace inside.
    pub spaced: bool,
}

/// Plain, extended, or continuation segment `n` (extended or not).
enum Form {
    Plain,
    Ext,
    Seg(u32, bool),
}

fn form(suffix: &[u8]) -> Option<Form> {
    match suffix {
        b"" => Some(Form::Plain),
        b"*" => Some(Form::Ext),
        _ => {
            let digits = suffix.strip_prefix(b"*")?;
            let (digits, ext) = match digits.strip_suffix(b"*") {
                Some(d) => (d, true),
                None => (digits, false),
            };
            if digits.is_empty() || digits.len() > 3 || !digits.iter().all(u8::is_ascii_digit) {
                return None;
            }
            let n = digits
                .iter()
                .fold(0u32, |a, &d| a * 10 + u32::from(d - b'0'));
            Some(Form::Seg(n, ext))
        }
    }
}

fn set<'a>(slot: &mut Option<Val<'a>>, v: Val<'a>, ambiguous: &mut bool) {
    if slot.is_some() {
        *ambiguous = true;
    } else {
        *slot = Some(v);
    }
}

impl<'a> Disposition<'a> {
    pub fn parse(value: &'a [u8]) -> Disposition<'a> {
        let mut d = Disposition::default();
        let mut segs: [Vec<(u32, bool, Param<'a>)>; 2] = [Vec::new(), Vec::new()];
        for p in Params::new(value) {
            d.spaced |= p.spaced;
            let star = p
                .name
                .iter()
                .position(|&b| b == b'*')
                .unwrap_or(p.name.len());
            let (base, suffix) = p.name.split_at(star);
            let which = if base.eq_ignore_ascii_case(b"name") {
                0
            } else if base.eq_ignore_ascii_case(b"filename") {
                1
            } else {
                continue;
            };
            d.ambiguous |= p.broken;
            let (plain, ext) = if which == 0 {
                (&mut d.name, &mut d.name_ext)
            } else {
                (&mut d.filename, &mut d.filename_ext)
            };
            match form(suffix) {
                Some(Form::Plain) => set(plain, Val::Plain(p), &mut d.ambiguous),
                Some(Form::Ext) => set(ext, Val::Ext(p.value), &mut d.ambiguous),
                Some(Form::Seg(n, e)) => {
                    // Parsers that ignore continuations see another value.
                    d.ambiguous = true;
                    if segs[which].len() < MAX_SEGMENTS {
                        segs[which].push((n, e, p));
                    }
                }
                None => {}
            }
        }
        for (which, mut list) in segs.into_iter().enumerate() {
            if list.is_empty() {
                continue;
            }
            list.sort_by_key(|s| s.0);
            let consecutive = list.iter().enumerate().all(|(i, s)| s.0 as usize == i);
            let slot = if which == 0 {
                &mut d.name_ext
            } else {
                &mut d.filename_ext
            };
            if consecutive && slot.is_none() {
                *slot = Some(Val::Cont(list));
            }
        }
        d
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(v: &Option<Val<'_>>) -> Option<String> {
        let mut out = Vec::new();
        v.as_ref().map(|v| {
            v.write(&mut out);
            String::from_utf8_lossy(&out).into_owned()
        })
    }

    #[test]
    fn names_filenames_and_ambiguity() {
        let d = Disposition::parse(br#"form-data; name="a\"b"; filename="C:\dir\x.txt""#);
        assert_eq!(dec(&d.name).as_deref(), Some("a\"b"));
        assert_eq!(dec(&d.filename).as_deref(), Some("C:\\dir\\x.txt"));
        assert!(!d.ambiguous && !d.spaced);
        let d = Disposition::parse(b"form-data; name=a; NAME=b; filename*=UTF-8''%e2%82%ac.txt");
        assert!(d.ambiguous);
        assert_eq!(dec(&d.name).as_deref(), Some("a"));
        assert_eq!(dec(&d.filename_ext).as_deref(), Some("\u{20ac}.txt"));
        let d = Disposition::parse(
            b"form-data; name=my field; filename*1=\".php\"; filename*0*=utf-8''shell",
        );
        assert!(d.spaced && d.ambiguous);
        assert_eq!(dec(&d.filename_ext).as_deref(), Some("shell.php"));
        let d = Disposition::parse(b"form-data; name=\"unterminated");
        assert!(d.ambiguous);
        assert_eq!(dec(&d.name).as_deref(), Some("unterminated"));
        let d = Disposition::parse(b"form-data; filename*1\x015=\"x\"; name*1a=b; name*1234=c");
        assert!(d.filename_ext.is_none() && d.name_ext.is_none());
        let d = Disposition::parse(b"form-data;;name;x=1;name=\"q\"junk");
        assert!(d.ambiguous);
    }
}
