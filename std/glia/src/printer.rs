//! The printer: values to text.
//!
//! [`pr_str`] prints readably (strings quoted and escaped, bytes as
//! `#bytes "0a ff"` whatever they hold), as the REPL shows results; [`print_str`] prints a top-level string as its raw text,
//! as `str` and `println` do. Reading what `pr_str` printed gives back an
//! equal value, for data (functions and capabilities print as `#<…>`).
//!
//! Nesting deeper than [`MAX_DEPTH`] prints as `…` instead of
//! overflowing the stack.

use std::fmt::Write;

use crate::value::Value;

/// How deep the printer goes into nested collections.
pub const MAX_DEPTH: usize = 512;

/// The readable form of `v`.
pub fn pr_str(v: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, v, 0);
    out
}

/// `v` as `str` and `println` show it: a string as its text, anything else
/// readably.
pub fn print_str(v: &Value) -> String {
    match v {
        Value::Str(s) => s.to_string(),
        other => pr_str(other),
    }
}

fn write_float(out: &mut String, f: f64) {
    if f.is_nan() {
        out.push_str("##NaN");
    } else if f.is_infinite() {
        out.push_str(if f > 0.0 { "##Inf" } else { "##-Inf" });
    } else {
        let _ = write!(out, "{f:?}");
    }
}

fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\0' => out.push_str("\\0"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// `#bytes "0a ff"`: two hex digits a byte, a space between bytes, the
/// same whatever the bytes hold (text or not), as the reader reads it.
fn write_bytes(out: &mut String, bytes: &[u8]) {
    out.push_str("#bytes \"");
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let _ = write!(out, "{b:02x}");
    }
    out.push('"');
}

fn write_seq<'a>(
    out: &mut String,
    open: &str,
    close: &str,
    sep: &str,
    items: impl Iterator<Item = &'a Value>,
    depth: usize,
) {
    out.push_str(open);
    for (i, item) in items.enumerate() {
        if i > 0 {
            out.push_str(sep);
        }
        write_value(out, item, depth + 1);
    }
    out.push_str(close);
}

fn write_value(out: &mut String, v: &Value, depth: usize) {
    if depth > MAX_DEPTH {
        out.push('…');
        return;
    }
    match v {
        Value::Nil => out.push_str("nil"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Value::Float(f) => write_float(out, *f),
        Value::Str(s) => write_string(out, s),
        Value::Bytes(b) => write_bytes(out, b),
        Value::Keyword(k) => {
            out.push(':');
            out.push_str(k);
        }
        Value::Symbol(s) => out.push_str(s),
        Value::List(items) => write_seq(out, "(", ")", " ", items.iter(), depth),
        Value::Vector(items) => write_seq(out, "[", "]", " ", items.iter(), depth),
        Value::Set(items) => write_seq(out, "#{", "}", " ", items.iter(), depth),
        Value::Map(map) => {
            out.push('{');
            for (i, (k, v)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_value(out, k, depth + 1);
                out.push(' ');
                write_value(out, v, depth + 1);
            }
            out.push('}');
        }
        Value::Fn(f) => match f.name() {
            Some(name) => {
                let _ = write!(out, "#<fn {name}>");
            }
            None => out.push_str("#<fn>"),
        },
        Value::Native(n) => {
            let _ = write!(out, "#<builtin {}>", n.name());
        }
        Value::Cap(c) => {
            let _ = write!(out, "#<cap {}>", c.name());
        }
    }
}

#[cfg(test)]
mod tests;
