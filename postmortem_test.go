package firebreak_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/firebreak/firebreak"
)

func at(hhmm string) time.Time {
	t, err := time.Parse(time.RFC3339, "2024-03-12T"+hhmm+":00Z")
	if err != nil {
		panic(err)
	}
	return t
}

func ptr[T any](v T) *T { return &v }

// demoSources is a realistic SEV2 (the checkout latency incident of the demo data): a deploy 20 minutes before
// impact, an alert, a severity change, three people in roles, updates, a starred entry.
func demoSources() firebreak.DraftSources {
	inc := firebreak.Incident{ID: "0190-inc", Number: 12, Reference: "INC-12",
		Title: "Checkout latency above 5 s", Summary: "Card payments timing out for EU customers.",
		Severity: firebreak.SEV2, Status: firebreak.StatusResolved, Services: []string{"checkout", "payments-api"},
		Roles: map[firebreak.Role]string{firebreak.RoleCommander: "maria", firebreak.RoleTechLead: "dev",
			firebreak.RoleCommsLead: "sam"},
		Milestones: firebreak.Milestones{ImpactStartedAt: ptr(at("14:02")), DetectedAt: ptr(at("14:09")),
			DeclaredAt: ptr(at("14:11")), AcknowledgedAt: ptr(at("14:13")), MitigatedAt: ptr(at("14:47")),
			ResolvedAt: ptr(at("15:30"))},
		CreatedBy: "alertbot", CreatedAt: at("14:11"), Version: 9}
	ev := func(id int64, hhmm string, kind firebreak.EventKind, actor, msg string, data map[string]string) firebreak.TimelineEvent {
		return firebreak.TimelineEvent{ID: id, IncidentID: inc.ID, Kind: kind, Actor: actor, Message: msg,
			OccurredAt: at(hhmm), RecordedAt: at(hhmm), Data: data}
	}
	tl := []firebreak.TimelineEvent{
		ev(1, "14:11", firebreak.EventDeclared, "alertbot", "Incident declared as SEV3: Checkout latency above 5 s",
			map[string]string{"severity": "SEV3", "status": "detected"}),
		ev(2, "14:13", firebreak.EventRoleAssigned, "maria", "maria is Incident Commander",
			map[string]string{"role": "commander", "user": "maria"}),
		ev(3, "14:15", firebreak.EventSeverityChanged, "maria", "Severity changed from SEV3 to SEV2",
			map[string]string{"from": "SEV3", "to": "SEV2"}),
		ev(4, "14:16", firebreak.EventRoleAssigned, "maria", "dev is Technical Lead",
			map[string]string{"role": "tech_lead", "user": "dev"}),
		ev(5, "14:20", firebreak.EventNote, "dev", "Connection pool to payments DB exhausted", nil),
		ev(6, "14:21", firebreak.EventRoleAssigned, "maria", "sam is Communications Lead",
			map[string]string{"role": "comms_lead", "user": "sam"}),
		ev(7, "14:47", firebreak.EventStatusChanged, "dev", "Rolled back v2.14.0",
			map[string]string{"from": "identified", "to": "mitigating"}),
		ev(8, "15:30", firebreak.EventStatusChanged, "maria", "Resolved",
			map[string]string{"from": "mitigating", "to": "resolved"}),
	}
	tl[4].Starred = true
	return firebreak.DraftSources{
		Incident: inc, Timeline: tl,
		Updates: []firebreak.StatusUpdate{{ID: "u1", IncidentID: inc.ID, Message: "We are investigating slow checkouts.",
			Audience: firebreak.AudienceAll, Status: firebreak.StatusInvestigating, Author: "sam", CreatedAt: at("14:25")}},
		Alerts: []firebreak.PostmortemAlert{{ID: "a1", Summary: "checkout p99 latency > 5s",
			Severity: firebreak.AlertCritical, Status: firebreak.AlertResolved, FirstSeenAt: at("14:09"),
			ResolvedAt: ptr(at("14:50"))}},
		Changes: []firebreak.Change{{ID: "c1", Service: "payments-api", Summary: "Deploy payments-api v2.14.0",
			Source: "argo-cd", OccurredAt: at("13:42"), RecordedAt: at("13:42")}},
	}
}

