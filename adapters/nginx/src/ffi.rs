//! Everything that touches NGINX: the module and its directives, the
//! process hooks, the access-phase handler, the request body (memory
//! buffers and temp files), the block page and the log-phase handler.
//! The only module of the crate with `unsafe`.
//!
//! Every function NGINX calls is an `extern "C"` function whose body runs
//! inside `catch_unwind`: a panic never unwinds into NGINX. A panic in the
//! request path follows `policy.on_plugin_error` (open: the request passes;
//! closed: 503); in a configuration callback it fails that configuration.
#![allow(unsafe_code)]
#![warn(unsafe_op_in_unsafe_fn, clippy::undocumented_unsafe_blocks)]

use std::borrow::Cow;
use std::ffi::{c_char, c_void};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::ptr;
use std::sync::Arc;

use ngx::ffi::{
    add_to_ngx_table, ngx_array_push, ngx_chain_t, ngx_command_t, ngx_conf_t, ngx_create_temp_buf,
    ngx_cycle_t, ngx_http_core_run_phases, ngx_http_discard_request_body,
    ngx_http_finalize_request, ngx_http_handler_pt, ngx_http_module_t, ngx_http_output_filter,
    ngx_http_phases_NGX_HTTP_ACCESS_PHASE, ngx_http_phases_NGX_HTTP_LOG_PHASE,
    ngx_http_read_client_request_body, ngx_http_request_t, ngx_http_send_header, ngx_int_t,
    ngx_list_part_t, ngx_list_push, ngx_log_t, ngx_module_t, ngx_pnalloc, ngx_pool_cleanup_add,
    ngx_pool_t, ngx_process, ngx_read_file, ngx_str_t, ngx_table_elt_t, ngx_uint_t, off_t,
    NGX_CONF_FLAG, NGX_CONF_TAKE1, NGX_DECLINED, NGX_DONE, NGX_ERROR,
    NGX_HTTP_INTERNAL_SERVER_ERROR, NGX_HTTP_LOC_CONF, NGX_HTTP_LOC_CONF_OFFSET,
    NGX_HTTP_MAIN_CONF, NGX_HTTP_MAIN_CONF_OFFSET, NGX_HTTP_MODULE, NGX_HTTP_SPECIAL_RESPONSE,
    NGX_HTTP_SRV_CONF, NGX_HTTP_VERSION_20, NGX_LOG_EMERG, NGX_LOG_ERR, NGX_LOG_NOTICE, NGX_OK,
    NGX_PROCESS_SINGLE, NGX_PROCESS_WORKER,
};
use ngx::http::{HttpModuleMainConf, NgxHttpCoreModule};
use rampart_embed::{Decision, Guard, Header};

use crate::conf::{self, LocConf, MainConf};
use crate::guard::{self, Act, Body, Current, Parts, Settings};

// ---------------------------------------------------------------------------
// The module.

const LOC_LEVELS: u32 = NGX_HTTP_MAIN_CONF | NGX_HTTP_SRV_CONF | NGX_HTTP_LOC_CONF;

const fn ngx_str(s: &'static std::ffi::CStr) -> ngx_str_t {
    ngx_str_t {
        len: s.count_bytes(),
        data: s.as_ptr() as *mut u8,
    }
}

const fn command(
    name: &'static std::ffi::CStr,
    type_: u32,
    set: unsafe extern "C" fn(*mut ngx_conf_t, *mut ngx_command_t, *mut c_void) -> *mut c_char,
    conf: usize,
) -> ngx_command_t {
    ngx_command_t {
        name: ngx_str(name),
        type_: type_ as ngx_uint_t,
        set: Some(set),
        conf: conf as ngx_uint_t,
        offset: 0,
        post: ptr::null_mut(),
    }
}

// NGINX takes the directives by a mutable pointer (it never writes them).
static mut COMMANDS: [ngx_command_t; 5] = [
    command(
        c"rampart",
        LOC_LEVELS | NGX_CONF_FLAG,
        set_enable,
        NGX_HTTP_LOC_CONF_OFFSET,
    ),
    command(
        c"rampart_mode",
        LOC_LEVELS | NGX_CONF_TAKE1,
        set_mode,
        NGX_HTTP_LOC_CONF_OFFSET,
    ),
    command(
        c"rampart_body_limit",
        LOC_LEVELS | NGX_CONF_TAKE1,
        set_body_limit,
        NGX_HTTP_LOC_CONF_OFFSET,
    ),
    command(
        c"rampart_config",
        NGX_HTTP_MAIN_CONF | NGX_CONF_TAKE1,
        set_config,
        NGX_HTTP_MAIN_CONF_OFFSET,
    ),
    ngx_command_t::empty(),
];

