//! aarch64: a `B` over the entry when the new code is within ±128 MiB,
//! otherwise a 16-byte veneer that loads the target's address; instruction
//! fetch is not coherent with stores, so new code is cleaned to the point of
//! unification and the instruction caches invalidated.

// On other hosts only the encoders are built, for their tests.
#![cfg_attr(not(target_arch = "aarch64"), allow(dead_code))]

use super::EntryJump;
#[cfg(target_arch = "aarch64")]
use {super::Architecture, crate::unwind::Registers};

/// DWARF numbers 0 to 32: x0 to x30, sp, and the program counter (its own
/// column, apart from x30, the return address register the CIEs name).
pub const UNWIND_REGISTERS: usize = 33;
pub const STACK_POINTER_REGISTER: usize = 31;
pub const PROGRAM_COUNTER_REGISTER: usize = 32;
/// The registers a call preserves (AAPCS64): x19 to x29, and sp.
pub const PRESERVED_REGISTERS: u32 = 0x7ff << 19 | 1 << 31;

/// `B imm26`: the displacement, in instructions, from the branch itself.
const BRANCH: u32 = 0x1400_0000;
const BRANCH_RANGE: i64 = 1 << 27;
/// `LDR x16, #8` (the literal two instructions on) and `BR x16`: x16 is the
/// intra-procedure-call scratch register, which no caller expects kept
/// across a call, so the veneer may clobber it as a linker's own veneers do.
const LOAD_X16_LITERAL: u32 = 0x5800_0050;
const BRANCH_TO_X16: u32 = 0xd61f_0200;

pub struct Aarch64;

/// The jump from `from` to `to`: a `B` when it reaches, else the veneer.
/// Either is written whole, while no thread runs in the bytes it covers.
pub fn encode_entry_jump(from: u64, to: u64) -> Result<EntryJump, String> {
    if !from.is_multiple_of(4) || !to.is_multiple_of(4) {
        return Err(format!(
            "cannot jump from 0x{from:x} to 0x{to:x}: aarch64 instructions are 4-byte aligned"
        ));
    }
    let distance = to.wrapping_sub(from) as i64;
    if (-BRANCH_RANGE..BRANCH_RANGE).contains(&distance) {
        let imm26 = ((distance >> 2) as u32) & 0x03ff_ffff;
        return Ok(EntryJump::new(&(BRANCH | imm26).to_le_bytes()));
    }
    let mut bytes = [0u8; 16];
    bytes[..4].copy_from_slice(&LOAD_X16_LITERAL.to_le_bytes());
    bytes[4..8].copy_from_slice(&BRANCH_TO_X16.to_le_bytes());
    bytes[8..].copy_from_slice(&to.to_le_bytes());
    Ok(EntryJump::new(&bytes))
}

/// Variant I: the thread pointer points at a 16-byte TCB, and static TLS
/// blocks follow it in the same allocation, so the offset is positive and
/// at least 16. A block elsewhere was allocated on demand (dynamic TLS).
pub fn variant_one_offset(thread_pointer: u64, block: u64) -> Result<i64, String> {
    const TCB_BYTES: u64 = 16;
    const STATIC_TLS_LIMIT: u64 = 64 << 20;
    match block.checked_sub(thread_pointer) {
        Some(distance) if (TCB_BYTES..=STATIC_TLS_LIMIT).contains(&distance) => Ok(distance as i64),
        _ => Err(format!(
            "the patch's TLS block at 0x{block:x} is not in the static TLS above the thread pointer 0x{thread_pointer:x}"
        )),
    }
}

#[cfg(target_arch = "aarch64")]
impl Architecture for Aarch64 {
    fn entry_jump(from: u64, to: u64) -> Result<EntryJump, String> {
        encode_entry_jump(from, to)
    }

    fn program_counter(context: &libc::ucontext_t) -> u64 {
        context.uc_mcontext.pc
    }

    fn unwind_registers(context: &libc::ucontext_t) -> Registers {
        let mut registers = Registers::none();
        for (number, &value) in context.uc_mcontext.regs.iter().enumerate() {
            registers.set(number, value);
        }
        registers.set(STACK_POINTER_REGISTER, context.uc_mcontext.sp);
        registers.set(PROGRAM_COUNTER_REGISTER, context.uc_mcontext.pc);
        registers
    }

