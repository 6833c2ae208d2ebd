package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/wraft/wraft/raft"
	"github.com/wraft/wraft/server"
)

const recoverWarning = `⚠ UNSAFE RECOVERY. This forces a new configuration on this node without the
  agreement of the lost members. Writes that the lost majority acknowledged and this
  node never received are LOST, and entries this node holds that never committed
  become committed. Run it on ONE stopped survivor only, the one whose log is most
  up to date (compare with --dry-run: highest last term, then last index); start the
  other surviving voters unchanged, and never restart a lost member with its old data.`

func recoverCmd() *cobra.Command {
	var dataDir, voters, learners, peers string
	var understand, dryRun bool
	cmd := &cobra.Command{
		Use:   "recover",
		Short: "Unsafe: force a new configuration on a stopped node after the quorum is lost for good",
		Long: `Force a new configuration on a stopped node's data directory, for a cluster that lost
its quorum for good (two of three machines destroyed, say). The node appends a
configuration change that keeps only --voters (and --learners), in a new term, marked
committed; when started again it adopts it, and the survivors elect a leader among
themselves. Add fresh nodes afterwards with wraft node --join.

` + recoverWarning,
		Example: `  # nodes 2 and 3 are gone for good; node 1 is stopped
  wraft recover --data /var/lib/wraft --voters 1 --dry-run
  wraft recover --data /var/lib/wraft --voters 1 --i-understand-data-loss
  wraft node --id 1 --peers ... --data /var/lib/wraft`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if dataDir == "" {
				return errors.New("--data is required (the stopped node's data directory)")
			}
			vs, err := parseIDs("--voters", voters)
			if err != nil {
				return err
			}
			if len(vs) == 0 {
				return errors.New("--voters is required: the ids of the surviving voters, such as --voters 1 or --voters 1,2")
			}
			ls, err := parseIDs("--learners", learners)
			if err != nil {
				return err
			}
			var ps map[uint64]string
			if peers != "" {
				if ps, err = parsePeers(peers); err != nil {
					return err
				}
			}
			if !understand && !dryRun {
				fmt.Println(recoverWarning)
				return errors.New("refusing without --i-understand-data-loss (or see what it would do with --dry-run)")
			}
			logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
			res, err := server.Recover(server.RecoverOptions{DataDir: dataDir, Voters: vs, Learners: ls, Peers: ps,
				DryRun: dryRun, Logger: logger})
			if err != nil {
				return err
			}
			fmt.Printf("log: last index %d, last term %d, commit %d\n", res.LastIndex, res.LastTerm, res.Commit)
			fmt.Printf("configuration now (from the %s): %s\n", res.Source, describeMembers(res.Before))
			fmt.Printf("forced configuration: %s, at index %d in term %d\n", describeMembers(res.After), res.Index, res.Term)
			if dryRun {
				fmt.Println("dry run: nothing changed")
				return nil
			}
			fmt.Println(recoverWarning)
			fmt.Println("✓ Forced. Start the node; it adopts the new configuration.")
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&dataDir, "data", "", "the stopped node's data directory")
	fl.StringVar(&voters, "voters", "", "ids of the surviving voters, comma-separated (this node among them)")
	fl.StringVar(&learners, "learners", "", "ids of surviving learners to keep, comma-separated")
	fl.StringVar(&peers, "peers", "", "the bootstrap --peers, if the cluster never changed its configuration")
	fl.BoolVar(&understand, "i-understand-data-loss", false, "confirm that acknowledged writes can be lost")
	fl.BoolVar(&dryRun, "dry-run", false, "show the log and the configurations, change nothing")
	return cmd
}

func parseIDs(flag, s string) ([]uint64, error) {
	var ids []uint64
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		id, err := memberID(part)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", flag, err)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

func describeMembers(ms []raft.Member) string { return server.DescribeMembers(ms) }
