import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';

import { demangle, demangleWithoutHash, isRustSymbol } from '../../src/diff/demangle/index.js';
import { parseLegacySymbol } from '../../src/diff/demangle/legacy.js';
import { parseV0Symbol } from '../../src/diff/demangle/v0.js';

/** [mangled, demangle(), demangleWithoutHash()] */
type Case = readonly [mangled: string, full: string, withoutHash: string];

/*
 * Real symbols: rustc 1.95 `--emit=obj` of a small crate `lib` (default legacy
 * mangling), the same crate with `-C symbol-mangling-version=v0`, nightly for
 * const ADT parameters, read with `nm`. Expected names were checked against
 * binutils 2.40 `c++filt -s rust`, except where noted: binutils leaves
 * `$ue9$` raw, prints `f128[0]`, drops `.0` suffixes and gives up on const
 * ADT/str/array/tuple arguments.
 */
const LEGACY_CASES: readonly Case[] = [
  ['_ZN3lib3run17h832b5122f2bc9bacE', 'lib::run::h832b5122f2bc9bac', 'lib::run'],
  // Two instantiations of `generic<T>`: only the hash tells them apart.
  ['_ZN3lib7generic17h1b14f24af4c5a6c4E', 'lib::generic::h1b14f24af4c5a6c4', 'lib::generic'],
  ['_ZN3lib7generic17h5a6a623ee5d5ce05E', 'lib::generic::h5a6a623ee5d5ce05', 'lib::generic'],
  [
    '_ZN3lib3run28_$u7b$$u7b$closure$u7d$$u7d$17h1356578e020d5d83E',
    'lib::run::{{closure}}::h1356578e020d5d83',
    'lib::run::{{closure}}',
  ],
  [
    '_ZN42_$LT$lib..Circle$u20$as$u20$lib..Shape$GT$4area17h86aa1b4455093eafE',
    '<lib::Circle as lib::Shape>::area::h86aa1b4455093eaf',
    '<lib::Circle as lib::Shape>::area',
  ],
  [
    '_ZN4core3ops8function6FnOnce40call_once$u7b$$u7b$vtable.shim$u7d$$u7d$17h1de92fe3c81ced3bE',
    'core::ops::function::FnOnce::call_once{{vtable.shim}}::h1de92fe3c81ced3b',
    'core::ops::function::FnOnce::call_once{{vtable.shim}}',
  ],
  [
    '_ZN4core3ptr39drop_in_place$LT$dyn$u20$lib..Shape$GT$17he0cf639b5a690824E',
    'core::ptr::drop_in_place<dyn lib::Shape>::he0cf639b5a690824',
    'core::ptr::drop_in_place<dyn lib::Shape>',
  ],
  ['_ZN3lib7COUNTER17h45b34c34afb7a02eE', 'lib::COUNTER::h45b34c34afb7a02e', 'lib::COUNTER'],
  // `fn café()`; binutils prints `caf$ue9$`.
  ['_ZN3lib8caf$ue9$17h500cfd399d52a48eE', 'lib::café::h500cfd399d52a48e', 'lib::café'],
  [
    '_ZN4core3ptr9const_ptr33_$LT$impl$u20$$BP$const$u20$T$GT$13is_aligned_to17hce1c67c404ec7331E',
    'core::ptr::const_ptr::<impl *const T>::is_aligned_to::hce1c67c404ec7331',
    'core::ptr::const_ptr::<impl *const T>::is_aligned_to',
  ],
  [
    '_ZN42_$LT$$RF$T$u20$as$u20$core..fmt..Debug$GT$3fmt17h760957b6ffc8976eE',
    '<&T as core::fmt::Debug>::fmt::h760957b6ffc8976e',
    '<&T as core::fmt::Debug>::fmt',
  ],
  ['_ZN3lib17Pair$LT$A$C$B$GT$5first17h7c703809943098edE', 'lib::Pair<A,B>::first::h7c703809943098ed', 'lib::Pair<A,B>::first'],
  [
    '_ZN4core3ptr74drop_in_place$LT$$LP$alloc..string..String$C$alloc..string..String$RP$$GT$17hb0426f4fcb42b189E',
    'core::ptr::drop_in_place<(alloc::string::String,alloc::string::String)>::hb0426f4fcb42b189',
    'core::ptr::drop_in_place<(alloc::string::String,alloc::string::String)>',
  ],
  // Mach-O prefixes an underscore.
  ['__ZN3lib3run17h832b5122f2bc9bacE', 'lib::run::h832b5122f2bc9bac', 'lib::run'],
  ['ZN3lib3run17h832b5122f2bc9bacE', 'lib::run::h832b5122f2bc9bac', 'lib::run'],
  // ThinLTO promotion suffix: shown by `demangle`, gone without the hash.
  ['_ZN3lib3run17h832b5122f2bc9bacE.llvm.7215372339916331486', 'lib::run::h832b5122f2bc9bac.llvm.7215372339916331486', 'lib::run'],
  // A hot/cold split is a different piece of code, so `.cold` stays.
  ['_ZN3lib3run17h832b5122f2bc9bacE.cold', 'lib::run::h832b5122f2bc9bac.cold', 'lib::run.cold'],
  // Hand-made: `$SP$`, a leading `_$`, and no hash at all.
  ['_ZN3foo12_$SP$bar$GT$E', 'foo::@bar>', 'foo::@bar>'],
  ['_ZN3foo3barE', 'foo::bar', 'foo::bar'],
];

