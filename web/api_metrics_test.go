package web_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"math"
	"net/http"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/analysis"
	"github.com/firebreak/firebreak/sqlstore"
	"github.com/firebreak/firebreak/sqlstore/sqltest"
	"github.com/firebreak/firebreak/web"
)

// metricsClock is a settable clock for a store whose incidents need known milestones.
type metricsClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *metricsClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *metricsClock) Set(s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = mustTime(s)
}

func mustTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// openMetricsStore opens a SQLite store on a settable clock.
func openMetricsStore(t *testing.T) (*sqlstore.Store, *metricsClock) {
	t.Helper()
	clk := &metricsClock{t: mustTime("2026-03-01T00:00:00Z")}
	o := sqltest.Options(t, "sqlite")
	o.Now = clk.Now
	st, err := sqlstore.Open(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st, clk
}

// seedMetrics records the incidents of the metrics tests (services api and web must exist) in March 2026:
//
//	INC-1 SEV1 api  impact 03-02 09:50, detected/declared 10:00, ack 10:05, mitigated 10:50, resolved 11:00
//	INC-2 SEV2 web  declared 03-10 00:00, ack 00:10, resolved (and so mitigated) 02:00
//	INC-3 SEV3 api  declared 03-20 00:00, still open
//	INC-4 SEV2 api  declared 03-21 00:00, cancelled
func seedMetrics(t testing.TB, st *sqlstore.Store, clk *metricsClock) {
	t.Helper()
	ctx := firebreak.WithActor(context.Background(), firebreak.Actor{Username: "alice", Role: firebreak.RoleResponder})
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	impact, detected := mustTime("2026-03-02T09:50:00Z"), mustTime("2026-03-02T10:00:00Z")
	clk.Set("2026-03-02T10:00:00Z")
	must(st.DeclareIncident(ctx, firebreak.DeclareInput{Title: "API down", Severity: firebreak.SEV1,
		Services: []string{"api"}, ImpactStartedAt: &impact, DetectedAt: &detected}))
	clk.Set("2026-03-02T10:05:00Z")
	must(st.ChangeStatus(ctx, "INC-1", firebreak.StatusInvestigating, "", 0))
	clk.Set("2026-03-02T10:50:00Z")
	must(st.ChangeStatus(ctx, "INC-1", firebreak.StatusMitigating, "", 0))
	clk.Set("2026-03-02T11:00:00Z")
	must(st.ChangeStatus(ctx, "INC-1", firebreak.StatusResolved, "", 0))
	must(st.AddActionItem(ctx, "INC-1", firebreak.ActionItemInput{Title: "Alert on 5xx", DueDate: "2026-03-09"}))

	clk.Set("2026-03-10T00:00:00Z")
	must(st.DeclareIncident(ctx, firebreak.DeclareInput{Title: "Web slow", Severity: firebreak.SEV2,
		Services: []string{"web"}}))
	clk.Set("2026-03-10T00:10:00Z")
	must(st.ChangeStatus(ctx, "INC-2", firebreak.StatusInvestigating, "", 0))
	clk.Set("2026-03-10T02:00:00Z")
	must(st.ChangeStatus(ctx, "INC-2", firebreak.StatusResolved, "", 0))

	clk.Set("2026-03-20T00:00:00Z")
	must(st.DeclareIncident(ctx, firebreak.DeclareInput{Title: "API errors", Severity: firebreak.SEV3,
		Services: []string{"api"}}))
	clk.Set("2026-03-21T00:00:00Z")
	must(st.DeclareIncident(ctx, firebreak.DeclareInput{Title: "False alarm", Severity: firebreak.SEV2,
		Services: []string{"api"}}))
	must(st.ChangeStatus(ctx, "INC-4", firebreak.StatusCancelled, "", 0))
	clk.Set("2026-11-01T00:00:00Z")
}

var march = firebreak.MetricsQuery{From: mustTime("2026-03-01T00:00:00Z"), To: mustTime("2026-04-01T00:00:00Z")}

func newMetricsAPIEnv(t *testing.T) *apiEnv {
	t.Helper()
	st, clk := openMetricsStore(t)
	e := newAPIEnv(t, st)
	for _, s := range []firebreak.ServiceInput{{Slug: "api", OwnerTeam: "core"}, {Slug: "web", OwnerTeam: "edge"}} {
		if _, err := e.admin.CreateService(context.Background(), s); err != nil {
			t.Fatal(err)
		}
	}
	seedMetrics(t, st, clk)
	return e
}

func near(t *testing.T, what string, got *float64, want float64) {
	t.Helper()
	if got == nil || math.Abs(*got-want) > 1e-6 {
		if got == nil {
			t.Errorf("%s = null, want %v", what, want)
		} else {
			t.Errorf("%s = %v, want %v", what, *got, want)
		}
	}
}

func TestAPIMetricsReport(t *testing.T) {
	e := newMetricsAPIEnv(t)
	ctx := context.Background()
	rep, err := e.viewer.Metrics(ctx, march)
	if err != nil {
		t.Fatal(err)
	}
	g := rep.Total
	if rep.Excluded != 1 || g.Count != 3 || g.OpenCount != 1 || !rep.AsOf.Equal(march.To) {
		t.Fatalf("excluded %d count %d open %d as_of %v", rep.Excluded, g.Count, g.OpenCount, rep.AsOf)
	}
	// TTR: 4200 s (INC-1 from impact start) and 7200 s (INC-2); INC-3 open for 12 days at the window's end.
	if g.TTR.N != 2 || g.TTR.Open != 1 || g.TTR.P95 != nil {
		t.Fatalf("ttr %+v", g.TTR)
	}
	near(t, "ttr p50", g.TTR.P50, 5700)
	near(t, "ttr p90", g.TTR.P90, 6900)
	near(t, "ttr max", g.TTR.Max, 7200)
	near(t, "ttr open age", g.TTR.OpenMaxAge, 12*86400)
	near(t, "ttd p50", g.TTD.P50, 600) // only INC-1 has an impact start
	near(t, "tta max", g.TTA.Max, 600) // INC-1 300 s, INC-2 600 s; INC-3 unacknowledged (open)
	near(t, "ttm p50", g.TTM.P50, (3600+7200)/2.0)
	if g.TTD.N != 1 {
		t.Errorf("ttd n %d: incidents without impact_started_at have no TTD", g.TTD.N)
	}
	r := g.Reliability
	if r == nil || r.Failures != 2 || r.DowntimeSeconds != 3600+7200 || r.MTBFSeconds == nil ||
		*r.MTBFSeconds != 31*86400/2 {
		t.Errorf("reliability %+v", r)
	}

	bySev, err := e.viewer.Metrics(ctx, firebreak.MetricsQuery{From: march.From, To: march.To, GroupBy: "severity"})
	if err != nil {
		t.Fatal(err)
	}
	var counts []int
	for _, g := range bySev.Groups {
		counts = append(counts, g.Count)
	}
	if !slices.Equal(counts, []int{1, 1, 1}) || bySev.Groups[0].Key != "SEV1" {
		t.Errorf("severity groups %v", counts)
	}
	byTeam, err := e.viewer.Metrics(ctx, firebreak.MetricsQuery{From: march.From, To: march.To, GroupBy: "team",
		Service: "api"})
	if err != nil {
		t.Fatal(err)
	}
	if len(byTeam.Groups) != 1 || byTeam.Groups[0].Key != "core" || byTeam.Groups[0].Count != 2 {
		t.Errorf("team groups of api %+v", byTeam.Groups)
	}

	im, err := e.viewer.IncidentMetrics(ctx, "INC-1")
	if err != nil {
		t.Fatal(err)
	}
	near(t, "INC-1 ttd", im.TTD.Seconds, 600)
	near(t, "INC-1 tta", im.TTA.Seconds, 300)
	near(t, "INC-1 ttm", im.TTM.Seconds, 3600)
	near(t, "INC-1 ttr", im.TTR.Seconds, 4200)
	if im.Open || im.StartSource != "impact_started_at" {
		t.Errorf("INC-1 %+v", im)
	}
	if _, err := e.viewer.IncidentMetrics(ctx, "INC-99"); firebreak.ErrorCode(err) != firebreak.ENotFound {
		t.Errorf("unknown incident: %v", err)
	}
	if r := e.do("GET", "/api/v1/metrics", "", ""); r.status != http.StatusUnauthorized {
		t.Errorf("anonymous: %d", r.status)
	}
}

func TestAPIMetricsCSV(t *testing.T) {
	e := newMetricsAPIEnv(t)
	q := march
	q.GroupBy = "service"
	b, err := e.viewer.MetricsCSV(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte("\r\n")) {
		t.Error("rows do not end in CRLF (RFC 4180)")
	}
	rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rows[0], web.MetricsCSVHeader) {
		t.Fatalf("header %v", rows[0])
	}
	find := func(group, metric string) []string {
		for _, r := range rows[1:] {
			if r[1] == group && r[2] == metric {
				return r
			}
		}
		t.Fatalf("no row for %s %s", group, metric)
		return nil
	}
	// total + api + web, each: incidents, 4 durations, 5 reliability rows; then 3 follow-through rows.
	if len(rows) != 1+3*10+3 {
		t.Errorf("%d rows", len(rows))
	}
	if r := find("total", "ttr"); r[0] != "total" || r[3] != "2" || r[4] != "1" || r[5] != "5700" || r[7] != "" ||
		r[8] != "7200" {
		t.Errorf("total ttr row %v", r)
	}
	if r := find("api", "incidents"); r[0] != "service" || r[3] != "2" || r[4] != "1" {
		t.Errorf("api incidents row %v", r)
	}
	if r := find("web", "mtbf_seconds"); r[10] != "2678400" {
		t.Errorf("web mtbf row %v", r)
	}
	resp := e.asViewer("GET", "/api/v1/metrics.csv?from=2026-03-01T00:00:00Z&to=2026-04-01T00:00:00Z", "")
	if resp.status != 200 || !strings.HasPrefix(resp.header.Get("Content-Type"), "text/csv") {
		t.Errorf("metrics.csv: %d %s", resp.status, resp.header.Get("Content-Type"))
	}
}

