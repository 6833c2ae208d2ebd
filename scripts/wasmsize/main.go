// Command wasmsize shows what takes the space in a WebAssembly module: the
// size of each section, and the code size per Go package, from the
// function names of a build without -ldflags=-s (go tool nm cannot read
// wasm). `make size` runs it on such a build of raft.wasm.
//
//	wasmsize [-top N] FILE
package main

import (
	"cmp"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
)

func main() {
	top := flag.Int("top", 20, "packages to list")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: wasmsize [-top N] FILE")
		os.Exit(2)
	}
	b, err := os.ReadFile(flag.Arg(0))
	if err == nil {
		err = report(b, *top)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "wasmsize:", err)
		os.Exit(1)
	}
}

var sectionNames = []string{"custom", "type", "import", "function", "table", "memory", "global", "export",
	"start", "element", "code", "data", "datacount"}

type reader struct {
	b   []byte
	err error
}

func (r *reader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err, r.b = errors.New("bad LEB128"), nil
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) bytes(n uint64) []byte {
	if uint64(len(r.b)) < n {
		r.err, r.b = errors.New("truncated"), nil
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func report(b []byte, top int) error {
	if len(b) < 8 || string(b[:4]) != "\x00asm" {
		return errors.New("not a wasm module")
	}
	r := &reader{b: b[8:]}
	var bodies []int // code size of each defined function
	var imported int
	names := map[int]string{}
	type sec struct {
		name string
		size int
	}
	var secs []sec
	for len(r.b) > 0 && r.err == nil {
		id := r.b[0]
		r.b = r.b[1:]
		body := r.bytes(r.uvarint())
		s := &reader{b: body}
		name := "unknown"
		if int(id) < len(sectionNames) {
			name = sectionNames[id]
		}
		switch id {
		case 0:
			cname := string(s.bytes(s.uvarint()))
			name = "custom " + cname
			if cname == "name" {
				for len(s.b) > 0 && s.err == nil {
					sub := s.b[0]
					s.b = s.b[1:]
					sb := &reader{b: s.bytes(s.uvarint())}
					if sub != 1 {
						continue
					}
					for n := sb.uvarint(); n > 0 && sb.err == nil; n-- {
						idx := sb.uvarint()
						names[int(idx)] = string(sb.bytes(sb.uvarint()))
					}
				}
			}
		case 2:
			for n := s.uvarint(); n > 0 && s.err == nil; n-- {
				s.bytes(s.uvarint())
				s.bytes(s.uvarint())
				kind := s.bytes(1)
				if len(kind) == 1 && kind[0] == 0 {
					imported++
					s.uvarint()
					continue
				}
				return errors.New("only function imports are supported")
			}
		case 10:
			for n := s.uvarint(); n > 0 && s.err == nil; n-- {
				size := s.uvarint()
				s.bytes(size)
				bodies = append(bodies, int(size))
			}
		}
		if s.err != nil {
			return fmt.Errorf("section %s: %w", name, s.err)
		}
		secs = append(secs, sec{name, len(body)})
	}
	if r.err != nil {
		return r.err
	}
	fmt.Printf("%d bytes\n\nsections:\n", len(b))
	for _, s := range secs {
		fmt.Printf("  %9d  %s\n", s.size, s.name)
	}
	if len(names) == 0 {
		fmt.Println("\n(no name section: build without -ldflags=-s to see code per package)")
		return nil
	}
	pkgs := map[string]int{}
	for i, size := range bodies {
		pkgs[pkgOf(names[imported+i])] += size
	}
	keys := slices.Collect(func(yield func(string) bool) {
		for k := range pkgs {
			if !yield(k) {
				return
			}
		}
	})
	slices.SortFunc(keys, func(a, b string) int { return cmp.Or(cmp.Compare(pkgs[b], pkgs[a]), strings.Compare(a, b)) })
	fmt.Printf("\ncode by package (top %d of %d):\n", min(top, len(keys)), len(keys))
	for _, k := range keys[:min(top, len(keys))] {
		fmt.Printf("  %9d  %s\n", pkgs[k], k)
	}
	return nil
}

// domain matches the start of a mangled import path that begins with a
// domain name, such as "github.com_".
var domain = regexp.MustCompile(`^[a-z0-9-]+(\.[a-z0-9-]+)*\.(com|org|net|io|in|dev|land|cc)_`)

// pkgOf returns the package of a function named as Go's wasm linker names
// it: the symbol with each '/' of the import path written '_', such as
// "github.com_wraft_wraft_raft.(*Node).Step" or "runtime.mallocgc". The
// result has the slashes back ("github.com/wraft/wraft/raft"); functions
// the compiler generates for types ("type:.eq...") count as "type:".
func pkgOf(sym string) string {
	if sym == "" {
		return "(unnamed)"
	}
	if strings.HasPrefix(sym, "type_") {
		return "type:"
	}
	start := 0
	if m := domain.FindStringIndex(sym); m != nil {
		start = m[1]
	}
	pkg := sym
	if dot := strings.IndexByte(sym[start:], '.'); dot >= 0 {
		pkg = sym[:start+dot]
	}
	return strings.ReplaceAll(pkg, "_", "/")
}
