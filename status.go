package firebreak

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The public status page. Admins choose which services are public components (StatusPageConfig); everything the
// page shows is derived from them:
//
//   - a component is under maintenance while an active maintenance window covers its service; otherwise its state
//     is the worst open incident affecting it (SEV1 → major outage, SEV2 → partial outage, SEV3 → degraded
//     performance); otherwise it is operational;
//   - the incidents shown are those affecting a public component (never a cancelled one), with only their
//     external updates (audience external or all); their statuses use Statuspage's vocabulary (detected and
//     investigating → investigating, identified → identified, mitigating → monitoring, resolved and closed →
//     resolved);
//   - nothing else of an incident is public: no summary, timeline, notes, internal updates, people or other
//     services.

// StatusHistoryDays is how far back the status page shows resolved incidents.
const StatusHistoryDays = 90

// MaxStatusComponents is the most components a status page may have.
const MaxStatusComponents = 200

// ComponentState is a public component's state, named as Statuspage names them.
type ComponentState string

const (
	ComponentOperational       ComponentState = "operational"
	ComponentDegraded          ComponentState = "degraded_performance"
	ComponentPartialOutage     ComponentState = "partial_outage"
	ComponentMajorOutage       ComponentState = "major_outage"
	ComponentUnderMaintenance  ComponentState = "under_maintenance"
	statusIndicatorNone                       = "none"
	statusIndicatorMinor                      = "minor"
	statusIndicatorMajor                      = "major"
	statusIndicatorCritical                   = "critical"
	statusIndicatorMaintenance                = "maintenance"
)

// rank orders states from best to worst; maintenance ranks above operational but below any outage.
func (s ComponentState) rank() int {
	switch s {
	case ComponentUnderMaintenance:
		return 1
	case ComponentDegraded:
		return 2
	case ComponentPartialOutage:
		return 3
	case ComponentMajorOutage:
		return 4
	}
	return 0
}

// Label is the state as people read it.
func (s ComponentState) Label() string {
	switch s {
	case ComponentDegraded:
		return "Degraded performance"
	case ComponentPartialOutage:
		return "Partial outage"
	case ComponentMajorOutage:
		return "Major outage"
	case ComponentUnderMaintenance:
		return "Under maintenance"
	}
	return "Operational"
}

// SeverityComponentState is what an open incident of severity sev means for the components it affects.
func SeverityComponentState(sev Severity) ComponentState {
	switch sev {
	case SEV1:
		return ComponentMajorOutage
	case SEV2:
		return ComponentPartialOutage
	}
	return ComponentDegraded
}

// SeverityImpact is Statuspage's impact of an incident of severity sev (critical, major, minor).
func SeverityImpact(sev Severity) string {
	switch sev {
	case SEV1:
		return statusIndicatorCritical
	case SEV2:
		return statusIndicatorMajor
	}
	return statusIndicatorMinor
}

// PublicStatus is an incident status in Statuspage's vocabulary: investigating, identified, monitoring (our
// mitigating) or resolved.
func PublicStatus(s Status) string {
	switch s {
	case StatusIdentified:
		return "identified"
	case StatusMitigating:
		return "monitoring"
	case StatusResolved, StatusClosed, StatusCancelled:
		return "resolved"
	}
	return "investigating"
}

// PublicStatusLabel is PublicStatus as people read it ("Monitoring" for mitigating).
func PublicStatusLabel(s Status) string {
	p := PublicStatus(s)
	return strings.ToUpper(p[:1]) + p[1:]
}

