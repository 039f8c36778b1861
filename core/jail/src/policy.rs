//! What a jailed process may touch: the caller fills a [`Policy`].
//!
//! The policy lists what is *allowed*; everything else is denied. A native
//! cell needs its image root (read-only), the system libraries a dynamically
//! linked program loads, maybe a scratch directory, and the right to execute
//! only its own program. It never needs the network, the node's home
//! directory or `/etc/passwd`.

use std::path::PathBuf;
use std::time::Duration;

/// System paths a dynamically linked program needs to start: the loader and
/// the shared libraries (readable and executable, since the kernel checks
/// execute rights on the program's interpreter `ld.so`), the loader's cache,
/// and the harmless character devices. Paths missing on this host are
/// skipped. Not here on purpose: `/etc/passwd` and the rest of `/etc`,
/// home directories, `/proc` (the node's `/proc` shows every process of the
/// host; a cell that needs `/proc/self` needs its own mount of it, which
/// this jail does not make yet), `/tmp`, `/run` (sockets of other services).
pub const SYSTEM_LIBRARIES: &[&str] = &["/lib", "/lib64", "/usr/lib", "/usr/lib64"];

/// Single files every program may read: the loader's cache of library
/// locations and the devices that hold no data of the host's.
pub const SYSTEM_FILES: &[&str] = &["/etc/ld.so.cache", "/dev/zero", "/dev/urandom"];

/// Single files every program may also write: `/dev/null`, which shells
/// open for writing at every `> /dev/null`.
pub const SYSTEM_SINKS: &[&str] = &["/dev/null"];

/// Files a process with the host's network may also read: what the C
/// library's name resolution opens (`getaddrinfo`), and nothing else of
/// `/etc`.
pub const NETWORK_FILES: &[&str] = &[
    "/etc/resolv.conf",
    "/etc/hosts",
    "/etc/nsswitch.conf",
    "/etc/host.conf",
    "/etc/gai.conf",
];

/// The uid and gid a cell runs as when the node runs as root: `nobody`.
///
/// A cell never runs as root: the kernel exempts root from the process limit
/// (`RLIMIT_NPROC`), and a root process reads any file Landlock lets it
/// reach, whatever its mode.
pub const NOBODY: u32 = 65534;

/// Everything a jailed process may do; the rest is denied.
///
/// Paths are resolved when the [`Jail`](crate::Jail) is built (a symlink is
/// followed then, so `/lib` on a merged-`/usr` system grants `/usr/lib`).
/// A directory grants everything beneath it.
#[derive(Clone, Debug)]
pub struct Policy {
    /// Paths the process may read (files and directory listings): the
    /// merged image root, and what the operator adds with `--ro PATH` (a
    /// Python prefix, a data set).
    pub read_only: Vec<PathBuf>,
    /// Paths the process may read and execute: its own program, or the
    /// image's `bin/`. Execute rights are nowhere else, so a cell cannot run
    /// a binary it wrote to its scratch directory.
    pub executable: Vec<PathBuf>,
    /// Scratch directories the process may read and write (create, remove,
    /// rename, truncate), never execute. The directory must be writable by
    /// [`Policy::uid`] (the jail changes no ownership).
    pub read_write: Vec<PathBuf>,
    /// Whether to add [`SYSTEM_LIBRARIES`], [`SYSTEM_FILES`] and
    /// [`SYSTEM_SINKS`]; off only
    /// for a statically linked program that needs none of them.
    pub system_paths: bool,
    /// Whether the process may create new Unix sockets (`socket(AF_UNIX)`).
    ///
    /// Off by default. The descriptors it was handed (the cell's vat on
    /// fd 3) work either way, and so does `socketpair` (a pair connects
    /// only to itself). A new Unix socket could connect to a pathname
    /// socket of another service on the host (`/run/...`), which Landlock
    /// does not mediate; abstract sockets are confined to the jail's own
    /// network namespace (and, with Landlock ABI 6, to its own domain).
    pub unix_sockets: bool,
    /// Whether the process keeps the host's network: the node's network
    /// namespace, sockets of the Internet and netlink families, TCP bind
    /// and connect on any port, and the files name resolution reads
    /// ([`NETWORK_FILES`]). Off by default: a fresh network namespace with
    /// only a loopback interface that is down, and no such sockets. For a
    /// provider that runs a network service (a libp2p swarm), with the
    /// operator's consent; the rest of the jail stays as it is.
    pub network: bool,
    /// Resource limits.
    pub limits: Limits,
    /// The uid the process runs as when the node runs as root; ignored
    /// otherwise (the process keeps the node's uid).
    pub uid: u32,
    /// The gid the process runs as when the node runs as root.
    pub gid: u32,
}

impl Default for Policy {
    fn default() -> Policy {
        Policy {
            read_only: Vec::new(),
            executable: Vec::new(),
            read_write: Vec::new(),
            system_paths: true,
            unix_sockets: false,
            network: false,
            limits: Limits::default(),
            uid: NOBODY,
            gid: NOBODY,
        }
    }
}

/// Resource limits of one jailed process tree; `None` means no limit of
/// the jail's own (the node's limits still hold).
///
/// `memory` bounds the whole tree through a memory cgroup where the host
/// lets the node make one (see [`Limits::memory_cgroup`]); the other limits
/// are kernel resource limits (`setrlimit`), which hold for each process
/// of the tree, except `processes`, which bounds the tree.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Memory of the whole tree, in bytes. In a memory cgroup (the node is
    /// root and the host has the controller; see [`probe`](crate::probe)):
    /// past it the kernel kills a process of the tree, and a program killed
    /// so ends with [`Ending::MemoryLimit`](crate::Ending::MemoryLimit)
    /// (status 125). Otherwise the largest address space of each process
    /// (`RLIMIT_AS`): an allocation past it fails inside the program, which
    /// ends as it chooses; programs that reserve large address ranges up
    /// front (Go, the JVM, Wasmtime) then need a generous value.
    pub memory: Option<u64>,
    /// Whether `memory` may use a cgroup where the host allows one (the
    /// default); off, it is always `RLIMIT_AS`.
    pub memory_cgroup: bool,
    /// CPU time of each process (`RLIMIT_CPU`), rounded up to whole seconds:
    /// at the budget the kernel sends `SIGXCPU`, one second later `SIGKILL`.
    pub cpu: Option<Duration>,
    /// Processes and threads of the whole tree, the jail's own init
    /// included. A fork past it fails with `EAGAIN`.
    pub processes: Option<u32>,
    /// Open descriptors of each process (`RLIMIT_NOFILE`).
    pub open_files: Option<u64>,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            memory: None,
            memory_cgroup: true,
            cpu: None,
            processes: Some(64),
            open_files: Some(1024),
        }
    }
}
