/**
 * OGC API - Processes - Part 1: Core 1.0, for what the state service offers: the landing
 * page, conformance, the workflows as processes, and their runs as jobs (list with every
 * standard filter, status), with OGC exceptions. Execution is not offered here: runs start
 * from ingress (docs/contracts.md). Differences from the standard and from SWOOP's API:
 * docs/state.md.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { OGC_STATUS, type OgcStatus, RUN_STATES, type RunState } from './states';
import type { RunView, StateStore } from './store';
import { parseTimestamp } from './timestamp';
import { InputError, parsePage, pathName, queryStrings, type RunFilter } from './validate';

/** What a process is, beyond its id (STATE_PROCESSES; docs/state.md). */
export interface ProcessDescription {
  readonly id: string;
  readonly title?: string;
  readonly description?: string;
}

export interface OgcProps {
  readonly store: StateStore;
  /** the reader-token check (onRequest hook) */
  readonly reader: (req: FastifyRequest, reply: FastifyReply) => Promise<unknown>;
  /** prefix of every link: '' (root-relative) or the public URL without a trailing slash */
  readonly base: string;
  /** processes known with their descriptions; workflows seen in runs are listed too */
  readonly processes?: readonly ProcessDescription[];
}

const OGC_EXCEPTIONS = 'http://www.opengis.net/def/exceptions/ogcapi-processes-1/1.0';
const CONF = 'http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf';
export const CONFORMS_TO = [`${CONF}/core`, `${CONF}/json`, `${CONF}/job-list`];

const JOB_FILTERS = ['type', 'processID', 'status', 'datetime', 'minDuration', 'maxDuration', 'limit', 'cursor'];
const OGC_STATUSES: readonly OgcStatus[] = ['accepted', 'running', 'successful', 'failed', 'dismissed'];
// OGC's job types; every run here is an OGC API - Processes job.
const JOB_TYPES = ['process', 'wps', 'openeo'];
const JSON_TYPE = 'application/json';

/** An OGC exception (RFC 7807 shape); `field` and `message` keep this service's error shape too. */
function exception(reply: FastifyReply, status: number, type: string, title: string, field: string, detail: string) {
  return reply.code(status).type('application/problem+json')
    .send({ type, title, status, detail, error: status === 404 ? 'not_found' : 'invalid_request', field, message: detail });
}

export function registerOgcRoutes(app: FastifyInstance, props: OgcProps): void {
  const { store, reader, base } = props;
  const described = new Map((props.processes ?? []).map((p) => [p.id, p]));

  void app.register(async (ogc) => {
    // Input errors become OGC exceptions; anything else goes to the service's handler (503...).
    ogc.setErrorHandler((err, _req, reply) => {
      if (!(err instanceof InputError)) throw err;
      const type = err.status === 404 ? `${OGC_EXCEPTIONS}/${err.field === 'processID' ? 'no-such-process' : 'no-such-job'}` : 'about:blank';
      const title = err.status === 404 ? (err.field === 'processID' ? 'No such process' : 'No such job') : 'Bad request';
      return exception(reply, err.status, type, title, err.field, err.message);
    });

    ogc.get('/', async () => ({
      title: 'SWOOP state service',
      description: 'Runs of the STAC processing workflows as OGC API - Processes jobs',
      links: [
        { href: `${base}/`, rel: 'self', type: JSON_TYPE, title: 'this document' },
        { href: `${base}/conformance`, rel: 'http://www.opengis.net/def/rel/ogc/1.0/conformance', type: JSON_TYPE, title: 'conformance classes' },
        { href: `${base}/processes`, rel: 'http://www.opengis.net/def/rel/ogc/1.0/processes', type: JSON_TYPE, title: 'processes (the workflows)' },
        { href: `${base}/jobs`, rel: 'http://www.opengis.net/def/rel/ogc/1.0/job-list', type: JSON_TYPE, title: 'jobs (the runs)' },
      ],
    }));

    ogc.get('/conformance', async () => ({ conformsTo: CONFORMS_TO, links: [{ href: `${base}/conformance`, rel: 'self', type: JSON_TYPE }] }));

    const summary = (id: string) => {
      const d = described.get(id);
      return {
        id,
        title: d?.title ?? id,
        ...(d?.description ? { description: d.description } : {}),
        // WorkflowTemplates carry no version; a run uses the template deployed when it starts.
        version: 'deployed',
        handlerType: 'argo-workflow',
        links: [
          { href: `${base}/processes/${encodeURIComponent(id)}`, rel: 'self', type: JSON_TYPE },
          { href: `${base}/jobs?processID=${encodeURIComponent(id)}`, rel: 'http://www.opengis.net/def/rel/ogc/1.0/job-list', type: JSON_TYPE, title: 'its jobs' },
        ],
      };
    };

    ogc.get('/processes', { onRequest: reader }, async (req) => {
      onlyParameters(req.query as Record<string, unknown>, []);
      const seen = await store.workflows();
      const ids = [...new Set([...described.keys(), ...seen])].sort();
      return { processes: ids.map(summary), links: [{ href: `${base}/processes`, rel: 'self', type: JSON_TYPE }] };
    });

    ogc.get('/processes/:processID', { onRequest: reader }, async (req) => {
      const id = pathName('processID', (req.params as { processID: string }).processID);
      if (!described.has(id) && !(await store.hasWorkflow(id))) {
        throw new InputError(404, 'processID', `no process "${id}" (GET /processes lists them)`);
      }
      return summary(id);
    });

    ogc.get('/jobs', { onRequest: reader }, async (req) => {
      const q = req.query as Record<string, unknown>;
      onlyParameters(q, JOB_FILTERS);
      const types = queryStrings(q, 'type');
      for (const t of types ?? []) {
        if (!JOB_TYPES.includes(t)) throw new InputError(400, 'type', `type must be among ${JOB_TYPES.join(', ')} (got "${t}")`);
      }
      const page = types !== undefined && !types.includes('process')
        ? { runs: [], next: null }
        : await store.runs(jobFilter(q), parsePage(q));
      const links = [{ href: `${base}${req.url}`, rel: 'self', type: JSON_TYPE }];
      if (page.next) {
        // Repeated parameters (processID=a&processID=b) stay repeated on the next page.
        const next = new URLSearchParams(Object.entries(q).flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map((e): [string, string] => [k, String(e)])));
        next.set('cursor', page.next);
        links.push({ href: `${base}/jobs?${next.toString()}`, rel: 'next', type: JSON_TYPE });
      }
      return { jobs: page.runs.map((r) => statusInfo(r, base)), links };
    });

    ogc.get('/jobs/:jobId', { onRequest: reader }, async (req) => {
      const jobId = pathName('jobId', (req.params as { jobId: string }).jobId);
      const found = await store.run(jobId);
      if (!found) throw new InputError(404, 'jobId', `no job "${jobId}"`);
      return statusInfo(found, base);
    });
  });
}

