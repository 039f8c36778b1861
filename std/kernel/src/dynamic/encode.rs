//! Building a Cap'n Proto struct from Glia values, guided by its schema
//! node: the parameters of `(cap method …)` and `(call cap :method {…})`.
//!
//! Arguments are positional (the parameters in declaration order) or one
//! map keyed by parameter name (`{:epochSeq 1}` or `{:epoch-seq 1}`).
//! Every parameter must be given (a forgotten one is not silently zero);
//! inside a struct argument, fields left out of its map take their schema
//! defaults, as in any Cap'n Proto message.
//!
//! Values are checked against the schema's types, never converted behind
//! the caller's back: `Text` takes a string, `Data` takes bytes (`#bytes
//! "0a ff"`, `(bytes "text")`), `Bool` a boolean, integers an integer in
//! the type's range, floats a number, an enum one of its keywords, a
//! struct a map, an interface a capability, a list a vector of such
//! values. `nil` stands for a null struct, list or capability. One
//! conversion is made on purpose: a capability in a `List(Export)` (a
//! child's `caps`) is exported under its own name with its schema, and an
//! `Export` given as a map without `:schema` gets its `:cap`'s (a
//! capability whose interface the shell does not know is refused: the
//! receiver could not call it). A mismatch
//! is an [`ArgError`] naming the parameter, its type and what was given.

use std::collections::BTreeMap;
use std::rc::Rc;

use capnp::private::layout::{ElementSize, PointerBuilder, StructBuilder, StructSize};
use capnp::schema_capnp::{field, node, type_};
use capnp::traits::{FromPointerBuilder, HasTypeId};
use ww_capnp::membrane_capnp::export;
use ww_capnp::schema::SchemaNode;
use ww_glia::{Capability, Value};

use super::raw::RawStruct;
use super::types;
use super::{Ctx, DynCap};
use crate::schemas::Node;

/// Arguments that do not fit the method's parameters, with what is wrong
/// and what to give instead.
#[derive(Debug)]
pub struct ArgError(pub String);

impl From<capnp::Error> for ArgError {
    fn from(e: capnp::Error) -> ArgError {
        ArgError(e.extra)
    }
}

impl From<capnp::NotInSchema> for ArgError {
    fn from(e: capnp::NotInSchema) -> ArgError {
        ArgError(e.to_string())
    }
}

impl From<std::str::Utf8Error> for ArgError {
    fn from(e: std::str::Utf8Error) -> ArgError {
        ArgError(format!("a name in the schema is not UTF-8: {e}"))
    }
}

type Result<T> = std::result::Result<T, ArgError>;

fn fail(msg: String) -> ArgError {
    ArgError(msg)
}

/// A value as an error shows it: its kind and its printed form, cut short.
fn shown(v: &Value) -> String {
    let mut printed = ww_glia::pr_str(v);
    if printed.chars().count() > 60 {
        printed = printed.chars().take(57).collect::<String>() + "...";
    }
    format!("{} {printed}", v.type_name())
}

/// "`name` is Type: give what, got kind value".
fn mismatch(name: &str, ty: &str, want: &str, v: &Value) -> ArgError {
    fail(format!("`{name}` is {ty}: give {want}, got {}", shown(v)))
}

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