static MODULE_CTX: ngx_http_module_t = ngx_http_module_t {
    preconfiguration: None,
    postconfiguration: Some(postconfiguration),
    create_main_conf: Some(create_main_conf),
    init_main_conf: None,
    create_srv_conf: None,
    merge_srv_conf: None,
    create_loc_conf: Some(create_loc_conf),
    merge_loc_conf: Some(merge_loc_conf),
};

/// The module NGINX loads (`load_module .../ngx_http_rampart_module.so;`).
#[no_mangle]
#[allow(non_upper_case_globals)]
pub static mut ngx_http_rampart_module: ngx_module_t = ngx_module_t {
    ctx: ptr::addr_of!(MODULE_CTX) as *mut c_void,
    commands: ptr::addr_of_mut!(COMMANDS) as *mut ngx_command_t,
    type_: NGX_HTTP_MODULE as ngx_uint_t,
    init_process: Some(init_process),
    exit_process: Some(exit_process),
    ..ngx_module_t::default()
};

ngx::ngx_modules!(ngx_http_rampart_module);

fn module() -> &'static ngx_module_t {
    // SAFETY: NGINX writes the module's indexes while it loads the
    // configuration, in the same (single) thread, never while a request or
    // a configuration callback of this module runs; a shared reference
    // taken inside one callback never overlaps those writes.
    unsafe { &*ptr::addr_of!(ngx_http_rampart_module) }
}

/// `ngx_http_conf_get_module_main_conf` for this module.
struct Rampart;

impl ngx::http::HttpModule for Rampart {
    fn module() -> &'static ngx_module_t {
        module()
    }
}

// SAFETY: the main configuration of this module is a `MainConf` (made by
// `create_main_conf`).
unsafe impl HttpModuleMainConf for Rampart {
    type MainConf = MainConf;
}

// ---------------------------------------------------------------------------
// Small helpers.

/// The bytes of an NGINX string.
///
/// # Safety
/// `s` must be a valid string of `s.len` bytes that outlives the slice.
unsafe fn bytes(s: &ngx_str_t) -> &[u8] {
    if s.len == 0 || s.data.is_null() {
        return &[];
    }
    // SAFETY: per the contract, `data` points to `len` readable bytes.
    unsafe { std::slice::from_raw_parts(s.data, s.len) }
}

/// Writes a line to an NGINX log.
///
/// # Safety
/// `log` must be null or a valid log of the current cycle or request.
unsafe fn log(level: u32, log: *mut ngx_log_t, msg: &str) {
    if log.is_null() {
        return;
    }
    // SAFETY: `log` is valid per the contract; the buffer is passed with
    // its length ("%*s"), no NUL needed.
    unsafe { ngx::log::log_error(level as ngx_uint_t, log, 0, msg.as_bytes()) }
}

/// A Rust value owned by an NGINX pool: boxed, and dropped by a cleanup
/// handler when the pool is destroyed (the cycle's pool for configuration,
/// the request's pool for a request's context), so nothing outlives its
/// cycle or request, across any number of reloads.
///
/// # Safety
/// `pool` must be a valid pool. Returns null when NGINX is out of memory.
unsafe fn pool_box<T>(pool: *mut ngx_pool_t, value: T) -> *mut T {
    unsafe extern "C" fn drop_box<T>(data: *mut c_void) {
        // A Drop that panics must not unwind into NGINX.
        let _ = catch_unwind(AssertUnwindSafe(|| {
            // SAFETY: `data` is the pointer `Box::into_raw` returned below,
            // and NGINX runs each cleanup handler once.
            drop(unsafe { Box::from_raw(data.cast::<T>()) });
        }));
    }
    // SAFETY: `pool` is valid per the contract.
    let cln = unsafe { ngx_pool_cleanup_add(pool, 0) };
    if cln.is_null() {
        return ptr::null_mut();
    }
    let p = Box::into_raw(Box::new(value));
    // SAFETY: `cln` is a fresh cleanup record of this pool.
    unsafe {
        (*cln).handler = Some(drop_box::<T>);
        (*cln).data = p.cast();
    }
    p
}

