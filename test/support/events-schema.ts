import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { REPOSITORY } from './repository.js';

/** `schema/events.schema.json`, the one description of `--events` that editors build on. */
export const EVENTS_SCHEMA = JSON.parse(readFileSync(join(REPOSITORY, 'schema', 'events.schema.json'), 'utf8')) as object;

const validate = new Ajv2020({ allErrors: true, strict: true }).compile(EVENTS_SCHEMA);

/** Each event that does not match the schema, with what is wrong with it. */
export function eventsOffSchema(events: readonly unknown[]): string[] {
  const problems: string[] = [];
  for (const event of events) {
    if (validate(event)) continue;
    const errors = (validate.errors ?? []).map((error) => `${error.instancePath || '/'} ${error.message ?? ''}`).join('; ');
    problems.push(`${JSON.stringify(event).slice(0, 300)}: ${errors}`);
  }
  return problems;
}
