//! Formats integers into a stack buffer, as crates.io's `itoa` does.

pub struct Buffer {
    bytes: [u8; 20],
}

impl Default for Buffer {
    fn default() -> Self {
        Self::new()
    }
}

impl Buffer {
    pub fn new() -> Self {
        Buffer { bytes: [0; 20] }
    }

    pub fn format(&mut self, mut value: u64) -> &str {
        let mut at = self.bytes.len();
        loop {
            at -= 1;
            self.bytes[at] = b'0' + (value % 10) as u8;
            value /= 10;
            if value == 0 {
                break;
            }
        }
        std::str::from_utf8(&self.bytes[at..]).expect("digits are ASCII")
    }
}
