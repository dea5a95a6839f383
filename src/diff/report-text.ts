import type { ChangeGroup, DiffReport } from './compare.js';

/** The human summary of a diff, grouped by what changed, with demangled names. */
export function formatDiffReport(report: DiffReport): string {
  const lines: string[] = [];
  appendGroup(lines, 'function', report.functions);
  appendGroup(lines, 'data', report.data);
  if (lines.length === 0) return 'no changes\n';
  return `${lines.join('\n')}\n`;
}

function appendGroup(lines: string[], noun: string, group: ChangeGroup): void {
  const sections: Array<[string, ChangeGroup['changed']]> = [
    ['changed', group.changed],
    ['added', group.added],
    ['removed', group.removed],
  ];
  for (const [verb, entries] of sections) {
    if (entries.length === 0) continue;
    lines.push(`${entries.length} ${noun}${entries.length === 1 ? '' : 's'} ${verb}:`);
    for (const entry of entries) lines.push(`  ${entry.name}`);
  }
}
