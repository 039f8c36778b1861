//! Bytes: `(bytes x)` makes them, `(utf8 b)` reads them as text, `(hex b)`
//! spells them. Bytes are a kind of their own, never a string: what a
//! capability returns as `Data` stays bytes whatever it holds, and a
//! `Data` parameter takes bytes only, so text is turned into bytes (and
//! back) only where the code says so.

use super::{elements, int};
use crate::error::Error;
use crate::eval::Interpreter;
use crate::reader::hex_bytes;
use crate::value::{Arity, Value};

/// `(bytes x)`: a string's UTF-8 encoding, a collection of integers from 0
/// to 255, or bytes as they are.
fn bytes(_: &Interpreter, args: &[Value]) -> Result<Value, Error> {
    match &args[0] {
        Value::Bytes(_) => Ok(args[0].clone()),
        Value::Str(s) => Ok(Value::bytes(s.as_bytes())),
        v @ (Value::Nil | Value::List(_) | Value::Vector(_)) => {
            let mut out = Vec::new();
            for item in elements("bytes", v)? {
                let n = int("bytes", &item)?;
                let byte = u8::try_from(n)
                    .map_err(|_| Error::Native(format!("bytes: {n} is not a byte (0 to 255)")))?;
                out.push(byte);
            }
            Ok(Value::bytes(out))
        }
        other => Err(Error::type_error(
            "bytes",
            "a string, a vector of integers 0-255, or bytes",
            other,
        )),
    }
}

/// `(utf8 b)`: the text the bytes encode, refused when they are not UTF-8.
fn utf8(_: &Interpreter, args: &[Value]) -> Result<Value, Error> {
    let Value::Bytes(b) = &args[0] else {
        return Err(Error::type_error("utf8", "bytes", &args[0]));
    };
    match std::str::from_utf8(b) {
        Ok(text) => Ok(Value::str(text)),
        Err(e) => Err(Error::Native(format!(
            "utf8: the bytes are not UTF-8 text (byte {} is not); (hex b) or (vec b) shows them",
            e.valid_up_to()
        ))),
    }
}

/// `(hex b)`: the bytes as hex digits, or, given a string of hex digits,
/// the bytes it spells.
fn hex(_: &Interpreter, args: &[Value]) -> Result<Value, Error> {
    match &args[0] {
        Value::Bytes(b) => Ok(Value::str(
            b.iter().map(|x| format!("{x:02x}")).collect::<String>(),
        )),
        Value::Str(s) => hex_bytes(s)
            .map(Value::bytes)
            .map_err(|why| Error::Native(format!("hex: {why}"))),
        other => Err(Error::type_error(
            "hex",
            "bytes or a string of hex digits",
            other,
        )),
    }
}

pub(super) fn install(i: &Interpreter) {
    let one = Arity::exactly(1);
    i.define_fn(
        "bytes",
        "(bytes x): bytes from a string (its UTF-8), a vector of integers 0-255, or bytes. \
         Literal bytes are written #bytes \"0a ff\".",
        one,
        bytes,
    );
    i.define_fn(
        "utf8",
        "(utf8 b): the text that bytes b encode in UTF-8; an error when they are not text.",
        one,
        utf8,
    );
    i.define_fn(
        "hex",
        "(hex b): bytes as a string of hex digits; (hex \"0aff\"): the bytes those digits spell.",
        one,
        hex,
    );
    i.define_fn("bytes?", "(bytes? x): true for bytes.", one, |_, a| {
        Ok(Value::Bool(matches!(a[0], Value::Bytes(_))))
    });
}
