/**
 * The benchmark apps and how the benchmark edits and observes each: three
 * written for it (examples/), and two real programs from crates.io, written
 * by other people, that the corpus (corpus/) already fetches and observes.
 */
interface AppCommon {
  readonly description: string;
  /** Patches of the same code in one ipbp session (RSS is read after 1, 10 and 100, and after the last). */
  readonly patches: number;
  /** Timed `cargo build` + restart runs. */
  readonly cargoRuns: number;
}

/**
 * An app of examples/: it prints (or serves) a `[rev N]` marker from one
 * function; the edit bumps N and the benchmark waits until the new N is seen.
 */
export interface ExampleApp extends AppCommon {
  readonly source: 'example';
  readonly name: 'small' | 'medium' | 'server' | 'small-aarch64';
  /** Another target than the host's, which ipbp and cargo alike build for and run through its runner. */
  readonly target?: CrossTarget;
  /** Directory under examples/. */
  readonly example: string;
  /** Arguments of the app: a 2 ms tick, so a new line shows at most 2 ms after the patch. */
  readonly args: readonly string[];
  /** The file holding the `[rev N]` marker, relative to the app's root. */
  readonly editFile: string;
  /** How the new behaviour shows: an output line, or the body of `GET /hello`. */
  readonly observe: 'stdout' | 'http';
}

/**
 * A published program as the corpus lays it out, runs and observes it
 * (`corpus` names its corpus/projects.ts entry). The edit rewrites one
 * string literal that the program returns for every request, with a
 * revision number: `literal(0)` is the published text, which the corpus's
 * first edit also starts from.
 */
export interface RealApp extends AppCommon {
  readonly source: 'crates.io';
  readonly name: 'mini-redis' | 'tiny-serve';
  readonly corpus: string;
  /** The file holding the literal, relative to the work directory. */
  readonly editFile: string;
  literal(revision: number): string;
  /** What a probe of the app shows once `literal(revision)` runs. */
  expect(revision: number): RegExp;
}

export type BenchApp = ExampleApp | RealApp;

/** A target set up as a cargo user sets one up: its linker and runner in cargo's variables. */
export interface CrossTarget {
  readonly triple: string;
  readonly env: Readonly<Record<string, string>>;
  /** The runner, for the program started without cargo. */
  readonly runner: readonly string[];
}

const AARCH64_UNDER_QEMU: CrossTarget = {
  triple: 'aarch64-unknown-linux-gnu',
  env: {
    CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER: 'aarch64-linux-gnu-gcc',
    CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER: 'qemu-aarch64 -L /usr/aarch64-linux-gnu',
  },
  runner: ['qemu-aarch64', '-L', '/usr/aarch64-linux-gnu'],
};

const EXAMPLE_APPS: readonly ExampleApp[] = [
  {
    source: 'example',
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
    source: 'example',
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
    source: 'example',
    name: 'server',
    example: 'bench-server',
    description: 'axum + tokio HTTP server, 1 crate',
    args: [],
    editFile: 'src/main.rs',
    observe: 'http',
    patches: 100,
    cargoRuns: 5,
  },
  {
    source: 'example',
    name: 'small-aarch64',
    example: 'bench-small',
    description: 'the small app built for aarch64, run under qemu-user (ipbp run --target); both sides emulated alike',
    args: ['2'],
    editFile: 'src/main.rs',
    observe: 'stdout',
    target: AARCH64_UNDER_QEMU,
    patches: 30,
    cargoRuns: 5,
  },
];

/** The published ones are held to the issue's target for real-world apps (≥ 1.5×, the own apps ≥ 2×). */
const REAL_APPS: readonly RealApp[] = [
  {
    source: 'crates.io',
    name: 'mini-redis',
    corpus: 'mini-redis',
    description: 'crates.io mini-redis 0.4.1: tokio + tracing redis server; edits the reply to SET',
    editFile: 'src/cmd/set.rs',
    literal: (revision) => `Frame::Simple("OK${revision === 0 ? '' : ` rev ${revision}`}".to_string())`,
    expect: (revision) => new RegExp(`^\\+OK rev ${revision}\\r\\n$`),
    patches: 10,
    cargoRuns: 5,
  },
  {
    source: 'crates.io',
    name: 'tiny-serve',
    corpus: 'tiny-serve',
    description: 'crates.io tiny-serve 0.1.1 + livid-server 0.2.2 (workspace member): tiny_http file server; edits the library',
    // The Content-Type of every .txt the server sends.
    editFile: 'livid-server/src/server.rs',
    literal: (revision) => `"txt" => "text/plain; charset=utf8${revision === 0 ? '' : `; rev=${revision}`}",`,
    expect: (revision) => new RegExp(`\\ncontent-type: text/plain; charset=utf8; rev=${revision}\\n`),
    patches: 10,
    cargoRuns: 5,
  },
];

export const APPS: readonly BenchApp[] = [...EXAMPLE_APPS, ...REAL_APPS];

/** The line an app prints first; the server's names its port. */
export const LISTENING = /^listening on http:\/\/127\.0\.0\.1:(\d+)$/;

export function revisionPattern(revision: number): RegExp {
  return new RegExp(`\\[rev ${revision}\\]`);
}
