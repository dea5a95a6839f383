//! Handling `load-patch`: check the build, load the library at the address
//! it was made for, redirect the changed functions into it.

use crate::app_hooks::{AppHooks, MigrationPhase};
use crate::patch_tls::apply_tls_fixups;
use crate::protocol::{Message, Redirect, TlsFixup};
use crate::redirect::apply_redirects;
use std::ffi::{c_void, CStr, CString};
use std::time::Instant;

/// A patch that was loaded into the process. Patches are never unloaded:
/// code may still be running in them, and stored function pointers or
/// vtables may point into them. The list is a record for whoever inspects
/// the process in a debugger; nothing in the agent reads its fields.
#[allow(dead_code)]
pub struct LoadedPatch {
    pub patch_id: u32,
    pub path: String,
    /// Kept only so the library's reference is visibly owned for the life
    /// of the process; never passed to dlclose.
    pub handle: *mut c_void,
}

pub struct PatchRequest<'a> {
    pub patch_id: u32,
    pub build_id: &'a [u8],
    pub path: &'a str,
    /// The library's bytes, when `path` is on another machine (empty: open `path`).
    pub library: &'a [u8],
    pub base: u64,
    pub redirects: &'a [Redirect],
    /// The app's hook table (the `ipbp` crate), or 0.
    pub hooks: u64,
    /// Types whose layout changes, one per line; the app migrates them.
    pub migrations: &'a str,
    /// Local-exec accesses of the patch's own thread-locals (`patch_tls`).
    pub tls_fixups: &'a [TlsFixup],
}

/// Why a patch was not applied.
enum Refusal {
    /// Only a restart can apply it; nothing was loaded or run.
    NeedsRestart(String),
    Failed(String),
}

impl From<String> for Refusal {
    fn from(message: String) -> Refusal {
        Refusal::Failed(message)
    }
}

/// Loads one patch and answers with the `patch-result` to send back.
pub fn load_patch(
    own_build_id: &[u8],
    request: &PatchRequest<'_>,
    loaded: &mut Vec<LoadedPatch>,
) -> Message {
    let mut load_us = 0;
    let mut redirect_us = 0;
    let mut stacks = Vec::new();
    let outcome = (|| {
        check_build_id(own_build_id, request.build_id)?;
        let hooks = AppHooks::find(request.hooks);
        check_migrations(hooks.as_ref(), request.migrations)?;
        let started = Instant::now();
        // A patch resent after a reconnect is the one already loaded: loading
        // its bytes again would map a second copy over the same addresses.
        let earlier = loaded
            .iter()
            .find(|patch| patch.patch_id == request.patch_id && !request.library.is_empty());
        let path = match earlier {
            Some(patch) => patch.path.clone(),
            None if request.library.is_empty() => request.path.to_owned(),
            None => {
                library_in_memory(request.patch_id, request.library).map_err(Refusal::Failed)?
            }
        };
        let handle = open_library(&path).map_err(|message| {
            // glibc places a patch's thread-locals in the static TLS surplus
            // (patch_tls.rs); when it is used up, only a fresh start has room.
            if message.contains("static TLS") {
                Refusal::NeedsRestart(format!(
                    "static TLS is used up: the patch's new thread-locals do not fit ({message})"
                ))
            } else {
                Refusal::Failed(message)
            }
        })?;
        // Loading the same file again (a CLI resending a patch after a
        // reconnect) returns the same handle: record it once.
        if !loaded.iter().any(|patch| patch.handle == handle) {
            loaded.push(LoadedPatch {
                patch_id: request.patch_id,
                path: path.clone(),
                handle,
            });
        }
        check_mapped_at(&path, request.base)?;
        // Before any redirect: no thread runs the patch's code yet.
        apply_tls_fixups(&path, request.tls_fixups)?;
        load_us = started.elapsed().as_micros() as u64;

        if let Some(hooks) = &hooks {
            hooks.before_patch(request.patch_id);
        }
        let started = Instant::now();
        let mut redirect = || {
            stacks = apply_redirects(request.redirects)?;
            Ok(())
        };
        match &hooks {
            Some(hooks) => hooks.at_sync_point(request.patch_id, || {
                migrate_around(hooks, request.migrations, redirect)
            })?,
            None => redirect()?,
        }
        redirect_us = started.elapsed().as_micros() as u64;
        if let Some(hooks) = &hooks {
            hooks.after_patch(request.patch_id);
        }
        Ok::<(), Refusal>(())
    })();
    let (ok, message, needs_restart) = match outcome {
        Ok(()) => (true, String::new(), false),
        Err(Refusal::NeedsRestart(message)) => (false, message, true),
        Err(Refusal::Failed(message)) => (false, message, false),
    };
    if !ok {
        stacks.clear(); // reported for a patch that is live only
    }
    Message::PatchResult {
        patch_id: request.patch_id,
        ok,
        message,
        load_us,
        redirect_us,
        needs_restart,
        stacks,
    }
}

