//! Where a stopped thread is executing: its program counter and the return
//! addresses on its stack, innermost first, read inside the stop signal's
//! handler (`stop_world`).
//!
//! # Why our own DWARF CFI walker
//!
//! Rust omits frame pointers, so the stack can only be walked with the
//! unwind tables (`.eh_frame`, found through each object's
//! `PT_GNU_EH_FRAME` binary-search table). The walk runs in a signal handler
//! of an arbitrary thread of the app, which may hold any lock, so it must not
//! allocate, lock or fault. The options:
//!
//! - `_Unwind_Backtrace` (libgcc_s). Here (glibc 2.36, libgcc_s from GCC 12)
//!   its FDE lookup goes through `_dl_find_object`, which is lock-free since
//!   glibc 2.35. But the agent is injected into apps on other systems too:
//!   a libgcc_s older than GCC 12, or a glibc older than 2.35, looks FDEs up
//!   with `dl_iterate_phdr`, which takes the loader lock that a parked
//!   thread may hold (the stop then times out); frames registered with
//!   `__register_frame` (JITs) take libgcc's object mutex; its first use
//!   runs a `pthread_once`. It reads every stack slot the tables point at
//!   without checking, so a thread stopped in code with missing or
//!   imprecise tables could fault inside the handler and kill the app. And
//!   it starts in the handler itself, so it must unwind the kernel's signal
//!   frame and then skip the handler's frames by guesswork.
//! - `framehop`: pure Rust and careful, but it brings gimli and the Mach-O
//!   and PE unwind formats into an agent that needs none of them, its rule
//!   evaluation may allocate, and it still needs a checked memory reader and
//!   a module list from us.
//! - Our own walker (this module), chosen: about 1,100 lines for the part of
//!   DWARF CFI that `.eh_frame` uses (CIE/FDE parsing, the CFA program, a
//!   small expression evaluator for PLT stubs and glibc's signal
//!   trampoline). It starts from the interrupted registers the kernel saved
//!   in the `ucontext_t`, locks nothing on any glibc, allocates nothing, and
//!   every read is checked against a snapshot of the address space taken
//!   before the stop ([`process_space`]): table reads must lie in a readable
//!   segment of a loaded object, stack reads in the mapping that holds the
//!   frame's stack pointer. Its work is bounded: at most [`MAX_FRAMES`]
//!   frames, each a binary search and one FDE program of bounded length.
//!   The unit tests compare it with libgcc's unwinder on real frames.
//!
//! A walk that cannot go on (no unwind table for an address, an unreadable
//! slot, no snapshot, too little stack left to run it) ends as
//! [`Outcome::Unknown`] with the frames found so far, at least the program
//! counter: a thread is never reported as running nothing.

// Runs in a signal handler: nothing here may panic.
#![deny(
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

mod cfi;
pub mod process_space;

use crate::arch::{
    PRESERVED_REGISTERS, PROGRAM_COUNTER_REGISTER, STACK_POINTER_REGISTER, UNWIND_REGISTERS,
};

/// The most frames recorded per thread, the program counter included.
pub const MAX_FRAMES: usize = 64;

/// The stack room a walk needs below the handler's own frame; with less, the
/// walk is not attempted (a thread deep in a small stack must not overflow).
/// The walk of a release build uses under 5 KiB.
const MIN_STACK_ROOM: u64 = 16 * 1024;

/// Registers by DWARF number, each known or not.
#[derive(Debug, Clone, Copy)]
pub struct Registers {
    values: [u64; UNWIND_REGISTERS],
    /// One bit per register: 64 of them cover aarch64's 33 as well as x86_64's 17.
    known: u64,
}

impl Registers {
    pub const fn none() -> Self {
        Registers {
            values: [0; UNWIND_REGISTERS],
            known: 0,
        }
    }

    pub fn get(&self, number: usize) -> Option<u64> {
        let bit = 1u64.checked_shl(u32::try_from(number).ok()?)?;
        if self.known & bit == 0 {
            return None;
        }
        self.values.get(number).copied()
    }

    pub fn set(&mut self, number: usize, value: u64) {
        if let (Some(slot), Some(bit)) = (
            self.values.get_mut(number),
            u32::try_from(number).ok().and_then(|n| 1u64.checked_shl(n)),
        ) {
            *slot = value;
            self.known |= bit;
        }
    }
}