    /// Cleans every data cache line of the new code to the point of
    /// unification, then invalidates the instruction cache lines, each step
    /// broadcast to every core (inner shareable), as `__clear_cache` does.
    fn sync_instruction_cache(address: u64, len: usize) {
        let cache_type: u64;
        // SAFETY: CTR_EL0 is readable at EL0 on Linux (the kernel allows or emulates it).
        unsafe { std::arch::asm!("mrs {}, ctr_el0", out(reg) cache_type, options(nomem, nostack)) };
        let data_line = 4u64 << ((cache_type >> 16) & 0xf);
        let instruction_line = 4u64 << (cache_type & 0xf);
        let end = address + len as u64;
        let mut line = address & !(data_line - 1);
        while line < end {
            // SAFETY: cleans a cache line of memory this process maps; no data changes.
            unsafe { std::arch::asm!("dc cvau, {}", in(reg) line, options(nostack)) };
            line += data_line;
        }
        // SAFETY: barriers only.
        unsafe { std::arch::asm!("dsb ish", options(nostack)) };
        let mut line = address & !(instruction_line - 1);
        while line < end {
            // SAFETY: invalidates an instruction cache line; no data changes.
            unsafe { std::arch::asm!("ic ivau, {}", in(reg) line, options(nostack)) };
            line += instruction_line;
        }
        // SAFETY: barriers only.
        unsafe { std::arch::asm!("dsb ish", "isb", options(nostack)) };
    }

    /// TPIDR_EL0 holds the thread pointer.
    fn thread_pointer() -> u64 {
        let pointer: u64;
        // SAFETY: reads the calling thread's own system register.
        unsafe {
            std::arch::asm!("mrs {}, tpidr_el0", out(reg) pointer, options(nomem, nostack, preserves_flags))
        };
        pointer
    }

    fn static_tls_offset(thread_pointer: u64, block: u64) -> Result<i64, String> {
        variant_one_offset(thread_pointer, block)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jump(from: u64, to: u64) -> Result<Vec<u8>, String> {
        encode_entry_jump(from, to).map(|jump| jump.as_bytes().to_vec())
    }

    fn word(bytes: &[u8]) -> u32 {
        u32::from_le_bytes(bytes[..4].try_into().unwrap())
    }

    #[test]
    fn a_branch_when_it_reaches() {
        assert_eq!(word(&jump(0x1000, 0x1004).unwrap()), 0x1400_0001);
        assert_eq!(word(&jump(0x1000, 0x1000).unwrap()), 0x1400_0000);
        // Backwards: imm26 is two's complement.
        assert_eq!(word(&jump(0x1000, 0x0ffc).unwrap()), 0x17ff_ffff);
        assert_eq!(jump(0x1000, 0x2000).unwrap().len(), 4);
    }

    #[test]
    fn the_limits_of_the_branch() {
        let from = 0x4000_0000u64;
        assert_eq!(jump(from, from + (1 << 27) - 4).unwrap().len(), 4);
        assert_eq!(jump(from, from + (1 << 27)).unwrap().len(), 16);
        assert_eq!(jump(from, from - (1 << 27)).unwrap().len(), 4);
        assert_eq!(jump(from, from - (1 << 27) - 4).unwrap().len(), 16);
    }

    #[test]
    fn a_veneer_beyond_them() {
        let bytes = jump(0x5555_0000_0000, 0x7fff_1234_5678).unwrap();
        assert_eq!(word(&bytes[0..]), LOAD_X16_LITERAL);
        assert_eq!(word(&bytes[4..]), BRANCH_TO_X16);
        assert_eq!(
            u64::from_le_bytes(bytes[8..16].try_into().unwrap()),
            0x7fff_1234_5678
        );
    }

    #[test]
    fn misaligned_addresses_are_refused() {
        assert!(jump(0x1002, 0x2000).is_err());
        assert!(jump(0x1000, 0x2001).is_err());
    }

    #[test]
    fn static_blocks_lie_above_the_thread_control_block() {
        assert_eq!(variant_one_offset(0x7000_0000, 0x7000_0010), Ok(0x10));
        assert!(variant_one_offset(0x7000_0000, 0x7000_0008).is_err());
        assert!(variant_one_offset(0x7000_0000, 0x6fff_f000).is_err());
        assert!(variant_one_offset(0x7000_0000, 0x7fff_0000_0000).is_err());
    }
}
