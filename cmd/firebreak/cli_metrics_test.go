package main

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"
	"time"

	"github.com/firebreak/firebreak/analysis"
)

func TestMetricsCommands(t *testing.T) {
	s := startServer(t)
	s.ok(t, "service", "add", "--slug", "api", "--team", "core")
	s.ok(t, "incident", "declare", "--title", "API down", "--severity", "SEV1", "--service", "api")

	out := s.ok(t, "metrics", "--group-by", "service")
	contains(t, out, "SERVICE", "INCIDENTS", "TTR", "MTBF", "all", "api")

	var rep analysis.Report
	s.jsonOut(t, &rep, "metrics", "--from", "7d", "--group-by", "severity")
	if rep.Total.Count != 1 || rep.Total.OpenCount != 1 || len(rep.Groups) != 3 || rep.Groups[0].Count != 1 {
		t.Fatalf("report %+v", rep)
	}
	if d := rep.To.Sub(rep.From); d < 7*24*time.Hour-time.Minute || d > 7*24*time.Hour+time.Minute {
		t.Errorf("--from 7d gave a window of %v", d)
	}

	rows, err := csv.NewReader(strings.NewReader(s.ok(t, "metrics", "--csv"))).ReadAll()
	if err != nil || len(rows) < 2 || rows[0][0] != "group_by" || rows[1][2] != "incidents" || rows[1][3] != "1" {
		t.Fatalf("csv %v %v", rows, err)
	}

	var m analysis.IncidentMetrics
	s.jsonOut(t, &m, "metrics", "incident", "INC-1")
	if m.Reference != "INC-1" || !m.Open || !m.TTR.Censored {
		t.Fatalf("incident metrics %+v", m)
	}
	contains(t, s.ok(t, "metrics", "incident", "INC-1"), "TTR", "so far (open)")

	if _, err := s.cli(t, "metrics", "--group-by", "quarter"); err == nil || !strings.Contains(err.Error(), "group_by") {
		t.Fatalf("bad --group-by: %v", err)
	}
	if _, err := s.cli(t, "metrics", "--from", "last tuesday"); err == nil || !strings.Contains(err.Error(), "--from") {
		t.Fatalf("bad --from: %v", err)
	}
	if _, err := s.cli(t, "metrics", "--csv", "--json"); err == nil || !strings.Contains(err.Error(), "not both") {
		t.Fatalf("--csv --json: %v", err)
	}
}

func TestParseMetricsTime(t *testing.T) {
	rel := time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"":                     {},
		"90d":                  rel.AddDate(0, 0, -90),
		"72h":                  rel.Add(-72 * time.Hour),
		"2026-01-01":           time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		"2026-01-01T10:00:00Z": time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC),
	} {
		got, err := parseMetricsTime("--from", in, rel)
		if err != nil || !got.Equal(want) {
			t.Errorf("%q: %v %v, want %v", in, got, err, want)
		}
	}
	var b bytes.Buffer
	if _, err := parseMetricsTime("--from", "0d", rel); err == nil {
		b.WriteString("0d accepted")
	}
	if b.Len() > 0 {
		t.Error(b.String())
	}
}