const V0_CASES: readonly Case[] = [
  ['_RNvCsh537bOAIRKx_3lib3run', 'lib[c6f551dc431569fb]::run', 'lib::run'],
  ['__RNvCsh537bOAIRKx_3lib3run', 'lib[c6f551dc431569fb]::run', 'lib::run'],
  ['_RNvCsh537bOAIRKx_3lib7COUNTER', 'lib[c6f551dc431569fb]::COUNTER', 'lib::COUNTER'],
  // Two instantiations of `generic<T>`, the second with a backref (`B2_`) as instantiating crate.
  ['_RINvCsh537bOAIRKx_3lib7genericmEB2_', 'lib[c6f551dc431569fb]::generic::<u32>', 'lib::generic::<u32>'],
  [
    '_RINvCsh537bOAIRKx_3lib7genericNtNtCslNYArtu3iFV_5alloc6string6StringEB2_',
    'lib[c6f551dc431569fb]::generic::<alloc[fdfd2bd8633a6659]::string::String>',
    'lib::generic::<alloc::string::String>',
  ],
  ['_RNCNvCsh537bOAIRKx_3lib3run0B3_', 'lib[c6f551dc431569fb]::run::{closure#0}', 'lib::run::{closure#0}'],
  ['_RNCNvCsh537bOAIRKx_3lib3runs_0B3_', 'lib[c6f551dc431569fb]::run::{closure#1}', 'lib::run::{closure#1}'],
  [
    '_RNvXs4_NtCslNYArtu3iFV_5alloc6stringNtB5_6StringNtNtCsgEmfK2I1SDS_4core5clone5Clone5clone',
    '<alloc[fdfd2bd8633a6659]::string::String as core[c1f1a4ba060b9bfa]::clone::Clone>::clone',
    '<alloc::string::String as core::clone::Clone>::clone',
  ],
  // Instantiated by another crate (`gimli`), which is not shown.
  [
    '_RNvXso_NtCslNYArtu3iFV_5alloc3vecINtB5_3VechENtNtNtCsgEmfK2I1SDS_4core3ops4drop4Drop4dropCsduwmD7cSIQq_5gimli',
    '<alloc[fdfd2bd8633a6659]::vec::Vec<u8> as core[c1f1a4ba060b9bfa]::ops::drop::Drop>::drop',
    '<alloc::vec::Vec<u8> as core::ops::drop::Drop>::drop',
  ],
  ['_RNvMs_Csh537bOAIRKx_3libINtB4_4PairhReE5firstB4_', '<lib[c6f551dc431569fb]::Pair<u8, &str>>::first', '<lib::Pair<u8, &str>>::first'],
  ['_RNvMNtNtCsgEmfK2I1SDS_4core3ptr9const_ptrPu13is_aligned_toCsh537bOAIRKx_3lib', '<*const ()>::is_aligned_to', '<*const ()>::is_aligned_to'],
  // `dyn FnOnce` vtable shim of a closure, through a trait definition (`Y`).
  [
    '_RNSNvYNCNvCsh537bOAIRKx_3lib3run0INtNtNtCsgEmfK2I1SDS_4core3ops8function6FnOnceTmEE9call_once6vtableB8_',
    '<lib[c6f551dc431569fb]::run::{closure#0} as core[c1f1a4ba060b9bfa]::ops::function::FnOnce<(u32,)>>::call_once::{shim:vtable#0}',
    '<lib::run::{closure#0} as core::ops::function::FnOnce<(u32,)>>::call_once::{shim:vtable#0}',
  ],
  [
    '_RINvNtCsgEmfK2I1SDS_4core3ptr13drop_in_placeDINtNtNtB4_3ops8function2FnTmEEp6OutputmEL_ECsh537bOAIRKx_3lib',
    'core[c1f1a4ba060b9bfa]::ptr::drop_in_place::<dyn core[c1f1a4ba060b9bfa]::ops::function::Fn<(u32,), Output = u32>>',
    'core::ptr::drop_in_place::<dyn core::ops::function::Fn<(u32,), Output = u32>>',
  ],
  [
    '_RINvCs2bsV0ZBE8VR_5extra2hrRDNtNtNtNtCsgEmfK2I1SDS_4core4iter6traits8iterator8Iteratorp4ItemhNtNtBz_6marker4SyncNtB1v_4SendEL_EB2_',
    'extra[19730a7aa70db515]::hr::<&dyn core[c1f1a4ba060b9bfa]::iter::traits::iterator::Iterator<Item = u8> + core[c1f1a4ba060b9bfa]::marker::Sync + core[c1f1a4ba060b9bfa]::marker::Send>',
    'extra::hr::<&dyn core::iter::traits::iterator::Iterator<Item = u8> + core::marker::Sync + core::marker::Send>',
  ],
  [
    '_RINvCs4CrwdaKlfeW_3adt2hrRDG_INtNtNtCs8NwYtU1Mohg_4core3ops8function2FnTRL0_hEEp6OutputRL0_hEL_EB2_',
    'adt[35d00ea39a647f14]::hr::<&dyn for<\'a> core[667c7a611d73a360]::ops::function::Fn<(&\'a u8,), Output = &\'a u8>>',
    "adt::hr::<&dyn for<'a> core::ops::function::Fn<(&'a u8,), Output = &'a u8>>",
  ],
  // Punycode identifier: `fn café()`.
  ['_RNvCsh537bOAIRKx_3libu7caf_dma', 'lib[c6f551dc431569fb]::café', 'lib::café'],
  [
    '_RNvMs1_Csh537bOAIRKx_3libINtB5_8ConstGenKj3_Kb1_Kc78_Kan5_E3getB5_',
    "<lib[c6f551dc431569fb]::ConstGen<3: usize, true: bool, 'x': char, -5: i8>>::get",
    "<lib::ConstGen<3, true, 'x', -5>>::get",
  ],
  // Arrays, `dyn`, and backrefs to paths and to a type (`BH_`).
  [
    '_RINvNtCsgEmfK2I1SDS_4core3ptr13drop_in_placeINtNtCslNYArtu3iFV_5alloc5boxed3BoxINtNtNtB4_3mem12maybe_uninit11MaybeUninitAIBH_DNtCsh537bOAIRKx_3lib5ShapeEL_Ej1_EEEB22_',
    'core[c1f1a4ba060b9bfa]::ptr::drop_in_place::<alloc[fdfd2bd8633a6659]::boxed::Box<core[c1f1a4ba060b9bfa]::mem::maybe_uninit::MaybeUninit<[alloc[fdfd2bd8633a6659]::boxed::Box<dyn lib[c6f551dc431569fb]::Shape>; 1: usize]>>>',
    'core::ptr::drop_in_place::<alloc::boxed::Box<core::mem::maybe_uninit::MaybeUninit<[alloc::boxed::Box<dyn lib::Shape>; 1]>>>',
  ],
  [
    '_RINvNtCsgEmfK2I1SDS_4core3ptr13drop_in_placeTNtNtCslNYArtu3iFV_5alloc6string6StringBH_EECsh537bOAIRKx_3lib',
    'core[c1f1a4ba060b9bfa]::ptr::drop_in_place::<(alloc[fdfd2bd8633a6659]::string::String, alloc[fdfd2bd8633a6659]::string::String)>',
    'core::ptr::drop_in_place::<(alloc::string::String, alloc::string::String)>',
  ],
  [
    '_RINvXs_NvMNtCslNYArtu3iFV_5alloc5sliceSp9to_vec_inhNtB5_10ConvertVec6to_vecNtNtBa_5alloc6GlobalECsh537bOAIRKx_3lib',
    '<u8 as <[_]>::to_vec_in::ConvertVec>::to_vec::<alloc[fdfd2bd8633a6659]::alloc::Global>',
    '<u8 as <[_]>::to_vec_in::ConvertVec>::to_vec::<alloc::alloc::Global>',
  ],
  // Function pointer types: higher-ranked lifetimes, `unsafe`, ABIs, variadics, unit returns.
  [
    '_RINvCs4CrwdaKlfeW_3adt2hrFG0_RL1_hQL0_tERL1_hEB2_',
    "adt[35d00ea39a647f14]::hr::<for<'a, 'b> fn(&'a u8, &'b mut u16) -> &'a u8>",
    "adt::hr::<for<'a, 'b> fn(&'a u8, &'b mut u16) -> &'a u8>",
  ],
  [
    '_RINvCs2bsV0ZBE8VR_5extra2hrFUKChEtEB2_',
    'extra[19730a7aa70db515]::hr::<unsafe extern "C" fn(u8) -> u16>',
    'extra::hr::<unsafe extern "C" fn(u8) -> u16>',
  ],
  [
    '_RINvCs2bsV0ZBE8VR_5extra2hrFG_UKCRL0_hvEuEB2_',
    'extra[19730a7aa70db515]::hr::<for<\'a> unsafe extern "C" fn(&\'a u8, ...)>',
    'extra::hr::<for<\'a> unsafe extern "C" fn(&\'a u8, ...)>',
  ],
  ['_RINvCs2bsV0ZBE8VR_5extra2hrAAhj3_j2_EB2_', 'extra[19730a7aa70db515]::hr::<[[u8; 3: usize]; 2: usize]>', 'extra::hr::<[[u8; 3]; 2]>'],
  ['_RINvCs2bsV0ZBE8VR_5extra2hrThEEB2_', 'extra[19730a7aa70db515]::hr::<(u8,)>', 'extra::hr::<(u8,)>'],
  [
    '_RINvCs2bsV0ZBE8VR_5extra2hrOINtNtCsgEmfK2I1SDS_4core6option6OptionReEEB2_',
    'extra[19730a7aa70db515]::hr::<*mut core[c1f1a4ba060b9bfa]::option::Option<&str>>',
    'extra::hr::<*mut core::option::Option<&str>>',
  ],
  ['_RINvCs4CrwdaKlfeW_3adt2hrPScEB2_', 'adt[35d00ea39a647f14]::hr::<*const [char]>', 'adt::hr::<*const [char]>'],
  // `f128` has no basic-type tag and is mangled as an undisambiguated crate root.
  ['_RINvCs4CrwdaKlfeW_3adt2flC4f128EB2_', 'adt[35d00ea39a647f14]::fl::<f128>', 'adt::fl::<f128>'],
  // Const ADT, `&str`, array and tuple parameters (nightly `adt_const_params`).
  [
    '_RNvMCs4CrwdaKlfeW_3adtINtB2_1SKVNtB2_2PtS1xh1_1ysn2_EE2goB2_',
    '<adt[35d00ea39a647f14]::S<{ adt[35d00ea39a647f14]::Pt { x: 1, y: -2 } }>>::go',
    '<adt::S<{ adt::Pt { x: 1, y: -2 } }>>::go',
  ],
  [
    '_RNvMs_Cs4CrwdaKlfeW_3adtINtB4_1MKVNtNtB4_4Mode2OnTh7_EE2goB4_',
    '<adt[35d00ea39a647f14]::M<{ adt[35d00ea39a647f14]::Mode::On(7) }>>::go',
    '<adt::M<{ adt::Mode::On(7) }>>::go',
  ],
  ['_RNvMs0_Cs4CrwdaKlfeW_3adtINtB5_3StrKRe68c3a90a22_E2goB5_', '<adt[35d00ea39a647f14]::Str<"hé\\n\\"">>::go', '<adt::Str<"hé\\n\\"">>::go'],
  ['_RNvMs1_Cs4CrwdaKlfeW_3adtINtB5_3ArrKAh1_h2_EE2goB5_', '<adt[35d00ea39a647f14]::Arr<{ [1, 2] }>>::go', '<adt::Arr<{ [1, 2] }>>::go'],
  ['_RNvMs2_Cs4CrwdaKlfeW_3adtINtB5_3TupKTh5_b1_EE2goB5_', '<adt[35d00ea39a647f14]::Tup<{ (5, true) }>>::go', '<adt::Tup<{ (5, true) }>>::go'],
  // A vendor suffix from a real std build: `.0` and `.1` are distinct statics, so the suffix stays.
  [
    '_RNvNtNtCsi4IsKQVxMg0_3std6thread11main_thread4MAIN.0',
    'std[d28b1718532fa52a]::thread::main_thread::MAIN.0',
    'std::thread::main_thread::MAIN.0',
  ],
  ['_RNvCsh537bOAIRKx_3lib3run.llvm.10264533217441326497', 'lib[c6f551dc431569fb]::run.llvm.10264533217441326497', 'lib::run'],
];

