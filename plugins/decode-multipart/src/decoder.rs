//! The `multipart` decoder: an RFC 2046 / RFC 7578 body taken apart into
//! one point per part.

use rampart_plugin_api::text::{header_param, media_essence};
use rampart_plugin_api::{DecodeCtx, DecodeError, Decoder, Emitter, PluginInfo, Span};

use crate::part::Run;
use crate::scan::{self, Scanner};

/// Decodes `multipart/*` bodies (declared by a `boundary` parameter, or
/// sniffed from a first line `--boundary`).
#[derive(Debug, Clone, Copy, Default)]
pub struct MultipartDecoder;

const MEDIA_TYPES: &[&str] = &[
    "multipart/form-data",
    "multipart/mixed",
    "multipart/related",
    "multipart/alternative",
];

impl Decoder for MultipartDecoder {
    fn info(&self) -> PluginInfo {
        PluginInfo {
            name: "multipart",
            version: env!("CARGO_PKG_VERSION"),
            description: "multipart/form-data and multipart/mixed bodies: one point per part",
        }
    }

    fn layer(&self) -> &'static str {
        "multipart"
    }

    fn media_types(&self) -> &'static [&'static str] {
        MEDIA_TYPES
    }

    fn sniff(&self, value: &[u8]) -> bool {
        scan::sniff(value)
    }

    fn decode(
        &self,
        input: &[u8],
        ctx: &DecodeCtx<'_>,
        out: &mut Emitter<'_>,
    ) -> Result<(), DecodeError> {
        let declared = ctx.declared;
        let fail = |msg: &'static str, at: usize| {
            if declared {
                DecodeError::malformed("multipart.malformed", msg, at)
            } else {
                DecodeError::NotThisFormat
            }
        };
        let form_data = ctx
            .media_type
            .is_some_and(|m| media_essence(m) == b"multipart/form-data");
        let mut run = Run::new(input, declared, form_data);
        let root = out.root();
        let whole = Span::default();

        let param = ctx.media_type.and_then(|m| header_param(m, "boundary"));
        let boundary = match param.filter(|b| !b.is_empty()) {
            Some(b) if b.contains(&b'\n') || b.contains(&b'\r') => {
                return Err(fail("boundary holds a line break", 0));
            }
            Some(b) => {
                if !scan::valid_boundary(b) {
                    run.flag(
                        out,
                        root,
                        "multipart.invalid-boundary",
                        10,
                        whole,
                        "boundary that RFC 2046 does not allow",
                    );
                }
                b
            }
            None => {
                let b = scan::infer(input)
                    .ok_or_else(|| fail("no boundary declared, none on the first line", 0))?;
                run.flag(
                    out,
                    root,
                    "multipart.missing-boundary",
                    20,
                    whole,
                    "multipart media type without a boundary",
                );
                b
            }
        };

        let plausible = input.starts_with(b"--") && scan::plausible_boundary(boundary);
        if !declared && (!plausible || !scan::complete(input, boundary)) {
            return Err(DecodeError::NotThisFormat);
        }
        let mut sc = Scanner::new(input, boundary);
        let Some(mut d) = sc.first() else {
            return Err(fail("the boundary never occurs", 0));
        };
        if scan::has_text(&input[..d.start]) {
            if !declared {
                return Err(DecodeError::NotThisFormat);
            }
            run.flag(
                out,
                root,
                "multipart.preamble",
                5,
                Span::new(0, d.start),
                "data before the first boundary",
            );
        }
        let mut index = 0u32;
        loop {
            run.prefix(out, sc.prefix_at, boundary.len());
            if d.bare_lf {
                run.bare_lf(out, d.start);
            }
            if d.close {
                let epilogue = &input[d.end..];
                if Scanner::new(epilogue, boundary).next(0).is_some() {
                    run.flag(
                        out,
                        root,
                        "multipart.epilogue",
                        30,
                        Span::new(d.end, input.len()),
                        "parts after the final boundary",
                    );
                } else if scan::has_text(epilogue) {
                    run.flag(
                        out,
                        root,
                        "multipart.epilogue",
                        5,
                        Span::new(d.end, input.len()),
                        "data after the final boundary",
                    );
                }
                return Ok(());
            }
            let start = d.end;
            // The line break that ends this delimiter line may also be the
            // one before the next delimiter (an empty part).
            let next = sc.next(start.saturating_sub(1));
            let end = next.map_or(input.len(), |n| n.start.max(start));
            if next.is_some() || start < input.len() {
                run.part(out, index, start, end)?;
                index += 1;
            }
            match next {
                Some(n) => d = n,
                None => {
                    run.prefix(out, sc.prefix_at, boundary.len());
                    if !declared {
                        return Err(DecodeError::NotThisFormat);
                    }
                    let span = Span::new(input.len(), input.len());
                    run.flag(
                        out,
                        root,
                        "multipart.no-final-boundary",
                        30,
                        span,
                        "body ends without the final boundary",
                    );
                    return Ok(());
                }
            }
        }
    }
}
