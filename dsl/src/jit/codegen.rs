//! Lowers the typed IR of each rule's condition to cranelift IR, one
//! native function per condition (and per rate-limit key).
//!
//! Representation: `bool` is an `i8` (0/1), `num` an `f64` (absent is
//! NaN), `str` an `i64` [`Handle`](super::runtime::Handle). Slots are
//! cranelift variables holding node indices. `and`/`or` and quantifiers
//! branch exactly where the interpreter stops, so counters record the same
//! events. Everything that touches the request, strings, detectors or
//! counters is a call to a helper of [`super::abi`].

use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{
    types, AbiParam, BlockArg, FuncRef, InstBuilder, JumpTableData, Type, Value,
};
use cranelift_codegen::settings::{self, Configurable};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext, Variable};
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{default_libcall_names, FuncId, Linkage, Module};

use super::abi::{self, Code};
use super::kernel;
use super::runtime::{cmp_code, Tables, TAG_CONST, TAG_IP, TAG_NODE, TAG_SESSION};
use crate::backend::BackendError;
use crate::ir::{
    ActionIr, Builtin, Cmp, ConstList, Context as Cx, ExprId, Op, Program, RulePhase, Ty,
};

/// Deepest expression nesting compiled (the parser allows far less).
const MAX_DEPTH: u32 = 1000;
/// `in [..]` over at most this many numbers is compiled inline.
const INLINE_IN: usize = 8;

#[derive(Clone, Copy)]
enum K {
    I8,
    I32,
    I64,
    F64,
}

impl K {
    fn ty(self) -> Type {
        match self {
            K::I8 => types::I8,
            K::I32 => types::I32,
            K::I64 => types::I64,
            K::F64 => types::F64,
        }
    }
}

/// The runtime helpers: name, address, parameters after the context
/// pointer, result.
#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(usize)]
enum H {
    Lookup,
    Node,
    Exists,
    First,
    Param,
    Status,
    StrCmp,
    InStr,
    InNum,
    Glob,
    StrFn,
    NumFn,
    Str2,
    Test,
    Finding,
    Profile,
    KeyBegin,
    KeyPush,
    Counter,
    Kernel,
}

const N_HELPERS: usize = 20;

fn helpers() -> [(&'static str, *const u8, &'static [K], Option<K>); N_HELPERS] {
    use K::*;
    [
        ("rt_lookup", abi::rt_lookup as *const u8, &[I32], Some(I64)),
        ("rt_node", abi::rt_node as *const u8, &[I64], Some(I64)),
        ("rt_exists", abi::rt_exists as *const u8, &[I32], Some(I8)),
        ("rt_first", abi::rt_first as *const u8, &[I32], Some(I64)),
        (
            "rt_param",
            abi::rt_param as *const u8,
            &[I32, I32],
            Some(I64),
        ),
        ("rt_status", abi::rt_status as *const u8, &[], Some(F64)),
        (
            "rt_str_cmp",
            abi::rt_str_cmp as *const u8,
            &[I32, I64, I64],
            Some(I8),
        ),
        (
            "rt_in_str",
            abi::rt_in_str as *const u8,
            &[I64, I32],
            Some(I8),
        ),
        (
            "rt_in_num",
            abi::rt_in_num as *const u8,
            &[F64, I32],
            Some(I8),
        ),
        ("rt_glob", abi::rt_glob as *const u8, &[I64, I32], Some(I8)),
        (
            "rt_str_fn",
            abi::rt_str_fn as *const u8,
            &[I32, I64],
            Some(I64),
        ),
        (
            "rt_num_fn",
            abi::rt_num_fn as *const u8,
            &[I32, I64],
            Some(F64),
        ),
        (
            "rt_str2",
            abi::rt_str2 as *const u8,
            &[I32, I64, I64],
            Some(I8),
        ),
        ("rt_test", abi::rt_test as *const u8, &[I32, I64], Some(I8)),
        (
            "rt_finding",
            abi::rt_finding as *const u8,
            &[I32, I64],
            Some(I8),
        ),
        (
            "rt_profile",
            abi::rt_profile as *const u8,
            &[I32, I64],
            Some(F64),
        ),
        (
            "rt_key_begin",
            abi::rt_key_begin as *const u8,
            &[I32, I32],
            None,
        ),
        (
            "rt_key_push",
            abi::rt_key_push as *const u8,
            &[I32, I32, I64],
            Some(I8),
        ),
        (
            "rt_counter",
            abi::rt_counter as *const u8,
            &[I32],
            Some(F64),
        ),
        (
            "rt_kernel",
            abi::rt_kernel as *const u8,
            &[I32, I32],
            Some(I8),
        ),
    ]
}