/// The arguments of the directive being parsed (`args[0]` is its name).
///
/// # Safety
/// `cf` must be the configuration being parsed, inside a directive handler.
unsafe fn args<'a>(cf: *mut ngx_conf_t) -> &'a [ngx_str_t] {
    // SAFETY: while a directive is parsed, `cf->args` is an array of
    // `ngx_str_t` holding its words.
    unsafe {
        let a = (*cf).args;
        if a.is_null() {
            return &[];
        }
        (*a).as_slice::<ngx_str_t>()
    }
}

/// The message NGINX prints after `"<directive>" directive`, copied into
/// the configuration's pool (NUL-terminated).
///
/// # Safety
/// `cf` must be the configuration being parsed.
unsafe fn conf_error(cf: *mut ngx_conf_t, msg: &str) -> *mut c_char {
    // SAFETY: `cf->pool` lives as long as the cycle; the copy is `len + 1`
    // bytes with a NUL at the end.
    unsafe {
        let p = ngx_pnalloc((*cf).pool, msg.len() + 1).cast::<u8>();
        if p.is_null() {
            return ngx::core::NGX_CONF_ERROR;
        }
        ptr::copy_nonoverlapping(msg.as_ptr(), p, msg.len());
        *p.add(msg.len()) = 0;
        p.cast()
    }
}

type ConfResult = Result<(), Cow<'static, str>>;

/// Runs a directive handler: `Ok` -> NGX_CONF_OK, an error -> its message,
/// a panic -> a message (never an unwind).
///
/// # Safety
/// `cf` must be the configuration being parsed.
unsafe fn conf_call(cf: *mut ngx_conf_t, f: impl FnOnce() -> ConfResult) -> *mut c_char {
    let r = catch_unwind(AssertUnwindSafe(f))
        .unwrap_or_else(|_| Err("failed: internal error (panic caught)".into()));
    match r {
        Ok(()) => ngx::core::NGX_CONF_OK,
        // SAFETY: `cf` is valid per the contract.
        Err(msg) => unsafe { conf_error(cf, &msg) },
    }
}

/// The one argument of a TAKE1/FLAG directive.
///
/// # Safety
/// As [`args`].
unsafe fn arg1<'a>(cf: *mut ngx_conf_t) -> &'a [u8] {
    // SAFETY: as `args`; the words live in the cycle's pool.
    unsafe { args(cf).get(1).map(|s| bytes(s)).unwrap_or(&[]) }
}

// ---------------------------------------------------------------------------
// Configuration.

unsafe extern "C" fn create_main_conf(cf: *mut ngx_conf_t) -> *mut c_void {
    catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: `cf` is the configuration being parsed; its pool is the
        // cycle's.
        unsafe { pool_box((*cf).pool, MainConf::default()).cast::<c_void>() }
    }))
    .unwrap_or(ptr::null_mut())
}

unsafe extern "C" fn create_loc_conf(cf: *mut ngx_conf_t) -> *mut c_void {
    catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: as in `create_main_conf`.
        unsafe { pool_box((*cf).pool, LocConf::default()).cast::<c_void>() }
    }))
    .unwrap_or(ptr::null_mut())
}

unsafe extern "C" fn merge_loc_conf(
    cf: *mut ngx_conf_t,
    parent: *mut c_void,
    child: *mut c_void,
) -> *mut c_char {
    let f = || {
        // SAFETY: NGINX passes the `LocConf`s made by `create_loc_conf`
        // of two levels, distinct objects.
        let (parent, child) =
            unsafe { (&*parent.cast::<LocConf>(), &mut *child.cast::<LocConf>()) };
        child.merge(parent);
        if child.enabled() {
            // SAFETY: `cf` is the http block's configuration during the merge.
            let main = Rampart::main_conf(unsafe { &*cf });
            if main.is_none_or(|m| m.config.is_none()) {
                return Err(
                    "\"rampart on\" needs \"rampart_config /path/to/node.toml;\" in the http block"
                        .into(),
                );
            }
        }
        Ok(())
    };
    // SAFETY: `cf` is valid during the merge.
    unsafe { conf_call(cf, f) }
}

