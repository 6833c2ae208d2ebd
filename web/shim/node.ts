// RaftNode: one engine running inside its own instance of raft.wasm. It
// speaks the ABI of docs/ABI.md and knows nothing of the host around it:
// the caller picks the WASI implementation (node:wasi under Node,
// @bjorn3/browser_wasi_shim in a browser).

import { DecodeError } from './encoding/primitives.js';
import { decodeEffects, type Effect } from './encoding/effects.js';
import { encodeInit, type Config, type Restored } from './encoding/init.js';
import { encodeInputs, type Input } from './encoding/inputs.js';
import { EventKind } from './encoding/raft.js';

/** The version of the exports and their lifecycle that this host speaks. */
export const WASM_ABI_VERSION = 1;

/**
 * The part of a WASI preview1 implementation that a RaftNode uses. Both
 * node:wasi's WASI (created with {version: 'preview1'}) and
 * @bjorn3/browser_wasi_shim's (created with {debug: false}) fit. One WASI
 * object serves one instance: make a new one for every RaftNode.
 */
export interface WasiHost {
  readonly wasiImport: object;
  /** Runs the module's _initialize export (a reactor's start). */
  initialize(instance: { exports: { memory: WebAssembly.Memory; _initialize?: () => unknown } }): void;
}

/**
 * CoreError means the core failed: it reported an EventCoreError (a panic
 * inside raft.wasm, inputs it could not decode, an init it refused),
 * trapped, or returned bytes that do not decode. After one, the RaftNode is
 * unusable (every later call throws it again): discard it and create a new
 * one from what storage holds.
 */
export class CoreError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CoreError';
  }
}

/** What one handle call returns: the decoded effects and the bytes the core returned. */
export interface Handled {
  effects: Effect[];
  /** The effects batch exactly as raft.wasm returned it (a copy). */
  bytes: Uint8Array;
}

/** What drivers such as the reference simulation need from a core. */
export interface Core {
  handleBatch(inputs: readonly Input[]): Handled;
}

interface Exports {
  memory: WebAssembly.Memory;
  _initialize?: () => unknown;
  wraft_abi_version(): number;
  wraft_alloc(size: number): number;
  wraft_init(ptr: number, len: number): number;
  wraft_handle(ptr: number, len: number): number;
}

/** Compiles raft.wasm's bytes, for creating many nodes from one compilation. */
export function compile(wasm: BufferSource): Promise<WebAssembly.Module> {
  return WebAssembly.compile(wasm);
}

/**
 * RaftNode is one engine in its own raft.wasm instance. It is not safe for
 * reentrant use (a call from inside a WASI import); calls are synchronous.
 */
export class RaftNode implements Core {
  private readonly exports: Exports;
  private failure: CoreError | undefined;
  private started = false;

  private constructor(instance: WebAssembly.Instance) {
    this.exports = checkExports(instance.exports);
  }

  /**
   * Instantiates raft.wasm (its bytes or a compiled module) with wasi,
   * runs _initialize and checks the ABI version. Call init next.
   */
  static async create(wasm: BufferSource | WebAssembly.Module, wasi: WasiHost): Promise<RaftNode> {
    const module = wasm instanceof WebAssembly.Module ? wasm : await WebAssembly.compile(wasm);
    const instance = await WebAssembly.instantiate(module, imports(wasi));
    return RaftNode.start(instance, wasi);
  }

  /**
   * Like create, synchronously, from a compiled module (browsers allow
   * synchronous instantiation in workers).
   */
  static createSync(module: WebAssembly.Module, wasi: WasiHost): RaftNode {
    return RaftNode.start(new WebAssembly.Instance(module, imports(wasi)), wasi);
  }

  private static start(instance: WebAssembly.Instance, wasi: WasiHost): RaftNode {
    const node = new RaftNode(instance);
    try {
      wasi.initialize(instance as unknown as { exports: { memory: WebAssembly.Memory } });
    } catch (err) {
      throw new CoreError(`raft.wasm: _initialize failed: ${errorText(err)}`, { cause: err });
    }
    const v = node.exports.wraft_abi_version();
    if (v !== WASM_ABI_VERSION) {
      throw new CoreError(`raft.wasm: ABI version ${v}, this host speaks ${WASM_ABI_VERSION}`);
    }
    return node;
  }

  /** Whether the core failed; a failed node throws its CoreError on every call. */
  get failed(): boolean {
    return this.failure !== undefined;
  }

