// Command wasm is raft.wasm: the engine behind four exports, built as a
// WASI reactor module:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -trimpath -ldflags='-s -w' -o bin/raft.wasm ./wasm
//
// A host instantiates the module, calls _initialize, checks that
// wraft_abi_version returns 1, starts the engine with wraft_init and then
// calls wraft_handle with batches of inputs, carrying out the effects each
// call returns. docs/ABI.md describes every export and the host's duties;
// this package is ABI glue only.
//
// The package has one variable, the instance behind the exports: a module
// instance is one engine, and the variable is what keeps the buffers handed
// to the host alive between calls. It starts no goroutine, reads no clock,
// and never builds output by iterating a map.
package main

//lint:file-ignore U1000 the exports are called by the host through go:wasmexport, and only a wasip1 build exports them

import (
	"structs"
	"unsafe"
)

// inst is the module's state; see instance.
var inst = newInstance(nativeCore)

// output is the descriptor wraft_init and wraft_handle return a pointer to:
// where the encoded effects batch lies in linear memory. It is reused, so
// it, like the bytes it points at, is valid until the next call.
type output struct {
	_   structs.HostLayout
	Ptr uint32
	Len uint32
}

var desc output

func describe(b []byte) *output {
	desc.Ptr, desc.Len = addr(b), uint32(len(b))
	return &desc
}

// wraftABIVersion returns the version of the exports and their lifecycle.
//
//go:wasmexport wraft_abi_version
func wraftABIVersion() int32 { return abiVersion }

// wraftAlloc returns the address of size bytes for the host's next input,
// or 0 if size is over 1 GiB. The bytes stay valid until the next
// wraft_alloc, wraft_init or wraft_handle returns.
//
//go:wasmexport wraft_alloc
func wraftAlloc(size uint32) unsafe.Pointer {
	b := inst.alloc(size)
	if b == nil {
		return nil
	}
	return unsafe.Pointer(unsafe.SliceData(b))
}

// wraftInit starts the engine from an init record (abi.AppendInit) at ptr.
//
//go:wasmexport wraft_init
func wraftInit(ptr, n uint32) *output { return describe(inst.init(ptr, n)) }

// wraftHandle runs the engine on an inputs batch (abi.AppendInputs) at ptr.
//
//go:wasmexport wraft_handle
func wraftHandle(ptr, n uint32) *output { return describe(inst.handle(ptr, n)) }

// main is not called: a reactor module runs only its exports.
func main() {}
