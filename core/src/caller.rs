//! The cell on whose behalf a task runs.
//!
//! What a cell asks of the node is charged to that cell: the code it has
//! compiled (its [`compile::Account`]) and the children it spawns (which
//! take their CPU share inside its [`cpu::Share`]). The node runs each
//! cell's own task, and its RPC vat, [`on_behalf_of`] the cell: capnp-rpc
//! dispatches a cell's calls to local servers inside the vat's task, and
//! its typed WIT calls run inside its own task, so a server reads the
//! caller with [`current`]. Calls that come from no cell (a remote
//! session, a provider's own task) have none.

use std::future::Future;
use std::rc::Rc;

use crate::compile::Account;
use crate::cpu::Share;

/// Who a task works for.
#[derive(Clone)]
pub struct Caller {
    /// Its compile budget.
    pub compile: Rc<Account>,
    /// Its place in the CPU tree.
    pub cpu: Share,
}

tokio::task_local! {
    static CALLER: Caller;
}

/// Runs `task` on behalf of `caller`.
pub fn on_behalf_of<F: Future>(caller: Caller, task: F) -> impl Future<Output = F::Output> {
    CALLER.scope(caller, task)
}

/// The cell the current task works for, if any.
pub fn current() -> Option<Caller> {
    CALLER.try_with(Caller::clone).ok()
}
