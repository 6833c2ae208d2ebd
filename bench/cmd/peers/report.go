package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
)

// Results is everything one run measured; it is written as JSON.
type Results struct {
	Started  string            `json:"started"`
	Seconds  float64           `json:"seconds"`
	Quick    bool              `json:"quick"`
	Machine  Machine           `json:"machine"`
	Settings Settings          `json:"settings"`
	Versions map[string]string `json:"versions"`
	Systems  []System          `json:"systems"`
}

// Settings are the conditions every system ran under.
type Settings struct {
	Nodes           int     `json:"nodes"`
	Network         string  `json:"network"`
	Fsync           bool    `json:"fsync"`
	KeyBytes        int     `json:"key_bytes"`
	ValueBytes      int     `json:"value_bytes"`
	SecondsPerPoint float64 `json:"seconds_per_point"`
	Rounds          int     `json:"rounds"`
	Kills           int     `json:"kills"`
	Clients         []int   `json:"clients"`
}

// System is one system's measurements: Loads holds the best round's Load
// per client count, in increasing order; Rounds every Load measured.
type System struct {
	Name     string    `json:"name"`
	Loads    []Load    `json:"loads"`
	Rounds   []Load    `json:"rounds"`
	Failover *Failover `json:"failover,omitempty"`
	Error    string    `json:"error,omitempty"`
}

// load returns the system's load with n clients, or nil.
func (s *System) load(n int) *Load {
	for i := range s.Loads {
		if s.Loads[i].Clients == n {
			return &s.Loads[i]
		}
	}
	return nil
}

func (r *Results) system(name string) *System {
	for i := range r.Systems {
		if r.Systems[i].Name == name {
			return &r.Systems[i]
		}
	}
	return nil
}

// ratio returns system name's throughput with n clients over etcd's, or
// NaN if either is missing.
func (r *Results) ratio(name string, n int) float64 {
	s, e := r.system(name), r.system("etcd")
	if s == nil || e == nil {
		return math.NaN()
	}
	sl, el := s.load(n), e.load(n)
	if sl == nil || el == nil || el.Throughput == 0 {
		return math.NaN()
	}
	return sl.Throughput / el.Throughput
}

func writeJSON(path string, r any) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("results: %w", err)
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("results: %w", err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("results: %w", err)
	}
	return nil
}

// printTable prints the one table: for each system, the 1-client and
// 100-client workloads and the failover runs.
func printTable(w io.Writer, r *Results) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "system\tworkload\twrites/s\tvs etcd\tp50 ms\tp99 ms\tmax ms\terrors\tcpu s per node\tmax rss MB per node\t")
	for _, s := range r.Systems {
		for _, n := range []int{1, 100} {
			l := s.load(n)
			wl := fmt.Sprintf("%d client", n)
			if n > 1 {
				wl += "s"
			}
			if l == nil {
				fmt.Fprintf(tw, "%s\t%s\t-\t-\t-\t-\t-\t-\t-\t-\t\n", s.Name, wl)
				continue
			}
			fmt.Fprintf(tw, "%s\t%s\t%.0f\t%s\t%.2f\t%.2f\t%.1f\t%d\t%s\t%s\t\n", s.Name, wl, l.Throughput,
				ratioString(r.ratio(s.Name, n)), l.P50ms, l.P99ms, l.Maxms, l.Errors, joinFloats(l.CPUs, "%.1f"),
				joinFloats(l.RSSMB, "%.0f"))
		}
		if f := s.Failover; f != nil {
			fmt.Fprintf(tw, "%s\tfailover x%d\t-\t-\t%.0f (median)\t-\t%.0f\t-\t-\t-\t\n", s.Name, f.Kills, f.MedianMs, f.MaxMs)
		}
		if s.Error != "" {
			fmt.Fprintf(tw, "%s\terror\t%s\t\t\t\t\t\t\t\t\n", s.Name, truncate(s.Error, 60))
		}
	}
	tw.Flush()
}

func ratioString(x float64) string {
	if math.IsNaN(x) {
		return "n/a"
	}
	return fmt.Sprintf("%.2fx", x)
}

func joinFloats(xs []float64, format string) string {
	var parts []string
	for _, x := range xs {
		parts = append(parts, fmt.Sprintf(format, x))
	}
	return strings.Join(parts, "/")
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// ratioLine is the run's last line: wraft's native core against etcd.
func ratioLine(r *Results) string {
	f := func(x float64) string {
		if math.IsNaN(x) {
			return "n/a"
		}
		return fmt.Sprintf("%.2f", x)
	}
	return fmt.Sprintf("ratio-vs-etcd: 1-client=%s 100-client=%s", f(r.ratio("wraft-native", 1)), f(r.ratio("wraft-native", 100)))
}

// chart geometry, in SVG user units.
const (
	chartW, chartH                 = 760, 460
	padL, padR, padT, padB float64 = 70, 170, 40, 60
)

var colours = map[string]string{
	"etcd":           "#419eda",
	"hashicorp-raft": "#8a6fdf",
	"wraft-native":   "#e4572e",
	"wraft-wasm":     "#f3a712",
}

// writeSVG draws p99 latency (log scale) against throughput (log scale),
// one line per system through its client counts.
func writeSVG(path string, r *Results) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("chart: %w", err)
	}
	if err := os.WriteFile(path, []byte(svg(r)), 0o644); err != nil {
		return fmt.Errorf("chart: %w", err)
	}
	return nil
}

