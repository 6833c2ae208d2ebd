package main

import (
	"maps"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// forbidden lists packages raft.wasm must not link, and why.
//
// None of them is needed by Go's runtime on wasip1: the runtime calls the
// WASI imports itself (clock_time_get, random_get, fd_write, proc_exit,
// poll_oneoff) and imports neither time, os, syscall nor reflect. The
// standard packages it does pull in through errors and sync are
// internal/reflectlite (errors.Is and errors.As), which is small, and
// hash/crc32 (kv snapshots). So every entry below can stay forbidden.
var forbidden = map[string]string{
	"fmt":           "about 800 KB of wasm, and reflection",
	"reflect":       "large method tables kept alive by the linker",
	"encoding/json": "reflection-based",
	"os":            "file and process access: the core does no I/O",
	"net":           "the core does no I/O",
	"time":          "the core takes time only from Tick inputs",
	"syscall":       "the core does no I/O",
	"math/rand":     "randomness comes from Config.Raft.Seed",
	"math/rand/v2":  "randomness comes from Config.Raft.Seed",
	"crypto/rand":   "randomness comes from Config.Raft.Seed",
	"log":           "no global logger; events are effects",
	"log/slog":      "no global logger; events are effects",
	"context":       "the core never blocks or waits",
	"unicode":       "its tables are large; use unicode/utf8",
}

// TestDependencies checks that raft.wasm, built for wasip1, pulls in none
// of the forbidden packages. A failure names a chain of imports that leads
// to the package.
func TestDependencies(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go is not on PATH")
	}
	cmd := exec.Command(goTool, "list", "-deps", "-f", `{{.ImportPath}}:{{join .Imports " "}}`, ".")
	cmd.Env = append(cmd.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	imports := map[string][]string{}
	var root string
	for line := range strings.Lines(string(out)) {
		pkg, imps, _ := strings.Cut(strings.TrimSpace(line), ":")
		imports[pkg] = strings.Fields(imps)
		root = pkg // go list -deps prints the root last
	}
	if root != "github.com/wraft/wraft/wasm" {
		t.Fatalf("go list: last package %q, want github.com/wraft/wraft/wasm", root)
	}
	parent := map[string]string{root: ""}
	for queue := []string{root}; len(queue) > 0; queue = queue[1:] {
		for _, imp := range imports[queue[0]] {
			if _, seen := parent[imp]; !seen {
				parent[imp] = queue[0]
				queue = append(queue, imp)
			}
		}
	}
	for _, pkg := range slices.Sorted(maps.Keys(forbidden)) {
		why := forbidden[pkg]
		if _, ok := parent[pkg]; !ok {
			continue
		}
		chain := []string{pkg}
		for p := parent[pkg]; p != ""; p = parent[p] {
			chain = append(chain, p)
		}
		slices.Reverse(chain)
		t.Errorf("raft.wasm links %s (%s); want it absent: %s", pkg, strings.Join(chain, " -> "), why)
	}
}
