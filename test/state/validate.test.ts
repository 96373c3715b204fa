/**
 * The API's input checks (state/validate.ts) at their boundaries: each length limit at and
 * one past it, each refusal naming its field with the message a caller acts on, every
 * accepted field carried into what is recorded. The HTTP side (the same checks through the
 * routes, against the database) is test/state/edges.test.ts and validate-fuzz.test.ts.
 */
import { describe, expect, it } from 'vitest';
import {
  encodeCursor, InputError, type LifecycleEvent, MAX_CLOCK_SKEW_MS, MAX_PAYLOAD_ID_BYTES, MAX_RUN_NAME, MAX_WORKFLOW_NAME, parseClaim, parseEvent,
  parsePage, parseRunFilter, pathName, payloadIdBytes, queryStrings, storableText, textProblem,
} from '../../state/validate';

/** The InputError `f` throws, as [status, field, message]. */
function refusal(f: () => unknown): [number, string, string] {
  try {
    f();
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    expect(e.name).toBe('InputError');
    return [e.status, e.field, e.message];
  }
  throw new Error('accepted');
}

const NOW = Date.parse('2024-05-01T12:00:00Z');
const running = (extra: Record<string, unknown> = {}) => ({ type: 'running', workflow: 'wf', run: 'wf-1', phase: 'Running', ...extra });
const completed = (extra: Record<string, unknown> = {}) => ({ type: 'completed', workflow: 'wf', run: 'wf-1', phase: 'Succeeded', ...extra });
const event = (body: unknown) => parseEvent(body, NOW) as LifecycleEvent;

describe('text PostgreSQL can store', () => {
  it('refuses NUL and unpaired surrogates (either half), keeps pairs and other text', () => {
    expect(textProblem('a\u0000b')).toBe('contains a NUL character (\\u0000), which text cannot hold');
    for (const lone of ['\ud800', 'a\ud800b', '\udfff', 'a\udc00', '\udc00\ud800']) {
      expect(textProblem(lone)).toBe('contains an unpaired UTF-16 surrogate, which is not Unicode text');
    }
    for (const fine of ['', 'plain', '\u{1F600}', 'é\u2028"\\']) expect(textProblem(fine)).toBeUndefined();
    expect(refusal(() => storableText('message', 'x\u0000'))).toEqual([400, 'message', 'message contains a NUL character (\\u0000), which text cannot hold']);
    expect(storableText('message', 'ok')).toBe('ok');
    expect(refusal(() => pathName('run', 'a\u0000b'))).toEqual([400, 'run', 'run contains a NUL character (\\u0000), which text cannot hold']);
    expect(pathName('run', 'wf-1')).toBe('wf-1');
  });
});