/// How a walk ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The outermost frame was reached (its return address is undefined):
    /// every frame of the thread was reported.
    Complete,
    /// The stack is deeper than the frames there was room for.
    TooDeep,
    /// The walk could not go past the last frame reported: what lies beyond
    /// it is unknown.
    Unknown,
}

/// A memory range `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region {
    pub start: u64,
    pub end: u64,
}

impl Region {
    fn holds(&self, address: u64, len: u64) -> bool {
        address >= self.start
            && address
                .checked_add(len)
                .is_some_and(|last| last <= self.end)
    }
}

/// What the walker may read, and how it finds unwind tables.
pub trait AddressSpace {
    /// The `.eh_frame_hdr` of the loaded object whose code holds `pc`.
    fn eh_frame_hdr(&self, pc: u64) -> Option<u64>;
    /// `len` bytes at `address` inside one readable segment of a loaded object.
    fn object_bytes(&self, address: u64, len: u64) -> Option<&[u8]>;
    /// The readable mapping that holds `address` (a thread's stack).
    fn stack_region(&self, address: u64) -> Option<Region>;
    /// `size` (1 to 8) bytes at `address`, little-endian, if they lie in `region`.
    fn read_stack(&self, region: Region, address: u64, size: u64) -> Option<u64>;
}

/// Walks the stack from `start`, the registers of an interrupted thread,
/// handing each frame's address to `push` (the program counter, then return
/// addresses); `push` returns false when it has no room for more.
pub fn walk(
    start: &Registers,
    space: &impl AddressSpace,
    mut push: impl FnMut(u64) -> bool,
) -> Outcome {
    let mut registers = *start;
    let Some(mut pc) = registers.get(PROGRAM_COUNTER_REGISTER) else {
        return Outcome::Unknown;
    };
    // The first frame's pc is the interrupted instruction itself; a return
    // address is the instruction after a call, so its call site is found
    // one byte before it (the call may be the last instruction of a
    // function). A frame a signal interrupted is exact again.
    let mut exact = true;
    let mut stayed = false;
    loop {
        if !push(pc) {
            return Outcome::TooDeep;
        }
        let site = if exact { pc } else { pc.wrapping_sub(1) };
        let Some(caller) = cfi::unwind_frame(&registers, site, space) else {
            return Outcome::Unknown;
        };
        let cfi::Caller::Frame {
            registers: next,
            signal_frame,
            leaf,
        } = caller
        else {
            return Outcome::Complete;
        };
        let Some(next_pc) = next.get(PROGRAM_COUNTER_REGISTER) else {
            return Outcome::Unknown;
        };
        if next_pc == 0 {
            return Outcome::Complete; // as libgcc: a zero return address ends the stack
        }
        // Each caller's frame lies above its callee's (stacks grow down),
        // which also guarantees the walk moves on; only a signal frame may
        // return to another stack (an alternate signal stack).
        let (Some(sp), Some(next_sp)) = (
            registers.get(STACK_POINTER_REGISTER),
            next.get(STACK_POINTER_REGISTER),
        ) else {
            return Outcome::Unknown;
        };
        // A leaf that kept its return address in the link register may
        // leave the stack pointer as it was, once: its caller made a call,
        // so it saved its own return address on the stack.
        let stays = next_sp == sp && leaf && !stayed;
        if next_sp <= sp && !signal_frame && !stays {
            return Outcome::Unknown;
        }
        stayed = stays;
        registers = next;
        pc = next_pc;
        exact = signal_frame;
    }
}

/// The walk the stop handler makes: from the interrupted registers, over
/// the snapshot of the address space, if there is one and enough stack left
/// to run the walk on. Without either, nothing is pushed and the outcome is
/// `Unknown`.
pub fn walk_interrupted(start: &Registers, push: impl FnMut(u64) -> bool) -> Outcome {
    process_space::with_snapshot(|space| {
        let here = std::ptr::addr_of!(space) as u64;
        let room = space
            .stack_region(here)
            .map_or(0, |region| here.saturating_sub(region.start));
        if room < MIN_STACK_ROOM {
            return Outcome::Unknown;
        }
        walk(start, space, push)
    })
    .unwrap_or(Outcome::Unknown)
}

/// Whether register `number` keeps its value across a call without an
/// unwind rule saying so.
fn preserved(number: usize) -> bool {
    u32::try_from(number)
        .ok()
        .and_then(|n| 1u32.checked_shl(n))
        .is_some_and(|bit| PRESERVED_REGISTERS & bit != 0)
}

#[cfg(test)]
mod tests;
