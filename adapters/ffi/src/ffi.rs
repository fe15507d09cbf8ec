//! The exported C functions (declared in `include/rampart.h`).
//!
//! Every function catches panics: a Rust panic never unwinds into the
//! server (it becomes the function's "failed" value: NULL, -1, 0). Null
//! pointers are accepted everywhere and mean "nothing" (a NULL handle, an
//! absent string); text that must be UTF-8 (paths, the client address) is
//! refused when it is not. Request data (method, target, headers, body) is
//! bytes and passes as it is.
//!
//! Handles: a `rampart_guard` is shared by the threads of its process
//! (the engine is `Sync`); a `rampart_request` and a `rampart_decision`
//! belong to one request and one thread at a time.
#![allow(unsafe_code)]

use std::ffi::{c_char, c_int, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::ptr;

use crate::{mode_from_c, RampartDecision, RampartGuard, RampartRequest, ABI_VERSION};

/// Runs `f`, turning a panic into `failed`.
fn guarded<T>(failed: T, f: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or(failed)
}

/// A byte slice from (pointer, length); NULL with length 0 is the empty
/// slice, NULL with a length is refused.
///
/// # Safety
/// `p` is NULL or points to `len` readable bytes that stay valid and
/// unmodified for `'a`.
unsafe fn bytes<'a>(p: *const c_char, len: usize) -> Option<&'a [u8]> {
    if p.is_null() {
        return (len == 0).then_some(&[][..]);
    }
    // SAFETY: the caller promises `len` readable bytes at `p` (non-null,
    // checked above); u8 and c_char have the same size and alignment.
    Some(unsafe { std::slice::from_raw_parts(p.cast::<u8>(), len) })
}

/// A NUL-terminated string as UTF-8; None for NULL or invalid UTF-8.
///
/// # Safety
/// `p` is NULL or points to a NUL-terminated string valid for `'a`.
unsafe fn text<'a>(p: *const c_char) -> Option<&'a str> {
    if p.is_null() {
        return None;
    }
    // SAFETY: non-null and NUL-terminated by the caller's promise.
    unsafe { CStr::from_ptr(p) }.to_str().ok()
}

/// Writes `msg` into the caller's buffer, cut to fit (at a character
/// boundary) and NUL-terminated. Nothing when the buffer is NULL or empty.
///
/// # Safety
/// `buf` is NULL or points to `cap` writable bytes.
unsafe fn write_message(buf: *mut c_char, cap: usize, msg: &str) {
    if buf.is_null() || cap == 0 {
        return;
    }
    let mut n = msg.len().min(cap - 1);
    while !msg.is_char_boundary(n) {
        n -= 1;
    }
    // SAFETY: `buf` has `cap` writable bytes and `n + 1 <= cap`; the source
    // is a Rust string that cannot overlap the caller's buffer.
    unsafe {
        ptr::copy_nonoverlapping(msg.as_ptr(), buf.cast::<u8>(), n);
        *buf.add(n) = 0;
    }
}

/// # Safety
/// `g` is NULL or a live handle from `rampart_guard_new`.
unsafe fn guard_ref<'a>(g: *const RampartGuard) -> Option<&'a RampartGuard> {
    // SAFETY: the caller promises a live handle or NULL.
    unsafe { g.as_ref() }
}

/// # Safety
/// `r` is NULL or a live handle from `rampart_request_new`, used by no
/// other thread during the call.
unsafe fn request_mut<'a>(r: *mut RampartRequest) -> Option<&'a mut RampartRequest> {
    // SAFETY: the caller promises a live, unshared handle or NULL.
    unsafe { r.as_mut() }
}

/// # Safety
/// `r` is NULL or a live handle from `rampart_request_new`.
unsafe fn request_ref<'a>(r: *const RampartRequest) -> Option<&'a RampartRequest> {
    // SAFETY: the caller promises a live handle or NULL.
    unsafe { r.as_ref() }
}

/// # Safety
/// `d` is NULL or a live handle from `rampart_inspect`/`rampart_refuse_length`.
unsafe fn decision_ref<'a>(d: *const RampartDecision) -> Option<&'a RampartDecision> {
    // SAFETY: the caller promises a live handle or NULL.
    unsafe { d.as_ref() }
}

fn opt_c_str(s: Option<&CStr>) -> *const c_char {
    s.map_or(ptr::null(), CStr::as_ptr)
}

/// The version of this ABI (`RAMPART_ABI_VERSION` of the header it was
/// built with): a module checks it at start.
#[no_mangle]
pub extern "C" fn rampart_abi_version() -> u32 {
    ABI_VERSION
}

/// The library's version, a static NUL-terminated string.
#[no_mangle]
pub extern "C" fn rampart_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// Reads and validates a node.toml without starting anything: no thread,
/// no log file. For a server's master process before it forks. 0 when
/// valid; -1 with the reason in `err` otherwise.
///
/// # Safety
/// `config_path` is NULL or a NUL-terminated string; `err` is NULL or
/// points to `errlen` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn rampart_config_check(
    config_path: *const c_char,
    err: *mut c_char,
    errlen: usize,
) -> c_int {
    let msg = guarded(
        Some("a panic while checking the configuration".into()),
        || {
            // SAFETY: forwarded caller promise.
            let Some(path) = (unsafe { text(config_path) }) else {
                return Some("config_path is NULL or not UTF-8".to_string());
            };
            crate::check_config(Path::new(path))
                .err()
                .map(|e| format!("{e:#}"))
        },
    );
    match msg {
        None => 0,
        Some(m) => {
            // SAFETY: forwarded caller promise on `err`/`errlen`.
            unsafe { write_message(err, errlen, &m) };
            -1
        }
    }
}

