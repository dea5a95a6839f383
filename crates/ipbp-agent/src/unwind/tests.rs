// Tests may panic; the code under test may not (see the module's lints).
#![allow(
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

#[cfg(target_arch = "x86_64")]
use super::cfi::test_support::evaluate_with;
use super::*;
use crate::arch::{Architecture, Current};
use crate::stop_world::exclusive_for_test;
use std::ffi::{c_int, c_void};
use std::sync::atomic::{AtomicU64, AtomicU8, AtomicUsize, Ordering};

// ---------------------------------------------------------------------------
// Against libgcc's unwinder, on the real frames of this test binary, std
// and glibc.

#[link(name = "gcc_s")]
extern "C" {
    fn _Unwind_Backtrace(
        trace: extern "C" fn(*mut c_void, *mut c_void) -> c_int,
        data: *mut c_void,
    ) -> c_int;
    fn _Unwind_GetIP(context: *mut c_void) -> usize;
}

extern "C" fn collect_ip(context: *mut c_void, data: *mut c_void) -> c_int {
    // SAFETY: `data` is the Vec passed by `libgcc_frames`; `context` is
    // libgcc's, valid during the callback.
    unsafe { (*data.cast::<Vec<u64>>()).push(_Unwind_GetIP(context) as u64) };
    0 // _URC_NO_REASON: go on
}

/// The return addresses libgcc finds from its caller outwards.
#[inline(never)]
fn libgcc_frames() -> Vec<u64> {
    let mut frames: Vec<u64> = Vec::new();
    // SAFETY: the callback only pushes into `frames`, alive for the call.
    unsafe { _Unwind_Backtrace(collect_ip, (&mut frames as *mut Vec<u64>).cast()) };
    // libgcc calls back once more past the outermost frame, with ip 0.
    if frames.last() == Some(&0) {
        frames.pop();
    }
    frames
}

/// Our walk from `registers`, over a fresh snapshot.
fn walk_here(registers: &Registers) -> (Vec<u64>, Outcome) {
    let mut frames = Vec::new();
    let outcome = process_space::with_snapshot(|space| {
        walk(registers, space, |address| {
            frames.push(address);
            frames.len() <= 256
        })
    })
    .expect("a snapshot");
    (frames, outcome)
}

fn common_suffix(ours: &[u64], theirs: &[u64]) -> usize {
    ours.iter()
        .rev()
        .zip(theirs.iter().rev())
        .take_while(|(a, b)| a == b)
        .count()
}

/// Both walks started in the same function (ours at its pc, libgcc inside
/// `libgcc_frames` called from it): from that function's caller on they
/// must agree frame for frame, and ours must reach the end.
fn assert_same_callers(ours: &[u64], outcome: Outcome, theirs: &[u64]) {
    let shown = |frames: &[u64]| format!("{frames:x?}");
    assert_eq!(outcome, Outcome::Complete, "ours {}", shown(ours));
    let common = common_suffix(ours, theirs);
    // libgcc's first two frames are inside `libgcc_frames` and the function
    // that called it; everything after them must be ours too.
    assert!(
        common + 2 == theirs.len() && common >= 4,
        "only {common} common frames:\n ours   {}\n libgcc {}",
        shown(ours),
        shown(theirs)
    );
}

#[inline(never)]
fn walk_from_getcontext() -> (Vec<u64>, Outcome, Vec<u64>) {
    // SAFETY: an all-zero ucontext_t is valid plain data for getcontext to fill.
    let mut context: libc::ucontext_t = unsafe { std::mem::zeroed() };
    // SAFETY: getcontext writes the current registers into `context`.
    assert_eq!(unsafe { libc::getcontext(&mut context) }, 0);
    let (ours, outcome) = walk_here(&Current::unwind_registers(&context));
    let theirs = libgcc_frames();
    (ours, outcome, theirs)
}

#[test]
fn agrees_with_libgcc_from_a_captured_context() {
    exclusive_for_test(|| {
        assert!(process_space::refresh());
        let (ours, outcome, theirs) = std::hint::black_box(walk_from_getcontext());
        assert_same_callers(&ours, outcome, &theirs);
    });
}

