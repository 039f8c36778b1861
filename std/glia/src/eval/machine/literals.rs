//! Forms that stand for themselves: `quote`, and vector, map and set
//! literals, whose elements are evaluated left to right (atoms at once,
//! the first compound one under a frame).

use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use super::{atom, done, fail, special, Kont, Machine, Step};
use crate::env::Env;
use crate::error::Error;
use crate::value::Value;

/// A vector literal with `items[next - 1]` being evaluated.
pub(super) struct VectorLiteral {
    items: Rc<Vec<Value>>,
    next: usize,
    out: Vec<Value>,
    env: Env,
}

/// A map literal, keys and values flattened, with `entries[next - 1]`
/// being evaluated.
pub(super) struct MapLiteral {
    entries: Vec<Value>,
    next: usize,
    out: Vec<Value>,
    env: Env,
}

/// A set literal with `items[next - 1]` being evaluated.
pub(super) struct SetLiteral {
    items: Vec<Value>,
    next: usize,
    out: BTreeSet<Value>,
    env: Env,
}

impl Machine<'_> {
    pub(super) fn eval_quote(&mut self, list: &[Value]) -> Result<Step, Error> {
        special::expect("quote", list.len() == 2, "takes one form: (quote x) or 'x")?;
        Ok(done(list[1].clone()))
    }

    pub(super) fn eval_vector(&mut self, items: Rc<Vec<Value>>, env: Env) -> Step {
        self.vector(items, 0, Vec::new(), env)
    }

    pub(super) fn resume_vector(&mut self, k: VectorLiteral, v: Value) -> Step {
        let VectorLiteral {
            items,
            next,
            mut out,
            env,
        } = k;
        out.push(v);
        self.vector(items, next, out, env)
    }

    /// Evaluates the elements of a vector literal from `items[next]` on.
    fn vector(
        &mut self,
        items: Rc<Vec<Value>>,
        mut next: usize,
        mut out: Vec<Value>,
        env: Env,
    ) -> Step {
        while let Some(form) = items.get(next) {
            next += 1;
            match atom(self.interp, form, &env) {
                Some(Ok(v)) => out.push(v),
                Some(Err(e)) => return fail(e),
                None => {
                    let form = form.clone();
                    let k = Kont::Vector(VectorLiteral {
                        items,
                        next,
                        out,
                        env: env.clone(),
                    });
                    return self.then(k, &form, env);
                }
            }
        }
        done(Value::vector(out))
    }

    pub(super) fn eval_map(&mut self, map: &BTreeMap<Value, Value>, env: Env) -> Step {
        let entries = map
            .iter()
            .flat_map(|(k, v)| [k.clone(), v.clone()])
            .collect();
        self.map(entries, 0, Vec::new(), env)
    }

    pub(super) fn resume_map(&mut self, k: MapLiteral, v: Value) -> Step {
        let MapLiteral {
            entries,
            next,
            mut out,
            env,
        } = k;
        out.push(v);
        self.map(entries, next, out, env)
    }

    /// Evaluates the keys and values of a map literal, flattened.
    fn map(&mut self, entries: Vec<Value>, mut next: usize, mut out: Vec<Value>, env: Env) -> Step {
        while let Some(form) = entries.get(next) {
            next += 1;
            match atom(self.interp, form, &env) {
                Some(Ok(v)) => out.push(v),
                Some(Err(e)) => return fail(e),
                None => {
                    let form = form.clone();
                    let k = Kont::Map(MapLiteral {
                        entries,
                        next,
                        out,
                        env: env.clone(),
                    });
                    return self.then(k, &form, env);
                }
            }
        }
        let mut map = BTreeMap::new();
        let mut it = out.into_iter();
        while let (Some(k), Some(v)) = (it.next(), it.next()) {
            map.insert(k, v);
        }
        done(Value::Map(Rc::new(map)))
    }

    pub(super) fn eval_set(&mut self, set: &BTreeSet<Value>, env: Env) -> Step {
        self.set(set.iter().cloned().collect(), 0, BTreeSet::new(), env)
    }

    pub(super) fn resume_set(&mut self, k: SetLiteral, v: Value) -> Step {
        let SetLiteral {
            items,
            next,
            mut out,
            env,
        } = k;
        out.insert(v);
        self.set(items, next, out, env)
    }

    /// Evaluates the elements of a set literal from `items[next]` on.
    fn set(
        &mut self,
        items: Vec<Value>,
        mut next: usize,
        mut out: BTreeSet<Value>,
        env: Env,
    ) -> Step {
        while let Some(form) = items.get(next) {
            next += 1;
            match atom(self.interp, form, &env) {
                Some(Ok(v)) => {
                    out.insert(v);
                }
                Some(Err(e)) => return fail(e),
                None => {
                    let form = form.clone();
                    let k = Kont::Set(SetLiteral {
                        items,
                        next,
                        out,
                        env: env.clone(),
                    });
                    return self.then(k, &form, env);
                }
            }
        }
        done(Value::Set(Rc::new(out)))
    }
}
