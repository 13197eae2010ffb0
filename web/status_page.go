package web

// The public status page: GET /status (HTML, no login, no script), /status/feed.atom (Atom 1.0, one entry per
// external update) and /status/summary.json (Statuspage's v2 summary shape), plus the admin API that chooses the
// components (GET/PUT /api/v1/status/components).
//
// The page is derived data and may be requested by many people at once during an outage, so each replica builds
// it at most once per statusCacheTTL: one request reads the store and renders the three documents (with their
// gzip forms and ETags) while concurrent ones wait for it, and every later request within the TTL is answered from
// memory, 304 when the client already has it.

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"html"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/firebreak/firebreak"
)

// statusCacheTTL is how long a built status page is served before it is built again.
const statusCacheTTL = 5 * time.Second

// statusMaxAge is the Cache-Control max-age of the status documents, in seconds.
const statusMaxAge = "5"

// statusFeedEntries is the most entries the Atom feed holds.
const statusFeedEntries = 50

// routesStatus registers the public status page and its API, when the incident service can also serve it.
func (s *Server) routesStatus() {
	sp, ok := s.cfg.Incidents.(firebreak.StatusPageService)
	if !ok {
		return
	}
	h := &statusPage{s: s, sp: sp, static: mustLoadStatic(), entries: map[string]*statusEntry{}}
	h.tmpl = template.Must(template.New("status").Funcs(templateFuncs(h.static)).
		ParseFS(templateFS, "templates/status.html"))
	s.mux.HandleFunc("GET /status", h.serve(statusHTML))
	s.mux.HandleFunc("GET /status/feed.atom", h.serve(statusAtom))
	s.mux.HandleFunc("GET /status/summary.json", h.serve(statusJSON))
	s.api("GET /status/components", firebreak.RoleViewer, h.getConfig)
	s.api("PUT /status/components", firebreak.RoleAdmin, h.putConfig)
}

type statusFormat int

const (
	statusHTML statusFormat = iota
	statusAtom
	statusJSON
)

var statusTypes = [...]string{
	statusHTML: "text/html; charset=utf-8",
	statusAtom: "application/atom+xml; charset=utf-8",
	statusJSON: "application/json",
}

type statusPage struct {
	s      *Server
	sp     firebreak.StatusPageService
	static *staticAssets
	tmpl   *template.Template

	mu      sync.Mutex
	entries map[string]*statusEntry // by base URL (the public URL, or the request's)
}

// statusEntry is the page built for one base URL, and what is needed to build it again.
type statusEntry struct {
	mu       sync.Mutex // held while building, so that concurrent requests wait for one build
	expires  time.Time
	docs     [3]statusDoc
	modified time.Time // when the content last changed, as seen by this process
}

// statusDoc is one rendered document.
type statusDoc struct {
	body, gz []byte
	etag     string
}

func newStatusDoc(body []byte) statusDoc {
	sum := sha256.Sum256(body)
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	_, _ = zw.Write(body)
	_ = zw.Close()
	return statusDoc{body: body, gz: buf.Bytes(), etag: `"` + hex.EncodeToString(sum[:12]) + `"`}
}

