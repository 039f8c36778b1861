//! The policy every capability of a provider process is wrapped with: a
//! call on a provider that died fails naming the provider and how it
//! ended, instead of capnp-rpc's bare "disconnected".
//!
//! The node learns of a death twice, in no fixed order: its end of the
//! socket reads end-of-stream (every call in flight then fails with
//! `Disconnected`), and the process's pidfd says it exited and how. So a
//! call that fails with `Disconnected` while the connection is closed
//! waits (at most [`GRACE`]) for the process's status, then fails with
//! [`Life::down`]; once the status is known, calls fail at once. Other
//! errors, and `Disconnected` errors of a provider whose connection is
//! open (its own, from something it talks to), pass unchanged. Being a
//! [`proxy`](ww_provider_sdk::proxy) policy it follows every capability
//! the provider returns, too.

use std::rc::Rc;
use std::time::Duration;

use ww_provider_sdk::capnp;
use ww_provider_sdk::proxy::{CallFuture, Policy};

use super::life::Life;

/// How long a failed call waits for the status of a provider whose
/// connection closed: a process that closed its socket is exiting.
pub const GRACE: Duration = Duration::from_secs(2);

/// The policy of one run of a provider process.
#[derive(Clone)]
pub struct Link {
    life: Rc<Life>,
}

impl Link {
    /// The policy for capabilities of `life`.
    pub fn new(life: Rc<Life>) -> Link {
        Link { life }
    }
}

impl Policy for Link {
    type Lease = ();

    fn admit(&self) -> Result<(), capnp::Error> {
        match self.life.ending() {
            Some(ending) => Err(self.life.down(&ending.to_string())),
            None => Ok(()),
        }
    }

    fn lease(&self) -> Result<(), capnp::Error> {
        Ok(())
    }

    fn guard(&self, call: CallFuture) -> CallFuture {
        let life = self.life.clone();
        Box::pin(async move {
            match call.await {
                Err(e) if e.kind == capnp::ErrorKind::Disconnected && life.closed() => {
                    let how = match tokio::time::timeout(GRACE, life.ended()).await {
                        Ok(ending) => ending.to_string(),
                        Err(_) => "closed its connection".to_string(),
                    };
                    Err(life.down(&how))
                }
                other => other,
            }
        })
    }
}
