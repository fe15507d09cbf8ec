use rampart_plugin_api::text::percent_decode;
use rampart_plugin_api::{
    DecodeCtx, DecodeError, Decoder, Emitter, Key, LimitKind, NodeId, PluginInfo,
};

use crate::flags::flag_report;

/// `key=value&...` pairs: query strings and urlencoded form bodies.
///
/// The root point's value is the whole string, percent-decoded, so that
/// it is inspected as well as each pair.
/// Keys and values are percent-decoded with `+` as a space. Repeated keys
/// give sibling points. Bracketed keys build structure: `a[]=1&a[]=2`
/// gives `a[0]`, `a[1]`; `a[b][c]=1` gives `a.b.c`.
#[derive(Debug, Clone, Copy, Default)]
pub struct FormDecoder;

const MAX_KEY: usize = 256;

fn plausible_key(k: &[u8]) -> bool {
    !k.is_empty()
        && k.len() <= MAX_KEY
        && k.iter().all(|&b| {
            b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'[' | b']' | b'%' | b'+')
        })
}

/// Containers made for bracketed keys during one decoding: the node, its
/// parent and its key span in the tree buffer, and the next `[]` index.
struct Made {
    parent: NodeId,
    key: (u32, u32),
    node: NodeId,
    next_index: u32,
}

impl Decoder for FormDecoder {
    fn info(&self) -> PluginInfo {
        PluginInfo {
            name: "form",
            version: env!("CARGO_PKG_VERSION"),
            description: "query strings and application/x-www-form-urlencoded bodies",
        }
    }

    fn layer(&self) -> &'static str {
        "form"
    }

    fn media_types(&self) -> &'static [&'static str] {
        &["application/x-www-form-urlencoded"]
    }

    fn sniff(&self, value: &[u8]) -> bool {
        let Some(eq) = value.iter().take(MAX_KEY + 1).position(|&b| b == b'=') else {
            return false;
        };
        if !plausible_key(&value[..eq]) {
            return false;
        }
        match value.iter().position(|&b| b == b'&') {
            Some(amp) if amp > eq => {
                let rest = &value[amp + 1..];
                let k_end = rest.iter().position(|&b| b == b'=').unwrap_or(rest.len());
                plausible_key(&rest[..k_end])
            }
            _ => !value.contains(&b' '),
        }
    }

    fn decode(
        &self,
        input: &[u8],
        ctx: &DecodeCtx<'_>,
        out: &mut Emitter<'_>,
    ) -> Result<(), DecodeError> {
        let root = out.root();
        // The whole string, decoded, is the root's value: detectors see a
        // payload split across pairs by a raw `&` the way the application's
        // raw-query readers do.
        if input.len() > out.bytes_left() {
            return Err(DecodeError::Exhausted(LimitKind::Bytes));
        }
        let mark = out.mark();
        percent_decode(input, true, out.buf());
        let whole = out.span_from(mark)?;
        out.set_root_value(whole);
        let mut made: Vec<Made> = Vec::new();
        for pair in input.split(|&b| b == b'&') {
            if pair.is_empty() {
                continue;
            }
            let eq = pair.iter().position(|&b| b == b'=');
            let (raw_key, raw_val) = match eq {
                Some(i) => (&pair[..i], &pair[i + 1..]),
                None => (pair, &b""[..]),
            };
            if !ctx.declared && !plausible_key(raw_key) {
                return Err(DecodeError::NotThisFormat);
            }
            if raw_key.len() + raw_val.len() > out.bytes_left() {
                return Err(DecodeError::Exhausted(LimitKind::Bytes));
            }
            let mark = out.mark();
            let krep = percent_decode(raw_key, true, out.buf());
            let key = out.span_from(mark)?;
            let (parent, last) = self.resolve(out, root, key, &mut made)?;
            let mark = out.mark();
            let vrep = percent_decode(raw_val, true, out.buf());
            let val = out.span_from(mark)?;
            let node = out.leaf_span(parent, last, val)?;
            flag_report(out, node, &krep, raw_key.len());
            flag_report(out, node, &vrep, raw_val.len());
        }
        Ok(())
    }
}

impl FormDecoder {
    /// Splits a decoded key `a[b][]` into its base and bracketed parts,
    /// creating (or reusing) containers for every part but the last.
    /// Returns the parent and the key of the leaf to emit.
    fn resolve(
        &self,
        out: &mut Emitter<'_>,
        root: NodeId,
        key: (u32, u32),
        made: &mut Vec<Made>,
    ) -> Result<(NodeId, Key<'static>), DecodeError> {
        let bytes = &out.tree().value_bytes(key);
        let open = match bytes.iter().position(|&b| b == b'[') {
            Some(i) if i > 0 && bytes.last() == Some(&b']') => i,
            _ => return Ok((root, Key::Span(key.0, key.1))),
        };
        // Collect part spans: base, then each [..].
        let mut parts: Vec<(u32, u32)> = vec![(key.0, key.0 + open as u32)];
        let mut i = open;
        while i < bytes.len() {
            if bytes[i] != b'[' {
                // Text between brackets: not an array key after all.
                return Ok((root, Key::Span(key.0, key.1)));
            }
            let Some(close) = bytes[i..].iter().position(|&b| b == b']') else {
                return Ok((root, Key::Span(key.0, key.1)));
            };
            let s = key.0 + (i + 1) as u32;
            parts.push((s, s + (close - 1) as u32));
            i += close + 1;
        }
        if parts.len() > out.limits().max_nesting as usize {
            return Err(DecodeError::Exhausted(LimitKind::Nesting));
        }
        let mut parent = root;
        let last = parts.len() - 1;
        for (n, &part) in parts.iter().enumerate() {
            let empty = part.0 == part.1;
            let key_for = |made: &mut Vec<Made>, parent: NodeId| -> Key<'static> {
                if empty {
                    if let Some(m) = made.iter_mut().find(|m| m.node == parent) {
                        let k = Key::Index(m.next_index);
                        m.next_index += 1;
                        return k;
                    }
                    return Key::Index(0);
                }
                Key::Span(part.0, part.1)
            };
            if n == last {
                return Ok((parent, key_for(made, parent)));
            }
            // Reuse a container with the same parent and key text.
            let existing = if empty {
                None
            } else {
                let tree = out.tree();
                let want = tree.value_bytes(part);
                made.iter()
                    .find(|m| m.parent == parent && tree.value_bytes(m.key) == want)
                    .map(|m| m.node)
            };
            parent = match existing {
                Some(node) => node,
                None => {
                    let k = key_for(made, parent);
                    let node = out.container(parent, k, b"")?;
                    made.push(Made {
                        parent,
                        key: part,
                        node,
                        next_index: 0,
                    });
                    node
                }
            };
        }
        Ok((parent, Key::Span(key.0, key.1)))
    }
}
