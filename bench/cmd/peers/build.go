package main

import (
	"bufio"
	"context"
	"debug/buildinfo"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// buildEtcd returns the cached etcd server binary, building it from the Go
// module proxy (the module in peers/etcd pins v3.7.3) when it is missing.
// `go install` refuses etcd's replace directives; `go build` of the
// package from a module that requires it does not.
func buildEtcd(ctx context.Context, cache string) (string, error) {
	bin := filepath.Join(cache, "etcd")
	if fi, err := os.Stat(bin); err == nil && fi.Mode()&0o111 != 0 {
		return bin, nil
	}
	if _, err := os.Stat(filepath.Join("peers", "etcd", "go.mod")); err != nil {
		return "", fmt.Errorf("build etcd: %w (run from the bench directory)", err)
	}
	slog.Info("building etcd (once; about 1.5-3 minutes)", "into", bin)
	if err := goBuild(ctx, filepath.Join("peers", "etcd"), bin, "go.etcd.io/etcd/server/v3"); err != nil {
		return "", fmt.Errorf("build etcd: %w", err)
	}
	return bin, nil
}

// buildHraft builds the hashicorp/raft KV server (incremental: the go
// command's cache makes a rebuild cheap).
func buildHraft(ctx context.Context, cache string) (string, error) {
	bin := filepath.Join(cache, "hraft")
	if err := goBuild(ctx, ".", bin, "./peers/hraft"); err != nil {
		return "", fmt.Errorf("build hashicorp-raft server: %w", err)
	}
	return bin, nil
}

func goBuild(ctx context.Context, dir, out, pkg string) error {
	t0 := time.Now()
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, pkg)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build %s (in %s): %w", pkg, dir, err)
	}
	slog.Info("built", "pkg", pkg, "seconds", fmt.Sprintf("%.1f", time.Since(t0).Seconds()))
	return nil
}

// moduleVersion returns the version of module path built into bin, or
// "unknown".
func moduleVersion(_ context.Context, bin, path string) string {
	info, err := buildinfo.ReadFile(bin)
	if err != nil {
		return "unknown"
	}
	if info.Main.Path == path {
		return info.Main.Version
	}
	for _, d := range info.Deps {
		if d.Path == path {
			if d.Replace != nil {
				return d.Replace.Version
			}
			return d.Version
		}
	}
	return "unknown"
}

// wraftVersion returns the first two lines of `wraft version` (the build
// and the core's hash), joined.
func wraftVersion(ctx context.Context, bin string) string {
	out, err := exec.CommandContext(ctx, bin, "version").Output()
	if err != nil {
		return "unknown"
	}
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if strings.HasPrefix(l, "wraft") || strings.HasPrefix(l, "core") {
			lines = append(lines, strings.TrimSpace(l))
		}
	}
	return strings.Join(lines, "; ")
}

// Machine describes where the benchmark ran.
type Machine struct {
	CPU    string `json:"cpu"`
	NumCPU int    `json:"nproc"`
	Kernel string `json:"kernel"`
	Go     string `json:"go"`
	MemGB  int    `json:"mem_gb"`
}

func machineInfo() Machine {
	m := Machine{NumCPU: runtime.NumCPU(), Go: runtime.Version()}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	if f, err := os.Open("/proc/meminfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			var kb int
			if _, err := fmt.Sscanf(sc.Text(), "MemTotal: %d kB", &kb); err == nil {
				m.MemGB = (kb + 1<<19) >> 20
				break
			}
		}
		f.Close()
	}
	return m
}
