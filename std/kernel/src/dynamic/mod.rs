//! Capabilities as Glia values, called through their schema nodes.
//!
//! The kernel is compiled against no provider's interface: every call,
//! `(host id)` as much as a third party's `(fixture ping 41)`, finds the
//! method in the interface node the graft carried, builds the parameter
//! struct from the arguments ([`encode`]) and reads the results back into
//! values ([`decode`]). Capabilities in results come back as values too,
//! typed by their own nodes, so `((identity signer "d") sign …)` works.
//! A method an interface hands out through a sub-capability is reachable
//! directly ([`facet`]): `(ipfs cat p)` is `((ipfs unixfs) cat p)`. The
//! same nodes type the calls ([`types`]): listings show each parameter's
//! and result's type, and arguments are checked against them.

mod decode;
mod encode;
mod facet;
mod raw;
pub mod types;

use std::cell::{Cell, OnceCell};
use std::rc::Rc;

use capnp::any_pointer;
use capnp::schema_capnp::node;
use ww_glia::{Capability, Error, Value, ValueFuture};

use crate::schemas::{Node, Schemas};

/// What every dynamic capability shares: the schemas, and a flag raised
/// when a call fails because the epoch ended (the shell grafts again).
#[derive(Clone)]
pub struct Ctx {
    /// Nodes by id.
    pub schemas: Rc<Schemas>,
    /// Set when a call failed with `staleEpoch`.
    pub stale: Rc<Cell<bool>>,
    /// Set when a call failed with `providerDown`: the next command grafts
    /// first, so it gets the restarted provider's capabilities.
    pub down: Rc<Cell<bool>>,
}

/// A capability whose interface is known only from its schema node.
pub struct DynCap {
    ctx: Ctx,
    name: String,
    client: capnp::capability::Client,
    interface: Option<Node>,
    /// Methods reached through facets, found once (the schema is fixed).
    routes: OnceCell<Vec<facet::Route>>,
}

impl DynCap {
    /// `client`, an instance of the interface `interface`, shown as `name`.
    pub fn new(ctx: Ctx, name: &str, client: capnp::capability::Client, interface: Node) -> DynCap {
        DynCap {
            ctx,
            name: name.to_string(),
            client,
            interface: Some(interface),
            routes: OnceCell::new(),
        }
    }

    /// A capability of unknown interface (an `AnyPointer` result): it can be
    /// passed on, not called.
    pub fn untyped(ctx: Ctx, name: &str, client: capnp::capability::Client) -> DynCap {
        DynCap {
            ctx,
            name: name.to_string(),
            client,
            interface: None,
            routes: OnceCell::new(),
        }
    }

    /// The Cap'n Proto client.
    pub fn client(&self) -> &capnp::capability::Client {
        &self.client
    }

    /// The id of its interface, when known.
    pub fn interface_id(&self) -> Option<u64> {
        Some(self.interface.as_ref()?.get().ok()?.get_id())
    }

    /// The interface's short name (`Host`), or `?`.
    pub fn interface_name(&self) -> String {
        self.interface
            .as_ref()
            .and_then(|n| Some(ww_capnp::schema::short_name(n.get().ok()?)))
            .unwrap_or_else(|| "?".into())
    }

    /// Each method as `name(param :Type, …) -> (result :Type, …)`, for
    /// `help`, `doc` and `caps`.
    pub fn signatures(&self) -> Vec<String> {
        self.methods()
            .into_iter()
            .map(|m| self.describe(&m).unwrap_or(m))
            .collect()
    }

    /// Each method as data, `{:method "echo" :signature "echo(…) -> (…)"
    /// :params [{:name … :type …}] :results […]}` (see [`types::fields_data`]),
    /// for front ends that build calls themselves.
    pub fn method_table(&self) -> Vec<Value> {
        self.methods()
            .into_iter()
            .filter_map(|method| {
                let found = match self.route(&method) {
                    Some(route) => find_method(&route.interface, &method),
                    None => find_method(self.interface.as_ref()?, &method),
                };
                let (_, _, params, results) = found.ok()?;
                let schemas = &self.ctx.schemas;
                Some(Value::map([
                    (
                        Value::keyword("signature"),
                        Value::str(self.describe(&method).unwrap_or_else(|| method.clone())),
                    ),
                    (
                        Value::keyword("params"),
                        types::fields_data(schemas, params, 0),
                    ),
                    (
                        Value::keyword("results"),
                        types::fields_data(schemas, results, 0),
                    ),
                    (Value::keyword("method"), Value::str(method)),
                ]))
            })
            .collect()
    }

    fn method(&self, name: &str) -> capnp::Result<(u64, u16, u64, u64)> {
        let iface = self
            .interface
            .as_ref()
            .ok_or_else(|| capnp::Error::failed("its interface is unknown".into()))?;
        find_method(iface, name)
    }
}

