package led

import (
	"errors"
	"sync"
	"time"

	"github.com/wraft/wraft/engine"
)

// Indicator follows a node's status on a Driver: it shows ColourFor the
// latest status and, if its blink is not zero, a white blink of that length
// each time the commit index rises (then the colour again for as long, so
// a stream of commits flickers rather than staying white). It drives the
// light from a goroutine of its own, so Show never waits for hardware;
// statuses that arrive while it is busy are coalesced into the latest.
type Indicator struct {
	d       Driver
	blink   time.Duration
	onError func(error)

	mu      sync.Mutex
	pending update
	has     bool
	wake    chan struct{}
	quit    chan struct{}
	done    chan struct{}
	closed  bool
}

type update struct {
	s  engine.Status
	up bool
}

// NewIndicator starts an Indicator on d, showing Red (offline) until the
// first Show. onError, if not nil, receives the driver's errors (the first
// of a run of failures only; it is called again after a success).
func NewIndicator(d Driver, blink time.Duration, onError func(error)) *Indicator {
	if onError == nil {
		onError = func(error) {}
	}
	i := &Indicator{d: d, blink: blink, onError: onError,
		wake: make(chan struct{}, 1), quit: make(chan struct{}), done: make(chan struct{})}
	go i.run()
	return i
}

// Show asks for the light to show status s; up is false while the node is
// not running. It does not block. It may be called from any goroutine.
func (i *Indicator) Show(s engine.Status, up bool) {
	i.mu.Lock()
	i.pending, i.has = update{s, up}, true
	i.mu.Unlock()
	select {
	case i.wake <- struct{}{}:
	default:
	}
}

// Close stops following, shows Red (the node is going offline; a WS2812B
// keeps showing it after the process exits) and closes the driver.
// Calling it again does nothing.
func (i *Indicator) Close() error {
	i.mu.Lock()
	if i.closed {
		i.mu.Unlock()
		return nil
	}
	i.closed = true
	i.mu.Unlock()
	close(i.quit)
	<-i.done
	return errors.Join(i.d.Set(Red), i.d.Close())
}

func (i *Indicator) run() {
	defer close(i.done)
	failing := false
	set := func(c Colour) {
		if err := i.d.Set(c); err != nil {
			if !failing {
				i.onError(err)
			}
			failing = true
			return
		}
		failing = false
	}
	// pause waits d, or less if the Indicator is closed; it reports whether
	// to go on.
	pause := func(d time.Duration) bool {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
			return true
		case <-i.quit:
			return false
		}
	}
	set(Red)
	var commit uint64
	seen := false
	for {
		select {
		case <-i.wake:
		case <-i.quit:
			return
		}
		i.mu.Lock()
		u, ok := i.pending, i.has
		i.has = false
		i.mu.Unlock()
		if !ok {
			continue
		}
		c := ColourFor(u.s, u.up)
		blink := i.blink > 0 && seen && u.up && u.s.Commit > commit
		if u.up {
			commit, seen = u.s.Commit, true
		}
		if blink {
			set(White)
			if !pause(i.blink) {
				return
			}
		}
		set(c)
		if blink && !pause(i.blink) {
			return
		}
	}
}
