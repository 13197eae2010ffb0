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

// ---- incidents list ----

type listFilter struct {
	Status   string
	Severity string
	Service  string
	Open     bool
	Q        string
}

type listRow struct {
	Inc       firebreak.Incident
	Ref       string
	Duration  string
	Ongoing   bool
	Commander string
}

type listPage struct {
	Filter   listFilter
	Rows     []listRow
	Services []firebreak.Service
	NextURL  string
	FirstURL string
	Filtered bool
}

func (c *console) incidentList(w http.ResponseWriter, r *http.Request, v viewer) {
	q := r.URL.Query()
	f := firebreak.IncidentFilter{Limit: 50, Cursor: q.Get("cursor")}
	lf := listFilter{Status: q.Get("status"), Severity: q.Get("severity"), Service: q.Get("service"),
		Q: strings.TrimSpace(q.Get("q"))}
	// A bare visit shows what needs attention; a submitted filter form says explicitly whether to.
	lf.Open = len(q) == 0 || q.Get("open") != ""
	if st := firebreak.Status(lf.Status); st.Valid() {
		f.Status = []firebreak.Status{st}
	} else {
		lf.Status = ""
	}
	if sev := firebreak.Severity(lf.Severity); sev.Valid() {
		f.Severity = []firebreak.Severity{sev}
	} else {
		lf.Severity = ""
	}
	f.Service, f.Open, f.Query = lf.Service, lf.Open, lf.Q
	page, err := c.s.cfg.Incidents.ListIncidents(r.Context(), f)
	if err != nil {
		if code := firebreak.ErrorCode(err); (code == firebreak.EInvalid || code == firebreak.EBadRequest) && f.Cursor != "" {
			seeOther(w, r, "/incidents?"+filterQuery(lf).Encode())
			return
		}
		c.errorPage(w, r, v, err)
		return
	}
	services, err := c.allServices(r.Context())
	if err != nil {
		c.errorPage(w, r, v, err)
		return
	}
	now := c.s.cfg.Now()
	d := listPage{Filter: lf, Services: services,
		Filtered: lf.Status != "" || lf.Severity != "" || lf.Service != "" || lf.Q != ""}
	for i := range page.Items {
		inc := page.Items[i]
		dur, ongoing := incidentDuration(&inc, now)
		d.Rows = append(d.Rows, listRow{Inc: inc, Ref: firebreak.IncidentRef(inc.Number), Duration: fmtDuration(dur),
			Ongoing: ongoing, Commander: inc.Roles[firebreak.RoleCommander]})
	}
	if page.NextCursor != "" {
		nq := filterQuery(lf)
		nq.Set("cursor", page.NextCursor)
		d.NextURL = "/incidents?" + nq.Encode()
	}
	if f.Cursor != "" {
		d.FirstURL = "/incidents?" + filterQuery(lf).Encode()
	}
	title := "Incidents"
	if lf.Open {
		title = "Open incidents"
	}
	c.render(w, r, http.StatusOK, "incidents", layoutData{Title: title, Nav: "incidents", Viewer: v, Page: d})
}

func filterQuery(lf listFilter) url.Values {
	q := url.Values{}
	q.Set("status", lf.Status)
	q.Set("severity", lf.Severity)
	q.Set("service", lf.Service)
	q.Set("q", lf.Q)
	if lf.Open {
		q.Set("open", "1")
	}
	return q
}

// allServices reads the whole catalog (it is small: tens to hundreds of services).
func (c *console) allServices(ctx context.Context) ([]firebreak.Service, error) {
	f := firebreak.ServiceFilter{Limit: firebreak.MaxLimit}
	return allPages(func(cursor string) (*firebreak.Page[firebreak.Service], error) {
		f.Cursor = cursor
		return c.s.cfg.Catalog.ListServices(ctx, f)
	})
}

