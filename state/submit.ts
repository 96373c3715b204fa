/**
 * Claim before create (docs/state.md, "Submissions"): the sensors hand every run to `POST
 * /submit`; the service claims the payload in SQL and creates the Workflow only when the claim
 * is accepted. A refused claim creates nothing (no Workflow, no pod, nothing archived) and is
 * still an answer (200), so the trigger counts it as delivered. Every step is idempotent, so
 * the trigger may retry any answer that is not 2xx:
 * - the claim: a repeated claim by the same run gets the same answer (swoop_claim);
 * - the payload projections (state/projection.ts): computed from the input and the object it
 *   names, which do not change, so a retry computes the same values;
 * - the create: the run name is deterministic, so a second create is AlreadyExists (409),
 *   which means "already done";
 * - a redelivery after the run finished (and its Workflow was garbage-collected) finds the
 *   run final in SQL and creates nothing.
 */
import type { KubeAnswer } from './kube-client';
import { PayloadUnavailable, PayloadUnreadable, type PayloadReader } from './payload-reader';
import { projectInput } from './projection';
import type { SubmitOutcome } from './metrics';
import type { StateStore } from './store';
import { projectionPathProblem } from '../constructs/payload';
import { InputError, MAX_RUN_NAME, MAX_WORKFLOW_NAME, parseClaim, storableText } from './validate';

/** What the state service needs from the Kubernetes API (state/kube-client.ts). */
export interface WorkflowCreator {
  createWorkflow(namespace: string, workflow: Record<string, unknown>): Promise<KubeAnswer>;
}

export interface SubmitRequest {
  /** WorkflowTemplate to run (`spec.workflowTemplateRef.name`). */
  readonly workflow: string;
  /** Deterministic run name (`metadata.name`), computed by the sensor from the delivery. */
  readonly name: string;
  readonly namespace: string;
  /** Claim the payload first (user workflows); false for platform templates (dispatch, per-feature callbacks). */
  readonly claim: boolean;
  /** Label `swoop.dev/started-by` of the Workflow: ingress, chain, callback... ('' for none). */
  readonly startedBy: string;
  /** Workflow arguments by parameter name, in the order given. */
  readonly arguments: Readonly<Record<string, string>>;
  /**
   * The workflow's payload projections, parameter -> path (constructs/payload.ts): the service
   * fills these parameters from the claimed payload (state/projection.ts). Empty for none.
   */
  readonly projection: Readonly<Record<string, string>>;
}

export interface SubmitResult {
  /** Whether this request created the Workflow. */
  readonly created: boolean;
  /** The claim's answer; null for submissions without a claim. */
  readonly claimed: boolean | null;
  readonly reason: string;
  /** The run that owns the payload (this run unless the claim was refused). */
  readonly run: string;
}

/** The API server could not be reached or asked to come back later: the caller retries. */
export class SubmitUnavailable extends Error {}
/** The API server refused the Workflow for good (invalid, unknown namespace): retrying cannot help. */
export class SubmitRefused extends Error {}
/** The payload's projections cannot be computed, ever (state/payload-reader.ts): the run is recorded FAILED. */
export class SubmitUnprojectable extends Error {}

