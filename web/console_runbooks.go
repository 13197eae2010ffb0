package web

import (
	"context"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/firebreak/firebreak"
)

// Runbooks in the console:
//
//	GET  /runbooks?service=&stale=1&cursor=   the list, stale ones flagged, and the new-runbook form (?new=1 opens it)
//	POST /runbooks                            create (responders)
//	GET  /runbooks/{id}?version=N             a runbook rendered from Markdown (or one of its saved versions),
//	                                          its review state, the edit form and the revisions
//	POST /runbooks/{id}                       save a new version (with the version edited: a stale one is refused
//	                                          and what was typed is kept)
//	POST /runbooks/{id}/review                record a review now

func (c *console) routesRunbooks() {
	if _, ok := c.s.runbooks(); !ok {
		return
	}
	viewerRole, responder := firebreak.RoleViewer, firebreak.RoleResponder
	c.s.mux.HandleFunc("GET /runbooks", c.page(c.authed(viewerRole, c.runbookList)))
	c.s.mux.HandleFunc("POST /runbooks", c.page(c.authed(responder, c.runbookCreate)))
	c.s.mux.HandleFunc("GET /runbooks/{id}", c.page(c.authed(viewerRole, c.runbookPage)))
	c.s.mux.HandleFunc("POST /runbooks/{id}", c.page(c.authed(responder, c.runbookSave)))
	c.s.mux.HandleFunc("POST /runbooks/{id}/review", c.page(c.authed(responder, c.runbookReview)))
}

// runbookForm is what the create and edit forms hold.
type runbookForm struct {
	Service string
	Title   string
	Owner   string
	Body    string
	Version int64
}

func runbookFormOf(r *http.Request) runbookForm {
	v, _ := strconv.ParseInt(r.PostFormValue("if_match"), 10, 64)
	return runbookForm{Service: strings.TrimSpace(r.PostFormValue("service")),
		Title: strings.TrimSpace(r.PostFormValue("title")), Owner: strings.TrimSpace(r.PostFormValue("owner")),
		Body: r.PostFormValue("body"), Version: v}
}

type runbookListPage struct {
	Rows       []firebreak.Runbook
	Services   []firebreak.Service
	Users      []firebreak.User
	Service    string
	StaleOnly  bool
	StaleCount int
	NextURL    string
	In         runbookForm
	Errors     formErrors
	Error      string
	Open       bool // the new-runbook form is open
}

func (c *console) runbookList(w http.ResponseWriter, r *http.Request, v viewer) {
	q := r.URL.Query()
	d := &runbookListPage{Service: q.Get("service"), StaleOnly: q.Get("stale") == "1", Errors: formErrors{},
		Open: q.Get("new") == "1"}
	d.In.Service = d.Service
	c.renderRunbookList(w, r, v, http.StatusOK, d, q.Get("cursor"))
}

func (c *console) renderRunbookList(w http.ResponseWriter, r *http.Request, v viewer, status int, d *runbookListPage,
	cursor string) {
	ctx := r.Context()
	rs, _ := c.s.runbooks()
	f := firebreak.RunbookFilter{Limit: 100, Cursor: cursor}
	if d.Service != "" {
		f.Services = []string{d.Service}
	}
	if d.StaleOnly {
		stale := true
		f.Stale = &stale
	}
	p, err := rs.ListRunbooks(ctx, f)
	if firebreak.ErrorCode(err) == firebreak.EInvalid { // a hand-made filter or cursor: show everything instead
		d.Error, d.Service, d.StaleOnly = firebreak.ErrorMessage(err), "", false
		p, err = rs.ListRunbooks(ctx, firebreak.RunbookFilter{Limit: 100})
	}
	if err != nil {
		c.errorPage(w, r, v, err)
		return
	}
	d.Rows = p.Items
	for _, rb := range d.Rows {
		if rb.Stale {
			d.StaleCount++
		}
	}
	if p.NextCursor != "" {
		next := url.Values{"cursor": {p.NextCursor}}
		if d.Service != "" {
			next.Set("service", d.Service)
		}
		if d.StaleOnly {
			next.Set("stale", "1")
		}
		d.NextURL = "/runbooks?" + next.Encode()
	}
	if d.Services, err = c.allServices(ctx); err != nil {
		c.errorPage(w, r, v, err)
		return
	}
	if v.CanAct() {
		d.Users = c.knownUsers(ctx)
	}
	c.render(w, r, status, "runbooks", layoutData{Title: "Runbooks", Nav: "runbooks", Viewer: v, Page: d})
}

// knownUsers lists users for the owner field's suggestions (none when that fails: the field still works).
func (c *console) knownUsers(ctx context.Context) []firebreak.User {
	users, err := c.s.cfg.Users.ListUsers(ctx)
	if err != nil {
		c.s.log.WarnContext(ctx, "listing users for the owner field", "err", err)
	}
	return users
}

func (c *console) runbookCreate(w http.ResponseWriter, r *http.Request, v viewer) {
	rs, _ := c.s.runbooks()
	in := runbookFormOf(r)
	rb, err := rs.CreateRunbook(r.Context(), firebreak.RunbookInput{Service: in.Service, Title: in.Title,
		Body: in.Body, Owner: in.Owner})
	if err != nil {
		if firebreak.ErrorCode(err) != firebreak.EInvalid {
			c.errorPage(w, r, v, err)
			return
		}
		fe, general := fieldErrors(err)
		d := &runbookListPage{In: in, Errors: fe, Error: general, Open: true}
		if general == "" {
			d.Error = "The runbook was not created: check the fields marked below."
		}
		c.renderRunbookList(w, r, v, http.StatusUnprocessableEntity, d, "")
		return
	}
	seeOther(w, r, "/runbooks/"+rb.ID+"?created=1")
}

