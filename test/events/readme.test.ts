import { App } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { ContainerTask, synthesize, TaskLibrary, Workflow } from '../../constructs';
import { CallbackParameter, CallbackTarget, PlatformEvents } from '../../constructs/events';
import { readmeSection } from '../support/readme';

describe('README: Events', () => {
  it('its TypeScript examples run as written and synthesize the callbacks they describe', () => {
    const markdown = readmeSection('Events: payloads in, chains, callbacks');
    const code = [...markdown.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]).join('\n').replace(/^import .*$/gm, '');
    expect(code).toContain('new PlatformEvents');
    const app = new App();
    const tool = new ContainerTask(new TaskLibrary(app, 'lib'), 'tool', { image: 'ghcr.io/example/stac-tools:2.1.0' });
    const make = (name: string) => {
      const wf = new Workflow(app, name);
      wf.addStep('work', tool);
      return wf;
    };
    const cog = make('cog-conversion');
    const indexItems = make('index-items');
    const run = new Function('PlatformEvents', 'CallbackParameter', 'CallbackTarget', 'app', 'workflows', 'cog', 'indexItems', 'queueReaderRoleArn', `${code}\nreturn events;`);
    const events = run(PlatformEvents, CallbackParameter, CallbackTarget, app, [cog, indexItems], cog, indexItems, 'arn:aws:iam::123456789012:role/reader') as PlatformEvents;
    expect(events).toBeInstanceOf(PlatformEvents);
    const text = synthesize(app).get('events.yaml') ?? '';
    for (const trigger of ['callback-publish-to-stac', 'callback-alert', 'callback-per-item', 'start-cog-conversion-from-sqs']) expect(text).toContain(`name: ${trigger}`);
  });
});
