/**
 * The state service reaches the Argo Server over HTTPS, whose certificate is self-signed
 * unless the operator gives it one (infra's Argo). Against a real loopback HTTPS server with a
 * certificate made here by openssl: verification fails without configuration, succeeds with
 * the certificate's CA given as ARGO_CA_FILE (preferred), or with ARGO_INSECURE_SKIP_VERIFY;
 * a CA that did not sign it still fails.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArgoClient } from '../../state/argo-client';
import { configFromEnv } from '../../state/config';

const HAVE_OPENSSL = spawnSync('openssl', ['version']).status === 0;
const MISSING = 'needs the openssl command to make a certificate (apt-get install openssl; .ci/run installs it)';
if (!HAVE_OPENSSL && process.env.CI) throw new Error(MISSING);

/** A self-signed certificate for 127.0.0.1 (what Argo's server makes for itself), as PEM files in `dir`. */
function selfSigned(dir: string, name: string): { key: string; cert: string; certFile: string } {
  const keyFile = join(dir, `${name}.key`);
  const certFile = join(dir, `${name}.crt`);
  const made = spawnSync('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '2',
    '-subj', `/CN=${name}`, '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
  ], { encoding: 'utf8' });
  if (made.status !== 0) throw new Error(`openssl failed: ${made.stderr}`);
  return { key: readFileSync(keyFile, 'utf8'), cert: readFileSync(certFile, 'utf8'), certFile };
}

const SET = { namespace: 'swoop', name: 'run-1', nodeFieldSelector: 'name=run-1.approve.wait', phase: 'Succeeded' as const, outputParameters: '{"output":"s3://b/o.json"}' };

describe.skipIf(!HAVE_OPENSSL)(`the Argo Server over HTTPS with a self-signed certificate${HAVE_OPENSSL ? '' : ` - skipped: ${MISSING}`}`, () => {
  let dir: string;
  let server: Server;
  let url: string;
  let argoCert: { certFile: string; cert: string };
  let otherCert: { certFile: string };
  const received: { path: string; authorization?: string; body: unknown }[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'swoop-argo-tls-'));
    const pem = selfSigned(dir, 'argo-server');
    argoCert = pem;
    otherCert = selfSigned(dir, 'someone-else');
    server = createServer({ key: pem.key, cert: pem.cert }, (req, res) => {
      let text = '';
      req.on('data', (c: Buffer) => (text += c));
      req.on('end', () => {
        received.push({ path: req.url ?? '', authorization: req.headers.authorization, body: JSON.parse(text) });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const client = (env: Record<string, string>) => new ArgoClient(configFromEnv({ STATE_WRITE_TOKEN: 'w', STATE_READ_TOKEN: 'r', ARGO_SERVER_URL: url, ARGO_TOKEN: 'argo-token', ...env }).argoServer!);

  it('fails verification without configuration, and the request never reaches the server', async () => {
    const before = received.length;
    const answer = await client({}).setNode(SET);
    expect(answer.status).toBe(0);
    expect(answer.message).toMatch(/self[- ]signed certificate/i);
    expect(received.length).toBe(before);
  });

  it('verifies against ARGO_CA_FILE: the request arrives, with the bearer token', async () => {
    const answer = await client({ ARGO_CA_FILE: argoCert.certFile }).setNode(SET);
    expect(answer).toEqual({ status: 200, message: '' });
    expect(received.at(-1)).toEqual({ path: '/api/v1/workflows/swoop/run-1/set', authorization: 'Bearer argo-token', body: SET });
  });

  it('still fails with a CA that did not sign the server\'s certificate', async () => {
    const answer = await client({ ARGO_CA_FILE: otherCert.certFile }).setNode(SET);
    expect(answer.status).toBe(0);
    expect(answer.message).toMatch(/self[- ]signed certificate|unable to verify|certificate/i);
  });

  it('accepts the certificate unverified with ARGO_INSECURE_SKIP_VERIFY=true', async () => {
    expect(await client({ ARGO_INSECURE_SKIP_VERIFY: 'true' }).setNode(SET)).toEqual({ status: 200, message: '' });
  });

  it('refuses an unreadable or non-PEM ARGO_CA_FILE, and both settings at once, at start', () => {
    const base = { STATE_WRITE_TOKEN: 'w', STATE_READ_TOKEN: 'r', ARGO_SERVER_URL: url, ARGO_TOKEN: 't' };
    expect(() => configFromEnv({ ...base, ARGO_CA_FILE: join(dir, 'missing.crt') })).toThrow(/^ARGO_CA_FILE .*missing\.crt cannot be read \(ENOENT/);
    const notPem = join(dir, 'not.pem');
    writeFileSync(notPem, 'hello');
    expect(() => configFromEnv({ ...base, ARGO_CA_FILE: notPem })).toThrow(`ARGO_CA_FILE ${notPem} holds no PEM certificate; give the CA bundle that signed the Argo Server's certificate`);
    expect(() => configFromEnv({ ...base, ARGO_CA_FILE: argoCert.certFile, ARGO_INSECURE_SKIP_VERIFY: 'true' })).toThrow(
      'ARGO_CA_FILE and ARGO_INSECURE_SKIP_VERIFY=true are both set; keep ARGO_CA_FILE (the server is verified against it) and drop ARGO_INSECURE_SKIP_VERIFY',
    );
  });
});
