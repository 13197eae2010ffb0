package web

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/firebreak/firebreak"
)

// The post-mortem editor: one form with every section as fields, the blameless-lint findings listed (and the
// flagged words highlighted) under the field they concern, the workflow buttons, and a print-friendly view.
//
//	GET  /incidents/{ref}/postmortem          the editor (or a "draft it now" button)
//	POST /incidents/{ref}/postmortem          save the form (the version it was rendered with is the If-Match)
//	POST /incidents/{ref}/postmortem/{step}   create, submit, approve, publish, close
//	GET  /incidents/{ref}/postmortem/print    the print-friendly document
//
// The Markdown export is the API's GET /api/v1/incidents/{ref}/postmortem.md (a console session may read it).

func (c *console) routesPostmortems() {
	if _, ok := c.s.postmortems(); !ok {
		return
	}
	c.s.mux.HandleFunc("GET /incidents/{ref}/postmortem", c.page(c.authed(firebreak.RoleViewer, c.postmortemPage)))
	c.s.mux.HandleFunc("POST /incidents/{ref}/postmortem",
		c.page(c.authed(firebreak.RoleResponder, c.postmortemSave)))
	c.s.mux.HandleFunc("POST /incidents/{ref}/postmortem/{step}",
		c.page(c.authed(firebreak.RoleResponder, c.postmortemStep)))
	c.s.mux.HandleFunc("GET /incidents/{ref}/postmortem/print",
		c.page(c.authed(firebreak.RoleViewer, c.postmortemPrint)))
}

// pmFactorForm is one contributing factor row of the form.
type pmFactorForm struct {
	Category    string
	Description string
	Evidence    string // one link per line
	Primary     bool
}

// pmForm holds the form's values: the stored document, or what was posted when saving failed.
type pmForm struct {
	Title, Summary, ImpactDescription, UsersAffected, DurationMinutes, DataLossDetails string
	UsersEstimated, DataLoss, CustomerFacing, DetectedByCustomer                       bool
	LeadUp, Trigger, DetectionNarrative, DetectionGap, Response, Recovery              string
	WentWell, WentPoorly, GotLucky, Lessons, FiveWhys, Reviewers, FollowUpAt           string
	TimelineScope                                                                      string
	Factors                                                                            []pmFactorForm
}

// pmSegment is a piece of a linted text; Mark pieces are the flagged words.
type pmSegment struct {
	Text string
	Mark bool
}

// pmLintView is one finding as shown under its field.
type pmLintView struct {
	F        firebreak.LintFinding
	Segments []pmSegment
}

type pmPage struct {
	Ref        string
	Inc        *firebreak.Incident
	PM         *firebreak.Postmortem
	Form       pmForm
	Errors     formErrors
	Problem    string
	Stale      bool
	Lint       map[string][]pmLintView // by section: "summary", "went_well", "contributing_factors", …
	Warnings   int
	Missing    []firebreak.FieldError
	Blocking   []firebreak.LintFinding
	Categories []firebreak.FishboneCategory
	Approver   bool
	Timeline   []firebreak.TimelineEvent // the entries the scope selects
}

func (c *console) loadPostmortemPage(r *http.Request) (*pmPage, error) {
	ctx := r.Context()
	inc, err := c.s.cfg.Incidents.GetIncident(ctx, r.PathValue("ref"))
	if err != nil {
		return nil, err
	}
	d := &pmPage{Ref: inc.Ref(), Inc: inc, Errors: formErrors{}, Categories: firebreak.FishboneCategories}
	pms, _ := c.s.postmortems()
	pm, err := pms.GetPostmortem(ctx, inc.ID)
	if firebreak.ErrorCode(err) == firebreak.ENotFound {
		return d, nil
	}
	if err != nil {
		return nil, err
	}
	d.setPM(pm, authFrom(ctx).actor.Username)
	d.Form = pmFormOf(pm)
	return d, nil
}

func (d *pmPage) setPM(pm *firebreak.Postmortem, user string) {
	d.PM = pm
	d.Lint = map[string][]pmLintView{}
	d.Warnings = 0
	for _, f := range pm.Lint {
		key := f.Field
		if i := strings.IndexByte(key, '['); i > 0 {
			key = key[:i]
		}
		d.Lint[key] = append(d.Lint[key], pmLintView{F: f, Segments: highlight(pmFieldText(pm, f.Field), f.Start, f.End)})
		if f.Severity != "blocking" {
			d.Warnings++
		}
	}
	d.Missing = pm.Missing()
	d.Blocking = pm.BlockingLint()
	d.Approver = pm.IsApprover(user)
	d.Timeline = nil
	for _, e := range pm.Facts.Timeline {
		if pm.TimelineScope != "starred" || e.Starred {
			d.Timeline = append(d.Timeline, e)
		}
	}
}

