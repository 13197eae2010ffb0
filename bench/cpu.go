package bench

import (
	"bufio"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// cpuSample is a reading of this process's CPU time and, on Linux, of the whole machine's busy and total CPU
// time (from /proc/stat), to tell how much of the machine a phase used and how much other processes took.
type cpuSample struct {
	at          time.Time
	proc        time.Duration
	busy, total uint64 // clock ticks over all CPUs; zero when unknown
}

func sampleCPU() cpuSample {
	s := cpuSample{at: time.Now(), proc: processCPU()}
	f, err := os.Open("/proc/stat")
	if err != nil {
		return s
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	if !sc.Scan() {
		return s
	}
	fields := strings.Fields(sc.Text()) // cpu user nice system idle iowait irq softirq steal ...
	if len(fields) < 5 || fields[0] != "cpu" {
		return s
	}
	for i, v := range fields[1:] {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return cpuSample{at: s.at, proc: s.proc}
		}
		if i >= 8 { // guest times are already counted in user and nice
			break
		}
		s.total += n
		if i != 3 && i != 4 { // idle, iowait
			s.busy += n
		}
	}
	return s
}

// cpuUse returns, as fractions of the machine's CPU capacity between two samples, what this process used and what
// everything else used (-1 when unknown).
func cpuUse(a, b cpuSample) (self, others float64) {
	wall := b.at.Sub(a.at).Seconds() * float64(runtime.NumCPU())
	if wall <= 0 {
		return -1, -1
	}
	self = (b.proc - a.proc).Seconds() / wall
	if b.total <= a.total {
		return self, -1
	}
	busy := float64(b.busy-a.busy) / float64(b.total-a.total)
	return self, max(busy-self, 0)
}