func TestAPIMetricsBadQuery(t *testing.T) {
	e := newMetricsAPIEnv(t)
	ctx := context.Background()
	for _, c := range []struct {
		q     firebreak.MetricsQuery
		field string
	}{
		{firebreak.MetricsQuery{GroupBy: "quarter"}, "group_by"},
		{firebreak.MetricsQuery{Severity: "SEV9"}, "severity"},
		{firebreak.MetricsQuery{Service: "Not A Slug"}, "service"},
		{firebreak.MetricsQuery{From: march.To, To: march.From}, "from"},
		{firebreak.MetricsQuery{From: march.From.AddDate(-6, 0, 0), To: march.To}, "from"},
	} {
		_, err := e.viewer.Metrics(ctx, c.q)
		_, errCSV := e.viewer.MetricsCSV(ctx, c.q)
		for _, err := range []error{err, errCSV} {
			var fe *firebreak.Error
			if !errors.As(err, &fe) || fe.Code != firebreak.EInvalid || len(fe.Fields) == 0 || fe.Fields[0].Field != c.field {
				t.Errorf("%+v: %v, want a problem naming %s", c.q, err, c.field)
			}
		}
	}
	for path, field := range map[string]string{
		"/api/v1/metrics?from=yesterday":               "from",
		"/api/v1/metrics.csv?to=2026-13-01":            "to",
		"/api/v1/metrics?group=service":                "group",
		"/api/v1/metrics?group_by=week&group_by=month": "group_by",
	} {
		r := e.asViewer("GET", path, "")
		if r.status != http.StatusUnprocessableEntity || r.header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("%s: %d %s", path, r.status, r.header.Get("Content-Type"))
			continue
		}
		fieldNamed(t, r.problem(t, http.StatusUnprocessableEntity), field)
	}
}

