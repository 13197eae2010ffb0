package sqlstore_test

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"

	firebreak "github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/analysis"
	"github.com/firebreak/firebreak/sqlstore"
	"github.com/firebreak/firebreak/sqlstore/sqltest"
)

// seedMonths declares 70 incidents, one every 97 hours from t0 (about nine months): some with their impact
// backdated two days (across a month's end, sometimes), some cancelled, some still open, the others resolved
// after 7 to 63 hours. It returns the incidents in order.
func seedMonths(t *testing.T, s *sqlstore.Store, c *fakeClock) []*firebreak.Incident {
	t.Helper()
	var out []*firebreak.Incident
	start := c.Now()
	for i := range 70 {
		at := start.Add(time.Duration(i) * 97 * time.Hour)
		setClock(c, at)
		in := firebreak.DeclareInput{Title: fmt.Sprintf("incident %d", i), Severity: firebreak.SEV2}
		if i%6 == 0 {
			imp := at.Add(-49 * time.Hour)
			in.ImpactStartedAt = &imp
		}
		inc := must(s.DeclareIncident(alice, in))
		switch {
		case i%11 == 0:
			inc = must(s.ChangeStatus(alice, inc.Reference, firebreak.StatusCancelled, "", 0))
		case i%13 == 0: // still open
		default:
			setClock(c, at.Add(time.Duration(1+i%9)*7*time.Hour))
			inc = must(s.ChangeStatus(alice, inc.Reference, firebreak.StatusResolved, "", 0))
		}
		out = append(out, inc)
	}
	setClock(c, start.Add(70*97*time.Hour+5*time.Hour))
	return out
}

// rawMonthly is the time to resolve of each of n months from `from` computed from every incident read in full,
// as the dashboard computed it before months were summarized (analysis.Build grouped by month).
func rawMonthly(t *testing.T, s *sqlstore.Store, from time.Time, n int, now time.Time) []analysis.Distribution {
	t.Helper()
	incs := must(s.IncidentsForMetrics(context.Background(), from, now))
	rep := analysis.Build(incs, firebreak.MetricsQuery{From: from, To: now, GroupBy: analysis.ByMonth}, now)
	var out []analysis.Distribution
	for _, g := range rep.Groups[:n] {
		out = append(out, g.TTR)
	}
	return out
}

// checkMonthly compares MonthlyResolveTimes with rawMonthly, month by month, every figure exactly.
func checkMonthly(t *testing.T, s *sqlstore.Store, from time.Time, n int, now time.Time, when string) {
	t.Helper()
	got := must(s.MonthlyResolveTimes(context.Background(), from, n, now))
	want := rawMonthly(t, s, from, n, now)
	if len(got) != n {
		t.Fatalf("%s: %d months, want %d", when, len(got), n)
	}
	for i := range got {
		if !reflect.DeepEqual(got[i], want[i]) {
			g, _ := json.Marshal(got[i])
			w, _ := json.Marshal(want[i])
			t.Errorf("%s, %s:\n got %s\nwant %s", when, from.AddDate(0, i, 0).Format("2006-01"), g, w)
		}
	}
}

