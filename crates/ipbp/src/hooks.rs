//! Callbacks registered by the app, run by the agent around each patch.

use std::sync::Mutex;

/// What the hooks learn about a patch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct PatchInfo {
    /// The patch number, counting from 1 in the ipbp session.
    pub patch: u32,
}

type Hook = Box<dyn Fn(&PatchInfo) + Send + Sync>;

static BEFORE: Mutex<Vec<Hook>> = Mutex::new(Vec::new());
static AFTER: Mutex<Vec<Hook>> = Mutex::new(Vec::new());

/// Run `hook` right before each patch redirects any function. The old code is
/// still the code that runs; other threads may be running too.
pub fn before_patch(hook: impl Fn(&PatchInfo) + Send + Sync + 'static) {
    lock(&BEFORE).push(Box::new(hook));
}

/// Run `hook` once each patch is live: every later call runs the new code.
pub fn on_patch(hook: impl Fn(&PatchInfo) + Send + Sync + 'static) {
    lock(&AFTER).push(Box::new(hook));
}

pub(crate) extern "C" fn run_before_patch(patch: u32) {
    run(&BEFORE, patch);
}

pub(crate) extern "C" fn run_after_patch(patch: u32) {
    run(&AFTER, patch);
}

fn run(hooks: &Mutex<Vec<Hook>>, patch: u32) {
    let info = PatchInfo { patch };
    // A panicking hook must not unwind into the agent (an FFI boundary).
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        for hook in lock(hooks).iter() {
            hook(&info);
        }
    }));
}

fn lock(hooks: &Mutex<Vec<Hook>>) -> std::sync::MutexGuard<'_, Vec<Hook>> {
    hooks
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