const SIGNAL_FRAMES: usize = 128;
static FROM_CONTEXT: [AtomicU64; SIGNAL_FRAMES] = [const { AtomicU64::new(0) }; SIGNAL_FRAMES];
static FROM_CONTEXT_LEN: AtomicUsize = AtomicUsize::new(0);
static FROM_CONTEXT_OUTCOME: AtomicU8 = AtomicU8::new(0);
static FROM_HANDLER: [AtomicU64; SIGNAL_FRAMES] = [const { AtomicU64::new(0) }; SIGNAL_FRAMES];
static FROM_HANDLER_LEN: AtomicUsize = AtomicUsize::new(0);
static FROM_HANDLER_OUTCOME: AtomicU8 = AtomicU8::new(0);

fn record(into: &[AtomicU64], len: &AtomicUsize, registers: &Registers) -> Outcome {
    let mut count = 0;
    let outcome = walk_interrupted(registers, |address| {
        let Some(slot) = into.get(count) else {
            return false;
        };
        slot.store(address, Ordering::Relaxed);
        count += 1;
        true
    });
    len.store(count, Ordering::SeqCst);
    outcome
}

/// Walks twice, allocating nothing: from the interrupted registers (as the
/// stop handler does), and from inside the handler itself, out through the
/// kernel's signal frame (glibc's `__restore_rt`, whose unwind rules are
/// DWARF expressions).
extern "C" fn walking_handler(_signal: c_int, _info: *mut libc::siginfo_t, context: *mut c_void) {
    // SAFETY: SA_SIGINFO: the kernel passes a valid ucontext_t.
    let context = unsafe { &*context.cast::<libc::ucontext_t>() };
    let outcome = record(
        &FROM_CONTEXT,
        &FROM_CONTEXT_LEN,
        &Current::unwind_registers(context),
    );
    FROM_CONTEXT_OUTCOME.store(outcome as u8, Ordering::SeqCst);
    // SAFETY: as in walk_from_getcontext.
    let mut here: libc::ucontext_t = unsafe { std::mem::zeroed() };
    // SAFETY: getcontext writes the current registers into `here`.
    unsafe { libc::getcontext(&mut here) };
    let outcome = record(
        &FROM_HANDLER,
        &FROM_HANDLER_LEN,
        &Current::unwind_registers(&here),
    );
    FROM_HANDLER_OUTCOME.store(outcome as u8, Ordering::SeqCst);
}

fn recorded(frames: &[AtomicU64], len: &AtomicUsize, outcome: &AtomicU8) -> (Vec<u64>, Outcome) {
    let frames = frames
        .iter()
        .take(len.load(Ordering::SeqCst))
        .map(|f| f.load(Ordering::Relaxed))
        .collect();
    let outcome = match outcome.load(Ordering::SeqCst) {
        0 => Outcome::Complete,
        1 => Outcome::TooDeep,
        _ => Outcome::Unknown,
    };
    (frames, outcome)
}

#[inline(never)]
fn raise_walking_signal(signal: c_int) -> Vec<u64> {
    let theirs = libgcc_frames();
    // SAFETY: signals this thread; the handler for `signal` is installed.
    unsafe {
        libc::syscall(libc::SYS_tgkill, libc::getpid(), libc::gettid(), signal);
    }
    theirs
}