// StatusComponent is a service shown on the status page.
type StatusComponent struct {
	// ID is the service's ID (stable across renames of the service).
	ID string `json:"id"`
	// Service is the service's slug.
	Service string `json:"service"`
	// Name is the public name (default: the service's name).
	Name string `json:"name"`
	// Group gathers components under a heading; empty: none.
	Group       string    `json:"group"`
	Description string    `json:"description"`
	Position    int       `json:"position"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// StatusComponentInput names a service to show; the list order is the display order.
type StatusComponentInput struct {
	Service     string `json:"service"`
	Name        string `json:"name,omitempty"`
	Group       string `json:"group,omitempty"`
	Description string `json:"description,omitempty"`
}

// StatusPageConfig is the status page's name and its components, in order.
type StatusPageConfig struct {
	// Name is the page's title (default "Status").
	Name       string            `json:"name"`
	Components []StatusComponent `json:"components"`
	UpdatedAt  time.Time         `json:"updated_at"`
	// Version increases with every change; the HTTP layer serves it as the ETag.
	Version int64 `json:"version"`
}

// StatusPageInput replaces the status page configuration.
type StatusPageInput struct {
	Name       string                 `json:"name"`
	Components []StatusComponentInput `json:"components"`
}

// DefaultStatusPageName is the page's title when none is configured.
const DefaultStatusPageName = "Status"

// Validate checks the input: a one-line name, each service at most once, one-line names and groups.
func (in *StatusPageInput) Validate() error {
	var v Validation
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" {
		in.Name = DefaultStatusPageName
	}
	validateTitle(&v, "name", in.Name)
	if len(in.Components) > MaxStatusComponents {
		v.Add("components", "at most %d components", MaxStatusComponents)
	}
	seen := map[string]bool{}
	for i := range in.Components {
		c := &in.Components[i]
		f := "components[" + strconv.Itoa(i) + "]"
		c.Service = strings.TrimSpace(c.Service)
		c.Name = strings.TrimSpace(c.Name)
		c.Group = strings.TrimSpace(c.Group)
		c.Description = strings.TrimSpace(c.Description)
		switch {
		case c.Service == "":
			v.Add(f+".service", "is required")
		case seen[c.Service]:
			v.Add(f+".service", "names %q twice", c.Service)
		}
		seen[c.Service] = true
		for _, x := range []struct{ field, val string }{{"name", c.Name}, {"group", c.Group}} {
			if strings.ContainsAny(x.val, "\r\n") {
				v.Add(f+"."+x.field, "must be one line")
			} else {
				v.Text(f+"."+x.field, x.val, MaxNameLen)
			}
		}
		v.Text(f+".description", c.Description, MaxTitleLen*5)
	}
	return v.Err()
}

// StatusIncident is what the public may know of an incident: no summary, people, notes or internal updates.
type StatusIncident struct {
	ID        string   `json:"id"`
	Reference string   `json:"reference"`
	Title     string   `json:"title"`
	Severity  Severity `json:"severity"`
	Status    Status   `json:"status"`
	// Services are the public components' slugs it affects (never a non-public service).
	Services []string `json:"services"`
	// StartedAt is when it was declared (or created).
	StartedAt   time.Time  `json:"started_at"`
	MitigatedAt *time.Time `json:"mitigated_at"`
	ResolvedAt  *time.Time `json:"resolved_at"`
	// Updates are its external updates (audience external or all), oldest first, without their authors.
	Updates []StatusUpdate `json:"updates"`
}

// UpdatedAt is the last public moment of the incident: its start, its last external update or its resolution.
func (i *StatusIncident) UpdatedAt() time.Time {
	t := i.StartedAt
	for _, u := range i.Updates {
		if u.CreatedAt.After(t) {
			t = u.CreatedAt
		}
	}
	if i.ResolvedAt != nil && i.ResolvedAt.After(t) {
		t = *i.ResolvedAt
	}
	return t
}

// StatusData is the raw material of the status page, read at one moment.
type StatusData struct {
	Config StatusPageConfig
	// Incidents affecting public components: the open ones and those resolved since the history start, newest
	// first.
	Incidents []StatusIncident
	// Maintenance windows of public components that have not ended (and were not cancelled), soonest first;
	// their Services list only public components.
	Maintenance []MaintenanceWindow
}

// StatusPageService keeps the status page's configuration and reads what the page shows.
//
// Errors: EInvalid (naming the field; unknown services); EPreconditionFailed (stale ifVersion).
type StatusPageService interface {
	GetStatusPageConfig(ctx context.Context) (*StatusPageConfig, error)
	// SetStatusPageConfig replaces the configuration; ifVersion, when not 0, must be its version.
	SetStatusPageConfig(ctx context.Context, in StatusPageInput, ifVersion int64) (*StatusPageConfig, error)
	// StatusData reads the page's material at now: incidents resolved before now − StatusHistoryDays are left
	// out.
	StatusData(ctx context.Context, now time.Time) (*StatusData, error)
}

// ComponentStatus is a component with its state at a moment.
type ComponentStatus struct {
	StatusComponent
	State ComponentState `json:"status"`
	// Since is when the state last changed, as far as the page knows (the start of the incident or window that
	// sets it; for an operational component, its configuration time or the last resolution).
	Since time.Time `json:"since"`
}

// ComponentGroup is a heading with its components (the group "" holds ungrouped ones).
type ComponentGroup struct {
	Name       string
	State      ComponentState
	Components []ComponentStatus
}

// StatusPage is the status page at a moment, derived from StatusData.
type StatusPage struct {
	Name        string
	At          time.Time
	UpdatedAt   time.Time
	Indicator   string // none, minor, major, critical, maintenance
	Description string // "All Systems Operational", …
	Components  []ComponentStatus
	Groups      []ComponentGroup
	Open        []StatusIncident // newest first
	Resolved    []StatusIncident // newest first
	// Maintenance: active windows first, then scheduled ones, soonest first.
	Maintenance []MaintenanceWindow
}

// BuildStatusPage derives the page at now from d.
func BuildStatusPage(d *StatusData, now time.Time) *StatusPage {
	p := &StatusPage{Name: d.Config.Name, At: now, UpdatedAt: d.Config.UpdatedAt}
	if p.Name == "" {
		p.Name = DefaultStatusPageName
	}
	bump := func(t time.Time) {
		if t.After(p.UpdatedAt) {
			p.UpdatedAt = t
		}
	}
	at := map[string]int{}
	for i, c := range d.Config.Components {
		at[c.Service] = i
		p.Components = append(p.Components, ComponentStatus{StatusComponent: c, State: ComponentOperational,
			Since: c.UpdatedAt})
	}
	set := func(slug string, st ComponentState, since time.Time) {
		i, ok := at[slug]
		if !ok {
			return
		}
		c := &p.Components[i]
		if st.rank() > c.State.rank() || (st == c.State && since.Before(c.Since) && st != ComponentOperational) {
			c.State, c.Since = st, since
		}
	}
	for _, inc := range d.Incidents {
		if inc.Status == StatusCancelled {
			continue
		}
		bump(inc.UpdatedAt())
		if inc.Status.Open() {
			p.Open = append(p.Open, inc)
		} else {
			p.Resolved = append(p.Resolved, inc)
		}
	}
	for _, w := range d.Maintenance {
		st := w.StateAt(now)
		if st != MaintenanceActive && st != MaintenanceScheduled {
			continue
		}
		p.Maintenance = append(p.Maintenance, w)
		bump(w.UpdatedAt)
		if st == MaintenanceActive {
			bump(w.StartsAt)
		}
	}
	if p.UpdatedAt.IsZero() { // a page that was never configured and has nothing on it
		p.UpdatedAt = now
	}
	newest := func(a, b StatusIncident) int { return b.StartedAt.Compare(a.StartedAt) }
	slices.SortStableFunc(p.Open, newest)
	slices.SortStableFunc(p.Resolved, newest)
	slices.SortStableFunc(p.Maintenance, func(a, b MaintenanceWindow) int {
		aa, ba := a.StateAt(now) == MaintenanceActive, b.StateAt(now) == MaintenanceActive
		if aa != ba {
			if aa {
				return -1
			}
			return 1
		}
		return a.StartsAt.Compare(b.StartsAt)
	})
	// Operational components: since the later of their configuration and the last resolution affecting them.
	for _, inc := range p.Resolved {
		if inc.ResolvedAt == nil {
			continue
		}
		for _, s := range inc.Services {
			if i, ok := at[s]; ok && inc.ResolvedAt.After(p.Components[i].Since) {
				p.Components[i].Since = *inc.ResolvedAt
			}
		}
	}
	for _, inc := range p.Open {
		for _, s := range inc.Services {
			set(s, SeverityComponentState(inc.Severity), inc.StartedAt)
		}
	}
	// Maintenance wins over incidents: the work is the expected cause.
	for _, w := range p.Maintenance {
		if w.StateAt(now) != MaintenanceActive {
			continue
		}
		for _, s := range w.Services {
			if i, ok := at[s]; ok {
				p.Components[i].State, p.Components[i].Since = ComponentUnderMaintenance, w.StartsAt
			}
		}
	}
	worst := ComponentOperational
	for _, c := range p.Components {
		if c.State.rank() > worst.rank() {
			worst = c.State
		}
		bump(c.Since)
	}
	switch worst {
	case ComponentMajorOutage:
		p.Indicator, p.Description = statusIndicatorCritical, "Major System Outage"
	case ComponentPartialOutage:
		p.Indicator, p.Description = statusIndicatorMajor, "Partial System Outage"
	case ComponentDegraded:
		p.Indicator, p.Description = statusIndicatorMinor, "Minor Service Outage"
	case ComponentUnderMaintenance:
		p.Indicator, p.Description = statusIndicatorMaintenance, "Service Under Maintenance"
	default:
		p.Indicator, p.Description = statusIndicatorNone, "All Systems Operational"
	}
	groupAt := map[string]int{}
	for _, c := range p.Components {
		i, ok := groupAt[c.Group]
		if !ok {
			i = len(p.Groups)
			groupAt[c.Group] = i
			p.Groups = append(p.Groups, ComponentGroup{Name: c.Group, State: ComponentOperational})
		}
		g := &p.Groups[i]
		g.Components = append(g.Components, c)
		if c.State.rank() > g.State.rank() {
			g.State = c.State
		}
	}
	return p
}

// StatusDay is one day of the page's history: the incidents that started on it.
type StatusDay struct {
	Day       time.Time
	Incidents []StatusIncident
}

// History groups the resolved incidents by the UTC day they started, newest day first.
func (p *StatusPage) History() []StatusDay {
	var out []StatusDay
	for _, inc := range p.Resolved {
		d := inc.StartedAt.UTC().Truncate(24 * time.Hour)
		if n := len(out); n > 0 && out[n-1].Day.Equal(d) {
			out[n-1].Incidents = append(out[n-1].Incidents, inc)
			continue
		}
		out = append(out, StatusDay{Day: d, Incidents: []StatusIncident{inc}})
	}
	return out
}
