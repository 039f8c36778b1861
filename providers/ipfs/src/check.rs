//! The check of a data directory's store: what a crash, a disk or a hand
//! can leave behind, found and (on request) repaired.
//!
//! The store's own writes cannot leave damage ([`crate::durable`]): a
//! killed add leaves at most temporary files in `ipfs/tmp` and whole,
//! unpinned blocks. But disks flip bits and people edit files, so
//! `ww check` looks at everything:
//!
//! - every block file hashes to its name (its multihash), else it is
//!   **corrupt** (so is a file in `ipfs/blocks` that is not a block's);
//! - every pin's DAG is whole in the store, else the pin is **dangling**
//!   (it names a block that is missing, corrupt or not valid dag-pb);
//! - temporary files of writers that are gone are **leftovers**: harmless
//!   (no reader looks at them) but taking space.
//!
//! A repair removes all three, so the store is again one a node trusts:
//! a corrupt block can be fetched or added again, a dangling pin pinned
//! again. It takes the store's lease exclusively ([`Lease`]): not while a
//! node or `ww push` works on it. The node itself, at start, only removes
//! leftovers ([`at_start`]), which is safe beside other writers and costs
//! one directory listing.

use std::collections::HashSet;
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use cid::Cid;
use ipld_dagpb::PbNode;
use multihash::Multihash;

use crate::blockstore::{self, Blockstore, Swept, IDENTITY};
use crate::durable;
use crate::error::{IpfsError, Result};
use crate::gc;
use crate::lease::Lease;
use crate::pins::Pins;
use crate::reader::{DAG_PB, RAW};

/// What a check may change.
#[derive(Clone, Copy, Debug, Default)]
pub struct CheckOptions {
    /// Remove corrupt blocks, dangling pins and leftovers.
    pub repair: bool,
    /// Then collect every block no pin reaches (as an unpin does).
    pub gc: bool,
}

/// A pin whose DAG is not whole.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dangling {
    /// The pin record's name (a CID, unless that is what is wrong).
    pub pin: String,
    /// What is wrong.
    pub why: String,
}

/// What a check found, and did.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// The store checked (`<data-dir>/ipfs`).
    pub dir: PathBuf,
    /// Sound blocks.
    pub blocks: usize,
    /// Pins whose DAG is whole.
    pub pins: usize,
    /// Block files that do not hash to their name, or are not blocks.
    pub corrupt: Vec<PathBuf>,
    /// Pins whose DAG is not whole.
    pub dangling: Vec<Dangling>,
    /// Temporary files of writers that are gone.
    pub leftovers: Vec<PathBuf>,
    /// Whether what was found was removed.
    pub repaired: bool,
    /// What a collection removed, when one ran.
    pub collected: Option<Swept>,
}

impl Report {
    /// No corrupt block and no dangling pin (leftovers are harmless).
    pub fn is_clean(&self) -> bool {
        self.corrupt.is_empty() && self.dangling.is_empty()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fate = |what: &str| {
            if self.repaired {
                "removed".to_string()
            } else {
                format!("run `ww check --repair` to remove {what}")
            }
        };
        for path in &self.corrupt {
            writeln!(
                f,
                "corrupt block {}: its bytes do not hash to its name; {}",
                path.display(),
                fate("it")
            )?;
        }
        for pin in &self.dangling {
            writeln!(
                f,
                "dangling pin {}: {}; {} (pin it again to fetch it whole)",
                pin.pin,
                pin.why,
                fate("it")
            )?;
        }
        if !self.leftovers.is_empty() {
            writeln!(
                f,
                "{} leftover(s) of interrupted writes in {}: harmless; {}",
                self.leftovers.len(),
                self.dir.join("tmp").display(),
                if self.repaired {
                    "removed".to_string()
                } else {
                    "the node's next start or `ww check --repair` removes them".to_string()
                }
            )?;
        }
        if let Some(swept) = self.collected {
            writeln!(
                f,
                "collected {} block(s) no pin reaches, kept {}",
                swept.removed, swept.kept
            )?;
        }
        let problems = self.corrupt.len() + self.dangling.len();
        write!(
            f,
            "{}: {} block(s), {} pin(s): ",
            self.dir.display(),
            self.blocks,
            self.pins
        )?;
        match (problems, self.repaired) {
            (0, _) => write!(f, "clean"),
            (n, true) => write!(f, "{n} problem(s), repaired"),
            (n, false) => write!(f, "{n} problem(s); run `ww check --repair`"),
        }
    }
}