// highlight splits text around the byte range [start, end) (ignored when it does not fit the text).
func highlight(text string, start, end int) []pmSegment {
	if start < 0 || end > len(text) || start >= end {
		return []pmSegment{{Text: text}}
	}
	return []pmSegment{{Text: text[:start]}, {Text: text[start:end], Mark: true}, {Text: text[end:]}}
}

var pmPathRE = regexp.MustCompile(`^([a-z_.]+)(?:\[(\d+)\])?(?:\.([a-z_]+))?(?:\[(\d+)\])?(?:\.([a-z_]+))?$`)

// pmFieldText returns the text a lint finding's field path names.
func pmFieldText(pm *firebreak.Postmortem, path string) string {
	switch path {
	case "summary":
		return pm.Summary
	case "impact.description":
		return pm.Impact.Description
	case "impact.data_loss_details":
		return pm.Impact.DataLossDetails
	case "lead_up":
		return pm.LeadUp
	case "trigger":
		return pm.Trigger
	case "detection.narrative":
		return pm.Detection.Narrative
	case "detection.gap":
		return pm.Detection.Gap
	case "response":
		return pm.Response
	case "recovery":
		return pm.Recovery
	}
	m := pmPathRE.FindStringSubmatch(path)
	if m == nil || m[2] == "" {
		return ""
	}
	i, _ := strconv.Atoi(m[2])
	at := func(l []string) string {
		if i < len(l) {
			return l[i]
		}
		return ""
	}
	switch m[1] {
	case "went_well":
		return at(pm.WentWell)
	case "went_poorly":
		return at(pm.WentPoorly)
	case "got_lucky":
		return at(pm.GotLucky)
	case "lessons_learned":
		return at(pm.Lessons)
	case "contributing_factors":
		if i < len(pm.ContributingFactors) {
			return pm.ContributingFactors[i].Description
		}
	case "action_items":
		if i < len(pm.ActionItems) {
			return pm.ActionItems[i].Title
		}
	case "five_whys":
		j, _ := strconv.Atoi(m[4])
		if i < len(pm.FiveWhys) && m[3] == "steps" && j < len(pm.FiveWhys[i].Steps) {
			st := pm.FiveWhys[i].Steps[j]
			if m[5] == "question" {
				return st.Question
			}
			return st.Answer
		}
	}
	return ""
}

func pmFormOf(pm *firebreak.Postmortem) pmForm {
	f := pmForm{Title: pm.Title, Summary: pm.Summary, ImpactDescription: pm.Impact.Description,
		DataLossDetails: pm.Impact.DataLossDetails, UsersEstimated: pm.Impact.UsersEstimated,
		DataLoss: pm.Impact.DataLoss, CustomerFacing: pm.Impact.CustomerFacing,
		DetectedByCustomer: pm.Detection.DetectedByCustomer, LeadUp: pm.LeadUp, Trigger: pm.Trigger,
		DetectionNarrative: pm.Detection.Narrative, DetectionGap: pm.Detection.Gap, Response: pm.Response,
		Recovery: pm.Recovery, WentWell: strings.Join(pm.WentWell, "\n"), WentPoorly: strings.Join(pm.WentPoorly, "\n"),
		GotLucky: strings.Join(pm.GotLucky, "\n"), Lessons: strings.Join(pm.Lessons, "\n"),
		FiveWhys: formatWhys(pm.FiveWhys), TimelineScope: pm.TimelineScope}
	if u := pm.Impact.UsersAffected; u != nil {
		f.UsersAffected = strconv.FormatInt(*u, 10)
	}
	if d := pm.Impact.DurationSeconds; d != nil {
		f.DurationMinutes = strconv.FormatInt((*d+59)/60, 10)
	}
	var rev []string
	for _, r := range pm.Reviewers {
		if r.Approver {
			rev = append(rev, r.User+" (approver)")
		} else {
			rev = append(rev, r.User)
		}
	}
	f.Reviewers = strings.Join(rev, "\n")
	if pm.FollowUpAt != nil {
		f.FollowUpAt = pm.FollowUpAt.UTC().Format("2006-01-02")
	}
	for _, cf := range pm.ContributingFactors {
		f.Factors = append(f.Factors, pmFactorForm{Category: string(cf.Category), Description: cf.Description,
			Evidence: strings.Join(cf.Evidence, "\n"), Primary: cf.PrimaryTrigger})
	}
	f.Factors = append(f.Factors, pmFactorForm{}) // a blank row to add one
	return f
}

