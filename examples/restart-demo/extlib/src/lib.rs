//! A path dependency outside the restart-demo workspace (it is excluded):
//! ipbp does not recompile it, so editing it needs a fresh build.

pub fn edition() -> &'static str {
    "first"
}
