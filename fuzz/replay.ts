/**
 * Runs one saved input through a property's check and says what happens:
 *
 *   node dist/fuzz/replay.js objects fuzz/artifacts/ts/objects-<hash>.bin [object|archive|image]
 *   node dist/fuzz/replay.js decode  fuzz/artifacts/ts/decode-<hash>.bin
 *
 * (`frames` failures are replayed from the stream, limit and cuts printed in
 * their .txt file.) Copy an input that found a bug into
 * fuzz/regressions/objects/ and the CI slice replays it from then on.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { checkDecode, checkObjectCase } from './properties.js';
import type { SeedKind } from './seeds.js';

const [property, file, kindArgument] = process.argv.slice(2);
if ((property !== 'objects' && property !== 'decode') || file === undefined) {
  console.error('usage: replay.js objects|decode <file> [object|archive|image]');
  process.exit(2);
}
const bytes = new Uint8Array(readFileSync(file));
try {
  if (property === 'decode') {
    console.log(JSON.stringify(checkDecode(bytes)));
  } else {
    const kind = (kindArgument ?? 'object') as SeedKind;
    const name = basename(file);
    console.log(checkObjectCase({ bytes, origin: file, seed: { name, kind, bytes, regions: [] } }, { slowMs: 2_000 }));
  }
} catch (error) {
  console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exitCode = 1;
}
