import { createServer, request, type Server } from 'node:http';

/**
 * A small proxy in front of cognito-local for the browser. Amplify v6 refreshes tokens with
 * `GetTokensFromRefreshToken`, which cognito-local does not implement; the proxy rewrites it to
 * the equivalent `InitiateAuth` with `REFRESH_TOKEN_AUTH` (same response shape). Everything else
 * passes through untouched.
 */
export async function startCognitoRefreshProxy(opts: { port: number; targetPort: number }): Promise<{ url: string; close(): Promise<void> }> {
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
      const upstream = request({ host: '127.0.0.1', port: opts.targetPort, method: req.method, path: req.url, headers }, (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
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
