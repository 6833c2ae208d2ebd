package led

import "fmt"

// Pixels is what Strip needs of a WS2812B strip: writing raw RGB bytes,
// three a pixel, from the first. periph's nrzled.Dev satisfies it.
type Pixels interface {
	Write(rgb []byte) (int, error)
}

// Strip lights the first n pixels of a WS2812B strip (a single pixel is
// a strip of one) in the colour, at a brightness out of 255: a WS2812B at
// full power dazzles and draws 60 mA a pixel.
type Strip struct {
	px         Pixels
	buf        []byte
	brightness uint8
	close      func() error
}

// DefaultBrightness is the brightness the daemon uses, out of 255.
const DefaultBrightness = 48

// NewStrip returns a Strip lighting n pixels of px; close, if not nil, is
// what Close calls to release the port.
func NewStrip(px Pixels, n int, brightness uint8, close func() error) *Strip {
	return &Strip{px: px, buf: make([]byte, 3*n), brightness: brightness, close: close}
}

// Set writes c to every pixel.
func (d *Strip) Set(c Colour) error {
	r, g, b := c.RGB()
	scale := func(v uint8) byte { return byte(uint16(v) * uint16(d.brightness) / 255) }
	for i := 0; i < len(d.buf); i += 3 {
		d.buf[i], d.buf[i+1], d.buf[i+2] = scale(r), scale(g), scale(b)
	}
	if _, err := d.px.Write(d.buf); err != nil {
		return fmt.Errorf("led: ws2812: %w", err)
	}
	return nil
}

// Close releases the port; the pixels keep their colour (they latch).
func (d *Strip) Close() error {
	if d.close == nil {
		return nil
	}
	return d.close()
}
