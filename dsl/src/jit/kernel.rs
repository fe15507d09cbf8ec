//! Fused quantifiers. The checker wraps every atom that mentions a point
//! in an `Any` loop (`len(query.q) > 3` is `Any(query.q, len(slot) > 3)`),
//! so most conditions are loops whose body is one test of the slot's value.
//! Such a loop is compiled to one helper call that runs the whole loop in
//! Rust ([`Kernel`]): no call per node, and a per-request byte set of each
//! value (and of all the values of a path, which compiled code reads from
//! the facts, [`super::facts`]) rejects `contains`, `starts_with`,
//! `ends_with` and glob tests whose literal bytes the values lack without
//! searching them.
//!
//! A body is fused when it is, over `X` = the slot's value through any
//! chain of `lower`/`upper`/`trim`: a glob test of `X`; `contains`,
//! `starts_with` or `ends_with` of `X` and a constant; a format test of
//! `X`; `X in [..]`; `X` compared with a constant string; `len`, `num`,
//! `entropy` or `char_ratio` of `X` compared with a constant number; or a
//! detector finding at the slot. These are pure: fusing them changes no
//! counter and no order.

use crate::glob::Glob;
use crate::ir::{Builtin, Cmp, ConstList, ExprId, Op, Program};

/// A 256-bit set of byte values.
pub(crate) type ByteSet = [u64; 4];

pub(crate) fn byte_set(v: &[u8]) -> ByteSet {
    let mut s = [0u64; 4];
    for &b in v {
        s[(b >> 6) as usize] |= 1 << (b & 63);
    }
    s
}

pub(crate) fn subset(need: &ByteSet, have: &ByteSet) -> bool {
    need.iter().zip(have).all(|(n, h)| n & !h == 0)
}

/// The last step of a fused body.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum KTest {
    /// A glob, with the bytes every match must contain.
    Glob(u32, Option<ByteSet>),
    /// `contains`/`starts_with`/`ends_with` with a constant (program
    /// string), and the constant's bytes.
    Str2(Builtin, u32, ByteSet),
    /// A format test.
    Test(Builtin),
    /// `in` a constant string list.
    InStr(u32),
    /// Compared with a constant string; `flip`: the constant is on the left.
    StrCmp(Cmp, u32, bool),
    /// A number function of the value compared with a constant.
    NumCmp(Builtin, Cmp, f64, bool),
    /// A finding (table entry) at the node.
    Finding(u32),
}

/// A fused `Any`/`All` loop.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Kernel {
    pub path: u32,
    pub any: bool,
    /// Case mappings and trims applied to the node's value, innermost first.
    pub maps: Vec<Builtin>,
    pub test: KTest,
}

impl Kernel {
    /// The form whose byte set the kernel's values are tested in (see
    /// [`super::facts`]) and the bytes a value must contain to pass the
    /// test: when a path's values lack them together, no value passes.
    /// (A text that contains, starts or ends with a constant, or matches
    /// a glob, has every byte of the constant or of the glob's literals.)
    pub fn need(&self) -> Option<(usize, &ByteSet)> {
        let need = match &self.test {
            KTest::Glob(_, Some(need)) => need,
            KTest::Str2(Builtin::Contains | Builtin::StartsWith | Builtin::EndsWith, _, need) => {
                need
            }
            _ => return None,
        };
        Some((form(&self.maps)?, need))
    }
}

/// Which byte set a chain of mappings gives: the value's (0), its
/// lower-case (1) or upper-case (2) form; `None` for other chains.
pub(crate) fn form(maps: &[Builtin]) -> Option<usize> {
    match maps {
        [] => Some(0),
        [Builtin::Lower] => Some(1),
        [Builtin::Upper] => Some(2),
        _ => None,
    }
}

/// The literal bytes every text a glob matches contains, when the
/// pattern's text round-trips (it is valid UTF-8).
fn glob_required(g: &Glob) -> Option<ByteSet> {
    let src = g.as_str().as_bytes();
    if Glob::new(src) != *g {
        return None;
    }
    let mut lits = Vec::new();
    let mut i = 0;
    while i < src.len() {
        match src[i] {
            b'\\' if i + 1 < src.len() => {
                lits.push(src[i + 1]);
                i += 1;
            }
            b'*' | b'?' => {}
            b => lits.push(b),
        }
        i += 1;
    }
    (!lits.is_empty()).then(|| byte_set(&lits))
}

/// `X`: the slot's value through `lower`/`upper`/`trim`; the mappings,
/// innermost first.
fn value_of(prog: &Program, id: ExprId, slot: u16, maps: &mut Vec<Builtin>) -> bool {
    match &prog.expr(id).op {
        Op::Slot(s) => *s == slot,
        Op::Call(f @ (Builtin::Lower | Builtin::Upper | Builtin::Trim), s, e) => {
            let args = prog.args_of(*s, *e);
            if args.len() != 1 || !value_of(prog, args[0], slot, maps) {
                return false;
            }
            maps.push(*f);
            true
        }
        _ => false,
    }
}