#[test]
fn agrees_with_libgcc_through_a_signal_frame() {
    let signal = libc::SIGRTMIN() + 9;
    // SAFETY: installs a handler (async-signal-safe: it allocates nothing)
    // for a real-time signal nothing else in the tests uses.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = walking_handler as *const () as usize;
        action.sa_flags = libc::SA_SIGINFO;
        libc::sigemptyset(&mut action.sa_mask);
        assert_eq!(libc::sigaction(signal, &action, std::ptr::null_mut()), 0);
    }
    exclusive_for_test(|| {
        assert!(process_space::refresh());
        let theirs = std::hint::black_box(raise_walking_signal(signal));
        let (ours, outcome) = recorded(&FROM_CONTEXT, &FROM_CONTEXT_LEN, &FROM_CONTEXT_OUTCOME);
        assert_same_callers(&ours, outcome, &theirs);
        // qemu-user's signal trampoline (aarch64 under emulation) has no
        // unwind info, where the kernel's vDSO one has; glibc's x86_64
        // `__restore_rt` has DWARF expressions for the walk to evaluate.
        if cfg!(not(target_arch = "x86_64")) {
            return;
        }
        let (through, outcome) = recorded(&FROM_HANDLER, &FROM_HANDLER_LEN, &FROM_HANDLER_OUTCOME);
        assert_eq!(outcome, Outcome::Complete, "{through:x?}");
        // Out of the handler, the trampoline is crossed and the interrupted
        // frames follow exactly as walked from the context.
        assert!(
            through.ends_with(&ours) && through.len() >= ours.len() + 2,
            "through the signal frame {through:x?}\n from the context {ours:x?}"
        );
    });
}

// ---------------------------------------------------------------------------
// Hand-made unwind tables over a fake address space.

const OBJECT_BASE: u64 = 0x10_0000;
const STACK_BASE: u64 = 0x7000_0000;

struct FakeSpace {
    object: Vec<u8>,
    header: u64,
    stack: Vec<u8>,
}

impl AddressSpace for FakeSpace {
    fn eh_frame_hdr(&self, _pc: u64) -> Option<u64> {
        Some(self.header)
    }

    fn object_bytes(&self, address: u64, len: u64) -> Option<&[u8]> {
        let start = usize::try_from(address.checked_sub(OBJECT_BASE)?).ok()?;
        let end = start.checked_add(usize::try_from(len).ok()?)?;
        self.object.get(start..end)
    }

    fn stack_region(&self, address: u64) -> Option<Region> {
        let region = Region {
            start: STACK_BASE,
            end: STACK_BASE + self.stack.len() as u64,
        };
        region.holds(address, 1).then_some(region)
    }

    fn read_stack(&self, region: Region, address: u64, size: u64) -> Option<u64> {
        if !region.holds(address, size) {
            return None;
        }
        let start = usize::try_from(address - STACK_BASE).ok()?;
        let mut bytes = [0u8; 8];
        bytes[..size as usize].copy_from_slice(self.stack.get(start..start + size as usize)?);
        Some(u64::from_le_bytes(bytes))
    }
}

/// A CIE ("zR", pc-relative FDE pointers, data alignment -8, return
/// address in column 16, CFA = rsp + 8 and the return address at CFA - 8),
/// then one FDE per `(start, len, program)`, then the `.eh_frame_hdr`.
fn tables(functions: &[(u64, u64, &[u8])]) -> (Vec<u8>, u64) {
    let mut object = Vec::new();
    let cie_body: &[u8] = &[
        0, 0, 0, 0, // CIE id
        1, b'z', b'R', 0,    // version, augmentation
        1,    // code alignment
        0x78, // data alignment -8
        16,   // return address column
        1, 0x1b, // augmentation data: FDE pointers pcrel sdata4
        0x0c, 7, 8, // DW_CFA_def_cfa rsp+8
        0x90, 1, // DW_CFA_offset r16 at cfa-8
    ];
    let cie_at = object.len();
    object.extend_from_slice(&(cie_body.len() as u32).to_le_bytes());
    object.extend_from_slice(cie_body);
    let mut fdes = Vec::new();
    for &(start, len, program) in functions {
        let fde_at = object.len();
        let mut body = Vec::new();
        let pointer_at = fde_at + 4;
        body.extend_from_slice(&((pointer_at - cie_at) as u32).to_le_bytes());
        let field = OBJECT_BASE + (pointer_at + 4) as u64;
        body.extend_from_slice(&((start as i64 - field as i64) as i32).to_le_bytes());
        body.extend_from_slice(&(len as u32).to_le_bytes());
        body.push(0); // augmentation data length
        body.extend_from_slice(program);
        object.extend_from_slice(&(body.len() as u32).to_le_bytes());
        object.extend_from_slice(&body);
        fdes.push((start, fde_at));
    }
    object.extend_from_slice(&0u32.to_le_bytes()); // end of .eh_frame
    let header_at = object.len();
    let header = OBJECT_BASE + header_at as u64;
    object.extend_from_slice(&[1, 0x1b, 0x03, 0x3b]);
    object.extend_from_slice(&0i32.to_le_bytes()); // eh_frame_ptr (unused)
    object.extend_from_slice(&(fdes.len() as u32).to_le_bytes());
    fdes.sort();
    for (start, fde_at) in fdes {
        object.extend_from_slice(&((start as i64 - header as i64) as i32).to_le_bytes());
        let fde = OBJECT_BASE + fde_at as u64;
        object.extend_from_slice(&((fde as i64 - header as i64) as i32).to_le_bytes());
    }
    (object, header)
}

