package arm

// wrongABIModule returns a tiny wasm module with a wraft core's exports
// whose wraft_abi_version returns 2, which this host does not speak (as
// host's tests build it).
func wrongABIModule() []byte {
	section := func(id byte, body ...byte) []byte {
		return append([]byte{id, byte(len(body))}, body...)
	}
	code := func(body ...byte) []byte { // no locals, body, end
		return append([]byte{byte(len(body) + 2), 0}, append(body, 0x0b)...)
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
	exports := []byte{5}
	exports = append(exports, export("wraft_abi_version", 0, 0)...)
	exports = append(exports, export("wraft_alloc", 0, 1)...)
	exports = append(exports, export("wraft_init", 0, 2)...)
	exports = append(exports, export("wraft_handle", 0, 3)...)
	exports = append(exports, export("memory", 2, 0)...)
	m = append(m, section(7, exports...)...)
	codes := []byte{4}
	codes = append(codes, code(0x41, 2)...)          // i32.const 2: the ABI version
	codes = append(codes, code(0x41, 0xc0, 0x00)...) // i32.const 64
	codes = append(codes, code(0x41, 16)...)         // i32.const 16
	codes = append(codes, code(0x41, 16)...)         // i32.const 16
	m = append(m, section(10, codes...)...)
	data := []byte{32, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0}
	m = append(m, section(11, append([]byte{1, 0, 0x41, 16, 0x0b, byte(len(data))}, data...)...)...)
	return m
}
