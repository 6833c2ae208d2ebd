package abi_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestNoHeavyDependencies checks that the encoding packages linked into
// raft.wasm pull in none of the packages that would make it large or
// nondeterministic. A failure names a chain of imports that leads to the
// package.
func TestNoHeavyDependencies(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go is not on PATH")
	}
	roots := []string{"github.com/wraft/wraft/wire", "github.com/wraft/wraft/abi", "github.com/wraft/wraft/kv"}
	forbidden := []string{"fmt", "reflect", "encoding/json", "os", "time", "net"}
	cmd := exec.Command(goTool, "list", "-e", "-deps", "-f", `{{.ImportPath}}:{{join .Imports " "}}`,
		"./wire", "./abi", "./kv")
	cmd.Dir = ".."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	imports := map[string][]string{}
	for line := range strings.Lines(string(out)) {
		pkg, imps, _ := strings.Cut(strings.TrimSpace(line), ":")
		imports[pkg] = strings.Fields(imps)
	}
	// Breadth-first from the roots, remembering how each package was
	// reached.
	parent := map[string]string{}
	queue := slices.Clone(roots)
	for _, r := range roots {
		parent[r] = ""
	}
	for len(queue) > 0 {
		pkg := queue[0]
		queue = queue[1:]
		for _, imp := range imports[pkg] {
			if _, seen := parent[imp]; !seen {
				parent[imp] = pkg
				queue = append(queue, imp)
			}
		}
	}
	for _, f := range forbidden {
		if _, ok := parent[f]; !ok {
			continue
		}
		chain := []string{f}
		for p := parent[f]; p != ""; p = parent[p] {
			chain = append(chain, p)
		}
		slices.Reverse(chain)
		t.Errorf("dependencies of wire, abi and kv: have %s (%s), want it absent", f, strings.Join(chain, " -> "))
	}
}