/// Native code for a program: per rule, its condition (`None`: always
/// true) and its rate-limit key, and the module that owns the code.
pub(crate) struct Compiled {
    pub module: JITModule,
    pub tables: Tables,
    pub conds: Vec<Option<Code>>,
    pub keys: Vec<Option<Code>>,
    /// Per phase (request, response): the rules without an endpoint
    /// clause, in order, and the function that runs their conditions back
    /// to back ([`sequence`]).
    pub seqs: [(Vec<u32>, Option<Code>); 2],
}

/// True for a rule the sequence function hands back to Rust before its
/// condition: one with a method or host clause, or a rate limit.
pub(crate) fn gated(r: &crate::ir::RuleIr) -> bool {
    !r.scope.methods.is_empty()
        || !r.scope.hosts.is_empty()
        || r.actions
            .iter()
            .any(|a| matches!(a, ActionIr::RateLimit { .. }))
}

fn err(e: impl std::fmt::Display) -> BackendError {
    BackendError(format!("jit: {e}"))
}

/// Compiles every condition and rate-limit key of `prog` (already
/// validated).
pub(crate) fn compile(prog: &Program, opt_level: &str) -> Result<Compiled, BackendError> {
    let mut flags = settings::builder();
    flags.set("opt_level", opt_level).map_err(err)?;
    flags.set("use_colocated_libcalls", "false").map_err(err)?;
    flags.set("is_pic", "false").map_err(err)?;
    let verify = if cfg!(debug_assertions) {
        "true"
    } else {
        "false"
    };
    flags.set("enable_verifier", verify).map_err(err)?;
    let isa = cranelift_native::builder()
        .map_err(err)?
        .finish(settings::Flags::new(flags))
        .map_err(err)?;
    let mut jb = JITBuilder::with_isa(isa, default_libcall_names());
    let table = helpers();
    for (name, addr, _, _) in &table {
        jb.symbol(*name, *addr);
    }
    let mut module = JITModule::new(jb);
    let ptr = module.target_config().pointer_type();
    let mut ids = Vec::with_capacity(N_HELPERS);
    for (name, _, params, ret) in &table {
        let mut sig = module.make_signature();
        sig.params.push(AbiParam::new(ptr));
        sig.params
            .extend(params.iter().map(|k| AbiParam::new(k.ty())));
        sig.returns
            .extend(ret.iter().map(|k| AbiParam::new(k.ty())));
        ids.push(
            module
                .declare_function(name, Linkage::Import, &sig)
                .map_err(err)?,
        );
    }
    let mut cond_sig = module.make_signature();
    cond_sig.params.push(AbiParam::new(ptr));
    cond_sig.returns.push(AbiParam::new(types::I8));
    let mut key_sig = cond_sig.clone();
    key_sig.returns[0] = AbiParam::new(types::I64);

    let mut tables = Tables::default();
    let mut ctx = module.make_context();
    let mut fctx = FunctionBuilderContext::new();
    let mut pending: Vec<(usize, bool, FuncId)> = Vec::new();
    for (ri, rule) in prog.rules.iter().enumerate() {
        let mut roots = Vec::with_capacity(2);
        if let Some(c) = rule.cond {
            roots.push((c, false));
        }
        if let Some(ActionIr::RateLimit { key, .. }) = rule
            .actions
            .iter()
            .find(|a| matches!(a, ActionIr::RateLimit { .. }))
        {
            roots.push((*key, true));
        }
        for (root, is_key) in roots {
            let sig = if is_key { &key_sig } else { &cond_sig };
            let id = module.declare_anonymous_function(sig).map_err(err)?;
            ctx.func.signature = sig.clone();
            {
                let mut b = FunctionBuilder::new(&mut ctx.func, &mut fctx);
                let entry = b.create_block();
                b.append_block_params_for_function_params(entry);
                b.switch_to_block(entry);
                let ctxp = b.block_params(entry)[0];
                let e = Emit {
                    prog,
                    tabs: &mut tables,
                    b,
                    module: &mut module,
                    ids: &ids,
                    refs: [None; N_HELPERS],
                    ctxp,
                    rule: ri as u32,
                    slots: Vec::new(),
                    depth: 0,
                    fuse: kernel::slots_bound(prog, root),
                };
                e.function(root, is_key, rule.slots)
                    .map_err(|m| err(format!("rule {}: {m}", rule.id)))?;
            }
            module
                .define_function(id, &mut ctx)
                .map_err(|e| err(format!("rule {}: {e:?}", rule.id)))?;
            module.clear_context(&mut ctx);
            pending.push((ri, is_key, id));
        }
    }
    let mut cond_ids: Vec<Option<FuncId>> = vec![None; prog.rules.len()];
    for &(ri, is_key, id) in &pending {
        if !is_key {
            cond_ids[ri] = Some(id);
        }
    }
    let mut seq_ids = [None, None];
    let mut seq_rules: [Vec<u32>; 2] = [Vec::new(), Vec::new()];
    for (pi, phase) in [RulePhase::Request, RulePhase::Response]
        .into_iter()
        .enumerate()
    {
        let rules: Vec<u32> = prog
            .rules
            .iter()
            .enumerate()
            .filter(|(_, r)| r.phase == phase && r.scope.endpoints.is_empty())
            .map(|(i, _)| i as u32)
            .collect();
        if rules.len() >= 2 {
            let id = sequence(&mut module, &mut ctx, &mut fctx, prog, &rules, &cond_ids)?;
            seq_ids[pi] = Some(id);
        }
        seq_rules[pi] = rules;
    }
    module.finalize_definitions().map_err(err)?;
    let [r0, r1] = seq_rules;
    let seqs = [
        (
            r0,
            seq_ids[0].map(|id| Code(module.get_finalized_function(id) as usize)),
        ),
        (
            r1,
            seq_ids[1].map(|id| Code(module.get_finalized_function(id) as usize)),
        ),
    ];
    let mut conds = vec![None; prog.rules.len()];
    let mut keys = vec![None; prog.rules.len()];
    for (ri, is_key, id) in pending {
        let code = Some(Code(module.get_finalized_function(id) as usize));
        if is_key {
            keys[ri] = code;
        } else {
            conds[ri] = code;
        }
    }
    Ok(Compiled {
        module,
        tables,
        conds,
        keys,
        seqs,
    })
}

