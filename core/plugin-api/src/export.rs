//! The plugin side of the C ABI: what [`crate::declare_plugin!`] expands
//! to. A plugin author never calls this module directly.
//!
//! Each `extern "C"` thunk is monomorphised for one plugin type, catches
//! every panic before it could cross the boundary, and turns the ABI's raw
//! pointers into the safe types the `Decoder` and `Detector` traits use.
//! A decoder runs on a plugin-side scratch tree inside the budget the host
//! passed; its points are then handed to the host one by one.

// The only unsafe code of this crate: dereferencing the pointers the host
// passes, under the contract of `spec/plugin-abi.md`.
#![allow(unsafe_code)]

use std::cell::RefCell;
use std::ffi::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Duration;

use rampart_types::{Limits, NodeId, NodeKind, Seg, Source, Tree};

use crate::abi::*;
use crate::{
    DecodeCtx, DecodeError, DecodeState, Decoder, DetectCtx, Detector, Emitter, PluginConfig,
};

/// # Safety
/// `s` must be null or point to `s.len` readable bytes for the call.
unsafe fn bytes<'a>(s: RStr) -> &'a [u8] {
    if s.ptr.is_null() || s.len == 0 {
        &[]
    } else {
        // SAFETY: the caller guarantees `ptr` is valid for `len` bytes.
        unsafe { std::slice::from_raw_parts(s.ptr, s.len) }
    }
}

/// The manifest of a library: built once, on first request, and kept for
/// the life of the library.
#[derive(Debug)]
pub struct Manifest {
    plugins: Vec<RPlugin>,
    manifest: RManifest,
}

// SAFETY: the manifest only holds pointers to 'static data of the library
// (names, tables) and function pointers; it is never mutated once built.
unsafe impl Send for Manifest {}
// SAFETY: as above.
unsafe impl Sync for Manifest {}

impl Default for Manifest {
    fn default() -> Self {
        Manifest::new()
    }
}

fn leak_strs(v: &'static [&'static str]) -> (*const RStr, usize) {
    let rs: Vec<RStr> = v.iter().map(|s| RStr::new(s.as_bytes())).collect();
    let rs: &'static [RStr] = Box::leak(rs.into_boxed_slice());
    (rs.as_ptr(), rs.len())
}

impl Manifest {
    pub fn new() -> Manifest {
        Manifest {
            plugins: Vec::new(),
            manifest: RManifest {
                abi_version: ABI_VERSION,
                count: 0,
                plugins: std::ptr::null(),
            },
        }
    }

    /// Adds a decoder type.
    pub fn decoder<D: Decoder + Default>(&mut self) {
        let d = D::default();
        let info = d.info();
        let (media_types, media_types_len) = leak_strs(d.media_types());
        self.plugins.push(RPlugin {
            kind: KIND_DECODER,
            name: RStr::new(info.name.as_bytes()),
            version: RStr::new(info.version.as_bytes()),
            description: RStr::new(info.description.as_bytes()),
            layer: RStr::new(d.layer().as_bytes()),
            media_types,
            media_types_len,
            classes: std::ptr::null(),
            classes_len: 0,
            create: create::<D>,
            destroy: destroy::<D>,
            sniff: Some(sniff::<D>),
            decode: Some(decode::<D>),
            inspect: None,
        });
    }

    /// Adds a detector type.
    pub fn detector<T: Detector + Default>(&mut self) {
        let t = T::default();
        let info = t.info();
        let classes: Vec<u16> = t.classes().iter().map(|c| c.code()).collect();
        let classes: &'static [u16] = Box::leak(classes.into_boxed_slice());
        self.plugins.push(RPlugin {
            kind: KIND_DETECTOR,
            name: RStr::new(info.name.as_bytes()),
            version: RStr::new(info.version.as_bytes()),
            description: RStr::new(info.description.as_bytes()),
            layer: RStr::NONE,
            media_types: std::ptr::null(),
            media_types_len: 0,
            classes: classes.as_ptr(),
            classes_len: classes.len(),
            create: create_detector::<T>,
            destroy: destroy::<T>,
            sniff: None,
            decode: None,
            inspect: Some(inspect::<T>),
        });
    }

    /// Fixes the manifest's pointers; call once after adding every plugin.
    pub fn seal(mut self) -> Manifest {
        self.manifest.count = self.plugins.len();
        self.manifest.plugins = self.plugins.as_ptr();
        self
    }

    pub fn as_ptr(&self) -> *const RManifest {
        &self.manifest
    }
}

