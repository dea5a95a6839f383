/**
 * Cargo's profiles, as far as ipbp needs them: `--release` is `--profile
 * release`, and no profile given is `dev`.
 */
export const DEFAULT_PROFILE = 'dev';

/** The built-in profiles that inherit another one implicitly. */
const BUILT_IN_PARENTS: Readonly<Record<string, string>> = { test: 'dev', bench: 'release' };

/** What a built-in profile inherits without saying so; custom profiles name theirs (`inherits`). */
export function inheritedProfile(profile: string): string | undefined {
  return BUILT_IN_PARENTS[profile];
}

/** The folder of the target directory a profile builds into: `dev` and `test` build into `debug`, `bench` into `release`, others into their own name. */
export function profileDirectoryOf(profile: string): string {
  if (profile === 'dev' || profile === 'test') return 'debug';
  if (profile === 'bench') return 'release';
  return profile;
}