/// A location-level directive that takes one argument, given once per
/// level: `field` picks its slot in the `LocConf`, `parse` reads the word.
///
/// # Safety
/// `cf` and `conf` as NGINX passes them to a directive handler (`conf` is
/// this level's `LocConf`).
unsafe fn set_once<T>(
    cf: *mut ngx_conf_t,
    conf: *mut c_void,
    field: fn(&mut LocConf) -> &mut Option<T>,
    parse: fn(&[u8]) -> Result<T, &'static str>,
) -> *mut c_char {
    let f = || {
        // SAFETY: `conf` is this level's `LocConf`.
        let slot = field(unsafe { &mut *conf.cast::<LocConf>() });
        if slot.is_some() {
            return Err("is duplicate".into());
        }
        // SAFETY: inside a directive handler.
        *slot = Some(parse(unsafe { arg1(cf) })?);
        Ok(())
    };
    // SAFETY: called by NGINX while parsing, per the contract.
    unsafe { conf_call(cf, f) }
}

unsafe extern "C" fn set_enable(
    cf: *mut ngx_conf_t,
    _cmd: *mut ngx_command_t,
    conf: *mut c_void,
) -> *mut c_char {
    // SAFETY: NGINX calls a directive handler with its `cf` and this
    // level's `LocConf`.
    unsafe { set_once(cf, conf, |lc| &mut lc.enable, conf::parse_flag) }
}

unsafe extern "C" fn set_mode(
    cf: *mut ngx_conf_t,
    _cmd: *mut ngx_command_t,
    conf: *mut c_void,
) -> *mut c_char {
    // SAFETY: as `set_enable`.
    unsafe { set_once(cf, conf, |lc| &mut lc.mode, conf::parse_mode) }
}

unsafe extern "C" fn set_body_limit(
    cf: *mut ngx_conf_t,
    _cmd: *mut ngx_command_t,
    conf: *mut c_void,
) -> *mut c_char {
    // SAFETY: as `set_enable`.
    unsafe { set_once(cf, conf, |lc| &mut lc.body_limit, conf::parse_size) }
}

unsafe extern "C" fn set_config(
    cf: *mut ngx_conf_t,
    _cmd: *mut ngx_command_t,
    conf: *mut c_void,
) -> *mut c_char {
    let f = || {
        // SAFETY: `conf` is the http block's `MainConf`.
        let mc = unsafe { &mut *conf.cast::<MainConf>() };
        if mc.config.is_some() {
            return Err("is duplicate".into());
        }
        // SAFETY: inside a directive handler.
        let raw = unsafe { arg1(cf) };
        let path = std::str::from_utf8(raw)
            .map(PathBuf::from)
            .map_err(|_| "invalid path: not UTF-8")?;
        // A relative path is relative to nginx.conf's directory (as for
        // `include` and `ssl_certificate`).
        let path = if path.is_relative() {
            // SAFETY: a configuration being parsed has its cycle, whose
            // conf_prefix is set (the directory of the configuration file).
            let prefix = unsafe { bytes(&(*(*cf).cycle).conf_prefix) };
            PathBuf::from(String::from_utf8_lossy(prefix).into_owned()).join(path)
        } else {
            path
        };
        conf::check_node_config(&path)?;
        mc.config = Some(path);
        Ok(())
    };
    // SAFETY: as `set_enable`; `conf` is the http block's MainConf.
    unsafe { conf_call(cf, f) }
}

unsafe extern "C" fn postconfiguration(cf: *mut ngx_conf_t) -> ngx_int_t {
    let r = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: `cf` is the http block's configuration; the core module's
        // main configuration holds the phase handler arrays, which take
        // `ngx_http_handler_pt` elements.
        unsafe {
            let Some(cmcf) = NgxHttpCoreModule::main_conf_mut(&*cf) else {
                return NGX_ERROR as ngx_int_t;
            };
            for (phase, handler) in [
                (
                    ngx_http_phases_NGX_HTTP_ACCESS_PHASE,
                    access_handler as unsafe extern "C" fn(_) -> _,
                ),
                (ngx_http_phases_NGX_HTTP_LOG_PHASE, log_handler),
            ] {
                let h = ngx_array_push(&mut cmcf.phases[phase as usize].handlers)
                    .cast::<ngx_http_handler_pt>();
                if h.is_null() {
                    return NGX_ERROR as ngx_int_t;
                }
                *h = Some(handler);
            }
            NGX_OK as ngx_int_t
        }
    }));
    r.unwrap_or(NGX_ERROR as ngx_int_t)
}

// ---------------------------------------------------------------------------
// Worker processes.

