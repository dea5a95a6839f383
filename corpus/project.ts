import type { OutputLog } from './output-log.js';

/** One published package, pinned: fetched from crates.io through cargo, never edited in the registry. */
export interface PinnedCrate {
  readonly name: string;
  readonly version: string;
}

/**
 * How the corpus lays a project out. `single package` is the published
 * package as it is, with its own Cargo.lock. `workspace` wraps the app in a
 * generated workspace root whose other members are crates.io libraries the
 * app depends on, put in by `[patch.crates-io]`: ipbp recompiles workspace
 * crates only, so that is how per-request code living in a library becomes
 * editable.
 */
export type Shape = 'single package' | 'workspace';

/** A literal replacement in one source file; the anchor must occur exactly once. */
export interface SourceEdit {
  /** Relative to the project's work directory (the workspace root for a workspace). */
  readonly file: string;
  readonly from: string;
  readonly to: string;
  /** What the app shows from outside once the edit runs. */
  readonly expect: RegExp;
}

/** Where a project runs: its work directory and the loopback ports chosen for it. */
export interface LaunchContext {
  readonly directory: string;
  /** A free loopback port the app is told to listen on. */
  readonly port: number;
  /** A free loopback port for a helper service (the proxies' upstream). */
  readonly upstreamPort: number;
}

/** What a project's observation can use: where it runs and what it has printed. */
export interface ObserveContext extends LaunchContext {
  /** Everything ipbp's terminal showed: the app's stdout and stderr, ipbp's `[ipbp]` lines. */
  readonly output: OutputLog;
  /** Offset in `output` from which what the app printed counts (the moment of the latest edit). */
  readonly from: number;
}

export interface CorpusProject {
  /** The name `IPBP_CORPUS` selects it by. */
  readonly name: string;
  /** What kind of long-running program it is (HTTP server, TUI, daemon, …). */
  readonly kind: string;
  /** The package holding the program's binary. */
  readonly app: PinnedCrate;
  /** Libraries made workspace members beside the app (workspace shape only). */
  readonly members?: readonly PinnedCrate[];
  /** Arguments for `ipbp run` before `--` (package, binary). */
  readonly ipbpArgs: readonly string[];
  /** Built with `--release` (the optimizer inlines and merges; the corpus's other projects are debug builds). */
  readonly release?: boolean;
  /** The program's own arguments. */
  appArgs(context: LaunchContext): string[];
  /** Environment for ipbp, which the app inherits. */
  env?(context: LaunchContext): Record<string, string>;
  /** Run under a pseudo-terminal: the program draws a screen or needs a terminal size. */
  readonly terminal: boolean;
  /** Files the program serves or reads, written into the work directory before it starts. */
  readonly files?: Readonly<Record<string, string>>;
  /** A helper the observation needs (a proxy's upstream); returns how to stop it. */
  startHelper?(context: LaunchContext): Promise<() => Promise<void>>;
  /** Makes the program act once if it needs a nudge (a request), and returns what is seen from outside. */
  observe(context: ObserveContext): Promise<string>;
  /** What the unedited program shows: proof it is up and observed the right way. */
  readonly before: RegExp;
  /** The first edit, then the warm one (which starts from the first's result). */
  readonly edits: readonly [SourceEdit, SourceEdit];
}

export function shapeOf(project: CorpusProject): Shape {
  return project.members && project.members.length > 0 ? 'workspace' : 'single package';
}

/** The shape as the table shows it, with the build profile when it is not the default one. */
export function describeShape(project: CorpusProject): string {
  return project.release ? `${shapeOf(project)}, release build` : shapeOf(project);
}
