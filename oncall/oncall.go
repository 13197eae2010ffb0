// Package oncall is the schedule math of Firebreak: who is on call at a time, the merged shifts of a schedule
// over a window (layers, restrictions and overrides applied), the gaps and overlapping overrides to warn about,
// and an iCalendar (RFC 5545) writer for calendar feeds. It is pure: no I/O, no clock.
//
// Rules:
//   - A layer's shifts start on its Start date at HandoffTime in the schedule's time zone. Daily and weekly
//     rotations are measured in calendar days of that zone, so a 09:00 hand-off stays at 09:00 local across
//     daylight saving changes (a shift is then 23 or 25 hours long); custom rotations are exact hours.
//     Participants take turns in order, wrapping around. A layer has no coverage before its first shift.
//   - A Restriction limits a layer to a daily local time window; outside it the layer has no coverage.
//   - A higher layer (later in Schedule.Layers) replaces the lower ones wherever it has coverage.
//   - An override replaces every layer inside its range. Where overrides overlap, all their users are on call
//     (and Check reports the overlap).
//   - Adjacent periods with the same people on call form one shift; a period with no one on call is a gap.
package oncall

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/firebreak/firebreak"
)

// Shift is a period in which the same people are on call (Users, sorted; empty for a gap).
type Shift struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	Users []string  `json:"users"`
}

// Warning is something about a schedule a person should look at: a gap (no one on call) or overlapping
// overrides.
type Warning struct {
	Kind    string    `json:"kind"` // WarnGap or WarnOverlap
	Start   time.Time `json:"start"`
	End     time.Time `json:"end"`
	Users   []string  `json:"users"`
	Message string    `json:"message"`
}

// Warning kinds.
const (
	WarnGap     = "gap"
	WarnOverlap = "overlapping_overrides"
)

// MaxWindow bounds the windows Shifts, Gaps and Check compute (a year and a bit).
const MaxWindow = 400 * 24 * time.Hour

// Plan is a schedule prepared for computing: its time zone loaded and its layers parsed. Build one with
// Compile and reuse it for many queries (the escalation engine); it is safe for concurrent use.
type Plan struct {
	loc       *time.Location
	layers    []layerPlan
	overrides []firebreak.Override
}

type layerPlan struct {
	kind         firebreak.RotationType
	length       int
	y            int
	m            time.Month
	d            int
	hh, mm       int
	participants []string
	restrict     *restriction
}

type restriction struct {
	fromH, fromM, toH, toM int
	days                   [7]bool
}

// Compile checks and prepares a schedule. It fails (EInvalid) on what ScheduleInput.Validate refuses.
func Compile(s *firebreak.Schedule) (*Plan, error) {
	in := firebreak.ScheduleInput{Name: s.Name, Description: s.Description, Team: s.Team, TimeZone: s.TimeZone,
		Layers: slices.Clone(s.Layers)}
	if in.Name == "" {
		in.Name = "schedule"
	}
	for i := range in.Layers {
		in.Layers[i].Participants = slices.Clone(in.Layers[i].Participants)
		if r := in.Layers[i].Restriction; r != nil {
			c := *r
			c.Days = slices.Clone(r.Days)
			in.Layers[i].Restriction = &c
		}
	}
	if err := in.Validate(); err != nil {
		return nil, err
	}
	loc, err := loadLocation(in.TimeZone)
	if err != nil {
		return nil, firebreak.Errorf(firebreak.EInvalid, "unknown time zone %q", in.TimeZone)
	}
	p := &Plan{loc: loc, overrides: slices.Clone(s.Overrides)}
	for _, l := range in.Layers {
		d, _ := time.Parse(time.DateOnly, l.Start)
		lp := layerPlan{kind: l.Rotation, length: l.Length, y: d.Year(), m: d.Month(), d: d.Day(),
			participants: l.Participants}
		lp.hh, lp.mm = clock(l.HandoffTime)
		if r := l.Restriction; r != nil {
			rp := &restriction{}
			rp.fromH, rp.fromM = clock(r.From)
			rp.toH, rp.toM = clock(r.To)
			if len(r.Days) == 0 {
				rp.days = [7]bool{true, true, true, true, true, true, true}
			}
			for _, name := range r.Days {
				rp.days[slices.Index(firebreak.WeekdayNames, name)] = true
			}
			lp.restrict = rp
		}
		p.layers = append(p.layers, lp)
	}
	return p, nil
}

var zones sync.Map // name → *time.Location: time.LoadLocation reads the zone database on every call

func loadLocation(name string) (*time.Location, error) {
	if l, ok := zones.Load(name); ok {
		return l.(*time.Location), nil
	}
	l, err := time.LoadLocation(name)
	if err != nil {
		return nil, err
	}
	zones.Store(name, l)
	return l, nil
}

func clock(s string) (h, m int) {
	h, _ = strconv.Atoi(s[:2])
	m, _ = strconv.Atoi(s[3:])
	return h, m
}

// Location is the schedule's time zone.
func (p *Plan) Location() *time.Location { return p.loc }

