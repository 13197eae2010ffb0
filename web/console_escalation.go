package web

import (
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/firebreak/firebreak"
)

// The console's escalation policies: /escalation-policies lists them (everyone) with a form to add one (admins);
// /escalation-policies/{id} shows one with its edit form and a delete button (admins). Steps are edited as text,
// one step per line: "5m schedule:primary, user:alice" (the delay before the next step, then the targets).

type escalationPage struct {
	Policies []escalationRow
	Edit     *escalationRow // the policy of /escalation-policies/{id}; nil on the list
	In       escalationFormInput
	Errors   formErrors
	Error    string
}

type escalationRow struct {
	P     firebreak.EscalationPolicy
	Steps []string // FormatEscalationStep of each step
}

type escalationFormInput struct {
	Name        string
	Description string
	Repeat      string
	Steps       string
	Version     int64
}

// Runs is how many times the steps run when nobody acknowledges.
func (r escalationRow) Runs() int { return r.P.Repeat + 1 }

func escalationRowOf(p firebreak.EscalationPolicy) escalationRow {
	r := escalationRow{P: p}
	for _, st := range p.Steps {
		r.Steps = append(r.Steps, firebreak.FormatEscalationStep(st))
	}
	return r
}

func escalationInputOf(p firebreak.EscalationPolicy) escalationFormInput {
	return escalationFormInput{Name: p.Name, Description: p.Description, Repeat: strconv.Itoa(p.Repeat),
		Steps: strings.Join(escalationRowOf(p).Steps, "\n"), Version: p.Version}
}

func (c *console) routesEscalation() {
	if c.s.escalations() == nil {
		return
	}
	c.s.mux.HandleFunc("GET /escalation-policies", c.page(c.authed(firebreak.RoleViewer, c.escalationList)))
	c.s.mux.HandleFunc("POST /escalation-policies", c.page(c.authed(firebreak.RoleAdmin, c.escalationCreate)))
	c.s.mux.HandleFunc("GET /escalation-policies/{id}", c.page(c.authed(firebreak.RoleViewer, c.escalationShow)))
	c.s.mux.HandleFunc("POST /escalation-policies/{id}", c.page(c.authed(firebreak.RoleAdmin, c.escalationUpdate)))
	c.s.mux.HandleFunc("POST /escalation-policies/{id}/delete",
		c.page(c.authed(firebreak.RoleAdmin, c.escalationDelete)))
}

func (c *console) renderEscalation(w http.ResponseWriter, r *http.Request, v viewer, status int, d escalationPage) {
	if d.Edit == nil {
		ps, err := c.s.escalations().ListEscalationPolicies(r.Context())
		if err != nil {
			c.errorPage(w, r, v, err)
			return
		}
		for _, p := range ps {
			d.Policies = append(d.Policies, escalationRowOf(p))
		}
	}
	if d.Errors == nil {
		d.Errors = formErrors{}
	}
	title := "Escalation policies"
	if d.Edit != nil {
		title = d.Edit.P.Name
	}
	c.render(w, r, status, "escalation_policies", layoutData{Title: title, Nav: "schedules", Viewer: v, Page: d})
}

func (c *console) escalationList(w http.ResponseWriter, r *http.Request, v viewer) {
	c.renderEscalation(w, r, v, http.StatusOK, escalationPage{In: escalationFormInput{Repeat: "0"}})
}

func (c *console) escalationShow(w http.ResponseWriter, r *http.Request, v viewer) {
	p, err := c.s.escalations().GetEscalationPolicy(r.Context(), r.PathValue("id"))
	if err != nil {
		if firebreak.ErrorCode(err) == firebreak.ENotFound {
			c.notFound(w, r, v, "Escalation policy "+r.PathValue("id"))
			return
		}
		c.errorPage(w, r, v, err)
		return
	}
	row := escalationRowOf(*p)
	c.renderEscalation(w, r, v, http.StatusOK, escalationPage{Edit: &row, In: escalationInputOf(*p)})
}

func escalationFormFrom(r *http.Request) escalationFormInput {
	return escalationFormInput{Name: strings.TrimSpace(r.PostFormValue("name")),
		Description: strings.TrimSpace(r.PostFormValue("description")),
		Repeat:      strings.TrimSpace(r.PostFormValue("repeat")), Steps: r.PostFormValue("steps")}
}

// parse reads the form into a policy input; problems are reported by form field.
func (in escalationFormInput) parse() (firebreak.EscalationPolicyInput, formErrors) {
	fe := formErrors{}
	out := firebreak.EscalationPolicyInput{Name: in.Name, Description: in.Description,
		Steps: []firebreak.EscalationStep{}}
	if in.Repeat != "" {
		n, err := strconv.Atoi(in.Repeat)
		if err != nil {
			fe["repeat"] = "Repeat must be a whole number from 0 to 9"
		}
		out.Repeat = n
	}
	var bad []string
	n := 0
	for line := range strings.SplitSeq(strings.ReplaceAll(in.Steps, "\r\n", "\n"), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		n++
		st, err := firebreak.ParseEscalationStep(line)
		if err != nil {
			bad = append(bad, "Step "+strconv.Itoa(n)+": "+err.Error())
			continue
		}
		out.Steps = append(out.Steps, st)
	}
	if len(bad) > 0 {
		fe["steps"] = strings.Join(bad, "; ")
	}
	return out, fe
}

