import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  candidateFiles,
  contentSecurityPolicy,
  inlineScriptHashes,
  startPortalServer,
  type PortalConfig,
  type PortalServer,
} from '../../../infra/local/portal-server';

const config: PortalConfig = {
  apiUrl: 'http://127.0.0.1:4000',
  region: 'us-east-1',
  userPoolId: 'local_test',
  userPoolClientId: 'client',
  userPoolEndpoint: 'http://127.0.0.1:9230',
  institutionTimeZone: 'Asia/Shanghai',
  defaultLocale: 'zh-CN',
  environment: 'local',
};

/** Raw GET so that paths like `/../x` reach the server un-normalised (fetch would normalise them). */
function get(base: string, rawPath: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request({ hostname, port, path: rawPath, method: 'GET' }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('local portal server (R-SEC-5 headers, R-OPS-1 local runtime)', () => {
  let dir: string;
  let root: string;
  let server: PortalServer;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'mdrp-portal-server-'));
    root = path.join(dir, 'out');
    mkdirSync(path.join(root, 'patients', 'view'), { recursive: true });
    mkdirSync(path.join(root, '_next', 'static', 'chunks'), { recursive: true });
    writeFileSync(path.join(root, 'index.html'), '<html><script>self.x=1</script><script src="/a.js"></script>home</html>');
    writeFileSync(path.join(root, 'patients', 'index.html'), '<html>patients</html>');
    writeFileSync(path.join(root, 'patients', 'view', 'index.html'), '<html>patient view</html>');
    writeFileSync(path.join(root, 'about.html'), '<html>about</html>');
    writeFileSync(path.join(root, '404.html'), '<html>not found page</html>');
    writeFileSync(path.join(root, '_next', 'static', 'chunks', 'app.js'), 'console.log(1)');
    writeFileSync(path.join(root, 'style.css'), 'body{}');
    writeFileSync(path.join(dir, 'secret.txt'), 'top secret');
    symlinkSync(path.join(dir, 'secret.txt'), path.join(root, 'leak.txt'));
    server = await startPortalServer({ port: 0, root, config });
  });

  afterAll(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('binds to loopback and serves index.html for / and /x/', async () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const home = await get(server.url, '/');
    expect(home.status).toBe(200);
    expect(home.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(home.body).toContain('home');
    expect((await get(server.url, '/patients/')).body).toContain('patients');
    expect((await get(server.url, '/patients/view/?id=abc')).body).toContain('patient view');
  });

  it('resolves /x to x.html or x/index.html', async () => {
    expect((await get(server.url, '/about')).body).toContain('about');
    expect((await get(server.url, '/patients')).body).toContain('patients');
  });

  it('serves assets with content types and long caching for hashed build files', async () => {
    const js = await get(server.url, '/_next/static/chunks/app.js');
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(js.headers['cache-control']).toContain('immutable');
    expect((await get(server.url, '/style.css')).headers['content-type']).toBe('text/css; charset=utf-8');
  });

  it('answers /mdrp-config.json from the given config, never cached', async () => {
    const res = await get(server.url, '/mdrp-config.json');
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(JSON.parse(res.body)).toEqual(config);
  });

  it('returns 404.html with status 404 for unknown paths', async () => {
    const res = await get(server.url, '/nope/');
    expect(res.status).toBe(404);
    expect(res.body).toContain('not found page');
  });

  it('rejects path traversal, encoded traversal and symlinks leaving the root', async () => {
    for (const p of ['/../secret.txt', '/%2e%2e/secret.txt', '/patients/..%2f..%2fsecret.txt', '/%2e%2e%5csecret.txt', '/a%00b']) {
      const res = await get(server.url, p);
      expect(res.status, p).toBe(400);
      expect(res.body, p).not.toContain('top secret');
    }
    const link = await get(server.url, '/leak.txt');
    expect(link.status).toBe(404);
    expect(link.body).not.toContain('top secret');
    expect(candidateFiles(root, '/%E0%A4%A')).toBeUndefined();
  });

  it('sets security headers with a CSP limited to the API and Cognito and hashes of inline scripts', async () => {
    const res = await get(server.url, '/');
    const csp = String(res.headers['content-security-policy']);
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("connect-src 'self' http://127.0.0.1:4000 http://127.0.0.1:9230");
    expect(csp).not.toContain("script-src 'self' 'unsafe-inline'");
    expect(csp).toContain(inlineScriptHashes('<script>self.x=1</script>')[0]!);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
  });

  it('uses the regional Cognito endpoint in the CSP when no custom endpoint is configured', () => {
    const csp = contentSecurityPolicy({ ...config, userPoolEndpoint: null, region: 'ap-east-1' });
    expect(csp).toContain('https://cognito-idp.ap-east-1.amazonaws.com');
  });

  it('rejects methods other than GET and HEAD', async () => {
    const res = await fetch(`${server.url}/`, { method: 'POST' });
    expect(res.status).toBe(405);
  });
});