// entry returns the current page for base, building it when it is older than statusCacheTTL.
func (h *statusPage) entry(ctx context.Context, base string) (*statusEntry, error) {
	h.mu.Lock()
	e, ok := h.entries[base]
	if !ok {
		if len(h.entries) >= 8 { // a few names for the server at most; forget them all rather than grow
			clear(h.entries)
		}
		e = &statusEntry{}
		h.entries[base] = e
	}
	h.mu.Unlock()
	e.mu.Lock()
	defer e.mu.Unlock()
	now := h.s.cfg.Now()
	if now.Before(e.expires) {
		return e, nil
	}
	// The build serves every waiting request, so one client going away does not cancel it.
	bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	d, err := h.sp.StatusData(bctx, now)
	if err != nil {
		if e.docs[statusHTML].body != nil { // the database is struggling: the last page is better than none
			h.s.log.WarnContext(ctx, "status page: serving the last one built", "err", err)
			e.expires = now.Add(time.Second)
			return e, nil
		}
		return nil, err
	}
	p := firebreak.BuildStatusPage(d, now)
	var docs [3]statusDoc
	var buf bytes.Buffer
	if err := h.tmpl.ExecuteTemplate(&buf, "status_document",
		layoutData{Title: p.Name, Page: newStatusView(p, base)}); err != nil {
		return nil, err
	}
	docs[statusHTML] = newStatusDoc(buf.Bytes())
	feed, err := statusFeed(p, base)
	if err != nil {
		return nil, err
	}
	docs[statusAtom] = newStatusDoc(feed)
	sum, err := json.Marshal(statusSummary(p, base))
	if err != nil {
		return nil, err
	}
	docs[statusJSON] = newStatusDoc(sum)
	if e.modified.IsZero() || !sameDocs(docs, e.docs) {
		e.modified = now.UTC().Truncate(time.Second)
	}
	e.docs, e.expires = docs, now.Add(statusCacheTTL)
	return e, nil
}

func sameDocs(a, b [3]statusDoc) bool {
	for i := range a {
		if a[i].etag != b[i].etag {
			return false
		}
	}
	return true
}

// serve answers one of the documents: 304 when the client has it, gzip when the client takes it.
func (h *statusPage) serve(f statusFormat) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("X-Content-Type-Options", "nosniff")
		if f == statusHTML {
			hd.Set("Content-Security-Policy", consoleCSP)
			hd.Set("X-Frame-Options", "DENY")
			hd.Set("Referrer-Policy", "same-origin")
		} else {
			hd.Set("Access-Control-Allow-Origin", "*") // public data, read by widgets on other sites
		}
		e, err := h.entry(r.Context(), h.s.baseURL(r))
		if err != nil {
			h.s.log.ErrorContext(r.Context(), "status page", "err", err)
			hd.Set("Cache-Control", "no-store")
			hd.Set("Retry-After", "5")
			http.Error(w, "The status page is unavailable for a moment; try again shortly.",
				http.StatusServiceUnavailable)
			return
		}
		doc := e.docs[f]
		hd.Set("Cache-Control", "public, max-age="+statusMaxAge)
		hd.Set("Vary", "Accept-Encoding")
		hd.Set("ETag", doc.etag)
		hd.Set("Last-Modified", e.modified.Format(http.TimeFormat))
		if statusNotModified(r, doc.etag, e.modified) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		hd.Set("Content-Type", statusTypes[f])
		body := doc.body
		if acceptsGzip(r) {
			hd.Set("Content-Encoding", "gzip")
			body = doc.gz
		}
		if r.Method == http.MethodHead {
			return
		}
		_, _ = w.Write(body)
	}
}

// statusNotModified applies If-None-Match, or else If-Modified-Since (RFC 9110 §13.1).
func statusNotModified(r *http.Request, etag string, modified time.Time) bool {
	if inm := r.Header.Get("If-None-Match"); inm != "" {
		for _, t := range strings.Split(inm, ",") {
			t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
			if t == etag || t == "*" {
				return true
			}
		}
		return false
	}
	if ims, err := http.ParseTime(r.Header.Get("If-Modified-Since")); err == nil {
		return !modified.After(ims)
	}
	return false
}

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(name), "gzip") {
			return strings.ReplaceAll(strings.TrimSpace(params), " ", "") != "q=0"
		}
	}
	return false
}

// --- the API ---------------------------------------------------------------------------------------------------

func (h *statusPage) getConfig(w http.ResponseWriter, r *http.Request) {
	c, err := h.sp.GetStatusPageConfig(r.Context())
	if err != nil {
		h.s.problem(w, r, err)
		return
	}
	if c.Version > 0 && apiNotModified(w, r, c.Version) {
		return
	}
	apiRespond(w, http.StatusOK, c.Version, c)
}

