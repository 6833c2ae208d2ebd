// Package hosttest gives tests a raft.wasm built from the checkout they
// run in, and cores running it, so that `go test ./...` on a fresh
// checkout exercises the current engine inside WebAssembly without a
// prior `make wasm`.
//
// The module is built once per test process, with the same command as
// `make wasm`, by the go tool that runs the tests (its build cache makes
// later builds take about a second). Tests skip when the go tool is not
// on PATH.
package hosttest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/wraft/wraft/host"
)

// built holds the results of the one build and the one Runtime per
// process.
var built struct {
	wasmOnce sync.Once
	wasm     []byte
	wasmErr  error
	goMiss   bool

	rtOnce sync.Once
	rt     *host.Runtime
	rtErr  error
}

// WasmBytes returns raft.wasm built from this checkout's ./wasm.
func WasmBytes(tb testing.TB) []byte {
	tb.Helper()
	built.wasmOnce.Do(func() { built.wasm, built.goMiss, built.wasmErr = build() })
	if built.goMiss {
		tb.Skip("hosttest: the go tool is not on PATH, so raft.wasm cannot be built")
	}
	if built.wasmErr != nil {
		tb.Fatalf("hosttest: %v", built.wasmErr)
	}
	return built.wasm
}

func build() (wasm []byte, goMissing bool, err error) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		return nil, true, nil
	}
	dir, err := os.MkdirTemp("", "wraft-wasm-")
	if err != nil {
		return nil, false, err
	}
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, "raft.wasm")
	// Keep in step with the Makefile's wasm target.
	cmd := exec.Command(goTool, "build", "-buildmode=c-shared", "-trimpath", "-ldflags=-s -w", "-o", out,
		"github.com/wraft/wraft/wasm")
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return nil, false, &buildError{err: err, output: string(msg)}
	}
	wasm, err = os.ReadFile(out)
	return wasm, false, err
}

type buildError struct {
	err    error
	output string
}

func (e *buildError) Error() string {
	return "building raft.wasm (GOOS=wasip1 GOARCH=wasm go build ./wasm): " + e.err.Error() + "\n" + e.output
}

// Runtime returns a Runtime over WasmBytes, shared by the whole test
// process and never closed. Compiled code is cached under the user's
// cache directory, so later test runs skip most of the compilation.
func Runtime(tb testing.TB) *host.Runtime {
	tb.Helper()
	wasm := WasmBytes(tb)
	built.rtOnce.Do(func() {
		cacheDir := ""
		if dir, err := os.UserCacheDir(); err == nil {
			cacheDir = filepath.Join(dir, "wraft", "wazero")
		}
		built.rt, built.rtErr = host.NewRuntime(context.Background(), wasm, cacheDir)
		if built.rtErr != nil && cacheDir != "" {
			// A cache directory we cannot use is no reason to fail.
			built.rt, built.rtErr = host.NewRuntime(context.Background(), wasm, "")
		}
	})
	if built.rtErr != nil {
		tb.Fatalf("hosttest: %v", built.rtErr)
	}
	return built.rt
}

// Factory returns the shared Runtime's Factory: cores running raft.wasm,
// each a *host.WasmCore. A caller that drops a core without closing it
// (a simulated crash, say) leaves the instance to the garbage collector,
// which closes it eventually; about 2.5 MiB of memory each until then.
func Factory(tb testing.TB) host.Factory {
	tb.Helper()
	return Runtime(tb).Factory()
}

// FakeCoreModule returns a tiny hand-assembled wasm module with raft.wasm's
// exports, for testing how a host treats a misbehaving core:
//
//	wraft_abi_version() -> version
//	wraft_alloc(size) -> 64
//	wraft_init(ptr, len) -> 16, a descriptor of the empty batch 01 00 at 32
//	wraft_handle(ptr, len) -> traps (unreachable) if trap, else as init
//	memory: one page
func FakeCoreModule(version int8, trap bool) []byte {
	section := func(id byte, body ...byte) []byte {
		return append([]byte{id, byte(len(body))}, body...)
	}
	code := func(body ...byte) []byte { // no locals, body, end
		return append([]byte{byte(len(body) + 2), 0}, append(body, 0x0b)...)
	}
	handle := code(0x41, 16) // i32.const 16
	if trap {
		handle = code(0x00) // unreachable
	}
	name := func(s string) []byte { return append([]byte{byte(len(s))}, s...) }
	export := func(s string, kind, index byte) []byte { return append(name(s), kind, index) }

	m := []byte{0x00, 'a', 's', 'm', 1, 0, 0, 0}
	m = append(m, section(1, 3, // types
		0x60, 0, 1, 0x7f, // () -> i32
		0x60, 1, 0x7f, 1, 0x7f, // (i32) -> i32
		0x60, 2, 0x7f, 0x7f, 1, 0x7f, // (i32, i32) -> i32
	)...)
	m = append(m, section(3, 4, 0, 1, 2, 2)...) // functions' types
	m = append(m, section(5, 1, 0, 1)...)       // memory: min 1 page
	var exports []byte
	exports = append(exports, 5)
	exports = append(exports, export("wraft_abi_version", 0, 0)...)
	exports = append(exports, export("wraft_alloc", 0, 1)...)
	exports = append(exports, export("wraft_init", 0, 2)...)
	exports = append(exports, export("wraft_handle", 0, 3)...)
	exports = append(exports, export("memory", 2, 0)...)
	m = append(m, section(7, exports...)...)
	var codes []byte
	codes = append(codes, 4)
	codes = append(codes, code(0x41, byte(version)&0x7f)...) // i32.const version (0..63)
	codes = append(codes, code(0x41, 0xc0, 0x00)...)         // i32.const 64
	codes = append(codes, code(0x41, 16)...)                 // i32.const 16
	codes = append(codes, handle...)
	m = append(m, section(10, codes...)...)
	data := []byte{32, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0}
	m = append(m, section(11, append([]byte{1, 0, 0x41, 16, 0x0b, byte(len(data))}, data...)...)...)
	return m
}