/// Starts a guard on a node.toml: the engine, rules, rule pack, telemetry
/// and cloud sync, with one background thread. Call it in the process that
/// serves requests (after any fork). `adapter` names the server in the log
/// ("apache", "iis"; NULL: "ffi"). NULL on failure, with the reason in
/// `err` (cut to `errlen - 1` bytes and NUL-terminated).
///
/// # Safety
/// `config_path` and `adapter` are NULL or NUL-terminated strings; `err`
/// is NULL or points to `errlen` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn rampart_guard_new(
    config_path: *const c_char,
    adapter: *const c_char,
    err: *mut c_char,
    errlen: usize,
) -> *mut RampartGuard {
    let made = guarded(Err("a panic while starting the guard".to_string()), || {
        // SAFETY: forwarded caller promises.
        let Some(path) = (unsafe { text(config_path) }) else {
            return Err("config_path is NULL or not UTF-8".to_string());
        };
        // SAFETY: forwarded caller promise.
        let adapter = unsafe { text(adapter) }.unwrap_or("ffi");
        RampartGuard::from_file(Path::new(path), adapter).map_err(|e| format!("{e:#}"))
    });
    match made {
        Ok(g) => Box::into_raw(Box::new(g)),
        Err(m) => {
            // SAFETY: forwarded caller promise on `err`/`errlen`.
            unsafe { write_message(err, errlen, &m) };
            ptr::null_mut()
        }
    }
}

/// Stops the guard's thread (flushing telemetry to the spool and the
/// cloud within node.toml's shutdown grace) and frees it. NULL is ignored.
/// No other thread may use the guard during or after the call.
///
/// # Safety
/// `g` is NULL or a handle from `rampart_guard_new` not freed before.
#[no_mangle]
pub unsafe extern "C" fn rampart_guard_free(g: *mut RampartGuard) {
    if g.is_null() {
        return;
    }
    // SAFETY: `g` came from Box::into_raw in rampart_guard_new and is
    // freed once, by the caller's promise.
    let g = unsafe { Box::from_raw(g) };
    guarded((), move || g.shutdown());
}

/// node.toml's mode: RAMPART_MODE_BLOCK, _MONITOR or _OFF; 0 for NULL.
///
/// # Safety
/// `g` is NULL or a live guard.
#[no_mangle]
pub unsafe extern "C" fn rampart_guard_mode(g: *const RampartGuard) -> c_int {
    // SAFETY: forwarded caller promise.
    let Some(g) = (unsafe { guard_ref(g) }) else {
        return 0;
    };
    guarded(0, || g.mode())
}

/// node.toml's `[inspection] body_limit` in bytes; 0 for NULL.
///
/// # Safety
/// `g` is NULL or a live guard.
#[no_mangle]
pub unsafe extern "C" fn rampart_body_limit(g: *const RampartGuard) -> usize {
    // SAFETY: forwarded caller promise.
    let Some(g) = (unsafe { guard_ref(g) }) else {
        return 0;
    };
    guarded(0, || g.body_limit())
}

/// node.toml's `[inspection] over_limit`: RAMPART_OVER_LIMIT_INSPECT_PREFIX
/// (0) or RAMPART_OVER_LIMIT_BLOCK (1); -1 for NULL.
///
/// # Safety
/// `g` is NULL or a live guard.
#[no_mangle]
pub unsafe extern "C" fn rampart_over_limit(g: *const RampartGuard) -> c_int {
    // SAFETY: forwarded caller promise.
    let Some(g) = (unsafe { guard_ref(g) }) else {
        return -1;
    };
    guarded(-1, || g.over_limit())
}

