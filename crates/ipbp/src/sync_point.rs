//! Sync points: the app decides where patches land.

use crate::table::IPBP_HOOK_TABLE_V1 as TABLE;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// Apply any patch that is waiting, here, on this thread.
///
/// The first call switches the program to sync points: from then on the
/// agent loads each patch as soon as it arrives but redirects functions only
/// while some thread is inside `sync()`. Call it where no patched code is on
/// this thread's stack, e.g. at the top of the main loop.
pub fn sync() {
    TABLE.sync_points.store(1, Ordering::Release);
    let pending = TABLE.pending_patch.load(Ordering::Acquire);
    if pending == 0 || TABLE.applied_patch.load(Ordering::Acquire) == pending {
        return;
    }
    // Park: the agent redirects while this thread waits at a known place.
    TABLE.parked.store(pending, Ordering::Release);
    while TABLE.applied_patch.load(Ordering::Acquire) != pending {
        std::thread::sleep(Duration::from_micros(200));
        // The agent gave up on this patch (it failed): stop waiting.
        if TABLE.pending_patch.load(Ordering::Acquire) != pending {
            break;
        }
    }
    TABLE.parked.store(0, Ordering::Release);
}
