/**
 * The three benchmark apps and how the benchmark edits and observes each.
 * Every app prints (or serves) a `[rev N]` marker from one function; the
 * edit bumps N and the benchmark waits until the new N is seen.
 */
export interface BenchApp {
  readonly name: 'small' | 'medium' | 'server';
  /** Directory under examples/. */
  readonly example: string;
  readonly description: string;
  /** Arguments of the app: a 2 ms tick, so a new line shows at most 2 ms after the patch. */
  readonly args: readonly string[];
  /** The file holding the `[rev N]` marker, relative to the app's root. */
  readonly editFile: string;
  /** How the new behaviour shows: an output line, or the body of `GET /hello`. */
  readonly observe: 'stdout' | 'http';
  /** Patches of the same function in one ipbp session (RSS is read after 1, 10 and 100). */
  readonly patches: number;
  /** Timed `cargo build` + restart runs. */
  readonly cargoRuns: number;
}

export const APPS: readonly BenchApp[] = [
  {
    name: 'small',
    example: 'bench-small',
    description: 'std only, 1 crate, ~360 lines',
    args: ['2'],
    editFile: 'src/main.rs',
    observe: 'stdout',
    patches: 100,
    cargoRuns: 5,
  },
  {
    name: 'medium',
    example: 'bench-medium',
    description: 'serde + tokio, 3 crates, ~15k lines; edits the middle crate',
    args: ['2'],
    editFile: 'engine/src/report.rs',
    observe: 'stdout',
    patches: 100,
    cargoRuns: 5,
  },
  {
    name: 'server',
    example: 'bench-server',
    description: 'axum + tokio HTTP server, 1 crate',
    args: [],
    editFile: 'src/main.rs',
    observe: 'http',
    patches: 100,
    cargoRuns: 5,
  },
];

/** The line an app prints first; the server's names its port. */
export const LISTENING = /^listening on http:\/\/127\.0\.0\.1:(\d+)$/;

export function revisionPattern(revision: number): RegExp {
  return new RegExp(`\\[rev ${revision}\\]`);
}
