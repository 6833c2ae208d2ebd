package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/wraft/wraft/api"
	"github.com/wraft/wraft/client"
)

func memberCmd() *cobra.Command {
	var f clientFlags
	var tf tokenFlags
	cmd := &cobra.Command{Use: "member", Short: "List and change the cluster's members (voters and learners)",
		Long: `List and change the cluster's members, one at a time. A new member should join as a
learner (the default of add), catch up, and then be promoted; a node started with
wraft node --join does all of this by itself. Changes need the cluster's admin token:
--token, $WRAFT_TOKEN, or --data with a node's data directory (its admin-token file).`}
	f.add(cmd)
	tf.add(cmd)
	run := func(op func(context.Context, *client.Client, []string) (api.Members, error)) func(*cobra.Command, []string) error {
		return func(_ *cobra.Command, args []string) error {
			c, err := f.client()
			if err != nil {
				return err
			}
			if c.Token, err = tf.resolve(); err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(context.Background(), f.timeout)
			defer cancel()
			for start := time.Now(); c.FindLeader(ctx) == 0 && time.Since(start) < time.Second && ctx.Err() == nil; {
				time.Sleep(100 * time.Millisecond)
			}
			ms, err := op(ctx, c, args)
			if err != nil {
				fmt.Printf("✗ Failed: %v\n", err)
				if errors.Is(err, client.ErrConflict) || errors.Is(err, client.ErrRefused) {
					return exitError{1}
				}
				return exitError{2}
			}
			printMembers(ms)
			return nil
		}
	}
	list := &cobra.Command{Use: "list", Short: "List the members, with the leader's view of each", Args: cobra.NoArgs,
		RunE: run(func(ctx context.Context, c *client.Client, _ []string) (api.Members, error) {
			return c.Members(ctx)
		})}
	var raftAddr, apiURL string
	var voter bool
	add := &cobra.Command{Use: "add ID", Short: "Add a member (a learner unless --voter)", Args: cobra.ExactArgs(1),
		Example: "  wraft member add 4 --raft 127.0.0.1:7004 --api http://127.0.0.1:8004\n  wraft member promote 4",
		RunE: run(func(ctx context.Context, c *client.Client, a []string) (api.Members, error) {
			id, err := memberID(a[0])
			if err != nil {
				return api.Members{}, err
			}
			if raftAddr == "" {
				return api.Members{}, errors.New("--raft is required (the new member's peer address, host:port)")
			}
			learner := !voter
			ms, err := c.AddMember(ctx, api.AddMember{ID: id, Raft: raftAddr, API: apiURL, Learner: &learner})
			if err == nil {
				fmt.Printf("✓ Added node %d as a %s @ index %d\n", id, map[bool]string{true: "learner", false: "voter"}[learner], ms.Index)
			}
			return ms, err
		})}
	add.Flags().StringVar(&raftAddr, "raft", "", "the new member's peer address (host:port)")
	add.Flags().StringVar(&apiURL, "api", "", "the new member's API URL (http://host:port)")
	add.Flags().BoolVar(&voter, "voter", false, "add a voter at once instead of a learner (it can stall commits while it catches up)")
	var wait bool
	promote := &cobra.Command{Use: "promote ID", Short: "Make a caught-up learner a voter", Args: cobra.ExactArgs(1),
		RunE: run(func(ctx context.Context, c *client.Client, a []string) (api.Members, error) {
			id, err := memberID(a[0])
			if err != nil {
				return api.Members{}, err
			}
			for {
				ms, err := c.PromoteMember(ctx, id)
				if !wait || !errors.Is(err, client.ErrConflict) {
					if err == nil {
						fmt.Printf("✓ Node %d is a voter @ index %d\n", id, ms.Index)
					}
					return ms, err
				}
				select {
				case <-ctx.Done():
					return ms, err
				case <-time.After(500 * time.Millisecond):
				}
			}
		})}
	promote.Flags().BoolVar(&wait, "wait", false, "retry while the learner catches up (until --timeout)")
	remove := &cobra.Command{Use: "remove ID", Short: "Remove a member (a leader removed steps down)", Args: cobra.ExactArgs(1),
		RunE: run(func(ctx context.Context, c *client.Client, a []string) (api.Members, error) {
			id, err := memberID(a[0])
			if err != nil {
				return api.Members{}, err
			}
			ms, err := c.RemoveMember(ctx, id)
			if err == nil {
				fmt.Printf("✓ Removed node %d @ index %d\n", id, ms.Index)
			}
			return ms, err
		})}
	cmd.AddCommand(list, add, promote, remove)
	return cmd
}

func memberID(s string) (uint64, error) {
	id, err := strconv.ParseUint(s, 10, 64)
	if err != nil || id == 0 {
		return 0, fmt.Errorf("member id %q is not a non-zero integer", s)
	}
	return id, nil
}

func printMembers(ms api.Members) {
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tROLE\tRAFT\tAPI\tMATCH\tSTATE")
	for _, m := range ms.Members {
		role := m.Role
		if m.ID == ms.Leader {
			role += " (leader)"
		}
		match, state := "-", "-"
		if m.State != "" {
			match, state = strconv.FormatUint(m.Match, 10), m.State
			if !m.Active && m.ID != ms.Leader {
				state += ", inactive"
			}
		}
		fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\n", m.ID, role, orDash(m.Raft), orDash(m.API), match, state)
	}
	w.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
