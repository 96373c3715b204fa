import { environmentValues } from '../constructs';

/**
 * The per-environment values the organisation's workflows read, each set per stack under
 * `swoop-platform:workflowValues` in stacks/Pulumi.<stack>.yaml (docs/environments.md).
 * A stack that does not set one its workflows use fails `npm run synth`.
 */
export const env = environmentValues({
  'publish-bucket': 's3:// URL (bucket and prefix) published assets are copied to: a write bucket of the stack\'s dataBuckets',
  'public-url': 'https:// URL the publish bucket is served at, written into the published items\' hrefs',
  'archive-queue': 'SQS queue URL of the archive system, which takes the published payloads with a task token: one of the stack\'s taskTokenQueues',
});