/// Reads a configuration array into a map.
///
/// # Safety
/// `config` must point to `len` valid `RKeyValue`s (or be null with 0).
unsafe fn read_config(config: *const RKeyValue, len: usize) -> PluginConfig {
    let mut cfg = PluginConfig::new();
    if config.is_null() {
        return cfg;
    }
    // SAFETY: the caller guarantees the array.
    let kvs = unsafe { std::slice::from_raw_parts(config, len) };
    for kv in kvs {
        // SAFETY: each RStr is valid for the call.
        let (k, v) = unsafe { (bytes(kv.key), bytes(kv.value)) };
        cfg.insert(
            String::from_utf8_lossy(k).into_owned(),
            String::from_utf8_lossy(v).into_owned(),
        );
    }
    cfg
}

fn write_error(err: *const RErrorSink, msg: &str) {
    if err.is_null() {
        return;
    }
    // SAFETY: a non-null error sink is valid for the call.
    let sink = unsafe { &*err };
    (sink.write)(sink.host, RStr::new(msg.as_bytes()));
}

/// Builds an instance with its configuration and hands it to the host.
fn create_with<P: Default>(
    config: *const RKeyValue,
    config_len: usize,
    out: *mut *mut c_void,
    err: *const RErrorSink,
    configure: fn(&mut P, &PluginConfig) -> Result<(), crate::PluginError>,
) -> u32 {
    let r = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: host contract.
        let cfg = unsafe { read_config(config, config_len) };
        let mut p = P::default();
        match configure(&mut p, &cfg) {
            Ok(()) => {
                // SAFETY: `out` is valid for one write.
                unsafe { *out = Box::into_raw(Box::new(p)).cast() };
                STATUS_OK
            }
            Err(e) => {
                write_error(err, &e.0);
                STATUS_ERROR
            }
        }
    }));
    r.unwrap_or(STATUS_PANIC)
}

extern "C" fn create<D: Decoder + Default>(
    config: *const RKeyValue,
    config_len: usize,
    out: *mut *mut c_void,
    err: *const RErrorSink,
) -> u32 {
    create_with::<D>(config, config_len, out, err, D::configure)
}

extern "C" fn create_detector<T: Detector + Default>(
    config: *const RKeyValue,
    config_len: usize,
    out: *mut *mut c_void,
    err: *const RErrorSink,
) -> u32 {
    create_with::<T>(config, config_len, out, err, T::configure)
}

extern "C" fn destroy<P>(instance: *mut c_void) {
    if instance.is_null() {
        return;
    }
    let _ = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: the instance came from `create` and is destroyed once.
        drop(unsafe { Box::from_raw(instance.cast::<P>()) });
    }));
}

extern "C" fn sniff<D: Decoder>(instance: *mut c_void, value: RStr) -> u32 {
    catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: host contract: a live instance and a valid value.
        let (d, v) = unsafe { (&*instance.cast::<D>(), bytes(value)) };
        u32::from(d.sniff(v))
    }))
    .unwrap_or(STATUS_PANIC)
}

thread_local! {
    static SCRATCH: RefCell<(Tree, Option<DecodeState>, Vec<u32>)> =
        RefCell::new((Tree::new(), None, Vec::new()));
}

extern "C" fn decode<D: Decoder>(
    instance: *mut c_void,
    input: RStr,
    ctx: *const RDecodeCtx,
    sink: *const RDecodeSink,
) -> u32 {
    catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: host contract: a live instance, valid input, ctx and sink.
        let (d, input, ctx, sink) =
            unsafe { (&*instance.cast::<D>(), bytes(input), &*ctx, &*sink) };
        // SAFETY: as above; the media type is valid for the call.
        let media = if ctx.media_type.is_none() {
            None
        } else {
            Some(unsafe { bytes(ctx.media_type) })
        };
        SCRATCH.with(|s| match s.try_borrow_mut() {
            Ok(mut s) => {
                let (tree, state, map) = &mut *s;
                decode_into(d, input, media, ctx, sink, tree, state, map)
            }
            // Re-entered on this thread (a decoder calling the host that
            // calls a decoder): use fresh scratch space.
            Err(_) => decode_into(
                d,
                input,
                media,
                ctx,
                sink,
                &mut Tree::new(),
                &mut None,
                &mut Vec::new(),
            ),
        })
    }))
    .unwrap_or(STATUS_PANIC)
}

