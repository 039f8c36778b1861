//! Tries one thing a jail should deny (or allow) and says what happened:
//! the jail's tests run it inside the jail, and an operator can too, to see
//! what a policy lets through on a given host.
//!
//! Each mode prints one line and exits 0 when the thing worked, 1 when it
//! was refused, 2 on bad usage.

use std::io::{BufRead, Read, Write};
use std::net::TcpStream;
use std::os::fd::FromRawFd;
use std::os::unix::net::UnixStream;
use std::process::ExitCode;

const USAGE: &str = "usage: ww-jail-probe MODE [ARG]
  read PATH       read a file or list a directory
  write PATH      create and write a file
  exec PATH       run a program (with no arguments) and wait for it
  connect ADDR    open a TCP connection (host:port)
  unix-socket     create a Unix socket
  ptrace PID      attach to a process with ptrace
  syscall NAME    make one system call a jail denies: unshare (a user
                  namespace), clone-newuser, io_uring, bpf, keyctl, x32
                  (getpid by its x32 number)
  fork-bomb       fork until refused; print how many forks succeeded
  alloc BYTES     allocate and touch BYTES of memory, 1 MiB at a time
  alloc-tree N BYTES
                  start N children that each allocate BYTES (as alloc) and
                  hold it until all have; print how each ended
  spin            loop on the CPU forever
  tree N          start N children that each start a child; print the pids; wait
  fd3             send `ping` on fd 3 and print the answer
  open-fds        print the open descriptors below 1024
  pause           wait forever
  jail-pause      (unjailed) jail `ww-jail-probe pause`, print the jail's
                  init pid and the program's pid, wait forever
  jail-run MODE [ARG]
                  (unjailed) run `ww-jail-probe MODE [ARG]` jailed (at most
                  16 processes), print its output and how it ended";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| args.get(i).map(String::as_str).unwrap_or("");
    let result = match arg(0) {
        "read" => read(arg(1)),
        "write" => std::fs::write(arg(1), b"written by ww-jail-probe").map(|()| "written".into()),
        "exec" => std::process::Command::new(arg(1))
            .status()
            .map(|s| format!("ran: {s}")),
        "connect" => TcpStream::connect(arg(1)).map(|_| "connected".into()),
        "unix-socket" => socket(libc::AF_UNIX),
        "ptrace" => ptrace(arg(1)),
        "syscall" => syscall(arg(1)),
        "fork-bomb" => fork_bomb(),
        "alloc" => alloc(arg(1)),
        "alloc-tree" => alloc_tree(arg(1), arg(2)),
        "spin" => spin(),
        "tree" => tree(arg(1)),
        "fd3" => fd3(),
        "open-fds" => Ok((0..1024)
            // SAFETY: F_GETFD only reads a descriptor's flags.
            .filter(|fd| unsafe { libc::fcntl(*fd, libc::F_GETFD) } >= 0)
            .map(|fd| fd.to_string())
            .collect::<Vec<_>>()
            .join(" ")),
        "jail-pause" => jail_pause(),
        "jail-run" => jail_run(&args[1..]),
        "pause" => loop {
            // SAFETY: pause only waits for a signal.
            unsafe { libc::pause() };
        },
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            println!("refused: {e}");
            ExitCode::FAILURE
        }
    }
}

type Probe = std::io::Result<String>;

fn read(path: &str) -> Probe {
    if std::fs::metadata(path)?.is_dir() {
        let n = std::fs::read_dir(path)?.count();
        Ok(format!("listed {n} entries"))
    } else {
        let n = std::fs::read(path)?.len();
        Ok(format!("read {n} bytes"))
    }
}

