import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { ProxiedCognitoCall } from './cognito-auth-audit';

/**
 * A small proxy in front of cognito-local for the browser. Amplify v6 refreshes tokens with
 * `GetTokensFromRefreshToken`, which cognito-local does not implement; the proxy rewrites it to
 * the equivalent `InitiateAuth` with `REFRESH_TOKEN_AUTH` (same response shape). Everything else
 * passes through untouched.
 *
 * With `onAuthCall`, the proxy also reports every call (R-AUD-1: sign-in success and failure,
 * sign-out, password and MFA calls are audited, as CloudTrail reports them in AWS). The answer is
 * held until the report is written; if it cannot be, the caller gets 503 instead of tokens (fail
 * closed, like the API).
 */
export async function startCognitoRefreshProxy(opts: {
  port: number;
  targetPort: number;
  onAuthCall?: (call: ProxiedCognitoCall) => Promise<void>;
}): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body = Buffer.concat(chunks);
      const headers = { ...req.headers };
      if (String(headers['x-amz-target']).endsWith('.GetTokensFromRefreshToken')) {
        try {
          const input = JSON.parse(body.toString('utf8')) as { RefreshToken?: string; ClientId?: string };
          body = Buffer.from(JSON.stringify({ AuthFlow: 'REFRESH_TOKEN_AUTH', ClientId: input.ClientId, AuthParameters: { REFRESH_TOKEN: input.RefreshToken } }));
          headers['x-amz-target'] = 'AWSCognitoIdentityProviderService.InitiateAuth';
        } catch {
          // Malformed: let cognito-local answer with its own error.
        }
      }
      headers['content-length'] = String(body.length);
      headers.host = `127.0.0.1:${opts.targetPort}`;
      const target = String(headers['x-amz-target'] ?? '');
      const upstream = request({ host: '127.0.0.1', port: opts.targetPort, method: req.method, path: req.url, headers }, (up) => {
        if (!opts.onAuthCall || !target) {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
          return;
        }
        void reportThenAnswer(opts.onAuthCall, req, res, up, target, body);
      });
      upstream.on('error', () => {
        res.writeHead(502, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ __type: 'ServiceUnavailable', message: 'identity emulator unavailable' }));
      });
      upstream.end(body);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, '127.0.0.1', () => resolve());
  });
  return { url: `http://127.0.0.1:${opts.port}`, close: () => new Promise((r) => server.close(() => r())) };
}

async function reportThenAnswer(
  onAuthCall: (call: ProxiedCognitoCall) => Promise<void>,
  req: IncomingMessage,
  res: import('node:http').ServerResponse,
  up: IncomingMessage,
  target: string,
  requestBody: Buffer,
): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const c of up) chunks.push(c as Buffer);
  const responseBody = Buffer.concat(chunks);
  const status = up.statusCode ?? 502;
  try {
    await onAuthCall({ target, requestBody, status, responseBody, ...(req.socket.remoteAddress ? { sourceIp: req.socket.remoteAddress.replace(/^::ffff:/, '') } : {}), ...(req.headers['user-agent'] ? { userAgent: req.headers['user-agent'] } : {}) });
  } catch {
    res.writeHead(503, { 'content-type': 'application/x-amz-json-1.1' });
    res.end(JSON.stringify({ __type: 'ServiceUnavailable', message: 'audit trail unavailable' }));
    return;
  }
  const headers = { ...up.headers, 'content-length': String(responseBody.length) };
  delete headers['transfer-encoding'];
  res.writeHead(status, headers);
  res.end(responseBody);
}
