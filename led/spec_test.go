package led

import (
	"bytes"
	"strings"
	"testing"
)

func TestParseSpec(t *testing.T) {
	good := []struct {
		in   string
		want Spec
	}{
		{"", Spec{Kind: "none"}},
		{"none", Spec{Kind: "none"}},
		{"terminal", Spec{Kind: "terminal"}},
		{"gpio:17,27,22", Spec{Kind: "gpio", Lines: [3]int{17, 27, 22}}},
		{"gpio:17, 27, 22,anode", Spec{Kind: "gpio", Lines: [3]int{17, 27, 22}, ActiveLow: true}},
		{"gpio:0,1,2", Spec{Kind: "gpio", Lines: [3]int{0, 1, 2}}},
		{"ws2812:/dev/spidev0.0", Spec{Kind: "ws2812", Device: "/dev/spidev0.0", Count: 1}},
		{"ws2812:/dev/spidev1.2,8", Spec{Kind: "ws2812", Device: "/dev/spidev1.2", Bus: 1, ChipSelect: 2, Count: 8}},
	}
	for _, tc := range good {
		have, err := ParseSpec(tc.in)
		if err != nil || have != tc.want {
			t.Errorf("ParseSpec(%q):\nhave %+v, %v\nwant %+v", tc.in, have, err, tc.want)
		}
		if again, err := ParseSpec(have.String()); err != nil || again != have {
			t.Errorf("ParseSpec(%q.String() = %q) = %+v, %v: want it unchanged", tc.in, have.String(), again, err)
		}
	}
	bad := []struct{ in, errHas string }{
		{"blinkenlights", `unknown kind "blinkenlights"; want none, terminal, gpio:R,G,B[,anode] or ws2812:`},
		{"none:1", "none takes no arguments"},
		{"terminal:x", "terminal takes no arguments"},
		{"gpio", "gpio takes three line numbers"},
		{"gpio:17,27", "gpio takes three line numbers"},
		{"gpio:17,27,22,23", "gpio takes three line numbers"},
		{"gpio:17,27,22,cathode", "gpio takes three line numbers"},
		{"gpio:17,x,22", `"x" is not a GPIO line number`},
		{"gpio:17,-1,22", `"-1" is not a GPIO line number`},
		{"gpio:17,27,17", "line 17 is used twice"},
		{"ws2812", "ws2812 needs an SPI device such as /dev/spidev0.0"},
		{"ws2812:/dev/spidev0", "ws2812 needs an SPI device"},
		{"ws2812:/dev/ttyAMA0", "ws2812 needs an SPI device"},
		{"ws2812:/dev/spidev0.0x", "ws2812 needs an SPI device"},
		{"ws2812:/dev/spidev-1.0", "ws2812 needs an SPI device"},
		{"ws2812:/dev/spidev0.0,0", `pixel count "0" is not a number from 1 to 300`},
		{"ws2812:/dev/spidev0.0,many", `pixel count "many"`},
		{"ws2812:/dev/spidev0.0,301", `pixel count "301"`},
	}
	for _, tc := range bad {
		have, err := ParseSpec(tc.in)
		if err == nil || !strings.Contains(err.Error(), tc.errHas) || !strings.HasPrefix(err.Error(), "led: --led ") {
			t.Errorf("ParseSpec(%q): have %+v, %v\nwant an error containing %q", tc.in, have, err, tc.errHas)
		}
	}
}

func TestSpecBlinks(t *testing.T) {
	for kind, want := range map[string]bool{"none": false, "terminal": false, "gpio": true, "ws2812": true} {
		if have := (Spec{Kind: kind}).Blinks(); have != want {
			t.Errorf("Spec{Kind: %q}.Blinks() = %v, want %v", kind, have, want)
		}
	}
}

func TestOpenSoftDrivers(t *testing.T) {
	var buf bytes.Buffer
	d, err := Open(Spec{Kind: "terminal"}, &buf)
	if err != nil {
		t.Fatal(err)
	}
	d.Set(Blue)
	if !strings.Contains(buf.String(), "leader") {
		t.Errorf("terminal driver wrote %q", buf.String())
	}
	if d, err := Open(Spec{Kind: "none"}, &buf); err != nil || d.Set(Red) != nil || d.Close() != nil {
		t.Errorf("Open(none) = %v, %v", d, err)
	}
	if _, err := Open(Spec{Kind: "lava-lamp"}, &buf); err == nil {
		t.Error("Open(lava-lamp): want an error")
	}
}
