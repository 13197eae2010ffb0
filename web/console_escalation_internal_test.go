package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/firebreak/firebreak"
)

var samplePolicy = firebreak.EscalationPolicy{ID: "p1", Name: "checkout <down>", Description: "d <down>", Repeat: 1,
	Services: []string{"api"}, Version: 2, Steps: []firebreak.EscalationStep{{Delay: firebreak.Duration(5 * time.Minute),
		Targets: []firebreak.EscalationTarget{{Type: firebreak.TargetUser, Ref: "<down>"}}}}}

// The steps text of the console form reads back what it writes, and reports bad lines by number.
func TestEscalationFormSteps(t *testing.T) {
	in := escalationInputOf(samplePolicy)
	if in.Steps != "5m user:<down>" || in.Repeat != "1" {
		t.Fatalf("form of the sample: %+v", in)
	}
	form := url.Values{"name": {" p "}, "repeat": {"2"},
		"steps": {"5m schedule:primary, user:alice\r\n\r\n10m channel:ops-pager\n"}}
	r, _ := http.NewRequest("POST", "/escalation-policies", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	pi, fe := escalationFormFrom(r).parse()
	if fe.Any() || pi.Name != "p" || pi.Repeat != 2 || len(pi.Steps) != 2 || len(pi.Steps[0].Targets) != 2 ||
		time.Duration(pi.Steps[1].Delay) != 10*time.Minute || pi.Steps[1].Targets[0].Ref != "ops-pager" {
		t.Fatalf("parsed %+v %v", pi, fe)
	}
	_, fe = escalationFormInput{Repeat: "x", Steps: "5m user:a\nsoon user:b\n1m team:c"}.parse()
	if !strings.Contains(fe["steps"], "Step 2:") || !strings.Contains(fe["steps"], "Step 3:") || fe["repeat"] == "" {
		t.Fatalf("errors %v", fe)
	}
	fe, general := escalationErrors(&firebreak.Error{Code: firebreak.EInvalid, Fields: []firebreak.FieldError{
		{Field: "steps[1].targets", Message: "step 2 has no reachable target: carol has no contact method"},
		{Field: "name", Message: "is required"}}})
	if general != "" || !strings.HasPrefix(fe["steps"], "Step 2: step 2 has no reachable target") ||
		fe["name"] != "Name is required" {
		t.Fatalf("errors %v %q", fe, general)
	}
}
