import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The text of one `## ` section of README.md, so tests can run the examples users read. */
export function readmeSection(heading: string): string {
  const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
  const start = readme.indexOf(`\n## ${heading}\n`);
  if (start < 0) throw new Error(`README.md has no section "## ${heading}"`);
  const next = readme.indexOf('\n## ', start + 1);
  return readme.slice(start, next < 0 ? undefined : next);
}
