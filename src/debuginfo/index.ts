export { compareLayouts, describeLayoutChange } from './compare.js';
export { DebugInfoError } from './errors.js';
export type { DiscriminantLayout, EnumeratorLayout, LayoutChange, LayoutKind, MemberLayout, TypeLayout, VariantLayout } from './model.js';
export { readTypeLayouts, type TypeLayouts } from './read-layouts.js';
export { generatedType } from './generated-names.js';
export { readFunctionSignatures } from './function-signatures.js';
