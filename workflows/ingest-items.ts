import { Duration } from 'cdk8s';
import type { Construct } from 'constructs';
import { Workflow } from '../constructs';
import type { Tasks } from './tasks';

/**
 * Ingest items from producers: validate the payload, publish it; a payload that fails
 * validation (exit 65, "invalid") is quarantined for a human instead, and the run still ends
 * SUCCESSFUL: the failure was handled (Step Functions Catch -> a handler state).
 */
export function ingestItems(scope: Construct, tasks: Tasks) {
  const wf = new Workflow(scope, 'ingest-items', {
    description: 'Validate and publish producer payloads; quarantine the invalid ones',
    version: '1.0.0',
    timeout: Duration.minutes(20),
  });
  const quarantine = wf.addStep('quarantine', tasks.quarantinePayload, { parameters: { reason: 'failed STAC/cirrus validation' } });
  const validated = wf.addStep('validate', tasks.validatePayload, { catch: [{ on: ['invalid'], then: quarantine }] });
  wf.addStep('publish', tasks.publishStac, { input: validated.output });
  return wf;
}