/// Fields of a struct node in declaration order.
fn fields_in_order(node: node::Reader<'_>) -> Result<Vec<field::Reader<'_>>> {
    let node::Struct(st) = node.which()? else {
        return Err(fail("expected a struct node".into()));
    };
    let mut fields: Vec<_> = st.get_fields()?.iter().collect();
    fields.sort_by_key(|f| f.get_code_order());
    Ok(fields)
}

fn field_name(f: field::Reader<'_>) -> Result<String> {
    Ok(f.get_name()?.to_str()?.to_string())
}

/// `(a :A, b :B)`, the parameters as the error messages show them.
fn signature(ctx: &Ctx, fields: &[field::Reader<'_>]) -> String {
    let params: Vec<types::Param> = fields
        .iter()
        .filter_map(|f| {
            Some(types::Param {
                name: field_name(*f).ok()?,
                ty: types::of_field(&ctx.schemas, *f),
            })
        })
        .collect();
    types::show_all(&params)
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

/// Fills `sb` (laid out as the parameter struct `node`) from `args`:
/// values in parameter order, or one map of them by name. Every parameter
/// but a union's members must be given.
pub fn write_args(
    ctx: &Ctx,
    node: node::Reader<'_>,
    mut sb: StructBuilder<'_>,
    args: &[Value],
) -> Result<()> {
    let fields = fields_in_order(node)?;
    let required: Vec<String> = fields
        .iter()
        .filter(|f| f.get_discriminant_value() == field::NO_DISCRIMINANT)
        .map(|f| field_name(*f))
        .collect::<Result<_>>()?;
    if let [Value::Map(m)] = args {
        if named(m, &fields) {
            let given = write_map(ctx, node, sb, m)?;
            if let Some(missing) = required.iter().find(|r| !given.contains(r)) {
                return Err(missing_arg(ctx, &fields, missing));
            }
            return Ok(());
        }
    }
    if args.len() > fields.len() {
        return Err(fail(format!(
            "takes {} argument{} {}, got {}",
            fields.len(),
            if fields.len() == 1 { "" } else { "s" },
            signature(ctx, &fields),
            args.len()
        )));
    }
    for (f, v) in fields.iter().zip(args) {
        write_field(ctx, node, *f, sb.reborrow(), v)?;
    }
    let unfilled = fields
        .iter()
        .skip(args.len())
        .find(|f| f.get_discriminant_value() == field::NO_DISCRIMINANT);
    if let Some(missing) = unfilled {
        return Err(missing_arg(ctx, &fields, &field_name(*missing)?));
    }
    Ok(())
}

/// Whether the map `m` names parameters (`{:message "hi"}`), rather than
/// being the value of a method's only, struct, parameter.
fn named(m: &BTreeMap<Value, Value>, fields: &[field::Reader<'_>]) -> bool {
    let only_struct = match fields {
        [f] => match f.which() {
            Ok(field::Slot(slot)) => slot
                .get_type()
                .is_ok_and(|t| matches!(t.which(), Ok(type_::Struct(_)))),
            _ => true,
        },
        _ => false,
    };
    if !only_struct {
        return true;
    }
    let names: Vec<String> = fields.iter().filter_map(|f| field_name(*f).ok()).collect();
    m.keys().all(|k| match k {
        Value::Keyword(s) | Value::Str(s) | Value::Symbol(s) => names.contains(&camel(s)),
        _ => false,
    })
}

fn missing_arg(ctx: &Ctx, fields: &[field::Reader<'_>], missing: &str) -> ArgError {
    let ty = fields
        .iter()
        .find(|f| field_name(**f).ok().as_deref() == Some(missing))
        .map(|f| types::of_field(&ctx.schemas, *f))
        .unwrap_or_else(|| "?".into());
    fail(format!(
        "missing argument `{missing}` :{ty}; it takes {}",
        signature(ctx, fields)
    ))
}

/// Writes the map's entries into the struct `node`; returns the names of
/// the fields written.
fn write_map(
    ctx: &Ctx,
    node: node::Reader<'_>,
    mut sb: StructBuilder<'_>,
    map: &BTreeMap<Value, Value>,
) -> Result<Vec<String>> {
    let fields = fields_in_order(node)?;
    let mut given = Vec::new();
    for (k, v) in map {
        let key = match k {
            Value::Keyword(s) | Value::Str(s) | Value::Symbol(s) => camel(s),
            other => {
                return Err(fail(format!(
                    "field names are keywords (:name), got {}",
                    shown(other)
                )))
            }
        };
        let f = fields
            .iter()
            .find(|f| f.get_name().ok().and_then(|n| n.to_str().ok()) == Some(key.as_str()))
            .ok_or_else(|| {
                fail(format!(
                    "no field `{key}`; the fields are {}",
                    signature(ctx, &fields)
                ))
            })?;
        write_field(ctx, node, *f, sb.reborrow(), v)?;
        given.push(key);
    }
    Ok(given)
}

fn write_field(
    ctx: &Ctx,
    node: node::Reader<'_>,
    f: field::Reader<'_>,
    sb: StructBuilder<'_>,
    v: &Value,
) -> Result<()> {
    let name = field_name(f)?;
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
                Value::Map(m) => write_map(ctx, group.get()?, sb, m).map(|_| ()),
                other => Err(mismatch(
                    &name,
                    &types::of_field(&ctx.schemas, f),
                    "a map of its fields (a group)",
                    other,
                )),
            }
        }
        field::Slot(slot) => {
            let off = slot.get_offset() as usize;
            let t = slot.get_type()?;
            write_slot(ctx, &name, t, off, sb, v)
        }
    }
}

/// An integer for a field of type `ty` whose range is `T`'s.
fn ranged<T: TryFrom<i64>>(name: &str, ty: &str, v: &Value) -> Result<T> {
    let Value::Int(n) = v else {
        return Err(mismatch(name, ty, "an integer", v));
    };
    T::try_from(*n).map_err(|_| fail(format!("`{name}` is {ty}: {n} is out of range")))
}

/// A `UInt64`, which may exceed an `i64`: Glia reads such a result as a
/// float, and takes one back when it is a whole number in range.
fn uint64(name: &str, v: &Value) -> Result<u64> {
    match v {
        Value::Float(f) if f.fract() == 0.0 && *f >= 0.0 && *f < u64::MAX as f64 => Ok(*f as u64),
        other => ranged(name, "UInt64", other),
    }
}

fn float(name: &str, ty: &str, v: &Value) -> Result<f64> {
    match v {
        Value::Float(x) => Ok(*x),
        Value::Int(n) => Ok(*n as f64),
        other => Err(mismatch(name, ty, "a number", other)),
    }
}

fn boolean(name: &str, v: &Value) -> Result<bool> {
    match v {
        Value::Bool(b) => Ok(*b),
        other => Err(mismatch(name, "Bool", "true or false", other)),
    }
}

fn text<'v>(name: &str, v: &'v Value) -> Result<&'v str> {
    match v {
        Value::Str(s) => Ok(s),
        other => Err(mismatch(name, "Text", "a string", other)),
    }
}

