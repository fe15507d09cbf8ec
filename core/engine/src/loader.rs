//! Loading plugins from shared libraries: the host side of the C ABI
//! (`spec/plugin-abi.md`). This module is the only unsafe code of the
//! engine.
//!
//! A library is opened, its ABI version checked before any other call, its
//! manifest read and validated, and each plugin registered with a factory
//! that creates instances through the ABI. Instances are wrapped in
//! [`DynDecoder`] and [`DynDetector`], which implement the ordinary traits:
//! the engine does not know a plugin is dynamic.

#![allow(unsafe_code)]

use std::collections::HashSet;
use std::ffi::c_void;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use rampart_plugin_api::abi::*;
use rampart_plugin_api::{
    Class, DecodeCtx, DecodeError, Decoder, DetectCtx, Detector, Emitter, Finding, Key, NodeId,
    Origin, PluginConfig, PluginError, PluginInfo, Registry, RegistryError, Span,
};

/// A library could not be loaded; nothing of it was registered.
#[derive(Debug)]
pub enum LoadError {
    Open {
        path: PathBuf,
        error: String,
    },
    MissingSymbol {
        path: PathBuf,
        symbol: &'static str,
    },
    AbiVersion {
        path: PathBuf,
        found: u32,
        expected: u32,
    },
    BadManifest {
        path: PathBuf,
        reason: String,
    },
    Refused(RegistryError),
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::Open { path, error } => {
                write!(f, "cannot load plugin library {}: {error}", path.display())
            }
            LoadError::MissingSymbol { path, symbol } => write!(
                f,
                "{} is not a Rampart plugin: it does not export `{symbol}` (built without declare_plugin!?)",
                path.display()
            ),
            LoadError::AbiVersion { path, found, expected } => write!(
                f,
                "{} was built for plugin ABI version {found}, this node speaks version {expected}: rebuild the plugin against this rampart-plugin-api",
                path.display()
            ),
            LoadError::BadManifest { path, reason } => {
                write!(f, "{} has an invalid plugin manifest: {reason}", path.display())
            }
            LoadError::Refused(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for LoadError {}

/// Interns strings that the traits want as `&'static str` (names, layers,
/// rule names of decoder findings). Bounded: past the bound, the fallback
/// is returned instead of leaking more.
fn intern(s: &[u8], fallback: &'static str) -> &'static str {
    static TABLE: OnceLock<Mutex<HashSet<&'static str>>> = OnceLock::new();
    let Ok(s) = std::str::from_utf8(s) else {
        return fallback;
    };
    let Ok(mut t) = TABLE.get_or_init(|| Mutex::new(HashSet::new())).lock() else {
        return fallback;
    };
    if let Some(&v) = t.get(s) {
        return v;
    }
    if t.len() >= 4096 || s.len() > 256 {
        return fallback;
    }
    let v: &'static str = Box::leak(s.to_owned().into_boxed_str());
    t.insert(v);
    v
}

/// # Safety
/// `s` must be null or valid for `s.len` bytes while the library is loaded.
unsafe fn bytes<'a>(s: RStr) -> &'a [u8] {
    if s.ptr.is_null() || s.len == 0 {
        &[]
    } else {
        // SAFETY: the caller guarantees the pointer.
        unsafe { std::slice::from_raw_parts(s.ptr, s.len) }
    }
}

/// An open library. It is never closed: a Rust library registers
/// thread-local destructors that run at thread exit, after anything that
/// could close it, so unloading it would leave them pointing nowhere.
/// Libraries are loaded once at start-up; keeping them costs nothing.
struct Lib {
    _lib: std::mem::ManuallyDrop<libloading::Library>,
}

/// One plugin's entry of the manifest, with the library it lives in.
#[derive(Clone)]
struct Entry {
    _lib: Arc<Lib>,
    vt: RPlugin,
    info: PluginInfo,
    layer: &'static str,
    media_types: &'static [&'static str],
    classes: &'static [Class],
}

// SAFETY: the manifest entry holds pointers into the library's immutable
// statics and function pointers; the library outlives it (the Arc).
unsafe impl Send for Entry {}
// SAFETY: as above.
unsafe impl Sync for Entry {}

/// Loads a plugin library and registers all its plugins, or none.
pub fn load_library(path: &Path, registry: &mut Registry) -> Result<Vec<PluginInfo>, LoadError> {
    let p = path.to_path_buf();
    // SAFETY: loading a library runs its initialisers; loading a plugin is
    // trusting it, as the operator asked.
    let lib = unsafe { libloading::Library::new(path) }.map_err(|e| {
        // libloading keeps the system's reason (dlerror) in the source chain.
        let mut error = e.to_string();
        let mut src = std::error::Error::source(&e);
        while let Some(s) = src {
            error.push_str(": ");
            error.push_str(&s.to_string());
            src = s.source();
        }
        LoadError::Open {
            path: p.clone(),
            error,
        }
    })?;
    // The handshake: the ABI version, before any other call.
    let version = {
        // SAFETY: the symbol's type is fixed by the ABI.
        let f: libloading::Symbol<'_, extern "C" fn() -> u32> = unsafe { lib.get(SYM_ABI_VERSION) }
            .map_err(|_| LoadError::MissingSymbol {
                path: p.clone(),
                symbol: "rampart_plugin_abi_version",
            })?;
        f()
    };
    if version != ABI_VERSION {
        return Err(LoadError::AbiVersion {
            path: p,
            found: version,
            expected: ABI_VERSION,
        });
    }
    let manifest = {
        // SAFETY: the symbol's type is fixed by the ABI.
        let f: libloading::Symbol<'_, extern "C" fn() -> *const RManifest> =
            unsafe { lib.get(SYM_MANIFEST) }.map_err(|_| LoadError::MissingSymbol {
                path: p.clone(),
                symbol: "rampart_plugin_manifest",
            })?;
        f()
    };
    let bad = |reason: String| LoadError::BadManifest {
        path: p.clone(),
        reason,
    };
    if manifest.is_null() {
        return Err(bad("the manifest pointer is null".into()));
    }
    // SAFETY: non-null, and valid while the library is loaded.
    let m = unsafe { &*manifest };
    if m.abi_version != ABI_VERSION {
        return Err(LoadError::AbiVersion {
            path: p,
            found: m.abi_version,
            expected: ABI_VERSION,
        });
    }
    if m.count == 0 || m.plugins.is_null() || m.count > 1024 {
        return Err(bad(format!("{} plugins", m.count)));
    }
    let lib = Arc::new(Lib {
        _lib: std::mem::ManuallyDrop::new(lib),
    });
    // SAFETY: `count` entries, valid while the library is loaded.
    let vts = unsafe { std::slice::from_raw_parts(m.plugins, m.count) };
    let mut entries = Vec::new();
    for vt in vts {
        // SAFETY: the manifest's strings live as long as the library.
        let (name, version, description, layer) = unsafe {
            (
                bytes(vt.name),
                bytes(vt.version),
                bytes(vt.description),
                bytes(vt.layer),
            )
        };
        let name_s =
            std::str::from_utf8(name).map_err(|_| bad("a plugin name is not UTF-8".into()))?;
        if name_s.is_empty() || name_s.len() > 64 {
            return Err(bad(format!("plugin name {name_s:?} must be 1..=64 bytes")));
        }
        let info = PluginInfo {
            name: intern(name, "invalid"),
            version: intern(version, "?"),
            description: intern(description, ""),
        };
        let mut e = Entry {
            _lib: lib.clone(),
            vt: *vt,
            info,
            layer: "",
            media_types: &[],
            classes: &[],
        };
        match vt.kind {
            KIND_DECODER => {
                if vt.sniff.is_none() || vt.decode.is_none() {
                    return Err(bad(format!("decoder {name_s} lacks sniff or decode")));
                }
                if layer.is_empty()
                    || !layer
                        .iter()
                        .all(|b| b.is_ascii_alphanumeric() || *b == b'_')
                {
                    return Err(bad(format!(
                        "decoder {name_s}: layer name must be an identifier"
                    )));
                }
                e.layer = intern(layer, "invalid");
                let mut mts = Vec::new();
                if !vt.media_types.is_null() {
                    // SAFETY: `media_types_len` entries, valid while loaded.
                    for r in unsafe {
                        std::slice::from_raw_parts(vt.media_types, vt.media_types_len.min(64))
                    } {
                        // SAFETY: as above.
                        mts.push(intern(unsafe { bytes(*r) }, ""));
                    }
                }
                e.media_types = Box::leak(mts.into_boxed_slice());
            }
            KIND_DETECTOR => {
                if vt.inspect.is_none() {
                    return Err(bad(format!("detector {name_s} lacks inspect")));
                }
                let mut cs = Vec::new();
                if !vt.classes.is_null() {
                    // SAFETY: `classes_len` entries, valid while loaded.
                    for &c in
                        unsafe { std::slice::from_raw_parts(vt.classes, vt.classes_len.min(64)) }
                    {
                        cs.push(Class::from_code(c).ok_or_else(|| {
                            bad(format!("detector {name_s}: unknown class code {c}"))
                        })?);
                    }
                }
                e.classes = Box::leak(cs.into_boxed_slice());
            }
            k => return Err(bad(format!("plugin {name_s}: unknown kind {k}"))),
        }
        entries.push(e);
    }
    // All or nothing: check every name before registering any.
    let mut trial = registry.clone();
    let origin = Origin::Library(p.clone());
    for e in &entries {
        register(&mut trial, e.clone(), origin.clone()).map_err(LoadError::Refused)?;
    }
    *registry = trial;
    Ok(entries.iter().map(|e| e.info).collect())
}

fn register(reg: &mut Registry, e: Entry, origin: Origin) -> Result<(), RegistryError> {
    let info = e.info;
    if e.vt.kind == KIND_DECODER {
        reg.register_decoder(
            info,
            origin,
            Arc::new(move |cfg| {
                Ok(Arc::new(DynDecoder {
                    inst: create(&e, cfg)?,
                    e: e.clone(),
                }) as Arc<dyn Decoder>)
            }),
        )
    } else {
        reg.register_detector(
            info,
            origin,
            Arc::new(move |cfg| {
                Ok(Arc::new(DynDetector {
                    inst: create(&e, cfg)?,
                    e: e.clone(),
                }) as Arc<dyn Detector>)
            }),
        )
    }
}

extern "C" fn write_error(host: *mut c_void, message: RStr) {
    // SAFETY: `host` is the String passed by `create` below.
    let (s, m) = unsafe { (&mut *host.cast::<String>(), bytes(message)) };
    s.push_str(&String::from_utf8_lossy(m));
}

/// An instance pointer owned by the host; destroyed through the ABI.
struct Instance {
    ptr: *mut c_void,
    destroy: extern "C" fn(*mut c_void),
}

impl Drop for Instance {
    fn drop(&mut self) {
        (self.destroy)(self.ptr);
    }
}

fn create(e: &Entry, cfg: &PluginConfig) -> Result<Instance, PluginError> {
    let kvs: Vec<RKeyValue> = cfg
        .iter()
        .map(|(k, v)| RKeyValue {
            key: RStr::new(k.as_bytes()),
            value: RStr::new(v.as_bytes()),
        })
        .collect();
    let mut msg = String::new();
    let sink = RErrorSink {
        host: (&mut msg as *mut String).cast(),
        write: write_error,
    };
    let mut out: *mut c_void = std::ptr::null_mut();
    let status = (e.vt.create)(kvs.as_ptr(), kvs.len(), &mut out, &sink);
    match status {
        STATUS_OK if !out.is_null() => Ok(Instance {
            ptr: out,
            destroy: e.vt.destroy,
        }),
        STATUS_PANIC => Err(PluginError(format!(
            "{}: panicked while being created",
            e.info.name
        ))),
        _ if msg.is_empty() => Err(PluginError(format!(
            "{}: could not be created (status {status})",
            e.info.name
        ))),
        _ => Err(PluginError(msg)),
    }
}

/// A decoder that lives in a shared library.
pub struct DynDecoder {
    e: Entry,
    inst: Instance,
}

/// A detector that lives in a shared library.
pub struct DynDetector {
    e: Entry,
    inst: Instance,
}

// SAFETY: the ABI requires plugin instances to be usable from any thread
// at once (spec/plugin-abi.md, "Threads"); the host never mutates them.
unsafe impl Send for DynDecoder {}
// SAFETY: as above.
unsafe impl Sync for DynDecoder {}
// SAFETY: as above.
unsafe impl Send for DynDetector {}
// SAFETY: as above.
unsafe impl Sync for DynDetector {}

impl fmt::Debug for DynDecoder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DynDecoder({})", self.e.info.name)
    }
}

