//! A library the app uses by path, outside the app's workspace.

/// A running sum, kept across patches.
#[derive(Default)]
pub struct Tally {
    sum: u64,
}

impl Tally {
    pub fn add(&mut self, value: u64) {
        self.sum += value;
    }

    pub fn describe(&self) -> String {
        format!("sum={} label=plain", self.sum)
    }
}
