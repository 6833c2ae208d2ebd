package server

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/wraft/wraft/api"
	"github.com/wraft/wraft/raft"
	"github.com/wraft/wraft/storage"
)

// ClusterFile names the file in a data directory that holds the
// configuration a node joined a running cluster with: its initial
// configuration on every restart.
const ClusterFile = "cluster.json"

// clusterFile is ClusterFile's content.
type clusterFile struct {
	// Joined is the API URL the node joined through.
	Joined  string         `json:"joined"`
	Members []memberRecord `json:"members"`
}

type memberRecord struct {
	ID      uint64 `json:"id"`
	Learner bool   `json:"learner,omitempty"`
	Addr    string `json:"addr"`
}

// ReadClusterFile returns the configuration stored in dir's ClusterFile,
// or nil without error if there is none.
func ReadClusterFile(dir string) ([]raft.Member, error) {
	path := filepath.Join(dir, ClusterFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("server: read %s: %w", path, err)
	}
	var f clusterFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("server: %s is damaged: %w", path, err)
	}
	ms := make([]raft.Member, 0, len(f.Members))
	for _, m := range f.Members {
		ms = append(ms, raft.Member{ID: m.ID, Learner: m.Learner, Addr: m.Addr})
	}
	slices.SortFunc(ms, func(a, b raft.Member) int { return cmp.Compare(a.ID, b.ID) })
	if err := checkConfig(ms); err != nil {
		return nil, fmt.Errorf("server: %s: %w", path, err)
	}
	return ms, nil
}

// checkConfig reports whether ms (sorted) is a usable configuration.
func checkConfig(ms []raft.Member) error {
	voters := 0
	for i, m := range ms {
		if m.ID == 0 {
			return errors.New("member id 0 is reserved")
		}
		if i > 0 && ms[i-1].ID == m.ID {
			return fmt.Errorf("member %d is listed twice", m.ID)
		}
		if !m.Learner {
			voters++
		}
	}
	if voters == 0 {
		return errors.New("no voters")
	}
	return nil
}