const SUBMIT_FIELDS = ['workflow', 'name', 'namespace', 'claim', 'startedBy', 'arguments', 'projection'];
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-.a-z0-9]*[a-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/;
// Argo parameter names: what the sensors and constructs may declare (constructs/names.ts is stricter).
const PARAMETER_NAME = /^[A-Za-z0-9][-A-Za-z0-9_.]*$/;
const MAX_ARGUMENTS = 100;
const MAX_ARGUMENT_BYTES = 512 * 1024;

function field(o: Record<string, unknown>, name: string, pattern: RegExp, max: number, what: string): string {
  const v = o[name];
  if (typeof v !== 'string' || v === '') throw new InputError(400, name, `${name} is required: ${what}`);
  if (v.length > max || !pattern.test(v)) throw new InputError(400, name, `${name} "${v.slice(0, 80)}" is not ${what}`);
  return v;
}

/** POST /submit. Argo Events HTTP triggers send strings, so `claim` may be "true"/"false". */
export function parseSubmit(body: unknown): SubmitRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new InputError(400, 'body', 'the body must be a JSON object');
  const o = body as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!SUBMIT_FIELDS.includes(key)) throw new InputError(400, key, `unknown field "${key}"; expected only ${SUBMIT_FIELDS.join(', ')}`);
  }
  const workflow = field(o, 'workflow', DNS_SUBDOMAIN, MAX_WORKFLOW_NAME, 'a WorkflowTemplate name (a Kubernetes object name)');
  const name = field(o, 'name', DNS_LABEL, MAX_RUN_NAME, `a run name (lowercase letters, digits and "-", at most ${MAX_RUN_NAME} characters: Argo labels pods with it)`);
  const namespace = field(o, 'namespace', DNS_LABEL, 63, 'a namespace name');
  const c = o.claim;
  let claim: boolean;
  if (c === undefined || c === true || c === 'true') claim = true;
  else if (c === false || c === 'false') claim = false;
  else throw new InputError(400, 'claim', 'claim must be true, false, "true" or "false" (default true)');
  const startedBy = o.startedBy ?? '';
  if (typeof startedBy !== 'string' || startedBy.length > 63 || !LABEL_VALUE.test(startedBy)) {
    throw new InputError(400, 'startedBy', 'startedBy must be a Kubernetes label value (at most 63 letters, digits, "-", "_", ".")');
  }
  const args = o.arguments ?? {};
  if (typeof args !== 'object' || args === null || Array.isArray(args)) {
    throw new InputError(400, 'arguments', 'arguments must be an object of parameter name to string value');
  }
  const entries = Object.entries(args as Record<string, unknown>);
  if (entries.length > MAX_ARGUMENTS) throw new InputError(400, 'arguments', `arguments has ${entries.length} parameters; at most ${MAX_ARGUMENTS}`);
  for (const [k, v] of entries) {
    if (k.length > 253 || !PARAMETER_NAME.test(k)) throw new InputError(400, `arguments.${k}`, `"${k.slice(0, 80)}" is not a workflow parameter name`);
    if (typeof v !== 'string') throw new InputError(400, `arguments.${k}`, `arguments.${k} must be a string (Argo parameters are strings), got ${typeof v}`);
    if (v.length > MAX_ARGUMENT_BYTES) throw new InputError(400, `arguments.${k}`, `arguments.${k} is longer than ${MAX_ARGUMENT_BYTES} characters`);
    storableText(`arguments.${k}`, v);
  }
  const projection = o.projection ?? {};
  if (typeof projection !== 'object' || projection === null || Array.isArray(projection)) {
    throw new InputError(400, 'projection', 'projection must be an object of workflow parameter name to projection path');
  }
  const projected = Object.entries(projection as Record<string, unknown>);
  if (projected.length > MAX_ARGUMENTS) throw new InputError(400, 'projection', `projection has ${projected.length} parameters; at most ${MAX_ARGUMENTS}`);
  for (const [k, path] of projected) {
    if (k.length > 253 || !PARAMETER_NAME.test(k)) throw new InputError(400, `projection.${k}`, `"${k.slice(0, 80)}" is not a workflow parameter name`);
    if (k in (args as Record<string, unknown>)) throw new InputError(400, `projection.${k}`, `${k} is both an argument and a projection; the service fills projections, leave it out of arguments`);
    const problem = typeof path === 'string' ? projectionPathProblem(path) : 'is not a string';
    if (problem) throw new InputError(400, `projection.${k}`, `projection.${k}: ${problem}`);
    if (!claim) throw new InputError(400, `projection.${k}`, 'projections are filled from the claimed payload; a submission with claim false has none');
  }
  return {
    workflow, name, namespace, claim, startedBy,
    arguments: Object.fromEntries(entries) as Record<string, string>,
    projection: Object.fromEntries(projected) as Record<string, string>,
  };
}

/** The Workflow object a submission creates (its arguments, then the projected values): the sensors' former `k8s` trigger resource. */
export function workflowObject(req: SubmitRequest, projected: Readonly<Record<string, string>> = {}): Record<string, unknown> {
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Workflow',
    metadata: {
      name: req.name,
      namespace: req.namespace,
      ...(req.startedBy ? { labels: { 'swoop.dev/started-by': req.startedBy } } : {}),
    },
    spec: {
      workflowTemplateRef: { name: req.workflow },
      arguments: { parameters: Object.entries({ ...req.arguments, ...projected }).map(([name, value]) => ({ name, value })) },
    },
  };
}

const FINAL = new Set(['SUCCESSFUL', 'FAILED', 'CANCELED', 'TIMED_OUT', 'INVALID']);

export interface SubmitterProps {
  readonly store: StateStore;
  readonly kube: WorkflowCreator;
  /** The one namespace this service may create Workflows in (its Role's). */
  readonly namespace: string;
  /** Reads payloads passed by URL for their projections (PAYLOAD_STORE). Default: none (such a submission is 503). */
  readonly payloads?: PayloadReader;
  /** Told how each submission ended (state/metrics.ts counts them by workflow). */
  readonly onOutcome?: (workflow: string, outcome: SubmitOutcome) => void;
}

