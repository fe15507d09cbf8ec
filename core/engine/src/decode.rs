//! Phase 1: the request-point tree, built recursively.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Instant;

use rampart_plugin_api::{DecodeCtx, DecodeError, Emitter};
use rampart_types::{Class, Finding, LimitKind, NodeId, NodeKind, Request, Seg, Source, Span};

use crate::engine::Engine;
use crate::inspection::Inspection;

/// How a layer was asked for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum How {
    /// Declared by HTTP or a parent document: failures are anomalies.
    Declared,
    /// Declared, but a mismatch only means "not this one" (an
    /// Authorization scheme tried against each scheme decoder).
    Probe,
    /// Tried because the value looked like the format.
    Sniffed,
}

pub(crate) fn decode(engine: &Engine, req: &Request, ins: &mut Inspection) {
    let b = Builder { engine };
    if b.sources(req, ins).is_err() {
        return;
    }
    b.recurse(ins);
}

struct Builder<'e> {
    engine: &'e Engine,
}

/// The global budget ran out: stop decoding.
struct Stop;

impl Builder<'_> {
    fn source(
        &self,
        ins: &mut Inspection,
        src: Source,
        kind: NodeKind,
        value: &[u8],
    ) -> Result<NodeId, Stop> {
        if ins.tree.len() >= ins.state.limits.max_nodes as usize
            || ins.tree.bytes_len() + value.len() > ins.state.byte_cap
        {
            let kind_hit = if ins.tree.len() >= ins.state.limits.max_nodes as usize {
                LimitKind::Nodes
            } else {
                LimitKind::Bytes
            };
            self.limit(ins, NodeId::ROOT, kind_hit);
            return Err(Stop);
        }
        let span = ins.tree.push_bytes(value);
        Ok(ins
            .tree
            .push_node(NodeId::ROOT, Seg::Source(src), kind, span))
    }

    fn sources(&self, req: &Request, ins: &mut Inspection) -> Result<(), Stop> {
        let wk = &self.engine.wellknown;
        self.source(ins, Source::Method, NodeKind::Leaf, &req.method)?;
        self.source(ins, Source::Uri, NodeKind::Leaf, &req.target)?;

        let path = self.source(ins, Source::Path, NodeKind::Leaf, &[])?;
        if let Some(d) = wk.path {
            self.apply_into(ins, path, d, req.path(), How::Declared, None)?;
        } else {
            let span = ins.tree.push_bytes(req.path());
            ins.tree.set_value(path, span);
        }

        if let Some(q) = req.query() {
            // A leaf: the form decoder makes its value the decoded query.
            let query = self.source(ins, Source::Query, NodeKind::Leaf, q)?;
            if let Some(d) = wk.form {
                self.apply_into(ins, query, d, q, How::Declared, None)?;
            }
        }

        if !req.headers.is_empty() {
            let hdr = self.source(ins, Source::Header, NodeKind::Container, &[])?;
            let mut cookie_node = None;
            for h in &req.headers {
                let node = self.leaf(ins, hdr, &h.name.to_ascii_lowercase(), &h.value)?;
                let name = h.name.as_slice();
                if name.eq_ignore_ascii_case(b"cookie") {
                    if let Some(d) = wk.cookie {
                        let c = match cookie_node {
                            Some(c) => c,
                            None => {
                                let c =
                                    self.source(ins, Source::Cookie, NodeKind::Container, &[])?;
                                cookie_node = Some(c);
                                c
                            }
                        };
                        self.apply_into(ins, c, d, &h.value, How::Declared, None)?;
                    }
                } else if name.eq_ignore_ascii_case(b"authorization")
                    || name.eq_ignore_ascii_case(b"proxy-authorization")
                {
                    for d in [wk.basic, wk.bearer].into_iter().flatten() {
                        self.apply_layer(ins, node, d, How::Probe, None)?;
                    }
                }
            }
        }

        if !req.body.is_empty() {
            let body = self.source(ins, Source::Body, NodeKind::Leaf, &req.body)?;
            if req.body_truncated {
                ins.findings_note(Finding::new(
                    body,
                    Class::Anomaly,
                    "http.body-truncated",
                    0,
                    "body longer than the inspection limit: only its beginning is inspected",
                ));
            }
            let mut cur = body;
            if let Some(ce) = req.header_value("content-encoding") {
                cur = self.content_encoding(ins, body, ce)?;
            }
            if let Some(ct) = req.header_value("content-type") {
                self.content_type(ins, cur, ct)?;
            }
        }
        Ok(())
    }

    /// Applies `Content-Encoding` codings, last applied first.
    fn content_encoding(
        &self,
        ins: &mut Inspection,
        body: NodeId,
        ce: &[u8],
    ) -> Result<NodeId, Stop> {
        let wk = &self.engine.wellknown;
        let mut cur = body;
        for coding in ce.rsplit(|&b| b == b',') {
            let c = coding.trim_ascii().to_ascii_lowercase();
            let d = match c.as_slice() {
                b"" | b"identity" => continue,
                b"gzip" | b"x-gzip" => wk.gzip,
                b"deflate" => wk.deflate,
                _ => None,
            };
            let Some(d) = d else {
                ins.findings_note(Finding::new(
                    cur,
                    Class::Anomaly,
                    "http.unsupported-encoding",
                    20,
                    format!(
                        "Content-Encoding {:?} cannot be decoded: the body is inspected as sent",
                        String::from_utf8_lossy(&c)
                    ),
                ));
                return Ok(cur);
            };
            match self.apply_layer(ins, cur, d, How::Declared, None)? {
                Some(layer) => {
                    ins.tree.set_kind(cur, NodeKind::Container);
                    cur = layer;
                }
                None => return Ok(cur),
            }
        }
        Ok(cur)
    }

    fn content_type(&self, ins: &mut Inspection, node: NodeId, ct: &[u8]) -> Result<(), Stop> {
        let Some(d) = self.engine.decoder_for_media(ct) else {
            return Ok(());
        };
        let ct = ct.to_vec();
        if self
            .apply_layer(ins, node, d, How::Declared, Some(&ct))?
            .is_some()
        {
            ins.tree.set_kind(node, NodeKind::Container);
        }
        Ok(())
    }

    fn leaf(
        &self,
        ins: &mut Inspection,
        parent: NodeId,
        key: &[u8],
        value: &[u8],
    ) -> Result<NodeId, Stop> {
        if ins.tree.len() >= ins.state.limits.max_nodes as usize
            || ins.tree.bytes_len() + key.len() + value.len() > ins.state.byte_cap
        {
            self.limit(ins, parent, LimitKind::Nodes);
            return Err(Stop);
        }
        let (ks, ke) = ins.tree.push_bytes(key);
        let span = ins.tree.push_bytes(value);
        Ok(ins.tree.push_node(
            parent,
            Seg::Key { start: ks, end: ke },
            NodeKind::Leaf,
            span,
        ))
    }

    /// Records a limit finding, once per limit kind.
    fn limit(&self, ins: &mut Inspection, at: NodeId, kind: LimitKind) {
        ins.state.exhaust(kind);
        let rule = match kind {
            LimitKind::Depth => "limit.depth",
            LimitKind::Nesting => "limit.nesting",
            LimitKind::Nodes => "limit.nodes",
            LimitKind::Bytes => "limit.bytes",
            LimitKind::Time => "limit.time",
        };
        if ins.state.findings.iter().any(|f| f.rule == rule) {
            return;
        }
        ins.state.findings.push(Finding::new(
            at,
            Class::Limit,
            rule,
            100,
            format!("decoding budget exhausted: {}", kind.as_str()),
        ));
    }

    /// Runs decoder `d` with `root` as the emitter root (no layer node):
    /// for sources whose children hang directly below them.
    fn apply_into(
        &self,
        ins: &mut Inspection,
        root: NodeId,
        d: usize,
        input: &[u8],
        how: How,
        media: Option<&[u8]>,
    ) -> Result<(), Stop> {
        let slot = &self.engine.decoders[d];
        let ctx = DecodeCtx {
            declared: how != How::Sniffed,
            media_type: media,
            source: ins.tree.source_of(root),
        };
        let res = {
            let mut out = Emitter::new(&mut ins.tree, &mut ins.state, root, slot.name);
            catch_unwind(AssertUnwindSafe(|| {
                slot.decoder.decode(input, &ctx, &mut out)
            }))
        };
        self.settle(ins, root, slot.name, res, how, None)
    }

    /// Adds a layer node for decoder `d` below `node` and decodes `node`'s
    /// value into it. Returns the layer node if it stays.
    fn apply_layer(
        &self,
        ins: &mut Inspection,
        node: NodeId,
        d: usize,
        how: How,
        media: Option<&[u8]>,
    ) -> Result<Option<NodeId>, Stop> {
        let slot = &self.engine.decoders[d];
        if ins.tree.node(node).depth >= ins.state.limits.max_depth {
            self.limit(ins, node, LimitKind::Depth);
            return Ok(None);
        }
        if ins.tree.len() >= ins.state.limits.max_nodes as usize {
            self.limit(ins, node, LimitKind::Nodes);
            return Err(Stop);
        }
        let cp = (
            ins.tree.checkpoint(),
            ins.state.findings.len(),
            ins.state.hints.len(),
        );
        let layer = ins
            .tree
            .push_node(node, Seg::Layer(slot.name), NodeKind::Leaf, (0, 0));
        let mut input = std::mem::take(&mut ins.scratch);
        input.clear();
        input.extend_from_slice(ins.tree.value(node));
        let ctx = DecodeCtx {
            declared: how != How::Sniffed,
            media_type: media,
            source: ins.tree.source_of(node),
        };
        let res = {
            let mut out = Emitter::new(&mut ins.tree, &mut ins.state, layer, slot.name);
            catch_unwind(AssertUnwindSafe(|| {
                slot.decoder.decode(&input, &ctx, &mut out)
            }))
        };
        ins.scratch = input;
        let kept = self.settle(ins, layer, slot.name, res, how, Some(cp));
        match kept {
            Ok(()) if ins.tree.len() > cp.0 .0 => {
                // The layer is inspected when the decoder gave it a value (a
                // transform's output, a form's whole decoded string), and is
                // a container otherwise.
                if ins.tree.node(layer).value_len() == 0 {
                    ins.tree.set_kind(layer, NodeKind::Container);
                }
                Ok(Some(layer))
            }
            Ok(()) => Ok(None),
            Err(Stop) => Err(Stop),
        }
    }

    /// Keeps or rolls back what a decoding produced, and records findings.
    /// `at` is the emitter root: a layer node when `cp` is set (it may be
    /// rolled back), else a node that stays.
    fn settle(
        &self,
        ins: &mut Inspection,
        at: NodeId,
        name: &'static str,
        res: std::thread::Result<Result<(), DecodeError>>,
        how: How,
        cp: Option<((usize, usize), usize, usize)>,
    ) -> Result<(), Stop> {
        // The node the decoding belongs to, which survives any rollback.
        let owner = match cp {
            Some(_) => ins.tree.node(at).parent().unwrap_or(NodeId::ROOT),
            None => at,
        };
        let rollback = |ins: &mut Inspection| {
            if let Some((tcp, f, h)) = cp {
                ins.tree.rollback(tcp);
                ins.state.findings.truncate(f);
                ins.state.hints.truncate(h);
            }
        };
        match res {
            Ok(Ok(())) => Ok(()),
            Ok(Err(DecodeError::NotThisFormat)) => {
                rollback(ins);
                if how == How::Declared {
                    ins.findings_note(Finding::new(
                        owner,
                        Class::Anomaly,
                        "http.content-type-mismatch",
                        20,
                        format!("declared as {name} but not in that format"),
                    ));
                }
                Ok(())
            }
            Ok(Err(DecodeError::Malformed {
                rule,
                message,
                offset,
            })) => {
                if how == How::Sniffed {
                    rollback(ins);
                    return Ok(());
                }
                // Nothing decoded at all: drop the empty layer (the value
                // stays a leaf and may still be sniffed), keep the finding.
                let empty = cp.is_some()
                    && ins.tree.children(at).next().is_none()
                    && ins.tree.node(at).value_len() == 0;
                let point = if empty {
                    if let Some((tcp, _, h)) = cp {
                        ins.tree.rollback(tcp);
                        ins.state.hints.truncate(h);
                    }
                    owner
                } else {
                    at
                };
                let f = Finding::new(point, Class::Anomaly, rule, 20, message)
                    .with_span(Span::new(offset, offset))
                    .with_origin(name);
                ins.findings_note(f);
                Ok(())
            }
            Ok(Err(DecodeError::Exhausted(kind))) => {
                self.limit(ins, at, kind);
                match kind {
                    LimitKind::Nodes | LimitKind::Bytes | LimitKind::Time => Err(Stop),
                    LimitKind::Depth | LimitKind::Nesting => Ok(()),
                }
            }
            Ok(Err(DecodeError::PluginFailed(why))) => {
                rollback(ins);
                ins.findings_note(
                    Finding::new(
                        owner,
                        Class::PluginError,
                        "plugin.panic",
                        100,
                        why.into_owned(),
                    )
                    .with_origin(name),
                );
                Ok(())
            }
            Err(_panic) => {
                rollback(ins);
                ins.findings_note(
                    Finding::new(
                        owner,
                        Class::PluginError,
                        "plugin.panic",
                        100,
                        format!("decoder {name} panicked; its output was discarded"),
                    )
                    .with_origin(name),
                );
                Ok(())
            }
        }
    }

    /// Walks every leaf in creation order (new nodes are appended, so they
    /// are visited too) and applies declared hints and sniffed layers.
    fn recurse(&self, ins: &mut Inspection) {
        let mut i = 1usize;
        let mut hint_cursor = 0usize;
        while i < ins.tree.len() {
            let id = NodeId(i as u32);
            i += 1;
            if i.is_multiple_of(64) && Instant::now() > ins.state.deadline {
                self.limit(ins, id, LimitKind::Time);
                return;
            }
            let node = *ins.tree.node(id);
            if node.kind != NodeKind::Leaf || node.value_len() == 0 {
                continue;
            }
            if matches!(node.seg, Seg::Source(Source::Method | Source::Uri)) {
                continue;
            }
            // A value already taken apart into members (the query, a form,
            // a path) is not taken apart as a form again; other layers
            // (entities, escapes) still apply to it whole.
            let structured = ins
                .tree
                .children(id)
                .any(|c| !matches!(ins.tree.node(c).seg, Seg::Layer(_)));
            // A hint declared for this node by its parent document.
            while hint_cursor < ins.state.hints.len() && ins.state.hints[hint_cursor].0 < id {
                hint_cursor += 1;
            }
            if hint_cursor < ins.state.hints.len() && ins.state.hints[hint_cursor].0 == id {
                let media = ins
                    .tree
                    .value_bytes(ins.state.hints[hint_cursor].1)
                    .to_vec();
                if let Some(d) = self.engine.decoder_for_media(&media) {
                    match self.apply_layer(ins, id, d, How::Declared, Some(&media)) {
                        Ok(Some(_)) => {
                            ins.tree.set_kind(id, NodeKind::Container);
                            continue;
                        }
                        Ok(None) => {}
                        Err(Stop) => return,
                    }
                }
            }
            if node.depth >= ins.state.limits.max_depth {
                // Sniff nothing deeper; say so only if a layer would apply.
                let v = ins.tree.value(id);
                if self
                    .engine
                    .sniffers
                    .iter()
                    .any(|&d| self.engine.decoders[d].decoder.sniff(v))
                {
                    self.limit(ins, id, LimitKind::Depth);
                }
                continue;
            }
            for k in 0..self.engine.sniffers.len() {
                let d = self.engine.sniffers[k];
                let slot = &self.engine.decoders[d];
                if structured && slot.name == "form" {
                    continue;
                }
                let v = ins.tree.value(id);
                let sniffed =
                    catch_unwind(AssertUnwindSafe(|| slot.decoder.sniff(v))).unwrap_or(false);
                if !sniffed {
                    continue;
                }
                if self.apply_layer(ins, id, d, How::Sniffed, None).is_err() {
                    return;
                }
            }
        }
    }
}