impl fmt::Debug for DynDetector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DynDetector({})", self.e.info.name)
    }
}

/// The host's state during one decoder call.
struct DecodeHost<'a, 'b> {
    out: &'a mut Emitter<'b>,
    ids: Vec<NodeId>,
    fail: Option<(&'static str, String, u64)>,
    refused: bool,
}

fn limit_of(e: rampart_plugin_api::Exhausted) -> i64 {
    -i64::from(limit_code(e.0))
}

extern "C" fn host_node(
    host: *mut c_void,
    parent: u32,
    key: RStr,
    index: u32,
    value: RStr,
    container: u32,
) -> i64 {
    // SAFETY: `host` is the DecodeHost of the current call; strings valid.
    let (h, key_b, value) = unsafe {
        (
            &mut *host.cast::<DecodeHost<'_, '_>>(),
            bytes(key),
            bytes(value),
        )
    };
    let Some(&p) = h.ids.get(parent as usize) else {
        h.refused = true;
        return -i64::from(LIMIT_NODES);
    };
    let k = if key.is_none() {
        Key::Index(index)
    } else {
        Key::Name(key_b)
    };
    let r = if container != 0 {
        h.out.container(p, k, value)
    } else {
        h.out.leaf(p, k, value)
    };
    match r {
        Ok(id) => {
            h.ids.push(id);
            (h.ids.len() - 1) as i64
        }
        Err(e) => limit_of(e),
    }
}

extern "C" fn host_set_root_value(host: *mut c_void, value: RStr) -> i64 {
    // SAFETY: as in host_node.
    let (h, value) = unsafe { (&mut *host.cast::<DecodeHost<'_, '_>>(), bytes(value)) };
    if value.len() > h.out.bytes_left() {
        return limit_of(h.out.exhaust(rampart_plugin_api::LimitKind::Bytes));
    }
    let mark = h.out.mark();
    h.out.buf().extend_from_slice(value);
    match h.out.span_from(mark) {
        Ok(span) => {
            h.out.set_root_value(span);
            0
        }
        Err(e) => limit_of(e),
    }
}

extern "C" fn host_hint(host: *mut c_void, node: u32, media: RStr) -> i64 {
    // SAFETY: as in host_node.
    let (h, media) = unsafe { (&mut *host.cast::<DecodeHost<'_, '_>>(), bytes(media)) };
    match h.ids.get(node as usize) {
        Some(&id) => match h.out.hint(id, media) {
            Ok(()) => 0,
            Err(e) => limit_of(e),
        },
        None => {
            h.refused = true;
            -i64::from(LIMIT_NODES)
        }
    }
}

#[allow(clippy::too_many_arguments)]
extern "C" fn host_flag(
    host: *mut c_void,
    node: u32,
    class: u16,
    score: u8,
    start: u32,
    end: u32,
    rule: RStr,
    message: RStr,
) {
    // SAFETY: as in host_node.
    let (h, rule, message) = unsafe {
        (
            &mut *host.cast::<DecodeHost<'_, '_>>(),
            bytes(rule),
            bytes(message),
        )
    };
    let (Some(&id), Some(class)) = (h.ids.get(node as usize), Class::from_code(class)) else {
        h.refused = true;
        return;
    };
    let f = Finding::new(
        id,
        class,
        intern(rule, "plugin.finding"),
        score,
        String::from_utf8_lossy(message).into_owned(),
    )
    .with_span(Span {
        start,
        end: end.max(start),
    });
    h.out.report(f);
}

extern "C" fn host_fail(host: *mut c_void, rule: RStr, message: RStr, offset: u64) {
    // SAFETY: as in host_node.
    let (h, rule_b, message) = unsafe {
        (
            &mut *host.cast::<DecodeHost<'_, '_>>(),
            bytes(rule),
            bytes(message),
        )
    };
    h.fail = Some((
        intern(rule_b, "plugin.malformed"),
        String::from_utf8_lossy(message).into_owned(),
        offset,
    ));
}

impl Decoder for DynDecoder {
    fn info(&self) -> PluginInfo {
        self.e.info
    }

