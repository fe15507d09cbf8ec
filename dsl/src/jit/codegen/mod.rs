//! Lowers the typed IR of each rule's condition to cranelift IR, one
//! native function per condition (and per rate-limit key), and the rules
//! without an endpoint clause of each phase to a sequence function.
//!
//! Representation: `bool` is an `i8` (0/1), `num` an `f64` (absent is
//! NaN), `str` an `i64` [`Handle`](super::runtime::Handle). Slots are
//! cranelift variables holding node indices. `and`/`or` and quantifiers
//! branch exactly where the interpreter stops, so counters record the same
//! events. Everything that touches the request, strings, detectors or
//! counters is a call to a helper of [`super::abi`], except the answers
//! the per-request facts already hold ([`super::facts`]).
//!
//! Every compiled function takes `(ctx, facts, tag)`: the context pointer
//! (passed to helpers only), the facts table and the request's tag.
//!
//! Modules: [`emit`] (values, operators, comparisons), [`flow`]
//! (`and`/`or`, quantifiers and fused loops), [`calls`] (built-in
//! functions, findings, counters, helper calls), [`helpers`] (the helper
//! table).

mod calls;
mod emit;
mod flow;
mod helpers;

use std::collections::HashMap;

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{types, AbiParam, InstBuilder, JumpTableData, Signature};
use cranelift_codegen::settings::{self, Configurable};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{default_libcall_names, FuncId, Linkage, Module};

use super::abi::Code;
use super::facts::Layout;
use super::kernel;
use super::runtime::Tables;
use crate::backend::BackendError;
use crate::ir::{ActionIr, Program, RulePhase};
use emit::Emit;
use helpers::{helpers, N_HELPERS};

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

/// Per path of the program, the first path equal to it: equal paths share
/// one lookup and one set of facts per request (the checker interns
/// paths; a program built otherwise may repeat one).
fn canonical_paths(prog: &Program) -> Vec<u32> {
    let mut first = HashMap::with_capacity(prog.paths.len());
    prog.paths
        .iter()
        .enumerate()
        .map(|(i, p)| *first.entry(p).or_insert(i as u32))
        .collect()
}

/// `(ctx, facts, tag)`, the parameters every compiled function starts
/// with.
fn base_signature(module: &JITModule) -> Signature {
    let ptr = module.target_config().pointer_type();
    let mut sig = module.make_signature();
    sig.params.push(AbiParam::new(ptr));
    sig.params.push(AbiParam::new(ptr));
    sig.params.push(AbiParam::new(types::I64));
    sig
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
    let mut cond_sig = base_signature(&module);
    cond_sig.returns.push(AbiParam::new(types::I8));
    let mut key_sig = base_signature(&module);
    key_sig.returns.push(AbiParam::new(types::I64));

    let layout = Layout::new(prog.paths.len());
    let paths = canonical_paths(prog);
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
                let (ctxp, facts, tag) = {
                    let p = b.block_params(entry);
                    (p[0], p[1], p[2])
                };
                let e = Emit {
                    prog,
                    tabs: &mut tables,
                    b,
                    module: &mut module,
                    ids: &ids,
                    refs: [None; N_HELPERS],
                    ctxp,
                    facts,
                    tag,
                    layout: &layout,
                    paths: &paths,
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
    tables.layout = layout.with_sites(tables.findings.len());
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
            seq_ids[0].and_then(|id| Code::new(module.get_finalized_function(id))),
        ),
        (
            r1,
            seq_ids[1].and_then(|id| Code::new(module.get_finalized_function(id))),
        ),
    ];
    let mut conds = vec![None; prog.rules.len()];
    let mut keys = vec![None; prog.rules.len()];
    for (ri, is_key, id) in pending {
        let code = Code::new(module.get_finalized_function(id))
            .ok_or_else(|| err("a function without an address"))?;
        let code = Some(code);
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
    let mut sig = base_signature(module);
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
        let (cp, facts, tag, from, end) = {
            let p = b.block_params(entry);
            (p[0], p[1], p[2], p[3], p[4])
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
                    let call = b.ins().call(fr, &[cp, facts, tag]);
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
