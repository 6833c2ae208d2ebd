package led

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/wraft/wraft/engine"
	"github.com/wraft/wraft/raft"
)

// fakeDriver records what it is asked to show.
type fakeDriver struct {
	set    chan Colour
	err    error
	closed chan struct{}
}

func newFakeDriver() *fakeDriver {
	return &fakeDriver{set: make(chan Colour, 100), closed: make(chan struct{})}
}

func (f *fakeDriver) Set(c Colour) error { f.set <- c; return f.err }
func (f *fakeDriver) Close() error       { close(f.closed); return nil }

// next returns the next n colours set, failing after a bounded wait.
func (f *fakeDriver) next(t *testing.T, n int) []Colour {
	t.Helper()
	var have []Colour
	deadline := time.After(5 * time.Second)
	for len(have) < n {
		select {
		case c := <-f.set:
			have = append(have, c)
		case <-deadline:
			t.Fatalf("after %v, still waiting for %d more colours", have, n-len(have))
		}
	}
	return have
}

func follower(commit uint64) engine.Status {
	s := status(raft.RoleFollower, 3, 2, 1)
	s.Commit = commit
	return s
}

func TestIndicatorFollowsStatusAndBlinksOnCommit(t *testing.T) {
	d := newFakeDriver()
	ind := NewIndicator(d, time.Millisecond, nil)
	steps := []struct {
		s    engine.Status
		up   bool
		want []Colour
	}{
		{engine.Status{}, false, []Colour{Red}},                  // starting
		{follower(5), true, []Colour{Green}},                     // first status: no blink for the commits before it
		{follower(5), true, []Colour{Green}},                     // nothing new
		{follower(6), true, []Colour{White, Green}},              // a commit
		{status(raft.RoleLeader, 3, 3, 1), true, []Colour{Blue}}, // commit 0 < 6: no blink
		{follower(9), true, []Colour{White, Green}},
		{follower(10), false, []Colour{Red}}, // down: no blink
	}
	if have := d.next(t, 1); !slices.Equal(have, []Colour{Red}) {
		t.Fatalf("at start: have %v, want [red]", have)
	}
	for i, st := range steps {
		ind.Show(st.s, st.up)
		if have := d.next(t, len(st.want)); !slices.Equal(have, st.want) {
			t.Errorf("step %d: have %v, want %v", i, have, st.want)
		}
	}
	if err := ind.Close(); err != nil {
		t.Fatal(err)
	}
	if have := d.next(t, 1); !slices.Equal(have, []Colour{Red}) {
		t.Errorf("on Close: have %v, want [red]", have)
	}
	select {
	case <-d.closed:
	default:
		t.Error("Close did not close the driver")
	}
	if err := ind.Close(); err != nil {
		t.Errorf("second Close = %v, want nil", err)
	}
}

func TestIndicatorWithoutBlink(t *testing.T) {
	d := newFakeDriver()
	ind := NewIndicator(d, 0, nil)
	defer ind.Close()
	d.next(t, 1)
	ind.Show(follower(1), true)
	ind.Show(follower(2), true)
	for _, c := range d.next(t, 1) {
		if c != Green {
			t.Fatalf("have %v, want green", c)
		}
	}
	select {
	case c := <-d.set:
		if c != Green {
			t.Errorf("have %v, want only green", c)
		}
	case <-time.After(20 * time.Millisecond):
	}
}

func TestIndicatorReportsDriverErrorsOnce(t *testing.T) {
	d := newFakeDriver()
	d.err = errors.New("spi: broken")
	errs := make(chan error, 10)
	ind := NewIndicator(d, 0, func(err error) { errs <- err })
	d.next(t, 1)
	ind.Show(follower(1), true)
	d.next(t, 1)
	ind.Show(status(raft.RoleLeader, 3, 3, 1), true)
	d.next(t, 1)
	if err := ind.Close(); err == nil {
		t.Error("Close: want the driver's error")
	}
	close(errs)
	var have []error
	for err := range errs {
		have = append(have, err)
	}
	if len(have) != 1 || have[0] != d.err {
		t.Errorf("onError got %v, want the driver's error once", have)
	}
}