fn data<'v>(name: &str, v: &'v Value) -> Result<&'v [u8]> {
    match v {
        Value::Bytes(b) => Ok(b),
        other => Err(mismatch(
            name,
            "Data",
            "bytes, e.g. #bytes \"0a ff\" or (bytes \"text\")",
            other,
        )),
    }
}

fn enum_value(ctx: &Ctx, name: &str, id: u64, v: &Value) -> Result<u16> {
    let node: Node = ctx.schemas.node(id)?;
    let reader = node.get()?;
    let node::Enum(e) = reader.which()? else {
        return Err(fail(format!("`{name}`: its enum's schema is not an enum")));
    };
    let names: Vec<String> = e
        .get_enumerants()?
        .iter()
        .filter_map(|en| Some(en.get_name().ok()?.to_str().ok()?.to_string()))
        .collect();
    let ty = ww_capnp::schema::short_name(reader);
    let one_of = || {
        let keywords: Vec<String> = names.iter().map(|n| format!(":{n}")).collect();
        format!("one of {}", keywords.join(" "))
    };
    let Value::Keyword(k) = v else {
        return Err(mismatch(name, &ty, &one_of(), v));
    };
    names
        .iter()
        .position(|n| *n == camel(k))
        .map(|i| i as u16)
        .ok_or_else(|| {
            fail(format!(
                "`{name}` is {ty}: no enumerant :{k}; give {}",
                one_of()
            ))
        })
}

/// The client inside a capability value.
fn client_of(name: &str, ty: &str, v: &Value) -> Result<capnp::capability::Client> {
    match v {
        Value::Cap(c) => match c.as_any().and_then(|a| a.downcast_ref::<DynCap>()) {
            Some(d) => Ok(d.client().clone()),
            None => Err(fail(format!(
                "`{name}`: capability {} is the shell's own and cannot be passed",
                c.name()
            ))),
        },
        other => Err(mismatch(name, ty, "a capability", other)),
    }
}

fn write_slot(
    ctx: &Ctx,
    name: &str,
    t: type_::Reader<'_>,
    off: usize,
    sb: StructBuilder<'_>,
    v: &Value,
) -> Result<()> {
    match t.which()? {
        type_::Void(()) => {
            if !matches!(v, Value::Nil) {
                return Err(mismatch(name, "Void", "nil", v));
            }
        }
        type_::Bool(()) => sb.set_bool_field(off, boolean(name, v)?),
        type_::Int8(()) => sb.set_data_field::<i8>(off, ranged(name, "Int8", v)?),
        type_::Int16(()) => sb.set_data_field::<i16>(off, ranged(name, "Int16", v)?),
        type_::Int32(()) => sb.set_data_field::<i32>(off, ranged(name, "Int32", v)?),
        type_::Int64(()) => sb.set_data_field::<i64>(off, ranged(name, "Int64", v)?),
        type_::Uint8(()) => sb.set_data_field::<u8>(off, ranged(name, "UInt8", v)?),
        type_::Uint16(()) => sb.set_data_field::<u16>(off, ranged(name, "UInt16", v)?),
        type_::Uint32(()) => sb.set_data_field::<u32>(off, ranged(name, "UInt32", v)?),
        type_::Uint64(()) => sb.set_data_field::<u64>(off, uint64(name, v)?),
        type_::Float32(()) => sb.set_data_field::<f32>(off, float(name, "Float32", v)? as f32),
        type_::Float64(()) => sb.set_data_field::<f64>(off, float(name, "Float64", v)?),
        type_::Enum(e) => sb.set_data_field::<u16>(off, enum_value(ctx, name, e.get_type_id(), v)?),
        _ => write_pointer(ctx, name, t, sb.get_pointer_field(off), v)?,
    }
    Ok(())
}

