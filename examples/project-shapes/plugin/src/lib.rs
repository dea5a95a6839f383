//! Built as a cdylib, a staticlib and an rlib in one rustc run: the cdylib's link must
//! not be taken for the app's, and the app's patches come from the rlib.

#[inline(never)]
pub fn plugin_word(tick: u64) -> String {
    format!("plugin-word {}", tick % 10)
}

/// The cdylib's C entry point, for programs that load it.
#[no_mangle]
pub extern "C" fn shapes_plugin_version() -> u32 {
    1
}
