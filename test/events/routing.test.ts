/**
 * The routing vocabulary unit by unit: the regular expressions are run here (the subset used
 * is the same in RE2 and JavaScript) against route keys as the sensors compute them, at the
 * edges where a looser or stricter pattern would route a payload wrongly.
 */
import { describe, expect, it } from 'vitest';
import {
  BARE_S3_REFERENCE, CHAIN_ROUTE_KEY, exactly, goString, INGRESS_INPUT_KEY, INGRESS_PAYLOAD_ID_KEY, INGRESS_REFERENCE_KEY, INGRESS_REPLACE_KEY,
  INGRESS_ROUTE_KEY, INGRESS_URL_KEY, namesWorkflow, oneOf, runNameFromUpstream, runNameTemplate, validChainKey, validIngressKey,
} from '../../constructs/events/routing';
import { getPath, rawJson } from '../../tools/simulator/gjson';

const matches = (pattern: string, text: string) => new RegExp(pattern).test(text);

describe('route keys read every payload form', () => {
  const key = (body: unknown) => rawJson(getPath({ body }, INGRESS_ROUTE_KEY));
  it.each([
    [{ process: { workflow: 'cog' } }, '["cog"]'],
    [{ process: [{ workflow: 'cog' }, { workflow: 'publish' }] }, '["cog"]'],
    [{ process: [[{ workflow: 'a' }, { workflow: 'b' }]] }, '[["a","b"]]'],
    [{ url: 's3://b/k', process: [{ workflow: 'cog' }] }, '["s3://b/k","cog"]'],
    [{ Message: JSON.stringify({ process: [{ workflow: 'cog' }] }) }, '["cog"]'],
    [{ Message: JSON.stringify({ url: 's3://b/k' }) }, '["s3://b/k"]'],
    [{ features: [] }, '[]'],
  ])('%j -> %s', (body, expected) => {
    expect(key(body)).toBe(expected);
  });

  it('reads url, input, payload id and replace of raw and SNS-wrapped payloads', () => {
    const inner = { id: 'p1', url: 's3://b/k', process: [{ workflow: 'cog', replace: true }] };
    for (const body of [inner, { Message: JSON.stringify(inner) }]) {
      expect(rawJson(getPath({ body }, INGRESS_URL_KEY))).toBe('"s3://b/k"');
      expect(rawJson(getPath({ body }, INGRESS_PAYLOAD_ID_KEY))).toBe('"p1"');
      expect(rawJson(getPath({ body }, INGRESS_REPLACE_KEY))).toBe('true');
    }
    expect(rawJson(getPath({ body: { process: { workflow: 'x', replace: false } } }, INGRESS_REPLACE_KEY))).toBe('false');
    expect(JSON.parse(rawJson(getPath({ body: inner }, INGRESS_INPUT_KEY)))).toEqual(inner);
    expect(rawJson(getPath({ body: { Message: 'text' } }, INGRESS_INPUT_KEY))).toBe('"text"');
  });

  it('reduces a bare reference to exactly its url, and any process to an extra member', () => {
    const ref = (body: unknown) => rawJson(getPath({ body }, INGRESS_REFERENCE_KEY));
    expect(ref({ url: 's3://b/k' })).toBe('{"url":"s3://b/k"}');
    expect(ref({ Message: JSON.stringify({ url: 's3://b/k' }) })).toBe('{"sns-url":"s3://b/k"}');
    expect(ref({ url: 's3://b/k', process: 'junk' })).toBe('{"url":"s3://b/k","process":"junk"}');
    for (const yes of ['{"url":"s3://b/k"}', '{"sns-url":"s3://bucket/a/b.json"}']) expect(matches(BARE_S3_REFERENCE, yes)).toBe(true);
    for (const no of ['{"url":"s3://b/"}', '{"url":"s3:///k"}', '{"url":"https://b/k"}', '{"url":"s3://b/k","process":[]}', ' {"url":"s3://b/k"}', '{"xurl":"s3://b/k"}']) {
      expect(matches(BARE_S3_REFERENCE, no)).toBe(false);
    }
  });

  it('keys a run.finished event by the length and names of next', () => {
    const key = (body: unknown) => rawJson(getPath({ body }, CHAIN_ROUTE_KEY));
    expect(key({ next: [] })).toBe('[0]');
    expect(key({})).toBe('[]');
    expect(key({ next: [{ workflow: 'a' }, { workflow: 'b' }] })).toBe('[2,"a"]');
    expect(key({ next: [[{ workflow: 'a' }, { workflow: 'b' }]] })).toBe('[1,["a","b"]]');
  });
});