func TestDraftPostmortemFromIncident(t *testing.T) {
	pm := firebreak.DraftPostmortem(demoSources(), "maria", at("15:30"))
	if pm.Status != firebreak.PostmortemDraft || pm.Version != 1 || pm.IncidentRef != "INC-12" ||
		pm.Title != "Checkout latency above 5 s" {
		t.Fatalf("head: %+v", pm)
	}
	f := pm.Facts
	// Severity history: declared SEV3, raised to SEV2.
	if len(f.SeverityHistory) != 2 || f.SeverityHistory[0].To != firebreak.SEV3 ||
		f.SeverityHistory[1].From != firebreak.SEV3 || f.SeverityHistory[1].To != firebreak.SEV2 {
		t.Errorf("severity history %+v", f.SeverityHistory)
	}
	if !slices.Equal(f.Services, []string{"checkout", "payments-api"}) {
		t.Errorf("services %v", f.Services)
	}
	// Responders with their roles; the bot that declared is a responder without a role.
	roles := map[string][]firebreak.Role{}
	for _, r := range f.Responders {
		roles[r.User] = r.Roles
	}
	if !slices.Equal(roles["maria"], []firebreak.Role{firebreak.RoleCommander}) ||
		!slices.Equal(roles["dev"], []firebreak.Role{firebreak.RoleTechLead}) ||
		!slices.Equal(roles["sam"], []firebreak.Role{firebreak.RoleCommsLead}) || len(roles["alertbot"]) != 0 {
		t.Errorf("responders %+v", f.Responders)
	}
	// Durations: detect 7m, acknowledge 4m, mitigate 45m, resolve 88m.
	d := f.Durations
	if *d.DetectSeconds != 7*60 || *d.AcknowledgeSeconds != 4*60 || *d.MitigateSeconds != 45*60 ||
		*d.ResolveSeconds != 88*60 {
		t.Errorf("durations %v %v %v %v", *d.DetectSeconds, *d.AcknowledgeSeconds, *d.MitigateSeconds, *d.ResolveSeconds)
	}
	if len(f.Timeline) != 8 || len(f.Updates) != 1 || len(f.Alerts) != 1 || len(f.Changes) != 1 {
		t.Errorf("facts: %d events, %d updates, %d alerts, %d changes", len(f.Timeline), len(f.Updates),
			len(f.Alerts), len(f.Changes))
	}
	// Sections pre-filled from the facts.
	if !strings.Contains(pm.Summary, "INC-12 (SEV2, checkout, payments-api)") ||
		!strings.Contains(pm.Summary, "Card payments timing out") {
		t.Errorf("summary %q", pm.Summary)
	}
	if pm.Impact.DurationSeconds == nil || *pm.Impact.DurationSeconds != 45*60 || !pm.Impact.CustomerFacing {
		t.Errorf("impact %+v", pm.Impact)
	}
	if !strings.Contains(pm.LeadUp, "2024-03-12 13:42 UTC payments-api: Deploy payments-api v2.14.0 (argo-cd)") {
		t.Errorf("lead-up %q", pm.LeadUp)
	}
	for _, want := range []string{"Impact started at 2024-03-12 14:02 UTC", "(7m 00s after impact started)",
		`"checkout p99 latency > 5s"`} {
		if !strings.Contains(pm.Detection.Narrative, want) {
			t.Errorf("detection %q lacks %q", pm.Detection.Narrative, want)
		}
	}
	if !strings.Contains(pm.Response, "Incident Commander: maria.") || !strings.Contains(pm.Response, "(4m 00s after detection)") {
		t.Errorf("response %q", pm.Response)
	}
	if !strings.Contains(pm.Recovery, "Mitigated at 2024-03-12 14:47 UTC (45m 00s") ||
		!strings.Contains(pm.Recovery, "(1h 28m after impact started)") {
		t.Errorf("recovery %q", pm.Recovery)
	}
	if pm.TimelineScope != "starred" { // an entry is starred
		t.Errorf("timeline scope %q", pm.TimelineScope)
	}
	// Left to people: the analysis.
	if pm.Trigger != "" || len(pm.ContributingFactors) != 0 || len(pm.Lessons) != 0 {
		t.Errorf("analysis should be blank: %+v", pm.Sections)
	}
	missing := fields(pm.Missing())
	for _, want := range []string{"trigger", "detection.gap", "contributing_factors", "went_well", "went_poorly",
		"lessons_learned", "action_items", "approvals", "impact.description"} {
		if !slices.Contains(missing, want) {
			t.Errorf("missing %v lacks %s", missing, want)
		}
	}
	for _, filled := range []string{"summary", "lead_up", "response", "recovery", "detection.narrative",
		"impact.duration_seconds"} {
		if slices.Contains(missing, filled) {
			t.Errorf("%s was pre-filled but is reported missing", filled)
		}
	}
}