/** Examples from the v0 chapter of the rustc book, whose recommended demanglings are the concise form. */
const SPEC_CASES: readonly Case[] = [
  [
    '_RNvMsr_NtCs3ssYzQotkvD_3std4pathNtB5_7PathBuf3newCs15kBYyAo9fc_7mycrate',
    '<std[284a76a8b41a7fd3]::path::PathBuf>::new',
    '<std::path::PathBuf>::new',
  ],
  [
    '_RNvYNtCs15kBYyAo9fc_7mycrate7ExampleNtB4_5Trait7exampleB4_',
    '<mycrate[ca63f166dbe9294]::Example as mycrate[ca63f166dbe9294]::Trait>::example',
    '<mycrate::Example as mycrate::Trait>::example',
  ],
  [
    '_RINvCs7qp2U7fqm6G_7mycrate7exampleNtB2_7ExampleBw_EB2_',
    'mycrate[567e63b0a19c5b38]::example::<mycrate[567e63b0a19c5b38]::Example, mycrate[567e63b0a19c5b38]::Example>',
    'mycrate::example::<mycrate::Example, mycrate::Example>',
  ],
  [
    '_RNvNvMCsd9PVOYlP1UU_7mycrateINtB4_7ExamplepKpE3foo14EXAMPLE_STATIC',
    '<mycrate[99446627ef552b06]::Example<_, _>>::foo::EXAMPLE_STATIC',
    '<mycrate::Example<_, _>>::foo::EXAMPLE_STATIC',
  ],
  ['_RINvCsgStHSCytQ6I_7mycrate7examplelKj1_EB2_', 'mycrate[c498bb9fafc482ea]::example::<i32, 1: usize>', 'mycrate::example::<i32, 1>'],
  ['_RINvCs7qp2U7fqm6G_7mycrate7exampleKy12345678_EB2_', 'mycrate[567e63b0a19c5b38]::example::<305419896: u64>', 'mycrate::example::<305419896>'],
  [
    '_RINvCs7qp2U7fqm6G_7mycrate7exampleFG0_RL1_hRL0_tEuEB2_',
    "mycrate[567e63b0a19c5b38]::example::<for<'a, 'b> fn(&'a u8, &'b u16)>",
    "mycrate::example::<for<'a, 'b> fn(&'a u8, &'b u16)>",
  ],
  [
    '_RNvNtNtCsgOH4LzxkuMq_7mycrateu8gdel_5qa6escher4bach',
    'mycrate[c3e2bad243a63c04]::gödel::escher::bach',
    'mycrate::gödel::escher::bach',
  ],
  ['_RNCNvCsgStHSCytQ6I_7mycrate4mains_0B3_', 'mycrate[c498bb9fafc482ea]::main::{closure#1}', 'mycrate::main::{closure#1}'],
  // Mach-O thread-local data: a `$` vendor suffix.
  [
    '_RNvNvNvCs7qp2U7fqm6G_7mycrate7EXAMPLE7___getit5___KEY$tlv$init',
    'mycrate[567e63b0a19c5b38]::EXAMPLE::__getit::__KEY$tlv$init',
    'mycrate::EXAMPLE::__getit::__KEY$tlv$init',
  ],
];

