package storage

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The crash test's child process reads its orders from these variables.
const (
	envCrashDir    = "WRAFT_STORAGE_CRASH_DIR"
	envCrashSeed   = "WRAFT_STORAGE_CRASH_SEED"
	envCrashStart  = "WRAFT_STORAGE_CRASH_START"  // saves the directory holds
	envCrashSavers = "WRAFT_STORAGE_CRASH_SAVERS" // concurrent savers
	envCrashNoSync = "WRAFT_STORAGE_CRASH_NOSYNC"
	envCrashSnaps  = "WRAFT_STORAGE_CRASH_SNAPSHOTS" // the workload takes snapshots
)

const (
	crashSegmentBytes = 4 << 10
	crashMaxSaves     = 20000 // a child stops by itself after this many
)

// TestCrash runs a child process that saves a workload and prints the
// number of each save once Save has returned, kills it with SIGKILL at a
// random moment, and checks that Open returns the state after some prefix
// of the workload that includes every save the child reported. Runs go in
// chains on one directory, so that each child recovers what the one before
// it left, torn tails included.
func TestCrash(t *testing.T) {
	if os.Getenv(envCrashDir) != "" {
		t.Skip("in the crash test's child")
	}
	runs, chain := 120, 10
	if testing.Short() {
		runs = 20
	}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 0))
	var (
		dir         string
		seed        uint64
		start       int
		savers      int
		noSync      bool
		snaps       bool
		totalAcked  int
		totalTorn   int
		killedEarly int
		tornTails   int
	)
	began := time.Now()
	for run := range runs {
		if run%chain == 0 {
			dir, seed, start = t.TempDir(), rng.Uint64(), 0
			savers = []int{1, 1, 4, 16}[(run/chain)%4]
			noSync = (run/chain)%2 == 1
			snaps = (run/chain)%3 == 1
		}
		// In one run in three, the machine "loses power" too: the newest
		// segment loses some of what follows the last reported save. (Not
		// with snapshots, which delete the segments that would tell where
		// that save is.)
		powerLoss := rng.IntN(3) == 0 && !snaps
		// Most kills land while the child saves; one in five during its
		// start-up and recovery.
		early := rng.IntN(5) == 0
		delay := time.Duration(rng.IntN(100)) * time.Millisecond
		if early {
			delay = time.Duration(rng.IntN(60)) * time.Millisecond
		}
		what := fmt.Sprintf("run %d (seed %d, %d savers, nosync %v, snapshots %v, kill %v after %s, power loss %v)", run, seed, savers, noSync, snaps, delay,
			map[bool]string{true: "start", false: "ready"}[early], powerLoss)
		acked, exited := runCrashChild(t, what, dir, seed, start, savers, noSync, snaps, early, delay)
		if !exited && len(acked) == 0 {
			killedEarly++
		}
		totalAcked += len(acked)

		// Every reported save must be there: the state is the one after m
		// saves, for some m at least the highest reported, and at most
		// savers beyond it (saves in flight).
		least := start
		for _, n := range acked {
			least = max(least, n)
		}
		if powerLoss {
			simulatePowerLoss(t, dir, least, rng)
		}
		var logs bytes.Buffer
		w, st, err := Open(Options{Dir: dir, NoSync: true, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
		if err != nil {
			t.Fatalf("%s: Open after the crash: %v", what, err)
		}
		if strings.Contains(logs.String(), "torn tail") {
			tornTails++
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		g := newWorkload(seed, true)
		g.snapshots = snaps
		for g.n < least {
			g.next()
		}
		found := false
		for ; g.n <= least+savers; g.next() {
			if diffState(st, g.st) == "" {
				found = true
				break
			}
		}
		if !found {
			g = newWorkload(seed, true)
			g.snapshots = snaps
			for g.n < least {
				g.next()
			}
			t.Fatalf("%s: the recovered state (%d entries, %+v) is not the one after %d to %d saves; vs %d: %s",
				what, len(st.Entries), st.HardState, least, least+savers, least, diffState(st, g.st))
		}
		if g.n > least {
			totalTorn++ // a save landed that the child had not reported
		}
		start = g.n
	}
	t.Logf("%d runs in %v: %d saves reported durable, all found; %d runs kept a save not yet reported; "+
		"%d torn tails cut; %d killed before any save",
		runs, time.Since(began).Round(time.Millisecond), totalAcked, totalTorn, tornTails, killedEarly)
}

// simulatePowerLoss damages the newest segment in dir as a power loss
// could: from a random point after the end of save number durable (saves
// counted from the start of the log; they were fsynced before the child
// reported them) or after the segment's header (which was fsynced before
// the segment got its name), or after the last save whose hard state is
// the one the hard-state file holds (that file is written only once the
// batch that ends with that save was fsynced, and possibly before the
// child could report it), it either cuts the file and may add zeros or
// garbage after the cut (blocks allocated but never written; a
// preallocated file keeps its size), or, as in a preallocated file whose
// size does not change, zeros everything and may put garbage at the start.
func simulatePowerLoss(t *testing.T, dir string, durable int, rng *rand.Rand) {
	t.Helper()
	segs, _, err := listSegments(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(segs) == 0 {
		return // killed before the first segment was made
	}
	path := filepath.Join(dir, segs[len(segs)-1].name())
	file, haveFile, err := readHardStateFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	saves, lo := 0, int64(-1)
	for i, s := range segs {
		b, err := os.ReadFile(filepath.Join(dir, s.name()))
		if err != nil {
			t.Fatal(err)
		}
		for off := int64(0); off+headerBytes <= int64(len(b)); {
			end := off + headerBytes + int64(binary.LittleEndian.Uint32(b[off:]))
			if end > int64(len(b)) || binary.LittleEndian.Uint32(b[off+4:]) != recordCRC(b[off:], b[off+headerBytes:end]) {
				break // the end of the records: a zero tail, or a torn one
			}
			synced := false
			if recordType(b[off+8]) == recSave {
				saves++
				hs, _, err := decodeSave(b[off+headerBytes : end])
				synced = err == nil && haveFile && hs == file.hs
			}
			if i == len(segs)-1 && (off == 0 || saves <= durable || synced) {
				lo = end
			}
			off = end
		}
	}
	fi, err := os.Stat(path)
	if err != nil || lo < 0 {
		t.Fatalf("newest segment unreadable: %v", err)
	}
	cut := lo + rng.Int64N(fi.Size()-lo+1)
	var junk []byte
	switch rng.IntN(3) {
	case 0:
		junk = make([]byte, rng.IntN(512))
	case 1:
		junk = make([]byte, rng.IntN(512))
		for i := range junk {
			junk[i] = byte(rng.Uint32())
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if rng.IntN(2) == 0 {
		// A file grown by the lost writes loses the growth; a
		// preallocated one keeps its size, durable since it was made.
		prealloc := int64(0)
		if rec := b[headerBytes:min(len(b), headerBytes+int(binary.LittleEndian.Uint32(b)))]; len(b) >= headerBytes {
			if h, err := decodeHeader(rec); err == nil {
				prealloc = h.prealloc
			}
		}
		b = padTo(append(b[:cut], junk...), prealloc)
	} else {
		clear(b[cut:])
		copy(b[cut:], junk)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// runCrashChild runs one child and kills it: after delay from its start
// if early, else after delay from when it is ready (recovered and about to
// save). It returns the numbers of the saves the child reported and
// whether it exited by itself.
func runCrashChild(t *testing.T, what, dir string, seed uint64, start, savers int, noSync, snaps, early bool, delay time.Duration) ([]int, bool) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(),
		envCrashDir+"="+dir,
		envCrashSeed+"="+strconv.FormatUint(seed, 10),
		envCrashStart+"="+strconv.Itoa(start),
		envCrashSavers+"="+strconv.Itoa(savers),
		envCrashNoSync+"="+strconv.FormatBool(noSync),
		envCrashSnaps+"="+strconv.FormatBool(snaps),
	)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan struct{})
	lines := make(chan []string, 1)
	go func() {
		var all []string
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if sc.Text() == "ready" {
				close(ready)
			}
			all = append(all, sc.Text())
		}
		lines <- all
	}()
	if !early {
		select {
		case <-ready:
		case <-time.After(20 * time.Second):
			t.Fatalf("%s: child not ready after 20s", what)
		case all := <-lines:
			lines <- all // it exited: Wait below reports how
		}
	}
	time.Sleep(delay)
	_ = cmd.Process.Signal(syscall.SIGKILL) // fails if it has exited
	all := <-lines
	err = cmd.Wait()
	ws, _ := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if !ws.Signaled() && err != nil {
		t.Fatalf("%s: child failed: %v\n%s\n%s", what, err, strings.Join(all, "\n"), stderr.String())
	}
	exited := !ws.Signaled()
	var acked []int
	for _, line := range all {
		if n, ok := strings.CutPrefix(line, "ack "); ok {
			v, err := strconv.Atoi(n)
			if err != nil {
				t.Fatalf("%s: bad line %q", what, line)
			}
			acked = append(acked, v)
		}
	}
	return acked, exited
}

// TestCrashChild is the child process of TestCrash; run alone, it skips.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(envCrashDir)
	if dir == "" {
		t.Skip("run by TestCrash")
	}
	seed, _ := strconv.ParseUint(os.Getenv(envCrashSeed), 10, 64)
	start, _ := strconv.Atoi(os.Getenv(envCrashStart))
	savers, _ := strconv.Atoi(os.Getenv(envCrashSavers))
	noSync := os.Getenv(envCrashNoSync) == "true"

	w, st, err := Open(Options{Dir: dir, SegmentBytes: crashSegmentBytes, NoSync: noSync})
	if err != nil {
		t.Fatalf("child: Open: %v", err)
	}
	g := newWorkload(seed, true)
	g.snapshots = os.Getenv(envCrashSnaps) == "true"
	for g.n < start {
		g.next()
	}
	if diff := diffState(st, g.st); diff != "" {
		t.Fatalf("child: recovered state is not the one after %d saves: %s", start, diff)
	}
	os.Stdout.WriteString("ready\n")
	deadline := time.Now().Add(10 * time.Second)
	var (
		mu sync.Mutex // orders enqueueing by save number
		wg sync.WaitGroup
	)
	for range savers {
		wg.Go(func() {
			for time.Now().Before(deadline) {
				mu.Lock()
				if g.n >= start+crashMaxSaves {
					mu.Unlock()
					return
				}
				s := g.nextOp()
				n := g.n
				var err error
				if savers == 1 || s.snap != nil {
					err = s.do(w)
					mu.Unlock()
				} else {
					var tk Ticket
					tk, err = w.Enqueue(s.hs, s.ents)
					mu.Unlock()
					if err == nil {
						err = tk.Wait()
					}
				}
				if err != nil {
					t.Errorf("child: save %d: %v", n, err)
					return
				}
				// One write of a short line to a pipe is atomic.
				os.Stdout.WriteString("ack " + strconv.Itoa(n) + "\n")
			}
		})
	}
	wg.Wait()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}
