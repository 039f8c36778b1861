//! System calls through seccomp: the calls a cell has no business making
//! fail with `EPERM`.
//!
//! The filter is a deny list, not an allow list: a native cell is any
//! program (a Python interpreter, a shell), and the set of calls such
//! programs make moves with every libc release. What is denied is what
//! reaches beyond the process itself: other processes' memory (`ptrace`,
//! `process_vm_*`, `pidfd_getfd`), the file system tree (`mount` and the new
//! mount API, `pivot_root`, `chroot`), namespaces (`unshare`, `setns`, and
//! `clone` with a namespace flag), the kernel's keyrings, BPF, perf,
//! modules, kexec, `io_uring` (its operations bypass seccomp, and include
//! opening sockets), and new sockets of any family but Unix (or none at all,
//! by default; Internet and netlink ones too for a process that keeps the
//! host's network). `clone3` answers `ENOSYS`: its flags sit behind a pointer a
//! filter cannot read, and libc then falls back to `clone`. Faking terminal
//! input (`TIOCSTI`) is denied too: a cell given the operator's terminal
//! could otherwise type commands into the operator's shell.
//!
//! Both filters are compiled in the node; the child only installs them.

use std::collections::BTreeMap;

#[cfg(target_arch = "x86_64")]
use seccompiler::sock_filter;
use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule, TargetArch,
};

use crate::error::{Error, Feature};

/// Calls denied whatever their arguments.
const DENIED: &[libc::c_long] = &[
    libc::SYS_ptrace,
    libc::SYS_process_vm_readv,
    libc::SYS_process_vm_writev,
    libc::SYS_process_madvise,
    libc::SYS_pidfd_getfd,
    libc::SYS_kcmp,
    libc::SYS_mount,
    libc::SYS_umount2,
    libc::SYS_pivot_root,
    libc::SYS_chroot,
    libc::SYS_move_mount,
    libc::SYS_open_tree,
    libc::SYS_fsopen,
    libc::SYS_fsconfig,
    libc::SYS_fsmount,
    libc::SYS_fspick,
    libc::SYS_mount_setattr,
    libc::SYS_unshare,
    libc::SYS_setns,
    libc::SYS_keyctl,
    libc::SYS_add_key,
    libc::SYS_request_key,
    libc::SYS_bpf,
    libc::SYS_perf_event_open,
    libc::SYS_userfaultfd,
    libc::SYS_fanotify_init,
    libc::SYS_name_to_handle_at,
    libc::SYS_open_by_handle_at,
    libc::SYS_io_uring_setup,
    libc::SYS_io_uring_enter,
    libc::SYS_io_uring_register,
    libc::SYS_kexec_load,
    libc::SYS_kexec_file_load,
    libc::SYS_init_module,
    libc::SYS_finit_module,
    libc::SYS_delete_module,
    libc::SYS_reboot,
    libc::SYS_swapon,
    libc::SYS_swapoff,
    libc::SYS_acct,
    libc::SYS_quotactl,
    libc::SYS_syslog,
    libc::SYS_settimeofday,
    libc::SYS_clock_settime,
    libc::SYS_clock_adjtime,
    libc::SYS_adjtimex,
    libc::SYS_sethostname,
    libc::SYS_setdomainname,
    #[cfg(target_arch = "x86_64")]
    libc::SYS_iopl,
    #[cfg(target_arch = "x86_64")]
    libc::SYS_ioperm,
    #[cfg(target_arch = "x86_64")]
    libc::SYS_uselib,
];

/// `clone` flags that make a namespace.
const NAMESPACE_FLAGS: &[libc::c_int] = &[
    libc::CLONE_NEWNS,
    libc::CLONE_NEWUTS,
    libc::CLONE_NEWIPC,
    libc::CLONE_NEWUSER,
    libc::CLONE_NEWPID,
    libc::CLONE_NEWNET,
    libc::CLONE_NEWCGROUP,
];

/// `ioctl` requests denied: faking terminal input.
const DENIED_IOCTLS: &[libc::c_ulong] = &[libc::TIOCSTI, libc::TIOCLINUX];

/// The compiled filters, installed in this order.
pub(crate) struct Filters {
    programs: Vec<BpfProgram>,
}

impl std::fmt::Debug for Filters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Filters({} programs)", self.programs.len())
    }
}

impl Filters {
    /// Compiles the filters for this architecture.
    pub(crate) fn new(unix_sockets: bool, network: bool) -> Result<Filters, Error> {
        let arch =
            TargetArch::try_from(std::env::consts::ARCH).map_err(|e| Error::Unavailable {
                feature: Feature::Seccomp,
                why: e.to_string(),
            })?;
        let mut programs = Vec::new();
        if let Some(guard) = abi_guard() {
            programs.push(guard);
        }
        programs.push(deny(arch, unix_sockets, network)?);
        programs.push(clone3(arch)?);
        Ok(Filters { programs })
    }

