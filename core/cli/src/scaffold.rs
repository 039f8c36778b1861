//! `ww init NAME`: a new project, created anywhere, that builds on the
//! first try: a guest (a cell: `ww build NAME`, `ww run NAME`) or, with
//! `--provider`, a capability provider (`cargo build`, `ww run --provider`).
//!
//! ww's SDKs are not published on a registry, so a project depends on one
//! by path, and where that path points is the author's to say, as with
//! the templates of `cargo generate` or `spin new`, which never bake the
//! tool's own install location into what they write:
//!
//! - `--sdk DIR` (or `WW_GUEST_SDK` / `WW_PROVIDER_SDK`) names the SDK
//!   crate, or a ww checkout holding it. A relative DIR is written
//!   relative to the project (the two can move together); an absolute
//!   DIR is written as given, since that is what was asked for.
//! - Without it, a project created inside the checkout this `ww` was
//!   built from gets a relative path to that checkout's SDK; anywhere else
//!   `ww init` refuses (status 2) and says which flag to pass.
//!
//! The project declares an empty `[workspace]`, so no workspace around it
//! claims it, and starts from a copy of the SDK's checkout's `Cargo.lock`,
//! so it builds with the exact crate versions ww is tested with (cargo
//! drops the entries it does not need).

mod guest;
mod provider;

use std::path::{Component, Path, PathBuf};

/// The ww checkout this `ww` was built from.
const BUILT_CHECKOUT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

/// What `ww init` creates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A cell for `wasm32-wasip2`.
    Guest,
    /// A provider crate: a `cdylib` for `ww run --provider`, and with
    /// `process` an executable serving the same provider as a process.
    Provider {
        /// Also a `[[bin]]` whose `main` is `ww_provider_sdk::serve`.
        process: bool,
    },
}

impl Kind {
    /// The SDK's package name.
    fn package(self) -> &'static str {
        match self {
            Kind::Guest => "ww-guest",
            Kind::Provider { .. } => "ww-provider-sdk",
        }
    }

    /// Where the SDK is in a ww checkout.
    fn in_checkout(self) -> &'static str {
        match self {
            Kind::Guest => "std/guest",
            Kind::Provider { .. } => "providers/sdk",
        }
    }

    /// The environment variable that names the SDK when `--sdk` does not.
    pub fn sdk_env(self) -> &'static str {
        match self {
            Kind::Guest => "WW_GUEST_SDK",
            Kind::Provider { .. } => "WW_PROVIDER_SDK",
        }
    }
}

/// Why a project could not be created.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    /// The name cannot be a crate name.
    #[error("`{name}` cannot name a Rust crate: use letters, digits, `-` and `_`, starting with a letter")]
    BadName {
        /// The name given.
        name: String,
    },
    /// The directory exists and holds something.
    #[error("{dir} already exists and is not empty: pick another name or remove it")]
    Exists {
        /// The directory.
        dir: PathBuf,
    },
    /// The SDK given is not there.
    #[error(
        "no {package} at {path}: pass --sdk (or set {env}) to its directory, {sub} of a ww \
         checkout, or to the checkout itself"
    )]
    NoSdk {
        /// Where it was looked for.
        path: PathBuf,
        /// The SDK's package name.
        package: &'static str,
        /// Its directory in a checkout.
        sub: &'static str,
        /// The variable that may name it.
        env: &'static str,
    },
    /// No SDK given, and the project is outside this ww's checkout.
    #[error(
        "say where the {package} is: pass --sdk DIR (or set {env}), DIR being {sub} of a ww \
         checkout or the checkout itself (this ww was built from {built}); the project \
         depends on it by path, written relative to the project unless DIR is absolute"
    )]
    NeedSdk {
        /// The SDK's package name.
        package: &'static str,
        /// Its directory in a checkout.
        sub: &'static str,
        /// The variable that may name it.
        env: &'static str,
        /// The checkout this ww was built from.
        built: String,
    },
    /// Writing a file failed.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file or directory.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

impl InitError {
    /// 2 for what the command line must change, 1 for a failed write.
    pub fn exit_code(&self) -> i32 {
        match self {
            InitError::Write { .. } => 1,
            _ => 2,
        }
    }
}

