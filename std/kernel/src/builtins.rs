//! The shell's own commands: `cd`, `pwd`, `help`, `caps`, `methods`,
//! `call`, `grant`, `exit`.

use std::rc::Rc;

use ww_glia::{Arity, Error, Value};

use crate::dynamic::DynCap;
use crate::listing;
use crate::session::Session;

const HELP: &str = "\
Glia shell: capabilities are values.
  (host id)                      call a method: (CAP METHOD ARGS…)
  (executor echo \"hi\")           arguments fill the method's parameters in order,
  (call cap :method {:arg …})    or by name from a map; every parameter is given,
                                 of its type: Text a string, Data bytes, …
  #bytes \"0a ff\" (bytes \"hi\")    bytes (Data), never text; (utf8 b) reads them as text
  (caps)                         every capability with its methods and their types
  (doc cap) (doc f)              a capability's methods, a function's description
  (cd \"/bin\") (pwd)              the working directory
  (NAME args…)                   runs NAME from PATH (default /bin) as a child cell
  (exit) (exit 3)                end the shell with a status
";

/// Binds the built-ins on the session's interpreter.
pub fn install(session: &Rc<Session>) {
    let glia = &session.glia;
    let weak = Rc::downgrade(session);
    let s = weak.clone();
    glia.define_fn(
        "cd",
        "(cd path?): changes the working directory (\"/\" without a path).",
        Arity::between(0, 1),
        move |_, args| {
            let session = s.upgrade().ok_or_else(gone)?;
            let path = match args.first() {
                None => "/".to_string(),
                Some(Value::Str(p)) => session.absolute(p),
                Some(other) => return Err(Error::type_error("cd", "a path string", other)),
            };
            match std::fs::metadata(&path) {
                Ok(m) if m.is_dir() => {
                    *session.cwd.borrow_mut() = path.clone();
                    Ok(Value::str(path))
                }
                Ok(_) => Err(Error::Native(format!("cd: {path} is not a directory"))),
                Err(_) => Err(Error::Native(format!(
                    "cd: no directory {path} in this node's image"
                ))),
            }
        },
    );
    let s = weak.clone();
    glia.define_fn(
        "pwd",
        "(pwd): the working directory.",
        Arity::exactly(0),
        move |_, _| {
            let session = s.upgrade().ok_or_else(gone)?;
            let cwd = session.cwd.borrow().clone();
            Ok(Value::str(cwd))
        },
    );
    let s = weak.clone();
    glia.define_fn(
        "help",
        "(help): how to use the shell, and the capabilities with their methods' types.",
        Arity::exactly(0),
        move |glia, _| {
            let session = s.upgrade().ok_or_else(gone)?;
            glia.write(HELP);
            glia.write("\n");
            glia.write(&listing(&session));
            Ok(Value::Nil)
        },
    );
    let s = weak.clone();
    glia.define_fn(
        "caps",
        "(caps): lists every capability: name, interface, methods with their parameter and result types.",
        Arity::exactly(0),
        move |glia, _| {
            let session = s.upgrade().ok_or_else(gone)?;
            glia.write(&listing(&session));
            Ok(Value::Nil)
        },
    );
    glia.define_fn(
        "methods",
        "(methods): every capability method as data, [{:cap :interface :method :signature :params :results} …], \
         parameter and result types as the schema gives them; for programs that build calls.",
        Arity::exactly(0),
        |glia, _| {
            let mut table = Vec::new();
            for (name, cap) in glia.caps() {
                let Some(dynamic) = cap.as_any().and_then(|a| a.downcast_ref::<DynCap>()) else {
                    continue;
                };
                for entry in dynamic.method_table() {
                    let Value::Map(fields) = &entry else { continue };
                    let mut fields = (**fields).clone();
                    fields.insert(Value::keyword("cap"), Value::str(&name));
                    fields.insert(Value::keyword("interface"), Value::str(dynamic.interface_name()));
                    table.push(Value::Map(Rc::new(fields)));
                }
            }
            Ok(Value::vector(table))
        },
    );
    glia.define_async_fn(
        "call",
        "(call cap :method args…): calls a method by name; cap is a capability or its name.",
        Arity::at_least(2),
        |glia, args| {
            Box::pin(async move {
                let mut args = args.into_iter();
                let first = args.next();
                let cap = match &first {
                    Some(v @ Value::Cap(_)) => v.clone(),
                    Some(Value::Str(n) | Value::Symbol(n) | Value::Keyword(n)) => {
                        match glia.lookup(n) {
                            Some(v @ Value::Cap(_)) => v,
                            _ => {
                                return Err(Error::Native(format!("call: no capability named {n}")))
                            }
                        }
                    }
                    Some(other) => return Err(Error::type_error("call", "a capability", other)),
                    None => return Err(Error::Native("call: no capability".into())),
                };
                glia.apply(&cap, args.collect()).await
            })
        },
    );
    let s = weak;
    glia.define_fn(
        "grant",
        "(grant \"service\" cap…): the capabilities svc/<service> is started with.",
        Arity::at_least(1),
        move |_, args| {
            let session = s.upgrade().ok_or_else(gone)?;
            let service = match &args[0] {
                Value::Str(n) => n.to_string(),
                other => return Err(Error::type_error("grant", "a service name", other)),
            };
            let names = args[1..]
                .iter()
                .map(|a| match a {
                    Value::Cap(c) => Ok(c.name().to_string()),
                    Value::Str(n) | Value::Keyword(n) | Value::Symbol(n) => Ok(n.to_string()),
                    other => Err(Error::type_error("grant", "a capability", other)),
                })
                .collect::<Result<Vec<_>, _>>()?;
            let mut grants = session.grants.borrow_mut();
            grants.retain(|(n, _)| *n != service);
            grants.push((service, names));
            Ok(Value::Nil)
        },
    );
    glia.define_fn(
        "exit",
        "(exit code?): ends the shell, and pid0 with it, with status code (0).",
        Arity::between(0, 1),
        |_, args| match args.first() {
            None => Err(Error::Exit(0)),
            Some(Value::Int(code)) if (0..=255).contains(code) => Err(Error::Exit(*code as i32)),
            Some(other) => Err(Error::type_error("exit", "a status from 0 to 255", other)),
        },
    );
}

/// The session's capabilities, as `(caps)` and `(help)` list them.
fn listing(session: &Session) -> String {
    let epoch = session.caps().map(|c| c.epoch()).unwrap_or(0);
    let rows: Vec<listing::Row> = session
        .glia
        .caps()
        .into_iter()
        .map(|(name, cap)| {
            let dynamic = cap.as_any().and_then(|a| a.downcast_ref::<DynCap>());
            listing::Row {
                name,
                interface: dynamic.map_or("?".into(), DynCap::interface_name),
                methods: dynamic.map_or_else(|| cap.methods(), DynCap::signatures),
            }
        })
        .collect();
    listing::render(epoch, &rows)
}

fn gone() -> Error {
    Error::Native("the shell session has ended".into())
}