#[allow(clippy::too_many_arguments)]
fn decode_into<D: Decoder>(
    d: &D,
    input: &[u8],
    media: Option<&[u8]>,
    ctx: &RDecodeCtx,
    sink: &RDecodeSink,
    tree: &mut Tree,
    state: &mut Option<DecodeState>,
    map: &mut Vec<u32>,
) -> u32 {
    let limits = Limits {
        max_depth: u16::MAX,
        max_nesting: ctx.limits.max_nesting.min(u32::from(u16::MAX)) as u16,
        max_nodes: ctx.limits.nodes_left.saturating_add(2),
        max_bytes: u32::MAX,
        max_expansion: u32::MAX,
        max_time: Duration::from_micros(ctx.limits.time_left_us),
    };
    tree.clear();
    let root = tree.push_node(NodeId::ROOT, Seg::Layer(d.layer()), NodeKind::Leaf, (0, 0));
    let state = state.get_or_insert_with(|| DecodeState::new(limits, 0));
    state.reset(limits, 0);
    state.byte_cap = usize::try_from(ctx.limits.bytes_left).unwrap_or(usize::MAX);
    let dctx = DecodeCtx {
        declared: ctx.declared != 0,
        media_type: media,
        source: source_from_code(ctx.source),
    };
    let res = {
        let mut out = Emitter::new(tree, state, root, d.info().name);
        d.decode(input, &dctx, &mut out)
    };
    // Hand the points to the host, mapping local ids to the call's ids.
    map.clear();
    map.resize(tree.len(), 0);
    for i in (root.0 + 1)..tree.len() as u32 {
        let id = NodeId(i);
        let node = *tree.node(id);
        let parent = node
            .parent()
            .map_or(0, |p| map.get(p.index()).copied().unwrap_or(0));
        let (key, index) = match node.seg {
            Seg::Key { .. } => (RStr::new(tree.key(node.seg).unwrap_or_default()), 0),
            Seg::Index(n) => (RStr::NONE, n),
            _ => (RStr::NONE, 0),
        };
        let container = u32::from(node.kind == NodeKind::Container);
        let r = (sink.node)(
            sink.host,
            parent,
            key,
            index,
            RStr::new(tree.value(id)),
            container,
        );
        if r < 0 {
            (sink.fail)(sink.host, RStr::NONE, RStr::NONE, (-r) as u64);
            return STATUS_EXHAUSTED;
        }
        map[id.index()] = r as u32;
    }
    let root_value = tree.value(root);
    if !root_value.is_empty() {
        let r = (sink.set_root_value)(sink.host, RStr::new(root_value));
        if r < 0 {
            (sink.fail)(sink.host, RStr::NONE, RStr::NONE, (-r) as u64);
            return STATUS_EXHAUSTED;
        }
    }
    let local = |n: NodeId| {
        if n.0 <= root.0 {
            0
        } else {
            map.get(n.index()).copied().unwrap_or(0)
        }
    };
    for &(node, span) in &state.hints {
        (sink.hint)(sink.host, local(node), RStr::new(tree.value_bytes(span)));
    }
    for f in &state.findings {
        (sink.flag)(
            sink.host,
            local(f.point),
            f.class.code(),
            f.score,
            f.span.start,
            f.span.end,
            RStr::new(f.rule.as_bytes()),
            RStr::new(f.message.as_bytes()),
        );
    }
    match res {
        Ok(()) => STATUS_OK,
        Err(DecodeError::NotThisFormat) => STATUS_NOT_THIS_FORMAT,
        Err(DecodeError::Malformed {
            rule,
            message,
            offset,
        }) => {
            (sink.fail)(
                sink.host,
                RStr::new(rule.as_bytes()),
                RStr::new(message.as_bytes()),
                offset as u64,
            );
            STATUS_MALFORMED
        }
        Err(DecodeError::Exhausted(kind)) => {
            (sink.fail)(
                sink.host,
                RStr::NONE,
                RStr::NONE,
                u64::from(limit_code(kind)),
            );
            STATUS_EXHAUSTED
        }
        Err(DecodeError::PluginFailed(m)) => {
            (sink.fail)(sink.host, RStr::NONE, RStr::new(m.as_bytes()), 0);
            STATUS_ERROR
        }
    }
}

thread_local! {
    /// The plugin's copy of the host's tree (by generation) and a findings
    /// buffer, reused across calls on this thread.
    static DETECT_SCRATCH: RefCell<(u64, Tree, Vec<rampart_types::Finding>)> =
        RefCell::new((0, Tree::new(), Vec::new()));
}

/// Layer names as `&'static str` (few and fixed in practice; bounded).
fn intern_layer(name: &[u8]) -> &'static str {
    use std::collections::HashSet;
    use std::sync::{Mutex, OnceLock};
    static NAMES: OnceLock<Mutex<HashSet<&'static str>>> = OnceLock::new();
    let Ok(name) = std::str::from_utf8(name) else {
        return "layer";
    };
    let Ok(mut set) = NAMES.get_or_init(|| Mutex::new(HashSet::new())).lock() else {
        return "layer";
    };
    if let Some(&n) = set.get(name) {
        return n;
    }
    if set.len() >= 256 || name.len() > 64 {
        return "layer";
    }
    let n: &'static str = Box::leak(name.to_owned().into_boxed_str());
    set.insert(n);
    n
}

