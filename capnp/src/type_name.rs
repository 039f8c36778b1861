//! Types as the schema language writes them (`Text`, `List(Text)`,
//! `Limits`), read from schema nodes: `ww inspect` shows a provider's
//! methods this way on the host, and the shell in a guest, so both spell
//! a type alike.
//!
//! A struct, enum or interface type is named by its node, which the caller
//! looks up where it keeps them (a graft's `Export.types`, the compiled-in
//! schemas); what it says for a node it lacks is its own choice.

use capnp::schema_capnp::{field, type_};

/// What a named type is, for a caller that names a node it lacks by kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A struct.
    Struct,
    /// An enum.
    Enum,
    /// An interface.
    Interface,
    /// A group (a field of a struct that is a struct of its own).
    Group,
}

impl Kind {
    /// `struct`, `enum`, `interface` or `group`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Struct => "struct",
            Kind::Enum => "enum",
            Kind::Interface => "interface",
            Kind::Group => "group",
        }
    }
}

/// The name of `t`: a built-in type's schema name, `List(…)` of its
/// element, or what `named` says for the node of a struct, enum or
/// interface (its id and kind); `?` for a type that cannot be read.
pub fn of_type(t: type_::Reader<'_>, named: &dyn Fn(u64, Kind) -> String) -> String {
    use type_::Which;
    let simple = match t.which() {
        Ok(Which::Void(())) => "Void",
        Ok(Which::Bool(())) => "Bool",
        Ok(Which::Int8(())) => "Int8",
        Ok(Which::Int16(())) => "Int16",
        Ok(Which::Int32(())) => "Int32",
        Ok(Which::Int64(())) => "Int64",
        Ok(Which::Uint8(())) => "UInt8",
        Ok(Which::Uint16(())) => "UInt16",
        Ok(Which::Uint32(())) => "UInt32",
        Ok(Which::Uint64(())) => "UInt64",
        Ok(Which::Float32(())) => "Float32",
        Ok(Which::Float64(())) => "Float64",
        Ok(Which::Text(())) => "Text",
        Ok(Which::Data(())) => "Data",
        Ok(Which::AnyPointer(p)) => any_pointer(p),
        Ok(Which::List(l)) => {
            let element = l
                .get_element_type()
                .map_or_else(|_| "?".to_string(), |e| of_type(e, named));
            return format!("List({element})");
        }
        Ok(Which::Struct(s)) => return named(s.get_type_id(), Kind::Struct),
        Ok(Which::Enum(e)) => return named(e.get_type_id(), Kind::Enum),
        Ok(Which::Interface(i)) => return named(i.get_type_id(), Kind::Interface),
        Err(_) => "?",
    };
    simple.to_string()
}

/// The type of a struct's field: its slot's type, or its group's name
/// (see [`of_type`]).
pub fn of_field(f: field::Reader<'_>, named: &dyn Fn(u64, Kind) -> String) -> String {
    match f.which() {
        Ok(field::Slot(slot)) => slot
            .get_type()
            .map_or_else(|_| "?".to_string(), |t| of_type(t, named)),
        Ok(field::Group(g)) => named(g.get_type_id(), Kind::Group),
        Err(_) => "?".to_string(),
    }
}

/// `Capability`, `AnyStruct`, `AnyList` or `AnyPointer`, as written.
pub fn any_pointer(p: type_::any_pointer::Reader<'_>) -> &'static str {
    use type_::any_pointer::{unconstrained, Which};
    match p.which() {
        Ok(Which::Unconstrained(u)) => match u.which() {
            Ok(unconstrained::Struct(())) => "AnyStruct",
            Ok(unconstrained::List(())) => "AnyList",
            Ok(unconstrained::Capability(())) => "Capability",
            _ => "AnyPointer",
        },
        _ => "AnyPointer",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{builtin, short_name};
    use crate::system_capnp::executor;
    use capnp::schema_capnp::node;
    use capnp::traits::HasTypeId;

    /// `spawn`'s parameters, spelled with the built-in schemas' names.
    #[test]
    fn a_methods_parameters_read_as_the_schema_writes_them() {
        let set = builtin();
        let named = |id: u64, kind: Kind| {
            set.node(id)
                .map_or_else(|| kind.as_str().to_string(), short_name)
        };
        let node::Interface(iface) = set
            .require(executor::Client::TYPE_ID)
            .unwrap()
            .which()
            .unwrap()
        else {
            panic!("Executor is an interface");
        };
        let spawn = iface
            .get_methods()
            .unwrap()
            .iter()
            .find(|m| m.get_name().unwrap().to_str().unwrap() == "spawn")
            .unwrap();
        let node::Struct(params) = set
            .require(spawn.get_param_struct_type())
            .unwrap()
            .which()
            .unwrap()
        else {
            panic!("parameters are a struct");
        };
        let mut fields: Vec<_> = params.get_fields().unwrap().iter().collect();
        fields.sort_by_key(|f| f.get_code_order());
        let types: Vec<String> = fields.iter().map(|f| of_field(*f, &named)).collect();
        assert_eq!(
            types,
            ["List(Text)", "List(Text)", "List(Export)", "Limits", "Text"]
        );
        let lacking = |_: u64, kind: Kind| kind.as_str().to_string();
        assert_eq!(of_field(fields[2], &lacking), "List(struct)");
    }
}