// segment is a period one user is on call in one layer.
type segment struct {
	start, end time.Time
	user       string
}

// boundary is the start of shift k of the layer (k may be anything >= 0).
func (l *layerPlan) boundary(k int, loc *time.Location) time.Time {
	switch l.kind {
	case firebreak.RotationCustom:
		b0 := time.Date(l.y, l.m, l.d, l.hh, l.mm, 0, 0, loc)
		return b0.Add(time.Duration(k) * time.Duration(l.length) * time.Hour)
	case firebreak.RotationWeekly:
		return time.Date(l.y, l.m, l.d+k*7*l.length, l.hh, l.mm, 0, 0, loc)
	}
	return time.Date(l.y, l.m, l.d+k*l.length, l.hh, l.mm, 0, 0, loc)
}

func (l *layerPlan) approxPeriod() time.Duration {
	switch l.kind {
	case firebreak.RotationCustom:
		return time.Duration(l.length) * time.Hour
	case firebreak.RotationWeekly:
		return time.Duration(l.length) * 7 * 24 * time.Hour
	}
	return time.Duration(l.length) * 24 * time.Hour
}

// segments returns the layer's coverage in [from, to), in time order, without overlaps.
func (l *layerPlan) segments(loc *time.Location, from, to time.Time) []segment {
	b0 := l.boundary(0, loc)
	if !to.After(b0) || !to.After(from) {
		return nil
	}
	k := 0
	if from.After(b0) {
		k = int(from.Sub(b0) / l.approxPeriod())
		for k > 0 && l.boundary(k, loc).After(from) {
			k--
		}
		for !l.boundary(k+1, loc).After(from) {
			k++
		}
	}
	var out []segment
	n := len(l.participants)
	for start := l.boundary(k, loc); start.Before(to); k++ {
		end := l.boundary(k+1, loc)
		s, e := maxTime(start, from), minTime(end, to)
		if e.After(s) {
			out = append(out, segment{start: s, end: e, user: l.participants[k%n]})
		}
		start = end
	}
	if l.restrict != nil {
		out = intersect(out, l.restrict.windows(loc, from, to))
	}
	return out
}

// windows returns the restriction's windows that meet [from, to), in order.
func (r *restriction) windows(loc *time.Location, from, to time.Time) [][2]time.Time {
	var out [][2]time.Time
	d := from.In(loc)
	y, m, day := d.Date()
	for i := -1; ; i++ {
		ws := time.Date(y, m, day+i, r.fromH, r.fromM, 0, 0, loc)
		if !ws.Before(to) {
			break
		}
		endDay := day + i
		if r.toH*60+r.toM <= r.fromH*60+r.fromM {
			endDay++
		}
		we := time.Date(y, m, endDay, r.toH, r.toM, 0, 0, loc)
		if !r.days[time.Date(y, m, day+i, 12, 0, 0, 0, loc).Weekday()] || !we.After(from) || !we.After(ws) {
			continue
		}
		if n := len(out); n > 0 && ws.Before(out[n-1][1]) { // a DST oddity: never overlap
			ws = out[n-1][1]
		}
		if we.After(ws) {
			out = append(out, [2]time.Time{ws, we})
		}
	}
	return out
}

// intersect keeps the parts of segs inside the windows (both sorted and without overlaps).
func intersect(segs []segment, wins [][2]time.Time) []segment {
	var out []segment
	i, j := 0, 0
	for i < len(segs) && j < len(wins) {
		s, e := maxTime(segs[i].start, wins[j][0]), minTime(segs[i].end, wins[j][1])
		if e.After(s) {
			out = append(out, segment{start: s, end: e, user: segs[i].user})
		}
		if segs[i].end.Before(wins[j][1]) {
			i++
		} else {
			j++
		}
	}
	return out
}

// timeline tiles [from, to) with shifts, gaps (no users) included.
func (p *Plan) timeline(from, to time.Time) []Shift {
	if !to.After(from) {
		return nil
	}
	if to.Sub(from) > MaxWindow {
		to = from.Add(MaxWindow)
	}
	layers := make([][]segment, len(p.layers))
	cuts := []time.Time{from, to}
	for i := range p.layers {
		layers[i] = p.layers[i].segments(p.loc, from, to)
		for _, s := range layers[i] {
			cuts = append(cuts, s.start, s.end)
		}
	}
	var ovs []firebreak.Override
	for _, o := range p.overrides {
		if o.End.After(from) && o.Start.Before(to) && o.End.After(o.Start) {
			ovs = append(ovs, o)
			cuts = append(cuts, maxTime(o.Start, from), minTime(o.End, to))
		}
	}
	slices.SortFunc(cuts, func(a, b time.Time) int { return a.Compare(b) })
	cuts = slices.CompactFunc(cuts, func(a, b time.Time) bool { return a.Equal(b) })
	pos := make([]int, len(layers))
	var out []Shift
	for c := 0; c+1 < len(cuts); c++ {
		a, b := cuts[c], cuts[c+1]
		var users []string
		for _, o := range ovs {
			if !o.Start.After(a) && o.End.After(a) {
				users = append(users, o.User)
			}
		}
		if users == nil {
			for i := len(layers) - 1; i >= 0; i-- {
				segs := layers[i]
				for pos[i] < len(segs) && !segs[pos[i]].end.After(a) {
					pos[i]++
				}
				if pos[i] < len(segs) && !segs[pos[i]].start.After(a) {
					users = []string{segs[pos[i]].user}
					break
				}
			}
		}
		sort.Strings(users)
		users = slices.Compact(users)
		if users == nil {
			users = []string{}
		}
		if n := len(out); n > 0 && slices.Equal(out[n-1].Users, users) {
			out[n-1].End = b.UTC()
			continue
		}
		out = append(out, Shift{Start: a.UTC(), End: b.UTC(), Users: users})
	}
	return out
}

