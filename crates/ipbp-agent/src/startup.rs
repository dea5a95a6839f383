//! What runs when the library is loaded: decide whether to start, keep the
//! injection away from child processes, start the agent thread.

use crate::endpoint::Endpoint;
use crate::env_scrub::preload_without;
use crate::log::agent_log;
use crate::session::serve_forever;
use std::ffi::{CStr, OsStr};
use std::os::unix::ffi::OsStrExt;
use std::panic::catch_unwind;
use std::path::PathBuf;

/// An `.init_array` entry: the loader calls it once the library is mapped,
/// before the program's `main`.
#[used]
#[link_section = ".init_array"]
static START_AGENT: extern "C" fn() = start_agent;

extern "C" fn start_agent() {
    // A panic must not unwind into the loader (that would abort the app).
    if catch_unwind(start_agent_if_requested).is_err() {
        agent_log!("could not start; the app runs without it");
    }
}

fn start_agent_if_requested() {
    // The loader runs constructors before the program has threads of its
    // own, so changing the environment here races with nobody.
    let Some(endpoint) = Endpoint::take_from_env() else {
        return; // loaded without the CLI (e.g. by a test harness): stay inert
    };
    remove_self_from_preload();
    let endpoint = match endpoint {
        Ok(endpoint) => endpoint,
        Err(problem) => {
            agent_log!("not starting: {problem}");
            return;
        }
    };

    let spawned = std::thread::Builder::new()
        .name("ipbp-agent".to_owned())
        .spawn(move || {
            // serve_forever catches panics per connection; this is the last
            // line of defence for anything outside that.
            if catch_unwind(|| serve_forever(&endpoint)).is_err() {
                agent_log!(
                    "the agent thread stopped after an internal error; the app keeps running"
                );
            }
        });
    if let Err(error) = spawned {
        agent_log!("cannot start the agent thread: {error}");
    }
}

fn remove_self_from_preload() {
    let Some(preload) = std::env::var_os("LD_PRELOAD") else {
        return;
    };
    let Some(own_path) = own_library_path() else {
        agent_log!("cannot find the agent's own path; LD_PRELOAD is left as is");
        return;
    };
    let own_canonical = std::fs::canonicalize(&own_path).ok();
    let is_agent = |entry: &str| {
        entry == own_path.as_os_str()
            || (own_canonical.is_some() && std::fs::canonicalize(entry).ok() == own_canonical)
    };
    match preload_without(&preload.to_string_lossy(), is_agent) {
        Some(rest) => std::env::set_var("LD_PRELOAD", rest),
        None => std::env::remove_var("LD_PRELOAD"),
    }
}

/// The path the loader opened this library from.
fn own_library_path() -> Option<PathBuf> {
    let mut info = std::mem::MaybeUninit::<libc::Dl_info>::zeroed();
    // SAFETY: dladdr fills `info` for an address inside this library (the
    // constructor itself); dli_fname then points to the loader's copy of the
    // file name, valid while the library stays loaded.
    unsafe {
        if libc::dladdr(start_agent as *const libc::c_void, info.as_mut_ptr()) == 0 {
            return None;
        }
        let name = info.assume_init().dli_fname;
        if name.is_null() {
            return None;
        }
        Some(PathBuf::from(OsStr::from_bytes(
            CStr::from_ptr(name).to_bytes(),
        )))
    }
}