/// The sequence function of a list of rules (`rules[i]` is a rule index):
/// `seq(ctx, from, end) -> pos` runs, for positions `from..end` in order,
/// the conditions of the rules that need no gate, with direct calls, and
/// returns the first position whose rule is gated or whose condition
/// holds (`end` when none): Rust then handles that rule and calls again
/// from the next position. It saves the rule loop's indirect call per rule.
fn sequence(
    module: &mut JITModule,
    ctx: &mut cranelift_codegen::Context,
    fctx: &mut FunctionBuilderContext,
    prog: &Program,
    rules: &[u32],
    cond_ids: &[Option<FuncId>],
) -> Result<FuncId, BackendError> {
    let ptr = module.target_config().pointer_type();
    let mut sig = module.make_signature();
    sig.params.push(AbiParam::new(ptr));
    sig.params.push(AbiParam::new(types::I32));
    sig.params.push(AbiParam::new(types::I32));
    sig.returns.push(AbiParam::new(types::I32));
    let id = module.declare_anonymous_function(&sig).map_err(err)?;
    ctx.func.signature = sig;
    {
        let mut b = FunctionBuilder::new(&mut ctx.func, fctx);
        let entry = b.create_block();
        b.append_block_params_for_function_params(entry);
        let n = rules.len();
        let blocks: Vec<_> = (0..=n).map(|_| b.create_block()).collect();
        b.switch_to_block(entry);
        let (cp, from, end) = {
            let p = b.block_params(entry);
            (p[0], p[1], p[2])
        };
        let calls: Vec<_> = blocks[..n]
            .iter()
            .map(|&blk| b.func.dfg.block_call(blk, &[]))
            .collect();
        let dflt = b.func.dfg.block_call(blocks[n], &[]);
        let jt = b.create_jump_table(JumpTableData::new(dflt, &calls));
        b.ins().br_table(from, jt);
        for (j, &ri) in rules.iter().enumerate() {
            b.switch_to_block(blocks[j]);
            let jv = b.ins().iconst(types::I32, j as i64);
            let past = b.ins().icmp(IntCC::UnsignedGreaterThanOrEqual, jv, end);
            let body = b.create_block();
            let ret_end = b.create_block();
            b.ins().brif(past, ret_end, &[], body, &[]);
            b.switch_to_block(ret_end);
            b.ins().return_(&[end]);
            b.switch_to_block(body);
            let rule = &prog.rules[ri as usize];
            let cond = cond_ids.get(ri as usize).copied().flatten();
            match cond {
                Some(fid) if !gated(rule) => {
                    let fr = module.declare_func_in_func(fid, b.func);
                    let call = b.ins().call(fr, &[cp]);
                    let v = b.inst_results(call)[0];
                    let hit = b.create_block();
                    b.ins().brif(v, hit, &[], blocks[j + 1], &[]);
                    b.switch_to_block(hit);
                    b.ins().return_(&[jv]);
                }
                // Gated, or no condition (it holds): Rust takes it.
                _ => {
                    b.ins().return_(&[jv]);
                }
            }
        }
        b.switch_to_block(blocks[n]);
        b.ins().return_(&[end]);
        b.seal_all_blocks();
        b.finalize(module.isa().frontend_config());
    }
    module
        .define_function(id, ctx)
        .map_err(|e| err(format!("rule sequence: {e:?}")))?;
    module.clear_context(ctx);
    Ok(id)
}

