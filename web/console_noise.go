package web

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/firebreak/firebreak"
)

// Noise control in the console:
//
//	GET  /maintenance               maintenance windows (upcoming and active, or by state); responders add one
//	POST /maintenance
//	POST /maintenance/{id}/cancel   cancel a window that has not ended (with its version)
//	GET  /reports/noise             the alert noise report of a period, for one service or all
//
// The pages exist when the AlertService is also a MaintenanceService and a NoiseService (the SQL store is).

func (c *console) routesNoise() {
	s := c.s
	s.mux.HandleFunc("GET /maintenance", c.page(c.authed(firebreak.RoleViewer, c.maintenancePage)))
	s.mux.HandleFunc("POST /maintenance", c.page(c.authed(firebreak.RoleResponder, c.createMaintenance)))
	s.mux.HandleFunc("POST /maintenance/{id}/cancel", c.page(c.authed(firebreak.RoleResponder, c.cancelMaintenance)))
	s.mux.HandleFunc("GET /reports/noise", c.page(c.authed(firebreak.RoleViewer, c.noisePage)))
}

func (c *console) noiseServices() (firebreak.MaintenanceService, firebreak.NoiseService, bool) {
	ms, ok1 := c.s.cfg.Alerts.(firebreak.MaintenanceService)
	ns, ok2 := c.s.cfg.Alerts.(firebreak.NoiseService)
	return ms, ns, ok1 && ok2
}

func (c *console) noiseOff(w http.ResponseWriter, r *http.Request, v viewer) bool {
	if _, _, ok := c.noiseServices(); ok {
		return false
	}
	c.render(w, r, http.StatusNotFound, "error", layoutData{Title: "Not available", Nav: "alerts", Viewer: v,
		Page: errorPageData{Status: http.StatusNotFound, Heading: "Not available",
			Message: "This server keeps no alerts, so it has no maintenance windows or noise report."}})
	return true
}

// ---- maintenance windows ----

type maintenanceInput struct {
	Title       string
	Description string
	Services    []string
	StartsAt    string
	EndsAt      string
}

type maintenancePage struct {
	State    string // "" (upcoming and active), or a MaintenanceState
	States   []firebreak.MaintenanceState
	Service  string
	Windows  []firebreak.MaintenanceWindow
	NextURL  string
	Services []firebreak.Service
	In       maintenanceInput
	Errors   formErrors
	Error    string
	Notice   string
}

func (c *console) renderMaintenance(w http.ResponseWriter, r *http.Request, v viewer, status int, d maintenancePage) {
	ms, _, _ := c.noiseServices()
	ctx := r.Context()
	var err error
	if d.Services, err = c.allServices(ctx); err != nil {
		c.errorPage(w, r, v, err)
		return
	}
	d.States = firebreak.MaintenanceStates
	if d.Errors == nil {
		d.Errors = formErrors{}
	}
	q := r.URL.Query()
	f := firebreak.MaintenanceFilter{Service: d.Service, State: firebreak.MaintenanceState(d.State), Limit: 50,
		Cursor: q.Get("cursor")}
	var windows []firebreak.MaintenanceWindow
	if d.State == "" {
		// What matters now: the active windows, then the scheduled ones.
		for _, st := range []firebreak.MaintenanceState{firebreak.MaintenanceActive, firebreak.MaintenanceScheduled} {
			f.State, f.Cursor = st, ""
			p, err := ms.ListMaintenance(ctx, f)
			if err != nil {
				c.errorPage(w, r, v, err)
				return
			}
			windows = append(windows, p.Items...)
		}
	} else {
		p, err := ms.ListMaintenance(ctx, f)
		if err != nil {
			if code := firebreak.ErrorCode(err); (code == firebreak.EInvalid || code == firebreak.EBadRequest) && f.Cursor != "" {
				seeOther(w, r, maintenanceURL(d.State, d.Service, ""))
				return
			}
			c.errorPage(w, r, v, err)
			return
		}
		windows = p.Items
		if p.NextCursor != "" {
			d.NextURL = maintenanceURL(d.State, d.Service, p.NextCursor)
		}
	}
	d.Windows = windows
	c.render(w, r, status, "maintenance", layoutData{Title: "Maintenance windows", Nav: "alerts", Viewer: v, Page: d})
}

func maintenanceURL(state, service, cursor string) string {
	q := url.Values{}
	for k, val := range map[string]string{"state": state, "service": service, "cursor": cursor} {
		if val != "" {
			q.Set(k, val)
		}
	}
	if len(q) == 0 {
		return "/maintenance"
	}
	return "/maintenance?" + q.Encode()
}

func (c *console) maintenancePage(w http.ResponseWriter, r *http.Request, v viewer) {
	if c.noiseOff(w, r, v) {
		return
	}
	q := r.URL.Query()
	d := maintenancePage{State: q.Get("state"), Service: strings.TrimSpace(q.Get("service"))}
	if !slices.Contains(firebreak.MaintenanceStates, firebreak.MaintenanceState(d.State)) {
		d.State = ""
	}
	switch q.Get("done") {
	case "created":
		d.Notice = "The maintenance window was scheduled."
	case "cancelled":
		d.Notice = "The maintenance window was cancelled."
	}
	now := c.s.cfg.Now().UTC()
	d.In = maintenanceInput{StartsAt: now.Truncate(time.Minute).Add(time.Minute).Format("2006-01-02T15:04"),
		EndsAt: now.Truncate(time.Minute).Add(time.Hour + time.Minute).Format("2006-01-02T15:04")}
	if s := q.Get("new_service"); s != "" {
		d.In.Services = []string{s}
	}
	c.renderMaintenance(w, r, v, http.StatusOK, d)
}

