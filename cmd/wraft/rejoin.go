package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/wraft/wraft/api"
	"github.com/wraft/wraft/server"
	"github.com/wraft/wraft/storage"
)

// rejoinTimeout bounds how long `wraft node --rejoin` waits for the
// cluster to remove this node's old membership.
const rejoinTimeout = 2 * time.Minute

// explainCorrupt turns the error of a node that cannot start because its
// data directory is damaged (storage.ErrCorrupt) into a refusal that says
// what was found, why the node must not start from it, and the exact
// command that restores it from its peers. Other errors pass through.
func explainCorrupt(err error, f nodeFlags, peerAPIs map[uint64]string) error {
	if err == nil || !errors.Is(err, storage.ErrCorrupt) {
		return err
	}
	return fmt.Errorf(`%w

wraft node: refusing to start node %d: its data directory %s is damaged.
A node that lost part of its log may have lost entries it acknowledged and the
vote it cast in its current term; started anyway, it could vote twice and let
two leaders commit different entries. The damaged files were left as they are.

Restore it from its peers (the damaged directory is moved aside to
%s.corrupt-<time>, not deleted; the node is removed from the cluster and
added back as a learner that catches up by snapshot, then promoted):

  %s

(If a service manager starts the node, add --rejoin to its command there.)
See "Restoring a damaged node from its peers" in docs/OPERATIONS.md`,
		err, f.id, f.data, f.data, rejoinCommand(os.Args, f, peerAPIs))
}

// rejoinCommand returns the command line that restarts this node with
// --rejoin: args (os.Args) without any --rejoin, with --rejoin and, if
// absent, --join through another member's API.
func rejoinCommand(args []string, f nodeFlags, peerAPIs map[uint64]string) string {
	out := []string{"wraft"}
	if len(args) > 0 {
		out[0] = args[0]
		args = args[1:]
	}
	for _, a := range args {
		if a == "--rejoin" || a == "-rejoin" || strings.HasPrefix(a, "--rejoin=") {
			continue
		}
		out = append(out, shellQuote(a))
	}
	out = append(out, "--rejoin")
	if f.join == "" {
		out = append(out, "--join", shellQuote(otherAPI(f.id, peerAPIs)))
	}
	return strings.Join(out, " ")
}

// otherAPI returns the API URL of a member other than id, the lowest, or
// a placeholder if none is known.
func otherAPI(id uint64, peerAPIs map[uint64]string) string {
	var ids []uint64
	for m := range peerAPIs {
		if m != id {
			ids = append(ids, m)
		}
	}
	if len(ids) == 0 {
		return "http://<API of a running member>"
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return peerAPIs[ids[0]]
}

// shellQuote quotes s for a POSIX shell if it needs quoting.
func shellQuote(s string) string {
	if s != "" && !strings.ContainsFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:=,@+%", r))
	}) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// prepareRejoin carries out `wraft node --rejoin` before the node starts:
// if the data directory is damaged (storage.Open fails with ErrCorrupt),
// it has the cluster, through --join, remove this node's old membership,
// and then moves the directory aside (renamed DIR.corrupt-<time>, never
// deleted) and makes a new one holding only the admin token, so that the
// node starts empty and joins again through --join as a learner, catches
// up (by snapshot once the others have compacted their logs), and is
// promoted. A directory that opens cleanly is left alone: --rejoin is then
// ignored, with a warning, so that a restart with the flag still given
// does no harm.
//
// The old membership goes first: a node that lost its vote must not come
// back as a voter of the term it voted in. Joined afresh, it is a learner
// until promoted, and by then it holds an entry of the promoting leader's
// term, so it grants no vote in that term or an earlier one.
func prepareRejoin(f nodeFlags, logger *slog.Logger) error {
	if f.join == "" {
		return errors.New("--rejoin needs --join: the API URL of a running member to rejoin through")
	}
	damaged, err := dataDamaged(f.data, logger)
	if err != nil {
		return err
	}
	if !damaged {
		logger.Warn("--rejoin: the data directory opens cleanly; starting from it as usual (drop --rejoin from the command)", "data", f.data)
		return nil
	}
	token := f.adminToken
	if token == "" {
		if token, err = server.ReadAdminToken(f.data); err != nil {
			return fmt.Errorf("rejoin: the cluster's admin token is needed to change its members: give --admin-token (%w)", err)
		}
	}
	join := strings.TrimRight(f.join, "/")
	if !strings.Contains(join, "://") {
		join = "http://" + join
	}
	ctx, cancel := context.WithTimeout(context.Background(), rejoinTimeout)
	defer cancel()
	if err := removeSelf(ctx, join, token, f.id, logger); err != nil {
		return fmt.Errorf("rejoin: the damaged data directory %s is left as it was: %w", f.data, err)
	}
	aside := f.data + ".corrupt-" + time.Now().UTC().Format("20060102T150405Z")
	if err := os.Rename(f.data, aside); err != nil {
		return fmt.Errorf("rejoin: move the damaged data directory aside: %w", err)
	}
	// The new directory keeps the admin token, the cluster's.
	if err := os.MkdirAll(f.data, 0o700); err != nil {
		return fmt.Errorf("rejoin: %w", err)
	}
	if f.adminToken == "" {
		if err := os.WriteFile(filepath.Join(f.data, server.AdminTokenFile), []byte(token+"\n"), 0o600); err != nil {
			return fmt.Errorf("rejoin: keep the admin token: %w", err)
		}
	}
	if d, err := os.Open(filepath.Dir(filepath.Clean(f.data))); err == nil {
		_ = d.Sync()
		d.Close()
	}
	logger.Warn("rejoin: moved the damaged data directory aside; keep it until the node has caught up, then delete it",
		"data", f.data, "moved_to", aside)
	return nil
}