    fn layer(&self) -> &'static str {
        self.e.layer
    }

    fn media_types(&self) -> &'static [&'static str] {
        self.e.media_types
    }

    fn sniff(&self, value: &[u8]) -> bool {
        match self.e.vt.sniff {
            Some(f) => f(self.inst.ptr, RStr::new(value)) == 1,
            None => false,
        }
    }

    fn decode(
        &self,
        input: &[u8],
        ctx: &DecodeCtx<'_>,
        out: &mut Emitter<'_>,
    ) -> Result<(), DecodeError> {
        let Some(decode) = self.e.vt.decode else {
            return Err(DecodeError::NotThisFormat);
        };
        let limits = out.limits();
        let rctx = RDecodeCtx {
            declared: u32::from(ctx.declared),
            media_type: RStr::opt(ctx.media_type),
            source: source_code(ctx.source),
            limits: RLimits {
                max_nesting: u32::from(limits.max_nesting),
                nodes_left: (limits.max_nodes as usize).saturating_sub(out.tree().len()) as u32,
                bytes_left: out.bytes_left() as u64,
                time_left_us: limits.max_time.as_micros().min(u128::from(u64::MAX)) as u64,
            },
        };
        let root = out.root();
        let mut host = DecodeHost {
            out,
            ids: vec![root],
            fail: None,
            refused: false,
        };
        let sink = RDecodeSink {
            host: (&mut host as *mut DecodeHost<'_, '_>).cast(),
            node: host_node,
            set_root_value: host_set_root_value,
            hint: host_hint,
            flag: host_flag,
            fail: host_fail,
        };
        let status = decode(self.inst.ptr, RStr::new(input), &rctx, &sink);
        let refused = host.refused;
        let fail = host.fail.take();
        if refused {
            return Err(DecodeError::malformed(
                "plugin.malformed-data",
                format!(
                    "decoder {} referred to a point it never created",
                    self.e.info.name
                ),
                0,
            ));
        }
        match status {
            STATUS_OK => Ok(()),
            STATUS_NOT_THIS_FORMAT => Err(DecodeError::NotThisFormat),
            STATUS_MALFORMED => {
                let (rule, msg, off) = fail.unwrap_or(("plugin.malformed", String::new(), 0));
                Err(DecodeError::malformed(rule, msg, off as usize))
            }
            STATUS_EXHAUSTED => {
                let kind = limit_from_code(fail.map_or(LIMIT_BYTES as u64, |f| f.2) as u32);
                Err(DecodeError::Exhausted(kind))
            }
            // A panic caught inside the library, or an unknown status.
            _ => Err(DecodeError::PluginFailed(
                format!("decoder {} failed with status {status}", self.e.info.name).into(),
            )),
        }
    }
}

