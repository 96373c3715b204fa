/**
 * The dashboard over HTTP against the real service: who gets in (reader/writer token,
 * session cookie, SSO header only when configured), bad parameters answered 400 with the
 * parameter named, the headers that keep the pages inert (CSP, no caching), every value
 * escaped, and what the timeline holds (notifications, callback tasks, chain links).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configFromEnv } from '../../state/config';
import { SEED, seedDashboard } from '../support/dashboard-seed';
import { BACKEND, createTestDb, READER, startTestService, type TestDb, type TestService, WRITER } from './support';

describe(`dashboard over HTTP (${BACKEND}, real service)`, () => {
  let t: TestDb;
  let s: TestService;
  let sso: TestService;
  beforeAll(async () => {
    t = await createTestDb();
    s = await startTestService(t.db);
    sso = await startTestService(t.db, { dashboard: { ssoHeader: 'x-auth-request-email', ssoPort: 0 } });
    await seedDashboard(s.url, WRITER);
  });
  afterAll(async () => {
    await sso?.close();
    await s?.close();
    await t?.drop();
  });

  const get = async (path: string, headers: Record<string, string> = {}, base = s.url) => {
    const res = await fetch(`${base}${path}`, { headers, redirect: 'manual' });
    return { status: res.status, headers: res.headers, text: await res.text() };
  };
  const asReader = { authorization: `Bearer ${READER}` };

  it('answers the sign-in form (401) without a credential, and the page with the reader or writer token', async () => {
    const none = await get('/dashboard');
    expect(none.status).toBe(401);
    expect(none.text).toContain('name="token"');
    expect(none.text).not.toContain('cog-archive');
    expect((await get('/dashboard', { authorization: 'Bearer wrong' })).status).toBe(401);
    expect((await get('/dashboard', asReader)).status).toBe(200);
    expect((await get('/dashboard', { authorization: `Bearer ${WRITER}` })).status).toBe(200);
  });

  it('signs in with a form post: the cookie is a digest, not the token, and opens the pages until sign-out', async () => {
    const wrong = await fetch(`${s.url}/dashboard/login`, { method: 'POST', body: new URLSearchParams({ token: 'nope', next: '/dashboard' }), redirect: 'manual' });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('set-cookie')).toBeNull();
    const ok = await fetch(`${s.url}/dashboard/login`, { method: 'POST', body: new URLSearchParams({ token: READER, next: 'https://evil.example/' }), redirect: 'manual' });
    expect(ok.status).toBe(303);
    expect(ok.headers.get('location')).toBe('/dashboard');
    const cookie = ok.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^swoop_dashboard=[^;]+; Path=\/dashboard; HttpOnly; SameSite=Strict/);
    expect(cookie).not.toContain(READER);
    const session = cookie.split(';')[0]!;
    expect((await get('/dashboard', { cookie: session })).status).toBe(200);
    // the cookie is no token for the API
    expect((await get('/runs', { authorization: `Bearer ${session.split('=')[1]}` })).status).toBe(401);
    expect((await get('/dashboard', { cookie: 'swoop_dashboard=forged' })).status).toBe(401);
    const out = await fetch(`${s.url}/dashboard/logout`, { method: 'POST', headers: { cookie: session }, redirect: 'manual' });
    expect(out.headers.get('set-cookie')).toContain('Max-Age=0');
  });

  it('lets the SSO header in only where DASHBOARD_SSO_HEADER names it, on the SSO listener only, and shows the user', async () => {
    const header = { 'x-auth-request-email': 'oncall@example.com' };
    expect((await get('/dashboard', header)).status).toBe(401);
    // the same service's API port: whoever reaches it could send the header
    expect((await get('/dashboard', header, sso.url)).status).toBe(401);
    const page = await get('/dashboard', header, sso.ssoUrl);
    expect(page.status).toBe(200);
    expect(page.text).toContain('Signed in as oncall@example.com');
    expect((await get('/dashboard', { 'x-auth-request-email': ' ' }, sso.ssoUrl)).status).toBe(401);
    // the listener serves the dashboard and nothing else
    expect((await get('/runs', { authorization: `Bearer ${READER}` }, sso.ssoUrl)).status).toBe(404);
    expect((await get('/dashboard/search?q=x', asReader, sso.ssoUrl)).status).toBe(200);
  });

  it('sends pages that run no script and are not cached', async () => {
    const page = await get('/dashboard', asReader);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(page.text).not.toMatch(/<script|\sstyle=|\son[a-z]+=/i);
  });

  it.each([
    ['/dashboard?window=2d', 'window'],
    ['/dashboard?windw=24h', 'windw'],
    ['/dashboard?window=24h&window=7d', 'window'],
    ['/dashboard?workflow=a%00b', 'workflow'],
    ['/dashboard/payload', 'id'],
    ['/dashboard/run?name=', 'name'],
  ])('refuses %s with 400 naming %s', async (path, field) => {
    const page = await get(path, asReader);
    expect(page.status).toBe(400);
    expect(page.text).toContain(field);
  });

  it('answers 404 pages for an unknown payload or run', async () => {
    expect((await get('/dashboard/payload?id=nope', asReader)).status).toBe(404);
    expect((await get('/dashboard/run?name=nope', asReader)).status).toBe(404);
  });

  it('escapes what payloads carry', async () => {
    const id = 'naip/workflow-cog-archive/<img src=x onerror=alert(1)>';
    const res = await fetch(`${s.url}/claim`, {
      method: 'POST', headers: { authorization: `Bearer ${WRITER}`, 'content-type': 'application/json' },
      body: JSON.stringify({ payloadId: id, workflow: 'cog-archive', run: 'escape-check', input: '"><script>alert(2)</script>' }),
    });
    expect(res.status).toBe(200);
    const page = await get(`/dashboard/payload?id=${encodeURIComponent(id)}`, asReader);
    expect(page.status).toBe(200);
    expect(page.text).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(page.text).not.toContain('<img');
    expect(page.text).not.toContain('<script>');
  });

  it('a run name finds its payload; the run page goes to its row', async () => {
    const search = await get(`/dashboard/search?q=${SEED.child.run}`, asReader);
    expect(search.status).toBe(303);
    expect(search.headers.get('location')).toBe(`/dashboard/payload?id=${encodeURIComponent(SEED.child.payloadId)}#run-${SEED.child.run}`);
    const run = await get(`/dashboard/run?name=${SEED.chained.run}`, asReader);
    expect(run.headers.get('location')).toBe(`/dashboard/payload?id=${encodeURIComponent(SEED.chained.payloadId)}#run-${SEED.chained.run}`);
  });

  it('shows in the timeline the notification, the chain link, and a wait-for-callback task', async () => {
    await t.db.query(`SELECT * FROM swoop_task_open(sha256('token-1'::bytea), 'swoop', 'publish', $1, $2, 'approve', $3, NULL, 3600)`,
      [SEED.child.run, `uid-${SEED.child.run}`, `${SEED.child.run}-123`]);
    const child = await get(`/dashboard/payload?id=${encodeURIComponent(SEED.child.payloadId)}`, asReader);
    expect(child.text).toMatch(/<li data-kind="callback">.*step <code>approve<\/code> waiting for its callback/);
    expect(child.text).toContain(`Started by <code>${SEED.chained.run}</code>`);
    const parent = await get(`/dashboard/payload?id=${encodeURIComponent(SEED.chained.payloadId)}`, asReader);
    expect(parent.text).toMatch(/<li data-kind="notification">.*run.finished SUCCESSFUL queued, next: 1 workflow/);
    expect(parent.text).toMatch(/<li data-kind="chain">.*started <code>publish-s2-m4q9z<\/code>/);
  });
});

describe('dashboard configuration (DASHBOARD_ARGO_WORKFLOW_URL, DASHBOARD_SSO_HEADER, DASHBOARD_SSO_PORT)', () => {
  it('reads them, and none is required', () => {
    expect(configFromEnv({}).dashboard).toEqual({ argoWorkflowUrl: undefined, ssoHeader: undefined });
    expect(configFromEnv({ DASHBOARD_ARGO_WORKFLOW_URL: 'https://argo.example.com/workflows/swoop/{name}?uid={uid}', DASHBOARD_SSO_HEADER: 'X-Auth-Request-Email', DASHBOARD_SSO_PORT: '8081' }).dashboard)
      .toEqual({ argoWorkflowUrl: 'https://argo.example.com/workflows/swoop/{name}?uid={uid}', ssoHeader: 'X-Auth-Request-Email', ssoPort: 8081 });
  });
  it.each([
    [{ DASHBOARD_ARGO_WORKFLOW_URL: 'https://argo.example.com/workflows/swoop' }, /DASHBOARD_ARGO_WORKFLOW_URL must be an http\(s\) URL containing \{name\}/],
    [{ DASHBOARD_ARGO_WORKFLOW_URL: 'javascript:alert(1)//{name}' }, /DASHBOARD_ARGO_WORKFLOW_URL/],
    [{ DASHBOARD_SSO_HEADER: 'x user' }, /DASHBOARD_SSO_HEADER must be a header name/],
    [{ DASHBOARD_SSO_HEADER: 'x-auth-request-email' }, /^DASHBOARD_SSO_HEADER needs DASHBOARD_SSO_PORT: the header is trusted only on that port, which only the SSO proxy can reach; set both or neither$/],
    [{ DASHBOARD_SSO_PORT: '8081' }, /^DASHBOARD_SSO_PORT is set without DASHBOARD_SSO_HEADER; set both or neither$/],
    [{ DASHBOARD_SSO_HEADER: 'x-auth-request-email', DASHBOARD_SSO_PORT: 'eighty' }, /^DASHBOARD_SSO_PORT must be a port number from 0 to 65535 \(got "eighty"\)$/],
    [{ DASHBOARD_SSO_HEADER: 'x-auth-request-email', DASHBOARD_SSO_PORT: '8080' }, /^DASHBOARD_SSO_PORT must differ from PORT and METRICS_PORT \(got "8080"\)$/],
    [{ DASHBOARD_SSO_HEADER: 'Authorization' }, /DASHBOARD_SSO_HEADER must name the header your SSO proxy sets/],
  ])('refuses %j', (env, message) => {
    expect(() => configFromEnv(env)).toThrow(message);
  });
});
