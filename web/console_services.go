package web

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/firebreak/firebreak"
)

type serviceRow struct {
	Svc   firebreak.Service
	Open  int
	Worst firebreak.Severity // the most severe open incident's severity, if any
}

type serviceListPage struct {
	Rows []serviceRow
}

// openIncidents reads every open incident (there are few at any time).
func (c *console) openIncidents(ctx context.Context, service string) ([]firebreak.Incident, error) {
	f := firebreak.IncidentFilter{Open: true, Service: service, Limit: firebreak.MaxLimit}
	return allPages(func(cursor string) (*firebreak.Page[firebreak.Incident], error) {
		f.Cursor = cursor
		return c.s.cfg.Incidents.ListIncidents(ctx, f)
	})
}

func moreSevere(a, b firebreak.Severity) bool {
	return b == "" || (a != "" && slices.Index(firebreak.Severities, a) < slices.Index(firebreak.Severities, b))
}

func (c *console) serviceList(w http.ResponseWriter, r *http.Request, v viewer) {
	services, err := c.allServices(r.Context())
	if err != nil {
		c.errorPage(w, r, v, err)
		return
	}
	open, err := c.openIncidents(r.Context(), "")
	if err != nil {
		c.errorPage(w, r, v, err)
		return
	}
	rows := make([]serviceRow, len(services))
	index := map[string]int{}
	for i, s := range services {
		rows[i].Svc = s
		index[s.Slug] = i
	}
	for _, inc := range open {
		for _, slug := range inc.Services {
			if i, ok := index[slug]; ok {
				rows[i].Open++
				if moreSevere(inc.Severity, rows[i].Worst) {
					rows[i].Worst = inc.Severity
				}
			}
		}
	}
	c.render(w, r, http.StatusOK, "services", layoutData{Title: "Services", Nav: "services", Viewer: v,
		Page: serviceListPage{Rows: rows}})
}

type servicePageData struct {
	Svc        *firebreak.Service
	DependedBy []string
	Known      map[string]bool
	Incidents  []listRow
	Open       int
	Alerting   *serviceAlerting // integrations and routing policy (nil without alert intake)
}

func (c *console) servicePage(w http.ResponseWriter, r *http.Request, v viewer) {
	ctx := r.Context()
	svc, err := c.s.cfg.Catalog.GetService(ctx, r.PathValue("slug"))
	if err != nil {
		if firebreak.ErrorCode(err) == firebreak.ENotFound {
			c.notFound(w, r, v, "Service "+r.PathValue("slug"))
			return
		}
		c.errorPage(w, r, v, err)
		return
	}
	all, err := c.allServices(ctx)
	if err != nil {
		c.errorPage(w, r, v, err)
		return
	}
	d := servicePageData{Svc: svc, Known: map[string]bool{}}
	for _, s := range all {
		d.Known[s.Slug] = true
		if slices.Contains(s.DependsOn, svc.Slug) {
			d.DependedBy = append(d.DependedBy, s.Slug)
		}
	}
	page, err := c.s.cfg.Incidents.ListIncidents(ctx, firebreak.IncidentFilter{Service: svc.Slug, Limit: 25})
	if err != nil {
		c.errorPage(w, r, v, err)
		return
	}
	now := c.s.cfg.Now()
	for i := range page.Items {
		inc := page.Items[i]
		dur, ongoing := incidentDuration(&inc, now)
		d.Incidents = append(d.Incidents, listRow{Inc: inc, Ref: firebreak.IncidentRef(inc.Number),
			Duration: fmtDuration(dur), Ongoing: ongoing, Commander: inc.Roles[firebreak.RoleCommander]})
		if inc.Status.Open() {
			d.Open++
		}
	}
	if d.Alerting, err = c.serviceAlertingOf(ctx, svc.Slug); err != nil {
		c.errorPage(w, r, v, err)
		return
	}
	c.render(w, r, http.StatusOK, "service", layoutData{Title: svc.Name, Nav: "services", Viewer: v, Page: d})
}

type serviceFormInput struct {
	Slug        string
	Name        string
	OwnerTeam   string
	Tier        string
	Description string
	RunbookURL  string
	DependsOn   []string
	Version     int64
	// EscalationPolicy is the attached policy's name ("" none); ArchitectureChanged the date (YYYY-MM-DD) of the
	// last architecture change, which makes runbooks reviewed before it stale. Both only on the edit form.
	EscalationPolicy    string
	ArchitectureChanged string
}

