package web

import (
	"fmt"
	"html/template"
	"slices"
	"strings"
	"time"

	"github.com/firebreak/firebreak"
)

// templateFuncs are the helpers the console templates use. They only format; they never reach the store.
func templateFuncs(static *staticAssets) template.FuncMap {
	return template.FuncMap{
		"static": func(name string) string {
			if static == nil {
				return "/static/" + name
			}
			return static.url(name)
		},
		"sevClass":    func(s firebreak.Severity) string { return strings.ToLower(string(s)) },
		"statusLabel": statusLabel,
		"statusClass": func(s firebreak.Status) string { return "st-" + string(s) },
		"statusVerb":  statusVerb,
		"transitionLabel": func(from, to firebreak.Status) string {
			if from == firebreak.StatusResolved && to == firebreak.StatusInvestigating {
				return "Reopen"
			}
			return statusVerb(to)
		},
		"isOpen":     func(s firebreak.Status) bool { return s.Open() },
		"roleTitle":  func(r firebreak.Role) string { return r.Title() },
		"kindLabel":  kindLabel,
		"kindIcon":   kindIcon,
		"icon":       icon,
		"timeISO":    func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"timeShort":  timeShort,
		"timeFull":   func(t time.Time) string { return t.UTC().Format("Mon 2 Jan 2006, 15:04:05 UTC") },
		"timeClock":  func(t time.Time) string { return t.UTC().Format("15:04:05") },
		"timeInput":  func(t time.Time) string { return t.UTC().Format("2006-01-02T15:04") },
		"unixMilli":  func(t time.Time) int64 { return t.UnixMilli() },
		"deref":      func(t *time.Time) time.Time { return *t },
		"duration":   fmtDuration,
		"target":     fmtTarget,
		"backdated":  backdated,
		"join":       strings.Join,
		"string":     func(v any) string { return fmt.Sprint(v) },
		"has":        func(list []string, s string) bool { return slices.Contains(list, s) },
		"roles":      func() []firebreak.Role { return firebreak.Roles },
		"severities": func() []firebreak.Severity { return firebreak.Severities },
		"statuses":   func() []firebreak.Status { return firebreak.Statuses },
		"actionStatuses": func() []firebreak.ActionItemStatus {
			return firebreak.ActionItemStatuses
		},
		"actionLabel": actionLabel,
		"userRoles": func() []firebreak.UserRole {
			return []firebreak.UserRole{firebreak.RoleViewer, firebreak.RoleResponder, firebreak.RoleAdmin}
		},
		"roleLabel": func(r firebreak.UserRole) string {
			switch r {
			case firebreak.RoleViewer:
				return "Viewer: reads incidents"
			case firebreak.RoleResponder:
				return "Responder: works on incidents"
			case firebreak.RoleAdmin:
				return "Admin: also users, tokens, services"
			}
			return string(r)
		},
		"tokenExpiries": func() []struct{ Days, Label string } { return tokenExpiries },
		"priorities":    func() []firebreak.Priority { return firebreak.Priorities },
		"kinds":         func() []firebreak.ActionItemKind { return firebreak.ActionItemKinds },
		"audienceLabel": func(a firebreak.Audience) string {
			switch a {
			case firebreak.AudienceExternal:
				return "External"
			case firebreak.AudienceAll:
				return "Internal + external"
			}
			return "Internal"
		},
		"dict": func(kv ...any) (map[string]any, error) {
			if len(kv)%2 != 0 {
				return nil, fmt.Errorf("dict needs pairs")
			}
			m := make(map[string]any, len(kv)/2)
			for i := 0; i < len(kv); i += 2 {
				k, ok := kv[i].(string)
				if !ok {
					return nil, fmt.Errorf("dict keys must be strings")
				}
				m[k] = kv[i+1]
			}
			return m, nil
		},
		"initials": func(name string) string {
			name = strings.TrimSpace(name)
			if name == "" {
				return "?"
			}
			parts := strings.FieldsFunc(name, func(r rune) bool { return r == ' ' || r == '.' || r == '_' || r == '-' })
			out := ""
			for _, p := range parts {
				out += strings.ToUpper(string([]rune(p)[:1]))
				if len(out) == 2 {
					break
				}
			}
			if out == "" {
				out = strings.ToUpper(string([]rune(name)[:1]))
			}
			return out
		},
	}
}

func statusLabel(s firebreak.Status) string {
	if s == "" {
		return ""
	}
	return strings.ToUpper(string(s[:1])) + string(s[1:])
}

// statusVerb is the label of the button that moves an incident to s.
func statusVerb(s firebreak.Status) string {
	switch s {
	case firebreak.StatusInvestigating:
		return "Investigating"
	case firebreak.StatusIdentified:
		return "Identified"
	case firebreak.StatusMitigating:
		return "Mitigating"
	case firebreak.StatusResolved:
		return "Resolve"
	case firebreak.StatusClosed:
		return "Close"
	case firebreak.StatusCancelled:
		return "Cancel incident"
	}
	return statusLabel(s)
}

