//! Memory of the whole tree through a memory cgroup, where the host lets
//! the node make one; resource limits (`limits.rs`) otherwise.
//!
//! `RLIMIT_AS` bounds each process's address space: a cell of 64 processes
//! may use 64 times its limit, and an allocation past it fails inside the
//! program, which then ends as it likes (a Rust abort, a Python
//! `MemoryError`). A memory cgroup bounds the tree as one: past the limit
//! the kernel's OOM killer ends a process of the tree, and the cgroup
//! counts that kill, so the jail's init can report it as the memory limit
//! (status 125, as for a Wasm cell). It also leaves address space alone,
//! which runtimes that reserve large ranges up front (Go, the JVM,
//! Wasmtime) need.
//!
//! # Where the cgroups are made
//!
//! Under the node's own cgroup, in a directory of the node's
//! (`ww-jail-<pid>`, there while it has cells), one cgroup per jailed
//! process (`cell-<n>`), removed once its tree has ended; directories of
//! nodes killed meanwhile are removed when the next node starts. Two
//! layouts are understood:
//!
//! - **cgroup v1** with the `memory` controller mounted (hybrid hosts):
//!   `memory.limit_in_bytes` (and `memory.memsw.limit_in_bytes` where swap
//!   is accounted), kills counted in `memory.oom_control`;
//! - **cgroup v2** where the node's cgroup delegates `memory` to its
//!   children (its `cgroup.subtree_control` lists it): `memory.max` and
//!   `memory.swap.max`, kills counted in `memory.events`. v2 forbids
//!   processes in a cgroup whose children have controllers, so this holds
//!   only when the node runs in the root cgroup (of the host or of its
//!   container's cgroup namespace) or in a cgroup delegated so.
//!
//! Only a node running as root makes cgroups (their files belong to root).
//! The init moves itself into its cgroup first thing in the child, by
//! writing `0` to a `tasks` (v1) or `cgroup.procs` (v2) the node opened; it reads the kill count
//! through a descriptor the node opened too, since Landlock then denies it
//! every path of the host.

use std::ffi::OsStr;
use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

/// The two cgroup layouts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Flavor {
    /// The v1 `memory` hierarchy.
    V1,
    /// The unified hierarchy.
    V2,
}

impl Flavor {
    /// The file a process joins through by writing `0` (itself). v1's
    /// `tasks` moves the one thread that writes (the init has no other):
    /// unlike `cgroup.procs`, it does not take the kernel's global lock on
    /// thread groups, whose first writer in a while waits out an RCU grace
    /// period (15 ms measured on a loaded host). v2 has no such file for
    /// domain cgroups.
    fn join_file(self) -> &'static str {
        match self {
            Flavor::V1 => "tasks",
            Flavor::V2 => "cgroup.procs",
        }
    }

    fn limit_file(self) -> &'static str {
        match self {
            Flavor::V1 => "memory.limit_in_bytes",
            Flavor::V2 => "memory.max",
        }
    }

    /// Where swap is bounded too; absent when swap is not accounted.
    fn swap_file(self) -> &'static str {
        match self {
            Flavor::V1 => "memory.memsw.limit_in_bytes",
            Flavor::V2 => "memory.swap.max",
        }
    }

    /// The file whose `oom_kill N` line counts the cgroup's OOM kills.
    fn events_file(self) -> &'static str {
        match self {
            Flavor::V1 => "memory.oom_control",
            Flavor::V2 => "memory.events",
        }
    }
}

/// The node's directory of cell cgroups, made once per node process.
#[derive(Debug)]
pub(crate) struct Hierarchy {
    flavor: Flavor,
    dir: PathBuf,
}

impl Hierarchy {
    /// How the host's memory cgroups are laid out, for [`probe`](crate::probe).
    pub(crate) fn flavor(&self) -> Flavor {
        self.flavor
    }
}

/// The node's cgroup directory for jailed processes, or `None` when this
/// host does not let the node make memory cgroups (not root, no memory
/// controller, a v2 cgroup that does not delegate it).
pub(crate) fn hierarchy() -> Option<&'static Hierarchy> {
    static HIERARCHY: OnceLock<Option<Hierarchy>> = OnceLock::new();
    HIERARCHY.get_or_init(find).as_ref()
}

fn find() -> Option<Hierarchy> {
    if !nix::unistd::Uid::effective().is_root() {
        return None;
    }
    let own = fs::read_to_string("/proc/self/cgroup").ok()?;
    let mounts = fs::read_to_string("/proc/self/mountinfo").ok()?;
    let (flavor, cgroup) = locate(&own, &mounts)?;
    if flavor == Flavor::V2 && !delegates_memory(&cgroup) {
        return None;
    }
    remove_stale(&cgroup);
    let hierarchy = Hierarchy {
        flavor,
        dir: cgroup.join(format!("ww-jail-{}", std::process::id())),
    };
    // Made here to check that it can be; removed with its last cell.
    hierarchy.make_dir().ok()?;
    let _ = fs::remove_dir(&hierarchy.dir);
    Some(hierarchy)
}