/// Checks the store in `data_dir` and, as `options` say, repairs and
/// collects it.
///
/// # Errors
///
/// [`IpfsError::Busy`] for a repair or collection while another process
/// uses the store; an I/O error listing or removing files.
pub fn check(data_dir: &Path, options: CheckOptions) -> Result<Report> {
    let _lease = if options.repair || options.gc {
        Some(Lease::exclusive(data_dir)?)
    } else {
        None
    };
    let dir = data_dir.join("ipfs");
    let mut report = Report {
        dir: dir.clone(),
        repaired: options.repair,
        ..Report::default()
    };
    report.leftovers = leftovers(&dir.join("tmp"))?;
    if options.repair {
        for path in &report.leftovers {
            remove(path)?;
        }
    }
    let sound = check_blocks(&dir.join("blocks"), &mut report)?;
    if options.repair {
        for path in &report.corrupt {
            remove(path)?;
        }
        sync(&dir.join("blocks"))?;
    }
    check_pins(&dir, &sound, &mut report)?;
    if options.repair {
        for pin in &report.dangling {
            remove(&dir.join("pins").join(&pin.pin))?;
        }
        sync(&dir.join("pins"))?;
    }
    if options.gc {
        let store = Blockstore::open(data_dir)?;
        let pins = Pins::open(data_dir)?;
        report.collected = gc::collect(&store, &pins)?;
    }
    Ok(report)
}

/// The node's check at start: removes the leftovers of writers that are
/// gone. Cheap (one listing of `ipfs/tmp`) and safe beside live writers.
pub(crate) fn at_start(data_dir: &Path) {
    let tmp = data_dir.join("ipfs").join("tmp");
    match leftovers(&tmp) {
        Ok(found) if found.is_empty() => {}
        Ok(found) => {
            let removed = found.iter().filter(|p| remove(p).is_ok()).count();
            tracing::info!(
                removed,
                dir = %tmp.display(),
                "ipfs: removed leftovers of interrupted writes"
            );
        }
        Err(e) => tracing::warn!("ipfs: cannot look for leftovers of interrupted writes: {e}"),
    }
}

/// Entries of `tmp` whose writer is gone (or that no writer of ours made).
fn leftovers(tmp: &Path) -> Result<Vec<PathBuf>> {
    let entries = match fs::read_dir(tmp) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(blockstore::io(tmp, "listing temporary files")(e)),
    };
    let mut found = Vec::new();
    for entry in entries {
        let entry = entry.map_err(blockstore::io(tmp, "listing temporary files"))?;
        let name = entry.file_name();
        let live = name
            .to_str()
            .and_then(durable::temp_owner)
            .is_some_and(durable::alive);
        if !live {
            found.push(entry.path());
        }
    }
    found.sort();
    Ok(found)
}

/// Verifies every file under `blocks`; returns the keys of sound blocks
/// and records the rest in `report.corrupt`.
fn check_blocks(blocks: &Path, report: &mut Report) -> Result<HashSet<String>> {
    let mut sound = HashSet::new();
    let listing = blockstore::io(blocks, "listing blocks");
    let shards = match fs::read_dir(blocks) {
        Ok(shards) => shards,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(sound),
        Err(e) => return Err(listing(e)),
    };
    for shard in shards {
        let shard = shard
            .map_err(blockstore::io(blocks, "listing blocks"))?
            .path();
        if !shard.is_dir() {
            report.corrupt.push(shard);
            continue;
        }
        for file in fs::read_dir(&shard).map_err(blockstore::io(&shard, "listing blocks"))? {
            let path = file
                .map_err(blockstore::io(&shard, "listing blocks"))?
                .path();
            match block_key(&path)? {
                Some(key) => {
                    report.blocks += 1;
                    sound.insert(key);
                }
                None => report.corrupt.push(path),
            }
        }
    }
    report.corrupt.sort();
    Ok(sound)
}