// allPages follows a list's cursors, up to 20 pages of the largest size.
func allPages[T any](list func(cursor string) (*firebreak.Page[T], error)) ([]T, error) {
	var out []T
	cursor := ""
	for range 20 {
		p, err := list(cursor)
		if err != nil {
			return nil, err
		}
		out = append(out, p.Items...)
		if p.NextCursor == "" {
			break
		}
		cursor = p.NextCursor
	}
	return out, nil
}

// ---- declare ----

type declareInput struct {
	Title         string
	Summary       string
	Severity      string
	Services      []string
	Commander     bool
	ImpactStarted string
}

type declarePage struct {
	In       declareInput
	Errors   formErrors
	Error    string
	Policies []firebreak.SeverityPolicy
	Services []firebreak.Service
}

func (c *console) declareForm(w http.ResponseWriter, r *http.Request, v viewer) {
	in := declareInput{Commander: true, Severity: r.URL.Query().Get("severity")}
	if s := r.URL.Query().Get("service"); s != "" {
		in.Services = []string{s}
	}
	c.renderDeclare(w, r, v, http.StatusOK, in, formErrors{}, "")
}

func (c *console) renderDeclare(w http.ResponseWriter, r *http.Request, v viewer, status int, in declareInput,
	fe formErrors, general string) {
	services, err := c.allServices(r.Context())
	if err != nil {
		c.errorPage(w, r, v, err)
		return
	}
	d := declarePage{In: in, Errors: fe, Error: general, Policies: c.s.cfg.Severities, Services: services}
	c.render(w, r, status, "declare", layoutData{Title: "Declare an incident", Nav: "declare", Viewer: v, Page: d})
}

func (c *console) declare(w http.ResponseWriter, r *http.Request, v viewer) {
	in := declareInput{
		Title:         r.PostFormValue("title"),
		Summary:       r.PostFormValue("summary"),
		Severity:      r.PostFormValue("severity"),
		Services:      r.PostForm["services"],
		Commander:     r.PostFormValue("commander") != "",
		ImpactStarted: r.PostFormValue("impact_started_at"),
	}
	fe := formErrors{}
	di := firebreak.DeclareInput{Title: in.Title, Summary: formText(r, "summary"),
		Severity: firebreak.Severity(in.Severity), Services: in.Services}
	if in.Commander {
		di.Roles = map[firebreak.Role]string{firebreak.RoleCommander: v.Username}
	}
	if t, err := formTime(r, "impact_started_at"); err != nil {
		fe["impact_started_at"] = sentence("impact_started_at", err.Error())
	} else if t != nil {
		if t.After(c.s.cfg.Now().Add(time.Minute)) {
			fe["impact_started_at"] = sentence("impact_started_at", "must not be in the future")
		}
		di.ImpactStartedAt = t
	}
	if err := di.Validate(); err != nil {
		errs, _ := fieldErrors(err)
		for k, m := range errs {
			fe[k] = m
		}
	}
	if _, ok := fe["severity"]; ok && in.Severity == "" {
		fe["severity"] = "Choose a severity."
	}
	if fe.Any() {
		c.renderDeclare(w, r, v, http.StatusUnprocessableEntity, in, fe, "Please correct the highlighted fields.")
		return
	}
	inc, err := c.s.cfg.Incidents.DeclareIncident(r.Context(), di)
	if err != nil {
		if firebreak.ErrorCode(err) == firebreak.EInvalid {
			errs, general := fieldErrors(err)
			if general == "" {
				general = "Please correct the highlighted fields."
			}
			c.renderDeclare(w, r, v, http.StatusUnprocessableEntity, in, errs, general)
			return
		}
		c.errorPage(w, r, v, err)
		return
	}
	seeOther(w, r, "/incidents/"+firebreak.IncidentRef(inc.Number))
}

// ---- the incident page ----