type serviceFormPage struct {
	New     bool
	In      serviceFormInput
	Errors  formErrors
	Error   string
	Others  []firebreak.Service
	Current *firebreak.Service
	// Policies are the escalation policies to choose from (nil: escalation is not configured).
	Policies []firebreak.EscalationPolicy
}

func (c *console) renderServiceForm(w http.ResponseWriter, r *http.Request, v viewer, status int, d serviceFormPage) {
	all, err := c.allServices(r.Context())
	if err != nil {
		c.errorPage(w, r, v, err)
		return
	}
	for _, s := range all {
		if d.New || s.Slug != d.In.Slug {
			d.Others = append(d.Others, s)
		}
	}
	if esc := c.s.escalations(); esc != nil && !d.New {
		if d.Policies, err = esc.ListEscalationPolicies(r.Context()); err != nil {
			c.errorPage(w, r, v, err)
			return
		}
	}
	if d.Errors == nil {
		d.Errors = formErrors{}
	}
	title := "Add a service"
	if !d.New {
		title = "Edit " + d.In.Name
	}
	c.render(w, r, status, "service_form", layoutData{Title: title, Nav: "services", Viewer: v, Page: d})
}

func (c *console) serviceNewForm(w http.ResponseWriter, r *http.Request, v viewer) {
	c.renderServiceForm(w, r, v, http.StatusOK, serviceFormPage{New: true, In: serviceFormInput{Tier: "3"}})
}

func serviceFormFrom(r *http.Request) serviceFormInput {
	return serviceFormInput{
		Slug:        strings.TrimSpace(r.PostFormValue("slug")),
		Name:        strings.TrimSpace(r.PostFormValue("name")),
		OwnerTeam:   strings.TrimSpace(r.PostFormValue("owner_team")),
		Tier:        r.PostFormValue("tier"),
		Description: strings.TrimSpace(r.PostFormValue("description")),
		RunbookURL:  strings.TrimSpace(r.PostFormValue("runbook_url")),
		DependsOn:   r.PostForm["depends_on"],

		EscalationPolicy:    strings.TrimSpace(r.PostFormValue("escalation_policy")),
		ArchitectureChanged: strings.TrimSpace(r.PostFormValue("architecture_changed")),
	}
}

func (c *console) serviceCreate(w http.ResponseWriter, r *http.Request, v viewer) {
	in := serviceFormFrom(r)
	tier, terr := strconv.Atoi(in.Tier)
	si := firebreak.ServiceInput{Slug: in.Slug, Name: in.Name, OwnerTeam: in.OwnerTeam, Tier: tier,
		Description: in.Description, RunbookURL: in.RunbookURL, DependsOn: in.DependsOn}
	fail := func(status int, err error) {
		fe, general := fieldErrors(err)
		if terr != nil {
			fe["tier"] = "Tier must be 1, 2 or 3"
		}
		if general == "" {
			general = "Please correct the highlighted fields."
		}
		c.renderServiceForm(w, r, v, status, serviceFormPage{New: true, In: in, Errors: fe, Error: general})
	}
	if err := si.Validate(); err != nil || terr != nil {
		if err == nil {
			err = &firebreak.Error{Code: firebreak.EInvalid, Message: "tier must be 1, 2 or 3"}
		}
		fail(http.StatusUnprocessableEntity, err)
		return
	}
	svc, err := c.s.cfg.Catalog.CreateService(r.Context(), si)
	if err != nil {
		switch firebreak.ErrorCode(err) {
		case firebreak.EInvalid:
			fail(http.StatusUnprocessableEntity, err)
		case firebreak.EConflict:
			fail(http.StatusConflict, &firebreak.Error{Code: firebreak.EConflict, Message: firebreak.ErrorMessage(err),
				Fields: []firebreak.FieldError{{Field: "slug", Message: "is already taken by another service"}}})
		default:
			c.errorPage(w, r, v, err)
		}
		return
	}
	seeOther(w, r, "/services/"+url.PathEscape(svc.Slug))
}