/// Creates a `kind` project at `dir` (its last component names the crate)
/// depending on the SDK at `sdk` (see the module docs for where it is
/// looked for without one).
///
/// # Errors
///
/// See [`InitError`]; nothing is written when the name, the directory or
/// the SDK is wrong.
pub fn init(dir: &Path, kind: Kind, sdk: Option<&Path>) -> Result<(), InitError> {
    let name = dir
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
        .to_string();
    if !valid_name(&name) {
        return Err(InitError::BadName {
            name: dir.display().to_string(),
        });
    }
    if std::fs::read_dir(dir).is_ok_and(|mut entries| entries.next().is_some()) {
        return Err(InitError::Exists {
            dir: dir.to_path_buf(),
        });
    }
    let project = absolute(dir);
    let (sdk, written) = locate_sdk(kind, sdk, &project)?;

    // The checkout's lock: the versions ww is tested with.
    let lock = checkout_lock(&sdk);
    let mut files = match kind {
        Kind::Guest => guest::files(&name, &written),
        Kind::Provider { process } => provider::files(&name, &written, process, lock.as_deref()),
    };
    files.extend(lock.map(|text| ("Cargo.lock".to_string(), text)));
    for (path, text) in &files {
        write(&dir.join(path), text)?;
    }
    Ok(())
}

/// The SDK's directory (canonical) and the path the project's manifest
/// names it by.
fn locate_sdk(
    kind: Kind,
    given: Option<&Path>,
    project: &Path,
) -> Result<(PathBuf, String), InitError> {
    let Some(given) = given else {
        let built = std::fs::canonicalize(BUILT_CHECKOUT).ok();
        let sdk = built
            .as_ref()
            .and_then(|root| sdk_at(kind, root))
            .filter(|_| built.as_ref().is_some_and(|root| project.starts_with(root)));
        return match sdk {
            Some(sdk) => {
                let written = relative(project, &sdk);
                Ok((sdk, written))
            }
            None => Err(InitError::NeedSdk {
                package: kind.package(),
                sub: kind.in_checkout(),
                env: kind.sdk_env(),
                built: built
                    .map_or_else(|| BUILT_CHECKOUT.to_string(), |p| p.display().to_string()),
            }),
        };
    };
    let sdk = std::fs::canonicalize(given)
        .ok()
        .and_then(|p| sdk_at(kind, &p))
        .ok_or_else(|| InitError::NoSdk {
            path: given.to_path_buf(),
            package: kind.package(),
            sub: kind.in_checkout(),
            env: kind.sdk_env(),
        })?;
    let written = match given.is_absolute() {
        true => sdk.display().to_string(),
        false => relative(project, &sdk),
    };
    Ok((sdk, written))
}

/// The SDK crate at `dir`, or in the checkout at `dir`: the directory
/// whose `Cargo.toml` names the package.
fn sdk_at(kind: Kind, dir: &Path) -> Option<PathBuf> {
    let names = |d: &Path| {
        std::fs::read_to_string(d.join("Cargo.toml"))
            .is_ok_and(|t| t.contains(&format!("name = \"{}\"", kind.package())))
    };
    [dir.to_path_buf(), dir.join(kind.in_checkout())]
        .into_iter()
        .find(|d| names(d))
}

/// The `Cargo.lock` of the checkout holding `sdk` (two levels up).
fn checkout_lock(sdk: &Path) -> Option<String> {
    let root = sdk.parent()?.parent()?;
    std::fs::read_to_string(root.join("Cargo.lock")).ok()
}

/// `dir` made absolute through its nearest existing ancestor (resolving
/// symbolic links there, as the SDK's own path is resolved).
fn absolute(dir: &Path) -> PathBuf {
    let full = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
    let mut rest = Vec::new();
    let mut base = full.as_path();
    loop {
        if let Ok(real) = std::fs::canonicalize(base) {
            return rest.iter().rev().fold(real, |p, c| p.join(c));
        }
        match (base.parent(), base.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_os_string());
                base = parent;
            }
            _ => return full,
        }
    }
}

