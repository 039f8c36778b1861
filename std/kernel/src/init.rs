//! Boot-time work: `etc/init.d/*.glia` in name order, then the services in
//! `svc/<name>/`.

use std::rc::Rc;

use ww_capnp::system_capnp::{executor, process};

use crate::session::Session;

/// Where init scripts live in the image.
pub const INIT_DIR: &str = "/etc/init.d";
/// Where services live: each `svc/<name>/` is an image with `boot/main.wasm`.
pub const SVC_DIR: &str = "/svc";

/// Entries of `dir` whose names pass `keep`, sorted by name.
fn sorted(dir: &str, keep: impl Fn(&std::fs::DirEntry) -> bool) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .filter(|e| keep(e))
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    names.sort();
    names
}

/// Evaluates each init script; an error in one is reported on stderr and
/// the next runs. Returns how many failed.
pub async fn run_scripts(session: &Session) -> usize {
    let mut failures = 0;
    let scripts = sorted(INIT_DIR, |e| {
        e.file_name().to_string_lossy().ends_with(".glia")
            && e.file_type().is_ok_and(|t| t.is_file())
    });
    for name in scripts {
        let path = format!("{INIT_DIR}/{name}");
        let result = match std::fs::read_to_string(&path) {
            Ok(src) => session
                .eval(&src)
                .await
                .map(drop)
                .map_err(|e| e.to_string()),
            Err(e) => Err(format!("cannot read it: {e}")),
        };
        if let Err(e) = result {
            failures += 1;
            eprintln!("init: {path}: error: {e}");
        }
    }
    failures
}

/// Starts every `svc/<name>/boot/main.wasm` with the capabilities
/// `(grant "<name>" …)` gave it (none otherwise), its directory as `/`.
/// Returns the running services; a service that cannot start is reported.
pub async fn start_services(session: &Rc<Session>) -> Vec<(String, process::Client)> {
    let names = sorted(SVC_DIR, |e| e.file_type().is_ok_and(|t| t.is_dir()));
    let mut running = Vec::new();
    if names.is_empty() {
        return running;
    }
    let Some(caps) = session.caps() else {
        return running;
    };
    let exec: executor::Client = match caps.get("executor") {
        Ok(e) => e,
        Err(e) => {
            eprintln!("svc: cannot start services: {}", e.extra);
            return running;
        }
    };
    for name in names {
        let root = format!("{SVC_DIR}/{name}");
        let granted: Vec<String> = session
            .grants
            .borrow()
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, caps)| caps.clone())
            .unwrap_or_default();
        let result = async {
            let mut request = exec.spawn_request();
            let mut p = request.get();
            p.reborrow()
                .init_args(1)
                .set(0, format!("{root}/boot/main.wasm").as_str());
            p.set_root(root.as_str());
            let exports: Vec<_> = caps
                .iter()
                .filter(|e| granted.iter().any(|g| g == e.name()))
                .collect();
            let mut list = p.init_caps(exports.len() as u32);
            for (i, e) in exports.iter().enumerate() {
                e.write(list.reborrow().get(i as u32))?;
            }
            let reply = request.send().promise.await?;
            reply.get()?.get_process()
        }
        .await;
        match result {
            Ok(p) => running.push((name, p)),
            Err(e) => eprintln!("svc: {root}: cannot start: {}", e.extra),
        }
    }
    running
}

/// Copies every service's stdout and stderr to the kernel's, each line
/// prefixed with the service's name, until all have closed them.
pub async fn forward_output(services: &[(String, process::Client)]) {
    let copies = services.iter().flat_map(|(name, p)| {
        [
            (name.clone(), p.clone(), true),
            (name.clone(), p.clone(), false),
        ]
    });
    futures::future::join_all(copies.map(|(name, p, out)| async move {
        let stream = if out {
            match p.stdout_request().send().promise.await {
                Ok(r) => r.get().and_then(|r| r.get_stream()),
                Err(e) => Err(e),
            }
        } else {
            match p.stderr_request().send().promise.await {
                Ok(r) => r.get().and_then(|r| r.get_stream()),
                Err(e) => Err(e),
            }
        };
        let Ok(stream) = stream else { return };
        let mut partial = String::new();
        let _ = crate::bin::copy(stream, |text| {
            partial.push_str(text);
            while let Some(end) = partial.find('\n') {
                let line: String = partial.drain(..=end).collect();
                if out {
                    print!("{name}: {line}");
                } else {
                    eprint!("{name}: {line}");
                }
            }
        })
        .await;
        if !partial.is_empty() {
            println!("{name}: {partial}");
        }
    }))
    .await;
}
