/**
 * HTTP routes of wait-for-callback tasks (docs/callbacks.md, docs/contracts.md):
 * - `POST /tasks` (writer token): a workflow's wait step opens its task; 201 once the token
 *   was delivered, 200 when the task already had its answer, 409 when the run is not
 *   claimed or has ended, 502 when the external system did not take the token.
 * - `POST /tasks/{token}/success|failure|heartbeat` (no bearer: the 256-bit token is the
 *   credential, as Step Functions' SendTaskSuccess takes it): 202 once recorded, 404 for an
 *   unknown token, 409 for a late or repeated answer, 400 naming the field of a bad body.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type Answer, type CallbackTasks, DeliveryFailed, NotConfigured, parseAnswer, parseOpenTask, TaskConflict } from './callback-tasks';

type Hook = (req: FastifyRequest, reply: FastifyReply) => Promise<unknown>;

export function registerCallbackTaskRoutes(app: FastifyInstance, tasks: CallbackTasks, writer: Hook): void {
  const refuse = (reply: FastifyReply, err: unknown) => {
    if (err instanceof TaskConflict) return reply.code(409).send({ error: 'conflict', field: err.field, message: err.message });
    if (err instanceof DeliveryFailed) return reply.code(502).send({ error: 'bad_gateway', field: 'send.url', message: err.message });
    if (err instanceof NotConfigured) return reply.code(503).send({ error: 'unavailable', message: err.message });
    throw err;
  };

  app.post('/tasks', { onRequest: writer }, async (req, reply) => {
    const open = parseOpenTask(req.body);
    const auth = req.headers['x-swoop-send-authorization'];
    try {
      const result = await tasks.open(open, typeof auth === 'string' ? auth : undefined);
      return reply.code(result.delivered ? 201 : 200).send(result);
    } catch (err) {
      return refuse(reply, err);
    }
  });

  for (const kind of ['success', 'failure', 'heartbeat'] as const satisfies readonly Answer['kind'][]) {
    app.post(`/tasks/:token/${kind}`, async (req, reply) => {
      const { token } = req.params as { token: string };
      const answer = parseAnswer(kind, req.body);
      try {
        const result = await tasks.answer(token, answer);
        return reply.code(kind === 'heartbeat' ? 200 : 202).send(result);
      } catch (err) {
        return refuse(reply, err);
      }
    });
  }
}
