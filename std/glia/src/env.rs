//! Local environments: the bindings of `let`, `loop` and function calls.
//!
//! A local environment is an immutable chain of frames shared by `Rc`, so a
//! closure keeps exactly the frames it closed over and nothing else. Globals
//! (`def`) live in the interpreter, not here. Frames are never linked back to
//! the closures that hold them (a named `fn` binds itself afresh on each
//! call), so there are no reference cycles and every frame is freed as soon
//! as the evaluation that made it, or the last closure over it, is gone.

use std::cell::Cell;
use std::rc::Rc;

use crate::value::Value;

/// A local environment: `None` is the empty one (globals only).
pub(crate) type Env = Option<Rc<Frame>>;

/// One frame of bindings.
pub(crate) struct Frame {
    vars: Vec<(Rc<str>, Value)>,
    parent: Env,
}

thread_local! {
    static LIVE_FRAMES: Cell<usize> = const { Cell::new(0) };
}

/// How many frames are alive on this thread (for leak tests and stats).
pub(crate) fn live_frames() -> usize {
    LIVE_FRAMES.with(Cell::get)
}

impl Frame {
    /// A new frame binding `vars` on top of `parent`.
    pub(crate) fn push(parent: &Env, vars: Vec<(Rc<str>, Value)>) -> Env {
        LIVE_FRAMES.with(|n| n.set(n.get() + 1));
        Some(Rc::new(Frame {
            vars,
            parent: parent.clone(),
        }))
    }
}

impl Drop for Frame {
    fn drop(&mut self) {
        LIVE_FRAMES.with(|n| n.set(n.get() - 1));
    }
}

/// The innermost binding of `name`, if any.
pub(crate) fn lookup(env: &Env, name: &str) -> Option<Value> {
    let mut frame = env.as_deref();
    while let Some(f) = frame {
        // Later bindings in one frame shadow earlier ones.
        if let Some((_, v)) = f.vars.iter().rev().find(|(n, _)| &**n == name) {
            return Some(v.clone());
        }
        frame = f.parent.as_deref();
    }
    None
}
