package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/wraft/wraft/server"
)

// tokenFlags find the admin token for a command that changes the cluster:
// --token, else $WRAFT_TOKEN, else the token a node keeps in its data
// directory (--data, on the node's machine).
type tokenFlags struct {
	token string
	data  string
}

func (t *tokenFlags) add(cmd *cobra.Command) {
	cmd.PersistentFlags().StringVar(&t.token, "token", "", "the cluster's admin token (default: $WRAFT_TOKEN, else the one in --data)")
	cmd.PersistentFlags().StringVar(&t.data, "data", "", "a node's data directory, to read its admin token from ("+server.AdminTokenFile+")")
}

// resolve returns the admin token, or "" if none was given anywhere.
func (t *tokenFlags) resolve() (string, error) {
	if t.token != "" {
		return t.token, nil
	}
	if tok := strings.TrimSpace(os.Getenv("WRAFT_TOKEN")); tok != "" {
		return tok, nil
	}
	if t.data == "" {
		return "", nil
	}
	tok, err := server.ReadAdminToken(t.data)
	if errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("--data %s holds no %s (a node started with --admin-token keeps none: give --token)", t.data, server.AdminTokenFile)
	}
	return tok, err
}

// corsOrigins parses --cors-origin: comma-separated origins, or "none".
func corsOrigins(s string) []string {
	out := []string{}
	if strings.TrimSpace(s) == "none" {
		return out
	}
	for _, o := range strings.Split(s, ",") {
		if o = strings.TrimSpace(o); o != "" {
			out = append(out, o)
		}
	}
	return out
}
