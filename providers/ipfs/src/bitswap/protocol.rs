//! The wire: Bitswap's protocol name and its length-prefixed framing over a
//! `ByteStream` from the host.

use prost::Message as _;
use ww_capnp::system_capnp::byte_stream;

use super::message::Message;

/// Bitswap 1.2.0 (HAVE / DONT_HAVE), the version Kubo speaks first.
pub const PROTOCOL_NAME: &str = "/ipfs/bitswap/1.2.0";

/// The largest message accepted: Kubo sends blocks of up to 2 MiB, several
/// per message, and keeps each message under 4 MiB.
pub const MAX_MESSAGE: usize = 4 << 20;

/// How much is asked of the stream per read.
const READ_SIZE: u32 = 1 << 20;

/// `message`, prefixed with its length as an unsigned varint.
pub fn frame(message: &Message) -> Vec<u8> {
    let body = message.encode_to_vec();
    let mut buf = unsigned_varint::encode::usize_buffer();
    let mut out = unsigned_varint::encode::usize(body.len(), &mut buf).to_vec();
    out.extend_from_slice(&body);
    out
}

/// Reads framed messages from a stream.
pub struct Reader {
    stream: byte_stream::Client,
    buf: Vec<u8>,
}

impl Reader {
    /// Reads from `stream`.
    pub fn new(stream: byte_stream::Client) -> Reader {
        Reader {
            stream,
            buf: Vec::new(),
        }
    }

    /// The next message, or `None` at end of stream.
    ///
    /// # Errors
    ///
    /// A failed read, an oversized or undecodable message, or a stream that
    /// ends inside a message.
    pub async fn next(&mut self) -> Result<Option<Message>, String> {
        loop {
            if let Some(message) = self.take()? {
                return Ok(Some(message));
            }
            let mut request = self.stream.read_request();
            request.get().set_max(READ_SIZE);
            let reply = request.send().promise.await.map_err(|e| e.to_string())?;
            let data = reply
                .get()
                .and_then(|r| r.get_data())
                .map_err(|e| e.to_string())?;
            if data.is_empty() {
                return if self.buf.is_empty() {
                    Ok(None)
                } else {
                    Err("the stream ended inside a message".into())
                };
            }
            self.buf.extend_from_slice(data);
        }
    }

    fn take(&mut self) -> Result<Option<Message>, String> {
        let (len, rest) = match unsigned_varint::decode::usize(&self.buf) {
            Ok(parsed) => parsed,
            Err(unsigned_varint::decode::Error::Insufficient) => return Ok(None),
            Err(e) => return Err(format!("bad message length: {e}")),
        };
        if len > MAX_MESSAGE {
            return Err(format!(
                "a {len}-byte message is larger than the {MAX_MESSAGE} bytes accepted"
            ));
        }
        if rest.len() < len {
            return Ok(None);
        }
        let header = self.buf.len() - rest.len();
        let message = Message::decode(&rest[..len]).map_err(|e| format!("bad message: {e}"))?;
        self.buf.drain(..header + len);
        Ok(Some(message))
    }
}