    /// Installs the filters on the calling thread (and sets
    /// `no_new_privs`). Allocation-free: safe between fork and exec.
    pub(crate) fn apply(&self) -> std::io::Result<()> {
        for program in &self.programs {
            seccompiler::apply_filter(program).map_err(|e| match e {
                seccompiler::Error::Seccomp(e) | seccompiler::Error::Prctl(e) => e,
                _ => std::io::Error::from_raw_os_error(libc::EINVAL),
            })?;
        }
        Ok(())
    }
}

fn deny(arch: TargetArch, unix_sockets: bool, network: bool) -> Result<BpfProgram, Error> {
    let mut rules: BTreeMap<i64, Vec<SeccompRule>> =
        DENIED.iter().map(|nr| (*nr, Vec::new())).collect();
    let rule = |arg: u8, op: SeccompCmpOp, value: u64| {
        SeccompCondition::new(arg, SeccompCmpArgLen::Dword, op, value)
            .and_then(|c| SeccompRule::new(vec![c]))
    };
    // socket(domain, ...): every family but those allowed (one rule, its
    // conditions all true for a denied family), or all when none is.
    let mut allowed = Vec::new();
    if unix_sockets {
        allowed.push(libc::AF_UNIX);
    }
    if network {
        allowed.extend([libc::AF_INET, libc::AF_INET6, libc::AF_NETLINK]);
    }
    let socket = match allowed.is_empty() {
        true => Vec::new(),
        false => vec![SeccompRule::new(
            allowed
                .iter()
                .map(|f| {
                    SeccompCondition::new(0, SeccompCmpArgLen::Dword, SeccompCmpOp::Ne, *f as u64)
                })
                .collect::<Result<_, _>>()?,
        )?],
    };
    rules.insert(libc::SYS_socket, socket);
    // clone(flags, ...) with any namespace flag.
    let clone = NAMESPACE_FLAGS
        .iter()
        .map(|f| rule(0, SeccompCmpOp::MaskedEq(*f as u64), *f as u64))
        .collect::<Result<_, _>>()?;
    rules.insert(libc::SYS_clone, clone);
    let ioctl = DENIED_IOCTLS
        .iter()
        .map(|r| rule(1, SeccompCmpOp::Eq, *r))
        .collect::<Result<_, _>>()?;
    rules.insert(libc::SYS_ioctl, ioctl);
    let filter = SeccompFilter::new(
        rules,
        SeccompAction::Allow,
        SeccompAction::Errno(libc::EPERM as u32),
        arch,
    )?;
    Ok(filter.try_into()?)
}

fn clone3(arch: TargetArch) -> Result<BpfProgram, Error> {
    let rules = BTreeMap::from([(libc::SYS_clone3, Vec::new())]);
    let filter = SeccompFilter::new(
        rules,
        SeccompAction::Allow,
        SeccompAction::Errno(libc::ENOSYS as u32),
        arch,
    )?;
    Ok(filter.try_into()?)
}

/// On x86_64, the x32 ABI reaches the same calls under other numbers (bit
/// 30 set) with the same audit architecture, so a deny list keyed by number
/// must refuse them all. seccompiler compares whole numbers only, hence
/// these four instructions by hand.
#[cfg(target_arch = "x86_64")]
fn abi_guard() -> Option<BpfProgram> {
    const X32_SYSCALL_BIT: u32 = 0x4000_0000;
    let stmt = |code: u32, k: u32| sock_filter {
        code: code as u16,
        jt: 0,
        jf: 0,
        k,
    };
    let jump = |code: u32, k: u32, jt: u8, jf: u8| sock_filter {
        code: code as u16,
        jt,
        jf,
        k,
    };
    Some(vec![
        // A = seccomp_data.nr
        stmt(libc::BPF_LD | libc::BPF_W | libc::BPF_ABS, 0),
        // if A >= X32_SYSCALL_BIT: deny, else allow
        jump(
            libc::BPF_JMP | libc::BPF_JGE | libc::BPF_K,
            X32_SYSCALL_BIT,
            0,
            1,
        ),
        stmt(
            libc::BPF_RET | libc::BPF_K,
            libc::SECCOMP_RET_ERRNO | libc::EPERM as u32,
        ),
        stmt(libc::BPF_RET | libc::BPF_K, libc::SECCOMP_RET_ALLOW),
    ])
}

#[cfg(not(target_arch = "x86_64"))]
fn abi_guard() -> Option<BpfProgram> {
    None
}
