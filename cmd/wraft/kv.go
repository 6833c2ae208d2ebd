package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/wraft/wraft/api"
	"github.com/wraft/wraft/client"
)

type clientFlags struct {
	endpoints string
	timeout   time.Duration
}

func (f *clientFlags) add(cmd *cobra.Command) {
	cmd.PersistentFlags().StringVar(&f.endpoints, "endpoints", strings.Join(client.DefaultEndpoints, ","),
		"API addresses of any of the cluster's nodes, comma-separated (http://host:port or host:port)")
	cmd.PersistentFlags().DurationVar(&f.timeout, "timeout", 10*time.Second, "how long to wait, through elections, for an answer")
}

func (f *clientFlags) client() (*client.Client, error) {
	return client.New(strings.Split(f.endpoints, ","))
}

func kvCmd() *cobra.Command {
	var f clientFlags
	var stale bool
	cmd := &cobra.Command{Use: "kv", Short: "Read and write the replicated key-value store"}
	f.add(cmd)
	run := func(op func(context.Context, *client.Client, []string) (api.Reply, error)) func(*cobra.Command, []string) error {
		return func(cmd *cobra.Command, args []string) error {
			c, err := f.client()
			if err != nil {
				return err
			}
			c.OnPending = func() { fmt.Println("⏳ Pending... (election in progress)") }
			ctx, cancel := context.WithTimeout(context.Background(), f.timeout)
			defer cancel()
			// The client finds the leader itself (so the answer can count
			// its acks), asking every node at once: a frozen or slow node
			// does not hold it up.
			rep, err := op(ctx, c, args)
			return report(cmd.Name() == "get", rep, err)
		}
	}
	set := &cobra.Command{Use: "set KEY VALUE", Short: "Store VALUE under KEY", Args: cobra.ExactArgs(2),
		Example: "  wraft kv set temperature 72.5",
		RunE: run(func(ctx context.Context, c *client.Client, a []string) (api.Reply, error) {
			return c.Set(ctx, a[0], []byte(a[1]))
		})}
	get := &cobra.Command{Use: "get KEY", Short: "Read KEY (linearizable unless --stale)", Args: cobra.ExactArgs(1),
		RunE: run(func(ctx context.Context, c *client.Client, a []string) (api.Reply, error) {
			return c.Get(ctx, a[0], stale)
		})}
	get.Flags().BoolVar(&stale, "stale", false, "read from any node's copy, which may lag")
	del := &cobra.Command{Use: "del KEY", Short: "Delete KEY", Args: cobra.ExactArgs(1),
		RunE: run(func(ctx context.Context, c *client.Client, a []string) (api.Reply, error) {
			return c.Delete(ctx, a[0])
		})}
	var absent bool
	cas := &cobra.Command{Use: "cas KEY EXPECTED NEW", Short: "Set KEY to NEW only if its value is EXPECTED",
		Long:    "Set KEY to NEW only if its value is EXPECTED. With --absent, give only KEY and NEW: set it only if KEY does not exist.",
		Example: "  wraft kv cas temperature 72.5 73\n  wraft kv cas --absent lock me",
		Args: func(_ *cobra.Command, a []string) error {
			if absent && len(a) != 2 || !absent && len(a) != 3 {
				return errors.New("cas takes KEY EXPECTED NEW, or --absent KEY NEW")
			}
			return nil
		},
		RunE: run(func(ctx context.Context, c *client.Client, a []string) (api.Reply, error) {
			if absent {
				return c.CAS(ctx, a[0], nil, []byte(a[1]))
			}
			return c.CAS(ctx, a[0], []byte(a[1]), []byte(a[2]))
		})}
	cas.Flags().BoolVar(&absent, "absent", false, "succeed only if the key does not exist")
	cmd.AddCommand(set, get, del, cas)
	return cmd
}

// exitError ends the command with a status code after the reason has
// been printed.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// report prints a reply in the seed's words, and makes failures exit
// non-zero: 1 for an answer that is not what the user hoped (a missing
// key, a failed CAS), 2 for a request that failed.
func report(read bool, rep api.Reply, err error) error {
	switch {
	case errors.Is(err, client.ErrNoQuorum):
		fmt.Printf("✗ Failed: no quorum (only %d/%d alive)\n", rep.Alive, rep.Voters)
		return exitError{2}
	case err != nil:
		fmt.Printf("✗ Failed: %v\n", err)
		return exitError{2}
	case rep.Code != "ok":
		fmt.Printf("✗ Failed: %s: %s\n", rep.Code, rep.Error)
		return exitError{2}
	case read && !rep.Found:
		fmt.Println("∅ (not set)")
		return exitError{1}
	case read:
		fmt.Println("→", rep.Value)
	case !rep.OK:
		msg := rep.Error
		if rep.Found {
			msg += " (current value: " + rep.Value + ")"
		}
		fmt.Println("✗ Not applied:", msg)
		return exitError{1}
	case rep.Acks > 0:
		fmt.Printf("✓ Committed (%d/%d acks) @ index %d\n", rep.Acks, rep.Voters, rep.Index)
	default:
		fmt.Printf("✓ Committed @ index %d\n", rep.Index)
	}
	return nil
}