// writeClusterFile stores ms in dir's ClusterFile atomically: a crash
// leaves the old file or the new one, never a part.
func writeClusterFile(dir, joined string, ms []raft.Member) error {
	f := clusterFile{Joined: joined}
	for _, m := range ms {
		f.Members = append(f.Members, memberRecord{ID: m.ID, Learner: m.Learner, Addr: m.Addr})
	}
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return fmt.Errorf("server: encode %s: %w", ClusterFile, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("server: create %s: %w", dir, err)
	}
	path := filepath.Join(dir, ClusterFile)
	tmp, err := os.CreateTemp(dir, ClusterFile+".tmp*")
	if err != nil {
		return fmt.Errorf("server: write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(append(b, '\n'))
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("server: write %s: %w", path, err)
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// isEmpty reports whether st is the state of a node that never ran.
func isEmpty(st storage.State) bool {
	return st.HardState.IsZero() && len(st.Entries) == 0 && st.Snapshot == nil
}

// initialMembers decides the configuration the core starts with: the one
// the node joined with (ClusterFile), a new join through cfg.Join when the
// data directory is empty, or else the bootstrap configuration of
// cfg.Peers. The log's configuration changes and snapshots replace it.
func (n *Node) initialMembers(ctx context.Context, st storage.State) ([]raft.Member, error) {
	saved, err := ReadClusterFile(n.cfg.DataDir)
	if err != nil {
		return nil, err
	}
	switch {
	case saved != nil:
		if n.cfg.Join != "" {
			n.log.Info("data directory holds the configuration this node joined with; --join is ignored", "file", ClusterFile)
		}
		return saved, nil
	case n.cfg.Join != "" && isEmpty(st):
		ms, err := n.join(ctx)
		if err != nil {
			return nil, err
		}
		if err := writeClusterFile(n.cfg.DataDir, n.cfg.Join, ms); err != nil {
			return nil, err
		}
		return ms, nil
	case n.cfg.Join != "" && len(n.cfg.Peers) <= 1:
		return nil, fmt.Errorf("server: %s holds data but no %s, so this node's initial configuration is unknown; "+
			"start it with --peers, or with an empty data directory and --join", n.cfg.DataDir, ClusterFile)
	case n.cfg.Join != "":
		n.log.Warn("data directory is not empty; --join is ignored")
	}
	// The bootstrap configuration must be the same on every node, so it
	// holds only what every node is told (--peers, --peer-apis): not this
	// node's own API URL, which it announces through the log instead
	// (announce.go), as every node does.
	var ms []raft.Member
	for id, addr := range n.cfg.Peers {
		ms = append(ms, raft.Member{ID: id, Addr: FormatAddr(addr, n.cfg.PeerAPIs[id])})
	}
	slices.SortFunc(ms, func(a, b raft.Member) int { return cmp.Compare(a.ID, b.ID) })
	return ms, nil
}

// join asks a member of a running cluster (any: it forwards to the leader)
// to add this node as a learner, and returns the configuration after the
// change. It retries while the cluster is busy or electing, up to
// cfg.JoinTimeout. Asking again after an answer was lost is safe: a node
// that finds itself already a member, at its address, takes the
// configuration as it is.
func (n *Node) join(ctx context.Context) ([]raft.Member, error) {
	ctx, cancel := context.WithTimeout(ctx, n.cfg.JoinTimeout)
	defer cancel()
	base := strings.TrimRight(n.cfg.Join, "/")
	self := n.cfg.Peers[n.cfg.ID]
	body, _ := json.Marshal(api.AddMember{ID: n.cfg.ID, Raft: self, API: n.advertisedAPI()})
	n.log.Info("joining the cluster as a learner", "via", base, "raft", self, "api", n.advertisedAPI())
	// via is the API asked: base, or the leader's, once a member that
	// could not forward named it; base again if the leader's fails.
	via := base
	backoff := 200 * time.Millisecond
	var last error
	for attempt := 1; ; attempt++ {
		if ms, err := n.getMembers(ctx, via); err == nil {
			if i := slices.IndexFunc(ms, func(m raft.Member) bool { return m.ID == n.cfg.ID }); i >= 0 {
				if ra, _ := ParseAddr(ms[i].Addr); ra != self {
					return nil, fmt.Errorf("server: join: node %d is already a member, at %q, not %q: remove it first (wraft member remove %d)",
						n.cfg.ID, ra, self, n.cfg.ID)
				}
				n.log.Info("joined the cluster", "members", describe(ms))
				return ms, nil
			}
		}
		code, ans, err := n.post(ctx, via+"/v1/members", body)
		switch {
		case err != nil:
			last = err
			via = base
		case code == http.StatusOK:
			var out api.Members
			if err := json.Unmarshal(ans, &out); err != nil {
				return nil, fmt.Errorf("server: join: %s answered with something other than the members: %w", base, err)
			}
			ms := fromAPI(out.Members)
			if !slices.ContainsFunc(ms, func(m raft.Member) bool { return m.ID == n.cfg.ID }) {
				last = fmt.Errorf("server: join: added, but the answer lacks this node: %s", ans)
				break
			}
			if err := checkConfig(ms); err != nil {
				return nil, fmt.Errorf("server: join: the cluster's members: %w", err)
			}
			n.log.Info("joined the cluster", "index", out.Index, "members", describe(ms))
			return ms, nil
		case code == http.StatusBadRequest && !bytes.Contains(ans, []byte("already a member")):
			return nil, fmt.Errorf("server: join: %s refused: %s", via, replyError(ans))
		default:
			last = fmt.Errorf("server: join: %s answered %d: %s", via, code, replyError(ans))
			var rep api.Reply
			if code == http.StatusServiceUnavailable && json.Unmarshal(ans, &rep) == nil && rep.LeaderAPI != "" {
				if u, err := normalizeAPI(rep.LeaderAPI); err == nil && u != via {
					n.log.Info("join: asking the leader directly", "leader", rep.Leader, "api", u)
					via = u
				}
			}
		}
		n.log.Info("join: retrying", "attempt", attempt, "err", last)
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("server: join through %s did not succeed within %v: %w", base, n.cfg.JoinTimeout, last)
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 2*time.Second)
	}
}

// getMembers fetches the configuration from a member's API.
func (n *Node) getMembers(ctx context.Context, base string) ([]raft.Member, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/v1/members", nil)
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	resp, err := n.fwd.Do(req)
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("server: %s/v1/members: %s", base, resp.Status)
	}
	var out api.Members
	if err := json.NewDecoder(io.LimitReader(resp.Body, 4<<20)).Decode(&out); err != nil {
		return nil, fmt.Errorf("server: %s/v1/members: %w", base, err)
	}
	return fromAPI(out.Members), nil
}

// post posts body and returns the answer's status and body.
func (n *Node) post(ctx context.Context, url string, body []byte) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, nil, fmt.Errorf("server: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+cmp.Or(n.cfg.JoinToken, n.cfg.AdminToken))
	resp, err := n.fwd.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("server: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return 0, nil, fmt.Errorf("server: read the answer of %s: %w", url, err)
	}
	return resp.StatusCode, b, nil
}

// replyError returns the error an API reply carries, or the body itself.
func replyError(b []byte) string {
	var r api.Reply
	if json.Unmarshal(b, &r) == nil && r.Error != "" {
		return r.Code + ": " + r.Error
	}
	return strings.TrimSpace(string(b))
}

func fromAPI(ams []api.Member) []raft.Member {
	ms := make([]raft.Member, 0, len(ams))
	for _, m := range ams {
		ms = append(ms, raft.Member{ID: m.ID, Learner: m.Role == "learner", Addr: FormatAddr(m.Raft, m.API)})
	}
	slices.SortFunc(ms, func(a, b raft.Member) int { return cmp.Compare(a.ID, b.ID) })
	return ms
}

func describe(ms []raft.Member) string {
	var parts []string
	for _, m := range ms {
		role := "voter"
		if m.Learner {
			role = "learner"
		}
		parts = append(parts, fmt.Sprintf("%d(%s)", m.ID, role))
	}
	return strings.Join(parts, " ")
}

// promote asks the leader, until it agrees, to make this joined node a
// voter. The leader refuses (409) while the node catches up; after
// cfg.PromoteTimeout the node gives up and stays a learner, which an
// operator can promote later.
func (n *Node) promote(ctx context.Context) {
	deadline := time.Now().Add(n.cfg.PromoteTimeout)
	backoff := 200 * time.Millisecond
	path := "/v1/members/" + itoa(n.cfg.ID) + "/promote"
	for {
		s := n.Status()
		if len(s.Members) > 0 {
			i := slices.IndexFunc(s.Members, func(m raft.Member) bool { return m.ID == n.cfg.ID })
			switch {
			case i < 0:
				n.log.Warn("this node is not a member of the cluster (removed?); not asking for promotion")
				return
			case !s.Members[i].Learner:
				n.log.Info("this node is a voter")
				return
			}
		}
		if time.Now().After(deadline) {
			n.log.Error("gave up asking to be promoted; this node stays a learner until an operator promotes it",
				"after", n.cfg.PromoteTimeout, "command", fmt.Sprintf("wraft member promote %d", n.cfg.ID))
			return
		}
		if s.Leader != 0 {
			base := n.apiURLOf(s, s.Leader)
			if base == "" {
				base = strings.TrimRight(n.cfg.Join, "/")
			}
			code, ans, err := n.post(ctx, base+path, nil)
			switch {
			case err != nil:
				n.log.Debug("promotion: leader unreachable", "err", err)
			case code == http.StatusOK:
				n.log.Info("promoted to voter; waiting to learn that it applied")
			case code == http.StatusConflict:
				n.log.Debug("promotion: not yet", "reason", replyError(ans))
			default:
				n.log.Info("promotion refused for now", "status", code, "reason", replyError(ans))
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 2*time.Second)
	}
}
