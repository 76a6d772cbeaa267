#!/usr/bin/env node
// Bundles the standalone supervisor (dist/src/supervisor/main.js) into one ES module,
// dist/supervisor-bundle/nubes-supervisor.mjs, with Vite (rolldown). A Slurm job starts one supervisor per
// task: loading one file instead of some hundred modules halves its start-up. The AWS SDK stays outside
// (loaded from node_modules, and only by jobs that stage files).
import { build } from 'vite';

const root = new URL('..', import.meta.url).pathname;
await build({
  root,
  configFile: false,
  logLevel: 'warn',
  build: {
    ssr: 'dist/src/supervisor/main.js',
    outDir: 'dist/supervisor-bundle',
    emptyOutDir: true,
    minify: false,
    target: 'node20',
    rollupOptions: {
      external: [/^@aws-sdk\//, /^@smithy\//],
      output: { format: 'es', entryFileNames: 'nubes-supervisor.mjs' },
    },
  },
  ssr: { noExternal: true, target: 'node' },
});