func setClock(c *fakeClock, t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

func monthGen(t *testing.T, s *sqlstore.Store, month string) int64 {
	t.Helper()
	return must(sqlstore.QueryInt(context.Background(), s, `SELECT generation FROM metrics_months WHERE month = ?`,
		month))
}

func storedMonths(t *testing.T, s *sqlstore.Store) int64 {
	t.Helper()
	return must(sqlstore.QueryInt(context.Background(), s, `SELECT COUNT(*) FROM metrics_months
		WHERE ttr IS NOT NULL`))
}

// TestMonthlyResolveTimes: the summaries of ended months are exactly the figures computed from the raw incidents
// — when first computed, when read back, and after every kind of change to an old incident (a corrected
// resolution, impact moved to another month, a cancellation, a late resolution, a new backdated incident), as time
// passes and months end, and when a correction puts a resolution in the future.
func TestMonthlyResolveTimes(t *testing.T) {
	forEachClock(t, func(t *testing.T, s *sqlstore.Store, c *fakeClock) {
		ctx := context.Background()
		incs := seedMonths(t, s, c)
		now := c.Now()
		from := analysis.PeriodStart(analysis.ByMonth, t0)
		n := 0
		for m := from; !m.AddDate(0, 1, 0).After(now); m = m.AddDate(0, 1, 0) {
			n++
		}
		if n < 8 {
			t.Fatalf("only %d months have ended", n)
		}
		month := func(inc *firebreak.Incident) string {
			return analysis.PeriodKey(analysis.ByMonth, analysis.PeriodStart(analysis.ByMonth,
				analysis.StartOf(&firebreak.MetricsIncident{Milestones: inc.Milestones, CreatedAt: inc.CreatedAt})))
		}

		checkMonthly(t, s, from, n, now, "first")
		if got := storedMonths(t, s); got != int64(n) {
			t.Fatalf("%d months stored, want %d", got, n)
		}
		checkMonthly(t, s, from, n, now, "stored")
		// The stored summaries are what is read: a summary replaced behind the store's back shows.
		key := from.AddDate(0, 2, 0).Format("2006-01")
		fake := `{"ttr":{"n":999,"open":0,"p50_seconds":1,"p90_seconds":1,"p95_seconds":1,"max_seconds":1,` +
			`"mean_seconds":1,"open_max_age_seconds":null,"histogram":[]}}`
		must(0, sqlstore.Exec(ctx, s, `UPDATE metrics_months SET ttr = ? WHERE month = ?`, fake, key))
		if got := must(s.MonthlyResolveTimes(ctx, from, n, now)); got[2].N != 999 {
			t.Fatalf("month %s: n=%d, not the stored summary", key, got[2].N)
		}
		must(0, sqlstore.Exec(ctx, s, `UPDATE metrics_months SET ttr = NULL WHERE month = ?`, key))
		checkMonthly(t, s, from, n, now, "rebuilt")

		edit := func(inc *firebreak.Incident, p firebreak.IncidentPatch) *firebreak.Incident {
			return must(s.UpdateIncident(alice, inc.Reference, p, 0))
		}
		ts := func(t time.Time) *time.Time { return &t }
		old := incs[10] // resolved, about five weeks in
		if old.Status != firebreak.StatusResolved {
			t.Fatalf("incident 10 is %s", old.Status)
		}
		m := month(old)
		before := monthGen(t, s, m)
		edit(old, firebreak.IncidentPatch{Milestones: map[string]*time.Time{
			"resolved_at":  ts(old.Milestones.ResolvedAt.Add(-3 * time.Hour)),
			"mitigated_at": ts(old.Milestones.ResolvedAt.Add(-4 * time.Hour))}})
		if monthGen(t, s, m) == before {
			t.Errorf("correcting a resolution did not mark month %s", m)
		}
		checkMonthly(t, s, from, n, now, "corrected resolution")

		// Impact moved a month earlier: both months change.
		moved := incs[20]
		m1 := month(moved)
		imp := analysis.PeriodStart(analysis.ByMonth, *moved.Milestones.DeclaredAt).Add(-36 * time.Hour)
		g1 := monthGen(t, s, m1)
		moved = edit(moved, firebreak.IncidentPatch{Milestones: map[string]*time.Time{"impact_started_at": &imp}})
		m0 := month(moved)
		if m0 == m1 || monthGen(t, s, m1) == g1 {
			t.Errorf("impact moved from %s to %s: generation %d → %d", m1, m0, g1, monthGen(t, s, m1))
		}
		checkMonthly(t, s, from, n, now, "impact moved")

		// A severity change does not alter the time to resolve, but the month's copy of its incidents has it.
		sev := firebreak.SEV1
		g := monthGen(t, s, month(incs[30]))
		edit(incs[30], firebreak.IncidentPatch{Severity: &sev})
		if monthGen(t, s, month(incs[30])) == g {
			t.Errorf("a severity change did not mark month %s", month(incs[30]))
		}
		checkMonthly(t, s, from, n, now, "severity")

		// Open incidents of old months: one cancelled, one resolved now.
		open := []*firebreak.Incident{}
		for _, inc := range incs[:50] {
			if inc.Status.Open() {
				open = append(open, inc)
			}
		}
		if len(open) < 2 {
			t.Fatalf("%d old open incidents", len(open))
		}
		must(s.ChangeStatus(alice, open[0].Reference, firebreak.StatusCancelled, "", 0))
		checkMonthly(t, s, from, n, now, "cancelled")
		must(s.ChangeStatus(alice, open[1].Reference, firebreak.StatusResolved, "", 0))
		checkMonthly(t, s, from, n, now, "resolved late")

		// A new incident whose impact began months ago.
		imp = from.AddDate(0, 3, 5)
		must(s.DeclareIncident(alice, firebreak.DeclareInput{Title: "found late", Severity: firebreak.SEV3,
			ImpactStartedAt: &imp}))
		checkMonthly(t, s, from, n, now, "backdated")

		// A resolution corrected into the future: open until then, resolved after (the summary is not used past it).
		future := edit(incs[40], firebreak.IncidentPatch{Milestones: map[string]*time.Time{
			"resolved_at": ts(now.Add(2 * time.Hour))}})
		if future.Milestones.ResolvedAt == nil {
			t.Fatal("resolved_at not set")
		}
		checkMonthly(t, s, from, n, now, "resolution in the future")
		checkMonthly(t, s, from, n, now.Add(90*time.Minute), "before that resolution")
		checkMonthly(t, s, from, n, now.Add(3*time.Hour), "after that resolution")
		// A reader whose clock is behind the stored summary's computes its own figures.
		checkMonthly(t, s, from, n, now.Add(time.Hour), "a clock behind")

		// Time passes: another month ends.
		later := analysis.PeriodStart(analysis.ByMonth, now).AddDate(0, 1, 3)
		setClock(c, later)
		checkMonthly(t, s, from, n+1, later, "a month later")

		if _, err := s.MonthlyResolveTimes(ctx, from.Add(time.Hour), 1, now); firebreak.ErrorCode(err) != firebreak.EInvalid {
			t.Errorf("from inside a month: %v", err)
		}
		if _, err := s.MonthlyResolveTimes(ctx, from, n+3, later); firebreak.ErrorCode(err) != firebreak.EInvalid {
			t.Errorf("a month not ended: %v", err)
		}
	})
}

// TestMonthlySummaryGeneration: a summary computed from the incidents as they were when the month's generation
// was read is not stored if an incident of the month changed in the meantime (a write that commits while a
// reader computes), and is stored when nothing changed.
func TestMonthlySummaryGeneration(t *testing.T) {
	forEachClock(t, func(t *testing.T, s *sqlstore.Store, c *fakeClock) {
		ctx := context.Background()
		incs := seedMonths(t, s, c)
		from := analysis.PeriodStart(analysis.ByMonth, t0)
		key := from.Format("2006-01")
		must(s.MonthlyResolveTimes(ctx, from, 1, c.Now()))
		if storedMonths(t, s) != 1 {
			t.Fatal("the month was not stored")
		}
		// A reader reads the generation, then the month's incidents...
		gen := monthGen(t, s, key)
		light := must(s.IncidentStartsForMetrics(ctx, from, from.AddDate(0, 1, 0)))
		stale := analysis.ResolveTimes(light, c.Now())
		// ...while another request resolves one of them.
		var target *firebreak.Incident
		for _, inc := range incs {
			if inc.Status.Open() && analysis.PeriodStart(analysis.ByMonth, *inc.Milestones.DeclaredAt).Equal(from) {
				target = inc
			}
		}
		if target == nil {
			// No open incident in the first month: change a resolved one instead.
			target = incs[1]
			later := target.Milestones.ResolvedAt.Add(time.Hour)
			must(s.UpdateIncident(alice, target.Reference, firebreak.IncidentPatch{
				Milestones: map[string]*time.Time{"resolved_at": &later}}, 0))
		} else {
			must(s.ChangeStatus(alice, target.Reference, firebreak.StatusResolved, "", 0))
		}
		if monthGen(t, s, key) == gen || storedMonths(t, s) != 0 {
			t.Fatalf("the change did not mark the month (generation %d → %d)", gen, monthGen(t, s, key))
		}
		must(0, sqlstore.SaveMonthlySummary(ctx, s, key, gen, stale))
		if storedMonths(t, s) != 0 {
			t.Fatal("a summary read before a change was stored after it")
		}
		gen = monthGen(t, s, key)
		light = must(s.IncidentStartsForMetrics(ctx, from, from.AddDate(0, 1, 0)))
		must(0, sqlstore.SaveMonthlySummary(ctx, s, key, gen, analysis.ResolveTimes(light, c.Now())))
		if storedMonths(t, s) != 1 {
			t.Fatal("a current summary was not stored")
		}
		checkMonthly(t, s, from, 1, c.Now(), "after the race")
	})
}

// TestMonthlyResolveTimesReplicas: two stores on one database (two replicas): the summaries one stored are
// cleared by the other's change to an old incident, so that both show the figures of the raw incidents.
func TestMonthlyResolveTimesReplicas(t *testing.T) {
	for _, d := range sqltest.Dialects(t) {
		t.Run(d, func(t *testing.T) {
			defer recoverMust(t)
			c := &fakeClock{t: t0}
			o := sqltest.Options(t, d)
			o.Now = c.Now
			a, b := openStore(t, o), openStore(t, o)
			incs := seedMonths(t, a, c)
			now := c.Now()
			from := analysis.PeriodStart(analysis.ByMonth, t0)
			checkMonthly(t, a, from, 6, now, "replica a")
			checkMonthly(t, b, from, 6, now, "replica b")
			for i, inc := range incs[:30] {
				if inc.Status == firebreak.StatusResolved && i%2 == 0 {
					r := inc.Milestones.ResolvedAt.Add(time.Duration(i) * time.Hour)
					must(b.UpdateIncident(alice, inc.Reference, firebreak.IncidentPatch{
						Milestones: map[string]*time.Time{"resolved_at": &r}}, 0))
				}
			}
			checkMonthly(t, a, from, 6, now, "replica a after b's corrections")
			checkMonthly(t, b, from, 6, now, "replica b after its corrections")
		})
	}
}

// checkDashboard compares IncidentsForDashboard with IncidentsForMetrics (titles left out) for windows ending at
// to and starting 10, 45, 90, 200 and 400 days before it.
func checkDashboard(t *testing.T, s *sqlstore.Store, to time.Time, when string) {
	t.Helper()
	ctx := context.Background()
	for _, days := range []int{10, 45, 90, 200, 400} {
		from := to.AddDate(0, 0, -days)
		got := must(s.IncidentsForDashboard(ctx, from, to))
		want := must(s.IncidentsForMetrics(ctx, from, to))
		for i := range want {
			want[i].Title = ""
		}
		if !reflect.DeepEqual(got, want) {
			g, _ := json.Marshal(got)
			w, _ := json.Marshal(want)
			t.Errorf("%s, %d days: %d incidents, want %d\n got %s\nwant %s", when, days, len(got), len(want), g, w)
		}
	}
}

func storedCopies(t *testing.T, s *sqlstore.Store) int64 {
	t.Helper()
	return must(sqlstore.QueryInt(context.Background(), s, `SELECT COUNT(*) FROM metrics_months
		WHERE incidents IS NOT NULL`))
}

// TestIncidentsForDashboard: the window's incidents read from the months' copies are exactly those read from the
// incidents table (every field but the title) — for windows of several lengths, when the copies are first made
// and when they are read back, and after every kind of change to an old incident: services, an owner team,
// milestones, severity, status, a post-mortem published, a new backdated incident. With the triggers gone a
// change is not seen: the copies are what is read.
func TestIncidentsForDashboard(t *testing.T) {
	forEachClock(t, func(t *testing.T, s *sqlstore.Store, c *fakeClock) {
		ctx := context.Background()
		must(s.CreateService(alice, firebreak.ServiceInput{Slug: "api", OwnerTeam: "core"}))
		must(s.CreateService(alice, firebreak.ServiceInput{Slug: "db", OwnerTeam: "data"}))
		must(s.CreateService(alice, firebreak.ServiceInput{Slug: "web"}))
		incs := seedMonths(t, s, c)
		edit := func(inc *firebreak.Incident, p firebreak.IncidentPatch) {
			t.Helper()
			must(s.UpdateIncident(alice, inc.Reference, p, 0))
		}
		for i, inc := range incs {
			if i%3 > 0 {
				svcs := [][]string{nil, {"api"}, {"db", "web", "api"}}[i%3]
				edit(inc, firebreak.IncidentPatch{Services: &svcs})
			}
		}
		now := c.Now()
		checkDashboard(t, s, now, "first")
		if storedCopies(t, s) == 0 {
			t.Fatal("no month's copy was kept")
		}
		checkDashboard(t, s, now, "read back")
		checkDashboard(t, s, now.AddDate(0, -2, -3), "a window ending in the past")

		ts := func(t time.Time) *time.Time { return &t }
		before := storedCopies(t, s)
		edit(incs[20], firebreak.IncidentPatch{Services: &[]string{"web"}})
		if storedCopies(t, s) >= before {
			t.Error("changing an old incident's services did not clear its month's copy")
		}
		checkDashboard(t, s, now, "services changed")
		must(s.UpdateService(alice, "web", firebreak.ServicePatch{OwnerTeam: ptr("frontend")}, 0))
		checkDashboard(t, s, now, "owner team changed")
		edit(incs[22], firebreak.IncidentPatch{Milestones: map[string]*time.Time{
			"acknowledged_at": ts(incs[22].Milestones.DeclaredAt.Add(3 * time.Minute))}})
		checkDashboard(t, s, now, "acknowledgement corrected")
		sev := firebreak.SEV1
		edit(incs[25], firebreak.IncidentPatch{Severity: &sev})
		checkDashboard(t, s, now, "severity changed")
		edit(incs[27], firebreak.IncidentPatch{Milestones: map[string]*time.Time{
			"impact_started_at": ts(incs[27].Milestones.DeclaredAt.AddDate(0, -1, 0))}})
		checkDashboard(t, s, now, "impact moved a month earlier")
		var open *firebreak.Incident
		for _, inc := range incs[:40] {
			if inc.Status.Open() {
				open = inc
			}
		}
		must(s.ChangeStatus(alice, open.Reference, firebreak.StatusCancelled, "", 0))
		checkDashboard(t, s, now, "cancelled")
		n := must(sqlstore.QueryInt(ctx, s, `SELECT COUNT(*) FROM postmortems WHERE incident_id = ?`, incs[31].ID))
		if n != 1 {
			t.Fatalf("incident 31 has %d post-mortems", n)
		}
		before = storedCopies(t, s)
		must(0, sqlstore.Exec(ctx, s, `UPDATE postmortems SET published_at = ? WHERE incident_id = ?`,
			incs[31].Milestones.ResolvedAt.Add(26*time.Hour).Format("2006-01-02T15:04:05.000000Z"), incs[31].ID))
		if storedCopies(t, s) >= before {
			t.Error("publishing an old incident's post-mortem did not clear its month's copy")
		}
		checkDashboard(t, s, now, "post-mortem published")
		imp := now.AddDate(0, -5, 0)
		must(s.DeclareIncident(alice, firebreak.DeclareInput{Title: "found late", Severity: firebreak.SEV3,
			ImpactStartedAt: &imp, Services: []string{"db"}}))
		checkDashboard(t, s, now, "backdated")
		setClock(c, now.AddDate(0, 1, 0))
		checkDashboard(t, s, now.AddDate(0, 1, 0), "a month later")

		// Without the triggers, a change to an old incident no longer reaches the copies, which are what is read.
		if s.Dialect() == "postgres" {
			must(0, sqlstore.Exec(ctx, s, `ALTER TABLE incidents DISABLE TRIGGER metrics_months_update`))
		} else {
			must(0, sqlstore.Exec(ctx, s, `DROP TRIGGER metrics_months_au`))
		}
		edit(incs[33], firebreak.IncidentPatch{Severity: &sev})
		got := must(s.IncidentsForDashboard(ctx, now.AddDate(0, 0, -400), now))
		for _, inc := range got {
			if inc.ID == incs[33].ID && inc.Severity == sev {
				t.Error("with no trigger, the change was seen: the incidents were not read from the copies")
			}
		}
	})
}

// TestMonthCopyGeneration: a copy of a month's incidents is not kept if an incident of the month changed after
// the month's generation was read.
func TestMonthCopyGeneration(t *testing.T) {
	forEachClock(t, func(t *testing.T, s *sqlstore.Store, c *fakeClock) {
		ctx := context.Background()
		incs := seedMonths(t, s, c)
		now := c.Now()
		month := analysis.PeriodStart(analysis.ByMonth, t0)
		must(s.IncidentsForDashboard(ctx, month, now))
		key := month.Format("2006-01")
		gen := monthGen(t, s, key)
		sev := firebreak.SEV1
		must(s.UpdateIncident(alice, incs[1].Reference, firebreak.IncidentPatch{Severity: &sev}, 0))
		if storedCopies(t, s) != must(sqlstore.QueryInt(ctx, s,
			`SELECT COUNT(*) FROM metrics_months WHERE incidents IS NOT NULL AND month <> ?`, key)) {
			t.Fatal("the change did not clear the month's copy")
		}
		must(0, sqlstore.SaveMonthCopy(ctx, s, month, gen))
		if n := must(sqlstore.QueryInt(ctx, s, `SELECT COUNT(*) FROM metrics_months
			WHERE month = ? AND incidents IS NOT NULL`, key)); n != 0 {
			t.Fatal("a copy made after a generation that has changed was kept")
		}
		must(0, sqlstore.SaveMonthCopy(ctx, s, month, monthGen(t, s, key)))
		if n := must(sqlstore.QueryInt(ctx, s, `SELECT COUNT(*) FROM metrics_months
			WHERE month = ? AND incidents IS NOT NULL`, key)); n != 1 {
			t.Fatal("a current copy was not kept")
		}
		checkDashboard(t, s, now, "after the race")
	})
}
