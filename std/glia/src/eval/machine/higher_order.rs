//! The core functions that call functions (`map`, `filter`, `remove`,
//! `reduce`, `every?`, `some`, `apply`), run by the machine so that a Glia
//! function they call runs on the same stack, not on a nested machine.

use super::{done, fail, Kont, Machine, Step};
use crate::core::elements;
use crate::error::Error;
use crate::value::{Hof, Value};

/// A core function that calls `f` for each element: `colls[..][i]` is
/// being called.
pub(super) struct Each {
    hof: Hof,
    f: Value,
    colls: Vec<Vec<Value>>,
    i: usize,
    out: Vec<Value>,
}

impl Machine<'_> {
    /// Starts `map`, `filter`, … on checked arguments.
    pub(super) fn start_each(
        &mut self,
        hof: Hof,
        name: &str,
        mut args: Vec<Value>,
    ) -> Result<Step, Error> {
        if hof == Hof::Apply {
            let last = args.pop().expect("arity checked");
            let f = args.remove(0);
            args.extend(elements(name, &last)?);
            return Ok(Step::Apply(f, args));
        }
        let f = args[0].clone();
        let (acc, colls) = match hof {
            Hof::Map => (
                None,
                args[1..]
                    .iter()
                    .map(|c| elements(name, c))
                    .collect::<Result<Vec<_>, _>>()?,
            ),
            Hof::Reduce if args.len() == 3 => {
                (Some(args[1].clone()), vec![elements(name, &args[2])?])
            }
            Hof::Reduce => {
                let mut items = elements(name, &args[1])?;
                if items.is_empty() {
                    // (reduce f []) is (f), as in Clojure.
                    return Ok(Step::Apply(f, Vec::new()));
                }
                let first = items.remove(0);
                (Some(first), vec![items])
            }
            _ => (None, vec![elements(name, &args[1])?]),
        };
        let out = acc.into_iter().collect();
        Ok(self.next_each(Each {
            hof,
            f,
            colls,
            i: 0,
            out,
        }))
    }

    /// Calls `f` on the `i`th elements, or finishes.
    fn next_each(&mut self, k: Each) -> Step {
        let Each {
            hof,
            f,
            colls,
            i,
            out,
        } = k;
        let n = colls.iter().map(Vec::len).min().unwrap_or(0);
        if i >= n {
            return done(match hof {
                Hof::Reduce => out.into_iter().next().unwrap_or(Value::Nil),
                Hof::Every => Value::Bool(true),
                Hof::Some => Value::Nil,
                _ => Value::list(out),
            });
        }
        let args = match hof {
            Hof::Map => colls.iter().map(|c| c[i].clone()).collect(),
            Hof::Reduce => vec![out[0].clone(), colls[0][i].clone()],
            _ => vec![colls[0][i].clone()],
        };
        let call = f.clone();
        if let Err(e) = self.push(Kont::Each(Each {
            hof,
            f,
            colls,
            i,
            out,
        })) {
            return fail(e);
        }
        Step::Apply(call, args)
    }

    /// `f` returned `v` for the `i`th elements.
    pub(super) fn resume_each(&mut self, mut k: Each, v: Value) -> Step {
        match k.hof {
            Hof::Map => k.out.push(v),
            Hof::Filter | Hof::Remove => {
                if v.truthy() == (k.hof == Hof::Filter) {
                    k.out.push(k.colls[0][k.i].clone());
                }
            }
            Hof::Reduce => k.out[0] = v,
            Hof::Every if !v.truthy() => return done(Value::Bool(false)),
            Hof::Some if v.truthy() => return done(v),
            Hof::Every | Hof::Some | Hof::Apply => {}
        }
        k.i += 1;
        self.next_each(k)
    }
}