// incidentView is everything the incident page and its refreshable sections show.
type incidentView struct {
	Inc         *firebreak.Incident
	Ref         string
	Viewer      viewer
	Policy      firebreak.SeverityPolicy
	Allowed     []firebreak.Status
	Milestones  []milestoneView
	Duration    string
	Ongoing     bool
	Timeline    []timelineItem
	LastEventID int64
	Truncated   bool
	Updates     []firebreak.StatusUpdate
	Actions     []firebreak.ActionItem
	OpenActions int
	Users       []firebreak.User
	// Catalog is what the details form offers as affected services: the catalog, plus any service the incident
	// names that the catalog lacks (so saving the form never drops it silently).
	Catalog []firebreak.Service
	// After a failed form: which form, its input, its field errors and a message for the page.
	Form    string
	Input   url.Values
	Errors  formErrors
	Problem string
	Stale   bool
	Now     time.Time
	// Alerting holds the incident's alerts and the changes before it (full page only; nil without alerts).
	Alerting *incidentAlerting
	// Related and Recurrence: related incidents and the recurrence warning while it holds (full page only;
	// console_related.go).
	Related    *firebreak.Related
	Recurrence *recurrenceView
	// Changes holds the changes proposed during the incident and the runbooks of its services (console_changes.go;
	// nil when neither is available).
	Changes *incidentChanges
	// Escalation is where the incident's paging stands (console_incident_escalation.go; nil when unavailable or
	// nothing to show).
	Escalation *escalationPanel
}

// Val returns the kept input of field when the form that failed is form.
func (iv *incidentView) Val(form, field string) string {
	if iv.Form != form || iv.Input == nil {
		return ""
	}
	return iv.Input.Get(field)
}

// Err returns the error of field when the form that failed is form.
func (iv *incidentView) Err(form, field string) string {
	if iv.Form != form {
		return ""
	}
	return iv.Errors.Get(field)
}

// kept reports whether form failed and what was typed into it is shown again.
func (iv *incidentView) kept(form string) bool { return iv.Form == form && iv.Input != nil }

// EditTitle, EditSummary and EditServices fill the details form: what was typed after a failure, else the
// incident as it is.
func (iv *incidentView) EditTitle() string {
	if iv.kept("details") {
		return iv.Input.Get("title")
	}
	return iv.Inc.Title
}

func (iv *incidentView) EditSummary() string {
	if iv.kept("details") {
		return iv.Input.Get("summary")
	}
	return iv.Inc.Summary
}

// EditTags fills the details form's tags field (space-separated).
func (iv *incidentView) EditTags() string {
	if iv.kept("details") {
		return iv.Input.Get("tags")
	}
	return strings.Join(iv.Inc.Tags, " ")
}

func (iv *incidentView) EditServices() []string {
	if iv.kept("details") {
		return iv.Input["services"]
	}
	return iv.Inc.Services
}

// MilestoneInput is the value of a milestone's datetime-local field: what was typed after a failure, else the
// stored time in UTC to the minute (the script shows it in the browser's time zone; see MilestonesFromStore).
func (iv *incidentView) MilestoneInput(name string) string {
	if iv.kept("milestones") {
		return iv.Input.Get(name)
	}
	if t := iv.Inc.Milestones.Field(name); t != nil && *t != nil {
		return (*t).UTC().Format("2006-01-02T15:04")
	}
	return ""
}

// MilestonesFromStore reports whether the milestone fields hold stored UTC times (which the script converts to
// local time) rather than what someone typed (already local).
func (iv *incidentView) MilestonesFromStore() bool { return !iv.kept("milestones") }

// MilestoneCleared reports whether the failed milestones form asked to clear name.
func (iv *incidentView) MilestoneCleared(name string) bool {
	return iv.kept("milestones") && slices.Contains(iv.Input["clear"], name)
}

// timelineItem is one timeline entry as its template sees it.
type timelineItem struct {
	Ev     firebreak.TimelineEvent
	Ref    string
	Viewer viewer
}

// maxTimelineEvents bounds how much of a timeline one page shows (the rest stays reachable through the API).
const maxTimelineEvents = 5000