var stepFieldRE = regexp.MustCompile(`^steps\[(\d+)\]`)

// escalationErrors turns an application error into messages by form field: every problem with a step (its delay,
// its targets) is shown under the steps, prefixed with the step's number.
func escalationErrors(err error) (formErrors, string) {
	fe := formErrors{}
	var e *firebreak.Error
	if !errors.As(err, &e) || len(e.Fields) == 0 {
		return fe, firebreak.ErrorMessage(err)
	}
	var steps []string
	for _, f := range e.Fields {
		if m := stepFieldRE.FindStringSubmatch(f.Field); m != nil {
			i, _ := strconv.Atoi(m[1])
			steps = append(steps, "Step "+strconv.Itoa(i+1)+": "+f.Message)
			continue
		}
		if f.Field == "steps" {
			steps = append(steps, "Steps: "+f.Message)
			continue
		}
		if _, dup := fe[f.Field]; !dup {
			fe[f.Field] = sentence(f.Field, f.Message)
		}
	}
	if len(steps) > 0 {
		fe["steps"] = strings.Join(steps, "; ")
	}
	return fe, ""
}

func (c *console) escalationCreate(w http.ResponseWriter, r *http.Request, v viewer) {
	in := escalationFormFrom(r)
	pi, fe := in.parse()
	fail := func(status int, fe formErrors, general string) {
		if general == "" {
			general = "Please correct the highlighted fields."
		}
		c.renderEscalation(w, r, v, status, escalationPage{In: in, Errors: fe, Error: general})
	}
	if fe.Any() {
		fail(http.StatusUnprocessableEntity, fe, "")
		return
	}
	p, err := c.s.escalations().CreateEscalationPolicy(r.Context(), pi)
	if err != nil {
		switch firebreak.ErrorCode(err) {
		case firebreak.EInvalid:
			fe, general := escalationErrors(err)
			fail(http.StatusUnprocessableEntity, fe, general)
		case firebreak.EConflict:
			fail(http.StatusConflict, formErrors{"name": "Name is taken by another policy"}, "")
		default:
			c.errorPage(w, r, v, err)
		}
		return
	}
	seeOther(w, r, "/escalation-policies/"+url.PathEscape(p.ID))
}

func (c *console) escalationUpdate(w http.ResponseWriter, r *http.Request, v viewer) {
	ctx := r.Context()
	cur, err := c.s.escalations().GetEscalationPolicy(ctx, r.PathValue("id"))
	if err != nil {
		c.errorPage(w, r, v, err)
		return
	}
	in := escalationFormFrom(r)
	in.Version = ifMatch(r)
	pi, fe := in.parse()
	row := escalationRowOf(*cur)
	fail := func(status int, fe formErrors, general string) {
		if general == "" {
			general = "Please correct the highlighted fields."
		}
		c.renderEscalation(w, r, v, status, escalationPage{Edit: &row, In: in, Errors: fe, Error: general})
	}
	if fe.Any() {
		fail(http.StatusUnprocessableEntity, fe, "")
		return
	}
	p, err := c.s.escalations().UpdateEscalationPolicy(ctx, cur.ID, firebreak.EscalationPolicyPatch{Name: &pi.Name,
		Description: &pi.Description, Repeat: &pi.Repeat, Steps: &pi.Steps}, in.Version)
	if err != nil {
		switch firebreak.ErrorCode(err) {
		case firebreak.EInvalid:
			fe, general := escalationErrors(err)
			fail(http.StatusUnprocessableEntity, fe, general)
		case firebreak.EConflict:
			fail(http.StatusConflict, formErrors{"name": "Name is taken by another policy"}, "")
		case firebreak.EPreconditionFailed:
			in.Version = cur.Version
			fail(http.StatusPreconditionFailed, formErrors{}, "Someone else changed this policy while you were "+
				"editing it, so your changes were not saved. Its current steps are shown above the form; save again "+
				"to overwrite them.")
		default:
			c.errorPage(w, r, v, err)
		}
		return
	}
	seeOther(w, r, "/escalation-policies/"+url.PathEscape(p.ID))
}

func (c *console) escalationDelete(w http.ResponseWriter, r *http.Request, v viewer) {
	ctx := r.Context()
	cur, err := c.s.escalations().GetEscalationPolicy(ctx, r.PathValue("id"))
	if err != nil {
		c.errorPage(w, r, v, err)
		return
	}
	if err := c.s.escalations().DeleteEscalationPolicy(ctx, cur.ID); err != nil {
		if firebreak.ErrorCode(err) == firebreak.EConflict {
			row := escalationRowOf(*cur)
			c.renderEscalation(w, r, v, http.StatusConflict, escalationPage{Edit: &row, In: escalationInputOf(*cur),
				Error: firebreak.ErrorMessage(err)})
			return
		}
		c.errorPage(w, r, v, err)
		return
	}
	seeOther(w, r, "/escalation-policies")
}