impl Hierarchy {
    /// Makes the node's directory if it is not there (it is removed with
    /// its last cell, so a node leaves none behind).
    fn make_dir(&self) -> io::Result<()> {
        match fs::create_dir(&self.dir) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return Ok(()),
            Err(e) => return Err(e),
        }
        if self.flavor == Flavor::V2 {
            if let Err(e) = fs::write(self.dir.join("cgroup.subtree_control"), "+memory") {
                let _ = fs::remove_dir(&self.dir);
                return Err(e);
            }
        }
        Ok(())
    }

    /// Makes a cell's directory in the node's.
    fn make_cell(&self, name: &str) -> io::Result<PathBuf> {
        let dir = self.dir.join(name);
        // The node's directory may go between the two calls, as its last
        // cell ends: then once more.
        for _ in 0..2 {
            self.make_dir()?;
            match fs::create_dir(&dir) {
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                made => return made.map(|()| dir),
            }
        }
        Err(io::Error::from(io::ErrorKind::NotFound))
    }
}

/// The node's memory cgroup directory and its layout, from
/// `/proc/self/cgroup` and `/proc/self/mountinfo`: a v1 `memory`
/// hierarchy first, else the unified one.
fn locate(own: &str, mountinfo: &str) -> Option<(Flavor, PathBuf)> {
    // `ID:CONTROLLERS:PATH`; v2 is `0::PATH`.
    let path_of = |wanted: &dyn Fn(&str) -> bool| {
        own.lines().find_map(|line| {
            let mut parts = line.splitn(3, ':');
            let (_, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
            wanted(controllers).then(|| path.to_string())
        })
    };
    // mountinfo: `ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS ... - TYPE SOURCE SUPER`.
    let mount_of = |fstype: &str, super_has: Option<&str>| {
        mountinfo.lines().find_map(|line| {
            let (left, right) = line.split_once(" - ")?;
            let left: Vec<&str> = left.split(' ').collect();
            let right: Vec<&str> = right.split(' ').collect();
            let super_ok = match super_has {
                Some(opt) => right.get(2)?.split(',').any(|o| o == opt),
                None => true,
            };
            if right.first() != Some(&fstype) || !super_ok {
                return None;
            }
            Some((left.get(3)?.to_string(), left.get(4)?.to_string()))
        })
    };
    let join = |(root, point): (String, String), path: String| {
        let inside = Path::new(&path).strip_prefix(&root).ok()?.to_path_buf();
        Some(Path::new(&point).join(inside))
    };
    if let Some(path) = path_of(&|c| c.split(',').any(|c| c == "memory")) {
        if let Some(dir) = mount_of("cgroup", Some("memory")).and_then(|m| join(m, path)) {
            return Some((Flavor::V1, dir));
        }
    }
    let path = path_of(&|c| c.is_empty())?;
    let dir = mount_of("cgroup2", None).and_then(|m| join(m, path))?;
    Some((Flavor::V2, dir))
}

/// Whether a v2 cgroup lets its children have memory limits.
fn delegates_memory(cgroup: &Path) -> bool {
    let listed = |file: &str| {
        fs::read_to_string(cgroup.join(file))
            .map(|s| s.split_whitespace().any(|c| c == "memory"))
            .unwrap_or(false)
    };
    listed("cgroup.subtree_control")
        || (listed("cgroup.controllers")
            && fs::write(cgroup.join("cgroup.subtree_control"), "+memory").is_ok())
}

/// Removes the cgroup directories of nodes that are gone (a node killed
/// before it could remove its own). Cgroups with live processes stay.
fn remove_stale(cgroup: &Path) {
    let Ok(entries) = fs::read_dir(cgroup) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.strip_prefix("ww-jail-")) else {
            continue;
        };
        if Path::new("/proc").join(pid).exists() {
            continue;
        }
        if let Ok(cells) = fs::read_dir(entry.path()) {
            for cell in cells.flatten().filter(|c| is_cell(&c.file_name())) {
                let _ = fs::remove_dir(cell.path());
            }
        }
        let _ = fs::remove_dir(entry.path());
    }
}

fn is_cell(name: &OsStr) -> bool {
    name.to_str().is_some_and(|n| n.starts_with("cell-"))
}

/// Cgroups whose removal found processes still in them; tried again at
/// the next spawn.
static LEFT_OVER: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// One jailed process tree's memory cgroup.
#[derive(Debug)]
pub(crate) struct Cgroup {
    dir: PathBuf,
    /// The file to join through (`tasks` or `cgroup.procs`), open for
    /// writing: the init writes `0` to it.
    join: File,
    /// The file counting OOM kills, open for reading: the init reads it.
    events: File,
}