func (c *console) createMaintenance(w http.ResponseWriter, r *http.Request, v viewer) {
	if c.noiseOff(w, r, v) {
		return
	}
	ms, _, _ := c.noiseServices()
	in := maintenanceInput{Title: r.PostFormValue("title"), Description: r.PostFormValue("description"),
		Services: r.PostForm["services"], StartsAt: r.PostFormValue("starts_at"), EndsAt: r.PostFormValue("ends_at")}
	d := maintenancePage{In: in, Errors: formErrors{}}
	mi := firebreak.MaintenanceInput{Title: in.Title, Description: formText(r, "description"), Services: in.Services}
	if t, err := formTimeIn(r, "starts_at", "starts_at_tz"); err != nil {
		d.Errors["starts_at"] = "Start " + err.Error()
	} else if t != nil {
		mi.StartsAt = *t
	}
	if t, err := formTimeIn(r, "ends_at", "ends_at_tz"); err != nil {
		d.Errors["ends_at"] = "End " + err.Error()
	} else if t != nil {
		mi.EndsAt = *t
	}
	fail := func(err error) {
		if err != nil {
			fe, general := fieldErrors(err)
			for k, m := range fe {
				if _, dup := d.Errors[k]; !dup {
					d.Errors[k] = maintenanceSentence(k, m)
				}
			}
			d.Error = general
		}
		if d.Error == "" {
			d.Error = "The window was not scheduled: please correct the highlighted fields."
		}
		c.renderMaintenance(w, r, v, http.StatusUnprocessableEntity, d)
	}
	verr := mi.Validate(c.s.cfg.Now())
	if verr != nil || d.Errors.Any() {
		fail(verr)
		return
	}
	if _, err := ms.CreateMaintenance(r.Context(), mi); err != nil {
		if firebreak.ErrorCode(err) == firebreak.EInvalid {
			fail(err)
			return
		}
		c.errorPage(w, r, v, err)
		return
	}
	seeOther(w, r, "/maintenance?done=created")
}

// maintenanceSentence names the time fields as the form labels them.
func maintenanceSentence(field, msg string) string {
	msg = strings.Replace(msg, "Starts at", "Start", 1)
	msg = strings.Replace(msg, "Ends at", "End", 1)
	return strings.ReplaceAll(msg, "starts_at", "the start")
}

func (c *console) cancelMaintenance(w http.ResponseWriter, r *http.Request, v viewer) {
	if c.noiseOff(w, r, v) {
		return
	}
	ms, _, _ := c.noiseServices()
	_, err := ms.CancelMaintenance(r.Context(), r.PathValue("id"), ifMatch(r))
	switch firebreak.ErrorCode(err) {
	case "":
		seeOther(w, r, "/maintenance?done=cancelled")
	case firebreak.EPreconditionFailed, firebreak.EConflict:
		d := maintenancePage{Error: "The window was not cancelled: " + firebreak.ErrorMessage(err) +
			" (someone else changed it, or it has ended). Its current state is shown below."}
		c.renderMaintenance(w, r, v, statusOf(firebreak.ErrorCode(err)), d)
	default:
		c.errorPage(w, r, v, err)
	}
}

// ---- noise report ----

type noisePage struct {
	Service  string
	Days     int
	Periods  []int
	Services []firebreak.Service
	Report   *firebreak.NoiseReport
	Refs     map[string]string // incident ID → reference, for the alert lists
	Problem  string
}

// Ref is the reference of an incident of the report's alert lists.
func (p noisePage) Ref(id string) string { return p.Refs[id] }

// Percent is part/total as a whole percentage.
func (p noisePage) Percent(part, total int64) string {
	if total == 0 {
		return "0%"
	}
	return strconv.FormatInt((part*100+total/2)/total, 10) + "%"
}

var noisePeriods = []int{1, 7, 30, 90}

func (c *console) noisePage(w http.ResponseWriter, r *http.Request, v viewer) {
	if c.noiseOff(w, r, v) {
		return
	}
	_, ns, _ := c.noiseServices()
	ctx := r.Context()
	q := r.URL.Query()
	d := noisePage{Service: strings.TrimSpace(q.Get("service")), Days: 7, Periods: noisePeriods,
		Refs: map[string]string{}}
	if n, err := strconv.Atoi(q.Get("days")); err == nil && slices.Contains(noisePeriods, n) {
		d.Days = n
	}
	var err error
	if d.Services, err = c.allServices(ctx); err != nil {
		c.errorPage(w, r, v, err)
		return
	}
	now := c.s.cfg.Now().UTC()
	since := now.Add(-time.Duration(d.Days) * 24 * time.Hour)
	rep, err := ns.NoiseReport(ctx, firebreak.NoiseFilter{Service: d.Service, Since: &since, Until: &now})
	status := http.StatusOK
	switch code := firebreak.ErrorCode(err); {
	case err == nil:
		d.Report = rep
		for _, list := range [][]firebreak.NoiseAlert{rep.Flapping, rep.NeverIncident} {
			for _, a := range list {
				if a.IncidentID == "" {
					continue
				}
				if _, ok := d.Refs[a.IncidentID]; !ok {
					d.Refs[a.IncidentID] = a.IncidentID
					if inc, err := c.s.cfg.Incidents.GetIncident(ctx, a.IncidentID); err == nil {
						d.Refs[a.IncidentID] = firebreak.IncidentRef(inc.Number)
					}
				}
			}
		}
	case code == firebreak.ENotFound || code == firebreak.EInvalid:
		d.Problem, status = firebreak.ErrorMessage(err), http.StatusUnprocessableEntity
	default:
		c.errorPage(w, r, v, err)
		return
	}
	c.render(w, r, status, "noise", layoutData{Title: "Alert noise", Nav: "alerts", Viewer: v, Page: d})
}
