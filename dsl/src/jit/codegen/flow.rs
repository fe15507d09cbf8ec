//! Control flow: `and`/`or` with short-circuit branches, quantifier loops
//! (fused into one helper call when their body allows, [`kernel`]), and
//! point lookups. What the facts of the request already answer (an absent
//! path, a path whose bytes lack what a fused test needs) is decided
//! inline, without a call.

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{types, Block, BlockArg, InstBuilder, Value};

use super::super::kernel::{self, Kernel};
use super::emit::{Emit, R};
use super::helpers::H;
use crate::ir::{ExprId, Op, Ty};

impl Emit<'_, '_> {
    /// `and` (`all` true) / `or` over `args[s..e]`, short-circuit.
    pub(super) fn logic(&mut self, s: u32, e: u32, and: bool) -> R {
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

    /// Jumps to `done` with `val` when path `p` is known to be absent from
    /// the request (its facts word is the bare tag: looked up, no node),
    /// and goes on in a new block otherwise.
    fn unless_absent(&mut self, p: u32, done: Block, val: Value) -> Result<(), String> {
        let w = self.fact(self.layout.path(p))?;
        let absent = self.b.ins().icmp(IntCC::Equal, w, self.tag);
        let more = self.b.create_block();
        self.b
            .ins()
            .brif(absent, done, &[BlockArg::Value(val)], more, &[]);
        self.b.switch_to_block(more);
        Ok(())
    }

    /// `first(p)` / `exists(p)`: absent or false without a call when the
    /// path is known to be absent.
    pub(super) fn point(&mut self, h: H, p: u32) -> R {
        let p = self.path(p);
        let ty = if h == H::Exists {
            types::I8
        } else {
            types::I64
        };
        let done = self.b.create_block();
        self.b.append_block_param(done, ty);
        let none = self.b.ins().iconst(ty, 0);
        self.unless_absent(p, done, none)?;
        let pv = self.i32c(p);
        let v = self.call1(h, &[pv])?;
        self.b.ins().jump(done, &[BlockArg::Value(v)]);
        self.b.switch_to_block(done);
        Ok(self.b.block_params(done)[0])
    }

    /// `any` / `all` over the nodes carrying `path`, bound to `slot`.
    pub(super) fn quant(&mut self, path: u32, slot: u16, body: ExprId, any: bool) -> R {
        let path = self.path(path);
        let exit = self.b.create_block();
        self.b.append_block_param(exit, types::I8);
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
                self.fused(k, exit)?;
                self.b.switch_to_block(exit);
                return Ok(self.b.block_params(exit)[0]);
            }
        }
        // Over no node the answer is known and the body never runs.
        let none = self.i8c(!any);
        self.unless_absent(path, exit, none)?;
        let p = self.i32c(path);
        let r = self.call1(H::Lookup, &[p])?;
        let start = self.b.ins().ushr_imm_u(r, 32);
        let count = self.b.ins().band_imm_u(r, 0xffff_ffff);
        let end = self.b.ins().iadd(start, count);
        let header = self.b.create_block();
        self.b.append_block_param(header, types::I64);
        let bodyb = self.b.create_block();
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

    /// A fused loop: one helper call, ending in `exit` with the answer;
    /// or none when the facts of the request decide: the path is absent
    /// (`any` false, `all` true), or the kernel's test needs bytes and the
    /// path's byte set in the tested form, known for the request, lacks
    /// them (no node can pass: `any` and `all` false; the set is only
    /// kept for a path with nodes).
    fn fused(&mut self, k: Kernel, exit: Block) -> Result<(), String> {
        let path = k.path;
        let any = k.any;
        let need = k.need().map(|(form, need)| (form, *need));
        let k = self.tabs.kernel(k);
        let w = self.fact(self.layout.path(path))?;
        let absent = self.b.ins().icmp(IntCC::Equal, w, self.tag);
        let mut skip = absent;
        if let Some((form, need)) = need {
            let at = self.layout.set(path, form);
            let t = self.fact(at)?;
            let known = self.b.ins().icmp(IntCC::Equal, t, self.tag);
            // The needed bytes the set lacks (`need & !set`). The words are
            // read even when the entry is stale (harmless: `known` is then
            // false), so that one branch decides.
            let mut missing: Option<Value> = None;
            for (i, &n) in need.iter().enumerate() {
                if n == 0 {
                    continue;
                }
                let x = self.fact(at + 1 + i)?;
                let nx = self.b.ins().bnot(x);
                let m = self.b.ins().band_imm_u(nx, n as i64);
                missing = Some(match missing {
                    Some(a) => self.b.ins().bor(a, m),
                    None => m,
                });
            }
            if let Some(missing) = missing {
                let lacks = self.b.ins().icmp_imm_u(IntCC::NotEqual, missing, 0);
                let rejected = self.b.ins().band(known, lacks);
                skip = self.b.ins().bor(absent, rejected);
            }
        }
        // Skipped: `all` over an absent path is true, anything else false.
        let answer = if any { self.i8c(false) } else { absent };
        let call = self.b.create_block();
        self.b
            .ins()
            .brif(skip, exit, &[BlockArg::Value(answer)], call, &[]);
        self.b.switch_to_block(call);
        let k = self.i32c(k);
        let p = self.i32c(path);
        let v = self.call1(H::Kernel, &[k, p])?;
        self.b.ins().jump(exit, &[BlockArg::Value(v)]);
        Ok(())
    }
}