/// Rebuilds the host's tree from its view, node for node (same ids).
///
/// # Safety
/// `view` must describe `len` valid nodes whose strings are valid for the
/// call.
unsafe fn rebuild(tree: &mut Tree, view: &RTreeView) {
    tree.clear();
    if view.nodes.is_null() {
        return;
    }
    // SAFETY: the caller guarantees the array.
    let nodes = unsafe { std::slice::from_raw_parts(view.nodes, view.len) };
    for (i, n) in nodes.iter().enumerate().skip(1) {
        let parent = if (n.parent as usize) < i {
            NodeId(n.parent)
        } else {
            NodeId::ROOT
        };
        // SAFETY: the node's strings are valid for the call.
        let (name, value) = unsafe { (bytes(n.name), bytes(n.value)) };
        let v = tree.push_bytes(value);
        let seg = match n.seg {
            SEG_SOURCE => Seg::Source(source_from_code(n.number).unwrap_or(Source::Body)),
            SEG_KEY => {
                let (start, end) = tree.push_bytes(name);
                Seg::Key { start, end }
            }
            SEG_LAYER => Seg::Layer(intern_layer(name)),
            _ => Seg::Index(n.number),
        };
        let kind = if n.leaf != 0 {
            NodeKind::Leaf
        } else {
            NodeKind::Container
        };
        tree.push_node(parent, seg, kind, v);
    }
}

extern "C" fn inspect<T: Detector>(
    instance: *mut c_void,
    value: RStr,
    ctx: *const RDetectCtx,
    sink: *const RFindingSink,
) -> u32 {
    catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: host contract: a live instance, valid value, ctx, sink.
        let (t, value, ctx, sink) =
            unsafe { (&*instance.cast::<T>(), bytes(value), &*ctx, &*sink) };
        // SAFETY: the strings of the context are valid for the call.
        let (endpoint, ctype) = unsafe { (bytes(ctx.endpoint), bytes(ctx.content_type)) };
        let ctype = (!ctx.content_type.is_none()).then_some(ctype);
        if ctx.tree.is_null() {
            return STATUS_ERROR;
        }
        // SAFETY: a non-null view is valid for the call.
        let view = unsafe { &*ctx.tree };
        let run = |generation: &mut u64, tree: &mut Tree, out: &mut Vec<rampart_types::Finding>| {
            if *generation != view.generation || tree.len() != view.len {
                // SAFETY: host contract on the view.
                unsafe { rebuild(tree, view) };
                *generation = view.generation;
            }
            out.clear();
            let point = NodeId(ctx.point);
            if point.index() >= tree.len() {
                return STATUS_ERROR;
            }
            let dctx = DetectCtx {
                tree,
                point,
                source: tree.source_of(point),
                endpoint,
                content_type: ctype,
            };
            t.inspect(value, &dctx, out);
            for f in out.iter() {
                (sink.push)(
                    sink.host,
                    f.class.code(),
                    f.score,
                    f.span.start,
                    f.span.end,
                    RStr::new(f.rule.as_bytes()),
                    RStr::new(f.message.as_bytes()),
                );
            }
            STATUS_OK
        };
        DETECT_SCRATCH.with(|s| match s.try_borrow_mut() {
            Ok(mut s) => {
                let (generation, tree, out) = &mut *s;
                run(generation, tree, out)
            }
            Err(_) => run(&mut 0, &mut Tree::new(), &mut Vec::new()),
        })
    }))
    .unwrap_or(STATUS_PANIC)
}

/// Exports a library's plugins over the C ABI. Every type listed must
/// implement `Default` and the `Decoder` or `Detector` trait; configuration
/// reaches an instance through the trait's `configure`.
///
/// ```ignore
/// rampart_plugin_api::declare_plugin! {
///     decoders: [MsgpackDecoder],
///     detectors: [CardNumberDetector],
/// }
/// ```
#[macro_export]
macro_rules! declare_plugin {
    (decoders: [$($d:ty),* $(,)?], detectors: [$($t:ty),* $(,)?] $(,)?) => {
        /// The ABI version this library was built for.
        #[allow(unsafe_code)]
        #[no_mangle]
        pub extern "C" fn rampart_plugin_abi_version() -> u32 {
            $crate::abi::ABI_VERSION
        }

        /// The plugins of this library.
        #[allow(unsafe_code)]
        #[no_mangle]
        pub extern "C" fn rampart_plugin_manifest() -> *const $crate::abi::RManifest {
            static MANIFEST: ::std::sync::OnceLock<$crate::export::Manifest> =
                ::std::sync::OnceLock::new();
            MANIFEST
                .get_or_init(|| {
                    #[allow(unused_mut)]
                    let mut m = $crate::export::Manifest::new();
                    $( m.decoder::<$d>(); )*
                    $( m.detector::<$t>(); )*
                    m.seal()
                })
                .as_ptr()
        }
    };
}