impl Cgroup {
    /// Makes a cgroup whose tree may use `memory` bytes (swap included,
    /// where swap is accounted).
    pub(crate) fn new(hierarchy: &Hierarchy, memory: u64) -> io::Result<Cgroup> {
        retry_left_over();
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let dir = hierarchy.make_cell(&format!("cell-{}", NEXT.fetch_add(1, Ordering::Relaxed)))?;
        let open = |file: &str, write: bool| {
            OpenOptions::new()
                .read(!write)
                .write(write)
                .custom_flags(libc::O_CLOEXEC)
                .open(dir.join(file))
        };
        let opened = open(hierarchy.flavor.join_file(), true)
            .and_then(|procs| Ok((procs, open(hierarchy.flavor.events_file(), false)?)));
        let (join, events) = match opened {
            Ok(files) => files,
            Err(e) => {
                let _ = fs::remove_dir(&dir);
                return Err(e);
            }
        };
        // From here on the directory goes with the value (its drop removes it).
        let cgroup = Cgroup {
            dir: dir.clone(),
            join,
            events,
        };
        fs::write(dir.join(hierarchy.flavor.limit_file()), memory.to_string())?;
        let swap = dir.join(hierarchy.flavor.swap_file());
        if swap.exists() {
            // v1: memory and swap together, no less than the memory limit;
            // v2: no swap at all.
            let value = match hierarchy.flavor {
                Flavor::V1 => memory.to_string(),
                Flavor::V2 => "0".to_string(),
            };
            fs::write(swap, value)?;
        }
        Ok(cgroup)
    }

    /// The descriptor the init writes `0` to, joining the cgroup.
    pub(crate) fn join_fd(&self) -> RawFd {
        self.join.as_raw_fd()
    }

    /// The descriptor the init reads the OOM kill count from.
    pub(crate) fn events_fd(&self) -> RawFd {
        self.events.as_raw_fd()
    }
}

impl Drop for Cgroup {
    fn drop(&mut self) {
        if fs::remove_dir(&self.dir).is_err() {
            if let Ok(mut left) = LEFT_OVER.lock() {
                left.push(self.dir.clone());
            }
            return;
        }
        // The node's directory too, if this was its last cell (it is busy
        // otherwise, and stays).
        if let Some(node) = self.dir.parent() {
            let _ = fs::remove_dir(node);
        }
    }
}

fn retry_left_over() {
    if let Ok(mut left) = LEFT_OVER.lock() {
        left.retain(|dir| fs::remove_dir(dir).is_err() && dir.exists());
    }
}

/// Whether the cgroup counted an OOM kill, read through `events` (a
/// descriptor opened by the node). In the init; allocation-free.
pub(crate) fn oom_killed(events: RawFd) -> bool {
    let mut buf = [0u8; 512];
    // SAFETY: reading into a live stack buffer from a descriptor we own.
    let n = unsafe { libc::pread(events, buf.as_mut_ptr().cast(), buf.len(), 0) };
    let Ok(n) = usize::try_from(n) else {
        return false;
    };
    oom_kills(&buf[..n]) > 0
}

/// The `oom_kill N` count of a `memory.oom_control` or `memory.events`.
fn oom_kills(text: &[u8]) -> u64 {
    text.split(|b| *b == b'\n')
        .find_map(|line| line.strip_prefix(b"oom_kill "))
        .map(|digits| {
            digits
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .fold(0u64, |n, d| {
                    n.saturating_mul(10).saturating_add(u64::from(d - b'0'))
                })
        })
        .unwrap_or(0)
}

/// Joins the cgroup: writes `0` (the calling process, single-threaded) to
/// its `tasks` or `cgroup.procs`. In the child; allocation-free.
pub(crate) fn join(file: RawFd) -> nix::Result<()> {
    // SAFETY: writing from a static buffer to a descriptor we own.
    let n = unsafe { libc::write(file, b"0".as_ptr().cast(), 1) };
    nix::errno::Errno::result(n).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_memory_cgroup_is_found_from_proc_on_a_hybrid_host() {
        let own = "9:pids:/\n4:memory:/api/abc\n0::/\n";
        let mounts = "\
30 25 0:26 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw
33 25 0:29 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
34 25 0:30 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids
";
        assert_eq!(
            locate(own, mounts),
            Some((Flavor::V1, PathBuf::from("/sys/fs/cgroup/memory/api/abc")))
        );
    }

    #[test]
    fn a_mount_of_part_of_the_tree_is_joined_from_its_root() {
        // In a container the mount's root is the container's cgroup.
        let own = "0::/ctr/app\n";
        let mounts = "40 30 0:26 /ctr /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n";
        assert_eq!(
            locate(own, mounts),
            Some((Flavor::V2, PathBuf::from("/sys/fs/cgroup/app")))
        );
        assert_eq!(locate("0::/\n", ""), None, "no cgroup2 mount");
    }

    #[test]
    fn oom_kills_are_read_from_either_layout() {
        assert_eq!(
            oom_kills(b"oom_kill_disable 0\nunder_oom 0\noom_kill 3\n"),
            3
        );
        assert_eq!(
            oom_kills(b"low 0\nhigh 0\nmax 12\noom 1\noom_kill 1\noom_group_kill 0\n"),
            1
        );
        assert_eq!(oom_kills(b"oom_kill_disable 0\nunder_oom 0\n"), 0);
    }
}
