package led

import (
	"errors"
	"fmt"
	"strings"

	"periph.io/x/conn/v3/driver/driverreg"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/devices/v3/nrzled"
	"periph.io/x/host/v3/gpioioctl"
	"periph.io/x/host/v3/sysfs"
)

// openGPIO opens the spec's three lines on the first GPIO chip through the
// GPIO character device (/dev/gpiochip*; on a Raspberry Pi the chip
// labelled pinctrl-*, whose line offsets are the BCM numbers).
func openGPIO(s Spec) (Driver, error) {
	if _, err := driverreg.Init(); err != nil {
		return nil, fmt.Errorf("led: gpio: %w", err)
	}
	if len(gpioioctl.Chips) == 0 {
		return nil, errors.New("led: gpio: no GPIO character device (/dev/gpiochip*) found, or it cannot be opened: run as a member of the gpio group")
	}
	chip := gpioioctl.Chips[0]
	var pins [3]Pin
	var lines []*gpioioctl.GPIOLine
	release := func() error {
		for _, l := range lines {
			l.Close()
		}
		return nil
	}
	for i, n := range s.Lines {
		if n >= chip.LineCount() {
			release()
			return nil, fmt.Errorf("led: gpio: %s has lines 0-%d, not %d", chip.Name(), chip.LineCount()-1, n)
		}
		l := chip.ByNumber(n)
		if err := l.Out(gpio.Low); err != nil {
			release()
			return nil, fmt.Errorf("led: gpio: line %d of %s: %w (is it in use? see gpioinfo)", n, chip.Name(), err)
		}
		lines, pins[i] = append(lines, l), l
	}
	return NewRGB(pins[0], pins[1], pins[2], s.ActiveLow, release), nil
}

// openWS2812 opens the spec's SPI device for a WS2812B strip (NRZ over
// SPI MOSI at 2.5 MHz: GPIO 10, pin 19, for /dev/spidev0.0).
func openWS2812(s Spec) (Driver, error) {
	port, err := sysfs.NewSPI(s.Bus, s.ChipSelect)
	if err != nil {
		hint := ""
		if strings.Contains(err.Error(), "no such file") {
			hint = " (enable SPI: dtparam=spi=on in /boot/firmware/config.txt, then reboot)"
		}
		return nil, fmt.Errorf("led: ws2812: %w%s", err, hint)
	}
	opts := nrzled.DefaultOpts
	opts.NumPixels = s.Count
	opts.Freq = 2500 * physic.KiloHertz
	dev, err := nrzled.NewSPI(port, &opts)
	if err != nil {
		port.Close()
		return nil, fmt.Errorf("led: ws2812 on %s: %w", s.Device, err)
	}
	return NewStrip(dev, s.Count, DefaultBrightness, port.Close), nil
}
