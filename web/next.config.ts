import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NextConfig } from 'next';

// The portal is hosted as plain files (S3 + CloudFront in AWS, infra/local/portal-server.ts locally),
// so everything must be statically exportable: no route handlers, middleware or server actions.
// Builds must make no network connections (offline CI, hospital networks). Next reads this when it
// creates its telemetry client, which happens after loading this file; the lead's npm scripts set it too.
process.env.NEXT_TELEMETRY_DISABLED ??= '1';

const webDir = path.dirname(fileURLToPath(import.meta.url));

/** Next.js configuration of the MDRP researcher portal (static export, no server). */
const nextConfig: NextConfig = {
  output: 'export',
  // `/x/` → `x/index.html` keeps S3 + CloudFront and the local server free of rewrite rules.
  trailingSlash: true,
  // The image optimizer needs a server; a static export cannot use it.
  images: { unoptimized: true },
  reactStrictMode: true,
  poweredByHeader: false,
  // The app uses the repository's root node_modules; tell Turbopack where the workspace starts.
  turbopack: { root: path.resolve(webDir, '..') },
  outputFileTracingRoot: path.resolve(webDir, '..'),
};

export default nextConfig;
