// Loading raft.wasm for the tests, and the two WASI implementations that
// can run it under Node.

import { WASI as BrowserWASI } from '@bjorn3/browser_wasi_shim';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { WASI as NodeWASI } from 'node:wasi';

import type { WasiHost } from '../shim/node.js';
import { repoPath, repoRoot } from './paths.js';

let compiled: Promise<WebAssembly.Module> | undefined;

/**
 * Returns raft.wasm compiled: bin/raft.wasm, or $WRAFT_WASM if set. A
 * missing bin/raft.wasm is built with the Go toolchain first (as `make
 * build` does). An existing one is used as it is, even if older than the
 * Go sources.
 */
export function raftWasm(): Promise<WebAssembly.Module> {
  compiled ??= WebAssembly.compile(readFileSync(wasmPath()));
  return compiled;
}

function wasmPath(): string {
  const env = process.env['WRAFT_WASM'];
  if (env) return env;
  const path = repoPath('bin', 'raft.wasm');
  if (existsSync(path)) return path;
  // Test files run in parallel processes: build to a file of our own and
  // rename it into place, so that no process reads a half-written module.
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    execFileSync(
      'go',
      ['build', '-buildmode=c-shared', '-trimpath', '-ldflags=-s -w', '-o', tmp, './wasm'],
      { cwd: repoRoot(), env: { ...process.env, GOOS: 'wasip1', GOARCH: 'wasm' }, stdio: ['ignore', 'inherit', 'inherit'] },
    );
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw new Error(`bin/raft.wasm is missing and building it failed (${String(err)}): run \`make build\` at the repository root`);
  }
  if (!existsSync(path)) throw new Error('bin/raft.wasm is missing: run `make build` at the repository root');
  return path;
}

/** A fresh node:wasi WASI for one instance. */
export function nodeWasi(): WasiHost {
  return new NodeWASI({ version: 'preview1' });
}

/** A fresh @bjorn3/browser_wasi_shim WASI for one instance, as a browser uses it. */
export function browserWasi(): WasiHost {
  return new BrowserWASI([], [], [], { debug: false });
}
