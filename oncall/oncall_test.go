package oncall_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/oncall"
)

func mustLoc(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func compile(t testing.TB, s *firebreak.Schedule) *oncall.Plan {
	t.Helper()
	p, err := oncall.Compile(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDailyRotation(t *testing.T) {
	s := &firebreak.Schedule{Name: "ops", TimeZone: "UTC", Layers: []firebreak.Layer{{Rotation: "daily",
		Start: "2026-01-05", HandoffTime: "09:00", Participants: []string{"ann", "bob", "cyd"}}}}
	p := compile(t, s)
	day := func(d, h int) time.Time { return time.Date(2026, 1, d, h, 0, 0, 0, time.UTC) }
	for _, c := range []struct {
		at   time.Time
		want []string
	}{
		{day(5, 8), []string{}}, {day(5, 9), []string{"ann"}}, {day(6, 8), []string{"ann"}},
		{day(6, 9), []string{"bob"}}, {day(7, 12), []string{"cyd"}}, {day(8, 10), []string{"ann"}},
	} {
		got := p.OnCallAt(c.at)
		if !slices.Equal(got.Users, c.want) {
			t.Errorf("at %s: %v, want %v", c.at, got.Users, c.want)
		}
	}
	sh := p.OnCallAt(day(6, 12))
	if !sh.Start.Equal(day(6, 9)) || !sh.End.Equal(day(7, 9)) {
		t.Errorf("bob's shift %s–%s", sh.Start, sh.End)
	}
	shifts := p.Shifts(day(5, 0), day(8, 9))
	if len(shifts) != 3 || !shifts[0].Start.Equal(day(5, 9)) {
		t.Fatalf("shifts %+v", shifts)
	}
	gaps := p.Gaps(day(5, 0), day(8, 9))
	if len(gaps) != 1 || !gaps[0].End.Equal(day(5, 9)) {
		t.Fatalf("gaps %+v", gaps)
	}
}

// A daily 09:00 hand-off stays at 09:00 local time across daylight saving changes, both ways; a weekly one too.
func TestDSTKeepsLocalHandoff(t *testing.T) {
	for _, zone := range []string{"Europe/Berlin", "America/New_York"} {
		loc := mustLoc(t, zone)
		for _, rot := range []firebreak.RotationType{firebreak.RotationDaily, firebreak.RotationWeekly} {
			s := &firebreak.Schedule{Name: "x", TimeZone: zone, Layers: []firebreak.Layer{{Rotation: rot,
				Start: "2026-01-01", HandoffTime: "09:00", Participants: []string{"a", "b"}}}}
			p := compile(t, s)
			from := time.Date(2026, 1, 1, 9, 0, 0, 0, loc)
			to := time.Date(2027, 1, 1, 0, 0, 0, 0, loc)
			lengths := map[time.Duration]bool{}
			for _, sh := range p.Shifts(from, to) {
				if l := sh.Start.In(loc); l.Hour() != 9 || l.Minute() != 0 {
					t.Fatalf("%s %s: shift starts at %s local", zone, rot, l)
				}
				if sh.End.Equal(to) {
					continue
				}
				lengths[sh.End.Sub(sh.Start)] = true
			}
			if rot == firebreak.RotationDaily && !(lengths[23*time.Hour] && lengths[25*time.Hour] && lengths[24*time.Hour]) {
				t.Errorf("%s daily: expected 23, 24 and 25 hour shifts, got %v", zone, lengths)
			}
		}
	}
}

func TestCustomRotationIsExactHours(t *testing.T) {
	s := &firebreak.Schedule{Name: "x", TimeZone: "Europe/Berlin", Layers: []firebreak.Layer{{Rotation: "custom",
		Length: 12, Start: "2026-03-28", HandoffTime: "08:00", Participants: []string{"a", "b"}}}}
	p := compile(t, s)
	loc := mustLoc(t, "Europe/Berlin")
	from := time.Date(2026, 3, 28, 8, 0, 0, 0, loc)
	for _, sh := range p.Shifts(from, from.Add(96*time.Hour)) {
		if sh.End.Sub(sh.Start) != 12*time.Hour {
			t.Fatalf("shift %s–%s is not 12 h", sh.Start, sh.End)
		}
	}
}

func TestLayersRestrictionAndOverrides(t *testing.T) {
	utc := func(d, h int) time.Time { return time.Date(2026, 2, d, h, 0, 0, 0, time.UTC) }
	s := &firebreak.Schedule{Name: "x", TimeZone: "UTC", Layers: []firebreak.Layer{
		{Rotation: "weekly", Start: "2026-02-02", HandoffTime: "09:00", Participants: []string{"day"}},
		{Rotation: "daily", Start: "2026-02-02", HandoffTime: "00:00", Participants: []string{"night"},
			Restriction: &firebreak.Restriction{From: "18:00", To: "08:00", Days: []string{"mon", "tue"}}},
	}, Overrides: []firebreak.Override{
		{ID: "o1", User: "sub", Start: utc(3, 12), End: utc(3, 20)},
		{ID: "o2", User: "sub2", Start: utc(3, 19), End: utc(3, 21)},
	}}
	p := compile(t, s)
	for _, c := range []struct {
		at   time.Time
		want string
	}{
		{utc(2, 10), "day"}, {utc(2, 19), "night"}, {utc(3, 7), "night"}, {utc(3, 9), "day"},
		{utc(3, 13), "sub"}, {utc(3, 19), "sub,sub2"}, {utc(3, 20), "sub2"}, {utc(3, 21), "night"},
		{utc(4, 19), "day"}, // Wednesday: the night layer is restricted to Monday and Tuesday
	} {
		if got := strings.Join(p.OnCallAt(c.at).Users, ","); got != c.want {
			t.Errorf("at %s: %s, want %s", c.at, got, c.want)
		}
	}
	w := p.Check(utc(2, 0), utc(10, 0))
	var kinds []string
	for _, x := range w {
		kinds = append(kinds, x.Kind)
	}
	if !slices.Equal(kinds, []string{oncall.WarnGap, oncall.WarnOverlap}) {
		t.Fatalf("warnings %+v", w)
	}
	if !w[1].Start.Equal(utc(3, 19)) || !w[1].End.Equal(utc(3, 20)) {
		t.Errorf("overlap %s–%s", w[1].Start, w[1].End)
	}
}

func TestCompileRefusesInvalid(t *testing.T) {
	good := func() *firebreak.Schedule {
		return &firebreak.Schedule{Name: "x", TimeZone: "UTC", Layers: []firebreak.Layer{{Rotation: "daily",
			Start: "2026-01-01", HandoffTime: "09:00", Participants: []string{"a"}}}}
	}
	for name, mod := range map[string]func(s *firebreak.Schedule){
		"zone":         func(s *firebreak.Schedule) { s.TimeZone = "Mars/Olympus" },
		"participants": func(s *firebreak.Schedule) { s.Layers[0].Participants = nil },
		"custom zero":  func(s *firebreak.Schedule) { s.Layers[0].Rotation, s.Layers[0].Length = "custom", 0 },
		"negative":     func(s *firebreak.Schedule) { s.Layers[0].Length = -1 },
		"rotation":     func(s *firebreak.Schedule) { s.Layers[0].Rotation = "monthly" },
		"start":        func(s *firebreak.Schedule) { s.Layers[0].Start = "tomorrow" },
		"handoff":      func(s *firebreak.Schedule) { s.Layers[0].HandoffTime = "25:00" },
		"no layers":    func(s *firebreak.Schedule) { s.Layers = nil },
		"restriction":  func(s *firebreak.Schedule) { s.Layers[0].Restriction = &firebreak.Restriction{From: "9", To: "10:00"} },
	} {
		s := good()
		mod(s)
		if _, err := oncall.Compile(s); firebreak.ErrorCode(err) != firebreak.EInvalid {
			t.Errorf("%s: %v, want invalid", name, err)
		}
	}
	if _, err := oncall.Compile(good()); err != nil {
		t.Fatal(err)
	}
}

// --- properties --------------------------------------------------------------------------------------------------

var zones = []string{"UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata"}

func drawSchedule(rt *rapid.T) *firebreak.Schedule {
	users := []string{"a", "b", "c", "d", "e"}
	s := &firebreak.Schedule{Name: "p", TimeZone: rapid.SampledFrom(zones).Draw(rt, "zone")}
	nl := rapid.IntRange(1, 3).Draw(rt, "layers")
	for i := range nl {
		l := firebreak.Layer{
			Rotation: rapid.SampledFrom([]firebreak.RotationType{"daily", "weekly", "custom"}).Draw(rt, "rot"),
			Start: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, rapid.IntRange(0, 300).Draw(rt, "start")).
				Format(time.DateOnly),
			HandoffTime:  clockOf(rapid.IntRange(0, 23).Draw(rt, "hh"), rapid.SampledFrom([]int{0, 15, 30}).Draw(rt, "mm")),
			Participants: rapid.SliceOfN(rapid.SampledFrom(users), 1, 4).Draw(rt, "participants"),
		}
		l.Length = rapid.IntRange(1, 3).Draw(rt, "length")
		if l.Rotation == "custom" {
			l.Length = rapid.IntRange(1, 60).Draw(rt, "hours")
		}
		if i > 0 && rapid.Bool().Draw(rt, "restricted") {
			l.Restriction = &firebreak.Restriction{
				From: clockOf(rapid.IntRange(0, 23).Draw(rt, "rf"), 0), To: clockOf(rapid.IntRange(0, 23).Draw(rt, "rt"), 30)}
			if rapid.Bool().Draw(rt, "days") {
				l.Restriction.Days = rapid.SliceOfNDistinct(rapid.SampledFrom(firebreak.WeekdayNames), 1, 7,
					rapid.ID[string]).Draw(rt, "weekdays")
			}
		}
		s.Layers = append(s.Layers, l)
	}
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for range rapid.IntRange(0, 4).Draw(rt, "overrides") {
		st := base.Add(time.Duration(rapid.IntRange(0, 400*24*4).Draw(rt, "ostart")) * 15 * time.Minute)
		s.Overrides = append(s.Overrides, firebreak.Override{User: rapid.SampledFrom(users).Draw(rt, "ouser"),
			Start: st, End: st.Add(time.Duration(rapid.IntRange(1, 24*4*10).Draw(rt, "olen")) * 15 * time.Minute)})
	}
	return s
}

func clockOf(h, m int) string { return time.Date(0, 1, 1, h, m, 0, 0, time.UTC).Format("15:04") }

func drawWindow(rt *rapid.T) (time.Time, time.Time) {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	from := base.Add(time.Duration(rapid.IntRange(0, 400*24*4).Draw(rt, "from")) * 15 * time.Minute)
	to := from.Add(time.Duration(rapid.IntRange(1, 24*4*35).Draw(rt, "window")) * 15 * time.Minute)
	return from, to
}

// Shifts and gaps tile the window exactly, in order, without overlaps; no two neighbours have the same people.
func TestPropShiftsTileWindow(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		s := drawSchedule(rt)
		from, to := drawWindow(rt)
		p, err := oncall.Compile(s)
		if err != nil {
			rt.Fatal(err)
		}
		all := append(p.Shifts(from, to), p.Gaps(from, to)...)
		slices.SortFunc(all, func(a, b oncall.Shift) int { return a.Start.Compare(b.Start) })
		at := from
		for i, sh := range all {
			if !sh.Start.Equal(at) || !sh.End.After(sh.Start) {
				rt.Fatalf("piece %d %s–%s does not continue at %s", i, sh.Start, sh.End, at)
			}
			if i > 0 && slices.Equal(all[i-1].Users, sh.Users) {
				rt.Fatalf("neighbours %d and %d have the same people %v", i-1, i, sh.Users)
			}
			at = sh.End
		}
		if !at.Equal(to) {
			rt.Fatalf("tiling ends at %s, want %s", at, to)
		}
	})
}

