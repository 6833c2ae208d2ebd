package led

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Spec says which status light to drive, as the --led flag gives it:
//
//	none                            no light (the default)
//	terminal                        a coloured status line on the terminal
//	gpio:R,G,B[,anode]              an RGB LED on GPIO lines R, G and B of
//	                                the first GPIO chip (on a Raspberry Pi,
//	                                BCM numbers: gpio:17,27,22); anode for
//	                                a common-anode LED (lines active low)
//	ws2812:/dev/spidevB.C[,count]   a WS2812B strip of count pixels
//	                                (default 1) on SPI bus B, chip select C
type Spec struct {
	// Kind is "none", "terminal", "gpio" or "ws2812".
	Kind string
	// Lines are the red, green and blue line offsets (gpio).
	Lines [3]int
	// ActiveLow is set for a common-anode LED (gpio).
	ActiveLow bool
	// Device is the spidev path; Bus and ChipSelect its numbers (ws2812).
	Device          string
	Bus, ChipSelect int
	// Count is the number of pixels to light (ws2812).
	Count int
}

// MaxPixels bounds a ws2812 spec's count (SPI transfers are limited to a
// few kilobytes, 12 bytes a pixel).
const MaxPixels = 300

const specHelp = "want none, terminal, gpio:R,G,B[,anode] or ws2812:/dev/spidevB.C[,count]"

// ParseSpec parses a --led value. The empty string is "none".
func ParseSpec(s string) (Spec, error) {
	kind, args, hasArgs := strings.Cut(strings.TrimSpace(s), ":")
	bad := func(format string, a ...any) (Spec, error) {
		return Spec{}, fmt.Errorf("led: --led %q: %s", s, fmt.Sprintf(format, a...))
	}
	switch kind {
	case "", "none", "terminal":
		if hasArgs {
			return bad("%s takes no arguments", kind)
		}
		if kind == "" {
			kind = "none"
		}
		return Spec{Kind: kind}, nil
	case "gpio":
		parts := strings.Split(args, ",")
		sp := Spec{Kind: "gpio"}
		if len(parts) == 4 && parts[3] == "anode" {
			sp.ActiveLow, parts = true, parts[:3]
		}
		if len(parts) != 3 {
			return bad("gpio takes three line numbers, red,green,blue (such as gpio:17,27,22), then optionally anode")
		}
		for i, p := range parts {
			n, err := strconv.Atoi(strings.TrimSpace(p))
			if err != nil || n < 0 || n > 1023 {
				return bad("%q is not a GPIO line number (0-1023)", p)
			}
			for _, prev := range sp.Lines[:i] {
				if prev == n {
					return bad("line %d is used twice", n)
				}
			}
			sp.Lines[i] = n
		}
		return sp, nil
	case "ws2812":
		dev, count, hasCount := strings.Cut(args, ",")
		sp := Spec{Kind: "ws2812", Device: dev, Count: 1}
		var ok bool
		if sp.Bus, sp.ChipSelect, ok = parseSPIDev(dev); !ok {
			return bad("ws2812 needs an SPI device such as /dev/spidev0.0 (enable SPI with dtparam=spi=on)")
		}
		if hasCount {
			n, err := strconv.Atoi(strings.TrimSpace(count))
			if err != nil || n < 1 || n > MaxPixels {
				return bad("pixel count %q is not a number from 1 to %d", count, MaxPixels)
			}
			sp.Count = n
		}
		return sp, nil
	}
	return bad("unknown kind %q; %s", kind, specHelp)
}

// parseSPIDev parses "/dev/spidevB.C".
func parseSPIDev(dev string) (bus, cs int, ok bool) {
	rest, ok := strings.CutPrefix(dev, "/dev/spidev")
	b, c, ok2 := strings.Cut(rest, ".")
	bus, err1 := strconv.Atoi(b)
	cs, err2 := strconv.Atoi(c)
	if !ok || !ok2 || err1 != nil || err2 != nil || bus < 0 || cs < 0 || bus > 65535 || cs > 255 ||
		strconv.Itoa(bus) != b || strconv.Itoa(cs) != c {
		return 0, 0, false
	}
	return bus, cs, true
}

// Blinks reports whether the light can show a commit blink: the hardware
// ones can; a terminal line would only flicker.
func (s Spec) Blinks() bool { return s.Kind == "gpio" || s.Kind == "ws2812" }

// String returns the spec in --led form.
func (s Spec) String() string {
	switch s.Kind {
	case "gpio":
		str := fmt.Sprintf("gpio:%d,%d,%d", s.Lines[0], s.Lines[1], s.Lines[2])
		if s.ActiveLow {
			str += ",anode"
		}
		return str
	case "ws2812":
		return fmt.Sprintf("ws2812:%s,%d", s.Device, s.Count)
	}
	return s.Kind
}

// Open opens the driver s names. The terminal driver writes to term.
func Open(s Spec, term io.Writer) (Driver, error) {
	switch s.Kind {
	case "none", "":
		return None{}, nil
	case "terminal":
		return NewTerminal(term), nil
	case "gpio":
		return openGPIO(s)
	case "ws2812":
		return openWS2812(s)
	}
	return nil, fmt.Errorf("led: unknown kind %q; %s", s.Kind, specHelp)
}