func TestDraftPostmortemSparseIncident(t *testing.T) {
	inc := firebreak.Incident{ID: "x", Number: 3, Title: "Disk full", Severity: firebreak.SEV3,
		Roles: map[firebreak.Role]string{}, CreatedBy: "ann", CreatedAt: at("10:00")}
	pm := firebreak.DraftPostmortem(firebreak.DraftSources{Incident: inc}, "ann", at("11:00"))
	if pm.Facts.Timeline == nil || pm.Facts.Changes == nil || pm.WentWell == nil || pm.ContributingFactors == nil {
		t.Fatal("nil lists in a draft")
	}
	if len(pm.Facts.SeverityHistory) != 1 || pm.Facts.SeverityHistory[0].To != firebreak.SEV3 {
		t.Errorf("history %+v", pm.Facts.SeverityHistory)
	}
	if pm.Impact.DurationSeconds != nil || pm.LeadUp != "" || pm.TimelineScope != "all" {
		t.Errorf("sparse draft %+v", pm.Sections)
	}
	if !strings.Contains(pm.Detection.Narrative, "No alert was attached") {
		t.Errorf("detection %q", pm.Detection.Narrative)
	}
}

func fields(fe []firebreak.FieldError) []string {
	var out []string
	for _, f := range fe {
		out = append(out, f.Field)
	}
	return out
}

func TestPostmortemPatchValidation(t *testing.T) {
	pm := firebreak.DraftPostmortem(demoSources(), "maria", at("15:30"))
	bad := firebreak.PostmortemPatch{
		ContributingFactors: &[]firebreak.ContributingFactor{{Category: "weather", Description: "x",
			Evidence: []string{"javascript:alert(1)"}}},
		FiveWhys:      &[]firebreak.WhyChain{{Steps: []firebreak.WhyStep{{ID: "a", ParentID: "b"}, {ID: "b", ParentID: "a"}}}},
		TimelineScope: ptr("some"),
		Reviewers:     &[]firebreak.Reviewer{{User: "x"}, {User: "x"}},
	}
	err := bad.Apply(&pm)
	got := fields(err.(*firebreak.Error).Fields)
	for _, want := range []string{"contributing_factors[0].category", "contributing_factors[0].evidence[0]",
		"five_whys[0].steps[0].parent_id", "timeline_scope", "reviewers[1].user"} {
		if !slices.Contains(got, want) {
			t.Errorf("errors %v lack %s", got, want)
		}
	}
	if pm.Version != 1 || len(pm.ContributingFactors) != 0 {
		t.Fatal("a refused patch changed the post-mortem")
	}
	// A branching chain: two answers to the first why; the ends are the leaves.
	good := firebreak.PostmortemPatch{FiveWhys: &[]firebreak.WhyChain{{Steps: []firebreak.WhyStep{
		{ID: "1", Question: "Why did checkout fail?", Answer: "The pool was exhausted"},
		{ParentID: "1", Question: "Why was it exhausted?", Answer: "v2.14.0 held connections during retries"},
		{ParentID: "1", Question: "Why was it not caught?", Answer: "The load test does not cover retries"},
	}}}, Reviewers: &[]firebreak.Reviewer{{User: "lee", Approver: true, ApprovedAt: ptr(at("16:00"))}}}
	if err := good.Apply(&pm); err != nil {
		t.Fatal(err)
	}
	if ends := pm.FiveWhys[0].Ends(); !slices.Equal(ends, []int{1, 2}) {
		t.Errorf("ends %v", ends)
	}
	if pm.FiveWhys[0].Steps[1].ID != "s2" {
		t.Errorf("generated step id %q", pm.FiveWhys[0].Steps[1].ID)
	}
	if pm.Reviewers[0].ApprovedAt != nil || pm.Approved() {
		t.Error("a patch must not approve")
	}
}

