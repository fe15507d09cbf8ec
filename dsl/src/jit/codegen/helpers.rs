//! The runtime helpers compiled code calls ([`super::super::abi`]): their
//! names, addresses and signatures.

use cranelift_codegen::ir::{types, Type};

use super::super::abi;

/// A value type at the boundary.
#[derive(Clone, Copy)]
pub(super) enum K {
    I8,
    I32,
    I64,
    F64,
}

impl K {
    pub fn ty(self) -> Type {
        match self {
            K::I8 => types::I8,
            K::I32 => types::I32,
            K::I64 => types::I64,
            K::F64 => types::F64,
        }
    }
}

/// The runtime helpers, in the order of [`helpers`].
#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(usize)]
pub(super) enum H {
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
    Name,
}

pub(super) const N_HELPERS: usize = 21;

/// A helper: name, address, parameters after the context pointer, result.
pub(super) type Helper = (&'static str, *const u8, &'static [K], Option<K>);

pub(super) fn helpers() -> [Helper; N_HELPERS] {
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
        ("rt_name", abi::rt_name as *const u8, &[I64], Some(I64)),
    ]
}
