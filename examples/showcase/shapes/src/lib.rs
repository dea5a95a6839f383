//! A library crate of the showcase: a trait reached through `dyn`, and a
//! generic function instantiated in the binary.

pub trait Shape {
    fn area(&self) -> u64;
}

pub struct Square(pub u64);

impl Shape for Square {
    fn area(&self) -> u64 {
        self.0 * self.0
    }
}

pub fn describe<T: std::fmt::Display>(value: T) -> String {
    format!("<{value}>")
}
