//! Untyped access to a message's pointers, for structs whose layout is
//! known only at run time (from a schema node). capnp-rust's generated code
//! goes through the same layout calls; these two wrappers let the shell
//! reach them from an `AnyPointer`.

use capnp::private::layout::{PointerBuilder, PointerReader};
use capnp::traits::{FromPointerBuilder, FromPointerReader};

/// The pointer behind an `any_pointer::Builder`.
pub struct PtrBuilder<'a>(pub PointerBuilder<'a>);

impl<'a> FromPointerBuilder<'a> for PtrBuilder<'a> {
    fn init_pointer(builder: PointerBuilder<'a>, _len: u32) -> Self {
        PtrBuilder(builder)
    }
    fn get_from_pointer(
        builder: PointerBuilder<'a>,
        _default: Option<&'a [capnp::Word]>,
    ) -> capnp::Result<Self> {
        Ok(PtrBuilder(builder))
    }
}

/// The pointer behind an `any_pointer::Reader`.
pub struct PtrReader<'a>(pub PointerReader<'a>);

impl<'a> FromPointerReader<'a> for PtrReader<'a> {
    fn get_from_pointer(
        reader: &PointerReader<'a>,
        _default: Option<&'a [capnp::Word]>,
    ) -> capnp::Result<Self> {
        Ok(PtrReader(*reader))
    }
}
