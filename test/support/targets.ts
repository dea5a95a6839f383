/**
 * The targets the shared end-to-end suites run on: the host, and aarch64
 * Linux under qemu-user, set up as a cargo user sets up a cross target
 * (a linker and a runner for the triple, here through cargo's variables).
 */
export interface TestTarget {
  /** For test names. */
  readonly name: string;
  /** Handed to `ipbp run` (`--target`). */
  readonly args: readonly string[];
  /** Cargo's configuration of the target. */
  readonly env: NodeJS.ProcessEnv;
  /** ELF `e_machine` of its programs. */
  readonly machine: number;
  /** The emulator the program runs in, which `/proc/<pid>/exe` then names; none on the host. */
  readonly emulator: string | undefined;
  /** How a program is started by hand: its runner, before the program's path. */
  readonly runner: readonly string[];
  /** Below `target/ipbp`, where cargo puts the program of a dev build. */
  readonly outputDirectory: readonly string[];
}

export const HOST: TestTarget = { name: 'x86_64', args: [], env: {}, machine: 62, emulator: undefined, runner: [], outputDirectory: ['debug'] };

const AARCH64_TRIPLE = 'aarch64-unknown-linux-gnu';

export const AARCH64_UNDER_QEMU: TestTarget = {
  name: 'aarch64 under qemu',
  args: ['--target', AARCH64_TRIPLE],
  env: {
    CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER: 'aarch64-linux-gnu-gcc',
    CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER: 'qemu-aarch64 -L /usr/aarch64-linux-gnu',
  },
  machine: 183,
  emulator: 'qemu-aarch64',
  runner: ['qemu-aarch64', '-L', '/usr/aarch64-linux-gnu'],
  outputDirectory: [AARCH64_TRIPLE, 'debug'],
};

/** Every target of the shared suites. */
export const TEST_TARGETS: readonly TestTarget[] = [HOST, AARCH64_UNDER_QEMU];

/** The environment that loads `agent` into a program of `target` started by hand (under qemu, for the program and not the emulator). */
export function preloading(target: TestTarget, agent: string): NodeJS.ProcessEnv {
  return target.emulator === undefined ? { LD_PRELOAD: agent } : { QEMU_SET_ENV: `LD_PRELOAD=${agent}` };
}
