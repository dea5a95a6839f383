import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'smol-toml';

/** A profile setting ipbp's build does without, and the `--config` that says so. */
export interface ProfileOverride {
  /** As the user wrote it: `strip = true`. */
  readonly setting: string;
  readonly config: string;
}

/** Where cargo reads profiles from, besides the environment: the workspace manifest and cargo's configuration. */
const SOURCES = ['Cargo.toml', '.cargo/config.toml', '.cargo/config'];

/**
 * Settings of the profile being built that no patch could work with: a
 * stripped binary has no symbols to bind a patch to, and link-time
 * optimization across crates (`lto = true`, "fat" or "thin") moves code
 * between crates, so that a crate's recompiled objects no longer say what
 * runs. ipbp builds in its own target directory, so it builds without them,
 * and says so; the program behaves the same.
 */
export async function profileOverrides(workspaceRoot: string, profile: string): Promise<ProfileOverride[]> {
  const settings: Record<string, unknown> = {};
  for (const source of SOURCES) {
    const text = await readFile(join(workspaceRoot, source), 'utf8').catch(() => undefined);
    if (text === undefined) continue;
    let table: Record<string, unknown>;
    try {
      table = parse(text) as Record<string, unknown>;
    } catch {
      continue; // cargo itself reports a malformed file, better than ipbp could
    }
    const profiles = table.profile as Record<string, Record<string, unknown>> | undefined;
    Object.assign(settings, profiles?.[profile] ?? {});
  }
  const variable = `CARGO_PROFILE_${profile.toUpperCase().replaceAll('-', '_')}`;
  for (const key of ['strip', 'lto']) {
    const value = process.env[`${variable}_${key.toUpperCase()}`];
    if (value !== undefined) settings[key] = value === 'true' ? true : value === 'false' ? false : value;
  }
  const overrides: ProfileOverride[] = [];
  if (settings.strip === true || settings.strip === 'true' || settings.strip === 'symbols') {
    overrides.push({ setting: `strip = ${JSON.stringify(settings.strip)}`, config: `profile.${profile}.strip=false` });
  }
  if (settings.lto === true || settings.lto === 'true' || settings.lto === 'fat' || settings.lto === 'thin') {
    overrides.push({ setting: `lto = ${JSON.stringify(settings.lto)}`, config: `profile.${profile}.lto=false` });
  }
  return overrides;
}