unsafe extern "C" fn init_process(cycle: *mut ngx_cycle_t) -> ngx_int_t {
    let r = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: NGINX sets `ngx_process` before calling init_process.
        let kind = unsafe { ngx_process };
        // Cache managers and loaders run init_process too: only the
        // processes that serve requests get a guard.
        if kind != NGX_PROCESS_WORKER as ngx_uint_t && kind != NGX_PROCESS_SINGLE as ngx_uint_t {
            return;
        }
        // SAFETY: `cycle` is the running cycle; its http configuration (if
        // any) holds this module's MainConf.
        let (path, log_) = unsafe {
            (
                Rampart::main_conf(&*cycle).and_then(|m| m.config.clone()),
                (*cycle).log,
            )
        };
        let Some(path) = path else {
            return;
        };
        match guard::start(&path) {
            // SAFETY: the cycle's log.
            Ok(()) => unsafe {
                log(
                    NGX_LOG_NOTICE,
                    log_,
                    &format!("rampart: guard ready ({})", path.display()),
                )
            },
            // SAFETY: the cycle's log.
            Err(msg) => unsafe { log(NGX_LOG_EMERG, log_, &msg) },
        }
    }));
    if r.is_err() {
        // SAFETY: the cycle's log.
        unsafe {
            log(
                NGX_LOG_EMERG,
                (*cycle).log,
                "rampart: panic caught while starting the guard",
            )
        };
    }
    // A worker whose guard failed still serves: requests under `rampart on`
    // then follow policy.on_plugin_error (failing the worker would make the
    // master respawn it in a loop).
    NGX_OK as ngx_int_t
}

unsafe extern "C" fn exit_process(_cycle: *mut ngx_cycle_t) {
    let _ = catch_unwind(guard::stop);
}

// ---------------------------------------------------------------------------
// Requests.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Waiting for NGINX to read the body.
    Reading,
    /// Inspected: `act` says what to do.
    Decided,
    /// Acted on (passed); a later run of the phase passes again.
    Passed,
}

/// A request's state, in its pool (dropped with it).
#[derive(Debug)]
struct Ctx {
    state: State,
    act: Act,
    decision: Option<Decision>,
    guard: Arc<Guard>,
    settings: Settings,
}

/// This module's context of a request, if set.
///
/// # Safety
/// `r` must be a valid request.
unsafe fn ctx_ptr(r: *mut ngx_http_request_t) -> *mut Ctx {
    // SAFETY: `r->ctx` has one slot per HTTP module; ours holds null or
    // the Ctx set by `new_ctx`.
    unsafe { (*(*r).ctx.add(module().ctx_index)).cast::<Ctx>() }
}

/// # Safety
/// `r` must be a valid request.
unsafe fn new_ctx(r: *mut ngx_http_request_t, guard: Arc<Guard>, settings: Settings) -> *mut Ctx {
    let ctx = Ctx {
        state: State::Reading,
        act: Act::Pass,
        decision: None,
        guard,
        settings,
    };
    // SAFETY: the request's pool and its ctx slot for this module.
    unsafe {
        let p = pool_box((*r).pool, ctx);
        if !p.is_null() {
            *(*r).ctx.add(module().ctx_index) = p.cast();
        }
        p
    }
}

/// The request's merged location configuration.
///
/// # Safety
/// `r` must be a valid request.
unsafe fn loc_conf(r: *mut ngx_http_request_t) -> Option<LocConf> {
    // SAFETY: `r->loc_conf` has one slot per HTTP module; ours holds the
    // merged LocConf.
    unsafe {
        let p = (*(*r).loc_conf.add(module().ctx_index)).cast::<LocConf>();
        p.as_ref().copied()
    }
}

/// The request line, the headers and the client's address.
///
/// # Safety
/// `r` must be a valid request whose headers were read.
unsafe fn parts(r: *mut ngx_http_request_t) -> Parts {
    // SAFETY: a request whose header was parsed has its method, raw target
    // and header list set, all in its pool; the header list's parts hold
    // `nelts` `ngx_table_elt_t` each.
    unsafe {
        let mut headers = Vec::new();
        let mut part: *const ngx_list_part_t = &(*r).headers_in.headers.part;
        while !part.is_null() {
            let elts = (*part).elts.cast::<ngx_table_elt_t>();
            for i in 0..(*part).nelts {
                let h = &*elts.add(i);
                headers.push(Header {
                    name: bytes(&h.key).to_vec(),
                    value: bytes(&h.value).to_vec(),
                });
            }
            part = (*part).next;
        }
        let c = (*r).connection;
        Parts {
            method: bytes(&(*r).method_name).to_vec(),
            target: bytes(&(*r).unparsed_uri).to_vec(),
            headers,
            client: if c.is_null() {
                Vec::new()
            } else {
                bytes(&(*c).addr_text).to_vec()
            },
        }
    }
}

