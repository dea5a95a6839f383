import { fileURLToPath } from 'node:url';

const ROOT_URL = new URL('../../../', import.meta.url);

/** The repository's root: this module runs from `dist/test/support/`. */
export const REPOSITORY = fileURLToPath(ROOT_URL);

/** A file or directory (ending in `/`) of the repository, as a URL. */
export function repositoryUrl(path: string): URL {
  return new URL(path, ROOT_URL);
}
