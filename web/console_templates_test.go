package web

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/oncall"
)

// TestConsoleTemplates parses every template and renders every page and fragment with representative data, so a
// broken template fails here rather than in front of a responder.
func TestConsoleTemplates(t *testing.T) {
	static, err := loadStatic()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"app.css", "app.js", "favicon.svg"} {
		if _, ok := static.files[name]; !ok {
			t.Errorf("static asset %s is missing", name)
		}
	}
	tm, err := parseTemplates(static)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 1, 14, 0, 0, 0, time.UTC)
	earlier := now.Add(-time.Hour)
	inc := &firebreak.Incident{ID: "id", Number: 7, Reference: "INC-7", Title: "Checkout <down>", Summary: "s",
		Severity: firebreak.SEV1, Status: firebreak.StatusMitigating, Services: []string{"api"},
		Roles:      map[firebreak.Role]string{firebreak.RoleCommander: "alice"},
		Milestones: firebreak.Milestones{DetectedAt: &earlier, DeclaredAt: &earlier, MitigatedAt: &now}, Version: 3}
	v := viewer{Actor: firebreak.Actor{Username: "alice", Role: firebreak.RoleAdmin}, CSRF: "tok"}
	ev := firebreak.TimelineEvent{ID: 1, Kind: firebreak.EventNote, Message: "hello", Actor: "alice",
		OccurredAt: earlier, RecordedAt: now, Starred: true}
	iv := &incidentView{Inc: inc, Ref: "INC-7", Viewer: v, Policy: firebreak.DefaultSeverityPolicies()[0],
		Allowed: firebreak.AllowedTransitions(inc.Status), Milestones: milestoneViews(inc), Duration: "1h 00m",
		Timeline: []timelineItem{{Ev: ev, Ref: "INC-7", Viewer: v}}, Errors: formErrors{"message": "is required"},
		Form: "note", Problem: "stale", Stale: true,
		Updates: []firebreak.StatusUpdate{{Message: "m", Audience: firebreak.AudienceAll, Status: inc.Status}},
		Actions: []firebreak.ActionItem{{ID: "a1", Title: "t", Status: firebreak.ActionNotDoing, Reason: "r",
			Priority: firebreak.PriorityHigh, Kind: firebreak.KindDetect}},
		Users: []firebreak.User{{Username: "bob", Name: "Bob"}}}
	svc := &firebreak.Service{Slug: "api", Name: "API", Tier: 1, DependsOn: []string{"db"}, RunbookURL: "https://x"}
	rows := []listRow{{Inc: *inc, Ref: "INC-7", Duration: "1h", Ongoing: true, Commander: "alice"}}
	pages := map[string]any{
		"login":     loginPageData{Error: "Invalid username or password.", Next: "/"},
		"error":     errorPageData{Status: 404, Heading: "Not found", Message: "gone"},
		"incidents": listPage{Rows: rows, NextURL: "/incidents?cursor=x"},
		"declare": declarePage{In: declareInput{Title: "x", Services: []string{"api"}}, Errors: formErrors{"title": "bad"},
			Policies: firebreak.DefaultSeverityPolicies(), Services: []firebreak.Service{*svc}},
		"incident":     iv,
		"services":     serviceListPage{Rows: []serviceRow{{Svc: *svc, Open: 2, Worst: firebreak.SEV1}}},
		"service":      servicePageData{Svc: svc, Known: map[string]bool{"db": true}, Incidents: rows, Open: 1},
		"service_form": serviceFormPage{New: true, In: serviceFormInput{Tier: "3"}, Errors: formErrors{}},
		// Probe pages (console_probes.go).
		"probes": probeListPage{In: probeForm{Name: "n <down>"}, Errors: formErrors{"url": "bad"}, Error: "e", Open: true,
			Rows: []probeView{newProbeView(firebreak.Probe{ID: "p1", Name: "h <down>", Service: "api", State: firebreak.ProbeDown}, nil)}},
		"probe": probePageData{Status: &firebreak.ProbeStatus{Probe: firebreak.Probe{ID: "p1", Name: "h <down>"}},
			View: newProbeView(firebreak.Probe{ID: "p1", Name: "h <down>"}, nil), Errors: formErrors{},
			Results: []probeResultRow{{R: firebreak.ProbeResult{At: now}, Detail: "<down>"}}},
		"metrics": sampleDashboardPage(now), // the metrics dashboard (console_metrics.go)
		// The follow-up list (console_followups.go).
		"followups": followUpsPage{Owner: "bob <x>", Status: "done", Overdue: true, Statuses: firebreak.ActionItemStatuses,
			Problem: "Not verified: <x>", NextURL: "/follow-ups?cursor=x", Filters: "owner=bob",
			Rows: []followUpRow{{CanVerify: true, FollowUp: firebreak.FollowUp{ActionItem: firebreak.ActionItem{ID: "a1",
				Title: "t <x>", Owner: "bob", DueDate: "2026-02-01", Status: firebreak.ActionDone, RemindedAt: &now,
				Reminders: 2, TeamRemindedAt: &now, TrackerURL: "https://t.example/1"}, IncidentRef: "INC-7",
				IncidentTitle: "Checkout <down>", Severity: firebreak.SEV1, Overdue: true}}},
			Reviews: []firebreak.FollowUpReview{{IncidentRef: "INC-7", IncidentTitle: "x <y>", Severity: firebreak.SEV2,
				FollowUpAt: now, RemindedAt: &now, Due: true, Approvers: []string{"lee"}, Commander: "alice", OpenItems: 2}}},
		// Alerting pages (console_alerts.go).
		"alerts": alertListPage{Rows: alertTestRows(now), Services: []firebreak.Service{*svc}, Statuses: alertStatuses,
			NextURL: "/alerts?cursor=x", FirstURL: "/alerts", Filtered: true, Problem: "p <down>"},
		"alert": alertDetailPage{Row: alertTestRows(now)[0], Details: "{\n  \"a\": 1\n}", Incident: inc,
			Events: []firebreak.TimelineEvent{{Kind: firebreak.EventAlertAttached, Message: "Alert joined: <down>",
				OccurredAt: now}}},
		"integrations": integrationsPage{Svc: svc, Base: "https://fb.example.com", Errors: formErrors{"kind": "bad"},
			Error: "e", Integrations: []firebreak.Integration{{ID: "i1", Service: "api", Kind: "grafana",
				Name: "g <down>", CreatedAt: now, Signed: true}},
			New: &newIntegration{ID: "i1", Service: "api", Kind: "grafana", Name: "g", Key: "k", Signed: true,
				Snippets: consoleSnippets("https://fb.example.com", &newIntegration{Service: "api", Kind: "grafana",
					Key: "k", Signed: true})}},
		"routing": routingPage{Svc: svc, View: routingViewOf(&firebreak.RoutingPolicy{Rules: firebreak.DefaultRoutingPolicy().Rules,
			GroupWindow: time.Hour, GroupBy: []string{"cluster"}, AutoResolve: firebreak.DefaultAutoResolve()}),
			JSON: "{<down>}", Error: "e", Errors: []firebreak.FieldError{{Field: "rules[0].action", Message: "m"}}},
		// The public status page (status_page.go; standalone, but its body renders in the layout too).
		"status": statusTestView(now),
		"maintenance": maintenancePage{States: firebreak.MaintenanceStates, Services: []firebreak.Service{*svc},
			Windows: []firebreak.MaintenanceWindow{{ID: "w1", Title: "Upgrade <down>", Services: []string{"api"},
				Description: "d <down>", StartsAt: earlier, EndsAt: now, State: firebreak.MaintenanceActive, Version: 2}},
			NextURL: "/maintenance?cursor=x", In: maintenanceInput{Title: "t", Services: []string{"api"}},
			Errors: formErrors{"services": "bad"}, Error: "e", Notice: "n"},
		"schedules": schedulesPage{Rows: []scheduleRow{{S: firebreak.Schedule{Name: "Primary <down>", Team: "api",
			TimeZone: "UTC"}, Now: oncall.Shift{Start: earlier, End: now, Users: []string{"<down>"}},
			Next:     []oncall.Shift{{Start: now, End: now.Add(time.Hour), Users: []string{"bob"}}},
			Warnings: []oncall.Warning{{Kind: oncall.WarnGap, Message: "gap <down>"}}}, {S: firebreak.Schedule{Name: "x"},
			Error: "bad <down>"}}}, // console_oncall.go
		"escalation_policies": escalationPage{Policies: []escalationRow{escalationRowOf(samplePolicy)},
			Edit: &escalationRow{P: samplePolicy, Steps: []string{"5m user:<down>"}},
			In:   escalationFormInput{Name: "<down>", Steps: "5m user:<down>"}, Errors: formErrors{"steps": "<down>"},
			Error: "<down>"}, // console_escalation.go
		// The post-mortem editor and print view (console_postmortems.go).
		"postmortem": samplePostmortemPage(now), "postmortem_print": samplePostmortemPage(now),
		"search": searchPage{Q: "q <down>", Service: "api", Severity: "SEV1", Services: []firebreak.Service{*svc},
			Searched: true, NextURL: "/search?q=x&cursor=y", Problem: "p <down>", Hits: []firebreak.SearchHit{{
				Kind: "incident", ID: "id", Ref: "INC-7", Title: "Checkout <down>", Snippet: "a <down> b",
				Highlights: []firebreak.Span{{Start: 2, End: 8}}, Severity: firebreak.SEV1,
				Status: firebreak.StatusMitigating, Services: []string{"api"}, DeclaredAt: &earlier}}},
		"noise": noisePage{Days: 7, Periods: noisePeriods, Services: []firebreak.Service{*svc},
			Refs: map[string]string{"id": "INC-7"}, Report: &firebreak.NoiseReport{Since: earlier, Until: now,
				Totals: firebreak.NoiseTotals{Alerts: 3, AlertsWithoutIncident: 1},
				AlertsPerIncident: firebreak.AlertsPerIncident{Incidents: 1, Mean: 2, P50: 2, Max: 2,
					Top: []firebreak.NoiseIncident{{Reference: "INC-7", Title: "<down>", Severity: firebreak.SEV1}}},
				Sources:       []firebreak.NoiseSource{{Name: "<down>", Kind: "generic", Service: "api", Alerts: 3}},
				Rules:         []firebreak.NoiseRule{{Rule: "<down>", Service: "api", Alerts: 3}},
				Flapping:      []firebreak.NoiseAlert{{ID: "a", Summary: "<down>", Status: "firing", IncidentID: "id"}},
				NeverIncident: []firebreak.NoiseAlert{{ID: "b", Summary: "s", Status: "resolved"}}}},
		"admin_users": adminUsersPage{Users: []firebreak.User{{Username: "bob", Name: "Bob <down>",
			Role: firebreak.RoleResponder, CreatedAt: now}}, Tokens: map[string]int{"bob": 2},
			Errors: formErrors{"username": "taken"}, Error: "e", Notice: "User bob was created.", Created: "bob"},
		"ack": ackPageData{Token: "t", Link: &firebreak.AckLink{Incident: "INC-7", Title: "Checkout <down>",
			Severity: firebreak.SEV1, Status: firebreak.StatusInvestigating, Recipient: "bob <down>", ExpiresAt: now}},
		"contact_methods": contactMethodsPage{Methods: []firebreak.Channel{{ID: "c1", Kind: firebreak.ChannelEmail,
			Name: "bob <down>", Address: "bob@example.com", Enabled: true}}, Kinds: firebreak.ChannelKinds,
			Errors: formErrors{"address": "bad <down>"}, Error: "e"},
		// Runbooks, channels and dead letters (console_runbooks.go, console_channels.go).
		"runbooks": sampleRunbookList(now), "runbook": sampleRunbookPage(now),
		"channels": sampleChannelsPage(now), "notifications": sampleNotificationsPage(now),
		"tokens": tokensPage{Admin: true, User: "bob", Rows: []tokenRow{{Tok: firebreak.Token{ID: "t1",
			Name: "ci <down>", Username: "bob", Role: firebreak.RoleResponder, CreatedAt: earlier, ExpiresAt: &earlier,
			LastUsedAt: &now}, Expired: true, New: true}}, Users: []firebreak.User{{Username: "bob"}},
			In: tokenFormInput{Username: "bob", ExpiresIn: "90"}, Errors: formErrors{"name": "bad"},
			New: &newToken{Name: "ci", Username: "bob", Secret: "fbk_secret"}},
	}
	for name := range tm.pages {
		if _, ok := pages[name]; !ok {
			t.Errorf("page template %s has no render test", name)
		}
	}
	for name, data := range pages {
		var buf bytes.Buffer
		if err := tm.execute(&buf, name, layoutData{Title: name, Viewer: v, Page: data}); err != nil {
			t.Errorf("render %s: %v", name, err)
			continue
		}
		if strings.Contains(buf.String(), "<down>") {
			t.Errorf("%s: user text is not escaped", name)
		}
	}
	// The service edit form, with escalation policies to choose from.
	var edit bytes.Buffer
	if err := tm.execute(&edit, "service_form", layoutData{Title: "edit", Viewer: v, Page: serviceFormPage{
		In: serviceFormInput{Tier: "1", Slug: "api", Name: "API", EscalationPolicy: "primary",
			ArchitectureChanged: "2026-01-02"}, Errors: formErrors{},
		Policies: []firebreak.EscalationPolicy{{Name: "primary"}, {Name: "other <down>"}}}}); err != nil {
		t.Errorf("render the service edit form: %v", err)
	} else if out := edit.String(); strings.Contains(out, "<down>") ||
		!strings.Contains(out, `<option value="primary" selected>`) || !strings.Contains(out, `value="2026-01-02"`) {
		t.Errorf("service edit form: policy or date not shown, or text not escaped")
	}
	// Other states of the pages: a user's own tokens, and the incident page after each new form failed.
	failed := func(form string, fe formErrors, in url.Values) *incidentView {
		c := *iv
		c.Form, c.Errors, c.Input, c.Stale = form, fe, in, false
		c.Catalog = []firebreak.Service{*svc}
		return &c
	}
	for name, data := range map[string]any{
		"account tokens": tokensPage{User: "alice", Me: &firebreak.User{Username: "alice", Name: "A <down>"},
			Errors: formErrors{}},
		"details failed": failed("details", formErrors{"title": "Title is required"},
			url.Values{"title": {""}, "services": {"api"}}),
		"milestones failed": failed("milestones", formErrors{"milestones.resolved_at": "Resolved must not be"},
			url.Values{"resolved_at": {"2026-03-01T10:00"}, "clear": {"mitigated_at"}}),
		"incident with changes": sampleIncidentChanges(iv, now), // console_changes.go
		"incident with alerts": func() *incidentView {
			c := *iv
			c.Alerting = &incidentAlerting{Alerts: alertTestRows(now), MoreAlerts: true, HasChanges: true,
				ChangeWindow: "2h", Changes: []firebreak.Change{{ID: "c1", Service: "api", Summary: "Deploy <down>",
					Source: "ci", OccurredAt: earlier, Links: []firebreak.AlertLink{{Href: "https://ci"}}}}}
			return &c
		}(),
	} {
		page := "incident"
		if _, ok := data.(tokensPage); ok {
			page = "tokens"
		}
		var buf bytes.Buffer
		if err := tm.execute(&buf, page, layoutData{Title: name, Viewer: v, Page: data}); err != nil {
			t.Errorf("render %s: %v", name, err)
		}
		if strings.Contains(buf.String(), "<down>") {
			t.Errorf("%s: user text is not escaped", name)
		}
	}
	for _, frag := range []struct {
		name string
		data any
	}{{"incident_sections", iv}, {"timeline_entry", timelineItem{Ev: ev, Ref: "INC-7", Viewer: v}}} {
		var buf bytes.Buffer
		if err := tm.fragment(&buf, frag.name, frag.data); err != nil {
			t.Errorf("fragment %s: %v", frag.name, err)
		}
	}
}

