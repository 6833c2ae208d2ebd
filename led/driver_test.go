package led

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/conn/v3/spi/spitest"
	"periph.io/x/devices/v3/nrzled"
)

func TestTerminal(t *testing.T) {
	var buf bytes.Buffer
	term := NewTerminal(&buf)
	for _, c := range []Colour{Blue, Blue, Green, Red} {
		if err := term.Set(c); err != nil {
			t.Fatal(err)
		}
	}
	if err := term.Close(); err != nil {
		t.Fatal(err)
	}
	want := "\r\x1b[2K\x1b[1;34m●\x1b[0m wraft: leader (blue)" + // blue once: unchanged colours are not rewritten
		"\r\x1b[2K\x1b[1;32m●\x1b[0m wraft: follower (green)" +
		"\r\x1b[2K\x1b[1;31m●\x1b[0m wraft: offline or no quorum (red)" +
		"\n"
	if have := buf.String(); have != want {
		t.Errorf("terminal wrote\n%q\nwant\n%q", have, want)
	}
	var empty bytes.Buffer
	if err := NewTerminal(&empty).Close(); err != nil || empty.Len() != 0 {
		t.Errorf("Close of an unused terminal wrote %q, %v; want nothing", empty.String(), err)
	}
}

// failingPin is a GPIO line whose driving fails.
type failingPin struct{}

func (failingPin) Out(gpio.Level) error { return errors.New("ioctl: device busy") }

func TestRGB(t *testing.T) {
	for _, activeLow := range []bool{false, true} {
		r, g, b := &gpiotest.Pin{N: "R"}, &gpiotest.Pin{N: "G"}, &gpiotest.Pin{N: "B"}
		closed := false
		d := NewRGB(r, g, b, activeLow, func() error { closed = true; return nil })
		for _, tc := range []struct {
			c       Colour
			r, g, b bool // lit
		}{
			{Blue, false, false, true},
			{Green, false, true, false},
			{Yellow, true, true, false},
			{Red, true, false, false},
			{White, true, true, true},
			{Off, false, false, false},
		} {
			if err := d.Set(tc.c); err != nil {
				t.Fatal(err)
			}
			lit := func(p *gpiotest.Pin) bool { return bool(p.Read()) != activeLow }
			if have := [3]bool{lit(r), lit(g), lit(b)}; have != [3]bool{tc.r, tc.g, tc.b} {
				t.Errorf("activeLow %v, Set(%v): lit R,G,B = %v, want %v", activeLow, tc.c, have, [3]bool{tc.r, tc.g, tc.b})
			}
		}
		if err := d.Close(); err != nil || !closed {
			t.Errorf("Close = %v, released %v", err, closed)
		}
	}
	d := NewRGB(&gpiotest.Pin{}, failingPin{}, &gpiotest.Pin{}, false, nil)
	if err := d.Set(Green); err == nil || !strings.Contains(err.Error(), "led: gpio green line: ioctl: device busy") {
		t.Errorf("Set on a failing line = %v, want it named", err)
	}
	if err := d.Close(); err != nil {
		t.Errorf("Close without a release func = %v", err)
	}
}

// fakePixels records what a Strip writes.
type fakePixels struct {
	writes [][]byte
	err    error
}

func (f *fakePixels) Write(b []byte) (int, error) {
	f.writes = append(f.writes, slices.Clone(b))
	return len(b), f.err
}

func TestStrip(t *testing.T) {
	px := &fakePixels{}
	d := NewStrip(px, 2, 51, nil) // 51/255 = a fifth
	for _, c := range []Colour{Blue, Yellow, Off} {
		if err := d.Set(c); err != nil {
			t.Fatal(err)
		}
	}
	want := [][]byte{{0, 0, 51, 0, 0, 51}, {51, 51, 0, 51, 51, 0}, {0, 0, 0, 0, 0, 0}}
	if !slices.EqualFunc(px.writes, want, bytes.Equal) {
		t.Errorf("strip wrote %v, want %v", px.writes, want)
	}
	px.err = errors.New("spi: timeout")
	if err := d.Set(Red); err == nil || err.Error() != "led: ws2812: spi: timeout" {
		t.Errorf("Set on a failing strip = %v", err)
	}
}

// TestStripThroughNRZ drives a Strip through periph's real WS2812B
// encoder onto a recording SPI port and decodes the bits sent.
func TestStripThroughNRZ(t *testing.T) {
	port := &spitest.Record{}
	opts := nrzled.DefaultOpts
	opts.NumPixels = 1
	opts.Freq = 2500 * physic.KiloHertz
	dev, err := nrzled.NewSPI(port, &opts)
	if err != nil {
		t.Fatal(err)
	}
	d := NewStrip(dev, 1, DefaultBrightness, port.Close)
	for _, c := range []Colour{Blue, Green, Red} {
		if err := d.Set(c); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	var have []string
	for _, op := range port.Ops {
		have = append(have, decodeNRZ(t, op.W))
	}
	b := DefaultBrightness
	want := []string{ // WS2812B order: green, red, blue
		fmt.Sprintf("g0 r0 b%d", b), fmt.Sprintf("g%d r0 b0", b), fmt.Sprintf("g0 r%d b0", b),
	}
	if !slices.Equal(have, want) {
		t.Errorf("SPI carried %v, want %v", have, want)
	}
}

// decodeNRZ decodes one pixel from an nrzled SPI frame: 3 latch bytes,
// then 4 bytes a colour byte, one nibble a bit (0b1110 a one, 0b1000 a
// zero), then 3 latch bytes.
func decodeNRZ(t *testing.T, frame []byte) string {
	t.Helper()
	if len(frame) != 3+12+3 {
		t.Fatalf("frame of %d bytes, want 18", len(frame))
	}
	var v [3]int
	for i, by := range frame[3:15] {
		for _, nib := range []byte{by >> 4, by & 0xf} {
			bit := 0
			switch nib {
			case 0b1110:
				bit = 1
			case 0b1000:
			default:
				t.Fatalf("nibble %04b is neither an NRZ one nor a zero", nib)
			}
			v[i/4] = v[i/4]<<1 | bit
		}
	}
	return fmt.Sprintf("g%d r%d b%d", v[0], v[1], v[2])
}
