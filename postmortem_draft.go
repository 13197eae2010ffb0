package firebreak

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// DraftSources is everything a post-mortem draft is pre-filled from.
type DraftSources struct {
	Incident Incident
	Timeline []TimelineEvent // in time order
	Updates  []StatusUpdate
	Alerts   []PostmortemAlert
	// Changes on the affected services shortly before impact, most recent first (ChangesBefore).
	Changes []Change
}

// DraftPostmortem builds the draft post-mortem of an incident: the facts (severity history, services,
// responders and their roles, milestones and durations, timeline, status updates, alerts, changes) and the
// sections that can be pre-filled from them (summary, impact duration, lead-up, detection, response, recovery).
// The narrative it writes states facts only, so that it passes the blameless lint; the analysis sections
// (trigger, contributing factors, five whys, lessons) are left to people. It is a pure function: the store gives
// the result an ID.
func DraftPostmortem(src DraftSources, actor string, now time.Time) Postmortem {
	inc := src.Incident
	now = now.UTC()
	f := PostmortemFacts{
		Title: inc.Title, Severity: inc.Severity, Services: slices.Clone(inc.Services),
		Milestones: inc.Milestones, Durations: Durations(inc.Milestones),
		Timeline: slices.Clone(src.Timeline), Updates: slices.Clone(src.Updates),
		Alerts: slices.Clone(src.Alerts), Changes: slices.Clone(src.Changes), GeneratedAt: now,
	}
	if f.Services == nil {
		f.Services = []string{}
	}
	for _, p := range []*[]TimelineEvent{&f.Timeline} {
		if *p == nil {
			*p = []TimelineEvent{}
		}
	}
	if f.Updates == nil {
		f.Updates = []StatusUpdate{}
	}
	if f.Alerts == nil {
		f.Alerts = []PostmortemAlert{}
	}
	if f.Changes == nil {
		f.Changes = []Change{}
	}
	f.SeverityHistory = severityHistory(inc, src.Timeline)
	f.Responders = responders(inc, src.Timeline)

	pm := Postmortem{
		IncidentID: inc.ID, IncidentRef: inc.Ref(), Title: inc.Title, Status: PostmortemDraft,
		Facts: f, Reviewers: []Reviewer{}, ActionItems: []ActionItem{}, Lint: []LintFinding{},
		Overrides: []LintOverride{}, CreatedBy: actor, CreatedAt: now, UpdatedAt: now, Version: 1,
	}
	s := &pm.Sections
	s.ContributingFactors = []ContributingFactor{}
	s.FiveWhys = []WhyChain{}
	s.WentWell, s.WentPoorly, s.GotLucky, s.Lessons = []string{}, []string{}, []string{}, []string{}
	s.TimelineScope = "all"
	if slices.ContainsFunc(src.Timeline, func(e TimelineEvent) bool { return e.Starred }) {
		s.TimelineScope = "starred"
	}

	m := inc.Milestones
	svc := "no service recorded"
	if len(inc.Services) > 0 {
		svc = strings.Join(inc.Services, ", ")
	}
	s.Summary = fmt.Sprintf("%s (%s, %s): %s.", inc.Ref(), maxSeverity(f.SeverityHistory, inc.Severity), svc,
		strings.TrimSuffix(inc.Title, "."))
	if strings.TrimSpace(inc.Summary) != "" {
		s.Summary += " " + strings.TrimSpace(inc.Summary)
	}

	// Impact: from impact start (else detection) to mitigation (else resolution).
	start := m.ImpactStartedAt
	if start == nil {
		start = m.DetectedAt
	}
	end := m.MitigatedAt
	if end == nil {
		end = m.ResolvedAt
	}
	if start != nil && end != nil && !end.Before(*start) {
		d := int64(end.Sub(*start) / time.Second)
		s.Impact.DurationSeconds = &d
	}
	s.Impact.CustomerFacing = slices.ContainsFunc(src.Updates, func(u StatusUpdate) bool { return u.Audience.External() })

	// Lead-up: the changes before impact.
	if len(src.Changes) > 0 {
		var b strings.Builder
		b.WriteString("Changes on the affected services before impact:\n")
		ch := slices.Clone(src.Changes)
		sort.SliceStable(ch, func(i, j int) bool { return ch[i].OccurredAt.Before(ch[j].OccurredAt) })
		for _, c := range ch {
			fmt.Fprintf(&b, "- %s %s: %s", pmTime(c.OccurredAt), c.Service, oneLine(c.Summary))
			if c.Source != "" {
				fmt.Fprintf(&b, " (%s)", oneLine(c.Source))
			}
			b.WriteByte('\n')
		}
		s.LeadUp = strings.TrimSuffix(b.String(), "\n")
	}

	// Detection.
	var det []string
	if m.ImpactStartedAt != nil {
		det = append(det, "Impact started at "+pmTime(*m.ImpactStartedAt)+".")
	}
	if m.DetectedAt != nil {
		line := "Detected at " + pmTime(*m.DetectedAt)
		if f.Durations.DetectSeconds != nil {
			line += " (" + fmtDuration(*f.Durations.DetectSeconds) + " after impact started)"
		}
		det = append(det, line+".")
	}
	if len(src.Alerts) > 0 {
		first := src.Alerts[0]
		for _, a := range src.Alerts {
			if a.FirstSeenAt.Before(first.FirstSeenAt) {
				first = a
			}
		}
		det = append(det, fmt.Sprintf("%d alert(s) attached; the first, %q, fired at %s.", len(src.Alerts),
			oneLine(first.Summary), pmTime(first.FirstSeenAt)))
	} else {
		det = append(det, "No alert was attached to the incident.")
	}
	if m.DeclaredAt != nil {
		det = append(det, "Declared at "+pmTime(*m.DeclaredAt)+".")
	}
	s.Detection.Narrative = strings.Join(det, " ")

	// Response: who held which role, acknowledgement.
	var resp []string
	if m.AcknowledgedAt != nil {
		line := "Acknowledged at " + pmTime(*m.AcknowledgedAt)
		if f.Durations.AcknowledgeSeconds != nil {
			line += " (" + fmtDuration(*f.Durations.AcknowledgeSeconds) + " after detection)"
		}
		resp = append(resp, line+".")
	}
	for _, r := range f.Responders {
		if len(r.Roles) == 0 {
			continue
		}
		var titles []string
		for _, role := range r.Roles {
			titles = append(titles, role.Title())
		}
		resp = append(resp, fmt.Sprintf("%s: %s.", strings.Join(titles, ", "), r.User))
	}
	if n := len(src.Updates); n > 0 {
		resp = append(resp, fmt.Sprintf("%d status update(s) posted.", n))
	}
	s.Response = strings.Join(resp, " ")

	// Recovery.
	var rec []string
	if m.MitigatedAt != nil {
		line := "Mitigated at " + pmTime(*m.MitigatedAt)
		if f.Durations.MitigateSeconds != nil {
			line += " (" + fmtDuration(*f.Durations.MitigateSeconds) + " after impact started)"
		}
		rec = append(rec, line+".")
	}
	if m.ResolvedAt != nil {
		line := "Resolved at " + pmTime(*m.ResolvedAt)
		if f.Durations.ResolveSeconds != nil {
			line += " (" + fmtDuration(*f.Durations.ResolveSeconds) + " after impact started)"
		}
		rec = append(rec, line+".")
	}
	s.Recovery = strings.Join(rec, " ")
	return pm
}