func TestFormTimeAndIfMatch(t *testing.T) {
	for _, c := range []struct{ in, off, want string }{
		{"2026-03-01T14:05", "", "2026-03-01T14:05:00Z"},
		{"2026-03-01T14:05", "-120", "2026-03-01T12:05:00Z"}, // UTC+2
		{"2026-03-01T14:05", "300", "2026-03-01T19:05:00Z"},  // UTC-5
		{"2026-03-01T14:05:00+01:00", "", "2026-03-01T13:05:00Z"},
	} {
		r := formRequest(map[string]string{"at": c.in, "tz_offset": c.off})
		got, err := formTime(r, "at")
		if err != nil || got.Format(time.RFC3339) != c.want {
			t.Errorf("formTime(%q, %q) = %v, %v; want %s", c.in, c.off, got, err, c.want)
		}
	}
	if _, err := formTime(formRequest(map[string]string{"at": "yesterday"}), "at"); err == nil {
		t.Error("a bad time was accepted")
	}
	for in, want := range map[string]int64{`"3"`: 3, `W/"12"`: 12, "7": 7, "": 0, `"x"`: 0} {
		r := formRequest(nil)
		r.Header.Set("If-Match", in)
		if got := ifMatch(r); got != want {
			t.Errorf("ifMatch(%q) = %d", in, got)
		}
	}
	for next, ok := range map[string]bool{"/incidents?x=1": true, "/": true, "//evil": false, "/\\evil": false,
		"https://evil": false, "": false, "incidents": false} {
		if safeNext(next) != ok {
			t.Errorf("safeNext(%q) = %v", next, !ok)
		}
	}
}

func formRequest(fields map[string]string) *http.Request {
	form := url.Values{}
	for k, v := range fields {
		form.Set(k, v)
	}
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return r
}
