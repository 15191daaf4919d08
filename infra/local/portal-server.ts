import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

/**
 * Runtime configuration served to the portal as `/mdrp-config.json`. Same shape as the file
 * written next to the static export at deploy time in AWS (web/lib/runtime-config.ts reads it).
 */
export interface PortalConfig {
  /** Base URL of the REST API, e.g. `http://127.0.0.1:4000`. */
  apiUrl: string;
  region: string;
  userPoolId: string;
  userPoolClientId: string;
  /** cognito-local endpoint; `null` in AWS (Amplify then uses the regional Cognito endpoint). */
  userPoolEndpoint: string | null;
  /** IANA time zone the portal shows times in, e.g. `Asia/Shanghai`. */
  institutionTimeZone: string;
  defaultLocale: 'zh-CN' | 'en';
  environment: 'local' | 'aws';
  /** Origin of the staging bucket the browser PUTs presigned uploads to (s3rver locally). */
  uploadOrigin?: string;
}

/** Options of {@link startPortalServer}. */
export interface PortalServerOptions {
  /** TCP port; `0` picks a free one (read it back from `url`). */
  port: number;
  /** Bind address; loopback by default because the local platform must not be reachable from the network. */
  host?: string;
  /** Directory of the static export (`web/out`). */
  root: string;
  config: PortalConfig;
}

/** A running portal server. */
export interface PortalServer {
  /** Origin of the server without a trailing slash, e.g. `http://127.0.0.1:3100`. */
  url: string;
  close(): Promise<void>;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  // React Server Component payloads fetched by the Next.js client router during navigation.
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.avif': 'image/avif',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.otf': 'font/otf',
  '.wasm': 'application/wasm',
  '.pdf': 'application/pdf',
  '.xml': 'application/xml; charset=utf-8',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
};

/** Content type for a file name; unknown types are served as opaque bytes (never sniffed, see nosniff). */
export function contentTypeFor(filePath: string): string {
  return CONTENT_TYPES[path.extname(filePath).toLowerCase()] ?? 'application/octet-stream';
}

function originOf(url: string | null): string | undefined {
  if (!url) return undefined;
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}

/** SHA-256 CSP sources for the inline `<script>` elements of an HTML document. */
export function inlineScriptHashes(html: string): string[] {
  const hashes = new Set<string>();
  // Next.js inlines its RSC bootstrap payload; hashing each inline script lets the CSP keep
  // 'unsafe-inline' out of script-src.
  const re = /<script(\s[^>]*)?>([\s\S]*?)<\/script\s*>/gi;
  for (let m = re.exec(html); m; m = re.exec(html)) {
    const attrs = m[1] ?? '';
    const body = m[2] ?? '';
    if (/\ssrc\s*=/i.test(attrs) || body.length === 0) continue;
    hashes.add(`'sha256-${createHash('sha256').update(body, 'utf8').digest('base64')}'`);
  }
  return [...hashes];
}

/**
 * Content-Security-Policy for the portal. The browser only talks to its own origin, the API and
 * Cognito; anything else (fonts, analytics, CDNs) is blocked by design.
 */