struct FindingHost<'a> {
    out: &'a mut Vec<Finding>,
    len: u32,
    point: NodeId,
    origin: &'static str,
    malformed: Option<String>,
}

#[allow(clippy::too_many_arguments)]
extern "C" fn host_push(
    host: *mut c_void,
    class: u16,
    score: u8,
    start: u32,
    end: u32,
    rule: RStr,
    message: RStr,
) {
    // SAFETY: `host` is the FindingHost of the current call; strings valid.
    let (h, rule, message) = unsafe {
        (
            &mut *host.cast::<FindingHost<'_>>(),
            bytes(rule),
            bytes(message),
        )
    };
    if h.out.len() >= 256 {
        return;
    }
    let Some(c) = Class::from_code(class) else {
        h.malformed
            .get_or_insert(format!("invalid class code {class}"));
        return;
    };
    if start > end || end > h.len || score > 100 {
        h.malformed.get_or_insert(format!(
            "span {start}..{end} or score {score} out of range (value length {})",
            h.len
        ));
        return;
    }
    let rule = String::from_utf8_lossy(rule).into_owned();
    h.out.push(
        Finding::new(
            h.point,
            c,
            rule,
            score,
            String::from_utf8_lossy(message).into_owned(),
        )
        .with_span(Span { start, end })
        .with_origin(h.origin),
    );
}