fn socket(domain: libc::c_int) -> Probe {
    // SAFETY: socket takes no pointer; the descriptor is closed at once.
    let fd = unsafe { libc::socket(domain, libc::SOCK_STREAM, 0) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: as above.
    unsafe { libc::close(fd) };
    Ok("created".into())
}

fn ptrace(pid: &str) -> Probe {
    let pid: libc::pid_t = pid.parse().map_err(std::io::Error::other)?;
    // SAFETY: PTRACE_SEIZE takes no pointer (addr and data are 0).
    let rc = unsafe { libc::ptrace(libc::PTRACE_SEIZE, pid, 0, 0) };
    if rc < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(format!("attached to {pid}"))
}

fn fork_bomb() -> Probe {
    let mut forked = 0u32;
    loop {
        // SAFETY: the child only waits for a signal.
        match unsafe { libc::fork() } {
            -1 => {
                let e = std::io::Error::last_os_error();
                return Ok(format!("forked {forked}, then: {e}"));
            }
            0 => loop {
                // SAFETY: as above.
                unsafe { libc::pause() };
            },
            _ => forked += 1,
        }
        if forked >= 100_000 {
            return Ok(format!("forked {forked}, unbounded"));
        }
    }
}

fn alloc(bytes: &str) -> Probe {
    let bytes: usize = bytes.parse().map_err(std::io::Error::other)?;
    let chunks = touched(bytes);
    Ok(format!(
        "allocated {} bytes in {} chunks",
        chunks.len() << 20,
        chunks.len()
    ))
}

/// At least `bytes` of memory, 1 MiB at a time, each page written, so it
/// is really used.
fn touched(bytes: usize) -> Vec<Vec<u8>> {
    (0..bytes.div_ceil(1 << 20))
        .map(|_| vec![1u8; 1 << 20])
        .collect()
}

fn alloc_tree(n: &str, bytes: &str) -> Probe {
    let n: usize = n.parse().map_err(std::io::Error::other)?;
    let mut children = Vec::new();
    // Each child holds its memory until the parent closes the pipe.
    let mut hold = [0; 2];
    // SAFETY: pipe writes two descriptors into the array.
    if unsafe { libc::pipe(hold.as_mut_ptr()) } < 0 {
        return Err(std::io::Error::last_os_error());
    }
    let mut ready = [0; 2];
    // SAFETY: as above.
    if unsafe { libc::pipe(ready.as_mut_ptr()) } < 0 {
        return Err(std::io::Error::last_os_error());
    }
    for _ in 0..n {
        // SAFETY: the child allocates, writes a byte and reads a pipe.
        match unsafe { libc::fork() } {
            -1 => return Err(std::io::Error::last_os_error()),
            0 => {
                let held = bytes.parse().map(touched);
                // SAFETY: pipe descriptors of this process, a live buffer.
                unsafe {
                    libc::close(hold[1]);
                    libc::write(ready[1], b"1".as_ptr().cast(), 1);
                    libc::close(ready[1]);
                    let mut byte = 0u8;
                    libc::read(hold[0], (&mut byte as *mut u8).cast(), 1);
                    // Held until here: the children's memory adds up.
                    libc::_exit(i32::from(std::hint::black_box(held).is_err()));
                }
            }
            pid => children.push(pid),
        }
    }
    // SAFETY: closing our copies of the children's ends.
    unsafe {
        libc::close(ready[1]);
        libc::close(hold[0]);
    }
    // Wait until every child has allocated (or died trying: its end of
    // `ready` closes then), then let them go.
    // SAFETY: the read end is ours.
    let mut from_children = unsafe { std::fs::File::from_raw_fd(ready[0]) };
    let mut seen = Vec::new();
    from_children.read_to_end(&mut seen)?;
    // SAFETY: closing the write end releases every child.
    unsafe { libc::close(hold[1]) };
    let mut endings = Vec::new();
    for pid in children {
        let mut status = 0;
        // SAFETY: waiting for our own child.
        unsafe { libc::waitpid(pid, &mut status, 0) };
        endings.push(if libc::WIFSIGNALED(status) {
            format!("signal {}", libc::WTERMSIG(status))
        } else {
            format!("exit {}", libc::WEXITSTATUS(status))
        });
    }
    Ok(format!("{} allocated; {}", seen.len(), endings.join(", ")))
}

fn spin() -> Probe {
    let mut x: u64 = 0;
    loop {
        x = std::hint::black_box(x.wrapping_add(1));
    }
}

fn tree(n: &str) -> Probe {
    let n: u32 = n.parse().map_err(std::io::Error::other)?;
    let mut out = std::io::stdout().lock();
    for _ in 0..n {
        let mut pipe = [0; 2];
        // SAFETY: pipe writes two descriptors into the array.
        if unsafe { libc::pipe(pipe.as_mut_ptr()) } < 0 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: the children only fork, write a pid and wait.
        match unsafe { libc::fork() } {
            -1 => return Err(std::io::Error::last_os_error()),
            0 => {
                // The child: start a grandchild, say both pids, wait.
                // SAFETY: as above.
                let grandchild = unsafe { libc::fork() };
                if grandchild == 0 {
                    loop {
                        // SAFETY: waits for a signal.
                        unsafe { libc::pause() };
                    }
                }
                let line = format!("{} {}\n", std::process::id(), grandchild);
                // SAFETY: writing a live buffer to the pipe.
                unsafe { libc::write(pipe[1], line.as_ptr().cast(), line.len()) };
                loop {
                    // SAFETY: waits for a signal.
                    unsafe { libc::pause() };
                }
            }
            _ => {
                // SAFETY: the parent's write end is closed; the read end is ours.
                let from_child = unsafe {
                    libc::close(pipe[1]);
                    std::fs::File::from_raw_fd(pipe[0])
                };
                // One line, not to the end: the grandchild holds the pipe too.
                let mut line = String::new();
                std::io::BufReader::new(from_child).read_line(&mut line)?;
                // Pids as seen in the jail's PID namespace.
                write!(out, "{line}")?;
            }
        }
    }
    writeln!(out, "ready")?;
    out.flush()?;
    drop(out);
    loop {
        // SAFETY: waits for a signal.
        unsafe { libc::pause() };
    }
}

fn fd3() -> Probe {
    // SAFETY: fd 3 is the socket the caller passed; this process owns it now.
    let mut vat = unsafe { UnixStream::from_raw_fd(3) };
    vat.write_all(b"ping")?;
    let mut answer = [0; 4];
    vat.read_exact(&mut answer)?;
    Ok(format!("answer: {}", String::from_utf8_lossy(&answer)))
}

/// A jail for this probe alone.
fn own_jail() -> std::io::Result<(std::path::PathBuf, ww_jail::Jail)> {
    let me = std::env::current_exe()?;
    let mut policy = ww_jail::Policy {
        executable: vec![me.clone()],
        ..ww_jail::Policy::default()
    };
    policy.limits.processes = Some(16);
    let jail = ww_jail::Jail::new(&policy).map_err(std::io::Error::other)?;
    Ok((me, jail))
}

fn jail_run(args: &[String]) -> Probe {
    let (me, jail) = own_jail()?;
    let mut command = std::process::Command::new(me);
    command.args(args);
    let mut jailed = jail.spawn(command, &[]).map_err(std::io::Error::other)?;
    let ending = jailed.wait()?;
    Ok(format!("ending: {ending}"))
}

fn jail_pause() -> Probe {
    let (me, jail) = own_jail()?;
    let mut command = std::process::Command::new(me);
    command.arg("pause");
    let jailed = jail.spawn(command, &[]).map_err(std::io::Error::other)?;
    let init = jailed.id();
    let children = std::fs::read_to_string(format!("/proc/{init}/task/{init}/children"))?;
    println!("{init} {}", children.trim());
    // The handle stays alive (and the cell running) until this process dies.
    std::mem::forget(jailed);
    loop {
        // SAFETY: waits for a signal.
        unsafe { libc::pause() };
    }
}

fn syscall(name: &str) -> Probe {
    let mut io_uring_params = [0u8; 120];
    // SAFETY: each call passes null or a live buffer large enough.
    let rc = unsafe {
        match name {
            "unshare" => libc::unshare(libc::CLONE_NEWUSER) as libc::c_long,
            "clone-newuser" => {
                let flags = (libc::CLONE_NEWUSER | libc::SIGCHLD) as libc::c_ulong;
                let pid = libc::syscall(libc::SYS_clone, flags, 0, 0, 0, 0);
                if pid == 0 {
                    libc::_exit(0);
                }
                pid
            }
            "io_uring" => libc::syscall(libc::SYS_io_uring_setup, 1, io_uring_params.as_mut_ptr()),
            "bpf" => libc::syscall(libc::SYS_bpf, 0, std::ptr::null::<u8>(), 0),
            "keyctl" => libc::syscall(libc::SYS_keyctl, 0, -1, 0),
            #[cfg(target_arch = "x86_64")]
            "x32" => libc::syscall(0x4000_0000 | libc::SYS_getpid),
            _ => return Err(std::io::Error::other(format!("unknown system call {name}"))),
        }
    };
    if rc < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(format!("{name} returned {rc}"))
}