/// The key of the block file at `path` when its bytes hash to its name
/// and it sits in its shard; `None` when not.
fn block_key(path: &Path) -> Result<Option<String>> {
    let Some(key) = path.file_name().and_then(|n| n.to_str()) else {
        return Ok(None);
    };
    let shard = path
        .parent()
        .and_then(|p| p.file_name())
        .and_then(|n| n.to_str());
    if key.len() < 2 || shard != Some(&key[key.len() - 2..]) {
        return Ok(None);
    }
    let Some(hash) = hex::decode(key)
        .ok()
        .and_then(|bytes| Multihash::<64>::from_bytes(&bytes).ok())
    else {
        return Ok(None);
    };
    if hash.code() == IDENTITY || Blockstore::key(&Cid::new_v1(RAW, hash)) != key {
        return Ok(None);
    }
    let data = match fs::read(path) {
        Ok(data) => data,
        // Removed meanwhile (a collection in a node): not damage.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(blockstore::io(path, "reading a block")(e)),
    };
    Ok(blockstore::verify(&Cid::new_v1(RAW, hash), &data)
        .is_ok()
        .then(|| key.to_string()))
}

/// Walks every pin's DAG through the `sound` blocks; records the pins
/// that are not whole in `report.dangling`.
fn check_pins(dir: &Path, sound: &HashSet<String>, report: &mut Report) -> Result<()> {
    let pins = dir.join("pins");
    let entries = match fs::read_dir(&pins) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(blockstore::io(&pins, "listing pins")(e)),
    };
    let blocks = dir.join("blocks");
    for entry in entries {
        let entry = entry.map_err(blockstore::io(&pins, "listing pins"))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let why = match Cid::try_from(name.as_str()) {
            Ok(root) => missing(&blocks, sound, root)?,
            Err(e) => Some(format!("its name is not a CID ({e})")),
        };
        match why {
            None => report.pins += 1,
            // Unpinned meanwhile (by a node): not damage.
            Some(_) if !entry.path().exists() => {}
            Some(why) => report.dangling.push(Dangling { pin: name, why }),
        }
    }
    report.dangling.sort_by(|a, b| a.pin.cmp(&b.pin));
    Ok(())
}

/// What of `root`'s DAG is not in the store, if anything.
fn missing(blocks: &Path, sound: &HashSet<String>, root: Cid) -> Result<Option<String>> {
    let mut seen = HashSet::new();
    let mut pending = vec![root];
    while let Some(cid) = pending.pop() {
        let key = Blockstore::key(&cid);
        if !seen.insert(key.clone()) {
            continue;
        }
        let data = if cid.hash().code() == IDENTITY {
            cid.hash().digest().to_vec()
        } else if !sound.contains(&key) {
            return Ok(Some(format!(
                "block {cid} of its DAG is missing or corrupt"
            )));
        } else {
            let path = blocks.join(&key[key.len() - 2..]).join(&key);
            match fs::read(&path) {
                Ok(data) => data,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    return Ok(Some(format!("block {cid} of its DAG is missing")))
                }
                Err(e) => return Err(blockstore::io(&path, "reading a block")(e)),
            }
        };
        if cid.codec() == DAG_PB {
            match PbNode::from_bytes(Bytes::from(data)) {
                Ok(node) => pending.extend(node.links.iter().map(|l| l.cid)),
                Err(e) => return Ok(Some(format!("block {cid} is not valid dag-pb ({e})"))),
            }
        }
    }
    Ok(None)
}

fn remove(path: &Path) -> Result<()> {
    let result = if path.is_dir() {
        fs::remove_dir_all(path)
    } else {
        fs::remove_file(path)
    };
    match result {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(IpfsError::Store {
            path: path.to_path_buf(),
            what: "removing a damaged or leftover file",
            source: e,
        }),
    }
}

fn sync(dir: &Path) -> Result<()> {
    match durable::sync_dir(dir) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(blockstore::io(dir, "syncing a directory")(e))
        }
        _ => Ok(()),
    }
}