/// The type of the value an operation yields in native code.
fn natural(op: &Op) -> Ty {
    match op {
        Op::Bool(_)
        | Op::Exists(_)
        | Op::Any { .. }
        | Op::All { .. }
        | Op::Not(_)
        | Op::And(..)
        | Op::Or(..)
        | Op::Cmp(..)
        | Op::In(..)
        | Op::Glob(..)
        | Op::Finding { .. } => Ty::Bool,
        Op::Num(_) | Op::Deviation(_) | Op::LengthZ(_) | Op::Counter(_) => Ty::Num,
        Op::Str(_) | Op::Slot(_) | Op::PathParam(_) | Op::First(_) => Ty::Str,
        Op::Context(Cx::ResponseStatus) => Ty::Num,
        Op::Context(_) => Ty::Str,
        Op::Call(f, ..) => match f {
            Builtin::Len | Builtin::Num | Builtin::Entropy | Builtin::CharRatio(_) => Ty::Num,
            Builtin::Lower | Builtin::Upper | Builtin::Trim => Ty::Str,
            _ => Ty::Bool,
        },
    }
}

struct Emit<'a, 'b> {
    prog: &'a Program,
    tabs: &'a mut Tables,
    b: FunctionBuilder<'b>,
    module: &'a mut JITModule,
    ids: &'a [FuncId],
    refs: [Option<FuncRef>; N_HELPERS],
    ctxp: Value,
    rule: u32,
    slots: Vec<Variable>,
    depth: u32,
    /// Quantifier loops may be fused ([`kernel`]).
    fuse: bool,
}