/** Hand-made symbols for grammar corners that rustc rarely emits. */
const HAND_MADE_CASES: readonly Case[] = [
  // The punycode examples of the rustc book.
  ['_RNvC1au6f_5gaa', 'a::føø', 'a::føø'],
  ['_RNvC1au7___ylb7e', 'a::α_ω', 'a::α_ω'],
  ['_RNvC1au6n84amf', 'a::铁锈', 'a::铁锈'],
  ['_RNvC1au4fq9h', 'a::🤦', 'a::🤦'],
  ['_RNvC1au6_2xaedc', 'a::ρυστ', 'a::ρυστ'],
  ['_RINvC1a1fL_hE', "a::f::<'_, u8>", "a::f::<'_, u8>"],
  ['_RINvC1a1fFG_FG_RL0_hRL1_hEuEuE', "a::f::<for<'a> fn(for<'b> fn(&'b u8, &'a u8))>", "a::f::<for<'a> fn(for<'b> fn(&'b u8, &'a u8))>"],
  ['_RINvC1a1fFK8C_unwindEuE', 'a::f::<extern "C-unwind" fn()>', 'a::f::<extern "C-unwind" fn()>'],
  [
    '_RINvC1a1fKc27_Kca_Kc0_Kc1f600_E',
    "a::f::<'\\'': char, '\\n': char, '\\0': char, '😀': char>",
    "a::f::<'\\'', '\\n', '\\0', '😀'>",
  ],
  [
    '_RINvC1a1fKo123456789abcdef0123_Kyffffffffffffffff_E',
    'a::f::<0x123456789abcdef0123: u128, 18446744073709551615: u64>',
    'a::f::<0x123456789abcdef0123, 18446744073709551615>',
  ],
  ['_RNvMs_C1aINtB4_1SKRQh7_E1f', '<a::S<{ &&mut 7 }>>::f', '<a::S<{ &&mut 7 }>>::f'],
  // Namespaces other than closure and shim are shown by their tag.
  ['_RNXNvC1a1fs_3foo', 'a::f::{X:foo#1}', 'a::f::{X:foo#1}'],
];