func TestMetricsGauges(t *testing.T) {
	e := newMetricsAPIEnv(t)
	r := e.asViewer("GET", "/metrics", "")
	body := string(r.body)
	for _, want := range []string{
		`firebreak_open_incidents{severity="SEV1"} 0`,
		`firebreak_open_incidents{severity="SEV3"} 1`,
		`firebreak_overdue_action_items{priority="medium"} 1`,
		`firebreak_overdue_action_items{priority="high"} 0`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// TestOpenAPIMetricsSchemas keeps the metrics schemas equal to the JSON of their Go types.
func TestOpenAPIMetricsSchemas(t *testing.T) {
	d := loadOpenAPI(t)
	for name, typ := range map[string]any{
		"MetricsReport": analysis.Report{}, "MetricsGroup": analysis.Group{}, "Distribution": analysis.Distribution{},
		"HistogramBucket": analysis.Bucket{}, "Reliability": analysis.Reliability{},
		"IncidentMetrics": analysis.IncidentMetrics{}, "DurationMeasure": analysis.Measure{},
	} {
		props, _ := d.Components.Schemas[name]["properties"].(map[string]any)
		var got []string
		for k := range props {
			got = append(got, k)
		}
		sort.Strings(got)
		if want := jsonFields(reflect.TypeOf(typ)); !slices.Equal(got, want) {
			t.Errorf("schema %s has properties %v; the Go type has %v", name, got, want)
		}
	}
}