impl Capability for DynCap {
    fn name(&self) -> &str {
        &self.name
    }

    fn methods(&self) -> Vec<String> {
        let Some(node) = self.interface.as_ref().and_then(|n| n.get().ok()) else {
            return Vec::new();
        };
        let mut names = ww_capnp::schema::method_names(node);
        names.extend(self.routes().iter().map(|r| r.method.clone()));
        names
    }

    fn describe(&self, method: &str) -> Option<String> {
        let (signature, through) = match self.route(method) {
            Some(route) => (find_method(&route.interface, method), Some(&route.facet)),
            None => (find_method(self.interface.as_ref()?, method), None),
        };
        let (_, _, params, results) = signature.ok()?;
        let described = format!(
            "{method}{} -> {}",
            types::show_all(&types::params(&self.ctx.schemas, params)),
            types::show_all(&types::params(&self.ctx.schemas, results))
        );
        Some(match through {
            Some(facet) => format!("{described}, through {facet}"),
            None => described,
        })
    }

    fn call(&self, method: &str, args: Vec<Value>) -> ValueFuture {
        match self.route(method) {
            Some(route) => self.call_through(route, method, args),
            None => self.call_own(method, args),
        }
    }

    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}

impl DynCap {
    /// The methods reached through facets.
    fn routes(&self) -> &[facet::Route] {
        self.routes.get_or_init(
            || match self.interface.as_ref().and_then(|n| n.get().ok()) {
                Some(node) => facet::routes(&self.ctx.schemas, node),
                None => Vec::new(),
            },
        )
    }

    /// The facet that serves `method`, which the interface lacks.
    fn route(&self, method: &str) -> Option<&facet::Route> {
        self.routes().iter().find(|r| r.method == method)
    }

    /// Gets the facet, then calls `method` on it.
    fn call_through(&self, route: &facet::Route, method: &str, args: Vec<Value>) -> ValueFuture {
        let get = self.call_own(&route.facet, Vec::new());
        let facet = route.facet.clone();
        let method = method.to_string();
        Box::pin(async move {
            match get.await? {
                Value::Cap(ref facet) => facet.call(&method, args).await,
                other => Err(Error::Capability {
                    cap: facet,
                    method,
                    message: format!("the facet gave {}, not a capability", other.type_name()),
                }),
            }
        })
    }

    fn call_own(&self, method: &str, args: Vec<Value>) -> ValueFuture {
        let ctx = self.ctx.clone();
        let cap = self.name.clone();
        let method = method.to_string();
        let found = self.method(&method);
        let client = self.client.clone();
        Box::pin(async move {
            let failed = |e: capnp::Error| {
                if ww_guest::stale_epoch(&e).is_some() {
                    ctx.stale.set(true);
                }
                if ww_guest::provider_down(&e) {
                    ctx.down.set(true);
                }
                Error::Capability {
                    cap: cap.clone(),
                    method: method.clone(),
                    message: e.extra.clone(),
                }
            };
            let (iface, ordinal, params_id, results_id) = found.map_err(&failed)?;
            let mut request =
                client.new_call::<any_pointer::Owned, any_pointer::Owned>(iface, ordinal, None);
            {
                let params: Node = ctx.schemas.node(params_id).map_err(&failed)?;
                let params = params.get().map_err(&failed)?;
                let size = encode::size(params).map_err(&failed)?;
                let root = request.get().init_as::<raw::PtrBuilder>();
                let sb = root.0.init_struct(size);
                encode::write_args(&ctx, params, sb, &args).map_err(|e| Error::Argument {
                    cap: cap.clone(),
                    method: method.clone(),
                    message: e.0,
                })?;
            }
            let response = request.send().promise.await.map_err(&failed)?;
            let results: Node = ctx.schemas.node(results_id).map_err(&failed)?;
            let read = || -> capnp::Result<Value> {
                let root = response.get()?.get_as::<raw::PtrReader>()?;
                let sr = root.0.get_struct(None)?;
                decode::read_results(&ctx, results.get()?, sr)
            };
            read().map_err(&failed)
        })
    }
}

/// `name` in the interface `iface`: the interface id, the method's ordinal,
/// and its parameter and result struct ids.
fn find_method(iface: &Node, name: &str) -> capnp::Result<(u64, u16, u64, u64)> {
    let node = iface.get()?;
    let node::Interface(i) = node.which()? else {
        return Err(capnp::Error::failed("not an interface".into()));
    };
    for (ordinal, m) in i.get_methods()?.iter().enumerate() {
        if m.get_name()?.to_str()? == name {
            return Ok((
                node.get_id(),
                ordinal as u16,
                m.get_param_struct_type(),
                m.get_result_struct_type(),
            ));
        }
    }
    Err(capnp::Error::failed(format!("no method `{name}`")))
}
