package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/firebreak/firebreak"
)

// The console's health probe pages: /probes lists every probe with its state, uptime and latency (and, for
// responders, a form that adds one); /probes/{id} shows one probe's configuration, statistics and recent
// results, with forms to edit and delete it.

// routesProbes registers the probe pages (when a ProbeService is configured).
func (c *console) routesProbes() {
	if c.s.cfg.Probes == nil {
		return
	}
	s := c.s
	s.mux.HandleFunc("GET /probes", c.page(c.authed(firebreak.RoleViewer, c.probeList)))
	s.mux.HandleFunc("POST /probes", c.page(c.authed(firebreak.RoleResponder, c.probeCreate)))
	s.mux.HandleFunc("GET /probes/{id}", c.page(c.authed(firebreak.RoleViewer, c.probePage)))
	s.mux.HandleFunc("POST /probes/{id}/edit", c.page(c.authed(firebreak.RoleResponder, c.probeUpdate)))
	s.mux.HandleFunc("POST /probes/{id}/delete", c.page(c.authed(firebreak.RoleResponder, c.probeDelete)))
}

// probeView is a probe as the pages show it: its state and numbers formatted.
type probeView struct {
	P          firebreak.Probe
	StateLabel string // Up, Down, Unknown
	StateClass string // a status badge class
	Uptime24h  string
	Uptime7d   string
	P90        string
	LastAt     *time.Time
	LastOK     bool
	LastDetail string
	Interval   string
	Timeout    string
}

func newProbeView(p firebreak.Probe, windows []firebreak.ProbeWindowStats) probeView {
	v := probeView{P: p, Uptime24h: "—", Uptime7d: "—", P90: "—", Interval: probeDuration(p.Interval),
		Timeout: probeDuration(p.Timeout)}
	switch p.State {
	case firebreak.ProbeUp:
		v.StateLabel, v.StateClass = "Up", "st-resolved"
	case firebreak.ProbeDown:
		v.StateLabel, v.StateClass = "Down", "st-detected"
	default:
		v.StateLabel, v.StateClass = "Unknown", "st-closed"
	}
	for _, w := range windows {
		switch w.Window {
		case "24h":
			v.Uptime24h = probePercent(w.UptimePercent)
			v.P90 = probeMillis(w.P90MS)
		case "7d":
			v.Uptime7d = probePercent(w.UptimePercent)
		}
	}
	if r := p.LastResult; r != nil {
		at := r.At
		v.LastAt, v.LastOK, v.LastDetail = &at, r.Success, probeResultDetail(*r)
	}
	return v
}

func probePercent(v *float64) string {
	if v == nil {
		return "—"
	}
	if *v == 100 {
		return "100%"
	}
	return strconv.FormatFloat(*v, 'f', 2, 64) + "%"
}

func probeMillis(v *float64) string {
	if v == nil {
		return "—"
	}
	return probeLatency(*v)
}

func probeLatency(ms float64) string {
	if ms >= 1000 {
		return strconv.FormatFloat(ms/1000, 'f', 2, 64) + " s"
	}
	if ms < 10 {
		return strconv.FormatFloat(ms, 'f', 1, 64) + " ms"
	}
	return strconv.FormatFloat(ms, 'f', 0, 64) + " ms"
}

// probeResultDetail says why a check failed: the failed conditions with the values seen, or the error.
func probeResultDetail(r firebreak.ProbeResult) string {
	if len(r.FailedConditions) > 0 {
		return strings.Join(r.FailedConditions, "; ")
	}
	return r.Error
}

// probeForm is the probe form as typed.
type probeForm struct {
	Service          string
	Name             string
	URL              string
	Method           string
	Interval         string
	Timeout          string
	Conditions       string // one per line
	Headers          string // "Name: Value", one per line
	Body             string
	FailureThreshold string
	SuccessThreshold string
	Severity         string
	Insecure         bool
	Enabled          bool
}

