//! A file the project's settings tell ipbp to ignore.

#[inline(never)]
pub fn scratch_value() -> u32 {
    1
}
