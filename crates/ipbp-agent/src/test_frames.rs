//! Test-only functions written in assembly, so that their bounds and first
//! instructions are known exactly, for the tests of the stack walk and of
//! the redirect checks. Each has unwind info (`.cfi_*`), as compiled code
//! does, and an `_end` symbol right after its last instruction. The calling
//! frames exist for x86_64 and aarch64; the call-first functions, whose
//! return address lies inside x86_64's 5-byte entry jump, for x86_64 only
//! (aarch64's `b` is one instruction: no return address lies inside it).

use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::time::{Duration, Instant};

/// Holds a thread inside a call until released.
#[repr(C)]
pub struct Blocker {
    entered: AtomicBool,
    released: AtomicBool,
    tid: AtomicI32,
}

impl Blocker {
    pub const fn new() -> Self {
        Blocker {
            entered: AtomicBool::new(false),
            released: AtomicBool::new(false),
            tid: AtomicI32::new(0),
        }
    }

    /// Waits until a thread is blocked; returns its tid.
    pub fn wait_until_entered(&self) -> libc::pid_t {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self.entered.load(Ordering::SeqCst) {
            assert!(Instant::now() < deadline, "the thread never blocked");
            std::thread::sleep(Duration::from_millis(1));
        }
        self.tid.load(Ordering::SeqCst)
    }

    pub fn release(&self) {
        self.released.store(true, Ordering::SeqCst);
    }

    /// Used by the redirect tests of calls pending inside an entry jump, which exist on x86_64 only.
    #[cfg(target_arch = "x86_64")]
    pub fn is_released(&self) -> bool {
        self.released.load(Ordering::SeqCst)
    }
}

/// The blocking call at the top of a test thread's stack.
pub extern "C" fn block(blocker: &Blocker) {
    // SAFETY: gettid has no preconditions.
    blocker
        .tid
        .store(unsafe { libc::gettid() }, Ordering::SeqCst);
    blocker.entered.store(true, Ordering::SeqCst);
    while !blocker.released.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Defines the global function `ipbp_test_<name>`, in a section of its own,
/// from its instructions (with their CFI), and `ipbp_test_<name>_end` right
/// after its last one. `%progbits` and `%function` are spelled as both
/// assemblers take them (x86_64's `@` starts a comment on aarch64).
macro_rules! test_function {
    ($name:literal, $($line:literal),+ $(,)?) => {
        core::arch::global_asm!(
            concat!(".pushsection .text.ipbp_test_", $name, ",\"ax\",%progbits"),
            ".p2align 4",
            concat!(".globl ipbp_test_", $name),
            concat!(".type ipbp_test_", $name, ",%function"),
            concat!("ipbp_test_", $name, ":"),
            ".cfi_startproc",
            $($line,)+
            ".cfi_endproc",
            concat!(".size ipbp_test_", $name, ", . - ipbp_test_", $name),
            concat!(".globl ipbp_test_", $name, "_end"),
            concat!("ipbp_test_", $name, "_end:"),
            ".popsection",
        );
    };
}

/// Defines `ipbp_test_<name>(argument, callee)`: calls `callee(argument)`
/// from a frame of its own (it saves rbx, which keeps the stack aligned).
#[cfg(target_arch = "x86_64")]
macro_rules! calling_frame {
    ($name:literal) => {
        test_function!(
            $name,
            "push rbx",
            ".cfi_adjust_cfa_offset 8",
            ".cfi_offset rbx, -16",
            "call rsi",
            "pop rbx",
            ".cfi_adjust_cfa_offset -8",
            "ret",
        );
    };
}

/// Defines `ipbp_test_<name>(argument, callee)`: calls `callee(argument)`
/// from a frame of its own (a frame record of x29 and x30, as compiled code
/// keeps one). The argument is already in x0.
#[cfg(target_arch = "aarch64")]
macro_rules! calling_frame {
    ($name:literal) => {
        test_function!(
            $name,
            "stp x29, x30, [sp, #-16]!",
            ".cfi_def_cfa_offset 16",
            ".cfi_offset x30, -8",
            ".cfi_offset x29, -16",
            "mov x29, sp",
            "blr x1",
            "ldp x29, x30, [sp], #16",
            ".cfi_def_cfa_offset 0",
            ".cfi_restore x30",
            ".cfi_restore x29",
            "ret",
        );
    };
}

calling_frame!("blocked_frame");
calling_frame!("stopping_frame");

// `ipbp_test_<name>(callee, blocker)`, whose first instruction is the 2-byte
// `call *%rdi`: its return address lies inside the 5 bytes an entry jump
// replaces. `callee` must be `ipbp_test_misaligned_block`.
#[cfg(target_arch = "x86_64")]
test_function!("call_first_refused", "call rdi", "ret");
#[cfg(target_arch = "x86_64")]
test_function!("call_first_waited", "call rdi", "ret");

// Reached through `call *%rdi` from the function's very entry, so the stack
// is 8 bytes off the usual alignment: calling straight on realigns it.
#[cfg(target_arch = "x86_64")]
core::arch::global_asm!(
    ".pushsection .text.ipbp_test_misaligned_block,\"ax\",@progbits",
    ".p2align 4",
    ".globl ipbp_test_misaligned_block",
    ".type ipbp_test_misaligned_block,@function",
    "ipbp_test_misaligned_block:",
    ".cfi_startproc",
    "mov rdi, rsi",
    "call {block}",
    "ret",
    ".cfi_endproc",
    ".size ipbp_test_misaligned_block, . - ipbp_test_misaligned_block",
    ".popsection",
    block = sym block,
);

extern "C" {
    pub fn ipbp_test_blocked_frame(argument: *const (), callee: *const ());
    pub fn ipbp_test_blocked_frame_end();
    pub fn ipbp_test_stopping_frame(argument: *const (), callee: *const ());
    pub fn ipbp_test_stopping_frame_end();
}

#[cfg(target_arch = "x86_64")]
extern "C" {
    pub fn ipbp_test_call_first_refused(callee: *const (), blocker: &Blocker);
    pub fn ipbp_test_call_first_waited(callee: *const (), blocker: &Blocker);
    pub fn ipbp_test_misaligned_block();
}

/// `[start, end)` of a function defined above.
pub fn bounds(
    start: unsafe extern "C" fn(*const (), *const ()),
    end: unsafe extern "C" fn(),
) -> (u64, u64) {
    (start as *const () as u64, end as *const () as u64)
}
