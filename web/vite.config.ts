// The dashboard's build: app/ → dist-app/, loadable from any static
// server (relative paths). raft.wasm is bin/raft.wasm, copied as it is
// (never rebuilt), next to index.html.

import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';

const here = dirname(fileURLToPath(import.meta.url));
const wasm = process.env['WRAFT_WASM'] ?? resolve(here, '..', 'bin', 'raft.wasm');

function raftWasm(): Plugin {
  return {
    name: 'wraft-raft-wasm',
    configureServer(server) {
      server.middlewares.use('/raft.wasm', (_req, res) => {
        res.setHeader('Content-Type', 'application/wasm');
        res.end(readFileSync(wasm));
      });
    },
    writeBundle(options) {
      if (!existsSync(wasm)) throw new Error(`${wasm} is missing: run \`make build\` at the repository root`);
      const out = options.dir ?? resolve(here, 'dist-app');
      mkdirSync(out, { recursive: true });
      copyFileSync(wasm, resolve(out, 'raft.wasm'));
    },
  };
}

export default defineConfig({
  root: resolve(here, 'app'),
  base: './',
  plugins: [raftWasm()],
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  worker: { format: 'es' },
  build: { outDir: resolve(here, 'dist-app'), emptyOutDir: true, target: 'es2022' },
});
