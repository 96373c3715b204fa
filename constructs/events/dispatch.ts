import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ApiObject, Duration } from 'cdk8s';
import { Construct } from 'constructs';
import { failAt, standardLabels } from '../names';
import { WORKFLOW_SERVICE_ACCOUNT } from '../platform';
import type { SecretKey } from './event-sources';
import { DISPATCH_TEMPLATE, INGRESS_TOKEN_SECRET, INGRESS_WEBHOOK_ENDPOINT, INGRESS_WEBHOOK_SOURCE, WEBHOOK_PORT } from './names';
import type { StateServiceTarget } from './state-service';
import type { SubmitTarget } from './submit';
import { platformPodSpec } from './platform-pod-spec';

/** The Node image running the dispatch script: the Node 24 LTS release .ci/run tests the script with. Pinned so dist/ says exactly what runs. */
export const DISPATCH_IMAGE = 'node:24.22.3-slim';

/** The script the dispatch step runs (plain Node, no dependencies); tests run the same file. */
export const DISPATCH_SCRIPT_FILE = join(__dirname, 'dispatch-script.cjs');

/** Where Argo puts the downloaded payload object. */
const PAYLOAD_PATH = '/tmp/swoop/payload.json';

export interface PayloadDispatchProps {
  readonly namespace: string;
  /** Where INVALID payloads are recorded (the same target as the ingress sensor's). */
  readonly state: StateServiceTarget;
  /** @default DISPATCH_IMAGE */
  readonly image?: string;
  /** The payload webhook the dispatch posts to. @default the swoop-ingress EventSource's Service in `namespace` */
  readonly webhookUrl?: string;
  /** Bearer token of that webhook. @default Secret swoop-ingress-token, key token */
  readonly webhookToken?: SecretKey;
  /** How long one dispatch may take, retries included. @default 10 minutes */
  readonly deadline?: Duration;
}

/**
 * The platform WorkflowTemplate `swoop-dispatch`, which routes payloads passed by bare
 * reference (`{"url": "s3://bucket/key.json"}`): a sensor cannot read S3, so the ingress
 * sensor submits this instead. Argo downloads the object as an S3 input artifact with the
 * workflow service account's identity (IRSA / Pod Identity; `endpoint` is set, so the
 * artifact repository is not consulted), and a short Node script posts
 * `{"url", "process"}` to the payload webhook, where the normal routing takes over. A payload
 * without `process`, or a missing object, is recorded INVALID by the script; any other
 * failure (S3 access denied, webhook down after retries) by the exit handler.
 */
export class PayloadDispatch extends Construct implements SubmitTarget {
  public readonly templateName = DISPATCH_TEMPLATE;
  public readonly namespace: string;
  /** `url` (the s3:// reference), `input` (the payload text as delivered, for INVALID records), `source` (its EventSource). */
  public readonly parameterNames: readonly string[] = ['url', 'input', 'source'];

