package host

import (
	"context"
	"errors"
	"fmt"
	"runtime"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/wraft/wraft/abi"
	"github.com/wraft/wraft/engine"
)

// ABIVersion is the version of raft.wasm's exports this package speaks:
// what wraft_abi_version must return.
const ABIVersion = 1

// ErrABIVersion is wrapped by the error NewRuntime returns for a module
// whose wraft_abi_version is not ABIVersion.
var ErrABIVersion = errors.New("host: raft.wasm has an unsupported ABI version")

// Runtime is raft.wasm compiled once for this machine. It makes any number
// of cores, each its own module instance with its own memory. A Runtime is
// safe for concurrent use; the cores it makes are not.
type Runtime struct {
	rt       wazero.Runtime
	compiled wazero.CompiledModule
	cache    wazero.CompilationCache
}

// NewRuntime compiles wasm, which must be raft.wasm (or a module with the
// same exports), and checks that its wraft_abi_version is ABIVersion.
// With a non-empty cacheDir, compiled code is kept there and reused by the
// next process that compiles the same bytes with the same wazero version,
// which saves the 1 to 10 seconds a compilation takes. The context is used
// only while compiling and checking.
func NewRuntime(ctx context.Context, wasm []byte, cacheDir string) (*Runtime, error) {
	r := &Runtime{}
	cfg := wazero.NewRuntimeConfig()
	if cacheDir != "" {
		cache, err := wazero.NewCompilationCacheWithDir(cacheDir)
		if err != nil {
			return nil, fmt.Errorf("host: compilation cache: %w", err)
		}
		r.cache = cache
		cfg = cfg.WithCompilationCache(cache)
	}
	// No WithCloseOnContextDone: it makes every call 10 to 14 times slower.
	r.rt = wazero.NewRuntimeWithConfig(ctx, cfg)
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, r.rt); err != nil {
		r.Close(ctx)
		return nil, fmt.Errorf("host: wasi: %w", err)
	}
	compiled, err := r.rt.CompileModule(ctx, wasm)
	if err != nil {
		r.Close(ctx)
		return nil, fmt.Errorf("host: compile raft.wasm: %w", err)
	}
	r.compiled = compiled
	if err := r.checkVersion(ctx); err != nil {
		r.Close(ctx)
		return nil, err
	}
	return r, nil
}

// checkVersion instantiates the module once and asks its ABI version.
func (r *Runtime) checkVersion(ctx context.Context) error {
	if _, ok := r.compiled.ExportedFunctions()["wraft_abi_version"]; !ok {
		return errors.New("host: raft.wasm does not export wraft_abi_version: not a wraft core")
	}
	mod, _, err := r.instantiate(ctx)
	if err != nil {
		return err
	}
	defer mod.Close(ctx)
	res, err := mod.ExportedFunction("wraft_abi_version").Call(ctx)
	if err != nil {
		return fmt.Errorf("host: raft.wasm: wraft_abi_version: %w", err)
	}
	if v := int32(res[0]); v != ABIVersion {
		return fmt.Errorf("%w: the module's wraft_abi_version is %d, this host speaks %d: "+
			"use a raft.wasm built from the same wraft release as the host", ErrABIVersion, v, ABIVersion)
	}
	return nil
}

// instantiate makes a new module instance, with its own stderr tail, and
// runs _initialize (Go's runtime and package initialization).
func (r *Runtime) instantiate(ctx context.Context) (api.Module, *tail, error) {
	stderr := &tail{}
	// Name "" lets many instances of the module coexist. wazero's defaults
	// give WASI a fixed clock and a deterministic random source, so
	// nothing nondeterministic reaches the module.
	cfg := wazero.NewModuleConfig().WithName("").WithStartFunctions("_initialize").WithStderr(stderr)
	mod, err := r.rt.InstantiateModule(experimental.WithMemoryAllocator(ctx, memoryAllocator), r.compiled, cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("host: instantiate raft.wasm: %w%s", err, stderr.suffix())
	}
	return mod, stderr, nil
}

// NewCore instantiates the module and starts an engine in it with cfg and
// what storage holds, as engine.New does natively. It returns the
// engine's error for a bad configuration or restored state. The caller
// must Close the core when done with it; a core that becomes unreachable
// without Close is closed by the garbage collector eventually.
func (r *Runtime) NewCore(cfg engine.Config, rs engine.Restored) (*WasmCore, error) {
	ctx := context.Background()
	mod, stderr, err := r.instantiate(ctx)
	if err != nil {
		return nil, err
	}
	c, err := newWasmCore(mod, stderr)
	if err != nil {
		mod.Close(ctx)
		return nil, err
	}
	// The cleanup must not refer to c, or c would never become
	// unreachable.
	c.cleanup = runtime.AddCleanup(c, func(m api.Module) { m.Close(context.Background()) }, mod)
	if _, err := c.call(c.init, "wraft_init", abi.AppendInit(nil, cfg, rs)); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// Factory returns a Factory that makes cores with NewCore.
func (r *Runtime) Factory() Factory {
	return func(cfg engine.Config, rs engine.Restored) (engine.Core, error) {
		c, err := r.NewCore(cfg, rs)
		if err != nil {
			return nil, err
		}
		return c, nil
	}
}

// Close closes every core made by r, then r itself. Closing the
// compilation cache leaves its directory for the next process.
func (r *Runtime) Close(ctx context.Context) error {
	err := r.rt.Close(ctx)
	if r.cache != nil {
		err = errors.Join(err, r.cache.Close(ctx))
	}
	return err
}