type runbookPageData struct {
	RB        *firebreak.Runbook
	Body      template.HTML // the Markdown of the version shown, rendered
	Viewing   *firebreak.RunbookRevision
	Revisions []firebreak.RunbookRevision // newest first
	Services  []firebreak.Service
	Users     []firebreak.User
	In        runbookForm
	Errors    formErrors
	Error     string
	Stale     bool // the edit was refused: someone saved a newer version meanwhile
	EditOpen  bool
	Notice    string
}

func (c *console) runbookPage(w http.ResponseWriter, r *http.Request, v viewer) {
	q := r.URL.Query()
	d := &runbookPageData{Errors: formErrors{}}
	switch {
	case q.Get("created") == "1":
		d.Notice = "The runbook was created."
	case q.Get("saved") != "":
		d.Notice = "Saved as version " + q.Get("saved") + "."
	case q.Get("reviewed") == "1":
		d.Notice = "Your review is recorded: the next one is due in 90 days, or after the next architecture change."
	}
	c.renderRunbook(w, r, v, http.StatusOK, d, q.Get("version"))
}

func (c *console) renderRunbook(w http.ResponseWriter, r *http.Request, v viewer, status int, d *runbookPageData,
	version string) {
	ctx := r.Context()
	rs, _ := c.s.runbooks()
	rb, err := rs.GetRunbook(ctx, r.PathValue("id"))
	if err != nil {
		if firebreak.ErrorCode(err) == firebreak.ENotFound {
			c.notFound(w, r, v, "Runbook "+r.PathValue("id"))
			return
		}
		c.errorPage(w, r, v, err)
		return
	}
	d.RB = rb
	if d.Revisions, err = rs.ListRunbookRevisions(ctx, rb.ID); err != nil {
		c.errorPage(w, r, v, err)
		return
	}
	slices.Reverse(d.Revisions)
	body := rb.Body
	if n, err := strconv.ParseInt(version, 10, 64); err == nil && n != rb.Version {
		for i := range d.Revisions {
			if d.Revisions[i].Version == n {
				d.Viewing = &d.Revisions[i]
				body = d.Viewing.Body
			}
		}
		if d.Viewing == nil {
			c.notFound(w, r, v, "Version "+version+" of this runbook")
			return
		}
	}
	d.Body = renderMarkdown(body, 2)
	if !d.Stale && !d.Errors.Any() {
		d.In = runbookForm{Service: rb.Service, Title: rb.Title, Owner: rb.Owner, Body: rb.Body, Version: rb.Version}
	}
	d.In.Version = rb.Version // a save after a refusal applies to the version now shown
	if v.CanAct() {
		if d.Services, err = c.allServices(ctx); err != nil {
			c.errorPage(w, r, v, err)
			return
		}
		d.Users = c.knownUsers(ctx)
	}
	c.render(w, r, status, "runbook", layoutData{Title: rb.Title + " · Runbook", Nav: "runbooks", Viewer: v, Page: d})
}

func (c *console) runbookSave(w http.ResponseWriter, r *http.Request, v viewer) {
	rs, _ := c.s.runbooks()
	in := runbookFormOf(r)
	p := firebreak.RunbookPatch{Service: &in.Service, Title: &in.Title, Owner: &in.Owner, Body: &in.Body}
	if in.Version == 0 {
		c.errorPage(w, r, v, staleForm())
		return
	}
	rb, err := rs.UpdateRunbook(r.Context(), r.PathValue("id"), p, in.Version)
	if err != nil {
		d := &runbookPageData{In: in, Errors: formErrors{}, EditOpen: true}
		switch firebreak.ErrorCode(err) {
		case firebreak.EPreconditionFailed:
			d.Stale = true
			d.Error = "Someone else saved a newer version of this runbook while you were editing, so your version " +
				"was not saved. The page shows the current runbook; your text is kept in the form below: compare, " +
				"then save again."
		case firebreak.EInvalid:
			d.Errors, d.Error = fieldErrors(err)
			if d.Error == "" {
				d.Error = "The runbook was not saved: check the fields marked below."
			}
		default:
			c.errorPage(w, r, v, err)
			return
		}
		c.renderRunbook(w, r, v, statusOf(firebreak.ErrorCode(err)), d, "")
		return
	}
	seeOther(w, r, "/runbooks/"+rb.ID+"?saved="+strconv.FormatInt(rb.Version, 10))
}

func (c *console) runbookReview(w http.ResponseWriter, r *http.Request, v viewer) {
	rs, _ := c.s.runbooks()
	rb, err := rs.ReviewRunbook(r.Context(), r.PathValue("id"), ifMatch(r))
	if err != nil {
		if firebreak.ErrorCode(err) == firebreak.EPreconditionFailed {
			c.renderRunbook(w, r, v, http.StatusPreconditionFailed, &runbookPageData{Errors: formErrors{},
				Error: "This runbook changed since you read it, so your review was not recorded. Read the current " +
					"version below, then review it."}, "")
			return
		}
		c.errorPage(w, r, v, err)
		return
	}
	seeOther(w, r, "/runbooks/"+rb.ID+"?reviewed=1")
}
