import { type Token, tokenize } from './rust-tokens.js';

/**
 * Why an edit of a library file may change what crates depending on it
 * compile, or undefined when it provably cannot: then those crates need no
 * recompile, since their object code would come out the same.
 *
 * Dependents compile against a library's metadata: its items' signatures,
 * types and constants, and the bodies (MIR) of what they may instantiate or
 * inline: generic, `#[inline]`, `const` and `async` functions, and
 * functions returning `impl Trait`. A non-generic function's body is not in
 * it, with one exception: an optimizing build that is not incremental lets
 * rustc inline small functions across crates on its own, which the caller
 * rules out (`incremental`). So an edit is harmless to dependents when:
 * - every line stays on its line (spans in the metadata keep their line numbers);
 * - it lies within the body of one plain function (no generics, `impl`
 *   types, `async`, `const`, `where`, or attributes beyond lints, docs and
 *   `#[track_caller]`), itself at the top of a module or in a non-generic
 *   inherent or trait impl, never in a trait's default method;
 * - what it changes declares no item (`fn`, `impl`, `struct`, `static`,
 *   `const`…: nested items and trait impls are the crate's too) and invokes
 *   no macro beyond a known set (a macro may declare items);
 * - no macro beyond that set encloses it.
 * Anything the check cannot read (it does not lex) is a change.
 */
export function dependentsMayChange(before: string, after: string): string | undefined {
  if (before === after) return undefined;
  if (lineCount(before) !== lineCount(after)) return 'lines moved';
  let prefix = 0;
  while (prefix < before.length && before[prefix] === after[prefix]) prefix++;
  let suffix = 0;
  while (suffix < before.length - prefix && suffix < after.length - prefix && before[before.length - 1 - suffix] === after[after.length - 1 - suffix]) suffix++;
  const oldTokens = tokenize(before);
  const newTokens = tokenize(after);
  if (!oldTokens || !newTokens) return 'the file does not lex';
  const oldBody = enclosingFunctionBody(oldTokens, prefix, before.length - suffix);
  const newBody = enclosingFunctionBody(newTokens, prefix, after.length - suffix);
  if (typeof oldBody === 'string') return oldBody;
  if (typeof newBody === 'string') return newBody;
  // The same function on both sides: its body starts at one offset and ends as far from the end.
  if (oldBody.open !== newBody.open || before.length - oldBody.close !== after.length - newBody.close) return 'the edit spans several items';
  return changedTokensProblem(oldTokens, prefix, before.length - suffix) ?? changedTokensProblem(newTokens, prefix, after.length - suffix);
}

/** Macros that expand to expressions or statements only, never to items. */
const EXPRESSION_MACROS = new Set([
  'assert', 'assert_eq', 'assert_ne', 'column', 'concat', 'dbg', 'debug', 'debug_assert', 'debug_assert_eq', 'debug_assert_ne', 'eprint', 'eprintln', 'error',
  'file', 'format', 'format_args', 'include_bytes', 'include_str', 'info', 'line', 'matches', 'panic', 'print', 'println', 'stringify', 'todo', 'trace',
  'unimplemented', 'unreachable', 'vec', 'warn', 'write', 'writeln',
]);

/** Keywords that declare an item, or qualify a function so that its body is part of its interface. */
const ITEM_KEYWORDS = new Set(['fn', 'impl', 'struct', 'enum', 'union', 'trait', 'type', 'static', 'const', 'mod', 'use', 'extern', 'macro_rules', 'async', 'crate']);

/** Attributes that change nothing a dependent sees. */
const HARMLESS_ATTRIBUTES = new Set(['allow', 'warn', 'deny', 'forbid', 'expect', 'doc', 'must_use', 'track_caller', 'rustfmt']);

/** Where the body of the outermost function enclosing `[from, to)` opens and closes (offsets of its braces), or why there is none to trust. */
function enclosingFunctionBody(tokens: readonly Token[], from: number, to: number): { open: number; close: number } | string {
  // The delimiters enclosing the edit, innermost first.
  const enclosing: number[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (token.kind !== 'open') continue;
    const close = tokens[token.partner]!;
    if (token.end <= from && close.start >= to) enclosing.unshift(i);
  }
  let body: { open: number; close: number } | undefined;
  for (const index of enclosing) {
    const open = tokens[index]!;
    const macro = macroNameBefore(tokens, index);
    if (macro !== undefined && !EXPRESSION_MACROS.has(macro)) return `inside \`${macro}!\``;
    if (open.text !== '{') continue;
    const header = functionHeaderBefore(tokens, index);
    if (header === undefined) {
      const problem = body && containerProblem(tokens, index);
      if (problem) return problem;
      continue;
    }
    const problem = headerProblem(tokens, header, index);
    if (problem) return problem;
    body = { open: open.start, close: tokens[open.partner]!.start };
  }
  if (!body) return 'not inside a function body';
  return body;
}

