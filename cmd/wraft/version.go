package main

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/wraft/wraft/host"
	"github.com/wraft/wraft/host/corewasm"
)

func versionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Show the platform, the ABI version spoken and the embedded raft.wasm's sha256",
		Long: `Show the platform this binary was built for, the raft.wasm ABI version it
speaks, and the sha256 of the raft.wasm embedded in it. The line
"core sha256:<hex>" is what /v1/status reports as the core ("wasm sha256:<hex>")
when the node runs with the default --core wasm; compare it with
sha256sum raft.wasm to check that a binary carries a given core.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			return printVersion(os.Stdout)
		},
	}
}

// printVersion writes the version lines. Without an embedded core it
// still writes them, with "core none", and returns corewasm.ErrNotBuilt.
func printVersion(w io.Writer) error {
	fmt.Fprintf(w, "wraft %s/%s", runtime.GOOS, runtime.GOARCH)
	if runtime.GOARCH == "arm" {
		fmt.Fprintf(w, " (GOARM=%s)", goarm())
	}
	fmt.Fprintf(w, " %s\nabi %d\n", runtime.Version(), host.ABIVersion)
	wasm, err := corewasm.Bytes()
	if errors.Is(err, corewasm.ErrNotBuilt) {
		fmt.Fprintln(w, "core none")
		return err
	}
	if err != nil {
		return err
	}
	sum := sha256.Sum256(wasm)
	fmt.Fprintf(w, "core sha256:%s (%d bytes)\n", hex.EncodeToString(sum[:]), len(wasm))
	return nil
}

// goarm returns the GOARM setting the binary was built with, or "?".
func goarm() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "GOARM" {
				return s.Value
			}
		}
	}
	return "?"
}