function checkCases(cases: readonly Case[]): void {
  for (const [mangled, full, withoutHash] of cases) {
    it(mangled, () => {
      assert.equal(demangle(mangled), full);
      assert.equal(demangleWithoutHash(mangled), withoutHash);
      assert.equal(isRustSymbol(mangled), true);
    });
  }
}

describe('legacy symbols', () => checkCases(LEGACY_CASES));
describe('v0 symbols', () => checkCases(V0_CASES));
describe('v0 examples from the rustc book', () => checkCases(SPEC_CASES));
describe('hand-made v0 symbols', () => checkCases(HAND_MADE_CASES));

describe('symbols that are not Rust or are malformed', () => {
  function exponentialBackrefs(levels: number): string {
    // Each tuple holds two backrefs to the previous one, so the output doubles per level.
    let body = 'INvC1a1fh';
    let previous = body.length - 1;
    for (let level = 0; level < levels; level++) {
      const start = body.length;
      body += `TB${base62(previous)}B${base62(previous)}E`;
      previous = start;
    }
    return `_R${body}E`;
  }

  function backrefChain(length: number): string {
    // Every generic argument is a backref to the one before it, so the last one is `length` hops from `u8`.
    let body = 'INvC1a1fh';
    let previous = body.length - 1;
    for (let hop = 0; hop < length; hop++) {
      const start = body.length;
      body += `B${base62(previous)}`;
      previous = start;
    }
    return `_R${body}E`;
  }

  const UNCHANGED: ReadonlyArray<readonly [why: string, symbol: string]> = [
    ['empty', ''],
    ['C symbol', 'main'],
    ['Mach-O C symbol', '_main'],
    ['C++ function with parameters', '_ZN3foo3barEv'],
    ['C++ plain function', '_Z3foov'],
    ['legacy without closing E', '_ZN3lib3run17h832b5122f2bc9bac'],
    ['legacy identifier running past the end', '_ZN3lib30runE'],
    ['legacy length overflow', '_ZN99999999999999999999999999lib3runE'],
    ['legacy missing length', '_ZNfooE'],
    ['legacy non-ASCII', '_ZN3libé3runE'],
    ['legacy junk after E', '_ZN3lib3runE junk'],
    ['v0 truncated identifier', '_RNvCsh537bOAIRKx_3lib3ru'],
    ['v0 truncated path', '_RNvCsh537bOAIRKx_3lib'.slice(0, 10)],
    ['v0 only prefix', '_R'],
    ['v0 version number', '_R0NvC1a1f'],
    ['v0 backref to itself', '_RB_'],
    ['v0 forward backref', '_RNvB5_3foo'],
    ['v0 backref past the end', '_RNvBzzzzzzzzzzzz_3foo'],
    ['v0 unknown type tag', '_RINvC1a1fWE'],
    ['v0 unbound lifetime', '_RINvC1a1fLL_E'],
    ['v0 invalid punycode', '_RNvC1au3___'],
    ['v0 invalid char constant', '_RINvC1a1fKcd800_E'],
    ['v0 invalid bool constant', '_RINvC1a1fKb2_E'],
    ['v0 invalid UTF-8 in str constant', '_RINvC1a1fKReff_E'],
    ['v0 huge binder', '_RINvC1a1fFGzzzzzzzz_EuE'],
    ['v0 junk after path', '_RNvC1a1f junk'],
    ['v0 deep nesting', `_RINvC1a1f${'R'.repeat(100_000)}hE`],
    ['v0 deep paths', `_R${'NvNv'.repeat(50_000)}C1a`],
    ['v0 deep backref chain', backrefChain(2000)],
    ['v0 exponential backrefs', exponentialBackrefs(60)],
  ];

  for (const [why, symbol] of UNCHANGED) {
    it(`returns ${why} unchanged`, () => {
      assert.equal(demangle(symbol), symbol);
      assert.equal(demangleWithoutHash(symbol), symbol);
      assert.equal(isRustSymbol(symbol), false);
    });
  }

  it('follows backref chains of realistic length', () => {
    assert.equal(demangleWithoutHash(backrefChain(3)), 'a::f::<u8, u8, u8, u8>');
  });

  it('still expands backrefs that double a few times', () => {
    const doubled = demangleWithoutHash(exponentialBackrefs(3));
    assert.equal(doubled, 'a::f::<u8, (u8, u8), ((u8, u8), (u8, u8)), (((u8, u8), (u8, u8)), ((u8, u8), (u8, u8)))>');
  });

  it('strips an LLVM suffix from a non-Rust symbol only in demangleWithoutHash', () => {
    assert.equal(demangle('helper.llvm.123'), 'helper.llvm.123');
    assert.equal(demangleWithoutHash('helper.llvm.123'), 'helper');
    assert.equal(demangleWithoutHash('_main'), '_main');
  });
});