func actionLabel(s firebreak.ActionItemStatus) string {
	switch s {
	case firebreak.ActionInProgress:
		return "In progress"
	case firebreak.ActionNotDoing:
		return "Not doing"
	}
	return statusLabel(firebreak.Status(s))
}

func kindLabel(k firebreak.EventKind) string {
	switch k {
	case firebreak.EventDeclared:
		return "Declared"
	case firebreak.EventStatusChanged:
		return "Status"
	case firebreak.EventSeverityChanged:
		return "Severity"
	case firebreak.EventRoleAssigned:
		return "Role"
	case firebreak.EventNote:
		return "Note"
	case firebreak.EventUpdatePosted:
		return "Update"
	case firebreak.EventMilestoneChanged:
		return "Milestone"
	case firebreak.EventTitleChanged:
		return "Title"
	case firebreak.EventSummaryChanged:
		return "Summary"
	case firebreak.EventServicesChanged:
		return "Services"
	case firebreak.EventActionItemAdded, firebreak.EventActionItemChanged:
		return "Action item"
	case firebreak.EventAlertAttached:
		return "Alert"
	case firebreak.EventAlertsResolved:
		return "Alerts resolved"
	case firebreak.EventRecurrenceWarning:
		return "Recurrence?"
	case firebreak.EventEscalationPaged:
		return "Paged"
	case firebreak.EventEscalationStopped:
		return "Escalation stopped"
	case firebreak.EventEscalationExhausted:
		return "Escalation exhausted"
	case firebreak.EventEscalationCriterion:
		return "Escalation"
	case firebreak.EventChangeProposed:
		return "Change proposed"
	case firebreak.EventChangeApproved:
		return "Change approved"
	case firebreak.EventChangeRejected:
		return "Change rejected"
	case firebreak.EventChangeWithdrawn:
		return "Change withdrawn"
	}
	return string(k)
}

func kindIcon(k firebreak.EventKind) string {
	switch k {
	case firebreak.EventDeclared:
		return "flag"
	case firebreak.EventStatusChanged:
		return "shuffle"
	case firebreak.EventSeverityChanged:
		return "alert"
	case firebreak.EventRoleAssigned:
		return "user"
	case firebreak.EventNote:
		return "note"
	case firebreak.EventUpdatePosted:
		return "megaphone"
	case firebreak.EventMilestoneChanged:
		return "clock"
	case firebreak.EventTitleChanged, firebreak.EventSummaryChanged:
		return "edit"
	case firebreak.EventServicesChanged:
		return "layers"
	case firebreak.EventActionItemAdded, firebreak.EventActionItemChanged:
		return "check"
	case firebreak.EventAlertAttached, firebreak.EventAlertsResolved, firebreak.EventRecurrenceWarning:
		return "alert"
	case firebreak.EventEscalationPaged, firebreak.EventEscalationStopped, firebreak.EventEscalationExhausted,
		firebreak.EventEscalationCriterion:
		return "megaphone"
	case firebreak.EventChangeProposed, firebreak.EventChangeWithdrawn:
		return "shuffle"
	case firebreak.EventChangeApproved, firebreak.EventChangeRejected:
		return "check"
	}
	return "dot"
}

// iconPaths are 24×24 stroke icons drawn for Firebreak (no icon font, no external requests).
var iconPaths = map[string]string{
	"flag":      `<path d="M5 21V4"/><path d="M5 4h11l-2 4 2 4H5"/>`,
	"shuffle":   `<path d="M4 7h13"/><path d="M14 4l3 3-3 3"/><path d="M20 17H7"/><path d="M10 14l-3 3 3 3"/>`,
	"alert":     `<path d="M12 3l10 18H2z"/><path d="M12 10v4"/><path d="M12 17.5v.5"/>`,
	"user":      `<circle cx="12" cy="8" r="4"/><path d="M4 21c1-4 4-6 8-6s7 2 8 6"/>`,
	"note":      `<path d="M5 4h14v11l-5 5H5z"/><path d="M14 20v-5h5"/><path d="M8 9h8"/><path d="M8 13h4"/>`,
	"megaphone": `<path d="M3 10v4h4l9 5V5L7 10z"/><path d="M19 9a4 4 0 0 1 0 6"/>`,
	"clock":     `<circle cx="12" cy="12" r="9"/><path d="M12 7v5l3 3"/>`,
	"edit":      `<path d="M4 20h4L19 9l-4-4L4 16z"/><path d="M13 7l4 4"/>`,
	"layers":    `<path d="M12 3l9 5-9 5-9-5z"/><path d="M3 13l9 5 9-5"/>`,
	"check":     `<rect x="4" y="4" width="16" height="16" rx="2"/><path d="M8 12l3 3 5-6"/>`,
	"dot":       `<circle cx="12" cy="12" r="3"/>`,
	"star":      `<path d="M12 3l2.8 5.8 6.2.9-4.5 4.4 1.1 6.3L12 17.4l-5.6 3 1.1-6.3L3 9.7l6.2-.9z"/>`,
	"plus":      `<path d="M12 5v14"/><path d="M5 12h14"/>`,
	"logout":    `<path d="M15 4h4v16h-4"/><path d="M10 8l-4 4 4 4"/><path d="M6 12h10"/>`,
	"fire":      `<path d="M12 3c1 4 6 6 6 11a6 6 0 0 1-12 0c0-3 2-4 2-7 2 1 3 3 3 5 1-2 1-6 1-9z"/>`,
	"link":      `<path d="M10 14a4 4 0 0 0 6 0l3-3a4 4 0 0 0-6-6l-1 1"/><path d="M14 10a4 4 0 0 0-6 0l-3 3a4 4 0 0 0 6 6l1-1"/>`,
	"search":    `<circle cx="11" cy="11" r="6"/><path d="M20 20l-4.5-4.5"/>`,
	"shield":    `<path d="M12 3l8 3v6c0 4.5-3.4 8.3-8 9-4.6-.7-8-4.5-8-9V6z"/><path d="M9 12l2 2 4-4"/>`,
	"key":       `<circle cx="8" cy="15" r="4"/><path d="M11 12l9-9"/><path d="M16 7l3 3"/><path d="M14 9l2 2"/>`,
}

