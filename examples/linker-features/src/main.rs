//! Symbols the linker and the loader treat specially: an indirect function
//! (`ifunc`, whose symbol is a resolver the loader calls), a weak reference
//! nothing defines (address 0), and a constructor in `.init_array` that
//! runs before `main`.
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

core::arch::global_asm!(
    ".globl ipbp_pick",
    ".type ipbp_pick, @gnu_indirect_function",
    "ipbp_pick:",
    "    lea rax, [rip + {choice}]",
    "    ret",
    ".weak ipbp_missing",
    choice = sym choose_seven,
);

extern "C" fn choose_seven() -> u64 {
    7
}

extern "C" {
    fn ipbp_pick() -> u64;
}

static STARTED: AtomicU64 = AtomicU64::new(0);

extern "C" fn at_start() {
    STARTED.store(42, Ordering::Relaxed);
}

#[used]
#[link_section = ".init_array"]
static AT_START: extern "C" fn() = at_start;

#[inline(never)]
fn picked() -> u64 {
    // SAFETY: the resolver returns `choose_seven`, which takes nothing and returns a u64.
    unsafe { ipbp_pick() }
}

#[inline(never)]
fn weak_address() -> usize {
    let address: usize;
    // SAFETY: only reads the GOT slot of a weak symbol nothing defines (0).
    unsafe { core::arch::asm!("mov {}, qword ptr [rip + ipbp_missing@GOTPCREL]", out(reg) address) };
    address
}

#[inline(never)]
fn label() -> &'static str {
    "one"
}

fn main() {
    loop {
        println!("label={} picked={} weak={} started={}", label(), picked(), weak_address(), STARTED.load(Ordering::Relaxed));
        std::thread::sleep(Duration::from_millis(150));
    }
}