/// The body NGINX buffered, up to `limit` bytes: memory buffers and the
/// parts it spilled to its temp file (when the body is larger than
/// `client_body_buffer_size`), in order.
///
/// # Safety
/// `r` must be a valid request whose body NGINX finished reading.
unsafe fn read_body(r: *mut ngx_http_request_t, limit: usize) -> Result<Body, String> {
    let mut body = Body::new(limit);
    // SAFETY: after the body was read, `r->request_body->bufs` is a chain of
    // buffers: in memory (`pos..last`) or in the temp file
    // (`file_pos..file_last` of `file`), each valid until the request ends.
    unsafe {
        let rb = (*r).request_body;
        if rb.is_null() {
            return Ok(body);
        }
        let mut cl = (*rb).bufs;
        while !cl.is_null() {
            let b = (*cl).buf;
            cl = (*cl).next;
            if b.is_null() {
                continue;
            }
            if (*b).in_file() != 0 && !(*b).file.is_null() {
                let len = ((*b).file_last - (*b).file_pos).max(0) as u64;
                let want = (len as usize).min(body.room());
                if want > 0 {
                    let mut chunk = vec![0u8; want];
                    let mut got = 0usize;
                    while got < want {
                        let n = ngx_read_file(
                            (*b).file,
                            chunk.as_mut_ptr().add(got),
                            want - got,
                            (*b).file_pos + got as off_t,
                        );
                        if n < 0 {
                            return Err(format!(
                                "rampart: cannot read the request body's temp file {}",
                                String::from_utf8_lossy(bytes(&(*(*b).file).name))
                            ));
                        }
                        if n == 0 {
                            break;
                        }
                        got += n as usize;
                    }
                    chunk.truncate(got);
                    body.push(&chunk);
                }
                body.count(len);
            } else if !(*b).pos.is_null() && (*b).last > (*b).pos {
                let len = (*b).last.offset_from((*b).pos) as usize;
                body.push(std::slice::from_raw_parts((*b).pos, len));
                body.count(len as u64);
            }
        }
    }
    Ok(body)
}

/// Inspects the request with its body and records what to do.
///
/// # Safety
/// `r` must be a valid request; `ctx` its context (no other reference to
/// it alive).
unsafe fn inspect(r: *mut ngx_http_request_t, ctx: *mut Ctx, body: Result<Body, String>) {
    // SAFETY: per the contract.
    let (ctx, p) = unsafe { (&mut *ctx, parts(r)) };
    match body {
        Ok(body) => {
            let truncated = body.truncated();
            let accept = guard::accept_of(&p.headers).map(<[u8]>::to_vec);
            let req = p.into_request(body.data, truncated);
            let d = ctx.guard.inspect(&req, ctx.settings.mode);
            ctx.act = guard::act(&ctx.guard, &d, accept.as_deref());
            ctx.decision = Some(d);
        }
        Err(msg) => {
            // SAFETY: the request's connection log.
            unsafe { log(NGX_LOG_ERR, request_log(r), &msg) };
            ctx.act = Act::failure();
        }
    }
    ctx.state = State::Decided;
}

/// # Safety
/// `r` must be a valid request.
unsafe fn request_log(r: *mut ngx_http_request_t) -> *mut ngx_log_t {
    // SAFETY: a request's connection is valid while the request is.
    unsafe {
        let c = (*r).connection;
        if c.is_null() {
            ptr::null_mut()
        } else {
            (*c).log
        }
    }
}

