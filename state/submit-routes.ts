/**
 * `POST /submit` (writer token; docs/state.md, "Submissions"): a sensor trigger hands over a
 * run; the service claims its payload and creates the Workflow only when the claim is accepted.
 * 201 created; 200 nothing created (claim refused, Workflow already there, run already
 * finished); 400 naming the field; 503 with Retry-After when the database or the Kubernetes API
 * or the payload store is unreachable (the trigger retries with the same run name); 502 when
 * the API server refused the Workflow for good, 422 (field `input`) when the payload's
 * projections can never be computed (state/projection.ts): either way the claimed run is
 * recorded FAILED, so the trigger's retry finds it final (200).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { parseSubmit, type Submitter, SubmitRefused, SubmitUnavailable, SubmitUnprojectable } from './submit';

type Hook = (req: FastifyRequest, reply: FastifyReply) => Promise<unknown>;

export function registerSubmitRoutes(app: FastifyInstance, submitter: Submitter | undefined, writer: Hook): void {
  app.post('/submit', { onRequest: writer }, async (req, reply) => {
    const request = parseSubmit(req.body);
    if (!submitter) {
      reply.header('retry-after', '10');
      return reply.code(503).send({
        error: 'unavailable',
        message: 'this state service has no Kubernetes API to create Workflows with (in-cluster service account, or KUBE_API_URL and WORKFLOW_NAMESPACE)',
      });
    }
    try {
      const result = await submitter.submit(request);
      return reply.code(result.created ? 201 : 200).send(result);
    } catch (err) {
      if (err instanceof SubmitUnavailable) {
        req.log.warn({ err: err.message, run: request.name }, 'workflow create deferred');
        reply.header('retry-after', '1');
        return reply.code(503).send({ error: 'unavailable', message: err.message });
      }
      if (err instanceof SubmitRefused) return reply.code(502).send({ error: 'bad_gateway', field: 'workflow', message: err.message });
      if (err instanceof SubmitUnprojectable) return reply.code(422).send({ error: 'unprocessable', field: 'input', message: err.message });
      throw err;
    }
  });
}
