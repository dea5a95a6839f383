import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'smol-toml';
import { inheritedProfile } from './profiles.js';

/** A profile setting ipbp's build does without, and the `--config` that says so. */
export interface ProfileOverride {
  /** As the user wrote it: `strip = true`. */
  readonly setting: string;
  readonly config: string;
}

/** Where cargo reads profiles from, besides the environment: the workspace manifest and cargo's configuration. */
const SOURCES = ['Cargo.toml', '.cargo/config.toml', '.cargo/config'];

type ProfileTables = Record<string, Record<string, unknown>>;

/**
 * Settings of the profile being built that no patch could work with: a
 * stripped binary has no symbols to bind a patch to, and link-time
 * optimization across crates (`lto = true`, "fat" or "thin") moves code
 * between crates, so that a crate's recompiled objects no longer say what
 * runs. ipbp builds in its own target directory, so it builds without them,
 * and says so; the program behaves the same. A custom profile has what it
 * `inherits`, under its own settings.
 */
export async function profileOverrides(workspaceRoot: string, profile: string): Promise<ProfileOverride[]> {
  const profiles = await readProfileTables(workspaceRoot);
  const settings: Record<string, unknown> = {};
  for (const name of inheritanceChain(profile, profiles).reverse()) {
    Object.assign(settings, profiles[name] ?? {});
    const variable = `CARGO_PROFILE_${name.toUpperCase().replaceAll('-', '_')}`;
    for (const key of ['strip', 'lto']) {
      const value = process.env[`${variable}_${key.toUpperCase()}`];
      if (value !== undefined) settings[key] = value === 'true' ? true : value === 'false' ? false : value;
    }
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

/** The profile tables of every source, later sources over earlier ones, key by key. */
async function readProfileTables(workspaceRoot: string): Promise<ProfileTables> {
  const merged: ProfileTables = {};
  for (const source of SOURCES) {
    const text = await readFile(join(workspaceRoot, source), 'utf8').catch(() => undefined);
    if (text === undefined) continue;
    let table: Record<string, unknown>;
    try {
      table = parse(text) as Record<string, unknown>;
    } catch {
      continue; // cargo itself reports a malformed file, better than ipbp could
    }
    for (const [name, settings] of Object.entries((table.profile ?? {}) as ProfileTables)) merged[name] = { ...merged[name], ...settings };
  }
  return merged;
}

/** `profile`, then what it inherits, up to `dev` or `release`; a cycle (which cargo refuses) ends it. */
function inheritanceChain(profile: string, profiles: ProfileTables): string[] {
  const chain: string[] = [];
  for (let name: string | undefined = profile; name !== undefined && !chain.includes(name); ) {
    chain.push(name);
    const inherits: unknown = profiles[name]?.inherits;
    name = typeof inherits === 'string' ? inherits : inheritedProfile(name);
  }
  return chain;
}
