//! The expression emitter: its state, constants, the dispatch over IR
//! operations, comparisons and `in`. Control flow is in [`super::flow`],
//! calls in [`super::calls`].

use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{types, FuncRef, InstBuilder, MemFlagsData, Value};
use cranelift_frontend::{FunctionBuilder, Variable};
use cranelift_jit::JITModule;
use cranelift_module::{FuncId, Module};

use super::super::facts::Layout;
use super::super::runtime::{cmp_code, Tables, TAG_CONST, TAG_IP, TAG_NODE, TAG_SESSION};
use super::helpers::{H, N_HELPERS};
use crate::ir::{Builtin, Cmp, ConstList, Context as Cx, ExprId, Op, Program, Ty};

/// Deepest expression nesting compiled (the parser allows far less).
const MAX_DEPTH: u32 = 1000;
/// `in [..]` over at most this many numbers is compiled inline.
const INLINE_IN: usize = 8;

/// The type of the value an operation yields in native code.
pub(super) fn natural(op: &Op) -> Ty {
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
        Op::Str(_) | Op::Slot(_) | Op::PathParam(_) | Op::First(_) | Op::Name(_) => Ty::Str,
        Op::Context(Cx::ResponseStatus) => Ty::Num,
        Op::Context(_) => Ty::Str,
        Op::Call(f, ..) => match f {
            Builtin::Len | Builtin::Num | Builtin::Entropy | Builtin::CharRatio(_) => Ty::Num,
            Builtin::Lower | Builtin::Upper | Builtin::Trim => Ty::Str,
            _ => Ty::Bool,
        },
    }
}

/// Emits one function (a condition or a rate-limit key).
pub(super) struct Emit<'a, 'b> {
    pub prog: &'a Program,
    pub tabs: &'a mut Tables,
    pub b: FunctionBuilder<'b>,
    pub module: &'a mut JITModule,
    /// The helpers, in the order of [`H`].
    pub ids: &'a [FuncId],
    /// The helpers referenced so far in this function.
    pub refs: [Option<FuncRef>; N_HELPERS],
    /// The function's parameters: context, facts table, request tag.
    pub ctxp: Value,
    pub facts: Value,
    pub tag: Value,
    pub layout: &'a Layout,
    /// Per path of the program, the first equal one.
    pub paths: &'a [u32],
    pub rule: u32,
    pub slots: Vec<Variable>,
    pub depth: u32,
    /// Quantifier loops may be fused ([`super::kernel`]).
    pub fuse: bool,
}

pub(super) type R = Result<Value, String>;

impl Emit<'_, '_> {
    pub fn function(mut self, root: ExprId, is_key: bool, nslots: u16) -> Result<(), String> {
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

    pub fn i8c(&mut self, x: bool) -> Value {
        self.b.ins().iconst(types::I8, i64::from(x))
    }

    pub fn i32c(&mut self, x: u32) -> Value {
        self.b.ins().iconst(types::I32, i64::from(x))
    }

    pub fn i64c(&mut self, x: u64) -> Value {
        self.b.ins().iconst(types::I64, x as i64)
    }

    pub fn nan(&mut self) -> Value {
        self.b.ins().f64const(f64::NAN)
    }

    /// The value an absent or ill-typed operand gives in a context that
    /// expects `ty` (false, NaN, absent).
    pub fn dflt(&mut self, ty: Ty) -> Value {
        match ty {
            Ty::Bool => self.i8c(false),
            Ty::Num => self.nan(),
            Ty::Str => self.i64c(0),
        }
    }

    /// The path that stands for path `p` (equal paths share facts).
    pub fn path(&self, p: u32) -> u32 {
        self.paths.get(p as usize).copied().unwrap_or(p)
    }

    /// Loads word `i` of the facts table.
    pub fn fact(&mut self, i: usize) -> R {
        let off = i
            .checked_mul(8)
            .and_then(|o| i32::try_from(o).ok())
            .ok_or("the program is too large for the facts table")?;
        Ok(self
            .b
            .ins()
            .load(types::I64, MemFlagsData::trusted(), self.facts, off))
    }

    /// The node index in a slot (the root for a slot the rule lacks).
    pub fn slot(&mut self, s: u16) -> Value {
        match self.slots.get(s as usize) {
            Some(&v) => self.b.use_var(v),
            None => self.i64c(0),
        }
    }

    /// Emits `id` for a use that expects `want`. An operand of another
    /// type is still evaluated (it may move a counter) and then gives the
    /// interpreter's answer for a value of the wrong kind.
    pub fn emit_as(&mut self, id: ExprId, want: Ty) -> R {
        let have = natural(&self.prog.expr(id).op);
        let v = self.emit(id)?;
        if have == want {
            Ok(v)
        } else {
            Ok(self.dflt(want))
        }
    }

    pub fn emit(&mut self, id: ExprId) -> R {
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
            Op::First(p) => self.point(H::First, *p)?,
            Op::Exists(p) => self.point(H::Exists, *p)?,
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
                self.finding(site, node)?
            }
            Op::Deviation(s) | Op::LengthZ(s) => {
                let kind = u32::from(matches!(e.op, Op::LengthZ(_)));
                let node = self.slot(*s);
                let kind = self.i32c(kind);
                self.call1(H::Profile, &[kind, node])?
            }
            Op::Name(s) => {
                let node = self.slot(*s);
                self.call1(H::Name, &[node])?
            }
            Op::Counter(c) => self.counter(*c)?,
        })
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
}