fn write_pointer(
    ctx: &Ctx,
    name: &str,
    t: type_::Reader<'_>,
    mut p: PointerBuilder<'_>,
    v: &Value,
) -> Result<()> {
    let ty = types::name(&ctx.schemas, t);
    let which = t.which()?;
    // nil is "none" for what may be absent: a struct, a list, a
    // capability. Text and Data take a value.
    if matches!(v, Value::Nil) && !matches!(which, type_::Text(()) | type_::Data(())) {
        return Ok(());
    }
    match which {
        type_::Text(()) => p.set_text(text(name, v)?.into()),
        type_::Data(()) => p.set_data(data(name, v)?),
        type_::Struct(s) => {
            let node: Node = ctx.schemas.node(s.get_type_id())?;
            let node = node.get()?;
            let Value::Map(m) = v else {
                return Err(mismatch(name, &ty, &struct_want(ctx, node), v));
            };
            let sb = p.init_struct(size(node)?);
            write_map(ctx, node, sb, m)?;
        }
        type_::Interface(_) | type_::AnyPointer(_) => {
            p.set_capability(client_of(name, &ty, v)?.hook);
        }
        type_::List(l) => write_list(ctx, name, &ty, l.get_element_type()?, p, v)?,
        _ => return Err(fail(format!("`{name}`: the shell cannot build a {ty}"))),
    }
    Ok(())
}

/// A capability as a `Membrane.Export` (a child's `caps` in
/// `Executor.spawn`): under its own name, with its interface's schema node
/// and the nodes its methods use, so that the receiver can call it as the
/// shell does.
fn write_export(
    name: &str,
    sb: StructBuilder<'_>,
    cap: &Rc<dyn Capability>,
    ctx: &Ctx,
) -> Result<()> {
    let dynamic = exportable(name, cap)?;
    let exported = ww_capnp::export::Export {
        name: dynamic.name().to_string(),
        cap: dynamic.client().clone(),
        schema: schema_of(name, dynamic, ctx)?,
    };
    exported.write(export::Builder::from(sb))?;
    Ok(())
}

/// An `Export` given as a map of its fields: written as given, and when
/// the map leaves out `:schema`, with the schema of its `:cap`'s interface
/// filled in (a receiver cannot call a capability without it, or graft at
/// all when it is null).
fn write_export_map(
    name: &str,
    node: node::Reader<'_>,
    mut sb: StructBuilder<'_>,
    map: &BTreeMap<Value, Value>,
    ctx: &Ctx,
) -> Result<()> {
    let given = write_map(ctx, node, sb.reborrow(), map)?;
    if given.iter().any(|f| f == "schema") {
        return Ok(());
    }
    let cap = map.iter().find_map(|(k, v)| match (k, v) {
        (Value::Keyword(k) | Value::Str(k) | Value::Symbol(k), Value::Cap(cap))
            if camel(k) == "cap" =>
        {
            Some(cap)
        }
        _ => None,
    });
    let Some(cap) = cap else {
        return Err(fail(format!(
            "`{name}`: an Export needs :cap, the capability it passes (and :name); \
             or give the capability itself"
        )));
    };
    let schema = schema_of(name, exportable(name, cap)?, ctx)?;
    ww_capnp::export::write_schema(export::Builder::from(sb), &schema)?;
    Ok(())
}

/// `cap` as a capability the shell can pass on (not one of its own).
fn exportable<'c>(name: &str, cap: &'c Rc<dyn Capability>) -> Result<&'c DynCap> {
    cap.as_any()
        .and_then(|a| a.downcast_ref::<DynCap>())
        .ok_or_else(|| {
            fail(format!(
                "`{name}`: capability {} is the shell's own and cannot be passed",
                cap.name()
            ))
        })
}

/// The schema node of `cap`'s interface with the nodes its methods use, as
/// an export carries it.
fn schema_of(name: &str, cap: &DynCap, ctx: &Ctx) -> Result<SchemaNode> {
    cap.interface_id()
        .and_then(|id| ctx.schemas.interface(id))
        .ok_or_else(|| {
            fail(format!(
                "`{name}`: the shell does not know the interface of capability {}, so the \
                 receiver could not call it; pass a capability the shell got with its schema \
                 (from a graft, or a method's typed result), or give :schema",
                cap.name()
            ))
        })
}

