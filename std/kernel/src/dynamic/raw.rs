//! Untyped access to a message's pointers, for structs whose layout is
//! known only at run time (from a schema node). capnp-rust's generated code
//! goes through the same layout calls; these two wrappers let the shell
//! reach them from an `AnyPointer`.

use capnp::private::layout::{
    PointerBuilder, PointerReader, StructBuilder, StructReader, StructSize,
};
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

/// A struct whose layout is known only at run time: the element type of
/// a struct list the shell builds from a schema node. Its declared size is
/// zero, so taking a list of it never reallocates the elements, which
/// keep the size the list was made with.
pub struct RawStruct;

/// An element of a [`RawStruct`] list, as the layout's builder.
pub struct RawStructBuilder<'a>(pub StructBuilder<'a>);

/// An element of a [`RawStruct`] list, as the layout's reader.
#[derive(Clone, Copy)]
pub struct RawStructReader<'a>(pub StructReader<'a>);

impl capnp::introspect::Introspect for RawStruct {
    fn introspect() -> capnp::introspect::Type {
        // Never asked for: the shell does its own introspection from nodes.
        capnp::introspect::TypeVariant::Void.into()
    }
}

impl capnp::traits::OwnedStruct for RawStruct {
    type Reader<'a> = RawStructReader<'a>;
    type Builder<'a> = RawStructBuilder<'a>;
}

impl<'a> From<StructBuilder<'a>> for RawStructBuilder<'a> {
    fn from(builder: StructBuilder<'a>) -> Self {
        RawStructBuilder(builder)
    }
}

impl capnp::traits::HasStructSize for RawStructBuilder<'_> {
    const STRUCT_SIZE: StructSize = StructSize {
        data: 0,
        pointers: 0,
    };
}

impl<'a> From<StructReader<'a>> for RawStructReader<'a> {
    fn from(reader: StructReader<'a>) -> Self {
        RawStructReader(reader)
    }
}

impl<'a> capnp::traits::IntoInternalStructReader<'a> for RawStructReader<'a> {
    fn into_internal_struct_reader(self) -> StructReader<'a> {
        self.0
    }
}

impl capnp::traits::SetterInput<RawStruct> for RawStructReader<'_> {
    fn set_pointer_builder(
        mut builder: PointerBuilder<'_>,
        input: Self,
        canonicalize: bool,
    ) -> capnp::Result<()> {
        builder.set_struct(&input.0, canonicalize)
    }
}