func severityHistory(inc Incident, tl []TimelineEvent) []SeverityChange {
	out := []SeverityChange{}
	for _, e := range tl {
		switch e.Kind {
		case EventDeclared:
			if sv := Severity(e.Data["severity"]); sv.Valid() {
				out = append(out, SeverityChange{At: e.OccurredAt, To: sv, Actor: e.Actor})
			}
		case EventSeverityChanged:
			out = append(out, SeverityChange{At: e.OccurredAt, From: Severity(e.Data["from"]),
				To: Severity(e.Data["to"]), Actor: e.Actor})
		}
	}
	if len(out) == 0 {
		at := inc.CreatedAt
		if inc.Milestones.DeclaredAt != nil {
			at = *inc.Milestones.DeclaredAt
		}
		out = append(out, SeverityChange{At: at, To: inc.Severity, Actor: inc.CreatedBy})
	}
	return out
}

// maxSeverity is the most severe severity the incident had.
func maxSeverity(h []SeverityChange, cur Severity) Severity {
	best := cur
	for _, c := range h {
		if c.To.Valid() && slices.Index(Severities, c.To) < slices.Index(Severities, best) {
			best = c.To
		}
	}
	return best
}

// responders lists the people who acted, in order of first action, with every role they held.
func responders(inc Incident, tl []TimelineEvent) []Responder {
	out := []Responder{}
	idx := map[string]int{}
	add := func(user string, role Role) {
		user = strings.TrimSpace(user)
		if user == "" || user == "system" {
			return
		}
		i, ok := idx[user]
		if !ok {
			i = len(out)
			idx[user] = i
			out = append(out, Responder{User: user, Roles: []Role{}})
		}
		if role != "" && !slices.Contains(out[i].Roles, role) {
			out[i].Roles = append(out[i].Roles, role)
		}
	}
	for _, e := range tl {
		if e.Kind == EventRoleAssigned {
			add(e.Data["user"], Role(e.Data["role"]))
		}
		add(e.Actor, "")
	}
	for _, r := range Roles {
		if u := inc.Roles[r]; u != "" {
			add(u, r)
		}
	}
	return out
}

func pmTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }

func fmtDuration(sec int64) string {
	d := time.Duration(sec) * time.Second
	h, m, s := int64(d/time.Hour), int64(d%time.Hour/time.Minute), int64(d%time.Minute/time.Second)
	switch {
	case h > 0:
		return fmt.Sprintf("%dh %02dm", h, m)
	case m > 0:
		return fmt.Sprintf("%dm %02ds", m, s)
	}
	return fmt.Sprintf("%ds", s)
}

// FormatSeconds renders a duration in seconds for people ("1h 05m", "4m 10s", "–" for nil).
func FormatSeconds(sec *int64) string {
	if sec == nil {
		return "–"
	}
	return fmtDuration(*sec)
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
