//! What kind of program a file is, from its first bytes: the node runs
//! WebAssembly in its engine and anything the kernel can `exec` natively.

use std::io::Read;
use std::path::Path;

/// How a file would run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A WebAssembly component or module (`\0asm`).
    Wasm,
    /// An ELF executable or a `#!` script.
    Native,
    /// Neither (empty, text, another format).
    Other,
}

/// The kind of the program in `head`, a file's first bytes.
pub fn kind_of(head: &[u8]) -> Kind {
    if head.starts_with(b"\0asm") {
        Kind::Wasm
    } else if head.starts_with(b"\x7fELF") || head.starts_with(b"#!") {
        Kind::Native
    } else {
        Kind::Other
    }
}

/// The kind of the program at `path`, reading only its first bytes.
///
/// # Errors
///
/// When the file cannot be opened or read.
pub fn kind(path: &Path) -> std::io::Result<Kind> {
    let mut head = [0u8; 4];
    let mut file = std::fs::File::open(path)?;
    let mut read = 0;
    while read < head.len() {
        match file.read(&mut head[read..])? {
            0 => break,
            n => read += n,
        }
    }
    Ok(kind_of(&head[..read]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_numbers_decide() {
        assert_eq!(kind_of(b"\0asm\x01\0\0\0"), Kind::Wasm);
        assert_eq!(kind_of(b"\x7fELF\x02"), Kind::Native);
        assert_eq!(kind_of(b"#!/bin/sh\n"), Kind::Native);
        assert_eq!(kind_of(b"plain text"), Kind::Other);
        assert_eq!(kind_of(b""), Kind::Other);
    }
}