func probeFormOf(p *firebreak.Probe) probeForm {
	var hs []string
	for k, v := range p.Headers {
		hs = append(hs, k+": "+v)
	}
	sort.Strings(hs)
	return probeForm{Service: p.Service, Name: p.Name, URL: p.URL, Method: p.Method,
		Interval: probeDuration(p.Interval), Timeout: probeDuration(p.Timeout),
		Conditions: strings.Join(p.Conditions, "\n"), Headers: strings.Join(hs, "\n"), Body: p.Body,
		FailureThreshold: strconv.Itoa(p.FailureThreshold), SuccessThreshold: strconv.Itoa(p.SuccessThreshold),
		Severity: string(p.Severity), Insecure: p.InsecureSkipVerify, Enabled: p.Enabled}
}

func probeFormFrom(r *http.Request) probeForm {
	return probeForm{
		Service:          strings.TrimSpace(r.PostFormValue("service")),
		Name:             strings.TrimSpace(r.PostFormValue("name")),
		URL:              strings.TrimSpace(r.PostFormValue("url")),
		Method:           strings.TrimSpace(r.PostFormValue("method")),
		Interval:         strings.TrimSpace(r.PostFormValue("interval")),
		Timeout:          strings.TrimSpace(r.PostFormValue("timeout")),
		Conditions:       r.PostFormValue("conditions"),
		Headers:          r.PostFormValue("headers"),
		Body:             r.PostFormValue("body"),
		FailureThreshold: strings.TrimSpace(r.PostFormValue("failure_threshold")),
		SuccessThreshold: strings.TrimSpace(r.PostFormValue("success_threshold")),
		Severity:         strings.TrimSpace(r.PostFormValue("severity")),
		Insecure:         r.PostFormValue("insecure_skip_verify") != "",
		Enabled:          r.PostFormValue("enabled") != "",
	}
}

// input converts the form into a ProbeInput; what cannot be read (a duration, a number, a header line) is an
// EInvalid naming its field.
func (f probeForm) input() (firebreak.ProbeInput, error) {
	var v firebreak.Validation
	in := firebreak.ProbeInput{Service: f.Service, Name: f.Name, URL: f.URL, Method: f.Method, Body: f.Body,
		Severity: firebreak.AlertSeverity(f.Severity), InsecureSkipVerify: f.Insecure, Enabled: new(f.Enabled)}
	dur := func(field, s string) firebreak.Duration {
		if s == "" {
			return 0
		}
		d, err := time.ParseDuration(s)
		if err != nil {
			v.Add(field, "must be a duration such as 30s or 1m")
		}
		return firebreak.Duration(d)
	}
	in.Interval, in.Timeout = dur("interval", f.Interval), dur("timeout", f.Timeout)
	num := func(field, s string) int {
		if s == "" {
			return 0
		}
		n, err := strconv.Atoi(s)
		if err != nil {
			v.Add(field, "must be a whole number")
		}
		return n
	}
	in.FailureThreshold = num("failure_threshold", f.FailureThreshold)
	in.SuccessThreshold = num("success_threshold", f.SuccessThreshold)
	for _, line := range strings.Split(f.Conditions, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			in.Conditions = append(in.Conditions, line)
		}
	}
	for _, line := range strings.Split(f.Headers, "\n") {
		if line = strings.TrimSpace(line); line == "" {
			continue
		}
		k, val, ok := strings.Cut(line, ":")
		if !ok || strings.TrimSpace(k) == "" {
			v.Add("headers", "must be lines of Name: Value")
			continue
		}
		if in.Headers == nil {
			in.Headers = map[string]string{}
		}
		in.Headers[strings.TrimSpace(k)] = strings.TrimSpace(val)
	}
	if err := v.Err(); err != nil {
		// Report the domain's own complaints about the rest of the form at the same time.
		check := in
		check.Conditions = append([]string(nil), in.Conditions...)
		if _, verr := check.Validate(); verr != nil {
			var pe, fe *firebreak.Error
			if errors.As(err, &pe) && errors.As(verr, &fe) {
				for _, f := range fe.Fields {
					// Fields that could not be read were given as zero, so what the domain says of them is moot.
					if !slices.ContainsFunc(pe.Fields, func(p firebreak.FieldError) bool { return p.Field == f.Field }) {
						v.Add(f.Field, "%s", f.Message)
					}
				}
			}
		}
		return in, v.Err()
	}
	return in, nil
}

