import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { selectProjects } from './projects.js';
import { formatTable, writeResults } from './report.js';
import { type CorpusResult, runProject } from './run-one.js';

/**
 * `npm run corpus`: every corpus project in turn (or those `IPBP_CORPUS`
 * names, comma-separated), each built, started under `ipbp run`, edited
 * twice and stopped. A project that fails is reported with its reason and
 * the run goes on. The full run's results replace corpus/results/latest.json;
 * a subset's go to the temp directory, so they never replace a full run's.
 */
const REPOSITORY = fileURLToPath(new URL('../../', import.meta.url));

async function main(): Promise<void> {
  const selection = process.env.IPBP_CORPUS;
  const projects = selectProjects(selection);
  const startedAt = Date.now();
  const results: CorpusResult[] = [];
  for (const project of projects) {
    process.stderr.write(`\n[corpus] ${project.name} (${project.kind})\n`);
    results.push(await runProject(project, (line) => process.stderr.write(`[corpus] ${project.name}: ${line}\n`)));
  }
  const seconds = Math.round((Date.now() - startedAt) / 1000);
  const subset = Boolean(selection?.trim());
  const path = subset ? join(tmpdir(), 'ipbp-corpus-results.json') : join(REPOSITORY, 'corpus', 'results', 'latest.json');
  await writeResults(path, results, { date: new Date().toISOString(), seconds, selection: subset ? selection : 'all' });
  const patched = results.filter((result) => result.outcome === 'patched').length;
  process.stdout.write(`\n${formatTable(results)}\n\n${patched} of ${results.length} patched in place; ${seconds} s; results in ${path}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`corpus: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
  process.exitCode = 1;
});