/// Does what `ctx.act` says: pass (NGX_DECLINED, so that `satisfy any` is
/// not satisfied by Rampart), answer with the block page, or answer with a
/// status (NGINX's own page).
///
/// # Safety
/// `r` must be a valid request in its access phase; `ctx` its context.
unsafe fn perform(r: *mut ngx_http_request_t, ctx: *mut Ctx) -> ngx_int_t {
    // SAFETY: per the contract; the reference ends before NGINX is called.
    let act = unsafe {
        let ctx = &mut *ctx;
        ctx.state = State::Passed;
        std::mem::replace(&mut ctx.act, Act::Pass)
    };
    match act {
        Act::Pass => NGX_DECLINED as ngx_int_t,
        Act::Status(s) => s as ngx_int_t,
        Act::Page {
            status,
            content_type,
            body,
            request_id,
        } => {
            // SAFETY: a main request in its access phase: the response was
            // not started; finalizing it here and returning NGX_DONE ends
            // the phase loop (as a content handler would).
            unsafe {
                let rc = send_page(r, status, content_type, &body, &request_id);
                ngx_http_finalize_request(r, rc);
            }
            NGX_DONE as ngx_int_t
        }
    }
}

/// Sends the block page: status, Content-Type, Cache-Control: no-store,
/// X-Request-Id and the body (as the proxy node answers).
///
/// # Safety
/// `r` must be a valid main request whose response was not started.
unsafe fn send_page(
    r: *mut ngx_http_request_t,
    status: u16,
    content_type: &str,
    body: &[u8],
    request_id: &str,
) -> ngx_int_t {
    // SAFETY: per the contract; every string is copied into the request's
    // pool, the buffer is the pool's, and the chain link may live on the
    // stack (the output filters copy what they keep).
    unsafe {
        // A body refused before it was read is discarded (a read body is
        // left alone: this returns NGX_OK at once).
        if ngx_http_discard_request_body(r) != NGX_OK as ngx_int_t {
            (*r).set_keepalive(0);
        }
        let pool = (*r).pool;
        let out = &mut (*r).headers_out;
        out.status = ngx_uint_t::from(status);
        out.content_length_n = body.len() as off_t;
        let Some(ct) = ngx_str_t::from_bytes(pool, content_type.as_bytes()) else {
            return NGX_ERROR as ngx_int_t;
        };
        out.content_type_len = ct.len;
        out.content_type = ct;
        out.content_type_lowcase = ptr::null_mut();
        for (k, v) in [("Cache-Control", "no-store"), ("X-Request-Id", request_id)] {
            if v.is_empty() {
                continue;
            }
            let h = ngx_list_push(&mut out.headers).cast::<ngx_table_elt_t>();
            if h.is_null() || add_to_ngx_table(h, pool, k, v).is_none() {
                return NGX_ERROR as ngx_int_t;
            }
        }
        let rc = ngx_http_send_header(r);
        if rc == NGX_ERROR as ngx_int_t || rc > NGX_OK as ngx_int_t || (*r).header_only() != 0 {
            return rc;
        }
        let b = ngx_create_temp_buf(pool, body.len().max(1));
        if b.is_null() {
            return NGX_ERROR as ngx_int_t;
        }
        ptr::copy_nonoverlapping(body.as_ptr(), (*b).pos, body.len());
        (*b).last = (*b).pos.add(body.len());
        (*b).set_last_buf(1);
        (*b).set_last_in_chain(1);
        let mut chain = ngx_chain_t {
            buf: b,
            next: ptr::null_mut(),
        };
        ngx_http_output_filter(r, &mut chain)
    }
}

/// The request may carry a body: a length, chunked, or HTTP/2 (whose
/// bodies need no length).
///
/// # Safety
/// `r` must be a valid request.
unsafe fn may_have_body(r: *mut ngx_http_request_t) -> bool {
    // SAFETY: header fields of a valid request.
    unsafe {
        let h = &(*r).headers_in;
        h.content_length_n > 0
            || h.chunked() != 0
            || (*r).http_version >= NGX_HTTP_VERSION_20 as ngx_uint_t
    }
}

/// The access-phase handler.
unsafe extern "C" fn access_handler(r: *mut ngx_http_request_t) -> ngx_int_t {
    // SAFETY: NGINX calls it with a valid request.
    match catch_unwind(AssertUnwindSafe(|| unsafe { access(r) })) {
        Ok(rc) => rc,
        Err(_) => {
            // SAFETY: as above.
            unsafe {
                log(
                    NGX_LOG_ERR,
                    request_log(r),
                    "rampart: panic caught in the access handler",
                )
            };
            match Act::failure() {
                Act::Status(s) => s as ngx_int_t,
                _ => NGX_DECLINED as ngx_int_t,
            }
        }
    }
}

