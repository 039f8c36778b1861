//! Whether a `--provider PATH` is a shared library (loaded in-process) or
//! an executable (run as a provider process).
//!
//! Both are ELF files, and a position-independent executable is even the
//! same ELF type as a shared library (`ET_DYN`), so the type alone cannot
//! tell them apart. What does: an executable that the kernel can start
//! names its dynamic loader in a `PT_INTERP` program header, or is
//! `ET_EXEC`; a shared library has neither. A `#!` script is an
//! executable. (A statically linked position-independent executable has
//! no `PT_INTERP` and is taken for a library; the loader then refuses it,
//! naming the path.)

use std::io::Read;
use std::path::Path;

/// What a provider path holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A shared library, for `dlopen`.
    Library,
    /// A program to run as a provider process.
    Executable,
}

const ET_EXEC: u16 = 2;
const PT_INTERP: u32 = 3;

/// The kind of the file at `path`; anything that is neither a `#!` script
/// nor an ELF executable is treated as a library (whose loader names what
/// is wrong with it).
///
/// # Errors
///
/// When the file cannot be read.
pub fn of(path: &Path) -> std::io::Result<Kind> {
    let mut head = Vec::new();
    std::fs::File::open(path)?
        .take(64 * 1024)
        .read_to_end(&mut head)?;
    Ok(kind_of(&head))
}

/// The kind of a file whose first bytes are `head`.
pub fn kind_of(head: &[u8]) -> Kind {
    if head.starts_with(b"#!") {
        return Kind::Executable;
    }
    match elf_is_executable(head) {
        Some(true) => Kind::Executable,
        _ => Kind::Library,
    }
}

/// Whether the ELF image in `head` is an executable; `None` when `head`
/// is not ELF or is cut short.
fn elf_is_executable(head: &[u8]) -> Option<bool> {
    if !head.starts_with(b"\x7fELF") {
        return None;
    }
    let wide = match head.get(4)? {
        1 => false,
        2 => true,
        _ => return None,
    };
    let little = *head.get(5)? == 1;
    let u16_at = |at: usize| -> Option<u16> {
        let b: [u8; 2] = head.get(at..at + 2)?.try_into().ok()?;
        Some(if little {
            u16::from_le_bytes(b)
        } else {
            u16::from_be_bytes(b)
        })
    };
    let u32_at = |at: usize| -> Option<u32> {
        let b: [u8; 4] = head.get(at..at + 4)?.try_into().ok()?;
        Some(if little {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        })
    };
    let u64_at = |at: usize| -> Option<u64> {
        let b: [u8; 8] = head.get(at..at + 8)?.try_into().ok()?;
        Some(if little {
            u64::from_le_bytes(b)
        } else {
            u64::from_be_bytes(b)
        })
    };
    if u16_at(16)? == ET_EXEC {
        return Some(true);
    }
    let (phoff, phentsize, phnum) = if wide {
        (u64_at(32)? as usize, u16_at(54)?, u16_at(56)?)
    } else {
        (u32_at(28)? as usize, u16_at(42)?, u16_at(44)?)
    };
    for i in 0..usize::from(phnum) {
        let at = phoff.checked_add(i.checked_mul(usize::from(phentsize))?)?;
        if u32_at(at)? == PT_INTERP {
            return Some(true);
        }
    }
    Some(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_and_this_test_binary_are_executables() {
        assert_eq!(kind_of(b"#!/usr/bin/env python3\n"), Kind::Executable);
        let me = std::env::current_exe().unwrap();
        assert_eq!(of(&me).unwrap(), Kind::Executable);
    }

    #[test]
    fn a_shared_library_is_a_library() {
        // The maths library: a real shared object (glibc's libc.so.6
        // would not do: it is also a program, with an interpreter).
        let libm = [
            "/lib/x86_64-linux-gnu/libm.so.6",
            "/usr/lib/x86_64-linux-gnu/libm.so.6",
        ]
        .iter()
        .map(Path::new)
        .find(|p| p.exists());
        if let Some(libm) = libm {
            assert_eq!(of(libm).unwrap(), Kind::Library);
        }
        assert_eq!(kind_of(b"just text"), Kind::Library);
        assert_eq!(kind_of(b"\x7fELF\x02\x01"), Kind::Library);
    }
}