/** The name of the macro whose arguments the delimiter at `index` opens (`name!(`, `path::name! {`), if any. */
function macroNameBefore(tokens: readonly Token[], index: number): string | undefined {
  const bang = tokens[index - 1];
  const name = tokens[index - 2];
  return bang?.text === '!' && name?.kind === 'ident' ? name.text : undefined;
}

/** The index of the `fn` keyword whose body the `{` at `index` opens, if it is a function body. */
function functionHeaderBefore(tokens: readonly Token[], index: number): number | undefined {
  for (let i = index - 1; i >= 0; i--) {
    const token = tokens[i]!;
    if (token.kind === 'close') {
      i = token.partner;
      continue;
    }
    if (token.text === ';' || token.text === '{' || token.text === '}' || token.text === '|') return undefined;
    if (token.kind === 'ident' && token.text === 'fn') return i;
  }
  return undefined;
}

/** Why a function's header (from `fn` to its body's `{`, qualifiers and attributes before it) puts its body in the crate's interface. */
function headerProblem(tokens: readonly Token[], fnIndex: number, bodyIndex: number): string | undefined {
  for (let i = fnIndex + 1; i < bodyIndex; i++) {
    const text = tokens[i]!.text;
    if (i === fnIndex + 2 && text === '<') return 'a generic function';
    if (text === 'impl' || text === 'where') return `\`${text}\` in the function's signature`;
    // A function pointer's type before an initializer (`static F: fn() = { … }`), or an associated type bound: not a plain signature.
    if (text === '=') return 'not a plain function signature';
  }
  const start = itemStart(tokens, fnIndex);
  for (let i = start; i < fnIndex; i++) {
    const text = tokens[i]!.text;
    if (text === 'async' || text === 'const') return `a \`${text}\` function`;
    if (text === '#') {
      const attribute = tokens[i + 1]?.text === '[' ? tokens[i + 2]?.text : tokens[i + 2]?.text === '[' ? tokens[i + 3]?.text : undefined;
      if (attribute === undefined || !HARMLESS_ATTRIBUTES.has(attribute)) return `a function with \`#[${attribute ?? '?'}]\``;
    }
  }
  return undefined;
}

/** The first token of the item whose keyword is at `index`: after the previous item, or the `{` that contains it. */
function itemStart(tokens: readonly Token[], index: number): number {
  for (let i = index - 1; i >= 0; i--) {
    const token = tokens[i]!;
    if (token.kind === 'close' && token.text === ']') {
      i = token.partner;
      continue;
    }
    if (token.text === ';' || token.text === '{' || token.text === '}') return i + 1;
  }
  return 0;
}

/** Why the block at `index`, which contains a function, makes that function's body part of the crate's interface. */
function containerProblem(tokens: readonly Token[], index: number): string | undefined {
  const start = itemStart(tokens, index);
  const header = tokens.slice(start, index).map((token) => token.text);
  const keyword = header.find((text) => ['impl', 'trait', 'mod', 'extern'].includes(text));
  if (keyword === 'mod') return header.includes('#') ? 'a module with attributes' : undefined;
  if (keyword !== 'impl') return keyword ? `inside a \`${keyword}\` block` : 'inside a block that is not a module or impl';
  if (header[header.indexOf('impl') + 1] === '<' || header.includes('where')) return 'inside a generic impl';
  if (header.includes('#')) return 'inside an impl with attributes';
  return undefined;
}

/** Why the tokens the edit touches, between `from` and `to`, may declare items. */
function changedTokensProblem(tokens: readonly Token[], from: number, to: number): string | undefined {
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (token.end < from || token.start > to) continue;
    if (token.kind === 'ident' && ITEM_KEYWORDS.has(token.text)) return `the edit touches \`${token.text}\``;
    if (token.text === '#') return 'the edit touches an attribute';
    if (token.kind === 'open') {
      const macro = macroNameBefore(tokens, i);
      if (macro !== undefined && !EXPRESSION_MACROS.has(macro)) return `the edit touches \`${macro}!\``;
    }
  }
  return undefined;
}

function lineCount(text: string): number {
  let count = 1;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) count++;
  return count;
}
