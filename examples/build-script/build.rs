//! Generates code from the files in `config/`. ipbp reruns this script when
//! one of them changes, as cargo would, and patches what it generates.
use std::{env, fs, path::Path};

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    let read = |name: &str| {
        let path = format!("config/{name}");
        println!("cargo::rerun-if-changed={path}");
        fs::read_to_string(&path).unwrap_or_else(|error| panic!("cannot read {path}: {error}")).trim().to_owned()
    };
    let greeting = read("greeting.txt");
    // A way to make this script fail on purpose, as a broken build script would.
    assert!(!greeting.contains("PANIC"), "config/greeting.txt asks the build script to fail");
    let step: u64 = read("step.txt").parse().expect("config/step.txt holds a number");
    let generated = format!("pub fn greeting() -> &'static str {{\n    {greeting:?}\n}}\n\npub const STEP: u64 = {step};\n");
    fs::write(Path::new(&env::var("OUT_DIR").unwrap()).join("generated.rs"), generated).unwrap();
    println!("cargo::rustc-env=BUILD_FLAVOUR={}", read("flavour.txt"));
    println!("cargo::rustc-check-cfg=cfg(fancy)");
    if read("cfg.txt") == "fancy" {
        println!("cargo::rustc-cfg=fancy");
    }
}
