//! MCP tools typed from the schema: one tool per capability method
//! (`executor_echo`), whose input JSON Schema comes from the method's Cap'n
//! Proto parameter types, as the kernel's `(methods)` reports them. Tool
//! names keep to letters, digits, `_` and `-`, which every agent's API
//! accepts.
//!
//! A call turns the tool's JSON arguments into Glia values by those types
//! (a `Data` parameter takes hex digits and becomes bytes, a capability
//! parameter takes a capability's name) and evaluates
//! `(call CAP :METHOD {…})`, built as a value and printed, so nothing an
//! agent sends is spliced into source text.

use std::sync::Arc;

use rmcp::model::Tool;
use serde_json::{json, Map, Value as Json};
use ww_glia::Value;

/// One capability method, as `(methods)` describes it.
#[derive(Clone, Debug)]
pub struct Method {
    /// The capability's name in the graft (`executor`).
    pub cap: String,
    /// The method (`echo`).
    pub method: String,
    /// `echo(message :Text) -> (response :Text)`.
    pub signature: String,
    /// Each parameter's name and type, as data printed by Glia (held as
    /// text: the server's futures are `Send`, Glia values are not).
    pub params: Vec<(String, String)>,
}

/// A parameter's type, read back from its printed form.
fn read_type(printed: &str) -> Value {
    ww_glia::read_all(printed)
        .ok()
        .and_then(|forms| forms.into_iter().next())
        .unwrap_or(Value::Nil)
}

impl Method {
    /// The tool's name: `cap_method`.
    pub fn tool_name(&self) -> String {
        format!("{}_{}", self.cap, self.method)
    }
}

/// The methods in the printed value of `(methods)`; entries that do not
/// read as a method are left out.
///
/// # Errors
///
/// When the text is not a Glia vector.
pub fn parse(printed: &str) -> Result<Vec<Method>, String> {
    let value = ww_glia::read_all(printed)
        .map_err(|e| format!("the kernel's (methods) did not read: {e}"))?
        .into_iter()
        .next();
    let Some(Value::Vector(entries)) = &value else {
        return Err("the kernel's (methods) is not a vector".into());
    };
    Ok(entries.iter().filter_map(method).collect())
}

fn get<'a>(map: &'a Value, key: &str) -> Option<&'a Value> {
    match map {
        Value::Map(m) => m.get(&Value::keyword(key)),
        _ => None,
    }
}

fn text<'a>(map: &'a Value, key: &str) -> Option<&'a str> {
    get(map, key)?.as_str()
}

fn method(entry: &Value) -> Option<Method> {
    let cap = text(entry, "cap")?;
    let method = text(entry, "method")?;
    if !plain(cap) || !plain(method) {
        return None;
    }
    let params = get(entry, "params")?
        .as_slice()?
        .iter()
        .map(|p| {
            Some((
                text(p, "name")?.to_string(),
                ww_glia::pr_str(get(p, "type")?),
            ))
        })
        .collect::<Option<Vec<_>>>()?;
    Some(Method {
        cap: cap.into(),
        method: method.into(),
        signature: text(entry, "signature").unwrap_or(method).into(),
        params,
    })
}

/// A name safe as a Glia symbol and in a tool's name.
pub fn plain(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
}

/// The tool for `m`.
pub fn tool(m: &Method) -> Tool {
    let properties: Map<String, Json> = m
        .params
        .iter()
        .map(|(name, ty)| (name.clone(), schema(&read_type(ty))))
        .collect();
    let required: Vec<Json> = m
        .params
        .iter()
        .map(|(n, _)| Json::from(n.as_str()))
        .collect();
    let input = json!({
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false,
    });
    let input = match input {
        Json::Object(map) => Arc::new(map),
        _ => Arc::new(Map::new()),
    };
    Tool::new(
        m.tool_name(),
        format!(
            "Call {}.{}: {}. Typed from the capability's schema; Data is hex digits, a \
             capability is given by its name.",
            m.cap, m.method, m.signature
        ),
        input,
    )
}

/// The range of an integer type.
fn int_range(ty: &str) -> Option<(i128, i128)> {
    Some(match ty {
        "Int8" => (i8::MIN.into(), i8::MAX.into()),
        "Int16" => (i16::MIN.into(), i16::MAX.into()),
        "Int32" => (i32::MIN.into(), i32::MAX.into()),
        "Int64" => (i64::MIN.into(), i64::MAX.into()),
        "UInt8" => (0, u8::MAX.into()),
        "UInt16" => (0, u16::MAX.into()),
        "UInt32" => (0, u32::MAX.into()),
        "UInt64" => (0, i64::MAX.into()),
        _ => return None,
    })
}