type R = Result<Value, String>;

impl Emit<'_, '_> {
    fn function(mut self, root: ExprId, is_key: bool, nslots: u16) -> Result<(), String> {
        for _ in 0..nslots {
            let v = self.b.declare_var(types::I64);
            let root_node = self.b.ins().iconst(types::I64, 0);
            self.b.def_var(v, root_node);
            self.slots.push(v);
        }
        let want = if is_key { Ty::Str } else { Ty::Bool };
        let v = self.emit_as(root, want)?;
        self.b.ins().return_(&[v]);
        self.b.seal_all_blocks();
        self.b.finalize(self.module.isa().frontend_config());
        Ok(())
    }

    fn i8c(&mut self, x: bool) -> Value {
        self.b.ins().iconst(types::I8, i64::from(x))
    }

    fn i32c(&mut self, x: u32) -> Value {
        self.b.ins().iconst(types::I32, i64::from(x))
    }

    fn i64c(&mut self, x: u64) -> Value {
        self.b.ins().iconst(types::I64, x as i64)
    }

    fn nan(&mut self) -> Value {
        self.b.ins().f64const(f64::NAN)
    }

    /// The value an absent or ill-typed operand gives in a context that
    /// expects `ty` (false, NaN, absent).
    fn dflt(&mut self, ty: Ty) -> Value {
        match ty {
            Ty::Bool => self.i8c(false),
            Ty::Num => self.nan(),
            Ty::Str => self.i64c(0),
        }
    }

    fn call(&mut self, h: H, args: &[Value]) -> Option<Value> {
        let i = h as usize;
        let f = match self.refs[i] {
            Some(f) => f,
            None => {
                let f = self.module.declare_func_in_func(self.ids[i], self.b.func);
                self.refs[i] = Some(f);
                f
            }
        };
        let mut all = Vec::with_capacity(args.len() + 1);
        all.push(self.ctxp);
        all.extend_from_slice(args);
        let inst = self.b.ins().call(f, &all);
        self.b.inst_results(inst).first().copied()
    }

    fn call1(&mut self, h: H, args: &[Value]) -> R {
        self.call(h, args)
            .ok_or_else(|| "helper without a result".to_string())
    }

    /// The node index in a slot (the root for a slot the rule lacks).
    fn slot(&mut self, s: u16) -> Value {
        match self.slots.get(s as usize) {
            Some(&v) => self.b.use_var(v),
            None => self.i64c(0),
        }
    }

    /// Emits `id` for a use that expects `want`. An operand of another
    /// type is still evaluated (it may move a counter) and then gives the
    /// interpreter's answer for a value of the wrong kind.
    fn emit_as(&mut self, id: ExprId, want: Ty) -> R {
        let have = natural(&self.prog.expr(id).op);
        let v = self.emit(id)?;
        if have == want {
            Ok(v)
        } else {
            Ok(self.dflt(want))
        }
    }

