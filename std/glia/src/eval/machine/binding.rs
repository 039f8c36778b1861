//! Names bound to values: `def` and `defn` (globals), `let` and `loop`
//! (locals), and `recur` arriving back at its `loop`.
//!
//! `let` and `loop` evaluate their bindings one at a time, each in an
//! environment that already holds the names before it.

use std::rc::Rc;

use super::{done, fail, special, Kont, Machine, Step};
use crate::env::{Env, Frame};
use crate::error::Error;
use crate::eval::Ctx;
use crate::value::Value;

/// `def` with its value being evaluated.
pub(super) struct Def {
    name: Rc<str>,
    doc: Option<Rc<str>>,
}

/// `let` with the binding at `pairs[i]` being evaluated.
pub(super) struct Let {
    list: Rc<Vec<Value>>,
    pairs: Rc<Vec<Value>>,
    i: usize,
    env: Env,
    ctx: Ctx,
}

/// `loop`'s initial values, as `let` evaluates them.
pub(super) struct LoopInit {
    list: Rc<Vec<Value>>,
    pairs: Rc<Vec<Value>>,
    i: usize,
    vals: Vec<Value>,
    env: Env,
    outer: Env,
}

/// Where `recur` in a `loop` body returns.
pub(super) struct Loop {
    list: Rc<Vec<Value>>,
    pairs: Rc<Vec<Value>>,
    outer: Env,
}

impl Machine<'_> {
    pub(super) fn eval_def(&mut self, list: Rc<Vec<Value>>, env: Env) -> Result<Step, Error> {
        let special::DefParts { name, doc, expr } = special::def_parts(&list)?;
        Ok(match expr {
            None => {
                self.interp.define(&name, Value::Nil);
                done(Value::Nil)
            }
            Some(at) => {
                let expr = list[at].clone();
                self.then(Kont::Def(Def { name, doc }), &expr, env)
            }
        })
    }

    pub(super) fn resume_def(&mut self, k: Def, v: Value) -> Step {
        let value = special::name_fn(v, &k.name, k.doc);
        self.interp.define(&k.name, value.clone());
        done(value)
    }

    pub(super) fn eval_defn(&mut self, list: &[Value], env: &Env) -> Result<Step, Error> {
        let (name, f) = special::defn(list, env)?;
        self.interp.define(&name, f.clone());
        Ok(done(f))
    }

    pub(super) fn eval_let(
        &mut self,
        list: Rc<Vec<Value>>,
        env: Env,
        ctx: Ctx,
    ) -> Result<Step, Error> {
        let pairs = special::bindings("let", &list)?;
        if pairs.is_empty() {
            let end = list.len();
            return Ok(self.body(list, 2, end, env, ctx));
        }
        let expr = pairs[1].clone();
        let k = Kont::Let(Let {
            list,
            pairs,
            i: 0,
            env: env.clone(),
            ctx,
        });
        Ok(self.then(k, &expr, env))
    }

    pub(super) fn resume_let(&mut self, k: Let, v: Value) -> Step {
        let Let {
            list,
            pairs,
            i,
            env,
            ctx,
        } = k;
        let env = Frame::push(&env, vec![(special::binding_name(&pairs, i), v)]);
        let i = i + 2;
        if i < pairs.len() {
            let expr = pairs[i + 1].clone();
            let k = Kont::Let(Let {
                list,
                pairs,
                i,
                env: env.clone(),
                ctx,
            });
            self.then(k, &expr, env)
        } else {
            let end = list.len();
            self.body(list, 2, end, env, ctx)
        }
    }

    pub(super) fn eval_loop(&mut self, list: Rc<Vec<Value>>, env: Env) -> Result<Step, Error> {
        let pairs = special::bindings("loop", &list)?;
        if pairs.is_empty() {
            return Ok(self.start_loop(list, pairs, Vec::new(), env));
        }
        let expr = pairs[1].clone();
        let k = Kont::LoopInit(LoopInit {
            list,
            pairs,
            i: 0,
            vals: Vec::new(),
            env: env.clone(),
            outer: env.clone(),
        });
        Ok(self.then(k, &expr, env))
    }

    pub(super) fn resume_loop_init(&mut self, k: LoopInit, v: Value) -> Step {
        let LoopInit {
            list,
            pairs,
            i,
            mut vals,
            env,
            outer,
        } = k;
        let env = Frame::push(&env, vec![(special::binding_name(&pairs, i), v.clone())]);
        vals.push(v);
        let i = i + 2;
        if i < pairs.len() {
            let expr = pairs[i + 1].clone();
            let k = Kont::LoopInit(LoopInit {
                list,
                pairs,
                i,
                vals,
                env: env.clone(),
                outer,
            });
            self.then(k, &expr, env)
        } else {
            self.start_loop(list, pairs, vals, outer)
        }
    }

    /// `recur` in the loop's body: run it again with new values.
    pub(super) fn recur_loop(&mut self, k: Loop, vals: Vec<Value>) -> Step {
        self.start_loop(k.list, k.pairs, vals, k.outer)
    }

    /// Binds the loop's names to `vals` and evaluates its body over a
    /// `Loop` frame, where `recur` returns.
    fn start_loop(
        &mut self,
        list: Rc<Vec<Value>>,
        pairs: Rc<Vec<Value>>,
        vals: Vec<Value>,
        outer: Env,
    ) -> Step {
        let names = (0..pairs.len())
            .step_by(2)
            .map(|i| special::binding_name(&pairs, i));
        let frame = Frame::push(&outer, names.zip(vals).collect());
        let arity = pairs.len() / 2;
        if let Err(e) = self.push(Kont::Loop(Loop {
            list: list.clone(),
            pairs,
            outer,
        })) {
            return fail(e);
        }
        let end = list.len();
        self.body(list, 2, end, frame, Ctx::body(arity))
    }
}