func TestPostmortemMarkdown(t *testing.T) {
	pm := firebreak.DraftPostmortem(demoSources(), "maria", at("15:30"))
	pm.Trigger = "# not a heading <script>alert(1)</script> [x](javascript:alert(1))"
	pm.ContributingFactors = []firebreak.ContributingFactor{{Category: firebreak.CategoryChange,
		Description: "Deploy v2.14.0 changed the retry policy", Evidence: []string{"https://git.example/pr/1 (x)"},
		PrimaryTrigger: true}}
	pm.WentWell = []string{"1. Rollback took *two* minutes | fast"}
	pm.ActionItems = []firebreak.ActionItem{{Title: "Alert on pool | saturation", Kind: firebreak.KindDetect,
		Priority: firebreak.PriorityHigh, Status: firebreak.ActionOpen, Owner: "dev"}}
	pm.FiveWhys = []firebreak.WhyChain{{Steps: []firebreak.WhyStep{{ID: "1", Question: "Why?", Answer: "Pool"},
		{ID: "2", ParentID: "1", Question: "Why pool?", Answer: "Retries"}}}}
	md := firebreak.PostmortemMarkdown(&pm)

	// Structure: the title, then the sections in order.
	if !strings.HasPrefix(md, "# Post-mortem: Checkout latency above 5 s (INC-12)\n") {
		t.Fatalf("title line: %q", strings.SplitN(md, "\n", 2)[0])
	}
	last := -1
	for _, h := range []string{"## Summary", "## Impact", "## Key times", "## Severity history", "## Responders",
		"## Lead-up", "## Trigger", "## Detection", "## Response", "## Recovery", "## Timeline", "## Status updates",
		"## Alerts", "## Changes before impact", "## Contributing factors", "## Five whys", "## What went well",
		"## What went poorly", "## Where we got lucky", "## Lessons learned", "## Action items", "## Review"} {
		i := strings.Index(md, "\n"+h+"\n")
		if i < 0 || i < last {
			t.Errorf("section %q missing or out of order", h)
		}
		last = i
	}
	// User text is escaped: no heading, no raw HTML, no link, no table break, no list marker.
	for _, bad := range []string{"\n# not", "<script>", "[x](javascript", "\n1. Rollback", "pool | saturation",
		"*two*"} {
		if strings.Contains(md, bad) {
			t.Errorf("unescaped %q in\n%s", bad, md)
		}
	}
	for _, want := range []string{`\# not a heading \<script\>`, `\[x\](javascript:alert(1))`,
		"- 1\\. Rollback took \\*two\\* minutes \\| fast", "| Alert on pool \\| saturation | detect | high | dev |",
		"(primary trigger)", "Evidence: [https://git.example/pr/1 (x)](<https://git.example/pr/1%20%28x%29>)",
		"| Time to detect | 7m 00s |", "| Time to resolve | 1h 28m |",
		"- maria (Incident Commander)", "  - **Why?** Why pool?",
		"SEV3 → SEV2", "## Lead-up\n\nChanges on the affected services before impact:\n- 2024-03-12 13:42 UTC payments-api"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q\n%s", want, md)
		}
	}
	// Starred scope: only the starred entry of the timeline.
	if !strings.Contains(md, "★ Connection pool") || strings.Contains(md, "| Rolled back v2.14.0 |") {
		t.Errorf("timeline scope not applied")
	}
	pm.TimelineScope = "all"
	if md := firebreak.PostmortemMarkdown(&pm); !strings.Contains(md, "| Rolled back v2.14.0 | dev |") {
		t.Errorf("all entries not exported")
	}
}
