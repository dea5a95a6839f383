//! The patch's own thread-locals (a `thread_local!` new in an edit). The
//! patch library has a TLS segment of its own, and it asks for static TLS
//! (an initial-exec reference, `DF_STATIC_TLS`), so glibc places its block
//! at one fixed offset from every thread's thread pointer and fills it in
//! every existing thread at dlopen. Code compiled for the executable reaches
//! thread-locals with that offset as an immediate (local-exec), which the
//! patch's linker cannot know: the CLI lists those immediates, and they are
//! written here, after dlopen and before any redirect, while no thread runs
//! the patch's code yet. On x86_64 an immediate is the whole offset; on
//! aarch64 it is split over the 12-bit immediates of two `add`s.

use crate::arch::{Architecture, Current, EntryJump};
use crate::code_writer::{pages_of, write_code, CodeEdit};
use crate::image::code_segment_protection;
use crate::protocol::{TlsFixup, FIXUP_ADD_HI12, FIXUP_ADD_LO12, FIXUP_U32, FIXUP_U64};
use std::ffi::c_void;

/// glibc's `tls_index`, the argument of `__tls_get_addr`.
#[repr(C)]
struct TlsIndex {
    module: u64,
    offset: u64,
}

extern "C" {
    /// The address of a module's block for the calling thread (ld.so).
    fn __tls_get_addr(index: *const TlsIndex) -> *mut c_void;
}

/// Writes every fixup of a just loaded patch, or none.
pub fn apply_tls_fixups(path: &str, fixups: &[TlsFixup]) -> Result<(), String> {
    if fixups.is_empty() {
        return Ok(());
    }
    let block_offset = static_block_offset(path)?;
    let edits = fixups
        .iter()
        .map(|fixup| {
            let restore_protection = code_segment_protection(fixup.address, fixup_len(fixup.form))
                .ok_or_else(|| {
                    format!(
                        "thread-local fixup at 0x{:x} is not inside the patch's code",
                        fixup.address
                    )
                })?;
            // SAFETY: the address lies in the patch's mapped code (checked just above).
            let instruction = unsafe { std::ptr::read_unaligned(fixup.address as *const u32) };
            let bytes = fixup_bytes(block_offset, fixup, instruction)?;
            Ok(CodeEdit {
                address: fixup.address,
                bytes,
                restore_protection,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    write_code(&pages_of(&edits), &edits).map_err(|e| e.to_string())
}

/// Where the patch's TLS block is, relative to the thread pointer: the same
/// in every thread, since the block is static.
fn static_block_offset(path: &str) -> Result<i64, String> {
    // The loader's module id for the patch's TLS block (0: it has none).
    let module = crate::image::find_object(path, |object| object.dlpi_tls_modid).unwrap_or(0);
    if module == 0 {
        return Err(
            "the patch addresses thread-locals of its own, but the loader gave it no TLS module"
                .to_owned(),
        );
    }
    let index = TlsIndex {
        module: module as u64,
        offset: 0,
    };
    // SAFETY: a valid index of a loaded module; for a static module this
    // returns the calling thread's block without allocating.
    let block = unsafe { __tls_get_addr(&index) } as u64;
    Current::static_tls_offset(Current::thread_pointer(), block)
}

/// How many bytes a fixup of `form` writes.
fn fixup_len(form: u8) -> u64 {
    if form == FIXUP_U64 {
        8
    } else {
        4
    }
}

/// The bytes of one fixup: the thread-pointer offset of the variable plus
/// the addend, which must fit the immediate. `instruction`: the 4 bytes at
/// the fixup's address, of which an `add` form keeps all but the immediate.
pub fn fixup_bytes(
    block_offset: i64,
    fixup: &TlsFixup,
    instruction: u32,
) -> Result<EntryJump, String> {
    let value = block_offset.wrapping_add(fixup.value as i64);
    let add_immediate = |shift: u32| -> Result<EntryJump, String> {
        // Variant I: the offset is positive, and two adds reach 24 bits of it.
        if !(0..1 << 24).contains(&value) {
            return Err(format!(
                "thread-local offset {value} at 0x{:x} does not fit two 12-bit add immediates",
                fixup.address
            ));
        }
        let immediate = ((value >> shift) & 0xfff) as u32;
        Ok(EntryJump::new(
            &((instruction & !(0xfff << 10)) | immediate << 10).to_le_bytes(),
        ))
    };
    match fixup.form {
        FIXUP_ADD_LO12 => add_immediate(0),
        FIXUP_ADD_HI12 => add_immediate(12),
        FIXUP_U32 => {
            let narrow = i32::try_from(value).map_err(|_| {
                format!(
                    "thread-local offset {value} at 0x{:x} does not fit 32 bits",
                    fixup.address
                )
            })?;
            Ok(EntryJump::new(&narrow.to_le_bytes()))
        }
        FIXUP_U64 => Ok(EntryJump::new(&value.to_le_bytes())),
        other => Err(format!("a thread-local fixup of unknown form {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixup(value: u64, form: u8) -> TlsFixup {
        TlsFixup {
            address: 0x1000,
            value,
            form,
        }
    }

    /// `add x0, x0, #0, lsl #12` and `add x0, x0, #0`.
    const ADD_HI: u32 = 0x9140_0000;
    const ADD_LO: u32 = 0x9100_0000;

    #[test]
    fn an_aarch64_offset_goes_into_the_immediates_of_two_adds() {
        let offset = 0x12_3456 - 0x10;
        let hi = fixup_bytes(0x10, &fixup(offset as u64, FIXUP_ADD_HI12), ADD_HI).unwrap();
        assert_eq!(hi.as_bytes(), (ADD_HI | 0x123 << 10).to_le_bytes());
        let lo = fixup_bytes(0x10, &fixup(offset as u64, FIXUP_ADD_LO12), ADD_LO).unwrap();
        assert_eq!(lo.as_bytes(), (ADD_LO | 0x456 << 10).to_le_bytes());
        // Beyond 24 bits, or below the thread pointer, two adds cannot reach it.
        assert!(fixup_bytes(0x100_0000, &fixup(0, FIXUP_ADD_HI12), ADD_HI).is_err());
        assert!(fixup_bytes(-0x10, &fixup(0, FIXUP_ADD_LO12), ADD_LO).is_err());
    }

    #[test]
    fn the_offset_is_the_blocks_plus_the_variables_and_its_addend() {
        let bytes = fixup_bytes(-0x40, &fixup(0x18, 4), 0).unwrap();
        assert_eq!(bytes.as_bytes(), (-0x28i32).to_le_bytes());
        let bytes = fixup_bytes(-0x40, &fixup(0x8, 8), 0).unwrap();
        assert_eq!(bytes.as_bytes(), (-0x38i64).to_le_bytes());
        // A negative addend arrives in two's complement.
        let bytes = fixup_bytes(-0x40, &fixup((-4i64) as u64, 4), 0).unwrap();
        assert_eq!(bytes.as_bytes(), (-0x44i32).to_le_bytes());
    }

    #[test]
    fn an_offset_too_far_for_the_immediate_is_refused() {
        assert!(fixup_bytes(-0x1_0000_0000, &fixup(0, 4), 0).is_err());
        assert!(fixup_bytes(-0x1_0000_0000, &fixup(0, 8), 0).is_ok());
        assert!(fixup_bytes(0, &fixup(0, 2), 0).is_err());
    }
}
