//! Migrations: keeping state across a patch that changes a type's layout.
//!
//! When an edit adds a field to a struct (or otherwise changes its size,
//! alignment or field offsets), values of the old layout may still be live,
//! and the new code would misread them. `ipbp run` then restarts the app,
//! unless the app registered a migration for that type: the old code saves
//! the values and takes them out of live state, the patch is applied, and the
//! new code rebuilds them.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Mutex;

/// The phases the agent runs, numbered as in
/// `crates/ipbp-agent/src/app_hooks.rs`.
const PHASE_CHECK: u32 = 0;
const PHASE_SAVE: u32 = 1;
const PHASE_RESTORE: u32 = 2;

type Step = Box<dyn Fn() + Send + Sync>;

struct Migration {
    type_name: &'static str,
    save: Step,
    restore: Step,
}

static MIGRATIONS: Mutex<Vec<Migration>> = Mutex::new(Vec::new());

/// Keep the values of `T` alive across a patch that changes `T`'s layout,
/// instead of restarting the app.
///
/// `save` runs the old code, before the patch: it must take every value of
/// `T` out of the app's live state (and may keep them in a layout-free form,
/// a string or bytes). `restore` runs the new code, once the patch is live:
/// it builds the values again. Both run on the agent's thread; other threads
/// keep running, so guard the state with a lock or call [`crate::sync`] to
/// have patches wait for a quiet point. A type without a migration still
/// triggers a restart.
///
/// ```no_run
/// use std::sync::Mutex;
///
/// struct Item { name: String }
/// static ITEMS: Mutex<Vec<Item>> = Mutex::new(Vec::new());
/// static SAVED: Mutex<Vec<String>> = Mutex::new(Vec::new());
///
/// ipbp::migrate::<Item>(
///     || {
///         let items = std::mem::take(&mut *ITEMS.lock().unwrap());
///         *SAVED.lock().unwrap() = items.into_iter().map(|item| item.name).collect();
///     },
///     || {
///         let names = std::mem::take(&mut *SAVED.lock().unwrap());
///         *ITEMS.lock().unwrap() = names.into_iter().map(|name| Item { name }).collect();
///     },
/// );
/// ```
///
/// Values of `T` outside what `save` empties (a local variable of a function
/// that is running, a field of a static whose own size changes) are not
/// migrated: keep them behind the state the migration manages.
pub fn migrate<T: ?Sized>(
    save: impl Fn() + Send + Sync + 'static,
    restore: impl Fn() + Send + Sync + 'static,
) {
    lock().push(Migration {
        type_name: std::any::type_name::<T>(),
        save: Box::new(save),
        restore: Box::new(restore),
    });
}

/// The agent's entry point: `types[..len]` lists the changed types, one per
/// line. Returns 1 when the phase succeeded for all of them.
pub(crate) extern "C" fn run_migrations(phase: u32, types: *const u8, len: usize) -> u32 {
    if types.is_null() {
        return 0;
    }
    // SAFETY: the agent passes a pointer to `len` bytes of a string it owns
    // for the duration of this call.
    let bytes = unsafe { std::slice::from_raw_parts(types, len) };
    let Ok(types) = std::str::from_utf8(bytes) else {
        return 0;
    };
    // A panicking migration must not unwind into the agent (an FFI boundary).
    let outcome = catch_unwind(AssertUnwindSafe(|| run_phase(phase, types)));
    u32::from(outcome.unwrap_or(false))
}

fn run_phase(phase: u32, types: &str) -> bool {
    let migrations = lock();
    let changed = || {
        migrations
            .iter()
            .filter(|m| types.lines().any(|t| t == m.type_name))
    };
    match phase {
        PHASE_CHECK => types
            .lines()
            .all(|t| migrations.iter().any(|m| m.type_name == t)),
        PHASE_SAVE => {
            changed().for_each(|m| (m.save)());
            true
        }
        PHASE_RESTORE => {
            changed().for_each(|m| (m.restore)());
            true
        }
        _ => false,
    }
}

fn lock() -> std::sync::MutexGuard<'static, Vec<Migration>> {
    MIGRATIONS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    struct Tracked;
    struct Untracked;

    static SAVED: AtomicU32 = AtomicU32::new(0);
    static RESTORED: AtomicU32 = AtomicU32::new(0);

    fn run(phase: u32, types: &str) -> u32 {
        run_migrations(phase, types.as_ptr(), types.len())
    }

    #[test]
    fn only_registered_types_pass_the_check_and_only_their_steps_run() {
        migrate::<Tracked>(
            || {
                SAVED.fetch_add(1, Ordering::SeqCst);
            },
            || {
                RESTORED.fetch_add(1, Ordering::SeqCst);
            },
        );
        let tracked = std::any::type_name::<Tracked>();
        let both = format!("{tracked}\n{}", std::any::type_name::<Untracked>());
        assert_eq!(run(PHASE_CHECK, tracked), 1);
        assert_eq!(run(PHASE_CHECK, &both), 0);
        assert_eq!(run(PHASE_SAVE, tracked), 1);
        assert_eq!(run(PHASE_RESTORE, tracked), 1);
        assert_eq!(SAVED.load(Ordering::SeqCst), 1);
        assert_eq!(RESTORED.load(Ordering::SeqCst), 1);
        assert_eq!(run(7, tracked), 0, "an unknown phase fails");
    }
}