// loadIncident reads the incident and everything its page shows; the timeline only when withTimeline.
func (c *console) loadIncident(ctx context.Context, ref string, v viewer, withTimeline bool) (*incidentView, error) {
	inc, err := c.s.cfg.Incidents.GetIncident(ctx, ref)
	if err != nil {
		return nil, err
	}
	iv := &incidentView{Inc: inc, Ref: firebreak.IncidentRef(inc.Number), Viewer: v, Errors: formErrors{},
		Allowed: firebreak.AllowedTransitions(inc.Status), Milestones: milestoneViews(inc), Now: c.s.cfg.Now()}
	for _, p := range c.s.cfg.Severities {
		if p.Severity == inc.Severity {
			iv.Policy = p
		}
	}
	dur, ongoing := incidentDuration(inc, iv.Now)
	iv.Duration, iv.Ongoing = fmtDuration(dur), ongoing
	f := firebreak.TimelineFilter{Limit: firebreak.MaxLimit}
	for withTimeline {
		p, err := c.s.cfg.Incidents.ListTimeline(ctx, inc.ID, f)
		if err != nil {
			return nil, err
		}
		for _, ev := range p.Items {
			iv.Timeline = append(iv.Timeline, timelineItem{Ev: ev, Ref: iv.Ref, Viewer: v})
			iv.LastEventID = max(iv.LastEventID, ev.ID)
		}
		if p.NextCursor == "" {
			break
		}
		if len(iv.Timeline) >= maxTimelineEvents {
			iv.Truncated = true
			break
		}
		f.Cursor = p.NextCursor
	}
	if iv.Truncated {
		// The live tail must start after the newest event, not after the last one shown.
		iv.LastEventID, err = c.lastEventID(ctx, inc.ID, iv.LastEventID)
		if err != nil {
			return nil, err
		}
	}
	if withTimeline {
		if iv.Alerting, err = c.incidentAlertingOf(ctx, inc); err != nil {
			return nil, err
		}
		c.loadRelated(ctx, iv)
	}
	if iv.Updates, err = c.s.cfg.Incidents.ListUpdates(ctx, inc.ID); err != nil {
		return nil, err
	}
	slices.SortStableFunc(iv.Updates, func(a, b firebreak.StatusUpdate) int { return b.CreatedAt.Compare(a.CreatedAt) })
	if iv.Actions, err = c.s.cfg.Incidents.ListActionItems(ctx, inc.ID); err != nil {
		return nil, err
	}
	for _, a := range iv.Actions {
		if a.Status == firebreak.ActionOpen || a.Status == firebreak.ActionInProgress {
			iv.OpenActions++
		}
	}
	if iv.Changes, err = c.changesOf(ctx, inc, v); err != nil {
		return nil, err
	}
	if iv.Escalation, err = c.escalationPanelOf(ctx, inc, iv.Now); err != nil {
		return nil, err
	}
	if v.CanAct() {
		users, err := c.s.cfg.Users.ListUsers(ctx)
		if err != nil {
			c.s.log.WarnContext(ctx, "listing users for the role picker", "err", err)
		}
		iv.Users = users
		if iv.Catalog, err = c.allServices(ctx); err != nil {
			return nil, err
		}
		for _, slug := range inc.Services {
			if !slices.ContainsFunc(iv.Catalog, func(s firebreak.Service) bool { return s.Slug == slug }) {
				iv.Catalog = append(iv.Catalog, firebreak.Service{Slug: slug, Name: slug})
			}
		}
	}
	return iv, nil
}

func (c *console) lastEventID(ctx context.Context, incidentID string, after int64) (int64, error) {
	for {
		p, err := c.s.cfg.Incidents.ListTimeline(ctx, incidentID, firebreak.TimelineFilter{AfterID: after,
			Limit: firebreak.MaxLimit})
		if err != nil {
			return 0, err
		}
		if len(p.Items) == 0 {
			return after, nil
		}
		for _, ev := range p.Items {
			after = max(after, ev.ID)
		}
	}
}

