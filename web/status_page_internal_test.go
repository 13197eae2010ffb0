package web

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"strings"
	"testing"
	"time"

	"github.com/firebreak/firebreak"
)

// statusTestPage is a status page with every part filled, user text carrying markup ("<down>").
func statusTestPage(now time.Time) *firebreak.StatusPage {
	earlier := now.Add(-2 * time.Hour)
	resolved := now.Add(-time.Hour)
	d := &firebreak.StatusData{
		Config: firebreak.StatusPageConfig{Name: "Acme <down> status", UpdatedAt: earlier, Version: 1,
			Components: []firebreak.StatusComponent{
				{ID: "c-api", Service: "api", Name: "API <down>", Group: "Core <down>", Description: "d <down>"},
				{ID: "c-db", Service: "db", Name: "Database", Group: "Core <down>", Position: 1},
				{ID: "c-web", Service: "web", Name: "Website", Position: 2}}},
		Incidents: []firebreak.StatusIncident{
			{ID: "i1", Reference: "INC-2", Title: "Errors <down>", Severity: firebreak.SEV2,
				Status: firebreak.StatusMitigating, Services: []string{"api"}, StartedAt: earlier, MitigatedAt: &resolved,
				Updates: []firebreak.StatusUpdate{
					{ID: "u1", IncidentID: "i1", Message: "Looking <down>", Audience: firebreak.AudienceExternal,
						Status: firebreak.StatusInvestigating, CreatedAt: earlier},
					{ID: "u2", IncidentID: "i1", Message: "Fix out & watching", Audience: firebreak.AudienceAll,
						Status: firebreak.StatusMitigating, CreatedAt: resolved}}},
			{ID: "i0", Reference: "INC-1", Title: "Old <down>", Severity: firebreak.SEV3,
				Status: firebreak.StatusResolved, Services: []string{"web"}, StartedAt: earlier.Add(-48 * time.Hour),
				ResolvedAt: &earlier}},
		Maintenance: []firebreak.MaintenanceWindow{{ID: "w1", Title: "Upgrade <down>", Description: "m <down>",
			Services: []string{"db"}, StartsAt: earlier, EndsAt: now.Add(time.Hour), CreatedAt: earlier,
			UpdatedAt: earlier}},
	}
	return firebreak.BuildStatusPage(d, now)
}

// statusTestView is the console template test's data for the status page.
func statusTestView(now time.Time) statusView {
	return newStatusView(statusTestPage(now), "https://status.example.com")
}

func TestStatusDocuments(t *testing.T) {
	now := time.Date(2026, 3, 1, 14, 0, 0, 0, time.UTC)
	p := statusTestPage(now)
	if p.Indicator != "major" || p.Description != "Partial System Outage" {
		t.Fatalf("overall %s %q", p.Indicator, p.Description)
	}
	base := "https://status.example.com:8443"

	// The standalone HTML document escapes markup in user text and links only its own stylesheet.
	tm, err := parseTemplates(mustLoadStatic())
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := tm.pages["status"].ExecuteTemplate(&buf, "status_document",
		layoutData{Title: p.Name, Page: newStatusView(p, base)}); err != nil {
		t.Fatal(err)
	}
	doc := buf.String()
	if strings.Contains(doc, "<down>") || !strings.Contains(doc, "Errors &lt;down&gt;") {
		t.Fatal("user text is not escaped on the status page")
	}
	for _, want := range []string{"Monitoring", "Partial outage", "Under maintenance", "/static/status.css?v=",
		"Fix out &amp; watching"} {
		if !strings.Contains(doc, want) {
			t.Errorf("status page lacks %q", want)
		}
	}
	if strings.Contains(doc, "app.js") || strings.Contains(doc, "<script") || strings.Contains(doc, "topbar") {
		t.Error("the status page carries console script or chrome")
	}

	// Atom: RFC 4287's required elements, tag: ids, the markup escaped once inside the html content.
	b, err := statusFeed(p, base)
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		XMLName xml.Name `xml:"http://www.w3.org/2005/Atom feed"`
		ID      string   `xml:"id"`
		Title   string   `xml:"title"`
		Updated string   `xml:"updated"`
		Author  struct {
			Name string `xml:"name"`
		} `xml:"author"`
		Links []struct {
			Rel  string `xml:"rel,attr"`
			Href string `xml:"href,attr"`
		} `xml:"link"`
		Entries []struct {
			ID      string `xml:"id"`
			Title   string `xml:"title"`
			Updated string `xml:"updated"`
			Content struct {
				Type string `xml:"type,attr"`
				Body string `xml:",chardata"`
			} `xml:"content"`
		} `xml:"entry"`
	}
	if err := xml.Unmarshal(b, &f); err != nil {
		t.Fatalf("feed is not XML: %v\n%s", err, b)
	}
	if f.ID != "tag:status.example.com,2026:firebreak/status" || f.Title != p.Name || f.Author.Name == "" {
		t.Fatalf("feed head %+v", f)
	}
	if _, err := time.Parse(time.RFC3339, f.Updated); err != nil {
		t.Fatalf("feed updated %q", f.Updated)
	}
	self := false
	for _, l := range f.Links {
		self = self || (l.Rel == "self" && l.Href == base+"/status/feed.atom")
	}
	if !self {
		t.Fatalf("no rel=self link: %+v", f.Links)
	}
	if len(f.Entries) != 2 {
		t.Fatalf("%d entries, want one per external update", len(f.Entries))
	}
	e := f.Entries[0] // newest first
	if e.ID != "tag:status.example.com,2026-03-01:firebreak/status/update/u2" ||
		e.Title != "Errors <down> – Monitoring" || e.Content.Type != "html" {
		t.Fatalf("entry %+v", e)
	}
	if _, err := time.Parse(time.RFC3339, e.Updated); err != nil {
		t.Fatalf("entry updated %q", e.Updated)
	}
	if !strings.Contains(e.Content.Body, "Fix out &amp; watching") || strings.Contains(f.Entries[1].Content.Body, "<down>") {
		t.Fatalf("entry content not escaped as HTML: %q / %q", e.Content.Body, f.Entries[1].Content.Body)
	}

	// summary.json: Statuspage's shape, groups as components with group_id on their children.
	raw, err := json.Marshal(statusSummary(p, base))
	if err != nil {
		t.Fatal(err)
	}
	var s map[string]any
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatal(err)
	}
	page := s["page"].(map[string]any)
	for _, k := range []string{"id", "name", "url", "time_zone", "updated_at"} {
		if page[k] == nil || page[k] == "" {
			t.Errorf("page.%s missing", k)
		}
	}
	if st := s["status"].(map[string]any); st["indicator"] != "major" || st["description"] != "Partial System Outage" {
		t.Errorf("status %v", st)
	}
	comps := s["components"].([]any)
	if len(comps) != 4 { // the group and its two children, then the ungrouped website
		t.Fatalf("components %v", comps)
	}
	group, api := comps[0].(map[string]any), comps[1].(map[string]any)
	if group["group"] != true || group["status"] != "partial_outage" || api["group_id"] != group["id"] ||
		api["status"] != "partial_outage" || comps[2].(map[string]any)["status"] != "under_maintenance" ||
		comps[3].(map[string]any)["status"] != "operational" || comps[3].(map[string]any)["group_id"] != nil {
		t.Errorf("components %v", comps)
	}
	incs := s["incidents"].([]any)
	if len(incs) != 1 {
		t.Fatalf("incidents %v: only unresolved ones belong in the summary", incs)
	}
	inc := incs[0].(map[string]any)
	if inc["status"] != "monitoring" || inc["impact"] != "major" || inc["name"] != "Errors <down>" ||
		inc["monitoring_at"] == nil || inc["resolved_at"] != nil {
		t.Errorf("incident %v", inc)
	}
	ups := inc["incident_updates"].([]any)
	if len(ups) != 2 || ups[0].(map[string]any)["status"] != "monitoring" ||
		ups[1].(map[string]any)["body"] != "Looking <down>" {
		t.Errorf("incident updates %v", ups)
	}
	ms := s["scheduled_maintenances"].([]any)
	if len(ms) != 1 || ms[0].(map[string]any)["status"] != "in_progress" ||
		ms[0].(map[string]any)["scheduled_until"] == nil || ms[0].(map[string]any)["impact"] != "maintenance" {
		t.Errorf("scheduled maintenances %v", ms)
	}
	if strings.Contains(string(raw), "INC-") || strings.Contains(string(raw), "SEV") {
		t.Error("summary.json leaks internal references or severities")
	}
}

