package e2e

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wraft/wraft/api"
	"github.com/wraft/wraft/client"
)

// members lists the configuration, failing the test if no node answers.
func (c *cluster) members() api.Members {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ms, err := c.cl.Members(ctx)
	if err != nil {
		c.t.Fatalf("list members: %v", err)
	}
	return ms
}

func describeMembers(ms api.Members) string {
	var parts []string
	for _, m := range ms.Members {
		parts = append(parts, fmt.Sprintf("%d:%s", m.ID, m.Role))
	}
	return strings.Join(parts, " ")
}

// waitMembers waits until the leader's configuration is want, such as
// "1:voter 2:voter 4:learner".
func (c *cluster) waitMembers(want string) {
	c.t.Helper()
	var have string
	for deadline := time.Now().Add(40 * time.Second); time.Now().Before(deadline); {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		ms, err := c.cl.Members(ctx)
		cancel()
		if err == nil {
			if have = describeMembers(ms); have == want {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	c.t.Fatalf("members: have %q, want %q", have, want)
}

// remove removes member id, retrying while another change is in progress.
func (c *cluster) remove(id int) {
	c.t.Helper()
	var err error
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err = c.cl.RemoveMember(ctx, uint64(id))
		cancel()
		switch {
		case err == nil:
			return
		case errors.Is(err, client.ErrRefused) && strings.Contains(err.Error(), "not a member"):
			return // an earlier attempt whose answer was lost
		case errors.Is(err, client.ErrConflict), errors.Is(err, client.ErrUnavailable), errors.Is(err, client.ErrOutcomeUnknown):
			time.Sleep(200 * time.Millisecond)
		default:
			c.t.Fatalf("remove node %d: %v", id, err)
		}
	}
	c.t.Fatalf("remove node %d: %v", id, err)
}

// TestProcessMembership grows a three-node cluster to five with
// wraft node --join, removes the leader, shrinks back to three, with
// clients writing and reading throughout, and checks the history.
func TestProcessMembership(t *testing.T) {
	c := newClusterWith(t, "wasm", clusterOptions{spare: 2})
	c.leader(0)
	c.set("before", "1")
	w := startWorkload(t, c.endpoints(), 3)

	// Two new nodes join as learners, catch up and are promoted.
	c.start(4)
	c.start(5)
	c.waitMembers("1:voter 2:voter 3:voter 4:voter 5:voter")
	t.Logf("grown to five: %s", describeMembers(c.members()))
	c.set("five", "5")

	// Remove the leader: it steps down, the others elect a new one.
	l := c.leader(0)
	c.remove(l)
	l2 := c.leader(l)
	t.Logf("removed leader %d: node %d leads now", l, l2)
	c.kill9(l)

	// Shrink to three: remove a follower too.
	gone := 0
	for id := 5; id >= 1; id-- {
		if id != l && id != l2 {
			gone = id
			break
		}
	}
	c.remove(gone)
	c.kill9(gone)
	var want []string
	for id := 1; id <= 5; id++ {
		if id != l && id != gone {
			want = append(want, fmt.Sprintf("%d:voter", id))
		}
	}
	// The client's endpoints are the founders; one of them may be gone.
	var eps []string
	for id := 1; id <= 5; id++ {
		if id != l && id != gone {
			eps = append(eps, "http://"+c.apis[id-1])
		}
	}
	var err error
	if c.cl, err = client.New(eps); err != nil {
		t.Fatal(err)
	}
	c.cl.Token = adminToken
	c.waitMembers(strings.Join(want, " "))
	c.set("three", "3")
	c.get("before", "1")
	c.get("five", "5")
	c.converged()
	w.check(t)
}

// TestProcessSnapshotCatchUp stops a follower while the others write far
// past a low --snapshot-entries: restarted, it catches up by snapshot.
func TestProcessSnapshotCatchUp(t *testing.T) {
	c := newClusterWith(t, "wasm", clusterOptions{args: []string{"--snapshot-entries", "50"}})
	l := c.leader(0)
	f := 1
	if f == l {
		f = 2
	}
	c.set("k0", "0")
	c.converged()
	c.kill9(f)
	const n = 300
	for i := range n {
		c.set(fmt.Sprintf("k%d", i), fmt.Sprint(i))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	st, err := c.cl.Status(ctx, "http://"+c.apis[l-1])
	cancel()
	if err != nil || st.Snapshot == 0 || st.FirstIndex <= 2 {
		t.Fatalf("leader after %d writes: snapshot %d first index %d (%v); want its log compacted", n, st.Snapshot, st.FirstIndex, err)
	}
	c.start(f)
	c.converged()
	ctx, cancel = context.WithTimeout(context.Background(), 5*time.Second)
	st, err = c.cl.Status(ctx, "http://"+c.apis[f-1])
	cancel()
	if err != nil || st.Snapshot == 0 {
		t.Fatalf("restarted node %d: snapshot %d (%v); want one", f, st.Snapshot, err)
	}
	log, _ := os.ReadFile(filepath.Join(c.dir, fmt.Sprintf("node-%d.log", f)))
	if !strings.Contains(string(log), "event=snapshot-installed") {
		t.Fatalf("node %d did not log installing the leader's snapshot; log:\n%s", f, c.log(f))
	}
	// Its copy of the data matches.
	only, err := client.New([]string{"http://" + c.apis[f-1]})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i += 7 {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		rep, err := only.Get(ctx, fmt.Sprintf("k%d", i), true)
		cancel()
		if err != nil || rep.Value != fmt.Sprint(i) {
			t.Fatalf("stale read of k%d on node %d: have %+v, %v; want %d", i, f, rep, err, i)
		}
	}
}