/// `to` as a path relative to `from` (both absolute), `/` separated.
fn relative(from: &Path, to: &Path) -> String {
    let from: Vec<Component<'_>> = from.components().collect();
    let to: Vec<Component<'_>> = to.components().collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<String> = vec!["..".to_string(); from.len() - common];
    parts.extend(
        to[common..]
            .iter()
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    if parts.is_empty() {
        ".".to_string()
    } else {
        parts.join("/")
    }
}

fn write(path: &Path, text: &str) -> Result<(), InitError> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|source| InitError::Write {
            path: parent.to_path_buf(),
            source,
        })?;
    }
    std::fs::write(path, text).map_err(|source| InitError::Write {
        path: path.to_path_buf(),
        source,
    })
}

fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// A TOML basic string holding `text` (paths and names: Debug's escapes
/// for quotes and backslashes are TOML's).
fn toml_string(text: &str) -> String {
    format!("{text:?}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_must_be_crate_names() {
        assert!(valid_name("demo"));
        assert!(valid_name("my-cell_2"));
        assert!(!valid_name(""));
        assert!(!valid_name("2cells"));
        assert!(!valid_name("a b"));
        assert!(!valid_name(".."));
    }

    #[test]
    fn relative_paths_climb_to_the_common_ancestor() {
        let p = |s: &str| PathBuf::from(s);
        assert_eq!(relative(&p("/a/b/c"), &p("/a/d/e")), "../../d/e");
        assert_eq!(relative(&p("/a/b"), &p("/a/b/x")), "x");
        assert_eq!(relative(&p("/a"), &p("/a")), ".");
    }

    #[test]
    fn refuses_a_non_empty_directory_and_a_missing_sdk() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("demo");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("keep"), "x").unwrap();
        assert!(matches!(
            init(&dir, Kind::Guest, None),
            Err(InitError::Exists { .. })
        ));
        let empty = tmp.path().join("other");
        let missing = tmp.path().join("no-sdk-here");
        let refused = init(&empty, Kind::Guest, Some(&missing)).unwrap_err();
        assert!(matches!(refused, InitError::NoSdk { .. }), "{refused}");
        assert_eq!(refused.exit_code(), 2);
        assert!(!empty.exists(), "nothing is written on a bad SDK path");
    }

    #[test]
    fn outside_the_checkout_the_sdk_must_be_named() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("demo");
        let refused = init(&dir, Kind::Provider { process: false }, None).unwrap_err();
        assert!(matches!(refused, InitError::NeedSdk { .. }), "{refused}");
        assert!(refused.to_string().contains("WW_PROVIDER_SDK"), "{refused}");
        assert!(!dir.exists(), "nothing is written without an SDK");
    }

    #[test]
    fn an_absolute_sdk_is_written_as_asked_and_a_checkout_finds_its_sdk() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("demo");
        let checkout = std::fs::canonicalize(BUILT_CHECKOUT).unwrap();
        init(&dir, Kind::Guest, Some(&checkout)).unwrap();
        let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
        let sdk = checkout.join("std/guest");
        assert!(
            manifest.contains(&format!(
                "path = {}",
                toml_string(&sdk.display().to_string())
            )),
            "{manifest}"
        );
        assert!(manifest.contains("[workspace]"));
        let main = std::fs::read_to_string(dir.join("src/main.rs")).unwrap();
        assert!(main.contains("identity.signer(\"demo\")"));
        assert!(dir.join("Cargo.lock").is_file());
    }

    #[test]
    fn a_relative_sdk_is_written_relative_to_the_project() {
        let tmp = tempfile::tempdir().unwrap();
        let checkout = std::fs::canonicalize(BUILT_CHECKOUT).unwrap();
        let dir = tmp.path().join("deep/demo");
        let from_cwd = relative(&std::env::current_dir().unwrap(), &checkout);
        init(
            &dir,
            Kind::Provider { process: true },
            Some(Path::new(&from_cwd)),
        )
        .unwrap();
        let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
        let want = relative(&absolute(&dir), &checkout.join("providers/sdk"));
        assert!(!want.starts_with('/'), "{want}");
        assert!(
            manifest.contains(&format!("path = {}", toml_string(&want))),
            "{manifest}"
        );
        for file in ["build.rs", "schema/demo.capnp", "src/lib.rs", "src/main.rs"] {
            assert!(dir.join(file).is_file(), "{file}");
        }
    }
}
