//! The C ABI between the host (a Rampart node) and a plugin library.
//! Normative description: `spec/plugin-abi.md`.
//!
//! Everything here is `#[repr(C)]` data and `extern "C"` function pointers.
//! Ownership is simple and one-directional:
//! - every [`RStr`] passed into a call is *borrowed* for the duration of that
//!   call only; the receiver copies what it keeps;
//! - the manifest and the strings it points to are owned by the library and
//!   live as long as it is loaded;
//! - a plugin instance is created by `create` and owned by the host until it
//!   calls `destroy`, exactly once.

use std::ffi::c_void;

/// The ABI version. A host refuses a library whose
/// `rampart_plugin_abi_version()` returns anything else.
pub const ABI_VERSION: u32 = 1;

/// Symbol names (NUL-terminated, for the loader).
pub const SYM_ABI_VERSION: &[u8] = b"rampart_plugin_abi_version\0";
pub const SYM_MANIFEST: &[u8] = b"rampart_plugin_manifest\0";

/// Plugin kinds.
pub const KIND_DECODER: u32 = 1;
pub const KIND_DETECTOR: u32 = 2;

/// Status codes returned by plugin calls.
pub const STATUS_OK: u32 = 0;
pub const STATUS_NOT_THIS_FORMAT: u32 = 1;
/// The input is malformed; details were given through `RDecodeSink::fail`.
pub const STATUS_MALFORMED: u32 = 2;
/// A budget ran out; the kind was given through `RDecodeSink::fail`.
pub const STATUS_EXHAUSTED: u32 = 3;
/// The plugin panicked; the panic was caught inside the library.
pub const STATUS_PANIC: u32 = 4;
/// The call failed (for `create`: the configuration was refused; the
/// message was written through the error sink).
pub const STATUS_ERROR: u32 = 5;

/// Borrowed bytes. A null `ptr` means "absent" (not the same as empty).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct RStr {
    pub ptr: *const u8,
    pub len: usize,
}

impl RStr {
    pub const NONE: RStr = RStr {
        ptr: std::ptr::null(),
        len: 0,
    };

    pub fn new(s: &[u8]) -> RStr {
        RStr {
            ptr: s.as_ptr(),
            len: s.len(),
        }
    }

    pub fn opt(s: Option<&[u8]>) -> RStr {
        s.map_or(RStr::NONE, RStr::new)
    }

    pub fn is_none(&self) -> bool {
        self.ptr.is_null()
    }
}

/// One `key = value` of a plugin's configuration.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct RKeyValue {
    pub key: RStr,
    pub value: RStr,
}

/// Where `create` writes an error message.
#[repr(C)]
#[derive(Debug)]
pub struct RErrorSink {
    pub host: *mut c_void,
    pub write: extern "C" fn(host: *mut c_void, message: RStr),
}

/// The decoding budget left for one decoder call.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct RLimits {
    pub max_nesting: u32,
    pub nodes_left: u32,
    pub bytes_left: u64,
    pub time_left_us: u64,
}

/// What a decoder is told about its input (see `DecodeCtx`).
#[repr(C)]
#[derive(Debug)]
pub struct RDecodeCtx {
    pub declared: u32,
    pub media_type: RStr,
    /// `Source` code (see [`source_code`]), 0 when unknown.
    pub source: u32,
    pub limits: RLimits,
}

/// Limit kinds for `STATUS_EXHAUSTED`.
pub const LIMIT_DEPTH: u32 = 1;
pub const LIMIT_NESTING: u32 = 2;
pub const LIMIT_NODES: u32 = 3;
pub const LIMIT_BYTES: u32 = 4;
pub const LIMIT_TIME: u32 = 5;

/// The host's side of a decoder call: the plugin reports the points it
/// found. Node ids are local to the call: 0 is the point being decoded,
/// each `node` call returns the next id (1, 2, ...) or a negative limit kind
/// when the host's budget refused it.
#[repr(C)]
#[derive(Debug)]
pub struct RDecodeSink {
    pub host: *mut c_void,
    /// Adds a point under `parent`. `key` is the member name, or absent for
    /// an index point (then `index` is used). `container` is 1 for a
    /// structural point.
    pub node: extern "C" fn(
        host: *mut c_void,
        parent: u32,
        key: RStr,
        index: u32,
        value: RStr,
        container: u32,
    ) -> i64,
    /// Sets the value of point 0 (transforming decoders). 0 ok, <0 limit.
    pub set_root_value: extern "C" fn(host: *mut c_void, value: RStr) -> i64,
    /// Declares the media type of a point's value.
    pub hint: extern "C" fn(host: *mut c_void, node: u32, media_type: RStr) -> i64,
    /// Reports a finding about a point (usually an anomaly).
    pub flag: extern "C" fn(
        host: *mut c_void,
        node: u32,
        class: u16,
        score: u8,
        start: u32,
        end: u32,
        rule: RStr,
        message: RStr,
    ),
    /// Details of a `STATUS_MALFORMED` or `STATUS_EXHAUSTED` result: the
    /// rule and message of the defect, or the limit kind in `offset`.
    pub fail: extern "C" fn(host: *mut c_void, rule: RStr, message: RStr, offset: u64),
}