    fn emit(&mut self, id: ExprId) -> R {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err("expression nested too deeply".into());
        }
        let r = self.emit_op(id);
        self.depth -= 1;
        r
    }

    fn emit_op(&mut self, id: ExprId) -> R {
        let prog = self.prog;
        let e = prog
            .exprs
            .get(id as usize)
            .ok_or_else(|| format!("expression {id} out of range"))?;
        Ok(match &e.op {
            Op::Bool(x) => self.i8c(*x),
            Op::Num(n) => self.b.ins().f64const(*n),
            Op::Str(s) => self.i64c(TAG_CONST | u64::from(*s)),
            Op::Slot(s) => {
                let n = self.slot(*s);
                self.b.ins().bor_imm_u(n, TAG_NODE as i64)
            }
            Op::PathParam(i) => {
                let (r, i) = (self.i32c(self.rule), self.i32c(u32::from(*i)));
                self.call1(H::Param, &[r, i])?
            }
            Op::Context(Cx::ClientIp) => self.i64c(TAG_IP),
            Op::Context(Cx::ClientSession) => self.i64c(TAG_SESSION),
            Op::Context(Cx::ResponseStatus) => self.call1(H::Status, &[])?,
            Op::First(p) => {
                let p = self.i32c(*p);
                self.call1(H::First, &[p])?
            }
            Op::Exists(p) => {
                let p = self.i32c(*p);
                self.call1(H::Exists, &[p])?
            }
            Op::Any { path, slot, body } => self.quant(*path, *slot, *body, true)?,
            Op::All { path, slot, body } => self.quant(*path, *slot, *body, false)?,
            Op::Not(x) => {
                let v = self.emit_as(*x, Ty::Bool)?;
                self.b.ins().bxor_imm_u(v, 1)
            }
            Op::And(s, e) => self.logic(*s, *e, true)?,
            Op::Or(s, e) => self.logic(*s, *e, false)?,
            Op::Cmp(op, l, r) => self.cmp(*op, *l, *r)?,
            Op::In(v, list) => self.in_list(*v, *list)?,
            Op::Glob(v, g) => {
                if natural(&prog.expr(*v).op) != Ty::Str {
                    self.emit(*v)?;
                    self.i8c(false)
                } else {
                    let h = self.emit(*v)?;
                    let g = self.i32c(*g);
                    self.call1(H::Glob, &[h, g])?
                }
            }
            Op::Call(f, s, e) => self.builtin(*f, *s, *e)?,
            Op::Finding {
                slot,
                class,
                rule,
                min_score,
            } => {
                let site = self.tabs.finding((*class, *rule, *min_score));
                let node = match slot {
                    Some(s) => self.slot(*s),
                    None => self.i64c(u64::from(u32::MAX)),
                };
                let site = self.i32c(site);
                self.call1(H::Finding, &[site, node])?
            }
            Op::Deviation(s) | Op::LengthZ(s) => {
                let kind = u32::from(matches!(e.op, Op::LengthZ(_)));
                let node = self.slot(*s);
                let kind = self.i32c(kind);
                self.call1(H::Profile, &[kind, node])?
            }
            Op::Counter(c) => self.counter(*c)?,
        })
    }

    /// `and` (`all` true) / `or` over `args[s..e]`, short-circuit.
    fn logic(&mut self, s: u32, e: u32, and: bool) -> R {
        let args = self.prog.args_of(s, e).to_vec();
        if args.is_empty() {
            return Ok(self.i8c(and));
        }
        let done = self.b.create_block();
        self.b.append_block_param(done, types::I8);
        let n = args.len();
        for (i, a) in args.into_iter().enumerate() {
            let v = self.emit_as(a, Ty::Bool)?;
            if i + 1 == n {
                self.b.ins().jump(done, &[BlockArg::Value(v)]);
            } else {
                let next = self.b.create_block();
                let stop = self.i8c(!and);
                if and {
                    self.b
                        .ins()
                        .brif(v, next, &[], done, &[BlockArg::Value(stop)]);
                } else {
                    self.b
                        .ins()
                        .brif(v, done, &[BlockArg::Value(stop)], next, &[]);
                }
                self.b.switch_to_block(next);
            }
        }
        self.b.switch_to_block(done);
        Ok(self.b.block_params(done)[0])
    }

    /// `any` / `all` over the nodes carrying `path`, bound to `slot`.
    fn quant(&mut self, path: u32, slot: u16, body: ExprId, any: bool) -> R {
        if self.fuse {
            let tabs = &mut *self.tabs;
            let mut finding = |op: &Op| match op {
                Op::Finding {
                    class,
                    rule,
                    min_score,
                    ..
                } => tabs.finding((*class, *rule, *min_score)),
                _ => u32::MAX,
            };
            if let Some(k) = kernel::fuse(self.prog, path, slot, body, any, &mut finding) {
                let k = self.tabs.kernel(k);
                let k = self.i32c(k);
                let p = self.i32c(path);
                return self.call1(H::Kernel, &[k, p]);
            }
        }
        let p = self.i32c(path);
        let r = self.call1(H::Lookup, &[p])?;
        let start = self.b.ins().ushr_imm_u(r, 32);
        let count = self.b.ins().band_imm_u(r, 0xffff_ffff);
        let end = self.b.ins().iadd(start, count);
        let header = self.b.create_block();
        self.b.append_block_param(header, types::I64);
        let bodyb = self.b.create_block();
        let exit = self.b.create_block();
        self.b.append_block_param(exit, types::I8);
        self.b.ins().jump(header, &[BlockArg::Value(start)]);

        self.b.switch_to_block(header);
        let i = self.b.block_params(header)[0];
        let more = self.b.ins().icmp(IntCC::UnsignedLessThan, i, end);
        let none = self.i8c(!any);
        self.b
            .ins()
            .brif(more, bodyb, &[], exit, &[BlockArg::Value(none)]);

        self.b.switch_to_block(bodyb);
        let node = self.call1(H::Node, &[i])?;
        if let Some(&v) = self.slots.get(slot as usize) {
            self.b.def_var(v, node);
        }
        let v = self.emit_as(body, Ty::Bool)?;
        let next = self.b.create_block();
        let decided = self.i8c(any);
        if any {
            self.b
                .ins()
                .brif(v, exit, &[BlockArg::Value(decided)], next, &[]);
        } else {
            self.b
                .ins()
                .brif(v, next, &[], exit, &[BlockArg::Value(decided)]);
        }
        self.b.switch_to_block(next);
        let i2 = self.b.ins().iadd_imm_u(i, 1);
        self.b.ins().jump(header, &[BlockArg::Value(i2)]);

        self.b.switch_to_block(exit);
        Ok(self.b.block_params(exit)[0])
    }

    fn cmp(&mut self, op: Cmp, l: ExprId, r: ExprId) -> R {
        let (lt, rt) = (
            natural(&self.prog.expr(l).op),
            natural(&self.prog.expr(r).op),
        );
        let a = self.emit(l)?;
        let b = self.emit(r)?;
        if lt != rt {
            return Ok(self.i8c(false));
        }
        Ok(match lt {
            Ty::Num => {
                let cc = match op {
                    Cmp::Eq => FloatCC::Equal,
                    Cmp::Ne => FloatCC::OrderedNotEqual,
                    Cmp::Lt => FloatCC::LessThan,
                    Cmp::Le => FloatCC::LessThanOrEqual,
                    Cmp::Gt => FloatCC::GreaterThan,
                    Cmp::Ge => FloatCC::GreaterThanOrEqual,
                };
                self.b.ins().fcmp(cc, a, b)
            }
            Ty::Bool => {
                let cc = match op {
                    Cmp::Eq => IntCC::Equal,
                    Cmp::Ne => IntCC::NotEqual,
                    Cmp::Lt => IntCC::UnsignedLessThan,
                    Cmp::Le => IntCC::UnsignedLessThanOrEqual,
                    Cmp::Gt => IntCC::UnsignedGreaterThan,
                    Cmp::Ge => IntCC::UnsignedGreaterThanOrEqual,
                };
                self.b.ins().icmp(cc, a, b)
            }
            Ty::Str => {
                let code = self.i32c(cmp_code(op));
                self.call1(H::StrCmp, &[code, a, b])?
            }
        })
    }

    fn in_list(&mut self, v: ExprId, list: u32) -> R {
        let ty = natural(&self.prog.expr(v).op);
        let x = self.emit(v)?;
        let Some(items) = self.prog.lists.get(list as usize) else {
            return Ok(self.i8c(false));
        };
        Ok(match (ty, items) {
            (Ty::Str, ConstList::Str(_)) => {
                let l = self.i32c(list);
                self.call1(H::InStr, &[x, l])?
            }
            (Ty::Num, ConstList::Num(items)) if items.len() <= INLINE_IN => {
                let mut acc = self.i8c(false);
                for &c in items {
                    let c = self.b.ins().f64const(c);
                    let eq = self.b.ins().fcmp(FloatCC::Equal, x, c);
                    acc = self.b.ins().bor(acc, eq);
                }
                acc
            }
            (Ty::Num, ConstList::Num(_)) => {
                let l = self.i32c(list);
                self.call1(H::InNum, &[x, l])?
            }
            _ => self.i8c(false),
        })
    }

    fn builtin(&mut self, f: Builtin, s: u32, e: u32) -> R {
        let args = self.prog.args_of(s, e).to_vec();
        let out = natural(&Op::Call(f, s, e));
        let Some(&a0) = args.first() else {
            return Ok(self.dflt(out));
        };
        let x = self.emit(a0)?;
        if natural(&self.prog.expr(a0).op) != Ty::Str {
            return Ok(self.dflt(out));
        }
        let code = self.tabs.builtin(f);
        let code = self.i32c(code);
        Ok(match f {
            Builtin::Len | Builtin::Num | Builtin::Entropy | Builtin::CharRatio(_) => {
                self.call1(H::NumFn, &[code, x])?
            }
            Builtin::Lower | Builtin::Upper | Builtin::Trim => self.call1(H::StrFn, &[code, x])?,
            Builtin::Contains | Builtin::StartsWith | Builtin::EndsWith => {
                let Some(&a1) = args.get(1) else {
                    return Ok(self.i8c(false));
                };
                let y = self.emit(a1)?;
                if natural(&self.prog.expr(a1).op) != Ty::Str {
                    return Ok(self.i8c(false));
                }
                self.call1(H::Str2, &[code, x, y])?
            }
            _ => self.call1(H::Test, &[code, x])?,
        })
    }

    /// `count` / `distinct`: keys left to right; an absent key makes the
    /// counter absent without recording.
    fn counter(&mut self, c: u32) -> R {
        let Some(site) = self.prog.counters.get(c as usize) else {
            return Ok(self.nan());
        };
        let keys = self.prog.args_of(site.keys.0, site.keys.1).to_vec();
        let cv = self.i32c(c);
        let rv = self.i32c(self.rule);
        self.call(H::KeyBegin, &[cv, rv]);
        let absent = self.b.create_block();
        let done = self.b.create_block();
        self.b.append_block_param(done, types::F64);
        for (i, k) in keys.into_iter().enumerate() {
            let is_str = natural(&self.prog.expr(k).op) == Ty::Str;
            let h = self.emit(k)?;
            if !is_str {
                self.b.ins().jump(absent, &[]);
                let dead = self.b.create_block();
                self.b.switch_to_block(dead);
                continue;
            }
            let iv = self.i32c(i as u32);
            let cv = self.i32c(c);
            let ok = self.call1(H::KeyPush, &[cv, iv, h])?;
            let next = self.b.create_block();
            self.b.ins().brif(ok, next, &[], absent, &[]);
            self.b.switch_to_block(next);
        }
        let cv = self.i32c(c);
        let n = self.call1(H::Counter, &[cv])?;
        self.b.ins().jump(done, &[BlockArg::Value(n)]);
        self.b.switch_to_block(absent);
        let nan = self.nan();
        self.b.ins().jump(done, &[BlockArg::Value(nan)]);
        self.b.switch_to_block(done);
        Ok(self.b.block_params(done)[0])
    }
}
