//! Reading a Cap'n Proto struct into Glia values, guided by its schema node.
//!
//! Structs become maps keyed by field name (only the active member of a
//! union), lists vectors, enums keywords, capabilities capability values.
//! `Data` reads as bytes whatever it holds (a file from `ipfs cat` as much
//! as a key), so it prints the same way always and is never mistaken for
//! text; `(utf8 b)` reads bytes as text where that is meant.

use capnp::private::layout::{PointerReader, StructReader};
use capnp::schema_capnp::{field, node, type_};
use capnp::traits::{FromPointerReader, IntoInternalStructReader};
use ww_glia::Value;

use super::{Ctx, DynCap};
use crate::schemas::Node;

/// The struct `sr`, laid out as `node`, as a map.
pub fn read_struct(
    ctx: &Ctx,
    node: node::Reader<'_>,
    sr: StructReader<'_>,
) -> capnp::Result<Value> {
    let st = match node.which()? {
        node::Struct(st) => st,
        _ => return Err(capnp::Error::failed("expected a struct node".into())),
    };
    let discriminant = (st.get_discriminant_count() > 0)
        .then(|| sr.get_data_field::<u16>(st.get_discriminant_offset() as usize));
    let mut pairs = Vec::new();
    for f in st.get_fields()? {
        let dv = f.get_discriminant_value();
        if dv != field::NO_DISCRIMINANT && Some(dv) != discriminant {
            continue;
        }
        let name = f.get_name()?.to_str()?;
        let value = match f.which()? {
            field::Group(g) => {
                let group: Node = ctx.schemas.node(g.get_type_id())?;
                read_struct(ctx, group.get()?, sr)?
            }
            field::Slot(slot) => read_slot(ctx, name, slot, sr)?,
        };
        pairs.push((Value::keyword(name), value));
    }
    Ok(Value::map(pairs))
}

/// The results of a call: `nil` for none, the value of a single field, a
/// map for several.
pub fn read_results(
    ctx: &Ctx,
    node: node::Reader<'_>,
    sr: StructReader<'_>,
) -> capnp::Result<Value> {
    let value = read_struct(ctx, node, sr)?;
    Ok(match &value {
        Value::Map(m) if m.is_empty() => Value::Nil,
        Value::Map(m) if m.len() == 1 => m.values().next().cloned().unwrap_or(Value::Nil),
        _ => value,
    })
}

fn read_slot(
    ctx: &Ctx,
    name: &str,
    slot: field::slot::Reader<'_>,
    sr: StructReader<'_>,
) -> capnp::Result<Value> {
    let off = slot.get_offset() as usize;
    let t = slot.get_type()?;
    let default = slot.get_default_value()?;
    use capnp::schema_capnp::value as v;
    let d = {
        match default.which() {
            Ok(v::Bool(b)) => b as u64,
            Ok(v::Int8(x)) => x as u8 as u64,
            Ok(v::Int16(x)) => x as u16 as u64,
            Ok(v::Int32(x)) => x as u32 as u64,
            Ok(v::Int64(x)) => x as u64,
            Ok(v::Uint8(x)) => x as u64,
            Ok(v::Uint16(x)) => x as u64,
            Ok(v::Uint32(x)) => x as u64,
            Ok(v::Uint64(x)) => x,
            Ok(v::Enum(x)) => x as u64,
            _ => 0,
        }
    };
    Ok(match t.which()? {
        type_::Void(()) => Value::Nil,
        type_::Bool(()) => Value::Bool(sr.get_bool_field_mask(off, d != 0)),
        type_::Int8(()) => Value::Int(sr.get_data_field_mask::<i8>(off, d as i8).into()),
        type_::Int16(()) => Value::Int(sr.get_data_field_mask::<i16>(off, d as i16).into()),
        type_::Int32(()) => Value::Int(sr.get_data_field_mask::<i32>(off, d as i32).into()),
        type_::Int64(()) => Value::Int(sr.get_data_field_mask::<i64>(off, d as i64)),
        type_::Uint8(()) => Value::Int(sr.get_data_field_mask::<u8>(off, d as u8).into()),
        type_::Uint16(()) => Value::Int(sr.get_data_field_mask::<u16>(off, d as u16).into()),
        type_::Uint32(()) => Value::Int(sr.get_data_field_mask::<u32>(off, d as u32).into()),
        type_::Uint64(()) => uint64(sr.get_data_field_mask::<u64>(off, d)),
        type_::Float32(()) => Value::Float(sr.get_data_field::<f32>(off).into()),
        type_::Float64(()) => Value::Float(sr.get_data_field::<f64>(off)),
        type_::Enum(e) => {
            let n = sr.get_data_field_mask::<u16>(off, d as u16);
            enumerant(ctx, e.get_type_id(), n)?
        }
        _ => read_pointer(ctx, name, t, sr.get_pointer_field(off))?,
    })
}

fn uint64(n: u64) -> Value {
    i64::try_from(n).map_or(Value::Float(n as f64), Value::Int)
}