func svg(r *Results) string {
	xmin, xmax, ymin, ymax := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for _, s := range r.Systems {
		for _, l := range s.Loads {
			if l.Throughput > 0 && l.P99ms > 0 {
				xmin, xmax = math.Min(xmin, l.Throughput), math.Max(xmax, l.Throughput)
				ymin, ymax = math.Min(ymin, l.P99ms), math.Max(ymax, l.P99ms)
			}
		}
	}
	if math.IsInf(xmin, 1) {
		xmin, xmax, ymin, ymax = 1, 10, 1, 10
	}
	// Whole decades around the data.
	xlo, xhi := math.Floor(math.Log10(xmin)), math.Ceil(math.Log10(xmax))
	ylo, yhi := math.Floor(math.Log10(ymin)), math.Ceil(math.Log10(ymax))
	if xhi == xlo {
		xhi++
	}
	if yhi == ylo {
		yhi++
	}
	pw, ph := chartW-padL-padR, chartH-padT-padB
	px := func(x float64) float64 { return padL + (math.Log10(x)-xlo)/(xhi-xlo)*pw }
	py := func(y float64) float64 { return padT + ph - (math.Log10(y)-ylo)/(yhi-ylo)*ph }

	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n",
		chartW, chartH, chartW, chartH)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#fff"/>`+"\n", chartW, chartH)
	title := "p99 write latency against throughput (3 nodes, loopback, fsync on)"
	fmt.Fprintf(&b, `<text x="%.0f" y="22" font-size="14" font-weight="bold">%s</text>`+"\n", padL, title)
	// Grid and tick labels at 1, 2, 5 per decade.
	for d := xlo; d <= xhi; d++ {
		for _, m := range []float64{1, 2, 5} {
			x := m * math.Pow(10, d)
			if math.Log10(x) > xhi+1e-9 {
				break
			}
			fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#ddd"/>`+"\n", px(x), padT, px(x), padT+ph)
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle" fill="#444">%s</text>`+"\n", px(x), padT+ph+16, num(x))
		}
	}
	for d := ylo; d <= yhi; d++ {
		for _, m := range []float64{1, 2, 5} {
			y := m * math.Pow(10, d)
			if math.Log10(y) > yhi+1e-9 {
				break
			}
			fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#ddd"/>`+"\n", padL, py(y), padL+pw, py(y))
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="end" fill="#444">%s</text>`+"\n", padL-6, py(y)+4, num(y))
		}
	}
	fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="none" stroke="#888"/>`+"\n", padL, padT, pw, ph)
	fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle">acknowledged writes per second (log)</text>`+"\n", padL+pw/2, float64(chartH)-18)
	fmt.Fprintf(&b, `<text transform="translate(18 %.1f) rotate(-90)" text-anchor="middle">p99 latency, ms (log)</text>`+"\n", padT+ph/2)
	for i, s := range r.Systems {
		col := colours[s.Name]
		if col == "" {
			col = "#333"
		}
		var pts []string
		for _, l := range s.Loads {
			if l.Throughput > 0 && l.P99ms > 0 {
				pts = append(pts, fmt.Sprintf("%.1f,%.1f", px(l.Throughput), py(l.P99ms)))
			}
		}
		if len(pts) > 1 {
			fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="2"/>`+"\n", strings.Join(pts, " "), col)
		}
		for _, l := range s.Loads {
			if l.Throughput > 0 && l.P99ms > 0 {
				x, y := px(l.Throughput), py(l.P99ms)
				fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="3.5" fill="%s"><title>%s, %d clients: %.0f/s, p99 %.2f ms</title></circle>`+"\n",
					x, y, col, s.Name, l.Clients, l.Throughput, l.P99ms)
				fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="10" fill="%s">%d</text>`+"\n", x+5, y-5, col, l.Clients)
			}
		}
		ly := padT + 14 + float64(i)*20
		lx := padL + pw + 14
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="3"/>`+"\n", lx, ly-4, lx+22, ly-4, col)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f">%s</text>`+"\n", lx+28, ly, s.Name)
	}
	ly := padT + 14 + float64(len(r.Systems))*20 + 10
	fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="10" fill="#666">labels: concurrent clients</text>`+"\n", padL+pw+14, ly)
	fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="10" fill="#666">%s</text>`+"\n", padL+pw+14, ly+14, r.Started)
	b.WriteString("</svg>\n")
	return b.String()
}

// num formats an axis value without trailing zeros: 0.5, 2, 10k.
func num(x float64) string {
	switch {
	case x >= 1000:
		return fmt.Sprintf("%gk", x/1000)
	default:
		return fmt.Sprintf("%g", x)
	}
}
