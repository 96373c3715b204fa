/**
 * The SSO listener: a port of its own on which the dashboard believes the single sign-on
 * proxy's user header (DASHBOARD_SSO_PORT). The header is trustworthy only if nothing but the
 * proxy can send it, so it is honoured only on this port, which the deployment lets only the
 * proxy reach (a NetworkPolicy, infra/network-policies.ts), and never on the API port, where
 * sensors, workflow pods and port-forwards arrive. The port serves /dashboard and nothing
 * else (404), through the same fastify app as the API port. The ALB listener
 * (DASHBOARD_ALB_PORT) is the same kind of port, its requests marked for the ALB's header.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { markAlbRequest, markSsoRequest } from './auth';
import { BASE } from './layout';

export interface SsoListener {
  readonly url: string;
  close(): Promise<void>;
}

/** Listens on `port` (0: any) and hands /dashboard requests to `app`, marked as the proxy's. Call after `app` is ready. */
export const listenSso = (app: FastifyInstance, host: string, port: number): Promise<SsoListener> => listenDashboard(app, host, port, markSsoRequest);

/** Listens on `port` (0: any) and hands /dashboard requests to `app`, marked as the load balancer's. Call after `app` is ready. */
export const listenAlb = (app: FastifyInstance, host: string, port: number): Promise<SsoListener> => listenDashboard(app, host, port, markAlbRequest);

async function listenDashboard(app: FastifyInstance, host: string, port: number, mark: (req: IncomingMessage) => void): Promise<SsoListener> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0]!;
    if (path !== BASE && !path.startsWith(`${BASE}/`)) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end(`only ${BASE} is served on this port\n`);
      return;
    }
    mark(req);
    app.routing(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${shown}:${address.port}`,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
