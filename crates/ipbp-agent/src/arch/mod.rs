//! What differs from one processor architecture to the next, behind one
//! trait: the instruction written over a redirected function's entry, where
//! a signalled thread was executing (its registers, for unwinding its stack),
//! and making new instructions visible to instruction fetch. Everything else
//! in the agent is written once.

#[cfg(target_arch = "x86_64")]
mod x86_64;

// Its encoders are tested on every host; the rest builds on aarch64 alone.
#[cfg(any(target_arch = "aarch64", test))]
mod aarch64;

/// The architecture this agent is built for.
#[cfg(target_arch = "x86_64")]
pub type Current = x86_64::X86_64;
#[cfg(target_arch = "aarch64")]
pub type Current = aarch64::Aarch64;

#[cfg(target_arch = "aarch64")]
pub use aarch64::{
    PRESERVED_REGISTERS, PROGRAM_COUNTER_REGISTER, STACK_POINTER_REGISTER, UNWIND_REGISTERS,
};
/// The DWARF register numbering of the architecture, as the unwinder needs it.
#[cfg(target_arch = "x86_64")]
pub use x86_64::{
    PRESERVED_REGISTERS, PROGRAM_COUNTER_REGISTER, STACK_POINTER_REGISTER, UNWIND_REGISTERS,
};

/// The longest entry jump any architecture writes.
pub const MAX_ENTRY_JUMP_LEN: usize = 16;

/// The bytes written over one function entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntryJump {
    bytes: [u8; MAX_ENTRY_JUMP_LEN],
    len: usize,
}

impl EntryJump {
    /// # Panics
    /// If `code` is longer than [`MAX_ENTRY_JUMP_LEN`]: an encoder bug.
    pub fn new(code: &[u8]) -> Self {
        let mut bytes = [0; MAX_ENTRY_JUMP_LEN];
        bytes[..code.len()].copy_from_slice(code);
        EntryJump {
            bytes,
            len: code.len(),
        }
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

pub trait Architecture {
    /// The jump that sends a call of the function at `from` to `to`.
    fn entry_jump(from: u64, to: u64) -> Result<EntryJump, String>;

    /// Where the thread a signal interrupted was executing.
    fn program_counter(context: &libc::ucontext_t) -> u64;

    /// The interrupted thread's registers, by DWARF register number: where
    /// unwinding its stack starts.
    fn unwind_registers(context: &libc::ucontext_t) -> crate::unwind::Registers;

    /// Makes instructions just written at `address` visible to instruction
    /// fetch on every core, before any thread may run them.
    fn sync_instruction_cache(address: u64, len: usize);

    /// The calling thread's thread pointer: what local-exec thread-local
    /// offsets are relative to.
    fn thread_pointer() -> u64;

    /// The offset a local-exec access adds to the thread pointer to reach a
    /// module's static TLS block at `block`, given this thread's `thread_pointer`;
    /// an error when `block` cannot be a static block of that thread.
    fn static_tls_offset(thread_pointer: u64, block: u64) -> Result<i64, String>;
}
