//! The ipbp agent: injected into an unmodified program with `LD_PRELOAD`,
//! it connects back to the ipbp CLI over a Unix socket, loads the patches
//! the CLI builds, and redirects the changed functions to them.
//!
//! Nothing the agent does may crash or abort the app: failures become error
//! replies or `ipbp-agent:` lines on stderr, and panics are caught at every
//! boundary (the constructor, the thread, each request).
//!
//! Linux on x86_64 and aarch64 (the architecture-specific parts are in
//! `arch`).

// Android (bionic) is checked to build, not run: nothing here runs its binaries.
#[cfg(not(all(
    any(target_os = "linux", target_os = "android"),
    any(target_arch = "x86_64", target_arch = "aarch64")
)))]
compile_error!("the ipbp agent supports Linux (and Android) on x86_64 and aarch64 only for now");

mod app_hooks;
mod arch;
mod code_writer;
mod endpoint;
mod env_scrub;
mod frame_io;
mod image;
mod log;
mod patch_loader;
mod patch_tls;
mod peer_auth;
pub mod protocol;
mod redirect;
mod session;
mod startup;
mod stop_world;
// Their functions are written in assembly (`test_frames`).
#[cfg(test)]
mod test_frames;
mod thread_list;
mod thread_signals;
mod unwind;