func (c *console) incidentPage(w http.ResponseWriter, r *http.Request, v viewer) {
	iv, err := c.loadIncident(r.Context(), r.PathValue("ref"), v, true)
	if err != nil {
		c.incidentLoadError(w, r, v, err)
		return
	}
	c.renderIncident(w, r, http.StatusOK, iv)
}

func (c *console) incidentLoadError(w http.ResponseWriter, r *http.Request, v viewer, err error) {
	if firebreak.ErrorCode(err) == firebreak.ENotFound {
		c.notFound(w, r, v, "Incident "+r.PathValue("ref"))
		return
	}
	c.errorPage(w, r, v, err)
}

func (c *console) renderIncident(w http.ResponseWriter, r *http.Request, status int, iv *incidentView) {
	c.render(w, r, status, "incident", layoutData{Title: iv.Ref + " " + iv.Inc.Title, Nav: "incidents",
		Viewer: iv.Viewer, Page: iv})
}

// incidentSections serves the parts of the incident page that change when the incident does (header, people
// and milestones, updates, action items), for the live script to swap in.
func (c *console) incidentSections(w http.ResponseWriter, r *http.Request, v viewer) {
	iv, err := c.loadIncident(r.Context(), r.PathValue("ref"), v, false)
	if err != nil {
		status := statusOf(firebreak.ErrorCode(err))
		http.Error(w, http.StatusText(status), status)
		return
	}
	c.renderFragment(w, r, "incident_sections", iv)
}

// actionFailed shows the incident page again after a form failed: a stale version (412) asks to review the
// current state, a refused transition (409) says what is allowed, invalid input (422) is shown next to the
// fields of the form, with what was typed kept.
func (c *console) actionFailed(w http.ResponseWriter, r *http.Request, v viewer, form string, err error) {
	code := firebreak.ErrorCode(err)
	if code == firebreak.ENotFound && form == "" {
		c.notFound(w, r, v, "Incident "+r.PathValue("ref"))
		return
	}
	if code != firebreak.EPreconditionFailed && code != firebreak.EConflict && code != firebreak.EInvalid &&
		code != firebreak.ENotFound {
		c.errorPage(w, r, v, err)
		return
	}
	iv, lerr := c.loadIncident(r.Context(), r.PathValue("ref"), v, true)
	if lerr != nil {
		c.incidentLoadError(w, r, v, lerr)
		return
	}
	iv.Form, iv.Input = form, r.PostForm
	switch code {
	case firebreak.EPreconditionFailed:
		iv.Stale = true
		if strings.HasPrefix(form, "action-") || form == "milestones" {
			// Show the item or the milestones as they are now: the fields hold times and states, not prose, and
			// resubmitting the old ones would undo the other person's change.
			iv.Input = nil
		}
		iv.Problem = "Someone else changed this incident while you were looking at it, so your change was not " +
			"applied. The page now shows the latest state: review it and try again."
		if strings.HasPrefix(form, "action-") {
			iv.Problem = "Someone else changed this action item while you were looking at it, so your change " +
				"was not applied. The page now shows the latest state: review it and try again."
		}
	case firebreak.EConflict:
		iv.Problem = firebreak.ErrorMessage(err) + conflictDetails(err) // the close policy's blockers
	case firebreak.ENotFound:
		iv.Problem = firebreak.ErrorMessage(err)
	case firebreak.EInvalid:
		fe, general := fieldErrors(err)
		iv.Errors = fe
		iv.Problem = general
		if general == "" {
			msgs := make([]string, 0, len(fe))
			for _, m := range fe {
				msgs = append(msgs, m)
			}
			slices.Sort(msgs)
			iv.Problem = strings.Join(msgs, ". ") + "."
		}
	}
	c.renderIncident(w, r, statusOf(code), iv)
}