/// A new, empty request whose body keeps at most `body_limit` bytes
/// (usually `rampart_body_limit(guard)`). NULL only if memory ran out.
#[no_mangle]
pub extern "C" fn rampart_request_new(body_limit: usize) -> *mut RampartRequest {
    guarded(ptr::null_mut(), || {
        Box::into_raw(Box::new(RampartRequest::new(body_limit)))
    })
}

/// Frees a request. NULL is ignored.
///
/// # Safety
/// `r` is NULL or a handle from `rampart_request_new` not freed before.
#[no_mangle]
pub unsafe extern "C" fn rampart_request_free(r: *mut RampartRequest) {
    if r.is_null() {
        return;
    }
    // SAFETY: from Box::into_raw in rampart_request_new, freed once.
    let r = unsafe { Box::from_raw(r) };
    guarded((), move || drop(r));
}

/// Applies `f` to the request and the bytes; 0 on success, -1 for a NULL
/// request or NULL data with a length.
///
/// # Safety
/// As for `request_mut` and `bytes`.
unsafe fn set_bytes(
    r: *mut RampartRequest,
    p: *const c_char,
    len: usize,
    f: impl FnOnce(&mut RampartRequest, &[u8]),
) -> c_int {
    // SAFETY: forwarded caller promises.
    let (Some(r), Some(b)) = (unsafe { request_mut(r) }, unsafe { bytes(p, len) }) else {
        return -1;
    };
    guarded(-1, || {
        f(r, b);
        0
    })
}

/// Sets the method (`GET`, `POST`...). 0, or -1 for NULL arguments.
///
/// # Safety
/// `r` is NULL or a live request used by no other thread; `method` is NULL
/// or points to `len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn rampart_request_set_method(
    r: *mut RampartRequest,
    method: *const c_char,
    len: usize,
) -> c_int {
    // SAFETY: forwarded caller promises.
    unsafe { set_bytes(r, method, len, |r, b| r.set_method(b)) }
}

/// Sets the request-target exactly as on the request line
/// (`/path?query`). 0, or -1 for NULL arguments.
///
/// # Safety
/// As for `rampart_request_set_method`.
#[no_mangle]
pub unsafe extern "C" fn rampart_request_set_target(
    r: *mut RampartRequest,
    target: *const c_char,
    len: usize,
) -> c_int {
    // SAFETY: forwarded caller promises.
    unsafe { set_bytes(r, target, len, |r, b| r.set_target(b)) }
}

/// Adds one header (a repeated header is added once per occurrence, in
/// order). 0, or -1 for NULL arguments.
///
/// # Safety
/// `r` is NULL or a live request used by no other thread; `name` and
/// `value` are NULL or point to `name_len` and `value_len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn rampart_request_add_header(
    r: *mut RampartRequest,
    name: *const c_char,
    name_len: usize,
    value: *const c_char,
    value_len: usize,
) -> c_int {
    // SAFETY: forwarded caller promise.
    let Some(v) = (unsafe { bytes(value, value_len) }) else {
        return -1;
    };
    // SAFETY: forwarded caller promises.
    unsafe { set_bytes(r, name, name_len, |r, n| r.add_header(n, v)) }
}

/// Appends a body chunk; bytes past the request's body limit are not kept
/// and mark the body truncated. Returns how many bytes were kept (0 for
/// NULL arguments).
///
/// # Safety
/// `r` is NULL or a live request used by no other thread; `data` is NULL
/// or points to `len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn rampart_request_append_body(
    r: *mut RampartRequest,
    data: *const c_char,
    len: usize,
) -> usize {
    // SAFETY: forwarded caller promises.
    let (Some(r), Some(b)) = (unsafe { request_mut(r) }, unsafe { bytes(data, len) }) else {
        return 0;
    };
    guarded(0, || r.append_body(b))
}

/// Marks the body as longer than what was appended (non-zero) or not (0):
/// for a server that stopped reading at the limit by itself.
///
/// # Safety
/// `r` is NULL or a live request used by no other thread.
#[no_mangle]
pub unsafe extern "C" fn rampart_request_set_truncated(r: *mut RampartRequest, truncated: c_int) {
    // SAFETY: forwarded caller promise.
    if let Some(r) = unsafe { request_mut(r) } {
        r.set_truncated(truncated != 0);
    }
}

