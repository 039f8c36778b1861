//! Arithmetic and comparison.
//!
//! Integers stay integers until a float joins in; integer overflow is an
//! error, never a wrap. `/` of two integers is an integer when it divides
//! exactly and a float otherwise (Glia has no ratios). Dividing by zero,
//! integer or float, is an error.

use std::cmp::Ordering;

use crate::error::Error;
use crate::eval::Interpreter;
use crate::value::{Arity, Value};

#[derive(Clone, Copy)]
enum Num {
    Int(i64),
    Float(f64),
}

impl Num {
    fn of(name: &str, v: &Value) -> Result<Num, Error> {
        match v {
            Value::Int(i) => Ok(Num::Int(*i)),
            Value::Float(f) => Ok(Num::Float(*f)),
            other => Err(Error::type_error(name, "a number", other)),
        }
    }

    fn float(self) -> f64 {
        match self {
            Num::Int(i) => i as f64,
            Num::Float(f) => f,
        }
    }

    fn is_zero(self) -> bool {
        match self {
            Num::Int(i) => i == 0,
            Num::Float(f) => f == 0.0,
        }
    }

    fn value(self) -> Value {
        match self {
            Num::Int(i) => Value::Int(i),
            Num::Float(f) => Value::Float(f),
        }
    }
}

/// Applies an integer op (checked) or a float op, promoting as needed.
fn arith(
    name: &str,
    a: Num,
    b: Num,
    int: fn(i64, i64) -> Option<i64>,
    float: fn(f64, f64) -> f64,
) -> Result<Num, Error> {
    match (a, b) {
        (Num::Int(x), Num::Int(y)) => int(x, y)
            .map(Num::Int)
            .ok_or_else(|| Error::Overflow(name.into())),
        _ => Ok(Num::Float(float(a.float(), b.float()))),
    }
}

fn fold(
    name: &str,
    args: &[Value],
    identity: i64,
    int: fn(i64, i64) -> Option<i64>,
    float: fn(f64, f64) -> f64,
) -> Result<Value, Error> {
    let mut acc = Num::Int(identity);
    for a in args {
        acc = arith(name, acc, Num::of(name, a)?, int, float)?;
    }
    Ok(acc.value())
}

fn add(_: &Interpreter, args: &[Value]) -> Result<Value, Error> {
    fold("+", args, 0, i64::checked_add, |a, b| a + b)
}

fn mul(_: &Interpreter, args: &[Value]) -> Result<Value, Error> {
    fold("*", args, 1, i64::checked_mul, |a, b| a * b)
}

fn sub(_: &Interpreter, args: &[Value]) -> Result<Value, Error> {
    let first = Num::of("-", &args[0])?;
    if args.len() == 1 {
        return arith("-", Num::Int(0), first, i64::checked_sub, |a, b| a - b).map(Num::value);
    }
    let mut acc = first;
    for a in &args[1..] {
        acc = arith("-", acc, Num::of("-", a)?, i64::checked_sub, |a, b| a - b)?;
    }
    Ok(acc.value())
}

fn divide(a: Num, b: Num) -> Result<Num, Error> {
    if b.is_zero() {
        return Err(Error::DivideByZero);
    }
    match (a, b) {
        (Num::Int(x), Num::Int(y)) => match x.checked_rem(y) {
            Some(0) => x
                .checked_div(y)
                .map(Num::Int)
                .ok_or_else(|| Error::Overflow("/".into())),
            Some(_) => Ok(Num::Float(x as f64 / y as f64)),
            None => Err(Error::Overflow("/".into())),
        },
        _ => Ok(Num::Float(a.float() / b.float())),
    }
}

fn div(_: &Interpreter, args: &[Value]) -> Result<Value, Error> {
    let first = Num::of("/", &args[0])?;
    if args.len() == 1 {
        return divide(Num::Int(1), first).map(Num::value);
    }
    let mut acc = first;
    for a in &args[1..] {
        acc = divide(acc, Num::of("/", a)?)?;
    }
    Ok(acc.value())
}

/// `quot`, `rem` and `mod` share the zero check and the promotion.
fn integer_division(
    name: &str,
    args: &[Value],
    int: fn(i64, i64) -> Option<i64>,
    float: fn(f64, f64) -> f64,
) -> Result<Value, Error> {
    let a = Num::of(name, &args[0])?;
    let b = Num::of(name, &args[1])?;
    if b.is_zero() {
        return Err(Error::DivideByZero);
    }
    arith(name, a, b, int, float).map(Num::value)
}

fn modulo(_: &Interpreter, args: &[Value]) -> Result<Value, Error> {
    integer_division(
        "mod",
        args,
        |a, b| {
            let r = a.checked_rem(b)?;
            Some(if r != 0 && (r < 0) != (b < 0) {
                r + b
            } else {
                r
            })
        },
        |a, b| {
            let r = a % b;
            if r != 0.0 && (r < 0.0) != (b < 0.0) {
                r + b
            } else {
                r
            }
        },
    )
}

fn quot(_: &Interpreter, args: &[Value]) -> Result<Value, Error> {
    integer_division("quot", args, i64::checked_div, |a, b| (a / b).trunc())
}

fn rem(_: &Interpreter, args: &[Value]) -> Result<Value, Error> {
    integer_division("rem", args, i64::checked_rem, |a, b| a % b)
}

fn compare(name: &str, a: &Value, b: &Value) -> Result<Ordering, Error> {
    let (a, b) = (Num::of(name, a)?, Num::of(name, b)?);
    Ok(match (a, b) {
        (Num::Int(x), Num::Int(y)) => x.cmp(&y),
        _ => a.float().partial_cmp(&b.float()).unwrap_or(Ordering::Less),
    })
}

