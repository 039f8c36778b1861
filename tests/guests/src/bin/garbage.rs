//! Speaks garbage to the host's end of the vat: a Cap'n Proto frame header
//! claiming 2^32 segments of absurd sizes. The host must close the vat (and
//! keep running); this cell reports that and exits 3.

use futures::io::{AsyncReadExt, AsyncWriteExt};
use ww_guest::executor::block_on;

fn main() {
    let outcome = ww_guest::raw_transport()
        .map_err(|e| e.to_string())
        .and_then(|(mut reader, mut writer)| {
            block_on(async move {
                // Segment count - 1 = 0xFFFFFFFF, then sizes of 0xFFFFFFFF words.
                let frame = [0xFFu8; 64];
                writer.write_all(&frame).await?;
                writer.flush().await?;
                let mut buf = [0u8; 4096];
                while reader.read(&mut buf).await? != 0 {}
                Ok::<(), std::io::Error>(())
            })
            .map_err(|e| e.to_string())
        });
    match outcome {
        Ok(()) => println!("host closed the vat"),
        Err(e) => println!("host closed the vat (error: {e})"),
    }
    ww_guest::exit(3);
}