describe('lifecycle events', () => {
  it('carries every field it accepts into the event', () => {
    const body = {
      type: 'running', workflow: 'wf', run: 'wf-1', uid: 'u-1', payloadId: 'p-1', parentRun: 'up-1', phase: 'Pending',
      startedAt: '2024-05-01T11:00:00Z', finishedAt: '', message: 'm', failures: '', input: 's3://in', output: 's3://out', deadlineSeconds: 60,
    };
    expect(event(body)).toEqual(body);
    expect(event(running())).toEqual({
      type: 'running', workflow: 'wf', run: 'wf-1', uid: '', payloadId: '', parentRun: '', phase: 'Running',
      startedAt: '', finishedAt: '', message: '', failures: '', input: '', output: '', deadlineSeconds: null,
    });
    expect(event(running({ uid: null, deadlineSeconds: null }))).toMatchObject({ uid: '', deadlineSeconds: null });
  });

  it('refuses a body that is not a JSON object', () => {
    for (const body of [null, 'text', 1, [running()]]) expect(refusal(() => event(body))).toEqual([400, 'body', 'the body must be a JSON object']);
  });

  it('names required, mistyped, empty and unknown fields', () => {
    expect(refusal(() => event({ workflow: 'wf' }))).toEqual([400, 'type', 'type is required']);
    expect(refusal(() => event(running({ run: undefined })))).toEqual([400, 'run', 'run is required']);
    expect(refusal(() => event(running({ workflow: null })))).toEqual([400, 'workflow', 'workflow is required']);
    expect(refusal(() => event(running({ run: 7 })))).toEqual([400, 'run', 'run must be a string, got number']);
    expect(refusal(() => event(running({ workflow: '' })))).toEqual([400, 'workflow', 'workflow must not be empty']);
    expect(refusal(() => event(running({ colour: 'red' })))).toEqual([400, 'colour',
      'unknown field "colour"; expected only type, workflow, run, uid, payloadId, parentRun, phase, startedAt, finishedAt, message, failures, input, output, deadlineSeconds']);
    expect(refusal(() => event({ type: 'stopped' }))).toEqual([400, 'type', 'type must be one of running, completed, invalid (got "stopped")']);
  });

  it('matches the phase to the type', () => {
    for (const phase of ['Pending', 'Running']) expect(event(running({ phase })).phase).toBe(phase);
    for (const phase of ['Succeeded', 'Failed', 'Error']) expect(event(completed({ phase })).phase).toBe(phase);
    expect(refusal(() => event(running({ phase: 'Skipped' })))).toEqual([400, 'phase', 'phase must be one of Pending, Running, Succeeded, Failed, Error (got "Skipped")']);
    expect(refusal(() => event(running({ phase: undefined })))).toEqual([400, 'phase', 'phase is required']);
    for (const phase of ['Succeeded', 'Failed', 'Error']) {
      expect(refusal(() => event(running({ phase })))).toEqual([400, 'phase', `a running event needs phase Pending or Running (got "${phase}")`]);
    }
    for (const phase of ['Pending', 'Running']) {
      expect(refusal(() => event(completed({ phase })))).toEqual([400, 'phase', `a completed event needs phase Succeeded, Failed or Error (got "${phase}")`]);
    }
  });

  it('limits each field at its length, in characters', () => {
    const limits: [string, number, (v: string) => Record<string, unknown>][] = [
      ['workflow', MAX_WORKFLOW_NAME, (v) => running({ workflow: v })],
      ['run', MAX_RUN_NAME, (v) => running({ run: v })],
      ['parentRun', MAX_RUN_NAME, (v) => running({ parentRun: v })],
      ['uid', 64, (v) => running({ uid: v })],
      ['message', 64 * 1024, (v) => running({ message: v })],
      ['output', 8 * 1024, (v) => running({ output: v })],
      ['input', 512 * 1024, (v) => running({ input: v })],
      ['payloadId', 2 * 1024, (v) => running({ payloadId: v })],
      ['failures', 512 * 1024, (v) => completed({ phase: 'Failed', failures: JSON.stringify(v.slice(2)) })],
      ['source', 253, (v) => ({ type: 'invalid', input: '{}', source: v })],
      ['detail', 64 * 1024, (v) => ({ type: 'invalid', input: '{}', detail: v })],
    ];
    for (const [field, max, body] of limits) {
      expect(() => event(body('a'.repeat(max))), field).not.toThrow();
      expect(refusal(() => event(body('a'.repeat(max + 1))))).toEqual([400, field, `${field} is longer than ${max} characters`]);
    }
    expect(MAX_RUN_NAME).toBe(63);
    expect(MAX_WORKFLOW_NAME).toBe(253);
    expect(refusal(() => event(running({ type: 'r'.repeat(17) })))).toEqual([400, 'type', 'type is longer than 16 characters']);
    expect(refusal(() => event(running({ phase: 'P'.repeat(17) })))).toEqual([400, 'phase', 'phase is longer than 16 characters']);
    expect(refusal(() => event(running({ startedAt: '2'.repeat(65) })))).toEqual([400, 'startedAt', 'startedAt is longer than 64 characters']);
    expect(refusal(() => event(completed({ finishedAt: '2'.repeat(65) })))).toEqual([400, 'finishedAt', 'finishedAt is longer than 64 characters']);
  });

  it('limits payload ids to 2048 UTF-8 bytes, whatever their characters', () => {
    expect(MAX_PAYLOAD_ID_BYTES).toBe(2048);
    expect(event(running({ payloadId: 'é'.repeat(1024) })).payloadId).toBe('é'.repeat(1024));
    expect(refusal(() => event(running({ payloadId: `${'é'.repeat(1024)}a` })))).toEqual([400, 'payloadId', 'payloadId is longer than 2048 bytes (UTF-8)']);
    expect(payloadIdBytes('input', 'a'.repeat(2048))).toBe('a'.repeat(2048));
    expect(refusal(() => payloadIdBytes('input', 'a'.repeat(2049)))).toEqual([400, 'input', 'the payload id read from input is longer than 2048 bytes (UTF-8)']);
  });

  it('refuses text that cannot be stored in any string field, raw or escaped in failures (keys too)', () => {
    expect(refusal(() => event(running({ message: 'a\u0000b' })))).toEqual([400, 'message', 'message contains a NUL character (\\u0000), which text cannot hold']);
    expect(refusal(() => event(running({ uid: '\ud800' })))[1]).toBe('uid');
    const failed = (failures: string) => event(completed({ phase: 'Failed', failures }));
    for (const failures of ['[{"message":"a\\u0000"}]', '[{"a\\ud800":"x"}]', '[[["\\udfff"]]]', '{"k":{"deep":"\\u0000"}}', '"[\\"\\\\u0000\\"]"']) {
      expect(refusal(() => failed(failures)), failures).toEqual([400, 'failures', expect.stringMatching(/^failures contains /)]);
    }
  });

  it('reads failures as Argo hands them over: the JSON list, or a JSON string holding it; refuses other text', () => {
    const list = '[{"displayName":"convert","message":"exit code 1"}]';
    expect(event(completed({ phase: 'Failed', failures: list })).failures).toBe(list);
    expect(event(completed({ phase: 'Failed', failures: JSON.stringify(list) })).failures).toBe(JSON.stringify(list));
    expect(event(completed({ phase: 'Failed', failures: '"not a list"' })).failures).toBe('"not a list"');
    expect(event(completed({ phase: 'Failed', failures: '' })).failures).toBe('');
    // Any JSON is read through: nulls, numbers and booleans hold no text to refuse.
    expect(event(completed({ phase: 'Failed', failures: '[null,1,true,{"a":null}]' })).failures).toBe('[null,1,true,{"a":null}]');
    // A message that quotes an escape as text (a backslash, then u0000) is storable text: it is not read twice.
    const quoted = JSON.stringify(['"\\u0000"']);
    expect(event(completed({ phase: 'Failed', failures: quoted })).failures).toBe(quoted);
    expect(refusal(() => event(completed({ phase: 'Failed', failures: '[{' })))).toEqual([400, 'failures', 'failures must be the workflow.failures JSON text, or empty']);
  });

  it('takes timestamps PostgreSQL stores, up to an hour ahead of this clock', () => {
    expect(MAX_CLOCK_SKEW_MS).toBe(3_600_000);
    const at = (ms: number) => new Date(ms).toISOString();
    expect(event(running({ startedAt: at(NOW + MAX_CLOCK_SKEW_MS) })).startedAt).toBe(at(NOW + MAX_CLOCK_SKEW_MS));
    expect(refusal(() => event(running({ startedAt: at(NOW + MAX_CLOCK_SKEW_MS + 1) })))).toEqual([400, 'startedAt',
      `startedAt ${at(NOW + MAX_CLOCK_SKEW_MS + 1)} is in the future (this server's clock says 2024-05-01T12:00:00.000Z); send the time the workflow reported`]);
    expect(refusal(() => event(completed({ finishedAt: '2024-02-30T00:00:00Z' })))).toEqual([400, 'finishedAt', expect.stringMatching(/^finishedAt has day 30/)]);
    expect(refusal(() => event(running({ startedAt: 'yesterday' })))).toEqual([400, 'startedAt', 'startedAt is not an RFC 3339 timestamp such as 2024-05-01T12:00:00Z']);
    // The clock is the server's: a default `now` is the present.
    expect(() => parseEvent(running({ startedAt: new Date(Date.now() + MAX_CLOCK_SKEW_MS - 60_000).toISOString() }))).not.toThrow();
    expect(() => parseEvent(running({ startedAt: new Date(Date.now() + MAX_CLOCK_SKEW_MS + 60_000).toISOString() }))).toThrow(InputError);
  });

  it('takes deadlineSeconds on running events only, whole seconds from 1 to ten years', () => {
    const max = 10 * 366 * 24 * 3600;
    expect(event(running({ deadlineSeconds: 1 })).deadlineSeconds).toBe(1);
    expect(event(running({ deadlineSeconds: max })).deadlineSeconds).toBe(max);
    const message = (v: unknown) => `deadlineSeconds must be a whole number of seconds from 1 to ${max} (the workflow's activeDeadlineSeconds), or absent; got ${JSON.stringify(v)}`;
    for (const v of [0, -1, max + 1, 1.5, '60', true]) expect(refusal(() => event(running({ deadlineSeconds: v })))).toEqual([400, 'deadlineSeconds', message(v)]);
    expect(refusal(() => event(completed({ deadlineSeconds: 60 })))).toEqual([400, 'deadlineSeconds', 'deadlineSeconds belongs to running events; leave it out of completed events']);
    expect(event(completed({ deadlineSeconds: null })).deadlineSeconds).toBeNull();
  });
});