const FUNCTION: u64 = 0x40_1000;
const CALLER: u64 = 0x40_2000;

/// `push rbp; mov rbp, rsp; ...; (remember; pop rbp; ret; restore) ...`
const FRAMED: &[u8] = &[
    0x41, // advance 1 (after push rbp)
    0x0e, 16, // def_cfa_offset 16
    0x86, 2,    // rbp at cfa-16
    0x43, // advance 3 (after mov rbp, rsp)
    0x0d, 6, // def_cfa_register rbp
    0x02, 0x2c, // advance_loc1 0x2c: at 0x30
    0x0a, // remember_state
    0x0c, 7, 8,    // def_cfa rsp+8 (after pop rbp)
    0xc6, // restore rbp: its value is the caller's again
    0x41, // advance 1: at 0x31
    0x0b, // restore_state
];

fn stack_with(words: &[(u64, u64)]) -> Vec<u8> {
    let mut stack = vec![0u8; 0x1000];
    for &(address, value) in words {
        let at = (address - STACK_BASE) as usize;
        stack[at..at + 8].copy_from_slice(&value.to_le_bytes());
    }
    stack
}

fn registers(pc: u64, sp: u64, rbp: u64) -> Registers {
    let mut registers = Registers::none();
    registers.set(PROGRAM_COUNTER_REGISTER, pc);
    registers.set(STACK_POINTER_REGISTER, sp);
    registers.set(6, rbp);
    registers.set(0, 0xaaaa); // rax: not preserved across calls
    registers
}

/// Caller pc, sp and rbp after unwinding one frame.
#[cfg(target_arch = "x86_64")]
fn unwind_one(space: &FakeSpace, start: Registers) -> (u64, u64, Option<u64>, bool) {
    let mut frames = Vec::new();
    let outcome = walk(&start, space, |address| {
        frames.push(address);
        frames.len() < 2
    });
    assert_eq!(outcome, Outcome::TooDeep, "{frames:x?}");
    let site = start.get(PROGRAM_COUNTER_REGISTER).unwrap();
    let cfi::Caller::Frame { registers, .. } = cfi::unwind_frame(&start, site, space).unwrap()
    else {
        panic!("no caller")
    };
    assert_eq!(frames[1], registers.get(PROGRAM_COUNTER_REGISTER).unwrap());
    (
        registers.get(PROGRAM_COUNTER_REGISTER).unwrap(),
        registers.get(STACK_POINTER_REGISTER).unwrap(),
        registers.get(6),
        registers.get(0).is_some(),
    )
}