func (h *statusPage) putConfig(w http.ResponseWriter, r *http.Request) {
	version, err := apiIfMatch(r)
	if err != nil {
		h.s.problem(w, r, err)
		return
	}
	var in firebreak.StatusPageInput
	if _, err := h.s.decodeRequest(w, r, &in, false); err != nil {
		h.s.problem(w, r, err)
		return
	}
	c, err := h.sp.SetStatusPageConfig(r.Context(), in, version)
	if err != nil {
		h.s.problem(w, r, err)
		return
	}
	// This replica shows the change at once; others within statusCacheTTL.
	h.mu.Lock()
	clear(h.entries)
	h.mu.Unlock()
	apiRespond(w, http.StatusOK, c.Version, c)
}

// --- HTML ------------------------------------------------------------------------------------------------------

// statusView is what templates/status.html renders.
type statusView struct {
	Name        string
	Indicator   string
	Description string
	NoComponent bool
	Groups      []statusGroupView
	Open        []statusIncidentView
	Maintenance []statusMaintenanceView
	History     []statusDayView
	HistoryDays int
	UpdatedAt   time.Time
	FeedURL     string
	JSONURL     string
}

type statusGroupView struct {
	Name       string
	State      firebreak.ComponentState
	Components []statusComponentView
}

type statusComponentView struct {
	Name, Description string
	State             firebreak.ComponentState
}

type statusIncidentView struct {
	ID          string
	Title       string
	Impact      string
	Status      string // "Monitoring", …
	StatusClass string // "monitoring", …
	Components  []string
	StartedAt   time.Time
	ResolvedAt  *time.Time
	Updates     []statusUpdateView // newest first
}

type statusUpdateView struct {
	Status  string
	Message string
	At      time.Time
}

type statusMaintenanceView struct {
	Title, Description string
	Active             bool
	StartsAt, EndsAt   time.Time
	Components         []string
}

type statusDayView struct {
	Day       time.Time
	Incidents []statusIncidentView
}

func newStatusView(p *firebreak.StatusPage, base string) statusView {
	names := map[string]string{}
	for _, c := range p.Components {
		names[c.Service] = c.Name
	}
	compNames := func(slugs []string) []string {
		out := make([]string, 0, len(slugs))
		for _, s := range slugs {
			if n, ok := names[s]; ok {
				out = append(out, n)
			}
		}
		return out
	}
	incView := func(inc firebreak.StatusIncident) statusIncidentView {
		v := statusIncidentView{ID: inc.ID, Title: inc.Title, Impact: firebreak.SeverityImpact(inc.Severity),
			Status: firebreak.PublicStatusLabel(inc.Status), StatusClass: firebreak.PublicStatus(inc.Status),
			Components: compNames(inc.Services), StartedAt: inc.StartedAt, ResolvedAt: inc.ResolvedAt}
		for i := len(inc.Updates) - 1; i >= 0; i-- {
			u := inc.Updates[i]
			v.Updates = append(v.Updates, statusUpdateView{Status: firebreak.PublicStatusLabel(u.Status),
				Message: u.Message, At: u.CreatedAt})
		}
		return v
	}
	v := statusView{Name: p.Name, Indicator: p.Indicator, Description: p.Description,
		NoComponent: len(p.Components) == 0, UpdatedAt: p.UpdatedAt, HistoryDays: firebreak.StatusHistoryDays,
		FeedURL: base + "/status/feed.atom", JSONURL: base + "/status/summary.json"}
	for _, g := range p.Groups {
		gv := statusGroupView{Name: g.Name, State: g.State}
		for _, c := range g.Components {
			gv.Components = append(gv.Components, statusComponentView{Name: c.Name, Description: c.Description,
				State: c.State})
		}
		v.Groups = append(v.Groups, gv)
	}
	for _, inc := range p.Open {
		v.Open = append(v.Open, incView(inc))
	}
	for _, w := range p.Maintenance {
		v.Maintenance = append(v.Maintenance, statusMaintenanceView{Title: w.Title, Description: w.Description,
			Active: w.StateAt(p.At) == firebreak.MaintenanceActive, StartsAt: w.StartsAt, EndsAt: w.EndsAt,
			Components: compNames(w.Services)})
	}
	for _, d := range p.History() {
		dv := statusDayView{Day: d.Day}
		for _, inc := range d.Incidents {
			dv.Incidents = append(dv.Incidents, incView(inc))
		}
		v.History = append(v.History, dv)
	}
	return v
}

