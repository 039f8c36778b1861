//! The jail, shown through real jailed processes: the crate's
//! `ww-jail-probe` helper and `/bin/sh`. These need root (as the node does
//! to jail) and a kernel with Landlock, seccomp and user namespaces.

mod util;

// Files: what a jailed process may read, write and execute.
mod files;
// No network: TCP to a loopback listener, new sockets.
mod network;
// Denied system calls: ptrace of the node.
mod syscalls;
// Limits: the process bound, memory, the CPU budget.
mod limits;
// The tree ends with the cell: the handle's kill, the node's death.
mod lifetime;
// What a cell is handed still works: the vat on fd 3.
mod descriptors;
// Failing closed, and the probe.
mod errors;
// A node that is not root.
mod unprivileged;