impl Detector for DynDetector {
    fn info(&self) -> PluginInfo {
        self.e.info
    }

    fn classes(&self) -> &'static [Class] {
        self.e.classes
    }

    fn inspect(&self, value: &[u8], ctx: &DetectCtx<'_>, out: &mut Vec<Finding>) {
        let Some(inspect) = self.e.vt.inspect else {
            return;
        };
        VIEW.with(|cache| {
            let mut cache = match cache.try_borrow_mut() {
                Ok(c) => c,
                Err(_) => return,
            };
            let (generation, nodes) = &mut *cache;
            if *generation != ctx.tree.generation() || nodes.len() != ctx.tree.len() {
                view_of(ctx.tree, nodes);
                *generation = ctx.tree.generation();
            }
            let view = RTreeView {
                generation: *generation,
                nodes: nodes.as_ptr(),
                len: nodes.len(),
            };
            let rctx = RDetectCtx {
                tree: &view,
                point: ctx.point.0,
                endpoint: RStr::new(ctx.endpoint),
                content_type: RStr::opt(ctx.content_type),
            };
            self.call(inspect, value, &rctx, ctx.point, out);
        });
    }
}

thread_local! {
    /// The view of the tree being inspected on this thread, by generation:
    /// built once per request, then shared by every dynamic detector call.
    static VIEW: std::cell::RefCell<(u64, Vec<RNode>)> = const { std::cell::RefCell::new((0, Vec::new())) };
}

