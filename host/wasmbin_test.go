package host_test

// fakeCoreModule returns a tiny hand-assembled wasm module with raft.wasm's
// exports, for testing how a host treats a misbehaving core:
//
//	wraft_abi_version() -> version
//	wraft_alloc(size) -> 64
//	wraft_init(ptr, len) -> 16, a descriptor of the empty batch 01 00 at 32
//	wraft_handle(ptr, len) -> traps (unreachable) if trap, else as init
//	memory: one page
func fakeCoreModule(version int8, trap bool) []byte {
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
