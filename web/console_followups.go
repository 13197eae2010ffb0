package web

// The follow-up list in the console (/follow-ups): action items across incidents, due soonest first, with their
// owner, status and the last overdue reminder; filters by owner, status and overdue; a Verify button on done
// items for anyone but their owner; and the follow-up reviews of published post-mortems. It is also where a
// reminder lands when its recipient has no contact channel.
//
//	GET  /follow-ups?owner=&status=&overdue=true&cursor=   (viewer)
//	POST /follow-ups/verify                                 (responder) incident, item, if_match + the filters

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/firebreak/firebreak"
)

func (c *console) routesFollowUps() {
	c.s.mux.HandleFunc("GET /follow-ups", c.page(c.authed(firebreak.RoleViewer, c.followUpsPage)))
	c.s.mux.HandleFunc("POST /follow-ups/verify", c.page(c.authed(firebreak.RoleResponder, c.verifyFollowUp)))
}

type followUpRow struct {
	firebreak.FollowUp
	// CanVerify: a done item the viewer may verify (a responder who is not its owner).
	CanVerify bool
}

type followUpsPage struct {
	Owner    string
	Status   string
	Overdue  bool
	Statuses []firebreak.ActionItemStatus
	Rows     []followUpRow
	Reviews  []firebreak.FollowUpReview
	NextURL  string
	// Filters is the current filter as a query string, posted back by the Verify forms.
	Filters string
	Problem string
	Notice  string
}

// followUpFilters reads the page's filters from a query (or posted form values).
func followUpFilters(vals url.Values) (firebreak.ActionItemFilter, url.Values) {
	f := firebreak.ActionItemFilter{Owner: strings.TrimSpace(vals.Get("owner")), Limit: 50}
	keep := url.Values{}
	if f.Owner != "" {
		keep.Set("owner", f.Owner)
	}
	if st := firebreak.ActionItemStatus(vals.Get("status")); slices.Contains(firebreak.ActionItemStatuses, st) {
		f.Status = []firebreak.ActionItemStatus{st}
		keep.Set("status", string(st))
	}
	if vals.Get("overdue") == "true" {
		f.Overdue = true
		keep.Set("overdue", "true")
	}
	return f, keep
}

func (c *console) followUpsPage(w http.ResponseWriter, r *http.Request, v viewer) {
	c.renderFollowUps(w, r, v, http.StatusOK, r.URL.Query(), "", "")
}

func (c *console) renderFollowUps(w http.ResponseWriter, r *http.Request, v viewer, status int, vals url.Values,
	problem, notice string) {
	ctx := r.Context()
	f, keep := followUpFilters(vals)
	f.Cursor = vals.Get("cursor")
	d := followUpsPage{Owner: f.Owner, Overdue: f.Overdue, Statuses: firebreak.ActionItemStatuses,
		Filters: keep.Encode(), Problem: problem, Notice: notice}
	if len(f.Status) > 0 {
		d.Status = string(f.Status[0])
	}
	p, err := c.s.cfg.Incidents.ListFollowUps(ctx, f)
	if firebreak.ErrorCode(err) == firebreak.EInvalid && f.Cursor != "" { // a stale cursor: start again
		f.Cursor = ""
		p, err = c.s.cfg.Incidents.ListFollowUps(ctx, f)
	}
	if err != nil {
		c.errorPage(w, r, v, err)
		return
	}
	for _, it := range p.Items {
		d.Rows = append(d.Rows, followUpRow{FollowUp: it, CanVerify: it.Status == firebreak.ActionDone && v.CanAct() &&
			!strings.EqualFold(strings.TrimSpace(it.Owner), v.Username)})
	}
	if p.NextCursor != "" {
		next := url.Values{}
		for k, vs := range keep {
			next[k] = vs
		}
		next.Set("cursor", p.NextCursor)
		d.NextURL = "/follow-ups?" + next.Encode()
	}
	if fs, ok := c.s.followThroughService(); ok && f.Cursor == "" {
		rp, err := fs.ListFollowUpReviews(ctx, firebreak.FollowUpReviewFilter{Limit: 50})
		if err != nil {
			c.errorPage(w, r, v, err)
			return
		}
		d.Reviews = rp.Items
	}
	c.render(w, r, status, "followups", layoutData{Title: "Follow-ups", Nav: "follow-ups", Viewer: v, Page: d})
}

// verifyFollowUp verifies a done action item from the list (never by its owner: the store refuses that) and
// returns to the list with the same filters.
func (c *console) verifyFollowUp(w http.ResponseWriter, r *http.Request, v viewer) {
	ref, id := strings.TrimSpace(r.PostFormValue("incident")), strings.TrimSpace(r.PostFormValue("item"))
	back, _ := url.ParseQuery(r.PostFormValue("filters"))
	_, keep := followUpFilters(back)
	st := firebreak.ActionVerified
	a, err := c.s.cfg.Incidents.UpdateActionItem(r.Context(), ref, id, firebreak.ActionItemPatch{Status: &st},
		ifMatch(r))
	if err != nil {
		code := firebreak.ErrorCode(err)
		msg := firebreak.ErrorMessage(err)
		var e *firebreak.Error
		if errors.As(err, &e) && len(e.Fields) > 0 {
			msg = e.Fields[0].Message
		}
		switch code {
		case firebreak.EPreconditionFailed:
			msg = "Someone else changed this action item while you were looking at it, so it was not verified. " +
				"The list now shows it as it is: review it and try again."
		case firebreak.EInvalid, firebreak.EConflict, firebreak.ENotFound:
		default:
			c.errorPage(w, r, v, err)
			return
		}
		c.renderFollowUps(w, r, v, statusOf(code), keep, "Not verified: "+msg, "")
		return
	}
	target := "/follow-ups"
	if q := keep.Encode(); q != "" {
		target += "?" + q
	}
	seeOther(w, r, target+"#item-"+url.PathEscape(a.ID))
}

// formTags reads a tags field: words separated by spaces or commas (normalized and checked by the domain).
func formTags(s string) []string {
	out := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' || r == '\r' })
	if out == nil {
		out = []string{}
	}
	return out
}

// conflictDetails lists the field errors of a conflict (the close policy's blockers) for the incident page's
// message: " — post-mortem is draft …; "Add breakers" is open …".
func conflictDetails(err error) string {
	var e *firebreak.Error
	if !errors.As(err, &e) || len(e.Fields) == 0 {
		return ""
	}
	parts := make([]string, 0, len(e.Fields))
	for _, f := range e.Fields {
		if f.Field == "postmortem" {
			parts = append(parts, "post-mortem "+f.Message)
		} else {
			parts = append(parts, f.Message)
		}
	}
	return " — " + strings.Join(parts, "; ") + "."
}