/// Bytes of body kept so far (0 for NULL).
///
/// # Safety
/// `r` is NULL or a live request.
#[no_mangle]
pub unsafe extern "C" fn rampart_request_body_len(r: *const RampartRequest) -> usize {
    // SAFETY: forwarded caller promise.
    unsafe { request_ref(r) }.map_or(0, RampartRequest::body_len)
}

/// Sets the client address from text (`192.0.2.1`, `2001:db8::1`). 0, or
/// -1 when NULL, not UTF-8 or not an address (the request then has none).
///
/// # Safety
/// `r` is NULL or a live request used by no other thread; `ip` is NULL or
/// a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn rampart_request_set_client_ip(
    r: *mut RampartRequest,
    ip: *const c_char,
) -> c_int {
    // SAFETY: forwarded caller promises.
    let (Some(r), Some(ip)) = (unsafe { request_mut(r) }, unsafe { text(ip) }) else {
        return -1;
    };
    guarded(-1, || if r.set_client_ip(ip) { 0 } else { -1 })
}

/// The refusal of a body by its declared length before reading it: with
/// node.toml's `over_limit = "block"` and `declared` (the Content-Length;
/// negative: unknown) above the request's body limit, a decision to block
/// with 413 (its page chosen by the request's Accept header). NULL: go on
/// and read the body (also for NULL `g`). `r` may be NULL (JSON page).
///
/// # Safety
/// `g` is NULL or a live guard; `r` is NULL or a live request.
#[no_mangle]
pub unsafe extern "C" fn rampart_refuse_length(
    g: *const RampartGuard,
    r: *const RampartRequest,
    declared: i64,
    mode_override: c_int,
) -> *mut RampartDecision {
    // SAFETY: forwarded caller promises.
    let (Some(g), r) = (unsafe { guard_ref(g) }, unsafe { request_ref(r) }) else {
        return ptr::null_mut();
    };
    guarded(ptr::null_mut(), || {
        let limit = r.map_or_else(|| g.body_limit(), RampartRequest::body_limit);
        let declared = u64::try_from(declared).ok();
        match g.refuse_length(r, declared, limit, mode_from_c(mode_override)) {
            Some(d) => Box::into_raw(Box::new(d)),
            None => ptr::null_mut(),
        }
    })
}

/// Inspects a request. `mode_override`: RAMPART_MODE_CONFIG (0) for
/// node.toml's mode, else RAMPART_MODE_BLOCK, _MONITOR or _OFF (a
/// per-location mode). Returns the decision, to free with
/// `rampart_decision_free`; NULL only for NULL arguments or an internal
/// failure, which the caller handles by its fail mode.
///
/// # Safety
/// `g` is NULL or a live guard; `r` is NULL or a live request not being
/// modified during the call.
#[no_mangle]
pub unsafe extern "C" fn rampart_inspect(
    g: *const RampartGuard,
    r: *const RampartRequest,
    mode_override: c_int,
) -> *mut RampartDecision {
    // SAFETY: forwarded caller promises.
    let (Some(g), Some(r)) = (unsafe { guard_ref(g) }, unsafe { request_ref(r) }) else {
        return ptr::null_mut();
    };
    guarded(ptr::null_mut(), || {
        Box::into_raw(Box::new(g.inspect(r, mode_from_c(mode_override))))
    })
}

/// When the response status is known (optional; once per decision): runs
/// the response-phase rules and counts the request in the traffic
/// aggregates. Returns RAMPART_ACTION_BLOCK when the response should be
/// replaced by the block page, else the decision's action; -1 for NULL.
///
/// # Safety
/// `g` is NULL or a live guard; `d` is NULL or a live decision used by no
/// other thread.
#[no_mangle]
pub unsafe extern "C" fn rampart_finish(
    g: *const RampartGuard,
    d: *mut RampartDecision,
    response_status: c_int,
) -> c_int {
    // SAFETY: forwarded caller promises.
    let (Some(g), Some(d)) = (unsafe { guard_ref(g) }, unsafe { d.as_mut() }) else {
        return -1;
    };
    let status = u16::try_from(response_status).unwrap_or(0);
    guarded(-1, || g.finish(d, status))
}

/// Frees a decision. NULL is ignored.
///
/// # Safety
/// `d` is NULL or a decision not freed before; the strings its accessors
/// returned are invalid afterwards.
#[no_mangle]
pub unsafe extern "C" fn rampart_decision_free(d: *mut RampartDecision) {
    if d.is_null() {
        return;
    }
    // SAFETY: from Box::into_raw in rampart_inspect/rampart_refuse_length,
    // freed once.
    let d = unsafe { Box::from_raw(d) };
    guarded((), move || drop(d));
}

