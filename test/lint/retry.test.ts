import { describe, expect, it } from 'vitest';
import { lintObjects } from '../../tools/lint/index';
import { platform, type Doc } from './fixtures';

/** Lints the fixture platform with one retryStrategy on the library's copy-assets template. */
function lintRetry(retryStrategy: Doc): string[] {
  const docs = platform();
  const lib = docs[0]!;
  lib.spec.templates.find((t: Doc) => t.name === 'copy-assets').retryStrategy = retryStrategy;
  return lintObjects(docs).filter((p) => p.rule === 'retry-strategy').map((p) => `${p.path}: ${p.message}`);
}

const AT = 'spec.templates[copy-assets].retryStrategy';

describe('lint: retry-strategy', () => {
  it('accepts what the constructs generate: quoted exit codes, asInt(retries), a full backoff', () => {
    expect(lintRetry({
      limit: 5,
      retryPolicy: 'Always',
      expression: "(lastRetry.exitCode in ['75']) ? asInt(retries) < 5 : ((lastRetry.status == 'Error' && lastRetry.message matches '(?i)slow') && asInt(retries) < 2)",
      backoff: { duration: '10s', factor: 2, cap: '60s', maxDuration: '1800s' },
    })).toEqual([]);
  });

  it('accepts the official retry-conditional form (a simple tag inside, sprig calls)', () => {
    expect(lintRetry({
      limit: '10',
      expression: "asInt(lastRetry.exitCode) > 1 && lastRetry.status != \"Error\" && {{inputs.parameters.x}} == true && sprig.trim(lastRetry.message) != ''",
    })).toEqual([]);
  });

  const bad: [string, Doc, string][] = [
    ['a name the expression does not have', { limit: 2, expression: "lastRetry.phase == 'Failed'" },
      `${AT}.expression: reads "lastRetry.phase", which a retry expression does not have (only retries and lastRetry.exitCode|status|duration|message); it would be nil`],
    ['an exit code compared with a number', { limit: 2, expression: 'lastRetry.exitCode == 75' },
      `${AT}.expression: compares lastRetry.exitCode with a number, but Argo passes it as a string; use asInt(lastRetry.exitCode) (or quote the number for == and !=)`],
    ['retries compared without asInt', { limit: 2, expression: 'retries < 2' },
      `${AT}.expression: compares retries with a number, but Argo passes it as a string; use asInt(retries) (or quote the number for == and !=)`],
    ['exit codes listed as numbers', { limit: 2, expression: 'lastRetry.exitCode in [75, 76]' },
      `${AT}.expression: looks lastRetry.exitCode up in a list of numbers, but Argo passes it as a string; quote the exit codes`],
    ['an expression without limit', { expression: "lastRetry.status == 'Error'" },
      `${AT}.limit: an expression without limit retries until the expression is false; set limit`],
    ['a backoff without duration', { limit: 2, backoff: { factor: 2 } },
      `${AT}.backoff: a backoff without duration fails the step ("no base duration specified for retryStrategy"); set backoff.duration`],
    ['a fractional factor', { limit: 2, backoff: { duration: '5s', factor: 1.5 } },
      `${AT}.backoff.factor: factor "1.5" is not a whole number; Argo reads it as an integer and fails the step`],
    ['a cap that is not a duration', { limit: 2, backoff: { duration: '5s', cap: '5 minutes' } },
      `${AT}.backoff.cap: "5 minutes" is neither whole seconds nor a Go duration (e.g. "30s", "2m")`],
  ];
  it.each(bad)('reports %s', (_name, strategy, message) => {
    expect(lintRetry(strategy)).toEqual([message]);
  });
});
