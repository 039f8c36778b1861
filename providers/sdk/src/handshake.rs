//! The handshake a provider process and a node exchange on fd 3 before any
//! capability: one `Hello` from the provider, one `Welcome` from the node
//! (`provider.capnp`).
//!
//! Why a handshake at all: a process provider may be written in any
//! language against any copy of ww's schemas, so the node needs to know,
//! before it trusts a single call, which protocol the provider speaks and
//! what it declares (its manifest, its needs). Both messages are ordinary
//! Cap'n Proto messages in the standard stream framing, so any Cap'n Proto
//! implementation can speak them, and `protocol` is field 0 of each: a
//! reader of any version finds it, whatever else changed.
//!
//! Each side reads exactly one message (never more bytes than it holds),
//! so the two-party vat that follows starts on the very next byte.

use capnp::message::ReaderOptions;
use futures::io::{AsyncRead, AsyncWrite};
use ww_capnp::provider_capnp::{self, hello, welcome, Audience as WireAudience};

use crate::fingerprint::PROTOCOL_VERSION;
use crate::manifest::{Audience, ConfigKey, ExportDecl, Manifest, Needs};

/// The largest handshake message read, in 8-byte words (512 KiB): a
/// manifest is a few hundred bytes; anything near this is not a manifest.
const MAX_WORDS: usize = 64 * 1024;

/// What a provider process says first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hello {
    /// The provider protocol it speaks.
    pub protocol: u32,
    /// Its manifest.
    pub manifest: Manifest,
    /// What it asks of its jail.
    pub needs: Needs,
    /// What built it ("ww-provider-sdk 0.1.0", "pycapnp 2.2.4").
    pub implementation: String,
}

/// The node's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Welcome {
    /// The provider protocol the node speaks.
    pub protocol: u32,
    /// `Ok` when the vat starts next; `Err` with the node's reason.
    pub verdict: Result<(), String>,
}