// --- Atom ------------------------------------------------------------------------------------------------------

type atomFeed struct {
	XMLName xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
	ID      string      `xml:"id"`
	Title   string      `xml:"title"`
	Updated string      `xml:"updated"`
	Links   []atomLink  `xml:"link"`
	Author  atomAuthor  `xml:"author"`
	Entries []atomEntry `xml:"entry"`
}

type atomLink struct {
	Rel  string `xml:"rel,attr,omitempty"`
	Type string `xml:"type,attr,omitempty"`
	Href string `xml:"href,attr"`
}

type atomAuthor struct {
	Name string `xml:"name"`
}

type atomEntry struct {
	ID        string      `xml:"id"`
	Title     string      `xml:"title"`
	Updated   string      `xml:"updated"`
	Published string      `xml:"published"`
	Link      atomLink    `xml:"link"`
	Content   atomContent `xml:"content"`
}

type atomContent struct {
	Type string `xml:"type,attr"`
	Body string `xml:",chardata"`
}

// statusTagAuthority is the authority of the feed's tag: URIs (RFC 4151): the host of base, without its port.
func statusTagAuthority(base string) string {
	u, err := url.Parse(base)
	if err != nil || u.Hostname() == "" {
		return "localhost"
	}
	return strings.ToLower(u.Hostname())
}

// statusFeed is the Atom feed: one entry per external update, newest first.
func statusFeed(p *firebreak.StatusPage, base string) ([]byte, error) {
	auth := statusTagAuthority(base)
	page := base + "/status"
	f := atomFeed{ID: "tag:" + auth + ",2026:firebreak/status", Title: p.Name, Author: atomAuthor{Name: p.Name},
		Updated: p.UpdatedAt.UTC().Format(time.RFC3339),
		Links: []atomLink{{Rel: "self", Type: "application/atom+xml", Href: page + "/feed.atom"},
			{Rel: "alternate", Type: "text/html", Href: page}}}
	type item struct {
		inc firebreak.StatusIncident
		u   firebreak.StatusUpdate
	}
	var items []item
	for _, list := range [][]firebreak.StatusIncident{p.Open, p.Resolved} {
		for _, inc := range list {
			for _, u := range inc.Updates {
				items = append(items, item{inc, u})
			}
		}
	}
	slices.SortStableFunc(items, func(a, b item) int { return b.u.CreatedAt.Compare(a.u.CreatedAt) })
	if len(items) > statusFeedEntries {
		items = items[:statusFeedEntries]
	}
	for _, it := range items {
		at := it.u.CreatedAt.UTC()
		body := "<p><strong>" + html.EscapeString(firebreak.PublicStatusLabel(it.u.Status)) + "</strong> – " +
			strings.ReplaceAll(html.EscapeString(it.u.Message), "\n", "<br>") + "</p>"
		f.Entries = append(f.Entries, atomEntry{
			ID:    "tag:" + auth + "," + at.Format(time.DateOnly) + ":firebreak/status/update/" + it.u.ID,
			Title: it.inc.Title + " – " + firebreak.PublicStatusLabel(it.u.Status), Updated: at.Format(time.RFC3339),
			Published: at.Format(time.RFC3339), Link: atomLink{Rel: "alternate", Type: "text/html",
				Href: page + "#incident-" + it.inc.ID},
			Content: atomContent{Type: "html", Body: body}})
	}
	out, err := xml.MarshalIndent(f, "", "  ")
	if err != nil {
		return nil, err
	}
	return append([]byte(xml.Header), out...), nil
}