describe('INVALID reports from ingress', () => {
  it('carries its own fields, requires the payload text and nothing else', () => {
    const body = { type: 'invalid', source: 'sqs', message: 'unknown workflow', input: '{"process":[]}', detail: 'd', workflow: 'nope', run: 'r', payloadId: 'p' };
    expect(event(body)).toEqual(body);
    expect(event({ type: 'invalid', input: 'x' })).toEqual({ type: 'invalid', source: '', message: '', input: 'x', detail: '', workflow: '', run: '', payloadId: '' });
    expect(refusal(() => event({ type: 'invalid' }))).toEqual([400, 'input', 'input is required']);
    expect(refusal(() => event({ type: 'invalid', input: 'x', phase: 'Failed' }))).toEqual([400, 'phase',
      'unknown field "phase"; expected only type, source, message, input, detail, workflow, run, payloadId']);
    // Its workflow need not be a real one, but it is still a name: the same length limit.
    expect(refusal(() => event({ type: 'invalid', input: 'x', run: 'r'.repeat(64) }))).toEqual([400, 'run', 'run is longer than 63 characters']);
  });
});

describe('claims', () => {
  const claim = (extra: Record<string, unknown> = {}) => parseClaim({ workflow: 'wf', run: 'wf-1', ...extra });
  it('carries every field; payloadId, input, parentRun and uid may be left out', () => {
    expect(claim({ payloadId: 'p', input: 's3://in', replace: true, parentRun: 'up', uid: 'u' }))
      .toEqual({ payloadId: 'p', workflow: 'wf', run: 'wf-1', input: 's3://in', replace: true, parentRun: 'up', uid: 'u' });
    expect(claim()).toEqual({ payloadId: '', workflow: 'wf', run: 'wf-1', input: '', replace: false, parentRun: '', uid: '' });
  });
  it('reads replace as a boolean or Argo\'s "true"/"false", nothing else', () => {
    for (const r of [undefined, null, '', false, 'false']) expect(claim({ replace: r }).replace).toBe(false);
    for (const r of [true, 'true']) expect(claim({ replace: r }).replace).toBe(true);
    for (const r of ['yes', 1, 0, 'True', []]) expect(refusal(() => claim({ replace: r }))).toEqual([400, 'replace', 'replace must be true, false, "true" or "false"']);
  });
  it('refuses unknown fields, a missing run, and a run name Argo could not create', () => {
    expect(refusal(() => claim({ phase: 'Running' }))).toEqual([400, 'phase', 'unknown field "phase"; expected only payloadId, workflow, run, input, replace, parentRun, uid']);
    expect(refusal(() => parseClaim({ workflow: 'wf' }))).toEqual([400, 'run', 'run is required']);
    expect(refusal(() => parseClaim({ run: 'wf-1' }))).toEqual([400, 'workflow', 'workflow is required']);
    expect(claim({ run: 'r'.repeat(63) }).run).toHaveLength(63);
    expect(refusal(() => claim({ run: 'r'.repeat(64) }))).toEqual([400, 'run', 'run is longer than 63 characters']);
    expect(refusal(() => parseClaim([]))).toEqual([400, 'body', 'the body must be a JSON object']);
  });
});

