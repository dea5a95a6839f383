// With `autobins = false` this file is no target of the package: were it
// built, the build would fail here.
compile_error!("src/main.rs must not be built: the package sets autobins = false");
fn main() {}
