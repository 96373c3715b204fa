/**
 * An Application Load Balancer's OIDC sign-in, as the service sees it: ES256 keys made here,
 * a loopback stand-in for `https://public-keys.auth.elb.<region>.amazonaws.com/<kid>` serving
 * each public key as PEM by its kid (403 for a kid it does not have, as the S3-backed endpoint
 * answers), and `x-amzn-oidc-data` tokens built as AWS documents them: header {alg, kid,
 * signer, iss, client, exp}, the user's claims as payload, each part base64url WITH padding.
 */
import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export const REGION = 'us-west-2';
export const ACCOUNT = '210987654321';
export const ALB_NAME = 'swoop-prod-dashboard';
export const ALB_ID = '50dc6c495c0c9188';
/** what the stack knows before AWS creates the ALB: the ARN up to its name */
export const SIGNER_PREFIX = `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:loadbalancer/app/${ALB_NAME}/`;
export const SIGNER = `${SIGNER_PREFIX}${ALB_ID}`;

export interface AlbKey {
  readonly kid: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

export const makeKey = (kid: string): AlbKey => ({ kid, ...generateKeyPairSync('ec', { namedCurve: 'P-256' }) });

/** base64url, keeping the `=` padding the ALB sends */
const padded = (b: Buffer) => b.toString('base64').replace(/\+/g, '-').replace(/\//g, '_');

export function albToken(key: AlbKey, o: { header?: Record<string, unknown>; claims?: Record<string, unknown>; signWith?: KeyObject; expIn?: number } = {}): string {
  const exp = Math.floor(Date.now() / 1000) + (o.expIn ?? 120);
  const header = { alg: 'ES256', kid: key.kid, signer: SIGNER, iss: 'https://login.example.com', client: 'swoop-dashboard', exp, ...o.header };
  const claims = { sub: '0f4e1c2a', email: 'oncall@example.com', exp, iss: 'https://login.example.com', ...o.claims };
  const input = `${padded(Buffer.from(JSON.stringify(header)))}.${padded(Buffer.from(JSON.stringify(claims)))}`;
  // ES256 in JWS is r||s (IEEE P1363), not DER
  const signature = sign('sha256', Buffer.from(input), { key: o.signWith ?? key.privateKey, dsaEncoding: 'ieee-p1363' });
  return `${input}.${padded(signature)}`;
}

/** The public-keys endpoint: GET /<kid> -> PEM; `failing` makes it answer 500. */
export class AlbKeyServer {
  readonly asked: string[] = [];
  failing = false;
  url = '';
  private server?: Server;
  private readonly keys = new Map<string, string>();

  add(key: AlbKey): void {
    this.keys.set(key.kid, key.publicKey.export({ type: 'spki', format: 'pem' }) as string);
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const kid = decodeURIComponent((req.url ?? '/').slice(1));
      this.asked.push(kid);
      if (this.failing) return void res.writeHead(500, { 'content-type': 'text/plain' }).end('internal error');
      const pem = this.keys.get(kid);
      if (!pem) return void res.writeHead(403, { 'content-type': 'application/xml' }).end('<Error><Code>AccessDenied</Code></Error>');
      res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(pem);
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/`;
  }

  stop(): Promise<void> {
    return new Promise((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}
