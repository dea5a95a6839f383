//! A path dependency outside the restart-demo workspace (it is excluded):
//! the user's own code all the same, which ipbp recompiles and patches.

pub fn edition() -> &'static str {
    "first"
}
