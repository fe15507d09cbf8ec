//! Calls: the helper call itself, built-in functions, detector findings
//! (answered from the facts when the same test ran earlier in the
//! request) and counters.

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{types, BlockArg, InstBuilder, Value};
use cranelift_module::Module;

use super::emit::{natural, Emit, R};
use super::helpers::H;
use crate::ir::{Builtin, Op, Ty};

impl Emit<'_, '_> {
    /// Calls helper `h` with the context pointer and `args`.
    pub(super) fn call(&mut self, h: H, args: &[Value]) -> Option<Value> {
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

    pub(super) fn call1(&mut self, h: H, args: &[Value]) -> R {
        self.call(h, args)
            .ok_or_else(|| "helper without a result".to_string())
    }

    pub(super) fn builtin(&mut self, f: Builtin, s: u32, e: u32) -> R {
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

    /// Finding site `site` at `node` (`u32::MAX`: anywhere): the answer
    /// the facts hold when this request tested the site at the node last,
    /// else the helper's (which stores it there).
    pub(super) fn finding(&mut self, site: u32, node: Value) -> R {
        let at = self.layout.find(site);
        let done = self.b.create_block();
        self.b.append_block_param(done, types::I8);
        let key = self.b.ins().bor(self.tag, node);
        let k = self.fact(at)?;
        let known = self.b.ins().icmp(IntCC::Equal, k, key);
        let r = self.fact(at + 1)?;
        let r = self.b.ins().ireduce(types::I8, r);
        let call = self.b.create_block();
        self.b
            .ins()
            .brif(known, done, &[BlockArg::Value(r)], call, &[]);
        self.b.switch_to_block(call);
        let sv = self.i32c(site);
        let r = self.call1(H::Finding, &[sv, node])?;
        self.b.ins().jump(done, &[BlockArg::Value(r)]);
        self.b.switch_to_block(done);
        Ok(self.b.block_params(done)[0])
    }

    /// `count` / `distinct`: keys left to right; an absent key makes the
    /// counter absent without recording.
    pub(super) fn counter(&mut self, c: u32) -> R {
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
