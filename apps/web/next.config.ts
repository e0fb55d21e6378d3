import { fileURLToPath } from 'node:url';
import type { NextConfig } from 'next';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

// Kiln does not phone home: `next build` and `next dev` read this after loading the config, so it holds
// however they are started (scripts also set it).
process.env.NEXT_TELEMETRY_DISABLED = '1';

const config: NextConfig = {
  // Workspace packages ship TypeScript source, so Next compiles them like app code.
  transpilePackages: [
    '@kiln/accounts',
    '@kiln/api',
    '@kiln/core',
    '@kiln/db',
    '@kiln/execution',
    '@kiln/notebook',
    '@kiln/scheduler',
  ],
  // The collab rooms live in server.ts, outside Next's bundle. Route handlers that read or rewrite
  // those documents must share server.ts's copy of Yjs: a second copy fails its `instanceof` checks.
  serverExternalPackages: ['yjs'],
  turbopack: {
    root: repoRoot,
    resolveAlias: {
      // y-monaco 0.1.6 imports a path that monaco-editor 0.57's `exports` map no longer allows.
      'monaco-editor/esm/vs/editor/editor.api.js': 'monaco-editor/editor/editor.api.js',
    },
  },
  outputFileTracingRoot: repoRoot,
  poweredByHeader: false,
  reactStrictMode: true,
  async headers() {
    return [
      {
        source: '/:path*',
        headers: [
          // Invitation links carry their token in the path; never leak it to other sites via Referer.
          { key: 'Referrer-Policy', value: 'same-origin' },
          { key: 'X-Content-Type-Options', value: 'nosniff' },
          { key: 'X-Frame-Options', value: 'DENY' },
        ],
      },
    ];
  },
};

export default config;
