/**
 * The dashboard behind an AWS ALB with OIDC authentication, over real HTTP: tokens signed
 * ES256 with keys made here, served as PEM by kid from a loopback stand-in for the ALB's
 * public-keys endpoint (test/support/alb-oidc.ts). On the ALB listener the user is the
 * verified `x-amzn-oidc-data` and nothing else; on the API port the header is ignored.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DASHBOARD_HEALTH_PATH } from '../../infra/dashboard-ingress';
import { configFromEnv } from '../../state/config';
import { AlbKeyServer, albToken, makeKey, REGION, SIGNER, SIGNER_PREFIX } from '../support/alb-oidc';
import { BACKEND, createTestDb, READER, startTestService, type TestDb, type TestService } from './support';

describe(`dashboard behind an ALB with OIDC (${BACKEND}, real service)`, () => {
  const keys = new AlbKeyServer();
  const key = makeKey('8f1c2d3e-0a1b-4c5d-9e8f-0123456789ab');
  const other = makeKey('11111111-2222-4333-8444-555555555555');
  let t: TestDb;
  let s: TestService;
  let exact: TestService;
  beforeAll(async () => {
    keys.add(key);
    keys.add(other);
    await keys.start();
    t = await createTestDb();
    // what the stack passes: the ARN prefix (AWS assigns the id); and a full ARN
    s = await startTestService(t.db, { dashboard: { albOidc: { region: REGION, signer: SIGNER_PREFIX, claim: 'email', keyUrl: keys.url }, albPort: 0 } });
    exact = await startTestService(t.db, { dashboard: { albOidc: { region: REGION, signer: `${SIGNER_PREFIX}0000000000000000`, claim: 'email', keyUrl: keys.url }, albPort: 0 } });
  });
  afterAll(async () => {
    await exact?.close();
    await s?.close();
    await t?.drop();
    await keys.stop();
  });

  const get = async (base: string, path: string, headers: Record<string, string> = {}) => {
    const res = await fetch(`${base}${path}`, { headers, redirect: 'manual' });
    return { status: res.status, headers: res.headers, text: await res.text() };
  };
  const alb = (token: string) => ({ 'x-amzn-oidc-data': token });

  it('lets a valid header in on the ALB listener and shows the user of the configured claim; its key is fetched once', async () => {
    const token = albToken(key);
    expect(token).toMatch(/=\./); // padded, as the ALB sends it
    const page = await get(s.albUrl!, '/dashboard', alb(token));
    expect(page.status).toBe(200);
    expect(page.text).toContain('Signed in as oncall@example.com');
    expect(page.text).not.toContain('action="/dashboard/logout"');
    expect((await get(s.albUrl!, '/dashboard/search?q=x', alb(albToken(key, { claims: { email: 'second@example.com' } })))).text).toContain('Signed in as second@example.com');
    expect(keys.asked.filter((k) => k === key.kid)).toEqual([key.kid]);
  });

  it.each([
    ['another load balancer signed it', () => albToken(key, { header: { signer: 'arn:aws:elasticloadbalancing:us-west-2:210987654321:loadbalancer/app/someone-else/50dc6c495c0c9188' } }), 'was signed by'],
    ['another account\'s ALB of the same name', () => albToken(key, { header: { signer: SIGNER.replace('210987654321', '123456789012') } }), 'was signed by'],
    ['the name prefix with no id', () => albToken(key, { header: { signer: `${SIGNER_PREFIX}x/50dc6c495c0c9188` } }), 'was signed by'],
    ['expired (header exp)', () => albToken(key, { expIn: -5 }), 'has expired'],
    ['expired claims (payload exp)', () => albToken(key, { claims: { exp: Math.floor(Date.now() / 1000) - 5 } }), 'has expired'],
    ['signed with another key under this kid', () => albToken(key, { signWith: other.privateKey }), 'signature that does not verify'],
    ['a claim changed after signing', () => {
      const [h, , sig] = albToken(key).split('.');
      return `${h}.${Buffer.from(JSON.stringify({ email: 'admin@example.com', exp: 9999999999 })).toString('base64url')}.${sig}`;
    }, 'signature that does not verify'],
    ['a key id AWS does not publish', () => albToken(makeKey('99999999-9999-4999-8999-999999999999')), 'names a key (99999999-9999-4999-8999-999999999999) that AWS does not publish'],
    ['a key id that is a path', () => albToken(key, { header: { kid: '../admin' } }), 'names no usable key id'],
    ['not ES256', () => albToken(key, { header: { alg: 'HS256' } }), 'is not signed ES256'],
    ['no such claim', () => albToken(key, { claims: { email: undefined } }), 'have no &quot;email&quot;'],
    ['not a JWT', () => 'oncall@example.com', 'is not a JWT'],
  ])('refuses a header that is %s: 401 with the reason, no page', async (_what, token, reason) => {
    const r = await get(s.albUrl!, '/dashboard', alb(token()));
    expect(r.status).toBe(401);
    expect(r.text).toContain(reason);
    expect(r.text).not.toContain('Signed in as');
    expect(r.text).not.toContain('cog-archive');
  });

  it('a full ARN must match exactly: the right name with another id is refused', async () => {
    const r = await get(exact.albUrl!, '/dashboard', alb(albToken(key)));
    expect([r.status, r.text.includes('was signed by')]).toEqual([401, true]);
    expect((await get(exact.albUrl!, '/dashboard', alb(albToken(key, { header: { signer: `${SIGNER_PREFIX}0000000000000000` } })))).status).toBe(200);
  });

  it('an unknown key id is asked of AWS once, not on every request', async () => {
    const stranger = makeKey('77777777-7777-4777-8777-777777777777');
    for (let i = 0; i < 3; i++) expect((await get(s.albUrl!, '/dashboard', alb(albToken(stranger)))).status).toBe(401);
    expect(keys.asked.filter((k) => k === stranger.kid)).toHaveLength(1);
  });

  it('without the header, or with only a token or cookie, the ALB listener answers 401 (never 5xx)', async () => {
    expect((await get(s.albUrl!, '/dashboard')).status).toBe(401);
    expect((await get(s.albUrl!, '/dashboard', { 'x-amzn-oidc-data': '' })).status).toBe(401);
    expect((await get(s.albUrl!, '/dashboard', { authorization: `Bearer ${READER}` })).status).toBe(401);
    expect((await get(s.albUrl!, '/dashboard/payload?id=x', { authorization: `Bearer ${READER}` })).status).toBe(401);
    // only the dashboard there, and the stylesheet without the header: the path the ALB's
    // health check asks for (it does not sign in)
    expect((await get(s.albUrl!, '/runs', { ...alb(albToken(key)), authorization: `Bearer ${READER}` })).status).toBe(404);
    expect((await get(s.albUrl!, DASHBOARD_HEALTH_PATH)).status).toBe(200);
  });

  it('the header on the token listener (the API port) is ignored: the sign-in page, 401', async () => {
    const r = await get(s.url, '/dashboard', alb(albToken(key)));
    expect(r.status).toBe(401);
    expect(r.text).toContain('name="token"');
    expect(r.text).not.toContain('Signed in as');
  });

  it('a key that cannot be fetched is a 503 naming why, never a way in; the next request fetches again', async () => {
    const fresh = makeKey('33333333-3333-4333-8333-333333333333');
    keys.add(fresh);
    keys.failing = true;
    try {
      const r = await get(s.albUrl!, '/dashboard', alb(albToken(fresh)));
      expect(r.status).toBe(503);
      expect(r.headers.get('retry-after')).toBe('5');
      expect(r.text).toContain('could not fetch the load balancer&#39;s public key');
      expect(r.text).toContain('answered 500');
      expect(r.text).not.toContain('Signed in as');
    } finally {
      keys.failing = false;
    }
    expect((await get(s.albUrl!, '/dashboard', alb(albToken(fresh)))).status).toBe(200);
    expect(keys.asked.filter((k) => k === fresh.kid)).toHaveLength(2);
  });
});

describe('DASHBOARD_ALB_OIDC, DASHBOARD_ALB_PORT: read from the environment, refused in one line when malformed', () => {
  const ok = { DASHBOARD_ALB_OIDC: `${REGION},${SIGNER_PREFIX},email`, DASHBOARD_ALB_PORT: '8082' };
  it('reads region, signer and claim; the key URL only when given (tests)', () => {
    expect(configFromEnv(ok).dashboard).toMatchObject({ albOidc: { region: REGION, signer: SIGNER_PREFIX, claim: 'email' }, albPort: 8082 });
    expect(configFromEnv(ok).dashboard?.albOidc?.keyUrl).toBeUndefined();
    expect(configFromEnv({ ...ok, DASHBOARD_ALB_KEY_URL: 'http://127.0.0.1:9/' }).dashboard?.albOidc?.keyUrl).toBe('http://127.0.0.1:9/');
    expect(configFromEnv({ ...ok, DASHBOARD_ALB_OIDC: `${REGION},${SIGNER},preferred_username` }).dashboard?.albOidc?.signer).toBe(SIGNER);
  });
  it.each([
    [{ DASHBOARD_ALB_OIDC: 'us-west-2,email' }, /^DASHBOARD_ALB_OIDC must be "<region>,<load balancer ARN, or its prefix ending loadbalancer\/app\/<name>\/>,<claim>", e\.g\. .* \(got "us-west-2,email"\)$/],
    [{ DASHBOARD_ALB_OIDC: `oregon,${SIGNER_PREFIX},email` }, /^DASHBOARD_ALB_OIDC: the region must be an AWS region such as us-west-2 \(got "oregon"\)$/],
    [{ DASHBOARD_ALB_OIDC: `${REGION},arn:aws:elasticloadbalancing:us-west-2:210987654321:loadbalancer/net/x/50dc6c495c0c9188,email` }, /^DASHBOARD_ALB_OIDC: the signer must be an application load balancer's ARN/],
    [{ DASHBOARD_ALB_OIDC: `${REGION},arn:aws:elasticloadbalancing:us-west-2:210987654321:loadbalancer/app/x,email` }, /^DASHBOARD_ALB_OIDC: the signer must be/],
    [{ DASHBOARD_ALB_OIDC: `eu-west-1,${SIGNER_PREFIX},email` }, /^DASHBOARD_ALB_OIDC: the load balancer's ARN is in us-west-2, not eu-west-1; its keys are served by its own region$/],
    [{ DASHBOARD_ALB_OIDC: `${REGION},${SIGNER_PREFIX},e mail` }, /^DASHBOARD_ALB_OIDC: the claim must be a claim name such as email \(got "e mail"\)$/],
    [{ DASHBOARD_ALB_OIDC: ok.DASHBOARD_ALB_OIDC }, /^DASHBOARD_ALB_OIDC needs DASHBOARD_ALB_PORT: the load balancer's header is believed only on that port, which only the load balancer can reach; set both or neither$/],
    [{ DASHBOARD_ALB_PORT: '8082' }, /^DASHBOARD_ALB_PORT is set without DASHBOARD_ALB_OIDC; set both or neither$/],
    [{ ...ok, DASHBOARD_ALB_PORT: 'x' }, /^DASHBOARD_ALB_PORT must be a port number from 0 to 65535 \(got "x"\)$/],
    [{ ...ok, DASHBOARD_ALB_PORT: '8080' }, /^DASHBOARD_ALB_PORT must differ from PORT and METRICS_PORT \(got "8080"\)$/],
    [{ ...ok, DASHBOARD_SSO_HEADER: 'x-auth-request-email', DASHBOARD_SSO_PORT: '8082' }, /^DASHBOARD_ALB_PORT must differ from DASHBOARD_SSO_PORT$/],
    [{ DASHBOARD_ALB_KEY_URL: 'http://127.0.0.1:9/' }, /^DASHBOARD_ALB_KEY_URL is set without DASHBOARD_ALB_OIDC/],
    [{ ...ok, DASHBOARD_ALB_KEY_URL: 'ftp://x/' }, /^DASHBOARD_ALB_OIDC: the key URL must be an http\(s\) URL ending in "\/"/],
  ])('%j', (env, message) => {
    expect(() => configFromEnv(env)).toThrow(message);
  });
});