/// Segment kinds of an [`RNode`].
pub const SEG_ROOT: u8 = 0;
pub const SEG_SOURCE: u8 = 1;
pub const SEG_KEY: u8 = 2;
pub const SEG_INDEX: u8 = 3;
pub const SEG_LAYER: u8 = 4;

/// One point of the request-point tree, as a detector sees it.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct RNode {
    /// The parent's position in the node array (`u32::MAX` for the root).
    pub parent: u32,
    /// 1 for a leaf (inspected), 0 for a container.
    pub leaf: u8,
    /// One of the `SEG_*` kinds.
    pub seg: u8,
    /// The source code for `SEG_SOURCE`, the index for `SEG_INDEX`.
    pub number: u32,
    /// The key for `SEG_KEY`, the layer name for `SEG_LAYER`.
    pub name: RStr,
    pub value: RStr,
}

/// The whole request-point tree of the request being inspected, read-only.
/// `generation` identifies the tree's contents: equal generations mean an
/// identical tree, so a plugin may cache what it builds from the view.
#[repr(C)]
#[derive(Debug)]
pub struct RTreeView {
    pub generation: u64,
    pub nodes: *const RNode,
    pub len: usize,
}

/// What a detector is told about the value it inspects.
#[repr(C)]
#[derive(Debug)]
pub struct RDetectCtx {
    pub tree: *const RTreeView,
    /// The inspected point's position in the tree view.
    pub point: u32,
    pub endpoint: RStr,
    pub content_type: RStr,
}

/// The host's side of a detector call.
#[repr(C)]
#[derive(Debug)]
pub struct RFindingSink {
    pub host: *mut c_void,
    pub push: extern "C" fn(
        host: *mut c_void,
        class: u16,
        score: u8,
        start: u32,
        end: u32,
        rule: RStr,
        message: RStr,
    ),
}

/// One plugin of a library. Fields that do not apply to its kind are null
/// or zero; the host never calls a function of the other kind.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct RPlugin {
    pub kind: u32,
    pub name: RStr,
    pub version: RStr,
    pub description: RStr,
    /// Decoders: the layer name and the media types.
    pub layer: RStr,
    pub media_types: *const RStr,
    pub media_types_len: usize,
    /// Detectors: the class codes they can report.
    pub classes: *const u16,
    pub classes_len: usize,
    /// Builds an instance from a configuration; writes it to `*out`.
    pub create: extern "C" fn(
        config: *const RKeyValue,
        config_len: usize,
        out: *mut *mut c_void,
        err: *const RErrorSink,
    ) -> u32,
    pub destroy: extern "C" fn(instance: *mut c_void),
    /// Decoders: 1 if the value looks like the format, 0 if not, or
    /// `STATUS_PANIC`.
    pub sniff: Option<extern "C" fn(instance: *mut c_void, value: RStr) -> u32>,
    pub decode: Option<
        extern "C" fn(
            instance: *mut c_void,
            input: RStr,
            ctx: *const RDecodeCtx,
            sink: *const RDecodeSink,
        ) -> u32,
    >,
    pub inspect: Option<
        extern "C" fn(
            instance: *mut c_void,
            value: RStr,
            ctx: *const RDetectCtx,
            sink: *const RFindingSink,
        ) -> u32,
    >,
}

/// What `rampart_plugin_manifest()` returns.
#[repr(C)]
#[derive(Debug)]
pub struct RManifest {
    pub abi_version: u32,
    pub count: usize,
    pub plugins: *const RPlugin,
}

/// The `Source` codes used across the ABI.
pub fn source_code(s: Option<rampart_types::Source>) -> u32 {
    use rampart_types::Source::*;
    match s {
        None => 0,
        Some(Method) => 1,
        Some(Uri) => 2,
        Some(Path) => 3,
        Some(Query) => 4,
        Some(Header) => 5,
        Some(Cookie) => 6,
        Some(Body) => 7,
    }
}

pub fn source_from_code(c: u32) -> Option<rampart_types::Source> {
    use rampart_types::Source::*;
    Some(match c {
        1 => Method,
        2 => Uri,
        3 => Path,
        4 => Query,
        5 => Header,
        6 => Cookie,
        7 => Body,
        _ => return None,
    })
}

pub fn limit_code(k: rampart_types::LimitKind) -> u32 {
    use rampart_types::LimitKind::*;
    match k {
        Depth => LIMIT_DEPTH,
        Nesting => LIMIT_NESTING,
        Nodes => LIMIT_NODES,
        Bytes => LIMIT_BYTES,
        Time => LIMIT_TIME,
    }
}

pub fn limit_from_code(c: u32) -> rampart_types::LimitKind {
    use rampart_types::LimitKind::*;
    match c {
        LIMIT_DEPTH => Depth,
        LIMIT_NESTING => Nesting,
        LIMIT_NODES => Nodes,
        LIMIT_TIME => Time,
        _ => Bytes,
    }
}