/// The JSON Schema of a type (as data).
fn schema(ty: &Value) -> Json {
    match ty {
        Value::Str(name) => match name.as_ref() {
            "Text" => json!({"type": "string"}),
            "Data" => json!({
                "type": "string",
                "pattern": "^([0-9a-fA-F]{2})*$",
                "description": "bytes, as hex digits (two a byte)",
            }),
            "Bool" => json!({"type": "boolean"}),
            "Float32" | "Float64" => json!({"type": "number"}),
            "Void" => json!({"type": "null"}),
            other => match int_range(other) {
                Some((min, max)) => json!({
                    "type": "integer",
                    "minimum": i64::try_from(min).unwrap_or(i64::MIN),
                    "maximum": i64::try_from(max).unwrap_or(i64::MAX),
                }),
                None => json!({"description": other}),
            },
        },
        map => {
            if let Some(element) = get(map, "list") {
                json!({"type": "array", "items": schema(element)})
            } else if let Some(name) = text(map, "struct") {
                let mut object = Map::new();
                object.insert("type".into(), json!("object"));
                object.insert("description".into(), json!(name));
                if let Some(fields) = get(map, "fields").and_then(Value::as_slice) {
                    let properties: Map<String, Json> = fields
                        .iter()
                        .filter_map(|f| {
                            Some((text(f, "name")?.to_string(), schema(get(f, "type")?)))
                        })
                        .collect();
                    object.insert("properties".into(), Json::Object(properties));
                    object.insert("additionalProperties".into(), json!(false));
                }
                json!({"anyOf": [Json::Object(object), {"type": "null"}]})
            } else if let Some(name) = text(map, "enum") {
                let values: Vec<Json> = get(map, "values")
                    .and_then(Value::as_slice)
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|v| Some(json!(v.as_str()?)))
                    .collect();
                json!({"type": "string", "enum": values, "description": name})
            } else if let Some(name) = text(map, "interface") {
                json!({
                    "type": "string",
                    "description": format!(
                        "the name of a capability (the caps tool lists them) of interface {name}"
                    ),
                })
            } else {
                json!({})
            }
        }
    }
}

/// The Glia source of calling `m` with the tool's `args`.
///
/// # Errors
///
/// What is wrong with an argument, naming it and its type.
pub fn source(m: &Method, args: Option<&Map<String, Json>>) -> Result<String, String> {
    let empty = Map::new();
    let args = args.unwrap_or(&empty);
    if let Some(unknown) = args.keys().find(|k| !m.params.iter().any(|(n, _)| n == *k)) {
        let names: Vec<&str> = m.params.iter().map(|(n, _)| n.as_str()).collect();
        return Err(format!(
            "{} has no parameter `{unknown}`; its parameters: {}",
            m.tool_name(),
            names.join(" ")
        ));
    }
    let mut call = vec![
        Value::symbol("call"),
        Value::symbol(&m.cap),
        Value::keyword(&m.method),
    ];
    if !m.params.is_empty() {
        let mut pairs = Vec::new();
        for (name, ty) in &m.params {
            // A parameter left out is left out of the map too: the shell
            // refuses the call, naming it and its type.
            if let Some(json) = args.get(name) {
                pairs.push((Value::keyword(name), value(name, &read_type(ty), json)?));
            }
        }
        call.push(Value::map(pairs));
    }
    Ok(ww_glia::pr_str(&Value::list(call)))
}

/// "`name` is Type: give what, got JSON".
fn refused(name: &str, ty: &str, want: &str, got: &Json) -> String {
    let mut shown = got.to_string();
    if shown.chars().count() > 60 {
        shown = shown.chars().take(57).collect::<String>() + "...";
    }
    format!("`{name}` is {ty}: give {want}, got {shown}")
}