// incidentURL is where a successful form goes back to, with an anchor for the part it changed.
func incidentURL(inc *firebreak.Incident, anchor string) string {
	u := "/incidents/" + firebreak.IncidentRef(inc.Number)
	if anchor != "" {
		u += "#" + anchor
	}
	return u
}

func (c *console) changeStatus(w http.ResponseWriter, r *http.Request, v viewer) {
	to := firebreak.Status(r.PostFormValue("status"))
	inc, err := c.s.cfg.Incidents.ChangeStatus(r.Context(), r.PathValue("ref"), to,
		strings.TrimSpace(r.PostFormValue("message")), ifMatch(r))
	if err != nil {
		c.actionFailed(w, r, v, "status", err)
		return
	}
	seeOther(w, r, incidentURL(inc, ""))
}

func (c *console) changeSeverity(w http.ResponseWriter, r *http.Request, v viewer) {
	sev := firebreak.Severity(r.PostFormValue("severity"))
	p := firebreak.IncidentPatch{Severity: &sev, Reason: strings.TrimSpace(r.PostFormValue("reason"))}
	if err := p.Validate(); err != nil {
		c.actionFailed(w, r, v, "severity", err)
		return
	}
	inc, err := c.s.cfg.Incidents.UpdateIncident(r.Context(), r.PathValue("ref"), p, ifMatch(r))
	if err != nil {
		c.actionFailed(w, r, v, "severity", err)
		return
	}
	seeOther(w, r, incidentURL(inc, ""))
}

func (c *console) acknowledge(w http.ResponseWriter, r *http.Request, v viewer) {
	inc, err := c.s.cfg.Incidents.AcknowledgeIncident(r.Context(), r.PathValue("ref"), 0)
	if err != nil {
		c.actionFailed(w, r, v, "ack", err)
		return
	}
	seeOther(w, r, incidentURL(inc, ""))
}

func (c *console) assignRole(w http.ResponseWriter, r *http.Request, v viewer) {
	role := firebreak.Role(r.PostFormValue("role"))
	user := strings.TrimSpace(r.PostFormValue("user"))
	if r.PostFormValue("assign_self") != "" {
		user = v.Username
	}
	form := "role-" + string(role)
	if !role.Valid() {
		form = "role"
	}
	inc, err := c.s.cfg.Incidents.AssignRole(r.Context(), r.PathValue("ref"), role, user, ifMatch(r))
	if err != nil {
		c.actionFailed(w, r, v, form, err)
		return
	}
	seeOther(w, r, incidentURL(inc, "people"))
}

func (c *console) addNote(w http.ResponseWriter, r *http.Request, v viewer) {
	in := firebreak.TimelineInput{Kind: firebreak.EventNote, Message: r.PostFormValue("message"),
		Starred: r.PostFormValue("starred") != ""}
	at, err := formTime(r, "occurred_at")
	if err != nil {
		c.actionFailed(w, r, v, "note", &firebreak.Error{Code: firebreak.EInvalid, Message: "occurred at " + err.Error(),
			Fields: []firebreak.FieldError{{Field: "occurred_at", Message: err.Error()}}})
		return
	}
	in.OccurredAt = at
	ev, err := c.s.cfg.Incidents.AddTimelineEvent(r.Context(), r.PathValue("ref"), in)
	if err != nil {
		c.actionFailed(w, r, v, "note", err)
		return
	}
	seeOther(w, r, "/incidents/"+url.PathEscape(r.PathValue("ref"))+"#ev-"+strconv.FormatInt(ev.ID, 10))
}

func (c *console) postUpdate(w http.ResponseWriter, r *http.Request, v viewer) {
	in := firebreak.UpdateInput{Message: r.PostFormValue("message"),
		Audience: firebreak.Audience(r.PostFormValue("audience"))}
	if _, err := c.s.cfg.Incidents.PostUpdate(r.Context(), r.PathValue("ref"), in); err != nil {
		c.actionFailed(w, r, v, "update", err)
		return
	}
	seeOther(w, r, "/incidents/"+url.PathEscape(r.PathValue("ref"))+"#updates")
}

