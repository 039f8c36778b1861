//! Sequencing and branching: `do` (and every body of forms), `if`, the
//! short-circuiting `and` and `or`, `when`, `when-not` and `cond`.
//!
//! A branch or the last form of a body is evaluated after its frame is
//! popped, in the position of the whole form, so a `recur` or a call there
//! stays in tail position.

use std::rc::Rc;

use super::{done, special, Kont, Machine, Step};
use crate::env::Env;
use crate::error::Error;
use crate::eval::Ctx;
use crate::value::Value;

/// The rest of a body: `list[pos..end]`, the last form in `ctx`.
pub(super) struct Body {
    list: Rc<Vec<Value>>,
    pos: usize,
    end: usize,
    env: Env,
    ctx: Ctx,
}

/// `if` with its test being evaluated.
pub(super) struct If {
    list: Rc<Vec<Value>>,
    env: Env,
    ctx: Ctx,
}

/// `and` or `or` with `list[next - 1]` being evaluated.
pub(super) struct AndOr {
    list: Rc<Vec<Value>>,
    next: usize,
    env: Env,
    ctx: Ctx,
    and: bool,
}

/// `when` or `when-not` with its test being evaluated.
pub(super) struct When {
    list: Rc<Vec<Value>>,
    env: Env,
    ctx: Ctx,
    when: bool,
}

/// `cond` with the test at `list[at]` being evaluated.
pub(super) struct Cond {
    list: Rc<Vec<Value>>,
    at: usize,
    env: Env,
    ctx: Ctx,
}

impl Machine<'_> {
    /// Evaluates `list[pos..end]` as `do` does.
    pub(super) fn body(
        &mut self,
        list: Rc<Vec<Value>>,
        pos: usize,
        end: usize,
        env: Env,
        ctx: Ctx,
    ) -> Step {
        if pos >= end {
            return done(Value::Nil);
        }
        if pos + 1 == end {
            return Step::Eval(list[pos].clone(), env, ctx);
        }
        let form = list[pos].clone();
        let k = Kont::Body(Body {
            list,
            pos: pos + 1,
            end,
            env: env.clone(),
            ctx,
        });
        self.then(k, &form, env)
    }

    pub(super) fn resume_body(&mut self, k: Body) -> Step {
        self.body(k.list, k.pos, k.end, k.env, k.ctx)
    }

    pub(super) fn eval_do(&mut self, list: Rc<Vec<Value>>, env: Env, ctx: Ctx) -> Step {
        let end = list.len();
        self.body(list, 1, end, env, ctx)
    }

    pub(super) fn eval_if(
        &mut self,
        list: Rc<Vec<Value>>,
        env: Env,
        ctx: Ctx,
    ) -> Result<Step, Error> {
        let n = list.len() - 1;
        special::expect(
            "if",
            n == 2 || n == 3,
            "takes a test and one or two branches: (if test then else)",
        )?;
        let test = list[1].clone();
        let k = Kont::If(If {
            list,
            env: env.clone(),
            ctx,
        });
        Ok(self.then(k, &test, env))
    }

    pub(super) fn resume_if(&mut self, k: If, v: Value) -> Step {
        let branch = if v.truthy() {
            k.list.get(2)
        } else {
            k.list.get(3)
        };
        match branch {
            Some(b) => Step::Eval(b.clone(), k.env, k.ctx),
            None => done(Value::Nil),
        }
    }

    pub(super) fn eval_and_or(
        &mut self,
        list: Rc<Vec<Value>>,
        env: Env,
        ctx: Ctx,
        and: bool,
    ) -> Step {
        match list.len() - 1 {
            0 => done(if and { Value::Bool(true) } else { Value::Nil }),
            1 => Step::Eval(list[1].clone(), env, ctx),
            _ => {
                let first = list[1].clone();
                let k = Kont::AndOr(AndOr {
                    list,
                    next: 2,
                    env: env.clone(),
                    ctx,
                    and,
                });
                self.then(k, &first, env)
            }
        }
    }

    pub(super) fn resume_and_or(&mut self, k: AndOr, v: Value) -> Step {
        let AndOr {
            list,
            next,
            env,
            ctx,
            and,
        } = k;
        if v.truthy() != and {
            return done(v);
        }
        if next + 1 == list.len() {
            return Step::Eval(list[next].clone(), env, ctx);
        }
        let form = list[next].clone();
        let k = Kont::AndOr(AndOr {
            list,
            next: next + 1,
            env: env.clone(),
            ctx,
            and,
        });
        self.then(k, &form, env)
    }

    pub(super) fn eval_when(
        &mut self,
        list: Rc<Vec<Value>>,
        env: Env,
        ctx: Ctx,
        when: bool,
    ) -> Result<Step, Error> {
        special::expect("when", list.len() > 1, "(when test body…)")?;
        let test = list[1].clone();
        let k = Kont::When(When {
            list,
            env: env.clone(),
            ctx,
            when,
        });
        Ok(self.then(k, &test, env))
    }

    pub(super) fn resume_when(&mut self, k: When, v: Value) -> Step {
        if v.truthy() == k.when {
            let end = k.list.len();
            self.body(k.list, 2, end, k.env, k.ctx)
        } else {
            done(Value::Nil)
        }
    }

    pub(super) fn eval_cond(
        &mut self,
        list: Rc<Vec<Value>>,
        env: Env,
        ctx: Ctx,
    ) -> Result<Step, Error> {
        let n = list.len() - 1;
        special::expect(
            "cond",
            n.is_multiple_of(2),
            "takes test/expression pairs: (cond t1 e1 t2 e2 :else e)",
        )?;
        if n == 0 {
            return Ok(done(Value::Nil));
        }
        let test = list[1].clone();
        let k = Kont::Cond(Cond {
            list,
            at: 1,
            env: env.clone(),
            ctx,
        });
        Ok(self.then(k, &test, env))
    }

    pub(super) fn resume_cond(&mut self, k: Cond, v: Value) -> Step {
        let Cond { list, at, env, ctx } = k;
        if v.truthy() {
            return Step::Eval(list[at + 1].clone(), env, ctx);
        }
        let at = at + 2;
        if at >= list.len() {
            return done(Value::Nil);
        }
        let test = list[at].clone();
        let k = Kont::Cond(Cond {
            list,
            at,
            env: env.clone(),
            ctx,
        });
        self.then(k, &test, env)
    }
}