// Shifts returns the shifts (someone on call) in [from, to), clipped to it, in time order, without overlaps.
// Together with Gaps they tile the window exactly. Windows longer than MaxWindow are cut to it.
func (p *Plan) Shifts(from, to time.Time) []Shift {
	out := []Shift{}
	for _, s := range p.timeline(from, to) {
		if len(s.Users) > 0 {
			out = append(out, s)
		}
	}
	return out
}

// Gaps returns the periods in [from, to) when no one is on call (Users empty).
func (p *Plan) Gaps(from, to time.Time) []Shift {
	out := []Shift{}
	for _, s := range p.timeline(from, to) {
		if len(s.Users) == 0 {
			out = append(out, s)
		}
	}
	return out
}

// Horizons of OnCallAt: the shift it answers is searched for this far back and ahead of t, and clipped to them.
const (
	LookBack  = 7 * 24 * time.Hour
	LookAhead = 35 * 24 * time.Hour
)

// OnCallAt returns the shift that contains t: who is on call (Users empty: no one) and since and until when,
// clipped to [t-LookBack, t+LookAhead].
func (p *Plan) OnCallAt(t time.Time) Shift {
	for _, s := range p.timeline(t.Add(-LookBack), t.Add(LookAhead)) {
		if !s.Start.After(t) && s.End.After(t) {
			return s
		}
	}
	return Shift{Start: t, End: t, Users: []string{}}
}

// UsersAt returns who is on call at t (sorted usernames; empty: no one). It computes only the instant t, so it is
// the cheap question for an escalation engine; OnCallAt also answers the shift's bounds.
func (p *Plan) UsersAt(t time.Time) []string {
	if sh := p.timeline(t, t.Add(time.Microsecond)); len(sh) > 0 {
		return sh[0].Users
	}
	return []string{}
}

// Check returns the warnings about [from, to): every gap, and every pair of overrides that overlap.
func (p *Plan) Check(from, to time.Time) []Warning {
	out := []Warning{}
	loc := p.loc
	for _, g := range p.Gaps(from, to) {
		out = append(out, Warning{Kind: WarnGap, Start: g.Start, End: g.End, Users: []string{},
			Message: fmt.Sprintf("no one is on call from %s to %s", fmtLocal(g.Start, loc), fmtLocal(g.End, loc))})
	}
	for i, a := range p.overrides {
		for _, b := range p.overrides[i+1:] {
			s, e := maxTime(maxTime(a.Start, b.Start), from), minTime(minTime(a.End, b.End), to)
			if !e.After(s) {
				continue
			}
			users := []string{a.User, b.User}
			out = append(out, Warning{Kind: WarnOverlap, Start: s, End: e, Users: users,
				Message: fmt.Sprintf("overrides for %s and %s overlap from %s to %s", a.User, b.User,
					fmtLocal(s, loc), fmtLocal(e, loc))})
		}
	}
	slices.SortStableFunc(out, func(a, b Warning) int { return a.Start.Compare(b.Start) })
	return out
}

func fmtLocal(t time.Time, loc *time.Location) string {
	return t.In(loc).Format("2006-01-02 15:04 MST")
}

// OnCallAt compiles s and returns the shift that contains t (see Plan.OnCallAt).
func OnCallAt(s *firebreak.Schedule, t time.Time) (Shift, error) {
	p, err := Compile(s)
	if err != nil {
		return Shift{}, err
	}
	return p.OnCallAt(t), nil
}

// Shifts compiles s and returns its shifts in [from, to) (see Plan.Shifts).
func Shifts(s *firebreak.Schedule, from, to time.Time) ([]Shift, error) {
	p, err := Compile(s)
	if err != nil {
		return nil, err
	}
	return p.Shifts(from, to), nil
}

// Gaps compiles s and returns the periods of [from, to) when no one is on call (see Plan.Gaps).
func Gaps(s *firebreak.Schedule, from, to time.Time) ([]Shift, error) {
	p, err := Compile(s)
	if err != nil {
		return nil, err
	}
	return p.Gaps(from, to), nil
}

// Check compiles s and returns its warnings for [from, to) (see Plan.Check).
func Check(s *firebreak.Schedule, from, to time.Time) ([]Warning, error) {
	p, err := Compile(s)
	if err != nil {
		return nil, err
	}
	return p.Check(from, to), nil
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
