package sqlstore

import (
	"encoding/binary"
	"errors"
	"time"

	firebreak "github.com/firebreak/firebreak"
)

// The copy of a month's incidents that metrics_months keeps (column incidents): what readMetrics reads of each
// incident that started in the month, but the title, encoded compactly so that reading the tens of thousands of
// incidents of a dashboard window costs a few milliseconds instead of a read of every row. Layout (varints as in
// encoding/binary):
//
//	version (1 byte: 1), count (uvarint), then per incident:
//	  id, severity, status (each a uvarint length and the bytes), number (varint),
//	  which timestamps are set (uvarint bit mask, copyTimes order), each set one in Unix microseconds (varint),
//	  the number of services (uvarint), each service's slug (length and bytes), in position order.

const copyVersion = 1

// copyTimes are the incident's timestamps in the copy, in bit order.
func copyTimes(m *metricsIncident) [10]**time.Time {
	ms := &m.Milestones
	return [10]**time.Time{&ms.ImpactStartedAt, &ms.DetectedAt, &ms.DeclaredAt, &ms.AcknowledgedAt, &ms.MitigatedAt,
		&ms.ResolvedAt, &ms.ClosedAt, &m.PostmortemPublishedAt, nil, nil} // 8: created_at, 9: updated_at
}

// encodeIncidents encodes incidents (as readMetrics returns them, without titles).
func encodeIncidents(incs []metricsIncident) []byte {
	b := make([]byte, 0, 128*len(incs))
	b = append(b, copyVersion)
	b = binary.AppendUvarint(b, uint64(len(incs)))
	str := func(s string) {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	for i := range incs {
		inc := &incs[i]
		str(inc.ID)
		str(string(inc.Severity))
		str(string(inc.Status))
		b = binary.AppendVarint(b, inc.number)
		ts := copyTimes(inc)
		var set uint64
		for k, p := range ts[:8] {
			if *p != nil {
				set |= 1 << k
			}
		}
		set |= 1<<8 | 1<<9
		b = binary.AppendUvarint(b, set)
		for _, p := range ts[:8] {
			if *p != nil {
				b = binary.AppendVarint(b, (*p).UnixMicro())
			}
		}
		b = binary.AppendVarint(b, inc.CreatedAt.UnixMicro())
		b = binary.AppendVarint(b, inc.updatedAt.UnixMicro())
		b = binary.AppendUvarint(b, uint64(len(inc.Services)))
		for _, s := range inc.Services {
			str(s)
		}
	}
	return b
}

var errBadCopy = errors.New("sqlstore: unreadable copy of a month's incidents")

// decodeIncidents decodes what encodeIncidents encoded. The strings share one copy of data.
func decodeIncidents(data []byte) ([]metricsIncident, error) {
	if len(data) == 0 || data[0] != copyVersion {
		return nil, errBadCopy
	}
	s := string(data) // one copy: every id, slug and status below is a part of it
	pos := 1
	bad := false
	uv := func() uint64 {
		v, n := binary.Uvarint(data[pos:])
		if n <= 0 {
			bad = true
			return 0
		}
		pos += n
		return v
	}
	sv := func() int64 {
		v, n := binary.Varint(data[pos:])
		if n <= 0 {
			bad = true
			return 0
		}
		pos += n
		return v
	}
	str := func() string {
		l := uv()
		if bad || l > uint64(len(data)-pos) {
			bad = true
			return ""
		}
		v := s[pos : pos+int(l)]
		pos += int(l)
		return v
	}
	count := uv()
	if bad || count > uint64(len(data)) {
		return nil, errBadCopy
	}
	out := make([]metricsIncident, count)
	times := make([]time.Time, 0, 6*count) // the set milestones point into this
	var names []string
	for i := range out {
		inc := &out[i]
		inc.ID = str()
		inc.Severity = firebreak.Severity(str())
		inc.Status = firebreak.Status(str())
		inc.number = sv()
		inc.Reference = firebreak.IncidentRef(inc.number)
		set := uv()
		ts := copyTimes(inc)
		for k, p := range ts[:8] {
			if set&(1<<k) != 0 {
				if len(times) == cap(times) {
					times = make([]time.Time, 0, 1024)
				}
				times = append(times, time.UnixMicro(sv()).UTC())
				*p = &times[len(times)-1]
			}
		}
		if set&(1<<8) == 0 || set&(1<<9) == 0 {
			return nil, errBadCopy
		}
		inc.CreatedAt = time.UnixMicro(sv()).UTC()
		inc.updatedAt = time.UnixMicro(sv()).UTC()
		n := uv()
		if bad || n > uint64(len(data)) {
			return nil, errBadCopy
		}
		inc.Services = noStrings
		if n > 0 {
			if cap(names)-len(names) < int(n) {
				names = make([]string, 0, max(1024, int(n)))
			}
			first := len(names)
			for range n {
				names = append(names, str())
			}
			inc.Services = names[first:len(names):len(names)]
		}
		if bad {
			return nil, errBadCopy
		}
	}
	if pos != len(data) {
		return nil, errBadCopy
	}
	return out, nil
}
