package netlab

import (
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// fabric is the switch: it reads Ethernet frames from every port and
// writes each to the port that owns its destination MAC address (every
// other port for broadcast and multicast), unless the link is cut, after
// the sender's delay if it has one.
//
// Ports are fixed at construction; so is the MAC table (each port's
// interface is given a known address before it comes up), so the fabric
// never learns and never floods unicast frames.
type fabric struct {
	ports []*port
	macs  map[[6]byte]int // destination MAC -> port index

	mu    sync.RWMutex
	cut   map[[2]int]bool // {a, b} with a < b
	delay []time.Duration // per sending port

	forwarded, dropped, overflow, delayed atomic.Int64

	wg     sync.WaitGroup
	closed chan struct{}
}

// port is one switch port: the TAP device's file in the calling process
// and the delay line for what its interface sends.
type port struct {
	f   io.ReadWriteCloser
	mac [6]byte

	lineMu sync.Mutex
	line   chan heldFrame // nil until the port is first delayed
	last   time.Time      // due time of the newest held frame
	queued atomic.Int64   // frames in line
}

// heldFrame is a frame in a delay line.
type heldFrame struct {
	to    int
	due   time.Time
	frame []byte
}

// lineCap bounds a delay line; frames beyond it are dropped, as a full
// queue drops them.
const lineCap = 16384

// etherARP is ARP's EtherType.
const etherARP = 0x0806

func newFabric(files []io.ReadWriteCloser, macs [][6]byte) *fabric {
	s := &fabric{macs: map[[6]byte]int{}, cut: map[[2]int]bool{}, delay: make([]time.Duration, len(files)),
		closed: make(chan struct{})}
	for i, f := range files {
		s.ports = append(s.ports, &port{f: f, mac: macs[i]})
		s.macs[macs[i]] = i
	}
	for i := range s.ports {
		s.wg.Add(1)
		go s.receive(i)
	}
	return s
}

// receive reads port i's frames until its file is closed.
func (s *fabric) receive(i int) {
	defer s.wg.Done()
	p := s.ports[i]
	buf := make([]byte, 65536)
	for {
		n, err := p.f.Read(buf)
		if err != nil {
			// A TAP read fails only when the device goes away: the lab
			// is closing, or the namespace was removed.
			return
		}
		if n < 14 {
			continue
		}
		frame := buf[:n]
		var dst [6]byte
		copy(dst[:], frame[:6])
		if dst[0]&1 == 1 { // broadcast or multicast
			for j := range s.ports {
				if j != i {
					s.send(i, j, frame)
				}
			}
			continue
		}
		if j, ok := s.macs[dst]; ok && j != i {
			s.send(i, j, frame)
		}
	}
}

// send passes frame from port i to port j, or drops or holds it. frame
// is only valid during the call.
func (s *fabric) send(i, j int, frame []byte) {
	s.mu.RLock()
	cut := s.cut[pair(i, j)]
	d := s.delay[i]
	s.mu.RUnlock()
	if cut && int(frame[12])<<8|int(frame[13]) != etherARP {
		s.dropped.Add(1)
		return
	}
	p := s.ports[i]
	if d == 0 && p.queued.Load() == 0 {
		s.write(j, frame)
		return
	}
	p.lineMu.Lock()
	if p.line == nil {
		p.line = make(chan heldFrame, lineCap)
		s.wg.Add(1)
		go s.drain(p)
	}
	due := time.Now().Add(d)
	if due.Before(p.last) {
		due = p.last // keep the order
	}
	h := heldFrame{to: j, due: due, frame: append([]byte(nil), frame...)}
	select {
	case p.line <- h:
		p.last = due
		p.queued.Add(1)
		s.delayed.Add(1)
	default:
		s.overflow.Add(1)
	}
	p.lineMu.Unlock()
}

// drain writes p's held frames when they are due, until the fabric
// closes.
func (s *fabric) drain(p *port) {
	defer s.wg.Done()
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	for {
		var h heldFrame
		select {
		case <-s.closed:
			return
		case h = <-p.line:
		}
		if wait := time.Until(h.due); wait > 0 {
			t.Reset(wait)
			select {
			case <-s.closed:
				return
			case <-t.C:
			}
		}
		s.write(h.to, h.frame)
		p.queued.Add(-1)
	}
}

// write hands frame to port j's interface. A frame the kernel refuses is
// lost, as on a wire.
func (s *fabric) write(j int, frame []byte) {
	if _, err := s.ports[j].f.Write(frame); err == nil {
		s.forwarded.Add(1)
	}
}

func (s *fabric) setCut(a, b int, cut bool) {
	if a == b {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if cut {
		s.cut[pair(a, b)] = true
	} else {
		delete(s.cut, pair(a, b))
	}
}

func (s *fabric) setDelay(i int, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delay[i] = d
}

func (s *fabric) healAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.cut)
	clear(s.delay)
}

func (s *fabric) cuts() [][2]int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out [][2]int
	for k := range s.cut {
		out = append(out, k)
	}
	return out
}

func (s *fabric) stats() Stats {
	return Stats{Forwarded: s.forwarded.Load(), Cut: s.dropped.Load(), Overflow: s.overflow.Load(),
		Delayed: s.delayed.Load()}
}

// close stops the fabric: it closes every port's file (which ends the
// reads) and waits for its goroutines.
func (s *fabric) close() {
	close(s.closed)
	for _, p := range s.ports {
		p.f.Close()
	}
	s.wg.Wait()
}

func pair(a, b int) [2]int {
	if a > b {
		a, b = b, a
	}
	return [2]int{a, b}
}