  /**
   * Starts the engine with config and what storage restored (emptyRestored()
   * for a new node). It throws a CoreError if the engine refuses them (an
   * invalid config, say) or the core fails.
   */
  init(config: Config, restored: Restored): void {
    const out = this.call('wraft_init', this.exports.wraft_init, encodeInit(config, restored));
    if (out.length === 0) {
      this.started = true;
      return;
    }
    const effects = this.decode('wraft_init', out);
    this.checkCoreError('wraft_init', effects);
    if (effects.length !== 0) {
      throw this.fail(new CoreError(`raft.wasm: wraft_init returned ${effects.length} unexpected effects`));
    }
    this.started = true;
  }

  /** Hands the engine a batch of inputs and returns the effects to carry out, in order. */
  handle(inputs: readonly Input[]): Effect[] {
    return this.handleBatch(inputs).effects;
  }

  /** Like handle, returning also the effects batch's bytes as the core returned them. */
  handleBatch(inputs: readonly Input[]): Handled {
    if (!this.started && this.failure === undefined) throw new CoreError('raft.wasm: handle before a successful init');
    const bytes = this.call('wraft_handle', this.exports.wraft_handle, encodeInputs(inputs));
    const effects = this.decode('wraft_handle', bytes);
    this.checkCoreError('wraft_handle', effects);
    return { effects, bytes };
  }

  /**
   * Writes input into the module's memory through wraft_alloc, calls fn
   * and returns a copy of the output bytes its descriptor points at. Any
   * throw (a trap) fails the node.
   */
  private call(name: string, fn: (ptr: number, len: number) => number, input: Uint8Array): Uint8Array {
    if (this.failure !== undefined) throw this.failure;
    try {
      const ptr = this.exports.wraft_alloc(input.length) >>> 0;
      if (ptr === 0) throw new CoreError(`raft.wasm: wraft_alloc refused ${input.length} bytes`);
      // memory.grow detaches old ArrayBuffers: take a fresh view after every call.
      new Uint8Array(this.exports.memory.buffer, ptr, input.length).set(input);
      const desc = fn(ptr, input.length) >>> 0;
      const mem = this.exports.memory.buffer;
      if (desc === 0 || desc + 8 > mem.byteLength) throw new CoreError(`raft.wasm: ${name} returned a bad descriptor ${desc}`);
      const view = new DataView(mem);
      const dataPtr = view.getUint32(desc, true);
      const dataLen = view.getUint32(desc + 4, true);
      if (dataPtr + dataLen > mem.byteLength) {
        throw new CoreError(`raft.wasm: ${name} output (ptr ${dataPtr}, len ${dataLen}) lies outside memory`);
      }
      return new Uint8Array(mem, dataPtr, dataLen).slice();
    } catch (err) {
      if (err instanceof CoreError) throw this.fail(err);
      throw this.fail(new CoreError(`raft.wasm: ${name} trapped: ${errorText(err)}`, { cause: err }));
    }
  }

  private decode(name: string, bytes: Uint8Array): Effect[] {
    try {
      return decodeEffects(bytes);
    } catch (err) {
      if (!(err instanceof DecodeError)) throw err;
      throw this.fail(new CoreError(`raft.wasm: ${name} returned effects that do not decode: ${err.message}`, { cause: err }));
    }
  }

  private checkCoreError(name: string, effects: Effect[]): void {
    for (const e of effects) {
      if (e.kind === 'emit' && e.event.kind === EventKind.CoreError) {
        throw this.fail(new CoreError(`raft.wasm: ${name}: ${e.event.text}`));
      }
    }
  }

  private fail(err: CoreError): CoreError {
    this.failure ??= err;
    return this.failure;
  }
}

function imports(wasi: WasiHost): WebAssembly.Imports {
  return { wasi_snapshot_preview1: wasi.wasiImport as WebAssembly.ModuleImports };
}

function checkExports(x: WebAssembly.Exports): Exports {
  for (const name of ['wraft_abi_version', 'wraft_alloc', 'wraft_init', 'wraft_handle']) {
    if (typeof x[name] !== 'function') throw new CoreError(`raft.wasm: no export ${name}`);
  }
  if (!(x.memory instanceof WebAssembly.Memory)) throw new CoreError('raft.wasm: no exported memory');
  return x as unknown as Exports;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
