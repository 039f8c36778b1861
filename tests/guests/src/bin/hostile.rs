//! A hostile cell: argv[1] picks an attack on the node's resources, each
//! written frame by frame onto the cell's RPC transport (see
//! `ww_test_guests::raw_vat`), and each printing `name: result` lines the
//! tests assert:
//!
//! - `amplify N`: N pipelined calls whose parameters share one 64 KiB list
//!   through 448 pointers, so ~70 KiB on the wire read as ~28 MiB; prints
//!   how many were refused and why, then `ready`, and waits for a line
//!   (the test samples the node's memory);
//! - `unread N`: N pipelined calls whose answers it never reads;
//! - `caps N`: up to N grafts it never releases; prints the first
//!   refusal, then `ready`, and waits for a line;
//! - `flood N`: spawns `idle` and writes N MiB to its stdin, pipelined,
//!   never waiting for a write to finish;
//! - `idle`: never reads its stdin, never ends;
//! - `violate`: grafts through the WIT door, breaks its vat with a garbage
//!   frame, then calls through the WIT door again.
//!
//! Run as a kernel's service (no argv), it reads the attack's words from
//! `/etc/attack`.

use capnp::traits::HasTypeId;
use futures::io::AsyncReadExt;
use ww_capnp::identity_capnp::identity;
use ww_capnp::membrane_capnp::membrane;
use ww_capnp::system_capnp::{byte_stream, executor, process};
use ww_guest::executor::block_on;
use ww_test_guests::raw_vat::{Answer, RawVat, Target};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn main() {
    let mut args: Vec<String> = std::env::args().collect();
    if args.len() < 2 {
        if let Ok(words) = std::fs::read_to_string("/etc/attack") {
            args.extend(words.split_whitespace().map(String::from));
        }
    }
    let n = |i: usize| args.get(i).and_then(|a| a.parse::<u32>().ok()).unwrap_or(1);
    let outcome = match args.get(1).map(String::as_str) {
        Some("amplify") => block_on(amplify(n(2))),
        Some("unread") => block_on(unread(n(2))),
        Some("caps") => block_on(caps(n(2))),
        Some("flood") => block_on(flood(n(2))),
        Some("idle") => block_on(idle()),
        Some("violate") => block_on(violate()),
        other => Err(format!("unknown attack {other:?}").into()),
    };
    if let Err(e) = outcome {
        println!("error: {e}");
        ww_guest::exit(1);
    }
}

fn import(exports: &[(String, u32)], name: &str) -> Result<u32> {
    exports
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, id)| *id)
        .ok_or_else(|| format!("no {name} in the graft").into())
}

/// Pointers in the outer list, and words of the one list they all share.
const POINTERS: u32 = 448;
const SHARED_WORDS: u32 = 8192;
/// Marks the shared list's words, to find it in the frame.
const MAGIC: u64 = 0x5757_5757_5757_5757;

/// A call to `identity.publicKey` whose parameters are a list of
/// [`POINTERS`] pointers to one shared list of [`SHARED_WORDS`] words.
fn amplified_call(q: u32, identity: u32) -> Result<Vec<u8>> {
    let mut frame = RawVat::call_frame(
        q,
        Target::Import(identity),
        identity::Client::TYPE_ID,
        0,
        |content| {
            let mut outer = content
                .initn_as::<capnp::list_list::Builder<'_, capnp::primitive_list::Owned<u64>>>(
                    POINTERS,
                );
            let mut shared = outer.reborrow().init(0, SHARED_WORDS);
            for i in 0..SHARED_WORDS {
                shared.set(i, MAGIC);
            }
            Ok(())
        },
    )?;
    // The outer list's pointers sit just before the shared list: point
    // every one of them where the first points.
    let words = frame.len() / 8;
    let word = |f: &[u8], i: usize| u64::from_le_bytes(f[i * 8..i * 8 + 8].try_into().unwrap());
    let shared = (0..words)
        .find(|&i| word(&frame, i) == MAGIC)
        .ok_or("shared list not found")?;
    let first = shared - POINTERS as usize;
    let hi = word(&frame, first) & 0xFFFF_FFFF_0000_0000;
    for i in 1..POINTERS as usize {
        let offset = (POINTERS as u64 - 1 - i as u64) << 2;
        let pointer = hi | offset | 1;
        frame[(first + i) * 8..(first + i) * 8 + 8].copy_from_slice(&pointer.to_le_bytes());
    }
    Ok(frame)
}

async fn amplify(count: u32) -> Result<()> {
    let mut vat = RawVat::connect()?;
    let exports = vat.graft().await?;
    let identity = import(&exports, "identity")?;
    let frame = amplified_call(2, identity)?;
    println!("amplify: {} bytes on the wire per call", frame.len());
    let mut refused = 0;
    let mut reason = String::new();
    for i in 0..count {
        let mut call = frame.clone();
        // The question id is the call's first field (data word 0 of Call).
        patch_question(&mut call, 2 + i);
        vat.write_frame(&call).await?;
    }
    for _ in 0..count {
        match vat.next_answer().await?.1 {
            Answer::Exception(e) => {
                refused += 1;
                reason = e;
            }
            Answer::Results(..) => {}
        }
    }
    println!("amplify: refused {refused} of {count}: {reason}");
    ww_test_guests::ready_then_wait()?;
    Ok(())
}

