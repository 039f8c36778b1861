//! Names of cells' protocols, and the one-byte verdict every ww stream
//! starts with.
//!
//! Cells' protocols live under `/ww/`: a cell may name one `echo` (becoming
//! `/ww/echo`) or `/ww/echo/1.0.0`, but never a system protocol such as
//! `/ipfs/kad/1.0.0` or ww's own DHT.
//!
//! Admission needs an answer the dialer can read: a libp2p stream that is
//! simply dropped looks like a network failure. So the accepting side
//! writes one byte first, [`ACCEPTED`], or [`REFUSED`] followed by a short
//! UTF-8 reason and end of stream; `dial` returns only after reading it.

use futures::{AsyncReadExt, AsyncWriteExt};
use libp2p::{Stream, StreamProtocol};

use crate::behaviour::KAD_PROTOCOL;

/// The namespace of cells' protocols.
pub const NAMESPACE: &str = "/ww/";

/// First byte of an admitted stream.
pub const ACCEPTED: u8 = 0;

/// First byte of a refused stream, followed by the reason.
pub const REFUSED: u8 = 1;

/// The longest refusal reason a dialer reads.
const MAX_REASON: usize = 1024;

/// The libp2p protocol for a cell's protocol name.
///
/// # Errors
///
/// A name outside `/ww/`, ww's reserved protocols, or an invalid name; the
/// text says what to use instead.
pub fn namespaced(name: &str) -> Result<StreamProtocol, capnp::Error> {
    let name = name.trim();
    let full = if name.starts_with('/') {
        name.to_string()
    } else {
        format!("{NAMESPACE}{name}")
    };
    if !full.starts_with(NAMESPACE) || full.len() <= NAMESPACE.len() {
        return Err(capnp::Error::failed(format!(
            "protocol `{name}` is outside the cells' namespace; name it /ww/<name>[/<version>] \
             (or just <name>)"
        )));
    }
    if full == KAD_PROTOCOL.as_ref() || full.starts_with("/ww/kad/") {
        return Err(capnp::Error::failed(format!(
            "protocol `{full}` is reserved for ww's DHT; choose another name"
        )));
    }
    if full.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(capnp::Error::failed(format!(
            "protocol `{name}` contains whitespace or control characters; remove them"
        )));
    }
    StreamProtocol::try_from_owned(full.clone())
        .map_err(|e| capnp::Error::failed(format!("protocol `{full}` is not valid: {e}")))
}

/// Tells the dialer its stream was admitted.
///
/// # Errors
///
/// When the stream fails.
pub async fn accept(stream: &mut Stream) -> std::io::Result<()> {
    stream.write_all(&[ACCEPTED]).await?;
    stream.flush().await
}

/// Tells the dialer why its stream was refused, then closes it.
pub async fn refuse(mut stream: Stream, reason: String) {
    let mut message = vec![REFUSED];
    message.extend_from_slice(&reason.as_bytes()[..reason.len().min(MAX_REASON)]);
    let _ = stream.write_all(&message).await;
    let _ = stream.close().await;
}

/// Reads the verdict at the start of a dialed stream.
///
/// # Errors
///
/// The remote's refusal reason, or what went wrong reading it.
pub async fn verdict(stream: &mut Stream) -> Result<(), String> {
    let mut first = [0u8; 1];
    match stream.read(&mut first).await {
        Ok(0) => Err("the peer closed the stream before admitting it".into()),
        Ok(_) if first[0] == ACCEPTED => Ok(()),
        Ok(_) if first[0] == REFUSED => {
            let mut reason = Vec::new();
            let _ = stream
                .take(MAX_REASON as u64)
                .read_to_end(&mut reason)
                .await;
            Err(format!("refused: {}", String::from_utf8_lossy(&reason)))
        }
        Ok(_) => Err(format!(
            "the peer answered with byte {:#04x}, not a ww stream verdict (is it a ww node?)",
            first[0]
        )),
        Err(e) => Err(format!("reading the peer's answer failed: {e}")),
    }
}