type probeListPage struct {
	Rows     []probeView
	Service  string // the filter
	Services []firebreak.Service
	// The add form (responders).
	In     probeForm
	Errors formErrors
	Error  string
	Open   bool // the add form is open (it failed)
}

func (c *console) probeList(w http.ResponseWriter, r *http.Request, v viewer) {
	c.renderProbeList(w, r, v, http.StatusOK, probeListPage{In: probeForm{Interval: "1m", Enabled: true,
		Service: r.URL.Query().Get("service")}})
}

func (c *console) renderProbeList(w http.ResponseWriter, r *http.Request, v viewer, status int, d probeListPage) {
	ctx := r.Context()
	d.Service = r.URL.Query().Get("service")
	list, err := c.s.cfg.Probes.ListProbes(ctx, firebreak.ProbeFilter{Service: d.Service})
	if err != nil {
		c.errorPage(w, r, v, err)
		return
	}
	for _, p := range list {
		st, err := c.s.cfg.Probes.GetProbe(ctx, p.ID)
		if firebreak.ErrorCode(err) == firebreak.ENotFound {
			continue // deleted meanwhile
		}
		if err != nil {
			c.errorPage(w, r, v, err)
			return
		}
		d.Rows = append(d.Rows, newProbeView(st.Probe, st.Windows))
	}
	if v.CanAct() {
		if d.Services, err = c.allServices(ctx); err != nil {
			c.errorPage(w, r, v, err)
			return
		}
	}
	if d.Errors == nil {
		d.Errors = formErrors{}
	}
	c.render(w, r, status, "probes", layoutData{Title: "Probes", Nav: "probes", Viewer: v, Page: d})
}

// probeFormError splits a failed save into field messages and a general one.
func probeFormError(err error) (formErrors, string) {
	fe, general := fieldErrors(err)
	if firebreak.ErrorCode(err) == firebreak.EConflict {
		fe["name"] = "Name is already used by another probe of this service"
	}
	if general == "" || firebreak.ErrorCode(err) == firebreak.EConflict {
		general = "Please correct the highlighted fields."
	}
	return fe, general
}

func (c *console) probeCreate(w http.ResponseWriter, r *http.Request, v viewer) {
	f := probeFormFrom(r)
	in, err := f.input()
	var p *firebreak.Probe
	if err == nil {
		p, err = c.s.cfg.Probes.CreateProbe(r.Context(), in)
	}
	if err != nil {
		code := firebreak.ErrorCode(err)
		if code != firebreak.EInvalid && code != firebreak.EConflict {
			c.errorPage(w, r, v, err)
			return
		}
		fe, general := probeFormError(err)
		c.renderProbeList(w, r, v, statusOf(code), probeListPage{In: f, Errors: fe, Error: general, Open: true})
		return
	}
	c.s.wakeProbes()
	seeOther(w, r, "/probes/"+url.PathEscape(p.ID))
}

type probePageData struct {
	View    probeView
	Status  *firebreak.ProbeStatus
	Results []probeResultRow
	// The edit form (responders).
	In       probeForm
	Services []firebreak.Service
	Errors   formErrors
	Error    string
	Open     bool
}

type probeResultRow struct {
	R       firebreak.ProbeResult
	Latency string
	Detail  string
}

type probeWindowRow struct {
	Window string
	Uptime string
	Checks int64
	P50    string
	P90    string
	P99    string
}