func (c *console) addAction(w http.ResponseWriter, r *http.Request, v viewer) {
	in := firebreak.ActionItemInput{
		Title:    r.PostFormValue("title"),
		Owner:    strings.TrimSpace(r.PostFormValue("owner")),
		DueDate:  strings.TrimSpace(r.PostFormValue("due_date")),
		Priority: firebreak.Priority(r.PostFormValue("priority")),
		Kind:     firebreak.ActionItemKind(r.PostFormValue("kind")),
	}
	if _, err := c.s.cfg.Incidents.AddActionItem(r.Context(), r.PathValue("ref"), in); err != nil {
		c.actionFailed(w, r, v, "action", err)
		return
	}
	seeOther(w, r, "/incidents/"+url.PathEscape(r.PathValue("ref"))+"#actions")
}

func (c *console) updateAction(w http.ResponseWriter, r *http.Request, v viewer) {
	id := r.PathValue("id")
	st := firebreak.ActionItemStatus(r.PostFormValue("status"))
	owner := strings.TrimSpace(r.PostFormValue("owner"))
	due := strings.TrimSpace(r.PostFormValue("due_date"))
	reason := strings.TrimSpace(r.PostFormValue("reason"))
	p := firebreak.ActionItemPatch{Status: &st, Owner: &owner, DueDate: &due}
	if st == firebreak.ActionNotDoing || reason != "" {
		p.Reason = &reason
	}
	if _, err := c.s.cfg.Incidents.UpdateActionItem(r.Context(), r.PathValue("ref"), id, p, ifMatch(r)); err != nil {
		c.actionFailed(w, r, v, "action-"+id, err)
		return
	}
	seeOther(w, r, "/incidents/"+url.PathEscape(r.PathValue("ref"))+"#action-"+id)
}

func (c *console) star(w http.ResponseWriter, r *http.Request, v viewer) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		c.notFound(w, r, v, "Timeline event "+r.PathValue("id"))
		return
	}
	starred := r.PostFormValue("starred") == "true"
	ev, err := c.s.cfg.Incidents.StarTimelineEvent(r.Context(), r.PathValue("ref"), id, starred)
	if err != nil {
		if r.Header.Get("X-Requested-With") != "" {
			s := statusOf(firebreak.ErrorCode(err))
			http.Error(w, firebreak.ErrorMessage(err), s)
			return
		}
		c.actionFailed(w, r, v, "star", err)
		return
	}
	if r.Header.Get("X-Requested-With") != "" {
		// The script swaps the entry in place instead of reloading the page.
		c.renderFragment(w, r, "timeline_entry", timelineItem{Ev: *ev, Ref: r.PathValue("ref"), Viewer: v})
		return
	}
	seeOther(w, r, "/incidents/"+url.PathEscape(r.PathValue("ref"))+"#ev-"+strconv.FormatInt(ev.ID, 10))
}

// staleForm is the error a form gets when it was rendered from an older version of the incident.
func staleForm() error {
	return firebreak.Errorf(firebreak.EPreconditionFailed, "the incident changed since the form was loaded")
}

// formText reads a free-text field as the API would receive it: browsers send line breaks in a textarea as CRLF.
func formText(r *http.Request, field string) string {
	return strings.TrimSpace(strings.ReplaceAll(r.PostFormValue(field), "\r\n", "\n"))
}