/// # Safety
/// `r` must be a valid request in its access phase.
unsafe fn access(r: *mut ngx_http_request_t) -> ngx_int_t {
    const DECLINED: ngx_int_t = NGX_DECLINED as ngx_int_t;
    // SAFETY: `r` is valid per the contract; `ctx` (a pool object) is only
    // referenced inside the helpers, never across a call that may run the
    // phases again (`ngx_http_read_client_request_body`).
    unsafe {
        if r != (*r).main {
            return DECLINED;
        }
        let Some(lc) = loc_conf(r) else {
            return DECLINED;
        };
        if !lc.enabled() {
            return DECLINED;
        }
        let ctx = ctx_ptr(r);
        if !ctx.is_null() {
            return match (*ctx).state {
                State::Reading => NGX_DONE as ngx_int_t,
                State::Decided => perform(r, ctx),
                State::Passed => DECLINED,
            };
        }
        let g = match guard::current() {
            Current::Ready(g) => g,
            Current::Missing { closed: true } => return guard::FAIL_STATUS as ngx_int_t,
            Current::Missing { closed: false } => return DECLINED,
        };
        let settings = Settings {
            mode: lc.mode,
            limit: lc.effective_limit(g.body_limit()),
        };
        let declared = u64::try_from((*r).headers_in.content_length_n).ok();
        let early = guard::before_body(&g, settings, declared, || parts(r));
        let ctx = new_ctx(r, g, settings);
        if ctx.is_null() {
            return NGX_HTTP_INTERNAL_SERVER_ERROR as ngx_int_t;
        }
        if let Some(d) = early {
            let p = parts(r);
            let c = &mut *ctx;
            c.act = guard::act(&c.guard, &d, guard::accept_of(&p.headers));
            c.decision = Some(d);
            c.state = State::Decided;
            return perform(r, ctx);
        }
        if !may_have_body(r) {
            inspect(r, ctx, Ok(Body::new(settings.limit)));
            return perform(r, ctx);
        }
        // Read the whole body (NGINX buffers it in memory up to
        // client_body_buffer_size, the rest in a temp file); `body_read`
        // inspects it and runs the phases again, which comes back here
        // with the verdict. It may run before this call returns.
        let rc = ngx_http_read_client_request_body(r, Some(body_read));
        if rc >= NGX_HTTP_SPECIAL_RESPONSE as ngx_int_t {
            return rc;
        }
        ngx_http_finalize_request(r, NGX_DONE as ngx_int_t);
        NGX_DONE as ngx_int_t
    }
}

/// Called by NGINX when the body was read.
unsafe extern "C" fn body_read(r: *mut ngx_http_request_t) {
    let ran = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: NGINX calls it with the request whose body was read; its
        // context was set before the read started.
        unsafe {
            let ctx = ctx_ptr(r);
            if ctx.is_null() {
                return;
            }
            let body = read_body(r, (*ctx).settings.limit);
            inspect(r, ctx, body);
        }
    }));
    // SAFETY: as above. Running the phases again is what a body handler
    // does (the mirror module does the same).
    unsafe {
        if ran.is_err() {
            log(
                NGX_LOG_ERR,
                request_log(r),
                "rampart: panic caught while inspecting the body",
            );
            let ctx = ctx_ptr(r);
            if !ctx.is_null() {
                let _ = catch_unwind(AssertUnwindSafe(|| {
                    (*ctx).act = Act::failure();
                    (*ctx).state = State::Decided;
                }));
            }
        }
        (*r).write_event_handler = Some(ngx_http_core_run_phases);
        ngx_http_core_run_phases(r);
    }
}

/// The log-phase handler: the response's status goes to the guard
/// (response-phase rules, traffic aggregates), as the proxy node does.
unsafe extern "C" fn log_handler(r: *mut ngx_http_request_t) -> ngx_int_t {
    let _ = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: NGINX calls it with a valid request; the context, when
        // set, is this module's.
        unsafe {
            if r != (*r).main {
                return;
            }
            let ctx = ctx_ptr(r);
            if ctx.is_null() {
                return;
            }
            let ctx = &mut *ctx;
            let status = (*r).headers_out.status;
            if let (Some(d), Ok(status @ 100..=599)) = (ctx.decision.take(), u16::try_from(status))
            {
                let _ = ctx.guard.finish(d, status);
            }
        }
    }));
    NGX_OK as ngx_int_t
}