// Its tables name x86_64's registers (rsp 7, rbp 6, the return address 16).
#[cfg(target_arch = "x86_64")]
#[test]
fn the_rows_of_a_hand_made_fde_are_followed() {
    let (object, header) = tables(&[(FUNCTION, 0x40, FRAMED), (CALLER, 0x40, &[])]);
    let sp = STACK_BASE + 0x800;
    // At entry: the return address is at rsp.
    let space = FakeSpace {
        object: object.clone(),
        header,
        stack: stack_with(&[(sp, CALLER + 5)]),
    };
    assert_eq!(
        unwind_one(&space, registers(FUNCTION, sp, 0x1234)),
        (CALLER + 5, sp + 8, Some(0x1234), false)
    );
    // After push rbp: the saved rbp at rsp, the return address above it.
    let space = FakeSpace {
        object: object.clone(),
        header,
        stack: stack_with(&[(sp - 8, 0x5678), (sp, CALLER + 5)]),
    };
    assert_eq!(
        unwind_one(&space, registers(FUNCTION + 1, sp - 8, 0x1234)),
        (CALLER + 5, sp + 8, Some(0x5678), false)
    );
    // In the body: the CFA follows rbp, wherever rsp went.
    let space = FakeSpace {
        object: object.clone(),
        header,
        stack: stack_with(&[(sp - 8, 0x5678), (sp, CALLER + 5)]),
    };
    assert_eq!(
        unwind_one(&space, registers(FUNCTION + 0x20, sp - 0x100, sp - 8)),
        (CALLER + 5, sp + 8, Some(0x5678), false)
    );
    // At the `ret` of an early epilogue (0x30): rbp popped, CFA = rsp+8.
    let space = FakeSpace {
        object: object.clone(),
        header,
        stack: stack_with(&[(sp, CALLER + 5)]),
    };
    assert_eq!(
        unwind_one(&space, registers(FUNCTION + 0x30, sp, 0x5678)),
        (CALLER + 5, sp + 8, Some(0x5678), false)
    );
    // After it (0x31), the remembered body row again.
    let space = FakeSpace {
        object,
        header,
        stack: stack_with(&[(sp - 8, 0x5678), (sp, CALLER + 5)]),
    };
    assert_eq!(
        unwind_one(&space, registers(FUNCTION + 0x31, sp - 0x40, sp - 8)),
        (CALLER + 5, sp + 8, Some(0x5678), false)
    );
}

// Its tables name x86_64's registers (rsp 7, rbp 6, the return address 16).
#[cfg(target_arch = "x86_64")]
#[test]
fn a_walk_ends_complete_unknown_or_too_deep() {
    const OUTERMOST: &[u8] = &[0x07, 16]; // DW_CFA_undefined r16
    let (object, header) = tables(&[(FUNCTION, 0x40, &[]), (CALLER, 0x40, OUTERMOST)]);
    let sp = STACK_BASE + 0x800;
    let space = FakeSpace {
        object,
        header,
        stack: stack_with(&[(sp, CALLER + 5)]),
    };
    let mut frames = Vec::new();
    let outcome = walk(&registers(FUNCTION + 3, sp, 0), &space, |a| {
        frames.push(a);
        true
    });
    assert_eq!(
        (outcome, frames),
        (Outcome::Complete, vec![FUNCTION + 3, CALLER + 5])
    );

    // No room for the second frame.
    assert_eq!(
        walk(&registers(FUNCTION + 3, sp, 0), &space, |_| false),
        Outcome::TooDeep
    );
    // A pc no FDE covers: the pc is reported, the rest is unknown.
    let mut frames = Vec::new();
    let outcome = walk(&registers(FUNCTION + 0x50, sp, 0), &space, |a| {
        frames.push(a);
        true
    });
    assert_eq!((outcome, frames), (Outcome::Unknown, vec![FUNCTION + 0x50]));
    // A stack pointer outside any stack: unknown after the pc.
    let mut frames = Vec::new();
    let outcome = walk(&registers(FUNCTION + 3, 0x10, 0), &space, |a| {
        frames.push(a);
        true
    });
    assert_eq!((outcome, frames), (Outcome::Unknown, vec![FUNCTION + 3]));
    // A return address slot past the end of the stack mapping.
    let top = STACK_BASE + 0x1000 - 4;
    let outcome = walk(&registers(FUNCTION + 3, top, 0), &space, |_| true);
    assert_eq!(outcome, Outcome::Unknown);
    // No pc at all.
    assert_eq!(walk(&Registers::none(), &space, |_| true), Outcome::Unknown);
}

#[test]
fn a_frame_that_does_not_move_up_the_stack_ends_the_walk() {
    // CFA = rsp + 0: the "caller" would have the same stack pointer.
    const STUCK: &[u8] = &[0x0e, 0]; // def_cfa_offset 0
    let (object, header) = tables(&[(FUNCTION, 0x40, STUCK)]);
    let sp = STACK_BASE + 0x800;
    let space = FakeSpace {
        object,
        header,
        stack: stack_with(&[(sp - 8, FUNCTION + 1)]),
    };
    let mut frames = 0;
    let outcome = walk(&registers(FUNCTION + 3, sp, 0), &space, |_| {
        frames += 1;
        true
    });
    assert_eq!((outcome, frames), (Outcome::Unknown, 1));
}