function onlyParameters(q: Record<string, unknown>, known: readonly string[]): void {
  for (const key of Object.keys(q)) {
    if (!known.includes(key)) {
      throw new InputError(400, key, `unknown query parameter "${key}"; expected ${known.length ? known.join(', ') : 'none'}`);
    }
  }
}

function single(q: Record<string, unknown>, field: string): string | undefined {
  const v = queryStrings(q, field);
  if (v !== undefined && v.length > 1) throw new InputError(400, field, `${field} may be given once`);
  return v?.[0];
}

function seconds(q: Record<string, unknown>, field: string): number | undefined {
  const v = single(q, field);
  if (v === undefined) return undefined;
  if (!/^\d{1,10}$/.test(v)) throw new InputError(400, field, `${field} must be a whole number of seconds (got "${v}")`);
  return Number(v);
}

/** OGC job-list filters as a run filter: datetime is on the creation time, durations in seconds. */
function jobFilter(q: Record<string, unknown>): RunFilter {
  const wanted = queryStrings(q, 'status')?.flatMap((s) => s.split(','));
  for (const s of wanted ?? []) {
    if (!(OGC_STATUSES as readonly string[]).includes(s)) {
      throw new InputError(400, 'status', `status must be among ${OGC_STATUSES.join(', ')} (got "${s}")`);
    }
  }
  const states: RunState[] | undefined = wanted && RUN_STATES.filter((s) => wanted.includes(OGC_STATUS[s]));
  const minDurationSeconds = seconds(q, 'minDuration');
  const maxDurationSeconds = seconds(q, 'maxDuration');
  return {
    // OGC allows several processIDs: any of them.
    workflows: queryStrings(q, 'processID'),
    states,
    ...datetime(single(q, 'datetime')),
    minDurationSeconds,
    maxDurationSeconds,
  };
}

/** An instant, or a closed interval `start/end` with `..` (or nothing) for an open end. */
function datetime(v: string | undefined): Pick<RunFilter, 'since' | 'through'> {
  if (v === undefined) return {};
  const parts = v.split('/');
  if (parts.length > 2) throw new InputError(400, 'datetime', 'datetime must be an RFC 3339 instant or an interval start/end (".." for an open end)');
  const bound = (s: string) => {
    if (s === '' || s === '..') return undefined;
    const t = parseTimestamp(s);
    if (typeof t === 'string') throw new InputError(400, 'datetime', `datetime "${s}" ${t}`);
    return { text: s, ms: t };
  };
  const start = bound(parts[0]!);
  const end = parts.length === 2 ? bound(parts[1]!) : start;
  if (parts.length === 1 && start === undefined) throw new InputError(400, 'datetime', 'datetime must not be empty or ".."');
  if (start && end && start.ms > end.ms) throw new InputError(400, 'datetime', `datetime starts (${start.text}) after it ends (${end.text})`);
  return { since: start?.text, through: end?.text };
}

/** OGC API - Processes statusInfo of a run. */
export function statusInfo(r: RunView, base: string) {
  return {
    jobID: r.run,
    processID: r.workflow,
    type: 'process',
    status: OGC_STATUS[r.state],
    message: r.error ?? r.claimReason ?? r.state,
    created: r.createdAt,
    started: r.startedAt ?? undefined,
    finished: r.finishedAt ?? undefined,
    updated: r.updatedAt,
    links: [{ href: `${base}/jobs/${encodeURIComponent(r.run)}`, rel: 'self', type: JSON_TYPE }],
  };
}