// --- summary.json ----------------------------------------------------------------------------------------------

// The Statuspage v2 summary (https://<page>/api/v2/summary.json), field for field.
type spSummary struct {
	Page                  spPage          `json:"page"`
	Status                spStatus        `json:"status"`
	Components            []spComponent   `json:"components"`
	Incidents             []spIncident    `json:"incidents"`
	ScheduledMaintenances []spMaintenance `json:"scheduled_maintenances"`
}

type spPage struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	URL       string `json:"url"`
	TimeZone  string `json:"time_zone"`
	UpdatedAt string `json:"updated_at"`
}

type spStatus struct {
	Indicator   string `json:"indicator"`
	Description string `json:"description"`
}

type spComponent struct {
	ID                 string   `json:"id"`
	Name               string   `json:"name"`
	Status             string   `json:"status"`
	CreatedAt          string   `json:"created_at"`
	UpdatedAt          string   `json:"updated_at"`
	Position           int      `json:"position"`
	Description        *string  `json:"description"`
	Showcase           bool     `json:"showcase"`
	StartDate          *string  `json:"start_date"`
	GroupID            *string  `json:"group_id"`
	PageID             string   `json:"page_id"`
	Group              bool     `json:"group"`
	OnlyShowIfDegraded bool     `json:"only_show_if_degraded"`
	Components         []string `json:"components,omitempty"`
}

type spIncident struct {
	ID              string             `json:"id"`
	Name            string             `json:"name"`
	Status          string             `json:"status"`
	CreatedAt       string             `json:"created_at"`
	UpdatedAt       string             `json:"updated_at"`
	MonitoringAt    *string            `json:"monitoring_at"`
	ResolvedAt      *string            `json:"resolved_at"`
	Impact          string             `json:"impact"`
	Shortlink       string             `json:"shortlink"`
	StartedAt       string             `json:"started_at"`
	PageID          string             `json:"page_id"`
	IncidentUpdates []spIncidentUpdate `json:"incident_updates"`
	Components      []spComponent      `json:"components"`
}

type spMaintenance struct {
	spIncident
	ScheduledFor   string `json:"scheduled_for"`
	ScheduledUntil string `json:"scheduled_until"`
}

type spIncidentUpdate struct {
	ID                   string  `json:"id"`
	Status               string  `json:"status"`
	Body                 string  `json:"body"`
	IncidentID           string  `json:"incident_id"`
	CreatedAt            string  `json:"created_at"`
	UpdatedAt            string  `json:"updated_at"`
	DisplayAt            string  `json:"display_at"`
	AffectedComponents   []any   `json:"affected_components"`
	DeliverNotifications bool    `json:"deliver_notifications"`
	CustomTweet          *string `json:"custom_tweet"`
	TweetID              *string `json:"tweet_id"`
}

func spTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z07:00") }

func spTimePtr(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := spTime(*t)
	return &s
}

func strPtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// statusPageID is the page's id in summary.json: stable for a base URL.
func statusPageID(base string) string {
	sum := sha256.Sum256([]byte(base))
	return hex.EncodeToString(sum[:6])
}

func statusGroupID(pageID, name string) string {
	sum := sha256.Sum256([]byte(pageID + "\x00" + name))
	return "group-" + hex.EncodeToString(sum[:6])
}

