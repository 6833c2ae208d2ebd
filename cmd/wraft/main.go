// Command wraft is the one binary of wraft: a node daemon, a key-value
// client, a status table, a local demo cluster and a benchmark.
package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

func main() {
	root := &cobra.Command{
		Use:           "wraft",
		Short:         "A Raft consensus cluster with one WebAssembly core",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(nodeCmd(), kvCmd(), statusCmd(), memberCmd(), recoverCmd(), demoCmd(), benchCmd(), certsCmd(), versionCmd())
	if err := root.Execute(); err != nil {
		var exit exitError
		if errors.As(err, &exit) {
			os.Exit(exit.code)
		}
		fmt.Fprintln(os.Stderr, "✗", err)
		os.Exit(2)
	}
}

// envDefaults sets every flag the user did not give from WRAFT_<NAME>
// (upper case, dashes as underscores), so a daemon can be configured by its
// environment as well as by flags.
func envDefaults(fs *pflag.FlagSet) error {
	var err error
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Changed || err != nil {
			return
		}
		name := "WRAFT_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(name); ok {
			if e := fs.Set(f.Name, v); e != nil {
				err = fmt.Errorf("%s=%q: %w", name, v, e)
			}
		}
	})
	return err
}
