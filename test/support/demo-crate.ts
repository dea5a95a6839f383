/**
 * The crate the diff tests edit. Every edit replaces text within one line, so
 * the panic locations (line numbers) of the other functions stay the same.
 * `#[inline(never)]` keeps small functions in the library's own objects in
 * release builds; otherwise rustc leaves them to be instantiated downstream.
 */
export const DEMO_CRATE = `use std::sync::atomic::{AtomicU64, Ordering};
pub static TICKS: AtomicU64 = AtomicU64::new(0);
pub static mut MODE: u32 = 1;
#[inline(never)] pub fn add_one(x: u64) -> u64 { x + 1 }
pub fn scale(x: u64) -> u64 { x * 3 }
#[inline(never)] pub fn scaled_sum(a: u64, b: u64) -> u64 { scale(a) + scale(b) }
#[inline(never)] pub fn label() -> &'static str { std::hint::black_box("label-a") }
#[inline(never)] pub fn other_label() -> &'static str { std::hint::black_box("other") }
pub fn generic<T: core::fmt::Debug>(value: T) -> String { format!("<{:?}>", value) }
pub fn use_generics() -> (String, String) { (generic(1u8), generic("x")) }
pub trait Shape { fn area(&self) -> u64; }
pub struct Square(pub u64);
impl Shape for Square { fn area(&self) -> u64 { self.0 * self.0 } }
pub fn shapes() -> Vec<Box<dyn Shape>> { vec![Box::new(Square(3))] }
pub fn apply(values: &[u64]) -> Vec<u64> { values.iter().map(|v| v + 1).collect() }
pub fn tick() -> u64 { TICKS.fetch_add(1, Ordering::Relaxed) }
#[allow(static_mut_refs)] pub fn mode() -> u32 { unsafe { MODE } }
// end
`;

/** Replace `from` (which must occur exactly once) by `to`. */
export function edit(source: string, from: string, to: string): string {
  const at = source.indexOf(from);
  if (at < 0 || source.indexOf(from, at + 1) >= 0) throw new Error(`edit anchor must occur once: ${from}`);
  return source.slice(0, at) + to + source.slice(at + from.length);
}
