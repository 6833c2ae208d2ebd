// Command brotlisize prints the size in bytes of each named file compressed
// with brotli at quality 11 (window 24, as `brotli -q 11 -w 24` does). It
// is what `make size` uses when the brotli command is not installed. It is
// its own module so that the product does not depend on a brotli encoder.
package main

import (
	"fmt"
	"io"
	"os"

	"github.com/andybalholm/brotli"
)

type counter int64

func (c *counter) Write(p []byte) (int, error) { *c += counter(len(p)); return len(p), nil }

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: brotlisize FILE...")
		os.Exit(2)
	}
	for _, name := range os.Args[1:] {
		f, err := os.Open(name)
		if err != nil {
			fmt.Fprintln(os.Stderr, "brotlisize:", err)
			os.Exit(1)
		}
		var n counter
		w := brotli.NewWriterOptions(&n, brotli.WriterOptions{Quality: 11, LGWin: 24})
		if _, err := io.Copy(w, f); err != nil {
			fmt.Fprintln(os.Stderr, "brotlisize:", err)
			os.Exit(1)
		}
		if err := w.Close(); err != nil {
			fmt.Fprintln(os.Stderr, "brotlisize:", err)
			os.Exit(1)
		}
		f.Close()
		fmt.Println(int64(n))
	}
}
