package led

import (
	"errors"
	"fmt"

	"periph.io/x/conn/v3/gpio"
)

// Pin is the one thing RGB needs of a GPIO line: driving it. periph's
// gpio.PinOut (and so a GPIO character device line) satisfies it.
type Pin interface {
	Out(l gpio.Level) error
}

// RGB drives a plain RGB LED, one GPIO line per channel, each on or off:
// so it shows the six colours of this package (yellow is red and green,
// white all three). With a common-cathode LED a line drives its channel
// high to light it; with a common-anode LED (activeLow) low.
type RGB struct {
	pins      [3]Pin // red, green, blue
	activeLow bool
	close     func() error
}

// NewRGB returns an RGB driving the red, green and blue lines; close, if
// not nil, is what Close calls to release them.
func NewRGB(red, green, blue Pin, activeLow bool, close func() error) *RGB {
	return &RGB{pins: [3]Pin{red, green, blue}, activeLow: activeLow, close: close}
}

// Set drives the three lines for c.
func (d *RGB) Set(c Colour) error {
	r, g, b := c.RGB()
	var errs []error
	for i, on := range [3]bool{r != 0, g != 0, b != 0} {
		if err := d.pins[i].Out(gpio.Level(on != d.activeLow)); err != nil {
			errs = append(errs, fmt.Errorf("led: gpio %s line: %w", [3]string{"red", "green", "blue"}[i], err))
		}
	}
	return errors.Join(errs...)
}

// Close releases the lines; they usually keep their levels.
func (d *RGB) Close() error {
	if d.close == nil {
		return nil
	}
	return d.close()
}
