//! The boundary between Rust and compiled code: the only module of the
//! crate with `unsafe`. It holds
//! - the `extern "C"` runtime helpers compiled code calls: each turns the
//!   context pointer back into a `&mut Ctx` (one `unsafe` block, in
//!   [`with_ctx`]), runs the safe logic of [`super::runtime`] and catches
//!   any panic (a helper answers false or absent and marks the context);
//! - the calls into compiled code ([`call_cond`], [`call_key`],
//!   [`call_seq`]);
//! - the release of the code's memory ([`free`]).
//!
//! Compiled code passes the context pointer it was given to these helpers,
//! with integers and floats, and never dereferences it. The one memory it
//! reads itself is the facts table ([`super::facts`]), through the second
//! pointer it is given: aligned 64-bit loads at offsets that codegen
//! derives from the program's [`Layout`](super::facts::Layout), below the
//! layout's length, which the calls below check the table has.

#![allow(unsafe_code)]

use std::ffi::c_void;
use std::num::NonZeroUsize;
use std::panic::{catch_unwind, AssertUnwindSafe};

use cranelift_jit::JITModule;

use super::runtime::{Ctx, Handle};

/// Runs `f` on the context behind `p`, catching panics (`dflt` then).
#[inline(always)]
fn with_ctx<R: Copy>(p: *mut c_void, dflt: R, f: impl FnOnce(&mut Ctx<'static>) -> R) -> R {
    if p.is_null() {
        return dflt;
    }
    // SAFETY: `p` is the pointer [`call_cond`] / [`call_key`] derived from
    // a `&mut Ctx` that lives for the whole call of the compiled function
    // and that the caller does not touch until the call returns; compiled
    // code passes it through unchanged and helpers do not call each other,
    // so this is the only live reference to the context. The `'static`
    // is never observed: `R` carries no borrow (`Copy` numbers only), so
    // no reference derived from the context outlives this call.
    let ctx = unsafe { &mut *p.cast::<Ctx<'static>>() };
    match catch_unwind(AssertUnwindSafe(|| f(&mut *ctx))) {
        Ok(r) => r,
        Err(_) => {
            ctx.panicked = true;
            dflt
        }
    }
}

fn b(x: bool) -> i8 {
    i8::from(x)
}

pub(crate) extern "C" fn rt_lookup(p: *mut c_void, path: u32) -> u64 {
    with_ctx(p, 0, |c| c.lookup(path))
}
pub(crate) extern "C" fn rt_node(p: *mut c_void, i: u64) -> u64 {
    with_ctx(p, 0, |c| c.node(i))
}
pub(crate) extern "C" fn rt_exists(p: *mut c_void, path: u32) -> i8 {
    with_ctx(p, 0, |c| b(c.exists(path)))
}
pub(crate) extern "C" fn rt_first(p: *mut c_void, path: u32) -> Handle {
    with_ctx(p, 0, |c| c.first(path))
}
pub(crate) extern "C" fn rt_param(p: *mut c_void, rule: u32, idx: u32) -> Handle {
    with_ctx(p, 0, |c| c.param(rule, idx))
}
pub(crate) extern "C" fn rt_status(p: *mut c_void) -> f64 {
    with_ctx(p, f64::NAN, |c| c.status())
}
pub(crate) extern "C" fn rt_str_cmp(p: *mut c_void, op: u32, a: Handle, bb: Handle) -> i8 {
    with_ctx(p, 0, |c| b(c.str_cmp(op, a, bb)))
}
pub(crate) extern "C" fn rt_in_str(p: *mut c_void, h: Handle, list: u32) -> i8 {
    with_ctx(p, 0, |c| b(c.in_str(h, list)))
}
pub(crate) extern "C" fn rt_in_num(p: *mut c_void, x: f64, list: u32) -> i8 {
    with_ctx(p, 0, |c| b(c.in_num(x, list)))
}
pub(crate) extern "C" fn rt_glob(p: *mut c_void, h: Handle, g: u32) -> i8 {
    with_ctx(p, 0, |c| b(c.glob(h, g)))
}
pub(crate) extern "C" fn rt_str_fn(p: *mut c_void, f: u32, h: Handle) -> Handle {
    with_ctx(p, 0, |c| c.str_fn(f, h))
}
pub(crate) extern "C" fn rt_num_fn(p: *mut c_void, f: u32, h: Handle) -> f64 {
    with_ctx(p, f64::NAN, |c| c.num_fn(f, h))
}
pub(crate) extern "C" fn rt_str2(p: *mut c_void, f: u32, a: Handle, bb: Handle) -> i8 {
    with_ctx(p, 0, |c| b(c.str2(f, a, bb)))
}
pub(crate) extern "C" fn rt_test(p: *mut c_void, f: u32, h: Handle) -> i8 {
    with_ctx(p, 0, |c| b(c.test(f, h)))
}
pub(crate) extern "C" fn rt_finding(p: *mut c_void, site: u32, node: u64) -> i8 {
    with_ctx(p, 0, |c| b(c.finding(site, node)))
}
pub(crate) extern "C" fn rt_profile(p: *mut c_void, kind: u32, node: u64) -> f64 {
    with_ctx(p, f64::NAN, |c| c.profile(kind, node))
}
pub(crate) extern "C" fn rt_name(p: *mut c_void, node: u64) -> Handle {
    with_ctx(p, 0, |c| c.name(node))
}
pub(crate) extern "C" fn rt_key_begin(p: *mut c_void, site: u32, rule: u32) {
    with_ctx(p, (), |c| c.key_begin(site, rule))
}
pub(crate) extern "C" fn rt_key_push(p: *mut c_void, site: u32, i: u32, h: Handle) -> i8 {
    with_ctx(p, 0, |c| b(c.key_push(site, i, h)))
}
pub(crate) extern "C" fn rt_kernel(p: *mut c_void, k: u32, path: u32) -> i8 {
    with_ctx(p, 0, |c| b(c.kernel(k, path)))
}
pub(crate) extern "C" fn rt_counter(p: *mut c_void, site: u32) -> f64 {
    with_ctx(p, f64::NAN, |c| c.counter(site))
}

/// A finished function's entry point, kept as an address (never 0).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Code(NonZeroUsize);

impl Code {
    /// The function at `addr`; `None` for a null address.
    pub fn new(addr: *const u8) -> Option<Code> {
        NonZeroUsize::new(addr as usize).map(Code)
    }
}

/// The arguments every compiled function takes after the context: the
/// facts table and the request's tag; `None` (and the context marked as
/// after a helper's panic) when the table is too short for the program,
/// which [`super::runtime::Buffers::start`] rules out.
fn facts(ctx: &mut Ctx<'_>) -> Option<(*const u64, u64)> {
    let f = ctx.facts();
    if f.is_none() {
        ctx.panicked = true;
    }
    f
}

/// Runs a compiled condition.
pub(crate) fn call_cond(code: Code, ctx: &mut Ctx<'_>) -> bool {
    let Some((facts, tag)) = facts(ctx) else {
        return false;
    };
    let p: *mut Ctx<'_> = ctx;
    // SAFETY: `code` is the address the JIT module gave for a function it
    // finalized with the signature `(i64, i64, i64) -> i8` in the
    // platform's C calling convention (see `codegen::compile`), and the
    // module (hence the code) lives as long as the evaluator that calls
    // it. The function passes `p` only to the helpers above, and reads
    // the facts table at word offsets below the program's layout length,
    // which `facts` checked the table has; the table is a slice of `Cell`s
    // that is neither moved nor resized during the call (helpers only
    // `set` its words, while compiled code waits for them on this thread).
    let f = unsafe {
        std::mem::transmute::<usize, extern "C" fn(*mut c_void, *const u64, u64) -> i8>(
            code.0.get(),
        )
    };
    f(p.cast(), facts, tag) != 0
}

/// Runs a compiled `str` expression (a rate-limit key).
pub(crate) fn call_key(code: Code, ctx: &mut Ctx<'_>) -> Handle {
    let Some((facts, tag)) = facts(ctx) else {
        return 0;
    };
    let p: *mut Ctx<'_> = ctx;
    // SAFETY: as in `call_cond`, for the signature `(i64, i64, i64) -> i64`.
    let f = unsafe {
        std::mem::transmute::<usize, extern "C" fn(*mut c_void, *const u64, u64) -> u64>(
            code.0.get(),
        )
    };
    f(p.cast(), facts, tag)
}

/// Runs a compiled rule sequence from position `from` up to `end`;
/// `None` when it cannot run (see `facts`).
pub(crate) fn call_seq(code: Code, ctx: &mut Ctx<'_>, from: u32, end: u32) -> Option<u32> {
    let (facts, tag) = facts(ctx)?;
    let p: *mut Ctx<'_> = ctx;
    // SAFETY: as in `call_cond`, for the signature
    // `(i64, i64, i64, i32, i32) -> i32` (see `codegen::sequence`); the
    // function calls only compiled conditions of the same module with its
    // own arguments, which call the helpers above.
    let f = unsafe {
        std::mem::transmute::<usize, extern "C" fn(*mut c_void, *const u64, u64, u32, u32) -> u32>(
            code.0.get(),
        )
    };
    Some(f(p.cast(), facts, tag, from, end))
}

/// Releases the code of a module.
pub(crate) fn free(module: JITModule) {
    // SAFETY: called only when the evaluator that owns `module` is
    // dropped; the evaluator is the only holder of the code addresses, so
    // no compiled function can run afterwards.
    unsafe { module.free_memory() }
}