/// The Glia value of `json` for a parameter or field of type `ty`.
fn value(name: &str, ty: &Value, json: &Json) -> Result<Value, String> {
    match ty {
        Value::Str(t) => match (t.as_ref(), json) {
            ("Text", Json::String(s)) => Ok(Value::str(s)),
            ("Text", other) => Err(refused(name, "Text", "a string", other)),
            ("Data", Json::String(s)) => ww_glia::reader::hex_bytes(s)
                .map(Value::bytes)
                .map_err(|why| format!("`{name}` is Data, given as hex digits: {why}")),
            ("Data", other) => Err(refused(name, "Data", "a string of hex digits", other)),
            ("Bool", Json::Bool(b)) => Ok(Value::Bool(*b)),
            ("Bool", other) => Err(refused(name, "Bool", "true or false", other)),
            ("Float32" | "Float64", Json::Number(n)) => n
                .as_f64()
                .map(Value::Float)
                .ok_or_else(|| refused(name, t, "a number", json)),
            ("Void", Json::Null) => Ok(Value::Nil),
            (other, Json::Number(n)) if int_range(other).is_some() => n
                .as_i64()
                .map(Value::Int)
                .ok_or_else(|| refused(name, other, "an integer", json)),
            (other, _) => Err(refused(name, other, "a value of that type", json)),
        },
        map => {
            if matches!(json, Json::Null)
                && (get(map, "list").is_some()
                    || get(map, "struct").is_some()
                    || get(map, "interface").is_some())
            {
                return Ok(Value::Nil);
            }
            if let Some(element) = get(map, "list") {
                let Json::Array(items) = json else {
                    return Err(refused(name, "a list", "an array", json));
                };
                let items = items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| value(&format!("{name}[{i}]"), element, item))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(Value::vector(items))
            } else if let Some(struct_name) = text(map, "struct") {
                let Json::Object(object) = json else {
                    return Err(refused(name, struct_name, "an object of its fields", json));
                };
                let fields = get(map, "fields")
                    .and_then(Value::as_slice)
                    .unwrap_or_default();
                let mut pairs = Vec::new();
                for (key, item) in object {
                    let field_ty = fields
                        .iter()
                        .find(|f| text(f, "name") == Some(key.as_str()))
                        .and_then(|f| get(f, "type"))
                        .ok_or_else(|| format!("`{name}` ({struct_name}) has no field `{key}`"))?;
                    pairs.push((
                        Value::keyword(key),
                        value(&format!("{name}.{key}"), field_ty, item)?,
                    ));
                }
                Ok(Value::map(pairs))
            } else if let Some(enum_name) = text(map, "enum") {
                match json {
                    Json::String(s) if plain(s) => Ok(Value::keyword(s)),
                    other => Err(refused(name, enum_name, "one of its values", other)),
                }
            } else if let Some(interface) = text(map, "interface") {
                match json {
                    Json::String(s) if plain(s) => Ok(Value::symbol(s)),
                    other => Err(refused(name, interface, "a capability's name", other)),
                }
            } else {
                Err(format!("`{name}`: the MCP tools cannot pass this type"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const METHODS: &str = r#"[{:cap "executor" :interface "Executor" :method "echo"
        :signature "echo(message :Text) -> (response :Text)"
        :params [{:name "message" :type "Text"}] :results [{:name "response" :type "Text"}]}
      {:cap "identity" :interface "Identity" :method "verify" :signature "verify(…)"
        :params [{:name "data" :type "Data"} {:name "n" :type "UInt8"}
                 {:name "limits" :type {:struct "Limits" :fields [{:name "cpuMillis" :type "UInt64"}]}}
                 {:name "caps" :type {:list {:interface "Host"}}}]
        :results []}
      {:cap "bad name" :method "x" :params []}]"#;

    fn methods() -> Vec<Method> {
        parse(METHODS).unwrap()
    }

    fn args(json: Json) -> Map<String, Json> {
        match json {
            Json::Object(map) => map,
            _ => panic!("not an object"),
        }
    }

    #[test]
    fn methods_become_tools_with_json_schemas() {
        let methods = methods();
        assert_eq!(methods.len(), 2, "a name that is not plain is left out");
        let echo = tool(&methods[0]);
        assert_eq!(echo.name, "executor_echo");
        assert_eq!(
            Json::Object((*echo.input_schema).clone()),
            json!({
                "type": "object",
                "properties": {"message": {"type": "string"}},
                "required": ["message"],
                "additionalProperties": false,
            })
        );
        let verify = Json::Object((*tool(&methods[1]).input_schema).clone());
        assert_eq!(verify["properties"]["n"]["maximum"], 255);
        assert_eq!(
            verify["properties"]["data"]["pattern"],
            "^([0-9a-fA-F]{2})*$"
        );
        assert_eq!(verify["properties"]["caps"]["type"], "array");
        assert_eq!(
            verify["properties"]["limits"]["anyOf"][0]["properties"]["cpuMillis"]["type"],
            "integer"
        );
    }

    #[test]
    fn arguments_become_a_call_by_their_types() {
        let methods = methods();
        assert_eq!(
            source(&methods[0], Some(&args(json!({"message": "hi \"you\""})))).unwrap(),
            r#"(call executor :echo {:message "hi \"you\""})"#
        );
        assert_eq!(
            source(
                &methods[1],
                Some(&args(json!({
                    "data": "0aff", "n": 7, "limits": {"cpuMillis": 5}, "caps": ["host"]
                })))
            )
            .unwrap(),
            r#"(call identity :verify {:caps [host], :data #bytes "0a ff", :limits {:cpuMillis 5}, :n 7})"#
        );
    }

    #[test]
    fn bad_arguments_are_refused_naming_the_parameter() {
        let methods = methods();
        let refuse = |m: &Method, a: Json| source(m, Some(&args(a))).unwrap_err();
        assert_eq!(
            refuse(&methods[0], json!({"message": 42})),
            "`message` is Text: give a string, got 42"
        );
        assert!(refuse(&methods[0], json!({"nope": 1})).contains("no parameter `nope`"));
        assert!(refuse(&methods[1], json!({"data": "zz"})).contains("`data` is Data"));
        assert!(refuse(&methods[1], json!({"caps": ["(exit)"]})).contains("`caps[0]` is Host"));
        assert!(refuse(&methods[1], json!({"limits": {"x": 1}})).contains("no field `x`"));
    }
}