describe('queries', () => {
  const KNOWN = ['workflow', 'collection', 'payloadId', 'state', 'since', 'until', 'limit', 'cursor'];
  it('reads every filter of /runs', () => {
    expect(parseRunFilter({ workflow: 'wf', collection: 'c', payloadId: 'p', state: 'FAILED,TIMED_OUT', since: '2024-05-01T00:00:00Z', until: '2024-05-02T00:00:00Z' }, KNOWN))
      .toEqual({ workflows: ['wf'], collection: 'c', payloadId: 'p', states: ['FAILED', 'TIMED_OUT'], since: '2024-05-01T00:00:00Z', until: '2024-05-02T00:00:00Z' });
    expect(parseRunFilter({}, KNOWN)).toEqual({});
  });
  it('refuses unknown parameters, unknown states, repeated values, bad times, long and unstorable values', () => {
    expect(refusal(() => parseRunFilter({ sort: 'x' }, ['a', 'b']))).toEqual([400, 'sort', 'unknown query parameter "sort"; expected a, b']);
    expect(refusal(() => parseRunFilter({ state: 'FAILED,failed' }, KNOWN))).toEqual([400, 'state',
      'state must be one or more (comma-separated) of PENDING, QUEUED, RUNNING, SUCCESSFUL, FAILED, CANCELED, TIMED_OUT, INVALID (got "failed")']);
    expect(refusal(() => parseRunFilter({ workflow: ['a', 'b'] }, KNOWN))).toEqual([400, 'workflow', 'workflow may be given once']);
    expect(refusal(() => parseRunFilter({ since: '2024-02-30T00:00:00Z' }, KNOWN))).toEqual([400, 'since', expect.stringMatching(/^since has day 30/)]);
    expect(refusal(() => parseRunFilter({ until: 'soon' }, KNOWN))[1]).toBe('until');
    expect(parseRunFilter({ collection: 'c'.repeat(1024) }, KNOWN).collection).toHaveLength(1024);
    expect(refusal(() => parseRunFilter({ collection: 'c'.repeat(1025) }, KNOWN))).toEqual([400, 'collection', 'collection is longer than 1024 characters']);
    expect(refusal(() => parseRunFilter({ payloadId: 'a\u0000' }, KNOWN))[1]).toBe('payloadId');
  });
  it('keeps every value of a repeatable parameter, each checked', () => {
    expect(queryStrings({ processID: ['a', 'b'] }, 'processID')).toEqual(['a', 'b']);
    expect(queryStrings({ processID: 'a' }, 'processID')).toEqual(['a']);
    expect(queryStrings({}, 'processID')).toBeUndefined();
    expect(refusal(() => queryStrings({ processID: ['a', 'b\u0000'] }, 'processID'))[1]).toBe('processID');
    expect(refusal(() => queryStrings({ processID: ['x'.repeat(1025)] }, 'processID'))).toEqual([400, 'processID', 'processID is longer than 1024 characters']);
  });
});

