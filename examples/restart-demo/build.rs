//! The restart tests edit this script's output: a change to a build script
//! cannot be patched into a running program, only rebuilt and restarted.
fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rustc-env=BUILD_NOTE=plain");
}
