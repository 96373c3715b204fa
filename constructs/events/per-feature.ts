import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import { failAt, standardLabels } from '../names';
import { WORKFLOW_SERVICE_ACCOUNT } from '../platform';
import { DISPATCH_IMAGE } from './dispatch';
import type { SubmitTarget } from './submit';
import { platformPodSpec } from './platform-pod-spec';

/** The script each perFeature HTTP callback runs (plain Node, no dependencies); tests run the same file. */
export const PER_FEATURE_SCRIPT_FILE = join(__dirname, 'per-feature-script.cjs');

const PAYLOAD_PATH = '/tmp/swoop/output.json';

export interface PerFeatureCallbackProps {
  readonly namespace: string;
  /** The callback's id (keys `Idempotency-Key: <run uid>/<id>/<feature id>`). */
  readonly callbackId: string;
  readonly url: string;
  readonly method: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly auth?: { readonly header: string; readonly secret: { readonly name: string; readonly key: string } };
  readonly featureFilter?: string;
  /** Names of the callback's parameters, sent with every feature. */
  readonly parameterNames: readonly string[];
  /** Request timeout in seconds. */
  readonly timeoutSeconds: number;
}

/**
 * The platform WorkflowTemplate `swoop-callback-<id>` that delivers one SWOOP `perFeature`
 * HTTP callback, so users write no handler (docs/callbacks.md). The callbacks sensor submits
 * it on each matching `run.finished` with a deterministic name (a repeated event creates
 * nothing new); one short pod downloads the output payload as an S3 artifact (the workflow
 * service account's identity, as `swoop-dispatch` does) or takes it inline, and posts once per
 * selected feature with `Idempotency-Key: <run uid>/<callback>/<feature id>`, retried.
 */
export class PerFeatureCallback extends Construct implements SubmitTarget {
  public readonly templateName: string;
  public readonly namespace: string;
  public readonly parameterNames: readonly string[];

  constructor(scope: Construct, id: string, props: PerFeatureCallbackProps) {
    super(scope, id);
    this.namespace = props.namespace;
    this.templateName = `swoop-callback-${props.callbackId}`;
    if (this.templateName.length > 63) failAt(this.node.path, `callback id "${props.callbackId}" makes the template name ${this.templateName} longer than 63 characters; shorten the id`);
    const userParams = props.parameterNames.map((n, i) => ({ name: n, param: `p${i}` }));
    this.parameterNames = ['output', 'uid', ...userParams.map((p) => p.param)];
    const script = readFileSync(PER_FEATURE_SCRIPT_FILE, 'utf8');
    if (script.includes('{{')) failAt(this.node.path, `${PER_FEATURE_SCRIPT_FILE} contains "{{", which Argo would substitute`);
    const labels = standardLabels(this.templateName, 'callback');
    const env = [
      { name: 'SWOOP_OUTPUT', value: '{{workflow.parameters.output}}' },
      { name: 'SWOOP_PAYLOAD_FILE', value: PAYLOAD_PATH },
      { name: 'SWOOP_RUN_UID', value: '{{workflow.parameters.uid}}' },
      { name: 'SWOOP_CALLBACK_ID', value: props.callbackId },
      { name: 'SWOOP_CALLBACK_URL', value: props.url },
      { name: 'SWOOP_CALLBACK_METHOD', value: props.method },
      { name: 'SWOOP_CALLBACK_HEADERS', value: JSON.stringify(props.headers) },
      { name: 'SWOOP_TIMEOUT_MS', value: String(props.timeoutSeconds * 1000) },
      ...(props.featureFilter !== undefined ? [{ name: 'SWOOP_FEATURE_FILTER', value: props.featureFilter }] : []),
      { name: 'SWOOP_PARAMETER_NAMES', value: JSON.stringify(props.parameterNames) },
      ...userParams.map((p, i) => ({ name: `SWOOP_PARAMETER_${i}`, value: `{{workflow.parameters.${p.param}}}` })),
      ...(props.auth ? [
        { name: 'SWOOP_CALLBACK_AUTH_HEADER', value: props.auth.header },
        { name: 'SWOOP_CALLBACK_AUTH', valueFrom: { secretKeyRef: { name: props.auth.secret.name, key: props.auth.secret.key } } },
      ] : []),
    ];
    for (const e of env) {
      if ('value' in e && e.value !== undefined && !e.value.startsWith('{{workflow.parameters.') && /\{\{|\}\}/.test(e.value)) {
        failAt(this.node.path, `${e.name} "${e.value}" contains "{{" or "}}", which Argo would read as a tag`);
      }
    }
    const scriptTemplate = (name: string, artifact: boolean) => ({
      name,
      ...(artifact ? {
        inputs: {
          parameters: [{ name: 'bucket' }, { name: 'key' }],
          artifacts: [{ name: 'output', path: PAYLOAD_PATH, s3: { endpoint: 's3.amazonaws.com', bucket: '{{inputs.parameters.bucket}}', key: '{{inputs.parameters.key}}', useSDKCreds: true } }],
        },
      } : {}),
      retryStrategy: { limit: 3, retryPolicy: 'Always', backoff: { duration: '30s', factor: 2, maxDuration: '10m' } },
      script: {
        image: DISPATCH_IMAGE,
        command: ['node'],
        source: script,
        env,
        resources: { requests: { cpu: '50m', memory: '128Mi' }, limits: { memory: '256Mi' } },
        securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ['ALL'] } },
      },
    });
    new ApiObject(this, 'Resource', {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'WorkflowTemplate',
      metadata: {
        name: this.templateName,
        namespace: props.namespace,
        labels,
        annotations: { 'workflows.argoproj.io/description': `Posts callback ${props.callbackId} once per feature of a finished run's output payload` },
      },
      spec: {
        entrypoint: 'main',
        serviceAccountName: WORKFLOW_SERVICE_ACCOUNT,
        activeDeadlineSeconds: 3600,
        ...platformPodSpec(labels),
        arguments: {
          parameters: [
            { name: 'output', description: 'the finished run\'s output payload: an s3:// URL, or the payload JSON inline' },
            { name: 'uid', description: 'the finished run\'s uid (keys the deliveries)' },
            ...userParams.map((p) => ({ name: p.param, value: '', description: `callback parameter ${p.name}` })),
          ],
        },
        templates: [
          {
            name: 'main',
            dag: {
              tasks: [
                {
                  name: 'from-s3',
                  template: 'deliver-from-s3',
                  when: "{{=workflow.parameters.output startsWith 's3://'}}",
                  arguments: {
                    parameters: [
                      { name: 'bucket', value: "{{=sprig.regexReplaceAll('^s3://([^/]+)/.*$', workflow.parameters.output, '$1')}}" },
                      { name: 'key', value: "{{=sprig.regexReplaceAll('^s3://[^/]+/', workflow.parameters.output, '')}}" },
                    ],
                  },
                },
                { name: 'inline', template: 'deliver-inline', when: "{{=!(workflow.parameters.output startsWith 's3://')}}" },
              ],
            },
          },
          scriptTemplate('deliver-from-s3', true),
          scriptTemplate('deliver-inline', false),
        ],
      },
    });
  }
}
