import type { CorpusProject, ObserveContext } from './project.js';
import { httpGet, startEchoServer, tcpExchange } from './probes.js';

/**
 * The corpus: long-running programs published on crates.io by other people,
 * pinned to one version each. Every edit is a literal replacement in code
 * that runs per request or per tick (never in `main` or an outermost loop,
 * whose new code would never run), and every expectation is checked from
 * outside the process: an HTTP response, a TCP reply, what the program
 * printed or drew.
 *
 * Chosen for small dependency trees (a cold build of all of them takes a
 * few minutes on two cores) and for variety: blocking and async servers,
 * thread pools (tiny_http, rayon), tokio, terminal UIs that redraw on a
 * timer, and libraries made workspace members.
 */

/** What a proxy shows: it forwards one echo exchange, and logs the connection. */
async function proxyOnce(context: ObserveContext): Promise<string> {
  await tcpExchange(context.port, 'ping\n', (reply) => reply.includes('ping\n'));
  return context.output.since(context.from);
}

/** A redis `SET` in RESP, answered by one simple-string line. */
const REDIS_SET = '*3\r\n$3\r\nSET\r\n$6\r\ncorpus\r\n$5\r\nvalue\r\n';

/** An OpenSSL 3 configuration that loads the legacy provider beside the default one. */
const OPENSSL_WITH_LEGACY_PROVIDER = `openssl_conf = openssl_init

[openssl_init]
providers = provider_sect

[provider_sect]
default = default_sect
legacy = legacy_sect

[default_sect]
activate = 1

[legacy_sect]
activate = 1
`;

