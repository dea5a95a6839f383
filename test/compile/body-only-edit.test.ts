import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { dependentsMayChange } from '../../src/compile/body-only-edit.js';
import { tokenize } from '../../src/compile/rust-tokens.js';

const LIBRARY = `//! A library a binary depends on.
use std::fmt;

pub const LIMIT: u32 = 10;

/// The line the app prints.
pub fn status(tick: u64) -> String {
    let label = "tick"; // a } in a comment, and "{" in a string
    format!("{label} {tick} [rev 1]")
}

#[inline]
pub fn fast(x: u32) -> u32 { x + 1 }

pub fn generic<T: fmt::Debug>(value: T) -> String { format!("{value:?}") }

pub fn iterate() -> impl Iterator<Item = u32> { (0..3).map(|x| x * 2) }

pub async fn later() -> u32 { 7 }

pub const fn constant() -> u32 { 3 }

#[tracing::instrument]
pub fn traced() -> u32 { 5 }

pub struct Counter(pub u64);

impl Counter {
    pub fn bump(&mut self) -> u64 { self.0 += 1; self.0 }
}

impl<T> Wrapper<T> {
    pub fn peek(&self) -> u32 { 1 }
}

pub trait Shape {
    fn area(&self) -> u64 { 0 }
}

impl fmt::Display for Counter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { write!(f, "#{}", self.0) }
}

mod inner {
    pub fn helper() -> char { 'x' }
}

my_macro! {
    fn made() -> u32 { 9 }
}
`;

function edited(from: string, to: string): string {
  const at = LIBRARY.indexOf(from);
  assert.ok(at >= 0 && LIBRARY.indexOf(from, at + 1) < 0, `anchor must occur once: ${from}`);
  return LIBRARY.slice(0, at) + to + LIBRARY.slice(at + from.length);
}

describe('whether a library edit can change what its dependents compile', () => {
  const harmless: Array<[string, string, string]> = [
    ['a string literal in a plain function', '[rev 1]', '[rev 22]'],
    ['an expression in a plain function', 'let label = "tick";', 'let label = "tock";'],
    ['a method of a non-generic inherent impl', 'self.0 += 1;', 'self.0 += 2;'],
    ['a method of a trait impl, inside an expression macro', '"#{}", self.0', '"#{} !", self.0'],
    ['a function of a module', "'x'", "'y'"],
    ['nothing but a comment inside a body', '// a } in a comment', '// a { in a comment'],
  ];
  for (const [what, from, to] of harmless) {
    test(`${what}: dependents are unaffected`, () => assert.equal(dependentsMayChange(LIBRARY, edited(from, to)), undefined));
  }

  const harmful: Array<[string, string, string, RegExp]> = [
    ['a constant', 'LIMIT: u32 = 10', 'LIMIT: u32 = 11', /not inside a function body/],
    ['an #[inline] function', 'x + 1 }', 'x + 2 }', /inline/],
    ['a generic function', '"{value:?}"', '"<{value:?}>"', /generic function/],
    ['a function returning impl Trait', 'x * 2', 'x * 3', /impl/],
    ['an async function', '{ 7 }', '{ 8 }', /async/],
    ['a const function', '{ 3 }', '{ 4 }', /const/],
    ['a function under an attribute macro', '{ 5 }', '{ 6 }', /tracing/],
    ['a method of a generic impl', '{ 1 }', '{ 2 }', /generic impl/],
    ['a default method of a trait', '{ 0 }', '{ 1 }', /trait/],
    ['a function inside a macro invocation', '{ 9 }', '{ 10 }', /my_macro/],
    ['a signature', 'pub fn status(tick: u64)', 'pub fn status(tick: u32)', /function body|several items/],
    ['a new line', '[rev 1]")\n', '[rev 1]")\n\n', /lines moved/],
    ['a nested item', 'let label = "tick";', 'static S: u8 = 1; let label = "tick";', /static/],
    ['a macro that could declare items', 'let label = "tick";', 'let label = "tick"; my_macro!();', /my_macro/],
    ['a file that no longer lexes', '"tick"', '"tick', /lex/],
  ];
  for (const [what, from, to, reason] of harmful) {
    test(`${what}: dependents recompile`, () => assert.match(dependentsMayChange(LIBRARY, edited(from, to)) ?? 'unaffected', reason));
  }

  test('an unchanged file changes nothing', () => assert.equal(dependentsMayChange(LIBRARY, LIBRARY), undefined));
});

describe('the Rust tokens the check reads', () => {
  test('braces in strings, raw strings, characters and comments are not delimiters', () => {
    const tokens = tokenize(`fn f<'a>(x: &'a str) { let s = r#"}"#; let c = '{'; /* } /* nested } */ */ let b = b"}"; }`);
    assert.ok(tokens, 'did not lex');
    assert.deepEqual(
      tokens.filter((token) => token.kind === 'open' || token.kind === 'close').map((token) => token.text),
      ['(', ')', '{', '}'],
    );
    assert.deepEqual(
      tokens.filter((token) => token.kind === 'lifetime').map((token) => token.text),
      ["'a", "'a"],
    );
  });

  test('unbalanced delimiters and unterminated literals do not lex', () => {
    assert.equal(tokenize('fn f() { '), undefined);
    assert.equal(tokenize('fn f() { "open }'), undefined);
    assert.equal(tokenize('fn f() ) {'), undefined);
  });
});
