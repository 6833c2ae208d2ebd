package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/wraft/wraft/api"
)

func statusCmd() *cobra.Command {
	var f clientFlags
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show every node's role, term, leader, commit index, log length and health",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			c, err := f.client()
			if err != nil {
				return err
			}
			// Every node is asked at once, each for at most 2 s, so a frozen
			// node costs one timeout, not one per node before it.
			eps := c.Endpoints()
			statuses := make([]api.Status, len(eps))
			errs := make([]error, len(eps))
			var wg sync.WaitGroup
			for i, ep := range eps {
				wg.Go(func() {
					ctx, cancel := context.WithTimeout(context.Background(), min(f.timeout, 2*time.Second))
					defer cancel()
					statuses[i], errs[i] = c.Status(ctx, ep)
				})
			}
			wg.Wait()
			w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(w, "NODE\tROLE\tMEMBER\tTERM\tLEADER\tCOMMIT\tAPPLIED\tSNAPSHOT\tLOG\tALIVE\tHEALTH\tENDPOINT")
			up := 0
			for i, ep := range eps {
				st := statuses[i]
				if errs[i] != nil {
					fmt.Fprintf(w, "?\toffline\t-\t-\t-\t-\t-\t-\t-\t-\tunreachable\t%s\n", ep)
					continue
				}
				up++
				// A follower hears only from its leader, so its alive count
				// says nothing while it has one.
				health := "ok"
				switch {
				case st.Leader == 0 && st.Alive < st.Quorum:
					health = fmt.Sprintf("no quorum (%d/%d alive)", st.Alive, len(st.Voters))
				case st.Leader == 0:
					health = "election in progress"
				case st.Role == "leader" && st.Alive < st.Quorum:
					health = fmt.Sprintf("no quorum (%d/%d alive)", st.Alive, len(st.Voters))
				case st.Applied < st.Commit:
					health = "catching up"
				}
				leader := "-"
				if st.Leader != 0 {
					leader = fmt.Sprint(st.Leader)
				}
				// A node outside the configuration it knows was removed (or
				// has not learnt yet that it joined).
				member := "removed"
				for _, m := range st.Members {
					if m.ID == st.ID {
						member = m.Role
					}
				}
				fmt.Fprintf(w, "%d\t%s\t%s\t%d\t%s\t%d\t%d\t%d\t%d\t%d/%d\t%s\t%s\n", st.ID, st.Role, member, st.Term, leader,
					st.Commit, st.Applied, st.Snapshot, st.LastIndex, st.Alive, len(st.Voters), health, ep)
			}
			w.Flush()
			if up == 0 {
				return fmt.Errorf("no node answered at %s", strings.Join(c.Endpoints(), ", "))
			}
			return nil
		},
	}
	f.add(cmd)
	return cmd
}