func (c *console) serviceEditForm(w http.ResponseWriter, r *http.Request, v viewer) {
	svc, err := c.s.cfg.Catalog.GetService(r.Context(), r.PathValue("slug"))
	if err != nil {
		if firebreak.ErrorCode(err) == firebreak.ENotFound {
			c.notFound(w, r, v, "Service "+r.PathValue("slug"))
			return
		}
		c.errorPage(w, r, v, err)
		return
	}
	c.renderServiceForm(w, r, v, http.StatusOK, serviceFormPage{In: serviceInputOf(svc), Current: svc})
}

func serviceInputOf(s *firebreak.Service) serviceFormInput {
	in := serviceFormInput{Slug: s.Slug, Name: s.Name, OwnerTeam: s.OwnerTeam, Tier: strconv.Itoa(s.Tier),
		Description: s.Description, RunbookURL: s.RunbookURL, DependsOn: s.DependsOn, Version: s.Version,
		EscalationPolicy: s.EscalationPolicy}
	if s.ArchitectureChangedAt != nil {
		in.ArchitectureChanged = s.ArchitectureChangedAt.UTC().Format(time.DateOnly)
	}
	return in
}

func (c *console) serviceUpdate(w http.ResponseWriter, r *http.Request, v viewer) {
	slug := r.PathValue("slug")
	in := serviceFormFrom(r)
	in.Slug = slug
	in.Version = ifMatch(r)
	tier, terr := strconv.Atoi(in.Tier)
	deps := in.DependsOn
	if deps == nil {
		deps = []string{}
	}
	p := firebreak.ServicePatch{Name: &in.Name, OwnerTeam: &in.OwnerTeam, Tier: &tier, Description: &in.Description,
		RunbookURL: &in.RunbookURL, DependsOn: &deps}
	if terr != nil {
		c.renderServiceForm(w, r, v, http.StatusUnprocessableEntity, serviceFormPage{In: in,
			Errors: formErrors{"tier": "Tier must be 1, 2 or 3"}, Error: "Please correct the highlighted fields."})
		return
	}
	if _, ok := r.PostForm["escalation_policy"]; ok {
		p.EscalationPolicy = &in.EscalationPolicy
	}
	if in.ArchitectureChanged != "" {
		// Only a new date is sent: re-saving the form must not move an architecture change recorded by the API
		// at a precise time to midnight of its day.
		cur, err := c.s.cfg.Catalog.GetService(r.Context(), slug)
		if err != nil {
			c.errorPage(w, r, v, err)
			return
		}
		day, derr := time.Parse(time.DateOnly, in.ArchitectureChanged)
		if derr != nil {
			c.renderServiceForm(w, r, v, http.StatusUnprocessableEntity, serviceFormPage{In: in,
				Errors: formErrors{"architecture_changed_at": "Give the date as YYYY-MM-DD"},
				Error:  "Please correct the highlighted fields."})
			return
		}
		if cur.ArchitectureChangedAt == nil || !sameDay(*cur.ArchitectureChangedAt, day) {
			p.ArchitectureChangedAt = &day
		}
	}
	svc, err := c.s.cfg.Catalog.UpdateService(r.Context(), slug, p, in.Version)
	if err != nil {
		switch firebreak.ErrorCode(err) {
		case firebreak.ENotFound:
			c.notFound(w, r, v, "Service "+slug)
		case firebreak.EInvalid:
			fe, general := fieldErrors(err)
			if general == "" {
				general = "Please correct the highlighted fields."
			}
			c.renderServiceForm(w, r, v, http.StatusUnprocessableEntity, serviceFormPage{In: in, Errors: fe,
				Error: general})
		case firebreak.EPreconditionFailed:
			cur, gerr := c.s.cfg.Catalog.GetService(r.Context(), slug)
			if gerr != nil {
				c.errorPage(w, r, v, gerr)
				return
			}
			// Keep what was typed, but on top of the current version, so a second save is a deliberate choice.
			in.Version = cur.Version
			c.renderServiceForm(w, r, v, http.StatusPreconditionFailed, serviceFormPage{In: in, Current: cur,
				Error: "Someone else changed this service while you were editing it, so your changes were not " +
					"saved. The current values are shown under each field; save again to overwrite them."})
		default:
			c.errorPage(w, r, v, err)
		}
		return
	}
	seeOther(w, r, "/services/"+url.PathEscape(svc.Slug))
}

func sameDay(a, b time.Time) bool {
	a, b = a.UTC(), b.UTC()
	return a.Year() == b.Year() && a.YearDay() == b.YearDay()
}
