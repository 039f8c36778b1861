//! Building a Cap'n Proto struct from Glia values, guided by its schema
//! node: the parameters of `(cap method …)` and `(call cap :method {…})`.
//!
//! Arguments are positional (the fields in declaration order) or one map
//! keyed by field name (`{:epochSeq 1}` or `{:epoch-seq 1}`). `Data` takes
//! a string (its UTF-8 bytes, or bytes written `0x…` in hex) or a vector of
//! byte values.

use capnp::private::layout::{PointerBuilder, StructBuilder, StructSize};
use capnp::schema_capnp::{field, node, type_};
use capnp::traits::FromPointerBuilder;
use ww_glia::Value;

use super::{Ctx, DynCap};
use crate::schemas::Node;

/// The data and pointer sizes of a struct node.
pub fn size(node: node::Reader<'_>) -> capnp::Result<StructSize> {
    match node.which()? {
        node::Struct(st) => Ok(StructSize {
            data: st.get_data_word_count(),
            pointers: st.get_pointer_count(),
        }),
        _ => Err(capnp::Error::failed("expected a struct node".into())),
    }
}

fn fail(msg: String) -> capnp::Error {
    capnp::Error::failed(msg)
}

/// Fields of a struct node in declaration order.
fn fields_in_order(node: node::Reader<'_>) -> capnp::Result<Vec<field::Reader<'_>>> {
    let node::Struct(st) = node.which()? else {
        return Err(fail("expected a struct node".into()));
    };
    let mut fields: Vec<_> = st.get_fields()?.iter().collect();
    fields.sort_by_key(|f| f.get_code_order());
    Ok(fields)
}

/// `fooBar` for `foo-bar`, so Lisp-style keys find camelCase fields.
fn camel(name: &str) -> String {
    let mut out = String::new();
    let mut up = false;
    for c in name.chars() {
        if c == '-' || c == '_' {
            up = true;
        } else if up {
            out.extend(c.to_uppercase());
            up = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// Fills `sb` (laid out as `node`) from `args`: one map, or values in
/// field order.
pub fn write_args(
    ctx: &Ctx,
    node: node::Reader<'_>,
    mut sb: StructBuilder<'_>,
    args: &[Value],
) -> capnp::Result<()> {
    match args {
        [Value::Map(m)] => write_map(ctx, node, sb, m),
        _ => {
            let fields = fields_in_order(node)?;
            if args.len() > fields.len() {
                let names: Vec<&str> = fields
                    .iter()
                    .filter_map(|f| f.get_name().ok()?.to_str().ok())
                    .collect();
                return Err(fail(format!(
                    "takes at most {} arguments ({}), got {}",
                    fields.len(),
                    names.join(" "),
                    args.len()
                )));
            }
            for (f, v) in fields.iter().zip(args) {
                write_field(ctx, node, *f, sb.reborrow(), v)?;
            }
            Ok(())
        }
    }
}

fn write_map(
    ctx: &Ctx,
    node: node::Reader<'_>,
    mut sb: StructBuilder<'_>,
    map: &std::collections::BTreeMap<Value, Value>,
) -> capnp::Result<()> {
    let fields = fields_in_order(node)?;
    for (k, v) in map {
        let key = match k {
            Value::Keyword(s) | Value::Str(s) | Value::Symbol(s) => camel(s),
            other => return Err(fail(format!("field names are keywords, got {other}"))),
        };
        let f = fields
            .iter()
            .find(|f| f.get_name().ok().and_then(|n| n.to_str().ok()) == Some(key.as_str()))
            .ok_or_else(|| {
                let names: Vec<&str> = fields
                    .iter()
                    .filter_map(|f| f.get_name().ok()?.to_str().ok())
                    .collect();
                fail(format!("no field `{key}`; fields: {}", names.join(" ")))
            })?;
        write_field(ctx, node, *f, sb.reborrow(), v)?;
    }
    Ok(())
}

fn write_field(
    ctx: &Ctx,
    node: node::Reader<'_>,
    f: field::Reader<'_>,
    sb: StructBuilder<'_>,
    v: &Value,
) -> capnp::Result<()> {
    let name = f.get_name()?.to_str()?.to_string();
    let dv = f.get_discriminant_value();
    if dv != field::NO_DISCRIMINANT {
        if let node::Struct(st) = node.which()? {
            sb.set_data_field::<u16>(st.get_discriminant_offset() as usize, dv);
        }
    }
    match f.which()? {
        field::Group(g) => {
            let group: Node = ctx.schemas.node(g.get_type_id())?;
            match v {
                Value::Map(m) => write_map(ctx, group.get()?, sb, m),
                other => Err(fail(format!(
                    "`{name}` is a group: give a map, got {other}"
                ))),
            }
        }
        field::Slot(slot) => {
            let off = slot.get_offset() as usize;
            let t = slot.get_type()?;
            write_slot(ctx, &name, t, off, sb, v)
        }
    }
}

fn int(name: &str, v: &Value) -> capnp::Result<i128> {
    match v {
        Value::Int(n) => Ok(i128::from(*n)),
        other => Err(fail(format!("`{name}` takes an integer, got {other}"))),
    }
}

fn ranged<T: TryFrom<i128>>(name: &str, v: &Value) -> capnp::Result<T> {
    let n = int(name, v)?;
    T::try_from(n).map_err(|_| {
        fail(format!(
            "`{name}`: {n} is out of range for {}",
            std::any::type_name::<T>()
        ))
    })
}

fn float(name: &str, v: &Value) -> capnp::Result<f64> {
    match v {
        Value::Float(x) => Ok(*x),
        Value::Int(n) => Ok(*n as f64),
        other => Err(fail(format!("`{name}` takes a number, got {other}"))),
    }
}

/// Bytes for a `Data` field.
pub fn bytes(name: &str, v: &Value) -> capnp::Result<Vec<u8>> {
    match v {
        Value::Str(s) => Ok(hex(s).unwrap_or_else(|| s.as_bytes().to_vec())),
        Value::Vector(items) | Value::List(items) => {
            items.iter().map(|b| ranged::<u8>(name, b)).collect()
        }
        Value::Nil => Ok(Vec::new()),
        other => Err(fail(format!(
            "`{name}` takes bytes (a string, 0x… hex or a vector), got {other}"
        ))),
    }
}

fn hex(s: &str) -> Option<Vec<u8>> {
    let digits = s.strip_prefix("0x")?;
    if digits.len() % 2 != 0 {
        return None;
    }
    (0..digits.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(digits.get(i..i + 2)?, 16).ok())
        .collect()
}

fn enum_value(ctx: &Ctx, name: &str, id: u64, v: &Value) -> capnp::Result<u16> {
    if let Value::Int(_) = v {
        return ranged(name, v);
    }
    let want = match v {
        Value::Keyword(s) | Value::Str(s) | Value::Symbol(s) => camel(s),
        other => {
            return Err(fail(format!(
                "`{name}` takes an enumerant keyword, got {other}"
            )))
        }
    };
    let node: Node = ctx.schemas.node(id)?;
    if let node::Enum(e) = node.get()?.which()? {
        for (i, en) in e.get_enumerants()?.iter().enumerate() {
            if en.get_name()?.to_str()? == want {
                return Ok(i as u16);
            }
        }
    }
    Err(fail(format!("`{name}`: no enumerant `{want}`")))
}

/// The client inside a capability value.
pub fn client_of(name: &str, v: &Value) -> capnp::Result<capnp::capability::Client> {
    match v {
        Value::Cap(c) => match c.as_any().and_then(|a| a.downcast_ref::<DynCap>()) {
            Some(d) => Ok(d.client().clone()),
            None => Err(fail(format!(
                "`{name}`: capability {} cannot be passed",
                c.name()
            ))),
        },
        other => Err(fail(format!("`{name}` takes a capability, got {other}"))),
    }
}

fn write_slot(
    ctx: &Ctx,
    name: &str,
    t: type_::Reader<'_>,
    off: usize,
    sb: StructBuilder<'_>,
    v: &Value,
) -> capnp::Result<()> {
    match t.which()? {
        type_::Void(()) => {}
        type_::Bool(()) => sb.set_bool_field(off, v.truthy()),
        type_::Int8(()) => sb.set_data_field::<i8>(off, ranged(name, v)?),
        type_::Int16(()) => sb.set_data_field::<i16>(off, ranged(name, v)?),
        type_::Int32(()) => sb.set_data_field::<i32>(off, ranged(name, v)?),
        type_::Int64(()) => sb.set_data_field::<i64>(off, ranged(name, v)?),
        type_::Uint8(()) => sb.set_data_field::<u8>(off, ranged(name, v)?),
        type_::Uint16(()) => sb.set_data_field::<u16>(off, ranged(name, v)?),
        type_::Uint32(()) => sb.set_data_field::<u32>(off, ranged(name, v)?),
        type_::Uint64(()) => sb.set_data_field::<u64>(off, ranged(name, v)?),
        type_::Float32(()) => sb.set_data_field::<f32>(off, float(name, v)? as f32),
        type_::Float64(()) => sb.set_data_field::<f64>(off, float(name, v)?),
        type_::Enum(e) => sb.set_data_field::<u16>(off, enum_value(ctx, name, e.get_type_id(), v)?),
        _ => {
            let p = sb.get_pointer_field(off);
            write_pointer(ctx, name, t, p, v)?;
        }
    }
    Ok(())
}

fn write_pointer(
    ctx: &Ctx,
    name: &str,
    t: type_::Reader<'_>,
    mut p: PointerBuilder<'_>,
    v: &Value,
) -> capnp::Result<()> {
    if matches!(v, Value::Nil) {
        return Ok(());
    }
    match t.which()? {
        type_::Text(()) => {
            let s = match v {
                Value::Str(s) => s.to_string(),
                other => ww_glia::print_str(other),
            };
            p.set_text(s.as_str().into());
        }
        type_::Data(()) => p.set_data(&bytes(name, v)?),
        type_::Struct(s) => {
            let node: Node = ctx.schemas.node(s.get_type_id())?;
            let node = node.get()?;
            let sb = p.init_struct(size(node)?);
            match v {
                Value::Map(m) => write_map(ctx, node, sb, m)?,
                other => {
                    return Err(fail(format!(
                        "`{name}` is a struct: give a map, got {other}"
                    )))
                }
            }
        }
        type_::Interface(_) | type_::AnyPointer(_) => {
            p.set_capability(client_of(name, v)?.hook);
        }
        type_::List(l) => write_list(name, l.get_element_type()?, p, v)?,
        _ => return Err(fail(format!("`{name}`: unsupported field type"))),
    }
    Ok(())
}

fn write_list(
    name: &str,
    element: type_::Reader<'_>,
    p: PointerBuilder<'_>,
    v: &Value,
) -> capnp::Result<()> {
    use capnp::{data_list, primitive_list, text_list};
    let items: Vec<Value> = match v {
        Value::Vector(items) | Value::List(items) => items.to_vec(),
        Value::Set(items) => items.iter().cloned().collect(),
        other => return Err(fail(format!("`{name}` takes a vector, got {other}"))),
    };
    let n = items.len() as u32;
    macro_rules! prim {
        ($t:ty, $conv:expr) => {{
            let mut list = primitive_list::Builder::<$t>::init_pointer(p, n);
            for (i, item) in items.iter().enumerate() {
                list.set(i as u32, $conv(item)?);
            }
        }};
    }
    match element.which()? {
        type_::Bool(()) => prim!(bool, |x: &Value| Ok::<_, capnp::Error>(x.truthy())),
        type_::Int8(()) => prim!(i8, |x| ranged(name, x)),
        type_::Int16(()) => prim!(i16, |x| ranged(name, x)),
        type_::Int32(()) => prim!(i32, |x| ranged(name, x)),
        type_::Int64(()) => prim!(i64, |x| ranged(name, x)),
        type_::Uint8(()) => prim!(u8, |x| ranged(name, x)),
        type_::Uint16(()) => prim!(u16, |x| ranged(name, x)),
        type_::Uint32(()) => prim!(u32, |x| ranged(name, x)),
        type_::Uint64(()) => prim!(u64, |x| ranged(name, x)),
        type_::Float32(()) => prim!(f32, |x| float(name, x).map(|f| f as f32)),
        type_::Float64(()) => prim!(f64, |x| float(name, x)),
        type_::Text(()) => {
            let mut list = text_list::Builder::init_pointer(p, n);
            for (i, item) in items.iter().enumerate() {
                let s = match item {
                    Value::Str(s) => s.to_string(),
                    other => ww_glia::print_str(other),
                };
                list.set(i as u32, s.as_str());
            }
        }
        type_::Data(()) => {
            let mut list = data_list::Builder::init_pointer(p, n);
            for (i, item) in items.iter().enumerate() {
                list.set(i as u32, &bytes(name, item)?);
            }
        }
        _ => {
            return Err(fail(format!(
                "`{name}`: the shell builds lists of numbers, strings and bytes only"
            )))
        }
    }
    Ok(())
}