/// A layout change is patchable only if the app migrates every changed type.
fn check_migrations(hooks: Option<&AppHooks>, migrations: &str) -> Result<(), Refusal> {
    if migrations.is_empty() {
        return Ok(());
    }
    let covered = hooks.is_some_and(|hooks| hooks.migrate(MigrationPhase::Check, migrations));
    if covered {
        return Ok(());
    }
    let types = migrations.replace('\n', "`, `");
    Err(Refusal::NeedsRestart(format!(
        "the app registered no ipbp::migrate for `{types}`"
    )))
}

/// Runs `apply` between the old code's save and the new code's restore.
fn migrate_around(
    hooks: &AppHooks,
    migrations: &str,
    apply: impl FnOnce() -> Result<(), String>,
) -> Result<(), String> {
    if migrations.is_empty() {
        return apply();
    }
    if !hooks.migrate(MigrationPhase::Save, migrations) {
        return Err(format!(
            "a migration's save step panicked; the patch was not applied (types: {})",
            migrations.replace('\n', ", ")
        ));
    }
    apply()?;
    if !hooks.migrate(MigrationPhase::Restore, migrations) {
        // The new code is live; only the app's state may be incomplete.
        crate::log::agent_log!(
            "a migration's restore step panicked after patch was applied (types: {})",
            migrations.replace('\n', ", ")
        );
    }
    Ok(())
}

fn check_build_id(own: &[u8], wanted: &[u8]) -> Result<(), String> {
    if own == wanted {
        return Ok(());
    }
    let own_text = if own.is_empty() {
        "unknown (the executable has no GNU build-id note)".to_owned()
    } else {
        hex(own)
    };
    Err(format!(
        "patch is for build {}, this process is build {own_text}",
        hex(wanted)
    ))
}

/// Puts a patch library received over the connection into an anonymous
/// in-memory file, and names it for the loader: `/proc/self/fd/N`. The file
/// stays open for the life of the process (the loader's mapping and its
/// name for the library both refer to it), as a patch is never unloaded.
fn library_in_memory(patch_id: u32, bytes: &[u8]) -> Result<String, String> {
    let name = CString::new(format!("ipbp-patch-{patch_id}")).expect("no NUL in the name");
    // SAFETY: memfd_create with a valid name; the kernel returns a new fd or -1.
    let fd = unsafe { libc::syscall(libc::SYS_memfd_create, name.as_ptr(), libc::MFD_CLOEXEC) };
    if fd < 0 {
        return Err(format!(
            "cannot create an in-memory file for patch {patch_id}: {}",
            std::io::Error::last_os_error()
        ));
    }
    // SAFETY: `fd` is a new descriptor that nothing else owns.
    let mut file = unsafe { <std::fs::File as std::os::fd::FromRawFd>::from_raw_fd(fd as i32) };
    std::io::Write::write_all(&mut file, bytes)
        .map_err(|error| format!("cannot write patch {patch_id} into memory: {error}"))?;
    let fd = std::os::fd::IntoRawFd::into_raw_fd(file);
    Ok(format!("/proc/self/fd/{fd}"))
}

fn open_library(path: &str) -> Result<*mut c_void, String> {
    let c_path =
        CString::new(path).map_err(|_| format!("patch path {path:?} contains a NUL byte"))?;
    // SAFETY: dlerror/dlopen with a valid NUL-terminated path. dlopen runs
    // the patch's initialisers; the patch is our own linker output.
    let handle = unsafe {
        libc::dlerror(); // clear any stale error
        libc::dlopen(c_path.as_ptr(), libc::RTLD_NOW | libc::RTLD_LOCAL)
    };
    if handle.is_null() {
        return Err(
            last_dl_error().unwrap_or_else(|| format!("dlopen({path}) failed without a reason"))
        );
    }
    Ok(handle)
}

