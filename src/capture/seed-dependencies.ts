import { cp, link, mkdir, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** Outputs rustc replaces by renaming a new file over them: a hard link to the user's copy is never written through. */
const REPLACED_WHOLE = /\.(rlib|rmeta)$/;

/**
 * Starts a fresh ipbp build tree (`target/ipbp/<profile>`) with what the
 * user's own `cargo build` already built of the registry and git
 * dependencies (`target/<profile>`), so that the first `ipbp run` of a
 * project does not build them all again. Cargo names a dependency's outputs
 * and fingerprint by a hash of the package, its features and the profile,
 * the same in both trees, and finds the seeded ones fresh; whatever differs
 * (other features, a profile ipbp overrides) it simply builds.
 *
 * Only dependencies are taken: the local packages are built through ipbp's
 * wrapper, under other names. Fingerprints, dep-info and build script
 * directories are copied, timestamps kept (cargo compares them, and writes
 * these files in place); libraries are hard-linked, as rustc only ever
 * replaces them whole. The user's tree is only read. Returns how many
 * packages' builds were taken.
 */
export async function seedDependencyBuilds(userProfileDir: string, ipbpProfileDir: string, localPackages: ReadonlySet<string>): Promise<number> {
  if (await exists(ipbpProfileDir)) return 0;
  const fingerprints = await readdir(join(userProfileDir, '.fingerprint')).catch(() => [] as string[]);
  const hashes = new Set<string>();
  const seeded = new Set<string>();
  for (const entry of fingerprints) {
    const unit = /^(.+)-([0-9a-f]{16})$/.exec(entry);
    if (!unit || localPackages.has(unit[1]!)) continue;
    hashes.add(unit[2]!);
    seeded.add(unit[1]!);
  }
  if (hashes.size === 0) return 0;
  // `lib<crate>-<hash>.rlib`, `<crate>-<hash>.d`, `<package>-<hash>/`: the unit's hash names all it made.
  const ofSeededUnit = (name: string): boolean => hashes.has(/-([0-9a-f]{16})(?:\.|$)/.exec(name)?.[1] ?? '');
  for (const folder of ['.fingerprint', 'build', 'deps']) {
    await mkdir(join(ipbpProfileDir, folder), { recursive: true });
    for (const name of (await readdir(join(userProfileDir, folder)).catch(() => [] as string[])).filter(ofSeededUnit)) {
      const from = join(userProfileDir, folder, name);
      const to = join(ipbpProfileDir, folder, name);
      if (folder === 'deps' && REPLACED_WHOLE.test(name)) await link(from, to).catch(() => cp(from, to, { preserveTimestamps: true }));
      else await cp(from, to, { recursive: true, preserveTimestamps: true });
    }
  }
  return seeded.size;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
