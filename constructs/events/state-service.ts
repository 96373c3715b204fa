import type { SecretKey } from './event-sources';
import { parameters, type TriggerParameter } from './sensor';

type ParameterSource = Omit<TriggerParameter, 'dest'>;

/** Where triggers report to the state service. */
export interface StateServiceTarget {
  /** Base URL. */
  readonly url: string;
  /** Secret key whose value is the whole `Authorization` header (`Bearer <writer token>`). */
  readonly authorization: SecretKey;
}

/**
 * An `http` trigger action recording an INVALID payload: `POST {state-url}/events` with body
 * `{"type": "invalid", "source", "input", "message", "detail"}` (contracts.md). The trigger
 * counts only 2xx answers as delivered (set with `invalidPolicy`), so an unreachable state
 * service is retried and then dead-lettered, never dropped.
 */
export function recordInvalidAction(state: StateServiceTarget, dependency: string, fields: { source: string; message: string; input: ParameterSource; detail: ParameterSource }): Record<string, unknown> {
  return {
    http: {
      url: `${state.url.replace(/\/+$/, '')}/events`,
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      secureHeaders: [{ name: 'Authorization', valueFrom: { secretKeyRef: { name: state.authorization.name, key: state.authorization.key } } }],
      timeout: 10,
      payload: parameters(dependency, [
        { dest: 'type', value: 'invalid' },
        { dest: 'source', value: fields.source },
        { dest: 'message', value: fields.message },
        { ...fields.input, dest: 'input' },
        { ...fields.detail, dest: 'detail' },
      ]),
    },
  };
}

/** Trigger `policy` accepting only 2xx answers of an HTTP trigger (otherwise any answer counts as delivered). */
export const HTTP_SUCCESS_POLICY = { policy: { status: { allow: [200, 201, 202, 204] } } };