// icon returns an inline SVG icon. The markup is a fixed constant, never user input.
func icon(name string) template.HTML {
	p, ok := iconPaths[name]
	if !ok {
		p = iconPaths["dot"]
	}
	return template.HTML(`<svg class="icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false">` + p + `</svg>`)
}

func timeShort(t time.Time) string {
	return t.UTC().Format("2 Jan 15:04 UTC")
}

// fmtDuration writes a duration the way responders say it: 45s, 12m, 3h 05m, 2d 4h.
func fmtDuration(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh %02dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd %dh", int(d.Hours())/24, int(d.Hours())%24)
}

// fmtTarget writes a response target: "5 min", "1 h", "1 h 30 min".
func fmtTarget(d time.Duration) string {
	if d <= 0 {
		return "—"
	}
	if d < time.Minute {
		return fmt.Sprintf("%d s", int(d.Seconds()))
	}
	h, m := int(d.Hours()), int(d.Minutes())%60
	switch {
	case h == 0:
		return fmt.Sprintf("%d min", m)
	case m == 0:
		return fmt.Sprintf("%d h", h)
	}
	return fmt.Sprintf("%d h %d min", h, m)
}

// backdated reports whether an event was recorded noticeably after it happened.
func backdated(ev firebreak.TimelineEvent) bool {
	return ev.RecordedAt.Sub(ev.OccurredAt) > time.Minute
}

// incidentStart is when an incident's clock starts: impact, else detection, else declaration.
func incidentStart(inc *firebreak.Incident) time.Time {
	m := inc.Milestones
	for _, t := range []*time.Time{m.ImpactStartedAt, m.DetectedAt, m.DeclaredAt} {
		if t != nil {
			return *t
		}
	}
	return inc.CreatedAt
}

// incidentDuration is how long the incident has lasted: from its start to resolution (or now while open).
func incidentDuration(inc *firebreak.Incident, now time.Time) (d time.Duration, ongoing bool) {
	start := incidentStart(inc)
	switch {
	case inc.Milestones.ResolvedAt != nil:
		return inc.Milestones.ResolvedAt.Sub(start), false
	case inc.Status.Open():
		return now.Sub(start), true
	}
	return inc.UpdatedAt.Sub(start), false
}

// milestoneView is one row of the milestones panel.
type milestoneView struct {
	Name    string
	Label   string
	At      *time.Time
	Elapsed string // since the incident's start
	// Clearable is false for declared_at and detected_at, which every incident has.
	Clearable bool
}

var milestoneLabels = map[string]string{
	"impact_started_at": "Impact started",
	"detected_at":       "Detected",
	"declared_at":       "Declared",
	"acknowledged_at":   "Acknowledged",
	"mitigated_at":      "Mitigated",
	"resolved_at":       "Resolved",
	"closed_at":         "Closed",
}

func milestoneViews(inc *firebreak.Incident) []milestoneView {
	start := incidentStart(inc)
	out := make([]milestoneView, 0, len(firebreak.MilestoneNames))
	m := inc.Milestones
	started := false
	for _, name := range firebreak.MilestoneNames {
		t := *m.Field(name)
		mv := milestoneView{Name: name, Label: milestoneLabels[name], At: t,
			Clearable: name != "declared_at" && name != "detected_at"}
		if t != nil {
			if d := t.Sub(start); d > 0 || started {
				mv.Elapsed = "+" + fmtDuration(d)
			} else {
				mv.Elapsed = "start"
				started = true
			}
		}
		out = append(out, mv)
	}
	return out
}
