/**
 * rustc names compiler-generated types and scopes `{closure_env#0}`,
 * `{async_fn_env#0}`, `{async_block_env#1}`, `{closure#2}`, `{impl#0}`: the
 * number counts the closures (or impls) of the enclosing item in source
 * order, so adding a closure before another renumbers the later ones without
 * changing their layout. Such names are compared up to their numbers.
 */

const GENERATED = /\{([A-Za-z_][A-Za-z0-9_]*)#\d+\}/;
const GENERATED_ALL = /\{([A-Za-z_][A-Za-z0-9_]*)#\d+\}/g;

/** Whether `name` mentions a numbered compiler-generated name anywhere, generic arguments included. */
export function isRenumberable(name: string): boolean {
  return GENERATED.test(name);
}

/** `name` with every generated number replaced by `_`: the same for a type before and after renumbering. */
export function withoutNumbers(name: string): string {
  return name.replace(GENERATED_ALL, '{$1#_}');
}

/**
 * The `::`-separated components of a qualified name, not splitting inside
 * generic arguments, tuples, arrays or `<T as Trait>` (and not mistaking the
 * `>` of `->` for a closing bracket).
 */
export function pathComponents(name: string): string[] {
  const components: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < name.length; i++) {
    const c = name[i];
    if (c === '<' || c === '(' || c === '[') depth++;
    else if ((c === '>' && name[i - 1] !== '-') || c === ')' || c === ']') depth--;
    else if (c === ':' && depth === 0 && name[i + 1] === ':') {
      components.push(name.slice(start, i));
      start = i + 2;
      i++;
    }
  }
  components.push(name.slice(start));
  return components;
}

/** A type whose own name is generated, e.g. `app::main::{closure_env#1}<T>`: its kind and the item it belongs to. */
export interface GeneratedType {
  /** `closure_env`, `async_fn_env`, `async_block_env`, `coroutine_env`... */
  readonly kind: string;
  /** The path before the generated component, e.g. `app::main`. */
  readonly parent: string;
}

export function generatedType(name: string): GeneratedType | undefined {
  const components = pathComponents(name);
  const last = components[components.length - 1]!;
  const match = /^\{([A-Za-z_][A-Za-z0-9_]*)#\d+\}/.exec(last);
  if (!match) return undefined;
  return { kind: match[1]!, parent: components.slice(0, -1).join('::') };
}

/** What a generated type holds, for messages: "captures of a closure in `app::main`". */
export function describeGeneratedType(type: GeneratedType): string {
  switch (type.kind) {
    case 'closure_env':
      return `captures of a closure in \`${type.parent}\``;
    case 'async_fn_env':
      return `state of the async fn \`${type.parent}\``;
    case 'async_block_env':
      return `state of an async block in \`${type.parent}\``;
    case 'async_closure_env':
      return `state of an async closure in \`${type.parent}\``;
    default:
      return `layout of a compiler-generated \`{${type.kind}}\` in \`${type.parent}\``;
  }
}

/**
 * rustc's `<T as Trait>::{vtable_type}` describes a vtable, which is static
 * data (compared by the object diff, and trait changes are checked on their
 * own), not the layout of any value a program holds.
 */
export function isVtableType(name: string): boolean {
  return name.endsWith('::{vtable_type}');
}
