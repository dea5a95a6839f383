//! Optional hooks for programs hot-patched by `ipbp run`.
//!
//! An app needs nothing from this crate to be patched: `ipbp run` injects its
//! agent and patches any binary. Use the crate when the app wants more:
//!
//! - [`before_patch`] and [`on_patch`] run code around every patch, e.g. to
//!   flush a cache that the new code computes differently, or to log it.
//! - [`sync`] makes patches wait for a point the app chooses, e.g. the top of
//!   a frame loop, so that no patch lands in the middle of a frame.
//! - [`migrate`] keeps the values of a type whose layout an edit changes
//!   (a field added, say): without it, such an edit restarts the app.
//!
//! ```no_run
//! ipbp::on_patch(|info| eprintln!("patch {} is live", info.patch));
//! loop {
//!     ipbp::sync(); // patches are applied here, and only here
//!     // ... one frame of work ...
//! }
//! ```
//!
//! Outside `ipbp run` (or in a release build shipped to users) every call is
//! a cheap no-op: nothing connects to the hook table.

mod hooks;
mod migrate;
mod sync_point;
mod table;

pub use hooks::{before_patch, on_patch, PatchInfo};
pub use migrate::migrate;
pub use sync_point::sync;