fn chain(name: &str, args: &[Value], ok: fn(Ordering) -> bool) -> Result<Value, Error> {
    for a in args {
        Num::of(name, a)?;
    }
    for pair in args.windows(2) {
        if !ok(compare(name, &pair[0], &pair[1])?) {
            return Ok(Value::Bool(false));
        }
    }
    Ok(Value::Bool(true))
}

fn extreme(name: &str, args: &[Value], keep: Ordering) -> Result<Value, Error> {
    let mut best = &args[0];
    Num::of(name, best)?;
    for a in &args[1..] {
        if compare(name, a, best)? == keep {
            best = a;
        }
    }
    Ok(best.clone())
}

pub(super) fn install(i: &Interpreter) {
    let any = Arity::at_least(0);
    let some = Arity::at_least(1);
    i.define_fn("+", "(+ x …): the sum of the numbers; (+) is 0.", any, add);
    i.define_fn(
        "*",
        "(* x …): the product of the numbers; (*) is 1.",
        any,
        mul,
    );
    i.define_fn(
        "-",
        "(- x y …): x minus the rest; (- x) negates x.",
        some,
        sub,
    );
    i.define_fn(
        "/",
        "(/ x y …): x divided by the rest; (/ x) is 1/x. Integers divide to an integer when exact, to a float otherwise. Dividing by zero is an error.",
        some,
        div,
    );
    i.define_fn(
        "mod",
        "(mod n d): n modulo d, with the sign of d.",
        Arity::exactly(2),
        modulo,
    );
    i.define_fn(
        "quot",
        "(quot n d): n divided by d, rounded toward zero.",
        Arity::exactly(2),
        quot,
    );
    i.define_fn(
        "rem",
        "(rem n d): the remainder of n divided by d, with the sign of n.",
        Arity::exactly(2),
        rem,
    );
    i.define_fn("inc", "(inc x): x plus one.", Arity::exactly(1), |_, a| {
        arith(
            "inc",
            Num::of("inc", &a[0])?,
            Num::Int(1),
            i64::checked_add,
            |a, b| a + b,
        )
        .map(Num::value)
    });
    i.define_fn("dec", "(dec x): x minus one.", Arity::exactly(1), |_, a| {
        arith(
            "dec",
            Num::of("dec", &a[0])?,
            Num::Int(1),
            i64::checked_sub,
            |a, b| a - b,
        )
        .map(Num::value)
    });
    i.define_fn(
        "abs",
        "(abs x): the absolute value of x.",
        Arity::exactly(1),
        |_, a| match Num::of("abs", &a[0])? {
            Num::Int(x) => x
                .checked_abs()
                .map(Value::Int)
                .ok_or_else(|| Error::Overflow("abs".into())),
            Num::Float(f) => Ok(Value::Float(f.abs())),
        },
    );
    i.define_fn("max", "(max x …): the greatest number.", some, |_, a| {
        extreme("max", a, Ordering::Greater)
    });
    i.define_fn("min", "(min x …): the least number.", some, |_, a| {
        extreme("min", a, Ordering::Less)
    });
    i.define_fn(
        "<",
        "(< x y …): true if the numbers increase.",
        some,
        |_, a| chain("<", a, Ordering::is_lt),
    );
    i.define_fn(
        ">",
        "(> x y …): true if the numbers decrease.",
        some,
        |_, a| chain(">", a, Ordering::is_gt),
    );
    i.define_fn(
        "<=",
        "(<= x y …): true if the numbers never decrease.",
        some,
        |_, a| chain("<=", a, Ordering::is_le),
    );
    i.define_fn(
        ">=",
        "(>= x y …): true if the numbers never increase.",
        some,
        |_, a| chain(">=", a, Ordering::is_ge),
    );
    i.define_fn(
        "==",
        "(== x y …): true if the numbers are equal, across integers and floats: (== 1 1.0) is true.",
        some,
        |_, a| chain("==", a, Ordering::is_eq),
    );
    i.define_fn(
        "=",
        "(= x y …): true if the values are equal. Lists equal vectors with the same elements; (= 1 1.0) is false (see ==).",
        some,
        |_, a| Ok(Value::Bool(a.windows(2).all(|p| p[0] == p[1]))),
    );
    i.define_fn(
        "not=",
        "(not= x y …): (not (= x y …)).",
        some,
        |_, a| Ok(Value::Bool(!a.windows(2).all(|p| p[0] == p[1]))),
    );
    i.define_fn(
        "odd?",
        "(odd? n): true if the integer n is odd.",
        Arity::exactly(1),
        |_, a| Ok(Value::Bool(super::int("odd?", &a[0])? % 2 != 0)),
    );
    i.define_fn(
        "even?",
        "(even? n): true if the integer n is even.",
        Arity::exactly(1),
        |_, a| Ok(Value::Bool(super::int("even?", &a[0])? % 2 == 0)),
    );
    i.define_fn(
        "zero?",
        "(zero? x): true if the number x is 0.",
        Arity::exactly(1),
        |_, a| Ok(Value::Bool(Num::of("zero?", &a[0])?.is_zero())),
    );
    i.define_fn(
        "pos?",
        "(pos? x): true if the number x is greater than 0.",
        Arity::exactly(1),
        |_, a| Ok(Value::Bool(Num::of("pos?", &a[0])?.float() > 0.0)),
    );
    i.define_fn(
        "neg?",
        "(neg? x): true if the number x is less than 0.",
        Arity::exactly(1),
        |_, a| Ok(Value::Bool(Num::of("neg?", &a[0])?.float() < 0.0)),
    );
    i.define_fn(
        "not",
        "(not x): true if x is nil or false.",
        Arity::exactly(1),
        |_, a| Ok(Value::Bool(!a[0].truthy())),
    );
}