export class Submitter {
  constructor(private readonly props: SubmitterProps) {}

  /** Claims, then creates; tells `onOutcome` how it ended (bad input and database outages are not submissions). */
  async submit(req: SubmitRequest): Promise<SubmitResult> {
    const told = (outcome: SubmitOutcome) => this.props.onOutcome?.(req.workflow, outcome);
    try {
      const result = await this.attempt(req);
      told(result.created ? 'created' : result.claimed === false ? 'refused' : 'duplicate');
      return result;
    } catch (err) {
      if (err instanceof SubmitUnavailable) told('unavailable');
      else if (err instanceof SubmitRefused || err instanceof SubmitUnprojectable) told('failed');
      throw err;
    }
  }

  private async attempt(req: SubmitRequest): Promise<SubmitResult> {
    const { store, kube, namespace } = this.props;
    if (req.namespace !== namespace) {
      throw new InputError(400, 'namespace', `this state service creates Workflows only in namespace ${namespace} (its Role's); got ${req.namespace}`);
    }
    let claimed: boolean | null = null;
    let reason = 'no claim (platform template)';
    if (req.claim) {
      const a = req.arguments;
      // Checked as POST /claim checks its body: lengths, storable text, replace's spelling.
      const claim = await store.claim(parseClaim({
        payloadId: a['payload-id'] ?? '', workflow: req.workflow, run: req.name, input: a.input ?? '',
        replace: a.replace ?? 'false', parentRun: a['parent-run'] ?? '',
      }));
      if (!claim.claimed) return { created: false, claimed: false, reason: claim.reason, run: claim.run };
      claimed = true;
      reason = claim.reason;
      // A redelivery after the run ended (its Workflow may be garbage-collected by now, so the
      // create would succeed): the claim still answers "yours", but the work is done.
      const [row] = await store.db.query<{ state: string }>('SELECT state::text AS state FROM runs WHERE run = $1', [req.name]);
      if (row && FINAL.has(row.state)) return { created: false, claimed: true, reason: `run ${req.name} already finished ${row.state}`, run: req.name };
    }
    let projected: Record<string, string> = {};
    if (req.claim) {
      try {
        projected = await projectInput(req.arguments.input ?? '', req.projection, req.workflow, this.props.payloads);
      } catch (e) {
        if (e instanceof PayloadUnavailable) throw new SubmitUnavailable(`the payload's projections could not be computed: ${e.message}`);
        if (!(e instanceof PayloadUnreadable)) throw e;
        // As a Workflow refused for good: recorded FAILED now, which frees the payload; a retry finds the run final.
        const what = `the payload's projections (${Object.keys(req.projection).join(', ')}) cannot be computed: ${e.message}`;
        await this.recordFailed(req, what);
        throw new SubmitUnprojectable(what);
      }
    }
    const answer = await kube.createWorkflow(namespace, workflowObject(req, projected));
    if (answer.status >= 200 && answer.status < 300) return { created: true, claimed, reason, run: req.name };
    if (answer.status === 409 && answer.reason === 'AlreadyExists') {
      return { created: false, claimed, reason: `Workflow ${req.name} already exists (a repeated delivery)`, run: req.name };
    }
    const what = `the Kubernetes API answered ${answer.status || 'nothing'}${answer.reason ? ` ${answer.reason}` : ''}: ${answer.message}`;
    // Transport errors, throttling, server errors, and 401/403 (a token or Role not yet in
    // place during a rollout) may pass: the caller retries with the same name.
    if (answer.status === 0 || answer.status === 401 || answer.status === 403 || answer.status === 429 || answer.status >= 500) {
      throw new SubmitUnavailable(what);
    }
    // Refused for good (Invalid, unknown namespace): the claimed run would hold its payload
    // until the sweeper ends it, so it is recorded FAILED now, which frees the payload and
    // notifies like any failed run; a retry then finds the run final.
    if (claimed) await this.recordFailed(req, `the Workflow could not be created: ${what}`);
    throw new SubmitRefused(what);
  }

  private async recordFailed(req: SubmitRequest, message: string): Promise<void> {
    await this.props.store.accept({
      type: 'completed', workflow: req.workflow, run: req.name, uid: '', payloadId: req.arguments['payload-id'] ?? '',
      parentRun: req.arguments['parent-run'] ?? '', phase: 'Error', startedAt: '', finishedAt: new Date().toISOString(),
      message: message.slice(0, 60_000), failures: '', input: req.arguments.input ?? '', output: '',
      deadlineSeconds: null,
    });
  }
}