// OnCallAt agrees with Shifts, and an override always wins inside its range.
func TestPropOnCallAtAgreesAndOverridesWin(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		s := drawSchedule(rt)
		from, to := drawWindow(rt)
		p, err := oncall.Compile(s)
		if err != nil {
			rt.Fatal(err)
		}
		shifts := p.Shifts(from, to)
		for range 20 {
			at := from.Add(time.Duration(rapid.Int64Range(0, int64(to.Sub(from))-1).Draw(rt, "at")))
			got := p.OnCallAt(at)
			if got.Start.After(at) || !got.End.After(at) {
				rt.Fatalf("OnCallAt(%s) answers %s–%s", at, got.Start, got.End)
			}
			want := []string{}
			for _, sh := range shifts {
				if !sh.Start.After(at) && sh.End.After(at) {
					want = sh.Users
				}
			}
			if !slices.Equal(got.Users, want) {
				rt.Fatalf("OnCallAt(%s) = %v, Shifts say %v", at, got.Users, want)
			}
			if u := p.UsersAt(at); !slices.Equal(u, want) {
				rt.Fatalf("UsersAt(%s) = %v, Shifts say %v", at, u, want)
			}
			var ov []string
			for _, o := range s.Overrides {
				if !o.Start.After(at) && o.End.After(at) {
					ov = append(ov, o.User)
				}
			}
			if ov != nil {
				slices.Sort(ov)
				if !slices.Equal(got.Users, slices.Compact(ov)) {
					rt.Fatalf("at %s overrides %v but on call %v", at, ov, got.Users)
				}
			}
		}
	})
}

