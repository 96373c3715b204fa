import { Duration } from 'cdk8s';
import { STATE_TOKENS_SECRET, STATE_URL_KEY, STATE_WRITER_TOKEN_KEY } from './platform';
import { index, quote } from './refs';
import { renderRetry } from './task';

/**
 * The run lifecycle of docs/contracts.md, as HTTP templates that run in the workflow's agent
 * pod: the `running` hook and the `completed` exit handler, both talking to the state service
 * with the writer token. Neither blocks a task: the hook runs beside the DAG, the handler
 * after it. (The claim happens before the Workflow exists: state service POST /submit.)
 */
export const RUNNING_TEMPLATE = 'swoop-running';
export const EXIT_TEMPLATE = 'swoop-exit';
export const COMPLETED_TEMPLATE = 'swoop-completed';
export const COMPLETED_TASK = 'completed';

const param = (name: string) => index('workflow.parameters', name);

// A brief state-service outage must not lose an event nor fail the run: retry for ~10 minutes.
const LIFECYCLE_RETRY = renderRetry({
  limit: 8,
  policy: 'Always',
  backoff: { delay: Duration.seconds(5), factor: 2, maxDuration: Duration.minutes(10) },
});

function post(name: string, path: string, body: string): Record<string, unknown> {
  return {
    name,
    http: {
      url: `{{workflow.parameters.${STATE_URL_KEY}}}${path}`,
      method: 'POST',
      headers: [
        { name: 'Content-Type', value: 'application/json' },
        // An HTTP template header is a literal or a secret, never both, so the Secret key holds
        // the whole header value, "Bearer <writer token>".
        { name: 'Authorization', valueFrom: { secretKeyRef: { name: STATE_TOKENS_SECRET, key: STATE_WRITER_TOKEN_KEY } } },
      ],
      // toJson escapes every field, so inline payloads and failure messages cannot break the JSON.
      body: `{{=toJson(${body})}}`,
      successCondition: 'response.statusCode >= 200 && response.statusCode < 300',
      timeoutSeconds: 30,
    },
    retryStrategy: LIFECYCLE_RETRY,
  };
}

function event(type: 'running' | 'completed', workflowName: string, phase: string, finalOutput: string, deadline?: Duration): string {
  const fields: [string, string][] = [
    ['type', quote(type)],
    ['workflow', quote(workflowName)],
    ['run', 'workflow.name'],
    ['uid', 'workflow.uid'],
    ['payloadId', param('payload-id')],
    ['parentRun', param('parent-run')],
    ['phase', phase],
    // In an expression `workflow.creationTimestamp` is a map of its formats (argo-workflows#6906).
    ['startedAt', 'workflow.creationTimestamp.RFC3339'],
    ['finishedAt', quote('')],
    ['message', quote('')],
    ['failures', type === 'completed' ? "workflow.failures ?? ''" : quote('')],
    ['input', param('input')],
    ['output', finalOutput],
    // A literal: the state service adds it to startedAt. Argo expressions have no reliable time
    // arithmetic (creationTimestamp is a map of formats, argo-workflows#6906, and sprig.date
    // falls back to now() on a wrong type, #11608), so the deadline is not computed here.
    ...(deadline ? [['deadlineSeconds', String(deadline.toSeconds())] as [string, string]] : []),
  ];
  return `{${fields.map(([k, v]) => `${quote(k)}: ${v}`).join(', ')}}`;
}

/**
 * `deadline`: the workflow's activeDeadlineSeconds, sent so the state service can end a run
 * whose exit handler never reports (terminated or lost workflows); undefined when it has none.
 */
export function runningTemplate(workflowName: string, deadline: Duration | undefined): Record<string, unknown> {
  return post(RUNNING_TEMPLATE, '/events', event('running', workflowName, 'workflow.status', quote(''), deadline));
}

/** `finalOutputExpression`: expression of the final payload URL, or undefined when the workflow has none. */
export function completedTemplate(workflowName: string, finalOutputExpression: string | undefined): Record<string, unknown> {
  const output = finalOutputExpression ? `workflow.status == 'Succeeded' ? ${finalOutputExpression} : ''` : quote('');
  return post(COMPLETED_TEMPLATE, '/events', event('completed', workflowName, 'workflow.status', output));
}

export const RUNNING_HOOK = { expression: 'workflow.status == "Running"', template: RUNNING_TEMPLATE };