/** The programs, each as a debug build: what `ipbp run` builds unless told otherwise. */
const DEBUG_BUILDS: readonly CorpusProject[] = [
  {
    name: 'tiny-serve',
    kind: 'HTTP static file server (tiny_http)',
    app: { name: 'tiny-serve', version: '0.1.1' },
    // The request handling lives in livid-server, the app is its 40-line main.
    members: [{ name: 'livid-server', version: '0.2.2' }],
    ipbpArgs: ['-p', 'tiny-serve'],
    appArgs: (context) => [String(context.port), `${context.directory}/www`],
    terminal: false,
    files: { 'www/hello.txt': 'hello from the corpus\n' },
    observe: (context) => httpGet(context.port, '/hello.txt'),
    before: /^200 [^\n]*\n(?:.*\n)*content-type: text\/plain; charset=utf8\n/,
    edits: [
      {
        // Runs for every file served: the Content-Type of a .txt.
        file: 'livid-server/src/server.rs',
        from: '"txt" => "text/plain; charset=utf8",',
        to: '"txt" => "text/plain; charset=utf8; edit=first",',
        expect: /content-type: text\/plain; charset=utf8; edit=first\n/,
      },
      { file: 'livid-server/src/server.rs', from: 'edit=first', to: 'edit=warm', expect: /content-type: text\/plain; charset=utf8; edit=warm\n/ },
    ],
  },
  {
    name: 'devserver',
    kind: 'HTTP dev server with a file watcher (notify, live reload)',
    app: { name: 'devserver', version: '0.4.2' },
    // The server (a thread per connection, the notify watcher, TLS sniffing) is devserver_lib.
    members: [{ name: 'devserver_lib', version: '0.4.2' }],
    ipbpArgs: ['-p', 'devserver'],
    appArgs: (context) => ['--address', `127.0.0.1:${context.port}`, '--path', `${context.directory}/www`],
    // Its built-in TLS identity is a PKCS#12 file encrypted with RC2-40,
    // which OpenSSL 3 loads only with its legacy provider: without it the
    // program panics at start, before ipbp has anything to do.
    env: (context) => ({ OPENSSL_CONF: `${context.directory}/openssl-legacy.cnf` }),
    terminal: false,
    files: { 'www/index.html': '<p>corpus</p>\n', 'openssl-legacy.cnf': OPENSSL_WITH_LEGACY_PROVIDER },
    observe: (context) => httpGet(context.port, '/missing.txt'),
    before: /^404 NOT FOUND\n/,
    edits: [
      {
        // The answer to every request for a missing file.
        file: 'devserver_lib/src/lib.rs',
        from: 'HTTP/1.1 404 NOT FOUND\\r\\n\\r\\n',
        to: 'HTTP/1.1 404 NOT FOUND\\r\\nX-Corpus-Edit: first\\r\\n\\r\\n',
        expect: /^404 NOT FOUND\n(?:.*\n)*x-corpus-edit: first\n/,
      },
      { file: 'devserver_lib/src/lib.rs', from: 'X-Corpus-Edit: first', to: 'X-Corpus-Edit: warm', expect: /^404 NOT FOUND\n(?:.*\n)*x-corpus-edit: warm\n/ },
    ],
  },
  {
    name: 'mini-redis',
    kind: 'daemon: redis server (tokio, tracing)',
    app: { name: 'mini-redis', version: '0.4.1' },
    ipbpArgs: ['--bin', 'mini-redis-server'],
    appArgs: (context) => ['--port', String(context.port)],
    terminal: false,
    observe: (context) => tcpExchange(context.port, REDIS_SET, (reply) => reply.endsWith('\r\n')),
    before: /^\+OK\r\n$/,
    edits: [
      {
        // `Set::apply`, an async fn with a tracing span, runs for every SET.
        file: 'src/cmd/set.rs',
        from: 'Frame::Simple("OK".to_string())',
        to: 'Frame::Simple("OK first".to_string())',
        expect: /^\+OK first\r\n$/,
      },
      { file: 'src/cmd/set.rs', from: '"OK first"', to: '"OK warm"', expect: /^\+OK warm\r\n$/ },
    ],
  },
  {
    name: 'chatting',
    kind: 'chat server (tokio, a task per client)',
    app: { name: 'chatting', version: '0.2.0' },
    ipbpArgs: [],
    appArgs: (context) => [String(context.port)],
    terminal: false,
    // A client that connects is greeted first, before it says anything.
    observe: (context) => tcpExchange(context.port, '', (reply) => reply.includes('\n')),
    before: /^\[SERVER\] Welcome to Mitsuha's chat room\.\n/,
    edits: [
      {
        // `handle_connection`, the async fn each client's task runs.
        file: 'src/lib.rs',
        from: '"Welcome to Mitsuha\'s chat room."',
        to: '"Welcome to the first edit."',
        expect: /^\[SERVER\] Welcome to the first edit\.\n/,
      },
      { file: 'src/lib.rs', from: '"Welcome to the first edit."', to: '"Welcome to the warm edit."', expect: /^\[SERVER\] Welcome to the warm edit\.\n/ },
    ],
  },
  {
    name: 'tcpproxy',
    kind: 'TCP proxy (tokio, a task per connection)',
    app: { name: 'tcpproxy', version: '0.4.1' },
    ipbpArgs: [],
    appArgs: (context) => ['-b', '127.0.0.1', '-l', String(context.port), `127.0.0.1:${context.upstreamPort}`],
    terminal: false,
    startHelper: (context) => startEchoServer(context.upstreamPort),
    observe: proxyOnce,
    before: /New connection from 127\.0\.0\.1/,
    edits: [
      {
        // The task spawned for each accepted connection.
        file: 'src/main.rs',
        from: '"New connection from {}"',
        to: '"Accepted connection from {}"',
        expect: /Accepted connection from 127\.0\.0\.1/,
      },
      { file: 'src/main.rs', from: '"Accepted connection from {}"', to: '"Warm connection from {}"', expect: /Warm connection from 127\.0\.0\.1/ },
    ],
  },
  {
    name: 'easyproxy',
    kind: 'TCP proxy (tokio, env_logger)',
    app: { name: 'easyproxy', version: '0.1.2' },
    ipbpArgs: [],
    appArgs: (context) => [`127.0.0.1:${context.port}`, `127.0.0.1:${context.upstreamPort}`],
    terminal: false,
    startHelper: (context) => startEchoServer(context.upstreamPort),
    observe: proxyOnce,
    before: /New client from 127\.0\.0\.1/,
    edits: [
      {
        // Inside the accept loop of `proxy_tcp`, an async fn suspended at
        // `accept().await` between connections: the edit must reach the
        // future that is already running.
        file: 'src/lib.rs',
        from: '"New client from {}"',
        to: '"First client from {}"',
        expect: /First client from 127\.0\.0\.1/,
      },
      { file: 'src/lib.rs', from: '"First client from {}"', to: '"Warm client from {}"', expect: /Warm client from 127\.0\.0\.1/ },
    ],
  },
  {
    name: 'rusty-life',
    kind: "game loop: Conway's Game of Life, a frame per tick",
    app: { name: 'rusty-life', version: '1.0.0' },
    ipbpArgs: [],
    appArgs: () => ['--fps=10'],
    // It sizes its grid from the terminal.
    terminal: true,
    observe: async (context) => context.output.since(context.from),
    before: /\|[ X]*X[ X]*\|/,
    edits: [
      // How a live cell is drawn, called for every cell of every frame.
      { file: 'src/grid.rs', from: "'X'", to: "'#'", expect: /\|[ #]*#[ #]*\|/ },
      { file: 'src/grid.rs', from: "'#'", to: "'@'", expect: /\|[ @]*@[ @]*\|/ },
    ],
  },
  {
    name: 'gameoflife',
    kind: 'game loop: Game of Life on rayon and crossterm',
    app: { name: 'gameoflife', version: '1.2.0' },
    ipbpArgs: [],
    appArgs: () => ['100'],
    terminal: true,
    observe: async (context) => context.output.since(context.from),
    before: /█/,
    edits: [
      // A cell's symbol, called from rayon's worker threads for every frame.
      { file: 'src/gamecell.rs', from: "'█'", to: "'#'", expect: /#/ },
      { file: 'src/gamecell.rs', from: "'#'", to: "'@'", expect: /@/ },
    ],
  },
  {
    name: 'tock',
    kind: 'TUI: digital clock (raw terminal, signal handlers)',
    app: { name: 'tock', version: '0.1.0' },
    ipbpArgs: [],
    appArgs: () => ['-s', '-m'],
    terminal: true,
    observe: async (context) => context.output.since(context.from),
    before: /\d{4}/,
    edits: [
      // `Clock::update` paints the segments that changed, once a second.
      { file: 'src/view.rs', from: 'goto, " ", width', to: 'goto, "%", width', expect: /%/ },
      { file: 'src/view.rs', from: 'goto, "%", width', to: 'goto, "&", width', expect: /&/ },
    ],
  },
  {
    name: 'clock-tui',
    kind: 'TUI: clock on tui-rs and crossterm',
    app: { name: 'clock-tui', version: '0.5.0' },
    ipbpArgs: ['--bin', 'tclock'],
    appArgs: () => [],
    terminal: true,
    observe: async (context) => context.output.since(context.from),
    before: /\d{4}-\d{2}-\d{2}/,
    edits: [
      // The clock widget's `render`, called for every frame; letters of
      // the two markers differ in case, so a redraw that skips unchanged
      // cells still draws each of them.
      { file: 'src/app/modes/clock.rs', from: '"%Y-%m-%d"', to: '"firstedit %Y-%m-%d"', expect: /firstedit/ },
      { file: 'src/app/modes/clock.rs', from: '"firstedit %Y-%m-%d"', to: '"WARMEDIT %Y-%m-%d"', expect: /WARMEDIT/ },
    ],
  },
];

/**
 * The same program, edits and observation, built with `--release`: the
 * optimizer inlines across functions and crates, merges identical code,
 * and the packages' own release profiles add LTO or stripping. Which of
 * these ipbp copes with, and what it says when it cannot, is part of what
 * the corpus measures.
 */
function releaseBuildOf(name: string): CorpusProject {
  const project = DEBUG_BUILDS.find((candidate) => candidate.name === name);
  if (!project) throw new Error(`no corpus project ${name}`);
  return { ...project, name: `${name}-release`, release: true };
}

export const PROJECTS: readonly CorpusProject[] = [
  ...DEBUG_BUILDS,
  // The edited function is inlined into the server's accept loop, which never returns.
  releaseBuildOf('tiny-serve'),
  // tokio apps: several local copies of the same drop glue in the program.
  releaseBuildOf('mini-redis'),
  // Its release profile has `lto = true`.
  releaseBuildOf('tock'),
  // Its release profile has `strip = true`.
  releaseBuildOf('gameoflife'),
  releaseBuildOf('rusty-life'),
];

/** The projects `IPBP_CORPUS` names (comma-separated), or all of them. */
export function selectProjects(selection: string | undefined): CorpusProject[] {
  if (!selection?.trim()) return [...PROJECTS];
  const names = selection.split(',').map((name) => name.trim()).filter(Boolean);
  const unknown = names.filter((name) => !PROJECTS.some((project) => project.name === name));
  if (unknown.length > 0) throw new Error(`unknown corpus project(s): ${unknown.join(', ')}; known: ${PROJECTS.map((project) => project.name).join(', ')}`);
  return PROJECTS.filter((project) => names.includes(project.name));
}