export function contentSecurityPolicy(config: PortalConfig, scriptHashes: readonly string[] = []): string {
  const cognito =
    originOf(config.userPoolEndpoint) ?? `https://cognito-idp.${config.region}.amazonaws.com`;
  const connect = ["'self'", originOf(config.apiUrl), cognito, config.uploadOrigin ? originOf(config.uploadOrigin) : undefined].filter((v): v is string => Boolean(v));
  return [
    "default-src 'self'",
    `script-src 'self' ${scriptHashes.join(' ')}`.trim(),
    // React sets style attributes; no third-party stylesheet is loaded.
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self'",
    `connect-src ${[...new Set(connect)].join(' ')}`,
    "worker-src 'self' blob:",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

function securityHeaders(config: PortalConfig, scriptHashes: readonly string[]): Record<string, string> {
  return {
    'Content-Security-Policy': contentSecurityPolicy(config, scriptHashes),
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    // Legacy equivalent of frame-ancestors 'none' for older browsers.
    'X-Frame-Options': 'DENY',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Permissions-Policy': 'camera=(), microphone=(), geolocation=(), payment=()',
  };
}

/**
 * Maps a URL path to candidate files under `root`, or `undefined` when the path is unsafe
 * (traversal, NUL bytes, backslashes, bad percent-encoding).
 */
export function candidateFiles(root: string, urlPath: string): string[] | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  if (decoded.includes('\0') || decoded.includes('\\') || !decoded.startsWith('/')) return undefined;
  // Reject any `..` segment outright rather than normalising it away: a legitimate portal URL never has one.
  if (decoded.split('/').some((segment) => segment === '..')) return undefined;
  const resolved = path.resolve(root, `.${decoded}`);
  const rootResolved = path.resolve(root);
  if (resolved !== rootResolved && !resolved.startsWith(rootResolved + path.sep)) return undefined;
  if (decoded.endsWith('/')) return [path.join(resolved, 'index.html')];
  return [resolved, `${resolved}.html`, path.join(resolved, 'index.html')];
}

async function readFileIfRegular(file: string, realRoot: string): Promise<Buffer | undefined> {
  try {
    const real = await fs.realpath(file);
    // A symlink inside the export must not lead outside it.
    if (real !== realRoot && !real.startsWith(realRoot + path.sep)) return undefined;
    const stat = await fs.stat(real);
    if (!stat.isFile()) return undefined;
    return await fs.readFile(real);
  } catch {
    return undefined;
  }
}

/**
 * Starts the local static server for the built portal (`next build web` → `web/out`).
 * Uses node:http only so the local runtime has no server framework to keep in sync with the
 * S3 + CloudFront behaviour it imitates: `/x/` → `/x/index.html`, `/x` → `/x.html` or
 * `/x/index.html`, `404.html` for misses, `/mdrp-config.json` from `config`, security headers.
 */
export async function startPortalServer(opts: PortalServerOptions): Promise<PortalServer> {
  const host = opts.host ?? '127.0.0.1';
  const root = path.resolve(opts.root);
  const realRoot = await fs.realpath(root);
  const configBody = JSON.stringify(opts.config);
  // Hashed per response (pages are a few KB) rather than cached, so a rebuild of web/out while
  // the server runs never serves a stale CSP.
  const hashesFor = (body: Buffer): string[] => inlineScriptHashes(body.toString('utf8'));

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const base = securityHeaders(opts.config, []);
    if (method !== 'GET' && method !== 'HEAD') {
      res.writeHead(405, { ...base, Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('Method Not Allowed');
      return;
    }
    const urlPath = (req.url ?? '/').split('?')[0]!.split('#')[0]!;

    if (urlPath === '/mdrp-config.json') {
      res.writeHead(200, {
        ...base,
        'Content-Type': 'application/json; charset=utf-8',
        // Differs per environment while the bundle does not; never let a cache pin it.
        'Cache-Control': 'no-store',
      });
      res.end(method === 'HEAD' ? undefined : configBody);
      return;
    }

    const candidates = candidateFiles(root, urlPath);
    if (!candidates) {
      res.writeHead(400, { ...base, 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('Bad Request');
      return;
    }

    for (const file of candidates) {
      const body = await readFileIfRegular(file, realRoot);
      if (!body) continue;
      const type = contentTypeFor(file);
      const isHtml = type.startsWith('text/html');
      const immutable = urlPath.startsWith('/_next/static/');
      res.writeHead(200, {
        ...securityHeaders(opts.config, isHtml ? hashesFor(body) : []),
        'Content-Type': type,
        'Content-Length': String(body.length),
        // Hashed build assets never change; HTML must be revalidated to pick up a new build.
        'Cache-Control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
      });
      res.end(method === 'HEAD' ? undefined : body);
      return;
    }

    const notFoundFile = path.join(root, '404.html');
    const notFound = await readFileIfRegular(notFoundFile, realRoot);
    res.writeHead(404, {
      ...securityHeaders(opts.config, notFound ? hashesFor(notFound) : []),
      'Content-Type': notFound ? 'text/html; charset=utf-8' : 'text/plain; charset=utf-8',
      'Cache-Control': 'no-cache',
    });
    res.end(method === 'HEAD' ? undefined : (notFound ?? 'Not Found'));
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('Internal Server Error');
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  return {
    url: `http://${urlHost}:${address.port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        // Keep-alive browser connections would otherwise hold close() open.
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