describe('robustness', () => {
  const V0_ALPHABET = [...'ABCDEFGHIKLMNOPQRSTUVXYZabcdefhijklmnopstuvxyz0123456789_'];
  const LEGACY_ALPHABET = [...'0123456789abchE$.uLTGC_'];

  function alphabetString(alphabet: readonly string[]): fc.Arbitrary<string> {
    return fc.string({ unit: fc.constantFrom(...alphabet), maxLength: 200 });
  }

  function assertTotal(symbol: string): void {
    // The parsers are called directly so that a bug is not hidden by `index.ts`'s safety net.
    parseV0Symbol(symbol, 'verbose');
    parseV0Symbol(symbol, 'concise');
    parseLegacySymbol(symbol);
    assert.equal(typeof demangle(symbol), 'string');
    assert.equal(typeof demangleWithoutHash(symbol), 'string');
  }

  it('never throws on arbitrary text after _R or _ZN', { timeout: 60_000 }, () => {
    const prefix = fc.constantFrom('_R', '__R', '_ZN', '__ZN');
    const body = fc.oneof(fc.string({ unit: 'binary', maxLength: 200 }), alphabetString(V0_ALPHABET), alphabetString(LEGACY_ALPHABET));
    fc.assert(
      fc.property(prefix, body, (start, rest) => assertTotal(start + rest)),
      { numRuns: 5000 },
    );
  });

  it('never throws on truncated or corrupted real symbols', { timeout: 60_000 }, () => {
    const real = [...LEGACY_CASES, ...V0_CASES, ...SPEC_CASES, ...HAND_MADE_CASES].map(([mangled]) => mangled);
    for (const symbol of real) {
      for (let end = 0; end < symbol.length; end++) assertTotal(symbol.slice(0, end));
    }
    fc.assert(
      fc.property(fc.constantFrom(...real), fc.nat(), fc.constantFrom(...V0_ALPHABET), (symbol, at, replacement) => {
        const index = at % symbol.length;
        assertTotal(symbol.slice(0, index) + replacement + symbol.slice(index + 1));
      }),
      { numRuns: 5000 },
    );
  });
});

function base62(value: number): string {
  const DIGITS = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';
  if (value === 0) return '_';
  let rest = value - 1;
  let digits = '';
  do {
    digits = DIGITS[rest % 62] + digits;
    rest = Math.floor(rest / 62);
  } while (rest > 0);
  return `${digits}_`;
}