  constructor(scope: Construct, id: string, props: PayloadDispatchProps) {
    super(scope, id);
    this.namespace = props.namespace;
    const deadline = (props.deadline ?? Duration.minutes(10)).toSeconds();
    if (!Number.isInteger(deadline) || deadline < 60) failAt(this.node.path, `deadline must be at least 60 whole seconds, got ${deadline}`);
    const script = readFileSync(DISPATCH_SCRIPT_FILE, 'utf8');
    // Argo substitutes {{...}} in script sources; the script must not contain any.
    if (script.includes('{{')) failAt(this.node.path, `${DISPATCH_SCRIPT_FILE} contains "{{", which Argo would substitute`);
    const webhookUrl = props.webhookUrl ?? `http://${INGRESS_WEBHOOK_SOURCE}-eventsource-svc.${props.namespace}.svc.cluster.local:${WEBHOOK_PORT}${INGRESS_WEBHOOK_ENDPOINT}`;
    const token = props.webhookToken ?? { name: INGRESS_TOKEN_SECRET, key: 'token' };
    const labels = standardLabels(DISPATCH_TEMPLATE, 'dispatch');
    const stateHttp = {
      url: `${props.state.url.replace(/\/+$/, '')}/events`,
      method: 'POST',
      headers: [
        { name: 'Content-Type', value: 'application/json' },
        { name: 'Authorization', valueFrom: { secretKeyRef: { name: props.state.authorization.name, key: props.state.authorization.key } } },
      ],
      timeoutSeconds: 30,
      successCondition: 'response.statusCode >= 200 && response.statusCode < 300',
    };
    new ApiObject(this, 'Resource', {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'WorkflowTemplate',
      metadata: {
        name: DISPATCH_TEMPLATE,
        namespace: props.namespace,
        labels,
        annotations: { 'workflows.argoproj.io/description': 'Reads a payload passed by bare S3 reference and posts it with its process block to the payload webhook' },
      },
      spec: {
        entrypoint: 'main',
        // The exit hook (Argo's other spelling of onExit) runs even after the deadline or a stuck pod.
        hooks: { exit: { template: 'record-failure' } },
        serviceAccountName: WORKFLOW_SERVICE_ACCOUNT,
        activeDeadlineSeconds: deadline,
        ...platformPodSpec(labels),
        arguments: {
          parameters: [
            { name: 'url', description: 's3://bucket/key of the payload object' },
            { name: 'input', description: 'the payload as delivered, recorded with an INVALID report' },
            { name: 'source', description: 'EventSource the payload came from', value: '' },
          ],
        },
        templates: [
          {
            name: 'main',
            dag: {
              tasks: [{
                name: 'forward',
                template: 'forward',
                // Split in Argo, not the sensor: Argo Events templates cannot parse an SNS Message.
                arguments: {
                  parameters: [
                    { name: 'bucket', value: "{{=sprig.regexReplaceAll('^s3://([^/]+)/.*$', workflow.parameters.url, '$1')}}" },
                    { name: 'key', value: "{{=sprig.regexReplaceAll('^s3://[^/]+/', workflow.parameters.url, '')}}" },
                  ],
                },
              }],
            },
          },
          {
            name: 'forward',
            inputs: {
              parameters: [{ name: 'bucket' }, { name: 'key' }],
              artifacts: [{
                name: 'payload',
                path: PAYLOAD_PATH,
                // A missing object is skipped (the script records it INVALID); other errors fail the step.
                optional: true,
                s3: { endpoint: 's3.amazonaws.com', bucket: '{{inputs.parameters.bucket}}', key: '{{inputs.parameters.key}}', useSDKCreds: true },
              }],
            },
            retryStrategy: { limit: 3, retryPolicy: 'Always', backoff: { duration: '10s', factor: 2, maxDuration: '2m' } },
            script: {
              image: props.image ?? DISPATCH_IMAGE,
              command: ['node'],
              source: script,
              env: [
                { name: 'SWOOP_URL', value: '{{workflow.parameters.url}}' },
                { name: 'SWOOP_INPUT', value: '{{workflow.parameters.input}}' },
                { name: 'SWOOP_SOURCE', value: '{{workflow.parameters.source}}' },
                { name: 'SWOOP_DELIVERY_ID', value: '{{workflow.name}}' },
                { name: 'SWOOP_PAYLOAD_FILE', value: PAYLOAD_PATH },
                { name: 'SWOOP_WEBHOOK_URL', value: webhookUrl },
                { name: 'SWOOP_WEBHOOK_TOKEN', valueFrom: { secretKeyRef: { name: token.name, key: token.key } } },
                { name: 'SWOOP_STATE_URL', value: props.state.url },
                { name: 'SWOOP_STATE_AUTHORIZATION', valueFrom: { secretKeyRef: { name: props.state.authorization.name, key: props.state.authorization.key } } },
              ],
              resources: { requests: { cpu: '50m', memory: '128Mi' }, limits: { memory: '256Mi' } },
              securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ['ALL'] } },
            },
          },
          {
            name: 'record-failure',
            dag: { tasks: [{ name: 'record', template: 'record-invalid', when: '{{workflow.status}} != Succeeded' }] },
          },
          {
            name: 'record-invalid',
            http: {
              ...stateHttp,
              body: "{{=toJson({'type': 'invalid', 'source': workflow.parameters.source, 'message': 'swoop-dispatch could not read or forward the payload at ' + workflow.parameters.url, 'input': workflow.parameters.input, 'detail': workflow.failures ?? workflow.status})}}",
            },
            retryStrategy: { limit: 8, retryPolicy: 'Always', backoff: { duration: '5s', factor: 2, maxDuration: '600s' } },
          },
        ],
      },
    });
  }
}