// Daily and weekly hand-offs happen at the hand-off time in the schedule's zone, whatever the DST rules.
func TestPropDSTLocalHandoff(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		zone := rapid.SampledFrom([]string{"Europe/Berlin", "America/New_York"}).Draw(rt, "zone")
		loc := mustLoc(t, zone)
		h := rapid.SampledFrom([]int{0, 1, 4, 9, 12, 18, 23}).Draw(rt, "hour") // not 02:xx, which DST skips
		users := []string{"a", "b", "c"}
		s := &firebreak.Schedule{Name: "d", TimeZone: zone, Layers: []firebreak.Layer{{
			Rotation: rapid.SampledFrom([]firebreak.RotationType{"daily", "weekly"}).Draw(rt, "rot"),
			Length:   rapid.IntRange(1, 3).Draw(rt, "len"), Start: "2026-01-03", HandoffTime: clockOf(h, 0),
			Participants: users}}}
		p, err := oncall.Compile(s)
		if err != nil {
			rt.Fatal(err)
		}
		from := time.Date(2026, 1, 3, h, 0, 0, 0, loc)
		for _, sh := range p.Shifts(from, from.AddDate(1, 0, 0)) {
			if l := sh.Start.In(loc); l.Hour() != h || l.Minute() != 0 {
				rt.Fatalf("hand-off at %s local, want %02d:00", l, h)
			}
		}
	})
}
