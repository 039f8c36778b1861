//! Types as the shell shows them, read from schema nodes by
//! [`ww_capnp::type_name`] (as `ww inspect` shows them): `Text`,
//! `List(Text)`, `Limits`, so that `(caps)`, `(doc cap)` and `(help)` say
//! what each parameter takes and each result is, and an argument of the
//! wrong kind is refused naming the parameter and its type.

use capnp::schema_capnp::{field, node, type_};
use ww_capnp::type_name::{self, Kind};
use ww_glia::Value;

use crate::schemas::Schemas;

/// One parameter or result: its name and type.
pub struct Param {
    /// The field's name (`message`).
    pub name: String,
    /// Its type as written in a schema (`Text`, `List(Export)`).
    pub ty: String,
}

impl Param {
    /// `name :Type`, as in a Cap'n Proto schema.
    pub fn show(&self) -> String {
        format!("{} :{}", self.name, self.ty)
    }
}

/// `(a :A, b :B)`: parameters or results as a schema writes them.
pub fn show_all(params: &[Param]) -> String {
    let shown: Vec<String> = params.iter().map(Param::show).collect();
    format!("({})", shown.join(", "))
}

/// The name of `t`: a built-in type's schema name, or the short name of
/// the struct, enum or interface node (what the schemas lack is shown by
/// its kind: `struct`, `enum`, `interface`).
pub fn name(schemas: &Schemas, t: type_::Reader<'_>) -> String {
    type_name::of_type(t, &|id, kind| named(schemas, id, kind))
}

/// The short name of the node `id`, or `kind` when the schemas lack it.
fn named(schemas: &Schemas, id: u64, kind: Kind) -> String {
    schemas
        .node(id)
        .ok()
        .and_then(|n| Some(ww_capnp::schema::short_name(n.get().ok()?)))
        .unwrap_or_else(|| kind.as_str().to_string())
}

/// The type of a field: its slot's type, or the group's name.
pub fn of_field(schemas: &Schemas, f: field::Reader<'_>) -> String {
    type_name::of_field(f, &|id, kind| named(schemas, id, kind))
}

/// The fields of the struct `struct_id` in declaration order, typed;
/// empty when the schemas lack it.
pub fn params(schemas: &Schemas, struct_id: u64) -> Vec<Param> {
    let Ok(node) = schemas.node(struct_id) else {
        return Vec::new();
    };
    let Ok(reader) = node.get() else {
        return Vec::new();
    };
    let Ok(node::Struct(st)) = reader.which() else {
        return Vec::new();
    };
    let mut fields: Vec<_> = st.get_fields().into_iter().flatten().collect();
    fields.sort_by_key(|f| f.get_code_order());
    fields
        .iter()
        .filter_map(|f| {
            Some(Param {
                name: f.get_name().ok()?.to_str().ok()?.to_string(),
                ty: of_field(schemas, *f),
            })
        })
        .collect()
}

/// How deep [`data`] spells out structs inside structs (a struct may hold
/// itself): deeper ones are named only.
const DATA_DEPTH: usize = 4;

/// `t` as Glia data, for a front end that builds calls itself (the MCP
/// tools typed from the schema): a built-in type by its name (`"Text"`),
/// `{:list T}`, `{:struct "Limits" :fields [{:name … :type …} …]}`,
/// `{:enum "Kind" :values ["a" …]}`, `{:interface "Host"}`; `depth` is
/// how many structs it is inside.
fn data_at(schemas: &Schemas, t: type_::Reader<'_>, depth: usize) -> Value {
    match t.which() {
        Ok(type_::List(l)) => match l.get_element_type() {
            Ok(element) => {
                Value::map([(Value::keyword("list"), data_at(schemas, element, depth + 1))])
            }
            Err(_) => Value::str("?"),
        },
        Ok(type_::Struct(s)) => struct_data(schemas, s.get_type_id(), depth),
        Ok(type_::Enum(e)) => {
            let id = e.get_type_id();
            let values: Vec<Value> = schemas
                .node(id)
                .ok()
                .and_then(|n| match n.get().ok()?.which().ok()? {
                    node::Enum(e) => Some(
                        e.get_enumerants()
                            .ok()?
                            .iter()
                            .filter_map(|en| Some(Value::str(en.get_name().ok()?.to_str().ok()?)))
                            .collect(),
                    ),
                    _ => None,
                })
                .unwrap_or_default();
            Value::map([
                (Value::keyword("enum"), Value::str(name(schemas, t))),
                (Value::keyword("values"), Value::vector(values)),
            ])
        }
        Ok(type_::Interface(_)) => {
            Value::map([(Value::keyword("interface"), Value::str(name(schemas, t)))])
        }
        Ok(type_::AnyPointer(a)) if type_name::any_pointer(a) == "Capability" => {
            Value::map([(Value::keyword("interface"), Value::str("Capability"))])
        }
        _ => Value::str(name(schemas, t)),
    }
}

/// `{:struct "Name" :fields [...]}`, the fields left out past
/// [`DATA_DEPTH`].
fn struct_data(schemas: &Schemas, id: u64, depth: usize) -> Value {
    let short = named(schemas, id, Kind::Struct);
    let mut pairs = vec![(Value::keyword("struct"), Value::str(short))];
    if depth < DATA_DEPTH {
        pairs.push((
            Value::keyword("fields"),
            fields_data(schemas, id, depth + 1),
        ));
    }
    Value::map(pairs)
}

/// The fields of the struct `id` as data: `[{:name "a" :type T} …]`, each
/// type as `data_at` spells it.
pub fn fields_data(schemas: &Schemas, id: u64, depth: usize) -> Value {
    let Ok(node) = schemas.node(id) else {
        return Value::vector(Vec::new());
    };
    let Ok(reader) = node.get() else {
        return Value::vector(Vec::new());
    };
    let Ok(node::Struct(st)) = reader.which() else {
        return Value::vector(Vec::new());
    };
    let mut fields: Vec<_> = st.get_fields().into_iter().flatten().collect();
    fields.sort_by_key(|f| f.get_code_order());
    let items = fields
        .iter()
        .filter_map(|f| {
            let name = f.get_name().ok()?.to_str().ok()?;
            let ty = match f.which().ok()? {
                field::Slot(slot) => data_at(schemas, slot.get_type().ok()?, depth),
                field::Group(g) => struct_data(schemas, g.get_type_id(), depth),
            };
            Some(Value::map([
                (Value::keyword("name"), Value::str(name)),
                (Value::keyword("type"), ty),
            ]))
        })
        .collect();
    Value::vector(items)
}