// Windows formats the window statistics.
func (d probePageData) Windows() []probeWindowRow {
	var out []probeWindowRow
	for _, w := range d.Status.Windows {
		label := w.Window
		switch w.Window {
		case "24h":
			label = "Last 24 hours"
		case "7d":
			label = "Last 7 days"
		}
		out = append(out, probeWindowRow{Window: label, Uptime: probePercent(w.UptimePercent), Checks: w.Checks,
			P50: probeMillis(w.P50MS), P90: probeMillis(w.P90MS), P99: probeMillis(w.P99MS)})
	}
	return out
}

func (c *console) loadProbe(ctx context.Context, id string) (*firebreak.ProbeStatus, error) {
	return c.s.cfg.Probes.GetProbe(ctx, id)
}

func (c *console) probePage(w http.ResponseWriter, r *http.Request, v viewer) {
	st, err := c.loadProbe(r.Context(), r.PathValue("id"))
	if err != nil {
		c.probeError(w, r, v, err)
		return
	}
	c.renderProbePage(w, r, v, http.StatusOK, st, probePageData{In: probeFormOf(&st.Probe)})
}

func (c *console) probeError(w http.ResponseWriter, r *http.Request, v viewer, err error) {
	if firebreak.ErrorCode(err) == firebreak.ENotFound {
		c.notFound(w, r, v, "Probe "+r.PathValue("id"))
		return
	}
	c.errorPage(w, r, v, err)
}

func (c *console) renderProbePage(w http.ResponseWriter, r *http.Request, v viewer, status int,
	st *firebreak.ProbeStatus, d probePageData) {
	d.Status = st
	d.View = newProbeView(st.Probe, st.Windows)
	for _, res := range st.Recent {
		d.Results = append(d.Results, probeResultRow{R: res, Latency: probeLatency(res.LatencyMS),
			Detail: probeResultDetail(res)})
	}
	if v.CanAct() {
		var err error
		if d.Services, err = c.allServices(r.Context()); err != nil {
			c.errorPage(w, r, v, err)
			return
		}
	}
	if d.Errors == nil {
		d.Errors = formErrors{}
	}
	c.render(w, r, status, "probe", layoutData{Title: st.Probe.Service + "/" + st.Probe.Name, Nav: "probes",
		Viewer: v, Page: d})
}

func (c *console) probeUpdate(w http.ResponseWriter, r *http.Request, v viewer) {
	id := r.PathValue("id")
	f := probeFormFrom(r)
	in, err := f.input()
	if err == nil {
		_, err = c.s.cfg.Probes.UpdateProbe(r.Context(), id, in)
	}
	if err != nil {
		code := firebreak.ErrorCode(err)
		if code != firebreak.EInvalid && code != firebreak.EConflict {
			c.probeError(w, r, v, err)
			return
		}
		st, gerr := c.loadProbe(r.Context(), id)
		if gerr != nil {
			c.probeError(w, r, v, gerr)
			return
		}
		fe, general := probeFormError(err)
		c.renderProbePage(w, r, v, statusOf(code), st, probePageData{In: f, Errors: fe, Error: general, Open: true})
		return
	}
	c.s.wakeProbes()
	seeOther(w, r, "/probes/"+url.PathEscape(id))
}

func (c *console) probeDelete(w http.ResponseWriter, r *http.Request, v viewer) {
	if err := c.s.cfg.Probes.DeleteProbe(r.Context(), r.PathValue("id")); err != nil {
		c.probeError(w, r, v, err)
		return
	}
	c.s.wakeProbes()
	seeOther(w, r, "/probes")
}

// Methods are the HTTP methods a probe may send.
func (probeForm) Methods() []string {
	return []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
}

// Severities are the severities a probe's alert may have.
func (probeForm) Severities() []string {
	return []string{string(firebreak.AlertCritical), string(firebreak.AlertError), string(firebreak.AlertWarning),
		string(firebreak.AlertInfo)}
}

// probeDuration writes a duration without its zero tails: "1m", "1h30m", "1m30s", "500ms".
func probeDuration(d firebreak.Duration) string {
	s := time.Duration(d).String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