fn is_test(f: Builtin) -> bool {
    !matches!(
        f,
        Builtin::Len
            | Builtin::Lower
            | Builtin::Upper
            | Builtin::Trim
            | Builtin::Num
            | Builtin::Contains
            | Builtin::StartsWith
            | Builtin::EndsWith
            | Builtin::Entropy
            | Builtin::CharRatio(_)
    )
}

fn is_num_fn(f: Builtin) -> bool {
    matches!(
        f,
        Builtin::Len | Builtin::Num | Builtin::Entropy | Builtin::CharRatio(_)
    )
}

/// The kernel for `Any/All { path, slot, body }`, when the body fuses.
/// `finding` interns a detector-finding test.
pub(crate) fn fuse(
    prog: &Program,
    path: u32,
    slot: u16,
    body: ExprId,
    any: bool,
    finding: &mut dyn FnMut(&Op) -> u32,
) -> Option<Kernel> {
    let mut maps = Vec::new();
    let test = match &prog.expr(body).op {
        op @ Op::Finding { slot: Some(s), .. } if *s == slot => KTest::Finding(finding(op)),
        Op::Glob(x, g) if value_of(prog, *x, slot, &mut maps) => {
            KTest::Glob(*g, prog.globs.get(*g as usize).and_then(glob_required))
        }
        Op::In(x, l)
            if matches!(prog.lists.get(*l as usize), Some(ConstList::Str(_)))
                && value_of(prog, *x, slot, &mut maps) =>
        {
            KTest::InStr(*l)
        }
        Op::Cmp(op, l, r) => match (&prog.expr(*l).op, &prog.expr(*r).op) {
            (_, Op::Str(c)) if value_of(prog, *l, slot, &mut maps) => KTest::StrCmp(*op, *c, false),
            (Op::Str(c), _) if value_of(prog, *r, slot, &mut maps) => KTest::StrCmp(*op, *c, true),
            (Op::Call(f, s, e), Op::Num(c)) if is_num_fn(*f) => {
                let args = prog.args_of(*s, *e);
                if args.len() != 1 || !value_of(prog, args[0], slot, &mut maps) {
                    return None;
                }
                KTest::NumCmp(*f, *op, *c, false)
            }
            (Op::Num(c), Op::Call(f, s, e)) if is_num_fn(*f) => {
                let args = prog.args_of(*s, *e);
                if args.len() != 1 || !value_of(prog, args[0], slot, &mut maps) {
                    return None;
                }
                KTest::NumCmp(*f, *op, *c, true)
            }
            _ => return None,
        },
        Op::Call(f, s, e) => {
            let args = prog.args_of(*s, *e);
            match (f, args) {
                (Builtin::Contains | Builtin::StartsWith | Builtin::EndsWith, [x, c]) => {
                    let Op::Str(c) = prog.expr(*c).op else {
                        return None;
                    };
                    if !value_of(prog, *x, slot, &mut maps) {
                        return None;
                    }
                    let set = byte_set(prog.strings.get(c as usize).map_or(&[][..], |s| &s[..]));
                    KTest::Str2(*f, c, set)
                }
                (f, [x]) if is_test(*f) && value_of(prog, *x, slot, &mut maps) => KTest::Test(*f),
                _ => return None,
            }
        }
        _ => return None,
    };
    Some(Kernel {
        path,
        any,
        maps,
        test,
    })
}

/// True when every use of a slot in the expression tree under `root` lies
/// inside a loop that binds it (what the checker produces). Only then may
/// a loop be fused: a fused loop does not leave its last node in the slot.
pub(crate) fn slots_bound(prog: &Program, root: ExprId) -> bool {
    fn walk(prog: &Program, id: ExprId, bound: &mut Vec<u16>, depth: u32) -> bool {
        if depth > 2000 {
            return false;
        }
        let Some(e) = prog.exprs.get(id as usize) else {
            return false;
        };
        let used = match &e.op {
            Op::Slot(s) | Op::Deviation(s) | Op::LengthZ(s) | Op::Name(s) => Some(*s),
            Op::Finding { slot, .. } => *slot,
            _ => None,
        };
        if used.is_some_and(|s| !bound.contains(&s)) {
            return false;
        }
        if let Op::Any { slot, body, .. } | Op::All { slot, body, .. } = &e.op {
            bound.push(*slot);
            let ok = walk(prog, *body, bound, depth + 1);
            bound.pop();
            return ok;
        }
        prog.operands(id)
            .into_iter()
            .all(|o| walk(prog, o, bound, depth + 1))
    }
    walk(prog, root, &mut Vec::new(), 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets() {
        let have = byte_set(b"red shoes");
        assert!(subset(&byte_set(b"shoe"), &have));
        assert!(!subset(&byte_set(b"<s"), &have));
        assert_eq!(glob_required(&Glob::new(b"*")), None);
        let g = glob_required(&Glob::new(b"*<script\\*?")).expect("literal bytes");
        assert!(subset(&g, &byte_set(b"<script*x")));
        assert!(!subset(&g, &byte_set(b"<scrip")));
    }
}