func statusSummary(p *firebreak.StatusPage, base string) spSummary {
	pageID := statusPageID(base)
	page := base + "/status"
	out := spSummary{Page: spPage{ID: pageID, Name: p.Name, URL: page, TimeZone: "Etc/UTC",
		UpdatedAt: spTime(p.UpdatedAt)}, Status: spStatus{Indicator: p.Indicator, Description: p.Description},
		Components: []spComponent{}, Incidents: []spIncident{}, ScheduledMaintenances: []spMaintenance{}}
	comps := map[string]spComponent{}
	position := 0
	for _, g := range p.Groups {
		var groupID *string
		var group *spComponent
		if g.Name != "" {
			position++
			id := statusGroupID(pageID, g.Name)
			groupID = &id
			group = &spComponent{ID: id, Name: g.Name, Status: string(g.State), Position: position, PageID: pageID,
				Group: true, Components: []string{}}
		}
		var children []spComponent
		for _, c := range g.Components {
			position++
			sc := spComponent{ID: c.ID, Name: c.Name, Status: string(c.State), CreatedAt: spTime(c.CreatedAt),
				UpdatedAt: spTime(c.Since), Position: position, Description: strPtr(c.Description),
				GroupID: groupID, PageID: pageID, Showcase: true}
			comps[c.Service] = sc
			children = append(children, sc)
			if group != nil {
				group.Components = append(group.Components, c.ID)
				if group.CreatedAt == "" || sc.CreatedAt < group.CreatedAt {
					group.CreatedAt = sc.CreatedAt
				}
				if sc.UpdatedAt > group.UpdatedAt {
					group.UpdatedAt = sc.UpdatedAt
				}
			}
		}
		if group != nil {
			out.Components = append(out.Components, *group)
		}
		out.Components = append(out.Components, children...)
	}
	affected := func(slugs []string) []spComponent {
		out := []spComponent{}
		for _, s := range slugs {
			if c, ok := comps[s]; ok {
				out = append(out, c)
			}
		}
		return out
	}
	for _, inc := range p.Open {
		si := spIncident{ID: inc.ID, Name: inc.Title, Status: firebreak.PublicStatus(inc.Status),
			CreatedAt: spTime(inc.StartedAt), UpdatedAt: spTime(inc.UpdatedAt()),
			ResolvedAt: spTimePtr(inc.ResolvedAt), Impact: firebreak.SeverityImpact(inc.Severity),
			Shortlink: page + "#incident-" + inc.ID, StartedAt: spTime(inc.StartedAt), PageID: pageID,
			IncidentUpdates: []spIncidentUpdate{}, Components: affected(inc.Services)}
		if inc.Status == firebreak.StatusMitigating {
			si.MonitoringAt = spTimePtr(inc.MitigatedAt)
		}
		for i := len(inc.Updates) - 1; i >= 0; i-- { // newest first, as Statuspage lists them
			u := inc.Updates[i]
			at := spTime(u.CreatedAt)
			si.IncidentUpdates = append(si.IncidentUpdates, spIncidentUpdate{ID: u.ID,
				Status: firebreak.PublicStatus(u.Status), Body: u.Message, IncidentID: inc.ID, CreatedAt: at,
				UpdatedAt: at, DisplayAt: at, AffectedComponents: []any{}})
		}
		out.Incidents = append(out.Incidents, si)
	}
	for _, w := range p.Maintenance {
		st := "scheduled"
		if w.StateAt(p.At) == firebreak.MaintenanceActive {
			st = "in_progress"
		}
		m := spMaintenance{spIncident: spIncident{ID: w.ID, Name: w.Title, Status: st,
			CreatedAt: spTime(w.CreatedAt), UpdatedAt: spTime(w.UpdatedAt), Impact: "maintenance",
			Shortlink: page + "#maintenance-" + w.ID, StartedAt: spTime(w.StartsAt), PageID: pageID,
			IncidentUpdates: []spIncidentUpdate{}, Components: affected(w.Services)},
			ScheduledFor: spTime(w.StartsAt), ScheduledUntil: spTime(w.EndsAt)}
		if w.Description != "" {
			at := spTime(w.UpdatedAt)
			m.IncidentUpdates = append(m.IncidentUpdates, spIncidentUpdate{ID: w.ID + "-description",
				Status: "scheduled", Body: w.Description, IncidentID: w.ID, CreatedAt: at, UpdatedAt: at,
				DisplayAt: at, AffectedComponents: []any{}})
		}
		out.ScheduledMaintenances = append(out.ScheduledMaintenances, m)
	}
	return out
}
