use rampart_plugin_api::text::percent_decode;
use rampart_plugin_api::{DecodeCtx, DecodeError, Decoder, Emitter, Key, PluginInfo};

use crate::flags::flag_report;

/// The URL path: the root value becomes the percent-decoded path, and each
/// segment (split on the *encoded* `/`, so `%2F` stays inside a segment) a
/// leaf `[N]`. A trailing empty segment is not emitted.
#[derive(Debug, Clone, Copy, Default)]
pub struct PathDecoder;

impl Decoder for PathDecoder {
    fn info(&self) -> PluginInfo {
        PluginInfo {
            name: "path",
            version: env!("CARGO_PKG_VERSION"),
            description: "URL path: percent-decoded, split into segments",
        }
    }

    fn layer(&self) -> &'static str {
        "path"
    }

    fn decode(
        &self,
        input: &[u8],
        _: &DecodeCtx<'_>,
        out: &mut Emitter<'_>,
    ) -> Result<(), DecodeError> {
        let root = out.root();
        if input.len() > out.bytes_left() / 2 {
            return Err(DecodeError::Exhausted(rampart_plugin_api::LimitKind::Bytes));
        }
        let mark = out.mark();
        let rep = percent_decode(input, false, out.buf());
        let whole = out.span_from(mark)?;
        out.set_root_value(whole);
        flag_report(out, root, &rep, input.len());

        let trimmed = input.strip_prefix(b"/").unwrap_or(input);
        let trimmed = trimmed.strip_suffix(b"/").unwrap_or(trimmed);
        if trimmed.is_empty() {
            return Ok(());
        }
        for (i, seg) in trimmed.split(|&b| b == b'/').enumerate() {
            let mark = out.mark();
            percent_decode(seg, false, out.buf());
            let span = out.span_from(mark)?;
            out.leaf_span(root, Key::Index(i as u32), span)?;
        }
        Ok(())
    }
}