/// RAMPART_ACTION_ALLOW (0), _BLOCK (1) or _MONITOR (2); -1 for NULL.
///
/// # Safety
/// `d` is NULL or a live decision.
#[no_mangle]
pub unsafe extern "C" fn rampart_decision_action(d: *const RampartDecision) -> c_int {
    // SAFETY: forwarded caller promise.
    unsafe { decision_ref(d) }.map_or(-1, RampartDecision::action)
}

/// The status to answer with when blocking (403, 413, 503...); 200 when
/// the request passes; 0 for NULL.
///
/// # Safety
/// `d` is NULL or a live decision.
#[no_mangle]
pub unsafe extern "C" fn rampart_decision_status(d: *const RampartDecision) -> c_int {
    // SAFETY: forwarded caller promise.
    unsafe { decision_ref(d) }.map_or(0, |d| c_int::from(d.status()))
}

/// The summed score of the deciding attack class; 0 for NULL.
///
/// # Safety
/// `d` is NULL or a live decision.
#[no_mangle]
pub unsafe extern "C" fn rampart_decision_score(d: *const RampartDecision) -> u32 {
    // SAFETY: forwarded caller promise.
    unsafe { decision_ref(d) }.map_or(0, RampartDecision::score)
}

/// The attack class that decided (`sqli`, `xss`...), or NULL. Valid until
/// the decision is freed.
///
/// # Safety
/// `d` is NULL or a live decision.
#[no_mangle]
pub unsafe extern "C" fn rampart_decision_class(d: *const RampartDecision) -> *const c_char {
    // SAFETY: forwarded caller promise.
    unsafe { decision_ref(d) }.map_or(ptr::null(), |d| opt_c_str(d.class()))
}

/// The rule or detector that decided, or NULL.
///
/// # Safety
/// `d` is NULL or a live decision.
#[no_mangle]
pub unsafe extern "C" fn rampart_decision_rule(d: *const RampartDecision) -> *const c_char {
    // SAFETY: forwarded caller promise.
    unsafe { decision_ref(d) }.map_or(ptr::null(), |d| opt_c_str(d.rule()))
}

/// The request point that decided (`query.id`...), or NULL.
///
/// # Safety
/// `d` is NULL or a live decision.
#[no_mangle]
pub unsafe extern "C" fn rampart_decision_point(d: *const RampartDecision) -> *const c_char {
    // SAFETY: forwarded caller promise.
    unsafe { decision_ref(d) }.map_or(ptr::null(), |d| opt_c_str(d.point()))
}

/// The request id (in the log line and on the block page); "" when none
/// was made (mode off); NULL for NULL.
///
/// # Safety
/// `d` is NULL or a live decision.
#[no_mangle]
pub unsafe extern "C" fn rampart_decision_request_id(d: *const RampartDecision) -> *const c_char {
    // SAFETY: forwarded caller promise.
    unsafe { decision_ref(d) }.map_or(ptr::null(), |d| d.request_id().as_ptr())
}

/// A stable code for the verdict: `allowed`, `blocked`, `body_too_large`,
/// `inspection_failed`; NULL for NULL.
///
/// # Safety
/// `d` is NULL or a live decision.
#[no_mangle]
pub unsafe extern "C" fn rampart_decision_reason(d: *const RampartDecision) -> *const c_char {
    // SAFETY: forwarded caller promise.
    unsafe { decision_ref(d) }.map_or(ptr::null(), |d| d.reason().as_ptr())
}

/// The block page's body (JSON, or HTML when the request's Accept prefers
/// it); its length in `*len` (when `len` is not NULL). Not NUL-terminated.
/// Length 0 unless the decision blocks; NULL for a NULL decision.
///
/// # Safety
/// `d` is NULL or a live decision; `len` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn rampart_decision_body(
    d: *const RampartDecision,
    len: *mut usize,
) -> *const c_char {
    // SAFETY: forwarded caller promise.
    let page = unsafe { decision_ref(d) }.map(RampartDecision::page);
    if !len.is_null() {
        // SAFETY: non-null and writable by the caller's promise.
        unsafe { *len = page.map_or(0, <[u8]>::len) };
    }
    page.map_or(ptr::null(), |p| p.as_ptr().cast())
}

/// The block page's content type (`application/json`,
/// `text/html; charset=utf-8`); "" unless the decision blocks.
///
/// # Safety
/// `d` is NULL or a live decision.
#[no_mangle]
pub unsafe extern "C" fn rampart_decision_content_type(d: *const RampartDecision) -> *const c_char {
    // SAFETY: forwarded caller promise.
    unsafe { decision_ref(d) }.map_or(ptr::null(), |d| d.content_type().as_ptr())
}