// formatWhys writes five-whys chains as text: a chain per block (blank lines between), "# title" first, one
// step per line as "question => answer", indented two spaces per level below its parent.
func formatWhys(chains []firebreak.WhyChain) string {
	var b strings.Builder
	for i, c := range chains {
		if i > 0 {
			b.WriteString("\n")
		}
		if c.Title != "" {
			fmt.Fprintf(&b, "# %s\n", c.Title)
		}
		var walk func(parent string, depth int)
		walk = func(parent string, depth int) {
			if depth > firebreak.MaxWhySteps {
				return
			}
			for _, s := range c.Steps {
				if s.ParentID == parent {
					fmt.Fprintf(&b, "%s%s => %s\n", strings.Repeat("  ", depth), oneLineText(s.Question),
						oneLineText(s.Answer))
					walk(s.ID, depth+1)
				}
			}
		}
		walk("", 0)
	}
	return b.String()
}

func oneLineText(s string) string { return strings.Join(strings.Fields(s), " ") }

// parseWhys reads the text formatWhys writes.
func parseWhys(text string) ([]firebreak.WhyChain, error) {
	chains := []firebreak.WhyChain{}
	var cur *firebreak.WhyChain
	var stack []string // step IDs by depth
	for n, line := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n") {
		if strings.TrimSpace(line) == "" {
			cur = nil
			continue
		}
		if cur == nil {
			chains = append(chains, firebreak.WhyChain{Steps: []firebreak.WhyStep{}})
			cur = &chains[len(chains)-1]
			stack = stack[:0]
		}
		trimmed := strings.TrimLeft(line, " \t")
		if t, ok := strings.CutPrefix(trimmed, "# "); ok && len(cur.Steps) == 0 && cur.Title == "" {
			cur.Title = strings.TrimSpace(t)
			continue
		}
		indent := len(strings.ReplaceAll(line[:len(line)-len(trimmed)], "\t", "  "))
		depth := indent / 2
		if depth > len(stack) {
			return nil, fmt.Errorf("line %d is indented more than one level below the line before", n+1)
		}
		stack = stack[:depth]
		q, a, _ := strings.Cut(trimmed, "=>")
		st := firebreak.WhyStep{ID: fmt.Sprintf("s%d", len(cur.Steps)+1), Question: strings.TrimSpace(q),
			Answer: strings.TrimSpace(a)}
		if depth > 0 {
			st.ParentID = stack[depth-1]
		}
		cur.Steps = append(cur.Steps, st)
		stack = append(stack, st.ID)
	}
	return chains, nil
}