describe('route patterns', () => {
  it('namesWorkflow matches the name alone or in a parallel group, never a longer name', () => {
    const p = namesWorkflow('cog');
    for (const yes of ['["cog"]', '[["a","cog"]]', '[["cog","b"]]', '["s3://b/k","cog"]', '[1,"cog"]']) expect(matches(p, yes)).toBe(true);
    for (const no of ['["cogs"]', '["xcog"]', '["co"]', '[]', 'cog', '"cog"']) expect(matches(p, no)).toBe(false);
  });

  it('validIngressKey accepts exactly one known name or one group of known names, after an optional s3/https url', () => {
    const p = validIngressKey(['publish', 'cog']);
    for (const yes of ['["cog"]', '["publish"]', '[["cog","publish"]]', '[["cog"]]', '["s3://b/k","cog"]', '["https://h/k","publish"]']) expect(matches(p, yes)).toBe(true);
    for (const no of ['[]', '["x"]', '["cog","publish"]', '[["cog","x"]]', '["ftp://h/k","cog"]', '["s3://b/k"]', '[["cog",]]', ' ["cog"]', '["cog"] ', '[[]]', '["cogs"]']) {
      expect(matches(p, no)).toBe(false);
    }
  });

  it('is the same text whatever order the workflows come in (dist/ stays byte-stable)', () => {
    expect(validIngressKey(['publish', 'cog'])).toBe(validIngressKey(['cog', 'publish']));
    expect(validChainKey(['b', 'a'])).toBe('^\\[(?:0?|[1-9][0-9]*,(?:"(?:a|b)"|\\["(?:a|b)"(?:,"(?:a|b)")*\\]))\\]$');
  });

  it('validChainKey accepts no next link, or a count and known names', () => {
    const p = validChainKey(['cog']);
    for (const yes of ['[]', '[0]', '[1,"cog"]', '[12,["cog","cog"]]']) expect(matches(p, yes)).toBe(true);
    for (const no of ['[1]', '[0,"cog"]', '[01,"cog"]', '[1,"x"]', '[1,["cog","x"]]', '[-1,"cog"]', ' []']) expect(matches(p, no)).toBe(false);
  });

  it('exactly and oneOf match whole literal strings, metacharacters included', () => {
    expect(matches(exactly('a.b+'), 'a.b+')).toBe(true);
    for (const no of ['axb+', 'a.bb', 'xa.b+', 'a.b+x']) expect(matches(exactly('a.b+'), no)).toBe(false);
    expect(oneOf(['b', 'a|c'])).toBe('^(?:a\\|c|b)$');
    for (const yes of ['b', 'a|c']) expect(matches(oneOf(['b', 'a|c']), yes)).toBe(true);
    for (const no of ['a', 'c', 'bb', '']) expect(matches(oneOf(['b', 'a|c']), no)).toBe(false);
  });

  it('escapes every regular-expression metacharacter in names', () => {
    const name = '.*+?^${}()|[]\\';
    expect(matches(exactly(name), name)).toBe(true);
    expect(matches(namesWorkflow(name), `["${name}"]`)).toBe(true);
  });
});

describe('run names', () => {
  it('are a prefix cut to 46 characters without trailing dashes, and 16 hex of a hash', () => {
    expect(runNameTemplate('cog', '.Input.x')).toBe('cog-{{ .Input.x | sha256sum | trunc 16 }}');
    expect(runNameTemplate('a'.repeat(50), 'p')).toBe(`${'a'.repeat(46)}-{{ p | sha256sum | trunc 16 }}`);
    expect(runNameTemplate(`${'a'.repeat(44)}---b`, 'p')).toBe(`${'a'.repeat(44)}-{{ p | sha256sum | trunc 16 }}`);
  });

  it('from an upstream run fail the trigger when the event has no uid', () => {
    expect(runNameFromUpstream('publish', 'cog-then-publish')).toBe(
      '{{ if not .Input.body.uid }}{{ fail "run.finished event has no uid" }}{{ end }}publish-{{ print .Input.body.uid "/cog-then-publish" | sha256sum | trunc 16 }}',
    );
    expect(goString('a"b\\')).toBe('"a\\"b\\\\"');
  });
});
