package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wraft/wraft/client"
	"github.com/wraft/wraft/server"
	"github.com/wraft/wraft/server/servertest"
)

// TestTokenResolve: --token, else $WRAFT_TOKEN, else the node's data
// directory.
func TestTokenResolve(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, server.AdminTokenFile), []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("WRAFT_TOKEN", "")
	for _, tc := range []struct {
		flag, env, data, want, errHas string
	}{
		{"from-flag", "from-env", dir, "from-flag", ""},
		{"", "from-env", dir, "from-env", ""},
		{"", "", dir, "from-file", ""},
		{"", "", "", "", ""},
		{"", "", t.TempDir(), "", "holds no admin-token"},
	} {
		t.Setenv("WRAFT_TOKEN", tc.env)
		tf := tokenFlags{token: tc.flag, data: tc.data}
		have, err := tf.resolve()
		if have != tc.want || (tc.errHas == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.errHas)) {
			t.Errorf("resolve(%+v, env %q): have %q, %v; want %q and an error containing %q", tf, tc.env, have, err, tc.want, tc.errHas)
		}
	}
}

// TestMemberNeedsToken: `wraft member remove` without the admin token is
// refused and changes nothing; with --token it removes the member.
func TestMemberNeedsToken(t *testing.T) {
	t.Setenv("WRAFT_TOKEN", "")
	cl := servertest.Start(t, 3)
	var eps []string
	for _, e := range cl.Endpoints {
		eps = append(eps, "http://"+e)
	}
	count := func() int {
		c, err := client.New(eps)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		ms, err := c.Members(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return len(ms.Members)
	}
	count() // a leader is elected
	run := func(args ...string) error {
		cmd := memberCmd()
		cmd.SetArgs(append(args, "--endpoints", strings.Join(eps, ","), "--timeout", "20s"))
		cmd.SilenceUsage, cmd.SilenceErrors = true, true
		return cmd.Execute()
	}
	var exit exitError
	if err := run("remove", "3"); !errors.As(err, &exit) || exit.code != 1 {
		t.Errorf("remove without a token: %v, want exit status 1", err)
	}
	if err := run("remove", "3", "--token", "wrong"); !errors.As(err, &exit) || exit.code != 1 {
		t.Errorf("remove with a wrong token: %v, want exit status 1", err)
	}
	if n := count(); n != 3 {
		t.Fatalf("%d members after the refused removals, want 3", n)
	}
	if err := run("remove", "3", "--token", servertest.AdminToken); err != nil {
		t.Errorf("remove with the token: %v", err)
	}
	if n := count(); n != 2 {
		t.Errorf("%d members after the removal, want 2", n)
	}
}
