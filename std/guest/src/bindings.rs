//! Generated bindings for the `cell` world: `wetware:rpc/transport` and the
//! `wasi:io` interfaces its streams come from. Private: the rest of the crate
//! wraps them in [`crate::io`] and [`crate::vat`].

wit_bindgen::generate!({
    world: "cell",
    path: "../../wit/rpc",
    generate_all,
});

pub(crate) use wasi::io::poll::{poll, Pollable};
pub(crate) use wasi::io::streams::{InputStream, OutputStream, StreamError};
pub(crate) use wetware::rpc::transport;