func lines(s string) []string {
	out := []string{}
	for _, l := range strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// pmFormFromRequest reads the posted form.
func pmFormFromRequest(r *http.Request) pmForm {
	v := func(k string) string { return strings.ReplaceAll(r.PostFormValue(k), "\r\n", "\n") }
	on := func(k string) bool { return r.PostFormValue(k) != "" }
	f := pmForm{Title: v("title"), Summary: v("summary"), ImpactDescription: v("impact_description"),
		UsersAffected: strings.TrimSpace(v("users_affected")), DurationMinutes: strings.TrimSpace(v("duration_minutes")),
		DataLossDetails: v("data_loss_details"), UsersEstimated: on("users_estimated"), DataLoss: on("data_loss"),
		CustomerFacing: on("customer_facing"), DetectedByCustomer: on("detected_by_customer"), LeadUp: v("lead_up"),
		Trigger: v("trigger"), DetectionNarrative: v("detection_narrative"), DetectionGap: v("detection_gap"),
		Response: v("response"), Recovery: v("recovery"), WentWell: v("went_well"), WentPoorly: v("went_poorly"),
		GotLucky: v("got_lucky"), Lessons: v("lessons_learned"), FiveWhys: v("five_whys"), Reviewers: v("reviewers"),
		FollowUpAt: strings.TrimSpace(v("follow_up_at")), TimelineScope: v("timeline_scope")}
	cats, descs, evs := r.PostForm["cf_category"], r.PostForm["cf_description"], r.PostForm["cf_evidence"]
	primary := r.PostForm["cf_primary"] // the row indexes checked
	for i := range descs {
		row := pmFactorForm{Description: strings.ReplaceAll(descs[i], "\r\n", "\n"),
			Primary: slices.Contains(primary, strconv.Itoa(i))}
		if i < len(cats) {
			row.Category = cats[i]
		}
		if i < len(evs) {
			row.Evidence = evs[i]
		}
		f.Factors = append(f.Factors, row)
	}
	return f
}

// patch turns the form into a patch of every section; errs collects what cannot be read.
func (f pmForm) patch(errs formErrors) firebreak.PostmortemPatch {
	p := firebreak.PostmortemPatch{Title: &f.Title, Summary: &f.Summary, LeadUp: &f.LeadUp, Trigger: &f.Trigger,
		Response: &f.Response, Recovery: &f.Recovery, TimelineScope: &f.TimelineScope}
	imp := firebreak.PostmortemImpact{Description: f.ImpactDescription, UsersEstimated: f.UsersEstimated,
		DataLoss: f.DataLoss, DataLossDetails: f.DataLossDetails, CustomerFacing: f.CustomerFacing}
	if f.UsersAffected != "" {
		n, err := strconv.ParseInt(f.UsersAffected, 10, 64)
		if err != nil || n < 0 {
			errs["impact"] = "Users affected must be a whole number"
		}
		imp.UsersAffected = &n
	}
	if f.DurationMinutes != "" {
		n, err := strconv.ParseInt(f.DurationMinutes, 10, 64)
		if err != nil || n < 0 {
			errs["impact"] = "Duration must be a whole number of minutes"
		}
		n *= 60
		imp.DurationSeconds = &n
	}
	p.Impact = &imp
	p.Detection = &firebreak.PostmortemDetection{Narrative: f.DetectionNarrative, Gap: f.DetectionGap,
		DetectedByCustomer: f.DetectedByCustomer}
	ww, wp, gl, ls := lines(f.WentWell), lines(f.WentPoorly), lines(f.GotLucky), lines(f.Lessons)
	p.WentWell, p.WentPoorly, p.GotLucky, p.Lessons = &ww, &wp, &gl, &ls
	factors := []firebreak.ContributingFactor{}
	for _, row := range f.Factors {
		if strings.TrimSpace(row.Description) == "" && row.Category == "" && strings.TrimSpace(row.Evidence) == "" {
			continue // the blank row
		}
		factors = append(factors, firebreak.ContributingFactor{Category: firebreak.FishboneCategory(row.Category),
			Description: strings.TrimSpace(row.Description), Evidence: lines(row.Evidence), PrimaryTrigger: row.Primary})
	}
	p.ContributingFactors = &factors
	whys, err := parseWhys(f.FiveWhys)
	if err != nil {
		errs["five_whys"] = "Five whys: " + err.Error()
	}
	p.FiveWhys = &whys
	reviewers := []firebreak.Reviewer{}
	for _, l := range lines(f.Reviewers) {
		user, approver := strings.CutSuffix(l, "(approver)")
		reviewers = append(reviewers, firebreak.Reviewer{User: strings.TrimSpace(user), Approver: approver})
	}
	p.Reviewers = &reviewers
	if f.FollowUpAt != "" {
		t, err := time.Parse("2006-01-02", f.FollowUpAt)
		if err != nil {
			errs["follow_up_at"] = "Follow-up review must be a date"
		}
		p.FollowUpAt = &t
	}
	return p
}

func (c *console) renderPostmortem(w http.ResponseWriter, r *http.Request, status int, v viewer, d *pmPage) {
	c.render(w, r, status, "postmortem", layoutData{Title: "Post-mortem " + d.Ref + " " + d.Inc.Title,
		Nav: "incidents", Viewer: v, Page: d})
}

func (c *console) postmortemPage(w http.ResponseWriter, r *http.Request, v viewer) {
	d, err := c.loadPostmortemPage(r)
	if err != nil {
		c.incidentLoadError(w, r, v, err)
		return
	}
	c.renderPostmortem(w, r, http.StatusOK, v, d)
}

func postmortemURL(ref string) string { return "/incidents/" + ref + "/postmortem" }

// postmortemFailed shows the editor again with the error: a 422 next to the fields (input kept), a 412 as "someone
// else saved", anything else as a message.
func (c *console) postmortemFailed(w http.ResponseWriter, r *http.Request, v viewer, form *pmForm, err error,
	extra formErrors) {
	d, lerr := c.loadPostmortemPage(r)
	if lerr != nil {
		c.incidentLoadError(w, r, v, lerr)
		return
	}
	if form != nil {
		d.Form = *form
		if len(d.Form.Factors) == 0 || strings.TrimSpace(d.Form.Factors[len(d.Form.Factors)-1].Description) != "" {
			d.Form.Factors = append(d.Form.Factors, pmFactorForm{})
		}
	}
	status := http.StatusUnprocessableEntity
	switch firebreak.ErrorCode(err) {
	case firebreak.EPreconditionFailed:
		status, d.Stale = http.StatusPreconditionFailed, true
		d.Problem = "Someone else saved this post-mortem since you opened it (it is now version " +
			strconv.FormatInt(d.PM.Version, 10) + "). Your text is kept below: copy what you need, then reload."
	case firebreak.EInvalid:
		d.Errors, d.Problem = fieldErrors(err)
		var e *firebreak.Error
		if errors.As(err, &e) && len(e.Fields) > 0 {
			d.Problem = e.Message
		}
	default:
		status = statusOf(firebreak.ErrorCode(err))
		d.Problem = firebreak.ErrorMessage(err)
	}
	for k, m := range extra {
		d.Errors[k] = m
	}
	c.renderPostmortem(w, r, status, v, d)
}

func (c *console) postmortemSave(w http.ResponseWriter, r *http.Request, v viewer) {
	form := pmFormFromRequest(r)
	errs := formErrors{}
	p := form.patch(errs)
	if len(errs) > 0 {
		c.postmortemFailed(w, r, v, &form, firebreak.Errorf(firebreak.EInvalid, "Some fields could not be read."), errs)
		return
	}
	version := ifMatch(r)
	if version == 0 {
		c.postmortemFailed(w, r, v, &form, firebreak.Errorf(firebreak.EBadRequest,
			"The form did not say which version it edits; reload the page."), nil)
		return
	}
	pms, _ := c.s.postmortems()
	if _, err := pms.UpdatePostmortem(r.Context(), r.PathValue("ref"), p, version); err != nil {
		c.postmortemFailed(w, r, v, &form, err, nil)
		return
	}
	seeOther(w, r, postmortemURL(r.PathValue("ref"))+"#editor")
}

func (c *console) postmortemStep(w http.ResponseWriter, r *http.Request, v viewer) {
	ctx, ref := r.Context(), r.PathValue("ref")
	pms, _ := c.s.postmortems()
	version := ifMatch(r)
	var err error
	switch r.PathValue("step") {
	case "create":
		_, err = pms.CreatePostmortem(ctx, ref)
	case "submit":
		_, err = pms.SubmitPostmortem(ctx, ref, version)
	case "approve":
		in := firebreak.ApproveInput{Comment: strings.TrimSpace(r.PostFormValue("comment"))}
		for _, l := range lines(r.PostFormValue("overrides")) {
			field, reason, ok := strings.Cut(l, "=")
			if !ok {
				field, reason = "", l
			}
			in.Overrides = append(in.Overrides, firebreak.LintOverride{Field: strings.TrimSpace(field),
				Reason: strings.TrimSpace(reason)})
		}
		_, err = pms.ApprovePostmortem(ctx, ref, in, version)
	case "publish":
		_, err = pms.PublishPostmortem(ctx, ref, version)
	case "close":
		_, err = pms.ClosePostmortem(ctx, ref, strings.TrimSpace(r.PostFormValue("notes")), version)
	default:
		c.notFound(w, r, v, "This post-mortem action")
		return
	}
	if err != nil {
		if firebreak.ErrorCode(err) == firebreak.ENotFound {
			c.incidentLoadError(w, r, v, err)
			return
		}
		c.postmortemFailed(w, r, v, nil, err, nil)
		return
	}
	seeOther(w, r, postmortemURL(ref))
}

func (c *console) postmortemPrint(w http.ResponseWriter, r *http.Request, v viewer) {
	d, err := c.loadPostmortemPage(r)
	if err == nil && d.PM == nil {
		err = firebreak.Errorf(firebreak.ENotFound, "Incident %s has no post-mortem yet.", d.Ref)
	}
	if err != nil {
		c.incidentLoadError(w, r, v, err)
		return
	}
	var buf bytes.Buffer
	p := c.tmpl.pages["postmortem_print"]
	if err := p.ExecuteTemplate(&buf, "postmortem_document", layoutData{Title: "Post-mortem " + d.Ref,
		Viewer: v, Page: d}); err != nil {
		c.s.log.ErrorContext(r.Context(), "rendering page", "template", "postmortem_print", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write(buf.Bytes())
}

// Seconds formats a derived duration for the page ("1h 05m", "–").
func (d *pmPage) Seconds(s *int64) string { return firebreak.FormatSeconds(s) }

// Markdown is the post-mortem's Markdown export (the print view shows the document the same way).
func (d *pmPage) Markdown() string { return firebreak.PostmortemMarkdown(d.PM) }
