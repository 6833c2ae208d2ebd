package led

import (
	"fmt"
	"io"
	"sync"
)

// Driver lights a status light. Set and Close are called from one
// goroutine at a time (an Indicator's).
type Driver interface {
	// Set shows c until the next Set.
	Set(c Colour) error
	// Close releases the hardware. The light keeps its last colour where
	// the hardware allows (a WS2812B latches it).
	Close() error
}

// None is the driver of no light at all.
type None struct{}

// Set does nothing.
func (None) Set(Colour) error { return nil }

// Close does nothing.
func (None) Close() error { return nil }

// Terminal shows the colour as a status line on a terminal, for people
// without the hardware: a coloured dot, the colour and its meaning,
// rewritten in place (carriage return, erase line) on each change.
type Terminal struct {
	mu   sync.Mutex
	w    io.Writer
	last Colour
	set  bool
}

// NewTerminal returns a Terminal writing to w (usually os.Stdout; the
// daemon logs to stderr).
func NewTerminal(w io.Writer) *Terminal { return &Terminal{w: w} }

// ansi is each colour's SGR foreground code.
var ansi = [...]string{Off: "2", Red: "1;31", Yellow: "1;33", Green: "1;32", Blue: "1;34", White: "1;37"}

// Set rewrites the status line if c differs from what it shows.
func (t *Terminal) Set(c Colour) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.set && c == t.last {
		return nil
	}
	code := "0"
	if int(c) < len(ansi) {
		code = ansi[c]
	}
	_, err := fmt.Fprintf(t.w, "\r\x1b[2K\x1b[%sm●\x1b[0m wraft: %s (%s)", code, c.Meaning(), c)
	t.last, t.set = c, true
	return err
}

// Close ends the status line with a newline.
func (t *Terminal) Close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.set {
		return nil
	}
	_, err := io.WriteString(t.w, "\n")
	return err
}