// editDetails changes an incident's title, summary and affected services. Only what differs from the incident is
// sent, so an untouched field records nothing on the timeline.
func (c *console) editDetails(w http.ResponseWriter, r *http.Request, v viewer) {
	ctx := r.Context()
	inc, err := c.s.cfg.Incidents.GetIncident(ctx, r.PathValue("ref"))
	if err != nil {
		c.actionFailed(w, r, v, "details", err)
		return
	}
	version := ifMatch(r)
	if version != 0 && version != inc.Version {
		c.actionFailed(w, r, v, "details", staleForm())
		return
	}
	p := firebreak.IncidentPatch{Reason: strings.TrimSpace(r.PostFormValue("reason"))}
	if title := strings.TrimSpace(r.PostFormValue("title")); title != inc.Title {
		p.Title = &title
	}
	if summary := formText(r, "summary"); summary != strings.TrimSpace(strings.ReplaceAll(inc.Summary, "\r\n", "\n")) {
		p.Summary = &summary
	}
	services := r.PostForm["services"]
	if !sameSet(services, inc.Services) {
		if services == nil {
			services = []string{}
		}
		p.Services = &services
	}
	if tags := formTags(r.PostFormValue("tags")); !sameSet(tags, inc.Tags) { // console_followups.go
		p.Tags = &tags
	}
	if p.Empty() {
		seeOther(w, r, incidentURL(inc, ""))
		return
	}
	if err := p.Validate(); err != nil {
		c.actionFailed(w, r, v, "details", err)
		return
	}
	inc, err = c.s.cfg.Incidents.UpdateIncident(ctx, inc.ID, p, version)
	if err != nil {
		c.actionFailed(w, r, v, "details", err)
		return
	}
	seeOther(w, r, incidentURL(inc, ""))
}

// sameSet reports whether a and b hold the same strings, in any order.
func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	x, y := slices.Clone(a), slices.Clone(b)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(x, y)
}

// correctMilestones corrects milestones. The form has a datetime-local field per milestone (minute precision, in
// the browser's time zone, each with its own offset field "<name>_tz") and "clear" checkboxes. A field still
// showing the stored time to the minute is unchanged; an emptied field clears its milestone, which the domain
// refuses for declared_at and detected_at.
func (c *console) correctMilestones(w http.ResponseWriter, r *http.Request, v viewer) {
	ctx := r.Context()
	inc, err := c.s.cfg.Incidents.GetIncident(ctx, r.PathValue("ref"))
	if err != nil {
		c.actionFailed(w, r, v, "milestones", err)
		return
	}
	version := ifMatch(r)
	if version != 0 && version != inc.Version {
		c.actionFailed(w, r, v, "milestones", staleForm())
		return
	}
	clear := r.PostForm["clear"]
	now := c.s.cfg.Now()
	changes := map[string]*time.Time{}
	var bad firebreak.Validation
	for _, name := range firebreak.MilestoneNames {
		_, present := r.PostForm[name]
		if !present && !slices.Contains(clear, name) {
			continue // not on the form
		}
		cur := *inc.Milestones.Field(name)
		at, err := formTimeIn(r, name, name+"_tz")
		switch {
		case slices.Contains(clear, name) || (err == nil && at == nil):
			if cur != nil {
				changes[name] = nil
			}
		case err != nil:
			bad.Add("milestones."+name, "%s", err.Error())
		case cur != nil && at.Equal(cur.UTC().Truncate(time.Minute)):
			// unchanged: the field shows the stored time to the minute
		case at.After(now.Add(time.Minute)):
			bad.Add("milestones."+name, "must not be in the future")
		default:
			changes[name] = at
		}
	}
	if err := bad.Err(); err != nil {
		c.actionFailed(w, r, v, "milestones", err)
		return
	}
	if len(changes) == 0 {
		seeOther(w, r, incidentURL(inc, "milestones"))
		return
	}
	p := firebreak.IncidentPatch{Milestones: changes, Reason: strings.TrimSpace(r.PostFormValue("reason"))}
	inc, err = c.s.cfg.Incidents.UpdateIncident(ctx, inc.ID, p, version)
	if err != nil {
		c.actionFailed(w, r, v, "milestones", err)
		return
	}
	seeOther(w, r, incidentURL(inc, "milestones"))
}