/// Sets the question id of a `Call` frame written by [`RawVat::call_frame`]:
/// after the segment table come the root pointer (word 0) and the
/// `Message` struct (data word 1, pointer word 2), then `Call`, whose first
/// data word (word 3) holds the id.
fn patch_question(frame: &mut [u8], q: u32) {
    let segments = u32::from_le_bytes(frame[0..4].try_into().unwrap()) as usize + 1;
    let table = (4 + 4 * segments).div_ceil(8) * 8;
    let at = table + 3 * 8;
    frame[at..at + 4].copy_from_slice(&q.to_le_bytes());
}

/// `Membrane.graft` and `Membrane.epoch`.
const GRAFT: u16 = 0;
const EPOCH: u16 = 1;

/// A call of `method` on the membrane (the bootstrap, question 0) as
/// question `q`.
fn membrane_call(q: u32, method: u16) -> Result<Vec<u8>> {
    Ok(RawVat::call_frame(
        q,
        Target::Answer(0, &[]),
        membrane::Client::TYPE_ID,
        method,
        |_| Ok(()),
    )?)
}

async fn unread(count: u32) -> Result<()> {
    let mut vat = RawVat::connect()?;
    vat.bootstrap(0).await?;
    println!("unread: sending");
    for q in 1..=count {
        vat.write_frame(&membrane_call(q, EPOCH)?).await?;
    }
    println!("unread: sent {count}");
    ww_test_guests::ready_then_wait()?;
    Ok(())
}

async fn caps(count: u32) -> Result<()> {
    let mut vat = RawVat::connect()?;
    vat.bootstrap(0).await?;
    // One graft at a time, each answer read but never finished or
    // released, so every capability it handed out stays held.
    for q in 1..=count {
        vat.write_frame(&membrane_call(q, GRAFT)?).await?;
        if let Answer::Exception(e) = vat.answer(q).await? {
            println!("caps: graft {q} refused: {e}");
            ww_test_guests::ready_then_wait()?;
            return Ok(());
        }
    }
    println!("caps: all {count} grafts granted");
    Ok(())
}

async fn flood(mib: u32) -> Result<()> {
    let mut vat = RawVat::connect()?;
    let exports = vat.graft().await?;
    let executor = import(&exports, "executor")?;
    let spawn = RawVat::call_frame(
        2,
        Target::Import(executor),
        executor::Client::TYPE_ID,
        1,
        |content| {
            let mut p: executor::spawn_params::Builder<'_> = content.init_as();
            let mut args = p.reborrow().init_args(2);
            args.set(0, "/bin/hostile.wasm");
            args.set(1, "idle");
            p.set_root("/");
            Ok(())
        },
    )?;
    vat.write_frame(&spawn).await?;
    let stdin = RawVat::call_frame(
        3,
        Target::Answer(2, &[0]),
        process::Client::TYPE_ID,
        0,
        |_| Ok(()),
    )?;
    vat.write_frame(&stdin).await?;
    if let Answer::Exception(e) = vat.answer(3).await? {
        return Err(format!("the child's stdin: {e}").into());
    }
    let chunk = vec![0x41u8; 1 << 20];
    let mut write = RawVat::call_frame(
        4,
        Target::Answer(3, &[0]),
        byte_stream::Client::TYPE_ID,
        0,
        |content| {
            let mut p: byte_stream::write_params::Builder<'_> = content.init_as();
            p.set_data(&chunk);
            Ok(())
        },
    )?;
    println!("flood: writing {mib} MiB");
    for i in 0..mib {
        patch_question(&mut write, 4 + i);
        vat.write_frame(&write).await?;
    }
    println!("flood: wrote {mib} MiB");
    ww_test_guests::ready_then_wait()?;
    Ok(())
}

async fn idle() -> Result<()> {
    // Waits on its RPC transport, where nothing ever arrives; its stdin is
    // never read.
    let (mut reader, _writer) = ww_guest::raw_transport()?;
    let mut buf = [0u8; 64];
    while reader.read(&mut buf).await? != 0 {}
    Ok(())
}

async fn violate() -> Result<()> {
    use futures::io::AsyncWriteExt;
    use ww_guest::wit;
    let typed = wit::graft().map_err(|e| format!("graft: {e:?}"))?;
    let identity = typed.identity.ok_or("no identity")?;
    match identity.public_key() {
        Ok(key) => println!("violate: before: key of {} bytes", key.len()),
        Err(e) => println!("violate: before: {e:?}"),
    }
    let (mut reader, mut writer) = ww_guest::raw_transport()?;
    writer.write_all(&[0xFFu8; 64]).await?;
    writer.flush().await?;
    let mut buf = [0u8; 4096];
    while matches!(reader.read(&mut buf).await, Ok(n) if n > 0) {}
    println!("violate: vat closed");
    match identity.public_key() {
        Ok(key) => println!("violate: after: STILL OPEN ({} bytes)", key.len()),
        Err(e) => println!("violate: after: {e:?}"),
    }
    match wit::graft() {
        Ok(_) => println!("violate: graft after: STILL OPEN"),
        Err(e) => println!("violate: graft after: {e:?}"),
    }
    Ok(())
}
