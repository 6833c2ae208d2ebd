package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/wraft/wraft/api"
)

// TestPipelineKeepsAcknowledgedWrites drives the storage pipeline with
// fsync on, many concurrent writers and a snapshot every 50 entries (each
// one drains the pipeline): every write the leader acknowledged must be
// there after all three nodes restart. Each writer writes its own key with
// values 1, 2, …, one at a time, so a key must hold at least the last value
// acknowledged for it (a write that failed may still have committed).
func TestConcurrentWritesSurviveRestart(t *testing.T) {
	const writers, writes = 24, 25
	c := newClusterWith(t, clusterOptions{size: 3, sync: true, snapshotEntries: 50})
	leader := c.waitLeader()
	base := c.url(leader, "/v1/kv/")
	hc := &http.Client{Timeout: 30 * time.Second}

	acked := make([]int, writers) // the last value acknowledged, per writer
	errs := make(chan error, writers)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 1; k <= writes; k++ {
				req, err := http.NewRequest(http.MethodPut, base+fmt.Sprintf("w%02d", w), bytes.NewReader([]byte(strconv.Itoa(k))))
				if err != nil {
					errs <- err
					return
				}
				req.Header.Set(api.HeaderClient, strconv.Itoa(1000+w))
				req.Header.Set(api.HeaderSeq, strconv.Itoa(k))
				resp, err := hc.Do(req)
				if err != nil {
					continue // unknown outcome
				}
				var rep api.Reply
				err = json.NewDecoder(resp.Body).Decode(&rep)
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if err == nil && resp.StatusCode == http.StatusOK && rep.Code == "ok" && rep.OK {
					acked[w] = k
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	total := 0
	for _, k := range acked {
		total += k
	}
	if total == 0 {
		t.Fatal("no write was acknowledged")
	}
	t.Logf("%d of %d writes acknowledged", total, writers*writes)

	c.stopAll()
	for id := uint64(1); id <= 3; id++ {
		c.restart(id)
	}
	leader = c.waitLeader()
	for w, want := range acked {
		if want == 0 {
			continue
		}
		key := fmt.Sprintf("w%02d", w)
		r := do(t, http.MethodGet, c.url(leader, "/v1/kv/"+key), nil)
		rep := r.reply(t)
		have, err := strconv.Atoi(rep.Value)
		if r.code != http.StatusOK || err != nil || have < want {
			t.Errorf("%s after a restart: have %d %q (code %q), want at least %d, the last value acknowledged",
				key, r.code, rep.Value, rep.Code, want)
		}
	}
}