// Its tables name x86_64's registers (rsp 7, rbp 6, the return address 16).
#[cfg(target_arch = "x86_64")]
#[test]
fn expressions_of_plt_stubs_and_signal_frames_evaluate() {
    let space = FakeSpace {
        object: Vec::new(),
        header: 0,
        stack: stack_with(&[(STACK_BASE + 0x100 + 160, 0xfeed)]),
    };
    let region = space.stack_region(STACK_BASE).unwrap();
    let mut registers = Registers::none();
    registers.set(STACK_POINTER_REGISTER, STACK_BASE + 0x100);
    // The PLT's CFA: rsp + 8 + ((rip & 15) >= 11 ? 8 : 0).
    let plt = [0x77, 8, 0x80, 0, 0x3f, 0x1a, 0x3b, 0x2a, 0x33, 0x24, 0x22];
    for (rip, extra) in [
        (0x0040_1000, 0),
        (0x0040_100a, 0),
        (0x0040_100b, 8),
        (0x0040_100f, 8),
    ] {
        registers.set(PROGRAM_COUNTER_REGISTER, rip);
        assert_eq!(
            evaluate_with(&plt, &registers, None, &space, region),
            Some(STACK_BASE + 0x108 + extra),
            "rip 0x{rip:x}"
        );
    }
    // glibc's __restore_rt CFA: *(rsp + 160).
    let restore_rt = [0x77, 0xa0, 0x01, 0x06];
    assert_eq!(
        evaluate_with(&restore_rt, &registers, None, &space, region),
        Some(0xfeed)
    );
    // The CFA pushed first, for register rules: CFA - 16.
    assert_eq!(
        evaluate_with(&[0x40, 0x1c], &registers, Some(0x1000), &space, region),
        Some(0x0ff0)
    );
    // Failures, never panics: an unknown register, a read off the stack,
    // division by zero, an endless loop, a branch out of the expression,
    // stack underflow and overflow.
    for ops in [
        &[0x70, 0][..],          // breg0: rax unknown
        &[0x30, 0x06][..],       // deref 0
        &[0x31, 0x30, 0x1b][..], // 1 / 0
        &[0x2f, 0xfd, 0xff][..], // skip -3: forever
        &[0x2f, 0x10, 0x00][..], // skip past the end
        &[0x22][..],             // plus on an empty stack
        &[0x31; 17][..],         // 17 pushes
        &[0xe0][..],             // an unknown operation
    ] {
        assert_eq!(
            evaluate_with(ops, &registers, None, &space, region),
            None,
            "{ops:x?}"
        );
    }
}

/// A small deterministic generator, as in the protocol tests.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn garbage_tables_and_stacks_end_walks_without_panicking() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let (valid, header) = tables(&[(FUNCTION, 0x40, FRAMED), (CALLER, 0x40, &[0x07, 16])]);
    for case in 0..3_000 {
        let mut object = valid.clone();
        // Corrupt some bytes of the tables (or, sometimes, all of them).
        let edits = if case % 10 == 0 {
            object.len()
        } else {
            1 + rng.next() as usize % 8
        };
        for _ in 0..edits {
            let at = rng.next() as usize % object.len();
            object[at] = rng.next() as u8;
        }
        let stack: Vec<u8> = (0..0x1000).map(|_| rng.next() as u8).collect();
        let space = FakeSpace {
            object,
            header,
            stack,
        };
        let pc = FUNCTION + rng.next() % 0x48;
        let sp = STACK_BASE + rng.next() % 0x1000;
        let mut frames = 0;
        walk(
            &registers(pc, sp, STACK_BASE + rng.next() % 0x1000),
            &space,
            |_| {
                frames += 1;
                frames < MAX_FRAMES
            },
        );
        assert!(frames <= MAX_FRAMES);
    }
}