/// The patch reaches the program through 32-bit displacements computed at
/// link time for one placement, so it is only correct at exactly that
/// address. `base` is where its first byte must be mapped; `dladdr` tells
/// which object really starts there.
fn check_mapped_at(path: &str, base: u64) -> Result<(), String> {
    // SAFETY: Dl_info is plain data that dladdr fills in; an all-zero value
    // is a valid "nothing found" state.
    let mut info: libc::Dl_info = unsafe { std::mem::zeroed() };
    // SAFETY: dladdr only reads the loader's tables for the given address.
    let found = unsafe { libc::dladdr(base as *const c_void, &mut info) } != 0;
    let starts_here = found && info.dli_fbase as u64 == base && !info.dli_fname.is_null() && {
        // SAFETY: dli_fname is a NUL-terminated string owned by the loader.
        unsafe { CStr::from_ptr(info.dli_fname) }.to_bytes() == path.as_bytes()
    };
    if starts_here {
        return Ok(());
    }
    Err(format!(
        "patch was mapped at a different address (bias 0x{:x}): it belongs at 0x{base:x}, which is probably in use in this process",
        load_bias(path).unwrap_or(0)
    ))
}

/// The load bias of a loaded library, for error messages.
fn load_bias(path: &str) -> Option<u64> {
    crate::image::find_object(path, |object| object.dlpi_addr)
}

fn last_dl_error() -> Option<String> {
    // SAFETY: dlerror returns NULL or a NUL-terminated string valid until
    // the next dl* call on this thread; it is copied at once.
    unsafe {
        let message = libc::dlerror();
        (!message.is_null()).then(|| CStr::from_ptr(message).to_string_lossy().into_owned())
    }
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request<'a>(build_id: &'a [u8], path: &'a str) -> PatchRequest<'a> {
        PatchRequest {
            patch_id: 9,
            build_id,
            path,
            library: &[],
            base: 0x1000,
            redirects: &[],
            hooks: 0,
            migrations: "",
            tls_fixups: &[],
        }
    }

    #[test]
    fn bytes_that_are_no_library_are_refused_by_the_loader_from_memory() {
        let build_id = [1u8; 20];
        let mut loaded = Vec::new();
        let bytes = b"not a shared library";
        let request = PatchRequest {
            library: bytes,
            ..request(&build_id, "/on/another/machine/patch-9.so")
        };
        let message = message_of(load_patch(&build_id, &request, &mut loaded));
        assert!(message.contains("/proc/self/fd/"), "{message}");
        assert!(!message.contains("/on/another/machine"), "{message}");
        assert!(loaded.is_empty());
    }

    fn message_of(result: Message) -> String {
        match result {
            Message::PatchResult { ok, message, .. } => {
                assert!(!ok);
                message
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn a_patch_for_another_build_is_refused_before_loading() {
        let mut loaded = Vec::new();
        let message = message_of(load_patch(
            &[0xaa],
            &request(&[0xbb], "/nonexistent.so"),
            &mut loaded,
        ));
        assert_eq!(message, "patch is for build bb, this process is build aa");
        assert!(loaded.is_empty());
    }

    #[test]
    fn a_layout_change_without_the_ipbp_crate_needs_a_restart_and_loads_nothing() {
        let mut loaded = Vec::new();
        let request = PatchRequest {
            migrations: "app::Counter",
            ..request(&[1], "/nonexistent/patch.so")
        };
        match load_patch(&[1], &request, &mut loaded) {
            Message::PatchResult {
                ok,
                needs_restart,
                message,
                ..
            } => {
                assert!(!ok && needs_restart);
                assert!(message.contains("app::Counter"), "{message}");
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(loaded.is_empty());
    }

    #[test]
    fn a_missing_file_reports_the_loader_error() {
        let mut loaded = Vec::new();
        let message = message_of(load_patch(
            &[1],
            &request(&[1], "/nonexistent/patch.so"),
            &mut loaded,
        ));
        assert!(message.contains("/nonexistent/patch.so"), "{message}");
        assert!(message.contains("No such file"), "{message}");
    }
}