fn enumerant(ctx: &Ctx, id: u64, n: u16) -> capnp::Result<Value> {
    let node: Node = ctx.schemas.node(id)?;
    if let node::Enum(e) = node.get()?.which()? {
        if let Some(en) = e.get_enumerants()?.iter().nth(n as usize) {
            return Ok(Value::keyword(en.get_name()?.to_str()?));
        }
    }
    Ok(Value::Int(n.into()))
}

fn read_pointer(
    ctx: &Ctx,
    name: &str,
    t: type_::Reader<'_>,
    p: PointerReader<'_>,
) -> capnp::Result<Value> {
    if p.is_null() && !matches!(t.which()?, type_::Text(()) | type_::Data(())) {
        return Ok(Value::Nil);
    }
    Ok(match t.which()? {
        type_::Text(()) => Value::str(p.get_text(None)?.to_str()?),
        type_::Data(()) => Value::bytes(p.get_data(None)?),
        type_::Struct(s) => {
            let node: Node = ctx.schemas.node(s.get_type_id())?;
            read_struct(ctx, node.get()?, p.get_struct(None)?)?
        }
        type_::Interface(i) => {
            let node: Node = ctx.schemas.node(i.get_type_id())?;
            let client = capnp::capability::Client::new(p.get_capability()?);
            Value::cap(DynCap::new(ctx.clone(), name, client, node))
        }
        type_::AnyPointer(_) => match p.get_capability() {
            Ok(hook) => Value::cap(DynCap::untyped(
                ctx.clone(),
                name,
                capnp::capability::Client::new(hook),
            )),
            Err(_) => Value::Nil,
        },
        type_::List(l) => read_list(ctx, name, l.get_element_type()?, p)?,
        _ => Value::Nil,
    })
}

fn read_list(
    ctx: &Ctx,
    name: &str,
    element: type_::Reader<'_>,
    p: PointerReader<'_>,
) -> capnp::Result<Value> {
    use capnp::{data_list, primitive_list, struct_list, text_list};
    fn prim<'a, T>(p: &PointerReader<'a>, f: impl Fn(T) -> Value) -> capnp::Result<Value>
    where
        T: capnp::private::layout::PrimitiveElement + Copy,
    {
        let list = primitive_list::Reader::<T>::get_from_pointer(p, None)?;
        Ok(Value::vector(list.iter().map(f).collect()))
    }
    Ok(match element.which()? {
        type_::Void(()) => Value::vector(Vec::new()),
        type_::Bool(()) => prim::<bool>(&p, Value::Bool)?,
        type_::Int8(()) => prim::<i8>(&p, |x| Value::Int(x.into()))?,
        type_::Int16(()) => prim::<i16>(&p, |x| Value::Int(x.into()))?,
        type_::Int32(()) => prim::<i32>(&p, |x| Value::Int(x.into()))?,
        type_::Int64(()) => prim::<i64>(&p, Value::Int)?,
        type_::Uint8(()) => prim::<u8>(&p, |x| Value::Int(x.into()))?,
        type_::Uint16(()) => prim::<u16>(&p, |x| Value::Int(x.into()))?,
        type_::Uint32(()) => prim::<u32>(&p, |x| Value::Int(x.into()))?,
        type_::Uint64(()) => prim::<u64>(&p, uint64)?,
        type_::Float32(()) => prim::<f32>(&p, |x| Value::Float(x.into()))?,
        type_::Float64(()) => prim::<f64>(&p, Value::Float)?,
        type_::Enum(e) => {
            let list = primitive_list::Reader::<u16>::get_from_pointer(&p, None)?;
            let items = list
                .iter()
                .map(|n| enumerant(ctx, e.get_type_id(), n))
                .collect::<capnp::Result<_>>()?;
            Value::vector(items)
        }
        type_::Text(()) => {
            let list = text_list::Reader::get_from_pointer(&p, None)?;
            let items = list
                .iter()
                .map(|t| Ok(Value::str(t?.to_str()?)))
                .collect::<capnp::Result<_>>()?;
            Value::vector(items)
        }
        type_::Data(()) => {
            let list = data_list::Reader::get_from_pointer(&p, None)?;
            let items = list
                .iter()
                .map(|d| Ok(Value::bytes(d?)))
                .collect::<capnp::Result<_>>()?;
            Value::vector(items)
        }
        type_::Struct(s) => {
            let node: Node = ctx.schemas.node(s.get_type_id())?;
            // Any generated struct type reads a struct list's elements: the
            // element layout comes from the list itself, not from the type.
            let list = struct_list::Reader::<node::Owned>::get_from_pointer(&p, None)?;
            let items = list
                .iter()
                .map(|e| read_struct(ctx, node.get()?, e.into_internal_struct_reader()))
                .collect::<capnp::Result<_>>()?;
            Value::vector(items)
        }
        type_::Interface(_) | type_::AnyPointer(_) => {
            let list =
                capnp::capability_list::Reader::<capnp::capability::Client>::get_from_pointer(
                    &p, None,
                )?;
            let items = list
                .iter()
                .map(|c| Ok(Value::cap(DynCap::untyped(ctx.clone(), name, c?))))
                .collect::<capnp::Result<_>>()?;
            Value::vector(items)
        }
        type_::List(_) => {
            return Err(capnp::Error::failed(format!(
                "`{name}` is a list of lists, which the shell cannot show yet"
            )))
        }
    })
}