func TestStatusBuildRules(t *testing.T) {
	now := time.Date(2026, 3, 1, 14, 0, 0, 0, time.UTC)
	comps := []firebreak.StatusComponent{{Service: "a"}, {Service: "b"}, {Service: "c"}, {Service: "d"}}
	inc := func(sev firebreak.Severity, st firebreak.Status, svc ...string) firebreak.StatusIncident {
		return firebreak.StatusIncident{ID: string(sev) + string(st), Severity: sev, Status: st, Services: svc,
			StartedAt: now.Add(-time.Hour)}
	}
	d := &firebreak.StatusData{Config: firebreak.StatusPageConfig{Components: comps},
		Incidents: []firebreak.StatusIncident{
			inc(firebreak.SEV3, firebreak.StatusInvestigating, "a", "b"),
			inc(firebreak.SEV1, firebreak.StatusIdentified, "b"),
			inc(firebreak.SEV1, firebreak.StatusResolved, "c"),
			inc(firebreak.SEV1, firebreak.StatusCancelled, "c"),
			inc(firebreak.SEV2, firebreak.StatusMitigating, "d"),
		},
		Maintenance: []firebreak.MaintenanceWindow{
			{Services: []string{"d"}, StartsAt: now.Add(-time.Minute), EndsAt: now.Add(time.Hour)},
			{Services: []string{"a"}, StartsAt: now.Add(time.Hour), EndsAt: now.Add(2 * time.Hour)}}}
	p := firebreak.BuildStatusPage(d, now)
	got := map[string]firebreak.ComponentState{}
	for _, c := range p.Components {
		got[c.Service] = c.State
	}
	want := map[string]firebreak.ComponentState{"a": firebreak.ComponentDegraded, "b": firebreak.ComponentMajorOutage,
		"c": firebreak.ComponentOperational, "d": firebreak.ComponentUnderMaintenance}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("component %s: %s, want %s", k, got[k], v)
		}
	}
	if p.Indicator != "critical" || len(p.Open) != 3 || len(p.Resolved) != 1 || len(p.Maintenance) != 2 {
		t.Errorf("page %s, %d open, %d resolved, %d maintenance", p.Indicator, len(p.Open), len(p.Resolved),
			len(p.Maintenance))
	}
	if firebreak.PublicStatus(firebreak.StatusMitigating) != "monitoring" ||
		firebreak.PublicStatusLabel(firebreak.StatusMitigating) != "Monitoring" ||
		firebreak.PublicStatus(firebreak.StatusDetected) != "investigating" {
		t.Error("status vocabulary")
	}
	// Nothing configured: nothing shown but the overall status.
	empty := firebreak.BuildStatusPage(&firebreak.StatusData{}, now)
	if empty.Indicator != "none" || empty.Description != "All Systems Operational" || empty.Name != "Status" {
		t.Errorf("empty page %+v", empty)
	}
}