// dataDamaged reports whether the WAL in dir fails to open with
// storage.ErrCorrupt. A missing directory is not damaged.
func dataDamaged(dir string, logger *slog.Logger) (bool, error) {
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	w, _, err := storage.Open(storage.Options{Dir: dir, Logger: logger})
	switch {
	case err == nil:
		return false, w.Close()
	case errors.Is(err, storage.ErrCorrupt):
		logger.Warn("rejoin: the data directory is damaged", "data", dir, "err", err)
		return true, nil
	}
	return false, fmt.Errorf("rejoin: open %s: %w", dir, err)
}

// removeSelf has the cluster, through the member whose API is join, remove
// member id, if it is one, and returns once the removal committed (or id
// was no member). The member forwards the request to the leader.
func removeSelf(ctx context.Context, join, token string, id uint64, logger *slog.Logger) error {
	hc := &http.Client{Timeout: 15 * time.Second}
	var last error
	for backoff := 200 * time.Millisecond; ; backoff = min(2*backoff, 2*time.Second) {
		code, body, err := call(ctx, hc, http.MethodGet, join+"/v1/members", "")
		var ms api.Members
		switch {
		case err != nil:
			last = err
		case code != http.StatusOK:
			last = fmt.Errorf("%s/v1/members: %d: %s", join, code, bytes.TrimSpace(body))
		case json.Unmarshal(body, &ms) != nil:
			last = fmt.Errorf("%s/v1/members answered with something other than the members", join)
		case !slices.ContainsFunc(ms.Members, func(m api.Member) bool { return m.ID == id }):
			return nil
		default:
			logger.Info("rejoin: removing this node's old membership", "member", id, "leader", ms.Leader, "via", join)
			code, body, err = call(ctx, hc, http.MethodDelete, join+"/v1/members/"+strconv.FormatUint(id, 10), token)
			var rep api.Reply
			_ = json.Unmarshal(body, &rep)
			switch {
			case err != nil:
				last = err // it may have applied: the next round looks
			case code == http.StatusOK:
				logger.Info("rejoin: removed", "member", id)
				return nil
			case code == http.StatusUnauthorized:
				return fmt.Errorf("the cluster refused the admin token: give the cluster's with --admin-token (%s)", rep.Error)
			default:
				last = fmt.Errorf("remove member %d: %d %s: %s", id, code, rep.Code, rep.Error)
			}
		}
		logger.Info("rejoin: cannot remove the old membership yet; retrying", "err", last)
		select {
		case <-ctx.Done():
			return fmt.Errorf("the cluster did not remove member %d within %v: %w", id, rejoinTimeout, last)
		case <-time.After(backoff):
		}
	}
}

// call makes one request without a body, with the admin token if given,
// and returns the answer's status and body.
func call(ctx context.Context, hc *http.Client, method, url, token string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, nil)
	if err != nil {
		return 0, nil, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	return resp.StatusCode, b, err
}
