import type { LintContext } from './context';
import type { LintDocument } from './documents';
import { at, isObject, list, obj, objects, str } from './json';

/**
 * Argo Events wiring: sensor dependencies name an EventSource in the set and an event it
 * defines, and every `eventBusName` names an EventBus in the set.
 */
export function checkEvents(ctx: LintContext): void {
  for (const doc of ctx.inventory.ofKind('EventSource', 'Sensor')) checkEventBus(ctx, doc);
  for (const sensor of ctx.inventory.ofKind('Sensor')) {
    const seen = new Set<string>();
    list(obj(sensor.body.spec).dependencies).forEach((dep, i) => {
      if (!isObject(dep)) return;
      const path = at('spec.dependencies', dep, i);
      const name = str(dep.name);
      if (name !== undefined && seen.has(name)) ctx.report(sensor, path, 'duplicate-name', `dependency name "${name}" is used twice`);
      if (name !== undefined) seen.add(name);
      const sourceName = str(dep.eventSourceName);
      const eventName = str(dep.eventName);
      if (!sourceName || !eventName) {
        ctx.report(sensor, path, 'sensor-dependency', 'a dependency needs eventSourceName and eventName');
        return;
      }
      const source = ctx.inventory.find('EventSource', sourceName, sensor.namespace);
      if (!source) {
        ctx.report(sensor, `${path}.eventSourceName`, 'sensor-dependency', `names EventSource/${sourceName}, which is not in the set`);
        return;
      }
      const events = eventNames(source);
      if (!events.includes(eventName)) {
        ctx.report(sensor, `${path}.eventName`, 'sensor-dependency', `EventSource/${sourceName} defines no event "${eventName}" (it defines: ${events.join(', ') || 'none'})`);
      }
    });
  }
}

function checkEventBus(ctx: LintContext, doc: LintDocument): void {
  const bus = str(obj(doc.body.spec).eventBusName);
  if (bus !== undefined && !ctx.inventory.find('EventBus', bus, doc.namespace)) {
    ctx.report(doc, 'spec.eventBusName', 'event-bus', `names EventBus/${bus}, which is not in the set`);
  }
}

// EventSource spec fields that configure the source itself rather than map event names.
const NOT_EVENTS = new Set(['eventBusName', 'replicas', 'service', 'template']);

/** Event names an EventSource defines: the keys under each of its source types. */
export function eventNames(source: LintDocument): string[] {
  const names: string[] = [];
  for (const [key, value] of Object.entries(obj(source.body.spec))) {
    if (!NOT_EVENTS.has(key) && isObject(value)) names.push(...Object.keys(value));
  }
  return names;
}

/** Dependency names a Sensor declares. */
export function dependencyNames(sensor: LintDocument): Set<string> {
  return new Set(objects(obj(sensor.body.spec).dependencies).map((d) => str(d.name)).filter((n): n is string => n !== undefined));
}