/// Why a handshake failed.
#[derive(Debug, thiserror::Error)]
pub enum HandshakeError {
    /// The socket ended (or failed) before a whole message arrived.
    #[error("the connection ended before the handshake: {0}")]
    Closed(#[source] capnp::Error),
    /// The message is not what the handshake expects.
    #[error("its handshake message is malformed: {0}")]
    Malformed(#[source] capnp::Error),
    /// The peer speaks another provider protocol.
    #[error("it speaks ww provider protocol {theirs}; this side speaks protocol {ours}")]
    Protocol {
        /// Ours.
        ours: u32,
        /// The peer's.
        theirs: u32,
    },
    /// The node refused the provider.
    #[error("the node refused it: {0}")]
    Refused(String),
    /// Writing failed.
    #[error("cannot write the handshake: {0}")]
    Write(#[source] capnp::Error),
}

fn options() -> ReaderOptions {
    let mut options = ReaderOptions::new();
    options.traversal_limit_in_words(Some(MAX_WORDS));
    options
}

async fn read_one<R: AsyncRead + Unpin>(
    reader: R,
) -> Result<capnp::message::Reader<capnp::serialize::OwnedSegments>, HandshakeError> {
    capnp_futures::serialize::read_message(reader, options())
        .await
        .map_err(HandshakeError::Closed)
}

/// Writes `hello` (the provider's side).
///
/// # Errors
///
/// When the socket cannot be written.
pub async fn write_hello<W: AsyncWrite + Unpin>(
    writer: W,
    hello: &Hello,
) -> Result<(), HandshakeError> {
    let mut message = capnp::message::Builder::new_default();
    {
        let mut b: hello::Builder<'_> = message.init_root();
        b.set_protocol(hello.protocol);
        b.set_implementation(hello.implementation.as_str());
        write_manifest(&hello.manifest, b.reborrow().init_manifest())
            .map_err(HandshakeError::Write)?;
        write_needs(&hello.needs, b.init_needs()).map_err(HandshakeError::Write)?;
    }
    capnp_futures::serialize::write_message(writer, &message)
        .await
        .map_err(HandshakeError::Write)
}

/// Reads a `Hello` (the node's side). The protocol number is checked
/// before anything else is read: a provider of another protocol is
/// refused with [`HandshakeError::Protocol`], whatever the rest says.
///
/// # Errors
///
/// The socket ended first, the message is malformed, or it names another
/// protocol.
pub async fn read_hello<R: AsyncRead + Unpin>(reader: R) -> Result<Hello, HandshakeError> {
    let message = read_one(reader).await?;
    let malformed = HandshakeError::Malformed;
    let root: hello::Reader<'_> = message.get_root().map_err(malformed)?;
    let protocol = root.get_protocol();
    if protocol != PROTOCOL_VERSION {
        return Err(HandshakeError::Protocol {
            ours: PROTOCOL_VERSION,
            theirs: protocol,
        });
    }
    let text = |t: capnp::Result<capnp::text::Reader<'_>>| -> capnp::Result<String> {
        Ok(t?.to_string()?)
    };
    Ok(Hello {
        protocol,
        manifest: read_manifest(root.get_manifest().map_err(malformed)?).map_err(malformed)?,
        needs: read_needs(root.get_needs().map_err(malformed)?).map_err(malformed)?,
        implementation: text(root.get_implementation()).map_err(malformed)?,
    })
}

/// Writes the node's answer.
///
/// # Errors
///
/// When the socket cannot be written.
pub async fn write_welcome<W: AsyncWrite + Unpin>(
    writer: W,
    verdict: Result<(), &str>,
) -> Result<(), HandshakeError> {
    let mut message = capnp::message::Builder::new_default();
    {
        let mut b: welcome::Builder<'_> = message.init_root();
        b.set_protocol(PROTOCOL_VERSION);
        match verdict {
            Ok(()) => b.set_accepted(()),
            Err(reason) => b.set_refused(reason),
        }
    }
    capnp_futures::serialize::write_message(writer, &message)
        .await
        .map_err(HandshakeError::Write)
}

/// Reads the node's answer (the provider's side).
///
/// # Errors
///
/// The socket ended first, the message is malformed, or the node refused.
pub async fn read_welcome<R: AsyncRead + Unpin>(reader: R) -> Result<Welcome, HandshakeError> {
    let message = read_one(reader).await?;
    let root: welcome::Reader<'_> = message.get_root().map_err(HandshakeError::Malformed)?;
    let verdict = match root.which() {
        Ok(welcome::Accepted(())) => Ok(()),
        Ok(welcome::Refused(reason)) => Err(reason
            .and_then(|r| Ok(r.to_string()?))
            .unwrap_or_else(|e| format!("(unreadable reason: {e})"))),
        Err(capnp::NotInSchema(n)) => Err(format!("an answer this provider does not know ({n})")),
    };
    Ok(Welcome {
        protocol: root.get_protocol(),
        verdict,
    })
}

fn len(n: usize) -> capnp::Result<u32> {
    u32::try_from(n).map_err(|_| capnp::Error::failed("list too long".into()))
}

/// Writes `m` into a `provider.capnp:Manifest`.
///
/// # Errors
///
/// When a list is too long for a message.
pub fn write_manifest(
    m: &Manifest,
    mut b: provider_capnp::manifest::Builder<'_>,
) -> capnp::Result<()> {
    b.set_name(m.name.as_str());
    b.set_version(m.version.as_str());
    let mut exports = b.reborrow().init_exports(len(m.exports.len())?);
    for (i, x) in m.exports.iter().enumerate() {
        let mut e = exports.reborrow().get(len(i)?);
        e.set_name(x.name.as_str());
        e.set_audience(match x.audience {
            Audience::Guests => WireAudience::Guests,
            Audience::Providers => WireAudience::Providers,
        });
    }
    let mut requires = b.reborrow().init_requires(len(m.requires.len())?);
    for (i, r) in m.requires.iter().enumerate() {
        requires.set(len(i)?, r.as_str());
    }
    let mut config = b.init_config(len(m.config.len())?);
    for (i, c) in m.config.iter().enumerate() {
        let mut k = config.reborrow().get(len(i)?);
        k.set_key(c.key.as_str());
        k.set_help(c.help.as_str());
        k.set_required(c.required);
    }
    Ok(())
}

/// Reads a `provider.capnp:Manifest`.
///
/// # Errors
///
/// Text that is not UTF-8, an audience this SDK does not know, a
/// malformed message.
pub fn read_manifest(r: provider_capnp::manifest::Reader<'_>) -> capnp::Result<Manifest> {
    let mut exports = Vec::new();
    for x in r.get_exports()? {
        let name = x.get_name()?.to_string()?;
        let audience = match x.get_audience() {
            Ok(WireAudience::Guests) => Audience::Guests,
            Ok(WireAudience::Providers) => Audience::Providers,
            Err(capnp::NotInSchema(n)) => {
                return Err(capnp::Error::failed(format!(
                    "export `{name}` has an audience this ww does not know ({n})"
                )))
            }
        };
        exports.push(ExportDecl { name, audience });
    }
    let requires = r
        .get_requires()?
        .iter()
        .map(|t| Ok(t?.to_string()?))
        .collect::<capnp::Result<_>>()?;
    let config = r
        .get_config()?
        .iter()
        .map(|k| {
            Ok(ConfigKey {
                key: k.get_key()?.to_string()?,
                help: k.get_help()?.to_string()?,
                required: k.get_required(),
            })
        })
        .collect::<capnp::Result<_>>()?;
    Ok(Manifest {
        name: r.get_name()?.to_string()?,
        version: r.get_version()?.to_string()?,
        exports,
        requires,
        config,
    })
}

fn write_needs(n: &Needs, mut b: provider_capnp::needs::Builder<'_>) -> capnp::Result<()> {
    b.set_network(n.network);
    let mut read = b.reborrow().init_read(len(n.read.len())?);
    for (i, p) in n.read.iter().enumerate() {
        read.set(len(i)?, p.as_str());
    }
    let mut write = b.init_write(len(n.write.len())?);
    for (i, p) in n.write.iter().enumerate() {
        write.set(len(i)?, p.as_str());
    }
    Ok(())
}

fn read_needs(r: provider_capnp::needs::Reader<'_>) -> capnp::Result<Needs> {
    let paths = |list: capnp::text_list::Reader<'_>| -> capnp::Result<Vec<String>> {
        list.iter().map(|t| Ok(t?.to_string()?)).collect()
    };
    Ok(Needs {
        network: r.get_network(),
        read: paths(r.get_read()?)?,
        write: paths(r.get_write()?)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hello(protocol: u32) -> Hello {
        Hello {
            protocol,
            manifest: Manifest {
                name: "kv".into(),
                version: "1.2.3".into(),
                exports: vec![ExportDecl {
                    name: "kv".into(),
                    audience: Audience::Guests,
                }],
                requires: vec!["identity".into()],
                config: vec![ConfigKey {
                    key: "kv.size".into(),
                    help: "entries".into(),
                    required: false,
                }],
            },
            needs: Needs {
                network: true,
                read: vec!["/srv".into()],
                write: vec![],
            },
            implementation: "test".into(),
        }
    }

    #[test]
    fn hello_round_trips_and_the_next_byte_is_left_unread() {
        futures::executor::block_on(async {
            let mut bytes = Vec::new();
            write_hello(&mut bytes, &hello(PROTOCOL_VERSION))
                .await
                .unwrap();
            bytes.push(0xAB);
            let mut reader = futures::io::Cursor::new(bytes);
            let read = read_hello(&mut reader).await.unwrap();
            assert_eq!(read, hello(PROTOCOL_VERSION));
            let rest = &reader.get_ref()[reader.position() as usize..];
            assert_eq!(rest, [0xAB]);
        });
    }

    #[test]
    fn another_protocol_is_refused_naming_both() {
        futures::executor::block_on(async {
            let mut bytes = Vec::new();
            write_hello(&mut bytes, &hello(PROTOCOL_VERSION + 1))
                .await
                .unwrap();
            let err = read_hello(&bytes[..]).await.unwrap_err();
            let text = err.to_string();
            assert!(matches!(err, HandshakeError::Protocol { .. }));
            assert!(
                text.contains(&format!("protocol {}", PROTOCOL_VERSION + 1))
                    && text.contains(&format!("protocol {PROTOCOL_VERSION}")),
                "{text}"
            );
        });
    }

    #[test]
    fn welcome_carries_the_verdict() {
        futures::executor::block_on(async {
            let mut bytes = Vec::new();
            write_welcome(&mut bytes, Err("no")).await.unwrap();
            let w = read_welcome(&bytes[..]).await.unwrap();
            assert_eq!(w.verdict, Err("no".to_string()));
            assert_eq!(w.protocol, PROTOCOL_VERSION);
        });
    }

    #[test]
    fn garbage_and_silence_are_errors() {
        futures::executor::block_on(async {
            assert!(matches!(
                read_hello(&b""[..]).await,
                Err(HandshakeError::Closed(_))
            ));
            // A segment table announcing far more than a manifest.
            let huge = [0u8, 0, 0, 0, 0xff, 0xff, 0xff, 0x0f];
            assert!(read_hello(&huge[..]).await.is_err());
        });
    }
}