/// The ABI view of a tree. Its strings point into the tree, which the
/// detect phase does not change; the generation check keeps a stale view
/// from ever being used for another tree.
fn view_of(tree: &rampart_plugin_api::Tree, nodes: &mut Vec<RNode>) {
    use rampart_plugin_api::{NodeKind, Seg};
    nodes.clear();
    for id in tree.ids() {
        let n = tree.node(id);
        let (seg, number, name) = match n.seg {
            Seg::Root => (SEG_ROOT, 0, RStr::NONE),
            Seg::Source(s) => (SEG_SOURCE, source_code(Some(s)), RStr::NONE),
            Seg::Key { .. } => (SEG_KEY, 0, RStr::new(tree.key(n.seg).unwrap_or_default())),
            Seg::Index(i) => (SEG_INDEX, i, RStr::NONE),
            Seg::Layer(l) => (SEG_LAYER, 0, RStr::new(l.as_bytes())),
        };
        nodes.push(RNode {
            parent: n.parent().map_or(u32::MAX, |p| p.0),
            leaf: u8::from(n.kind == NodeKind::Leaf),
            seg,
            number,
            name,
            value: RStr::new(tree.value(id)),
        });
    }
}

impl DynDetector {
    fn call(
        &self,
        inspect: extern "C" fn(*mut c_void, RStr, *const RDetectCtx, *const RFindingSink) -> u32,
        value: &[u8],
        rctx: &RDetectCtx,
        point: NodeId,
        out: &mut Vec<Finding>,
    ) {
        let mut host = FindingHost {
            out,
            len: value.len() as u32,
            point,
            origin: self.e.info.name,
            malformed: None,
        };
        let sink = RFindingSink {
            host: (&mut host as *mut FindingHost<'_>).cast(),
            push: host_push,
        };
        let status = inspect(self.inst.ptr, RStr::new(value), rctx, &sink);
        let name = self.e.info.name;
        if let Some(why) = host.malformed {
            out.push(
                Finding::new(
                    point,
                    Class::PluginError,
                    "plugin.malformed-data",
                    100,
                    format!("detector {name} returned malformed data: {why}"),
                )
                .with_origin(name),
            );
        }
        if status != STATUS_OK {
            out.push(
                Finding::new(
                    point,
                    Class::PluginError,
                    "plugin.panic",
                    100,
                    format!("detector {name} failed with status {status}"),
                )
                .with_origin(name),
            );
        }
    }
}
