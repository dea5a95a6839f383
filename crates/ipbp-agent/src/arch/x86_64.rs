//! x86_64: a `jmp rel32` over the entry; instruction fetch is coherent with
//! stores, so nothing needs flushing.

use super::{Architecture, EntryJump};
use crate::unwind::Registers;

/// Length of `jmp rel32`: opcode E9 and a 32-bit displacement.
const JUMP_LEN: usize = 5;

/// DWARF numbers 0 to 16: rax, rdx, rcx, rbx, rsi, rdi, rbp, rsp, r8 to r15,
/// and the return address column (rip).
pub const UNWIND_REGISTERS: usize = 17;
pub const STACK_POINTER_REGISTER: usize = 7;
pub const PROGRAM_COUNTER_REGISTER: usize = 16;
/// The registers a call preserves (System V): rbx, rbp, rsp, r12 to r15.
/// The others hold unknown values in a caller unless its unwind rules say.
pub const PRESERVED_REGISTERS: u32 = 1 << 3 | 1 << 6 | 1 << 7 | 0xf << 12;

/// `ucontext_t.uc_mcontext.gregs` index of each DWARF register.
const GREGS_BY_DWARF_NUMBER: [libc::c_int; UNWIND_REGISTERS] = [
    libc::REG_RAX,
    libc::REG_RDX,
    libc::REG_RCX,
    libc::REG_RBX,
    libc::REG_RSI,
    libc::REG_RDI,
    libc::REG_RBP,
    libc::REG_RSP,
    libc::REG_R8,
    libc::REG_R9,
    libc::REG_R10,
    libc::REG_R11,
    libc::REG_R12,
    libc::REG_R13,
    libc::REG_R14,
    libc::REG_R15,
    libc::REG_RIP,
];

pub struct X86_64;

impl Architecture for X86_64 {
    /// The displacement is relative to the end of the instruction and must
    /// fit an i32, which is why patches are linked within ±2 GiB of the
    /// program.
    fn entry_jump(from: u64, to: u64) -> Result<EntryJump, String> {
        let next_instruction = i128::from(from) + JUMP_LEN as i128;
        let displacement = i128::from(to) - next_instruction;
        let rel32 = i32::try_from(displacement).map_err(|_| {
            format!("cannot jump from 0x{from:x} to 0x{to:x}: the distance does not fit 32 bits")
        })?;
        let mut bytes = [0xE9, 0, 0, 0, 0];
        bytes[1..].copy_from_slice(&rel32.to_le_bytes());
        Ok(EntryJump::new(&bytes))
    }

    fn program_counter(context: &libc::ucontext_t) -> u64 {
        context.uc_mcontext.gregs[libc::REG_RIP as usize] as u64
    }

    fn unwind_registers(context: &libc::ucontext_t) -> Registers {
        let mut registers = Registers::none();
        for (number, &index) in GREGS_BY_DWARF_NUMBER.iter().enumerate() {
            if let Some(&value) = context.uc_mcontext.gregs.get(index as usize) {
                registers.set(number, value as u64);
            }
        }
        registers
    }

    /// Each thread parked during the write leaves the kernel (a serializing
    /// event) before it runs the new bytes.
    fn sync_instruction_cache(_address: u64, _len: usize) {}

    /// `%fs:0` holds the thread control block's pointer to itself, which is
    /// the thread pointer (glibc, TLS variant II).
    fn thread_pointer() -> u64 {
        let pointer: u64;
        // SAFETY: reads one word of the calling thread's own TCB, which
        // every thread has for its whole life.
        unsafe {
            std::arch::asm!("mov {}, fs:0", out(reg) pointer, options(nostack, readonly, preserves_flags));
        }
        pointer
    }

    /// Variant II: static blocks sit just below the thread pointer, in the
    /// same allocation as the TCB, so the offset is negative and small. A
    /// block elsewhere was allocated on demand (dynamic TLS), which no
    /// fixed offset reaches.
    fn static_tls_offset(thread_pointer: u64, block: u64) -> Result<i64, String> {
        const STATIC_TLS_LIMIT: u64 = 64 << 20;
        match thread_pointer.checked_sub(block) {
            Some(distance) if distance > 0 && distance <= STATIC_TLS_LIMIT => Ok(-(distance as i64)),
            _ => Err(format!(
                "the patch's TLS block at 0x{block:x} is not in the static TLS below the thread pointer 0x{thread_pointer:x}"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jump(from: u64, to: u64) -> Result<Vec<u8>, String> {
        X86_64::entry_jump(from, to).map(|jump| jump.as_bytes().to_vec())
    }

    #[test]
    fn static_blocks_lie_just_below_the_thread_pointer() {
        assert_eq!(
            X86_64::static_tls_offset(0x7000_1000, 0x7000_0f80),
            Ok(-0x80)
        );
        assert!(X86_64::static_tls_offset(0x7000_1000, 0x7000_1000).is_err());
        assert!(X86_64::static_tls_offset(0x7000_1000, 0x7000_2000).is_err());
        assert!(X86_64::static_tls_offset(0x7fff_0000_0000, 0x5555_0000_0000).is_err());
    }

    #[test]
    fn the_thread_pointer_points_to_itself() {
        let pointer = X86_64::thread_pointer();
        assert_ne!(pointer, 0);
        // SAFETY: the TCB's first word is its own address (glibc x86_64).
        assert_eq!(unsafe { *(pointer as *const u64) }, pointer);
    }

    #[test]
    fn forward_and_backward_jumps() {
        assert_eq!(jump(0x1000, 0x1005).unwrap(), [0xE9, 0, 0, 0, 0]);
        assert_eq!(jump(0x1000, 0x1105).unwrap(), [0xE9, 0x00, 0x01, 0, 0]);
        assert_eq!(
            jump(0x1000, 0x1000).unwrap(),
            [0xE9, 0xFB, 0xFF, 0xFF, 0xFF]
        );
    }

    #[test]
    fn the_limits_of_rel32() {
        let from = 0x8000_0000u64;
        assert!(jump(from, from + 5 + i32::MAX as u64).is_ok());
        assert!(jump(from, from + 5 + i32::MAX as u64 + 1).is_err());
        assert!(jump(from, from + 5 - 0x8000_0000).is_ok());
        assert!(jump(from, from + 4 - 0x8000_0000).is_err());
        assert!(jump(u64::MAX - 2, 0).is_err());
    }
}
