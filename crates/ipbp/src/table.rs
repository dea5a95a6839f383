//! The table the ipbp agent finds in the program (by its symbol, through the
//! ipbp CLI, which reads the executable's symbol table). Its layout is a
//! contract with `crates/ipbp-agent/src/app_hooks.rs`: change both together.

use std::sync::atomic::{AtomicU32, AtomicU64};

/// Bumped when the layout below changes; the agent ignores other versions.
pub const TABLE_VERSION: u32 = 2;

#[repr(C)]
pub struct HookTable {
    pub version: u32,
    /// 1 once the app called `ipbp::sync()`: patches then wait for sync points.
    pub sync_points: AtomicU32,
    /// Set by the agent: the id of a patch that waits for the next sync point.
    pub pending_patch: AtomicU32,
    /// Set by `sync()` once the app thread is parked and the agent may redirect.
    pub parked: AtomicU32,
    /// Set by the agent when the pending patch is applied (its id).
    pub applied_patch: AtomicU32,
    /// Padding so that the futex words above and the counters below do not share a line.
    pub reserved: AtomicU64,
    pub before_patch: extern "C" fn(patch: u32),
    pub after_patch: extern "C" fn(patch: u32),
    /// One phase (check, save, restore) of the migrations for the types
    /// listed one per line in `types[..len]`; returns 1 on success.
    pub migrate: extern "C" fn(phase: u32, types: *const u8, len: usize) -> u32,
}

/// The one table of the program. `#[no_mangle]` gives it a stable name the
/// CLI can find; `#[used]` keeps the linker from dropping it.
#[no_mangle]
#[used]
pub static IPBP_HOOK_TABLE_V1: HookTable = HookTable {
    version: TABLE_VERSION,
    sync_points: AtomicU32::new(0),
    pending_patch: AtomicU32::new(0),
    parked: AtomicU32::new(0),
    applied_patch: AtomicU32::new(0),
    reserved: AtomicU64::new(0),
    before_patch: crate::hooks::run_before_patch,
    after_patch: crate::hooks::run_after_patch,
    migrate: crate::migrate::run_migrations,
};