describe('paging', () => {
  it('takes a limit from 1 to 1000, 100 by default, digits only', () => {
    expect(parsePage({})).toEqual({ limit: 100 });
    expect(parsePage({ limit: '1' })).toEqual({ limit: 1 });
    expect(parsePage({ limit: '1000' })).toEqual({ limit: 1000 });
    for (const limit of ['0', '1001', '5000', '5x', '-1', '1e2', ' 5', '', '2.0']) {
      expect(refusal(() => parsePage({ limit })), limit).toEqual([400, 'limit', 'limit must be an integer from 1 to 1000']);
    }
    expect(refusal(() => parsePage({ limit: ['1', '2'] }))).toEqual([400, 'limit', 'limit may be given once']);
  });

  it('takes back exactly the cursors it hands out', () => {
    const createdAt = '2024-05-01 12:00:00.123456+00';
    const valid = encodeCursor('2024-05-01T12:00:00.123456Z', 'wf-1');
    expect(parsePage({ cursor: valid, limit: '5' })).toEqual({ limit: 5, cursor: { createdAt: '2024-05-01T12:00:00.123456Z', run: 'wf-1' } });
    expect(parsePage({ lastID: valid }, 'lastID').cursor).toEqual({ createdAt: '2024-05-01T12:00:00.123456Z', run: 'wf-1' });
    // A run recorded before the 63-character limit still pages, up to a workflow name's length.
    expect(parsePage({ cursor: encodeCursor('2024-05-01T12:00:00.123456Z', 'r'.repeat(MAX_WORKFLOW_NAME)) }).cursor?.run).toHaveLength(MAX_WORKFLOW_NAME);
    const b64 = (v: string) => Buffer.from(v).toString('base64url');
    const forged = [
      b64('[1,2]'), b64('["2024-05-01T12:00:00.123456Z"]'), b64('["2024-05-01T12:00:00.123456Z","a","b"]'), b64('{"0":"a","1":"b"}'),
      b64('["2024-05-01T12:00:00.123456Z",2]'), b64('["1","x"]'), encodeCursor(createdAt, 'wf-1'), encodeCursor('2024-05-01T12:00:00.123Z', 'wf-1'),
      encodeCursor('2024-02-30T12:00:00.123456Z', 'wf-1'), encodeCursor('2024-05-01T12:00:00.123456Z', 'r'.repeat(MAX_WORKFLOW_NAME + 1)),
      encodeCursor('2024-05-01T12:00:00.123456Z', 'a\u0000b'), encodeCursor('x2024-05-01T12:00:00.123456Z', 'wf-1'),
      encodeCursor('2024-05-01T12:00:00.123456Zx', 'wf-1'), 'not base64 json', b64('null'),
      // Lists that print as a valid time or name are still not one.
      b64('[["2024-05-01T12:00:00.123456Z"],"wf-1"]'), b64('["2024-05-01T12:00:00.123456Z",["wf-1"]]'),
    ];
    for (const cursor of forged) {
      expect(refusal(() => parsePage({ cursor })), Buffer.from(cursor, 'base64url').toString()).toEqual([400, 'cursor', 'cursor is not a cursor this service returned; pass the "next" value unchanged']);
    }
    expect(refusal(() => parsePage({ lastID: b64('[1,2]') }, 'lastID'))).toEqual([400, 'lastID', 'lastID is not a cursor this service returned; pass the "next" value unchanged']);
  });
});