/// "a map of its fields (a b c)", for a struct of type `node`.
fn struct_want(ctx: &Ctx, node: node::Reader<'_>) -> String {
    match fields_in_order(node) {
        Ok(fields) => format!("a map of its fields {}", signature(ctx, &fields)),
        Err(_) => "a map of its fields".into(),
    }
}

fn write_list(
    ctx: &Ctx,
    name: &str,
    ty: &str,
    element: type_::Reader<'_>,
    p: PointerBuilder<'_>,
    v: &Value,
) -> Result<()> {
    use capnp::primitive_list;
    let items: Vec<Value> = match v {
        Value::Vector(items) | Value::List(items) => items.to_vec(),
        Value::Set(items) => items.iter().cloned().collect(),
        other => return Err(mismatch(name, ty, "a vector", other)),
    };
    let n = u32::try_from(items.len())
        .map_err(|_| fail(format!("`{name}`: too many elements for a list")))?;
    // Each element's errors name it: `args[2]`.
    let at = |i: usize| format!("{name}[{i}]");
    macro_rules! prim {
        ($t:ty, $conv:expr) => {{
            let mut list = primitive_list::Builder::<$t>::init_pointer(p, n);
            for (i, item) in items.iter().enumerate() {
                list.set(i as u32, $conv(&at(i), item)?);
            }
        }};
    }
    match element.which()? {
        type_::Void(()) => {
            p.init_list(ElementSize::Void, n);
        }
        type_::Bool(()) => prim!(bool, |n: &str, x| boolean(n, x)),
        type_::Int8(()) => prim!(i8, |n: &str, x| ranged(n, "Int8", x)),
        type_::Int16(()) => prim!(i16, |n: &str, x| ranged(n, "Int16", x)),
        type_::Int32(()) => prim!(i32, |n: &str, x| ranged(n, "Int32", x)),
        type_::Int64(()) => prim!(i64, |n: &str, x| ranged(n, "Int64", x)),
        type_::Uint8(()) => prim!(u8, |n: &str, x| ranged(n, "UInt8", x)),
        type_::Uint16(()) => prim!(u16, |n: &str, x| ranged(n, "UInt16", x)),
        type_::Uint32(()) => prim!(u32, |n: &str, x| ranged(n, "UInt32", x)),
        type_::Uint64(()) => prim!(u64, |n: &str, x| uint64(n, x)),
        type_::Float32(()) => prim!(f32, |n: &str, x| float(n, "Float32", x).map(|f| f as f32)),
        type_::Float64(()) => prim!(f64, |n: &str, x| float(n, "Float64", x)),
        type_::Enum(e) => {
            let id = e.get_type_id();
            prim!(u16, |n: &str, x| enum_value(ctx, n, id, x))
        }
        type_::Struct(s) => {
            let node: Node = ctx.schemas.node(s.get_type_id())?;
            let node = node.get()?;
            let exports = s.get_type_id() == <export::Reader<'_> as HasTypeId>::TYPE_ID;
            let mut p = p;
            p.reborrow().init_struct_list(n, size(node)?);
            let mut list = capnp::struct_list::Builder::<RawStruct>::get_from_pointer(p, None)?;
            let element_ty = types::name(&ctx.schemas, element);
            for (i, item) in items.iter().enumerate() {
                let Some(sb) = list.reborrow().try_get(i as u32) else {
                    return Err(fail(format!("`{name}`: element {i} is out of the list")));
                };
                match item {
                    Value::Map(m) if exports => write_export_map(&at(i), node, sb.0, m, ctx)?,
                    Value::Map(m) => {
                        write_map(ctx, node, sb.0, m)?;
                    }
                    Value::Cap(cap) if exports => write_export(&at(i), sb.0, cap, ctx)?,
                    other => {
                        let want = if exports {
                            format!("a capability, or {}", struct_want(ctx, node))
                        } else {
                            struct_want(ctx, node)
                        };
                        return Err(mismatch(&at(i), &element_ty, &want, other));
                    }
                }
            }
        }
        // Text, Data, lists, capabilities: a list of pointers, each
        // written as the parameter of that type would be.
        _ => {
            let mut list = p.init_list(ElementSize::Pointer, n);
            for (i, item) in items.iter().enumerate() {
                let element_p = list.reborrow().get_pointer_element(i as u32);
                write_pointer(ctx, &at(i), element, element_p, item)?;
            }
        }
    }
    Ok(())
}
