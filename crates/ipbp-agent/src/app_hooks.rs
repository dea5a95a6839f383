//! The app's side of the `ipbp` crate: its hook table, found at the address
//! the CLI read from the executable's symbol table. The layout below is a
//! contract with `crates/ipbp/src/table.rs`: change both together.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

const TABLE_VERSION: u32 = 2;
/// How long a patch waits for the app to reach `ipbp::sync()`.
const SYNC_POINT_TIMEOUT: Duration = Duration::from_secs(30);

#[repr(C)]
struct HookTable {
    version: u32,
    sync_points: AtomicU32,
    pending_patch: AtomicU32,
    parked: AtomicU32,
    applied_patch: AtomicU32,
    reserved: AtomicU64,
    before_patch: extern "C" fn(patch: u32),
    after_patch: extern "C" fn(patch: u32),
    migrate: extern "C" fn(phase: u32, types: *const u8, len: usize) -> u32,
}

/// The phases of `migrate`, as `crates/ipbp/src/migrate.rs` numbers them.
#[derive(Clone, Copy)]
pub enum MigrationPhase {
    /// Are all these types covered? Runs nothing of the app's.
    Check = 0,
    /// The old code takes the values out of live state (before redirecting).
    Save = 1,
    /// The new code puts them back (after redirecting).
    Restore = 2,
}

pub struct AppHooks {
    table: &'static HookTable,
}

impl AppHooks {
    /// The table at `address`, if there is one of a version this agent knows.
    pub fn find(address: u64) -> Option<AppHooks> {
        if address == 0 || !address.is_multiple_of(std::mem::align_of::<HookTable>() as u64) {
            return None;
        }
        // The address must lie in a mapped, readable part of the program
        // before anything is read from it.
        if !crate::image::is_readable(address, std::mem::size_of::<HookTable>() as u64) {
            crate::log::agent_log!("ignoring hook table address 0x{address:x}: not mapped");
            return None;
        }
        // SAFETY: the address is aligned and mapped readable for the table's
        // size; the CLI found it as the `IPBP_HOOK_TABLE_V1` static of this
        // build (the build id was checked), which lives for the whole process.
        let table = unsafe { &*(address as *const HookTable) };
        if table.version != TABLE_VERSION {
            crate::log::agent_log!(
                "the app's ipbp crate has hook table version {}, this agent knows {TABLE_VERSION}: its hooks are not run",
                table.version
            );
            return None;
        }
        Some(AppHooks { table })
    }

    /// Runs one phase of the app's migrations for `types` (one per line);
    /// false when a type has no migration or a migration panicked.
    pub fn migrate(&self, phase: MigrationPhase, types: &str) -> bool {
        (self.table.migrate)(phase as u32, types.as_ptr(), types.len()) == 1
    }

    pub fn before_patch(&self, patch: u32) {
        (self.table.before_patch)(patch);
    }

    pub fn after_patch(&self, patch: u32) {
        (self.table.after_patch)(patch);
    }

    /// Run `apply` now, or, once the app uses sync points, while one of its
    /// threads is parked inside `ipbp::sync()`.
    pub fn at_sync_point(
        &self,
        patch: u32,
        apply: impl FnOnce() -> Result<(), String>,
    ) -> Result<(), String> {
        let table = self.table;
        if table.sync_points.load(Ordering::Acquire) == 0 {
            return apply();
        }
        table.pending_patch.store(patch, Ordering::Release);
        let deadline = Instant::now() + SYNC_POINT_TIMEOUT;
        while table.parked.load(Ordering::Acquire) != patch {
            if Instant::now() > deadline {
                table.pending_patch.store(0, Ordering::Release);
                return Err(format!(
                    "the app did not reach ipbp::sync() within {} s; patch {patch} not applied",
                    SYNC_POINT_TIMEOUT.as_secs()
                ));
            }
            std::thread::sleep(Duration::from_micros(200));
        }
        let result = apply();
        if result.is_err() {
            table.pending_patch.store(0, Ordering::Release);
        }
        table.applied_patch.store(patch, Ordering::Release);
        result
    }
}
