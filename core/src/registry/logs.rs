//! A provider process's stderr (and stdout) as the node's `tracing` events.
//!
//! A provider process has no `tracing` dispatcher in common with the node,
//! and may not be written in Rust at all, so its log is text: each line
//! becomes one event under target `ww::provider` with a `provider` field,
//! as a library provider's forwarded events are. A line that starts with a
//! level word (`ERROR`, `WARN`/`WARNING`, `INFO`, `DEBUG`, `TRACE`,
//! `CRITICAL`), as the SDK's [`serve`](ww_provider_sdk::serve()) and
//! Python's `logging` write them, keeps that level; any other line is
//! INFO.
//!
//! Bound: a line longer than [`MAX_LINE`] is cut there (the rest of it is
//! dropped), so a provider writing without newlines cannot make the node
//! hold its output.

use std::cell::RefCell;
use std::rc::Rc;

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tracing::Level;

/// The longest line kept, in bytes.
pub const MAX_LINE: usize = 8 * 1024;

/// Re-emits every line `output` gives as an event of `provider` (its path
/// until its handshake names it), until its end.
pub async fn forward<R: AsyncRead + Unpin>(provider: Rc<RefCell<String>>, output: R) {
    let mut reader = BufReader::new(output);
    let mut line = Vec::new();
    loop {
        line.clear();
        match read_line_bounded(&mut reader, &mut line).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {
                let text = String::from_utf8_lossy(&line);
                let text = text.trim_end();
                if !text.is_empty() {
                    emit(&provider.borrow(), text);
                }
            }
        }
    }
}

/// Reads up to a newline, keeping at most [`MAX_LINE`] bytes of it.
async fn read_line_bounded<R: AsyncRead + Unpin>(
    reader: &mut BufReader<R>,
    line: &mut Vec<u8>,
) -> std::io::Result<usize> {
    let mut total = 0;
    loop {
        let buf = reader.fill_buf().await?;
        if buf.is_empty() {
            return Ok(total);
        }
        let (chunk, done) = match buf.iter().position(|&b| b == b'\n') {
            Some(i) => (&buf[..=i], true),
            None => (buf, false),
        };
        let n = chunk.len();
        let room = MAX_LINE.saturating_sub(line.len());
        line.extend_from_slice(&chunk[..n.min(room)]);
        reader.consume(n);
        total += n;
        if done {
            return Ok(total);
        }
    }
}

/// The level a line announces, and the rest of the line.
pub fn level_of(line: &str) -> (Level, &str) {
    let trimmed = line.trim_start();
    let (word, rest) = trimmed
        .split_once(|c: char| c.is_whitespace() || c == ':')
        .unwrap_or((trimmed, ""));
    let level = match word {
        "ERROR" | "CRITICAL" | "FATAL" => Level::ERROR,
        "WARN" | "WARNING" => Level::WARN,
        "INFO" => Level::INFO,
        "DEBUG" => Level::DEBUG,
        "TRACE" => Level::TRACE,
        _ => return (Level::INFO, line),
    };
    (level, rest.trim_start_matches(':').trim_start())
}

fn emit(provider: &str, line: &str) {
    let (level, message) = level_of(line);
    macro_rules! at {
        ($level:expr) => {
            tracing::event!(target: "ww::provider", $level, provider = %provider, "{message}")
        };
    }
    match level {
        Level::ERROR => at!(Level::ERROR),
        Level::WARN => at!(Level::WARN),
        Level::INFO => at!(Level::INFO),
        Level::DEBUG => at!(Level::DEBUG),
        _ => at!(Level::TRACE),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_words_are_read_and_other_lines_are_info() {
        assert_eq!(
            level_of(" WARN kv: disk almost full"),
            (Level::WARN, "kv: disk almost full")
        );
        assert_eq!(level_of("ERROR:kv:boom"), (Level::ERROR, "kv:boom"));
        assert_eq!(level_of("WARNING kv: x"), (Level::WARN, "kv: x"));
        assert_eq!(level_of("plain text"), (Level::INFO, "plain text"));
    }

    #[test]
    fn long_lines_are_cut() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(async {
            let mut input = vec![b'x'; MAX_LINE * 3];
            input.extend_from_slice(b"\nnext\n");
            let mut reader = BufReader::new(&input[..]);
            let mut line = Vec::new();
            read_line_bounded(&mut reader, &mut line).await.unwrap();
            assert_eq!(line.len(), MAX_LINE);
            line.clear();
            read_line_bounded(&mut reader, &mut line).await.unwrap();
            assert_eq!(line, b"next\n");
        });
    }
}
