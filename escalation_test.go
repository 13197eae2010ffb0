package firebreak_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/firebreak/firebreak"
)

func TestParseEscalationStep(t *testing.T) {
	st, err := firebreak.ParseEscalationStep("  10m  schedule:payments-primary, USER:alice ,channel:ops-pager,")
	if err != nil {
		t.Fatal(err)
	}
	want := firebreak.EscalationStep{Delay: firebreak.Duration(10 * time.Minute), Targets: []firebreak.EscalationTarget{
		{Type: firebreak.TargetSchedule, Ref: "payments-primary"}, {Type: firebreak.TargetUser, Ref: "alice"},
		{Type: firebreak.TargetChannel, Ref: "ops-pager"}}}
	if !reflect.DeepEqual(st, want) {
		t.Fatalf("parsed %+v", st)
	}
	if got := firebreak.FormatEscalationStep(st); got != "10m schedule:payments-primary, user:alice, channel:ops-pager" {
		t.Fatalf("formatted %q", got)
	}
	for _, bad := range []string{"", "5m", "soon user:a", "5m team:x", "5m user:", "5m user", "user:a"} {
		if _, err := firebreak.ParseEscalationStep(bad); err == nil {
			t.Errorf("%q was accepted", bad)
		}
	}
}

func TestEscalationPolicyValidate(t *testing.T) {
	ok := firebreak.EscalationPolicyInput{Name: " p ", Steps: []firebreak.EscalationStep{
		{Delay: firebreak.Duration(time.Minute), Targets: []firebreak.EscalationTarget{{Type: "user", Ref: " a "}}}}}
	if err := ok.Validate(); err != nil || ok.Name != "p" || ok.Steps[0].Targets[0].Ref != "a" {
		t.Fatalf("%v %+v", err, ok)
	}
	bad := firebreak.EscalationPolicyInput{Name: "a\nb", Repeat: -1, Steps: []firebreak.EscalationStep{
		{Delay: firebreak.Duration(25 * time.Hour), Targets: []firebreak.EscalationTarget{{Type: "user"},
			{Type: "pager", Ref: "x"}}},
		{Delay: firebreak.Duration(time.Minute)}}}
	err := bad.Validate()
	var e *firebreak.Error
	if !asError(err, &e) {
		t.Fatalf("not an application error: %v", err)
	}
	var fields []string
	for _, f := range e.Fields {
		fields = append(fields, f.Field)
	}
	want := "name repeat steps[0].delay steps[0].targets[0].ref steps[0].targets[1].type steps[1].targets"
	if strings.Join(fields, " ") != want {
		t.Fatalf("fields %v, want %s", fields, want)
	}
	// A patch keeps what it does not change and never aliases the policy's steps.
	pol := &firebreak.EscalationPolicy{Name: "p", Repeat: 2, Steps: ok.Steps}
	in := firebreak.EscalationPolicyPatch{Description: new("d")}.Apply(pol)
	in.Steps[0].Targets[0].Ref = "changed"
	if in.Name != "p" || in.Repeat != 2 || in.Description != "d" || pol.Steps[0].Targets[0].Ref != "a" {
		t.Fatalf("apply: %+v / %+v", in, pol)
	}
}

func TestEscalationCriteriaValidate(t *testing.T) {
	if err := firebreak.DefaultEscalationCriteria().Validate(); err != nil {
		t.Fatal(err)
	}
	c := firebreak.DefaultEscalationCriteria()
	c.StaleStatus.After = 0
	c.LongRunning.Severities = []firebreak.Severity{"SEV9"}
	c.Leadership = []firebreak.EscalationTarget{{Type: "user"}}
	err := c.Validate()
	for _, f := range []string{"escalation.stale_status.after", "escalation.long_running.severities",
		"escalation.leadership[0]"} {
		if !strings.Contains(err.Error(), f) {
			t.Errorf("%v does not name %s", err, f)
		}
	}
	c = firebreak.DefaultEscalationCriteria()
	c.StaleStatus = firebreak.EscalationCriterion{} // disabled: no duration needed
	if err := c.Validate(); err != nil || c.StaleStatus.Watches(firebreak.SEV1) {
		t.Fatalf("disabled criterion: %v", err)
	}
}

// FuzzParseEscalationStep: what parses formats back to text that parses to the same step, and validating it
// never panics.
func FuzzParseEscalationStep(f *testing.F) {
	for _, s := range []string{"5m schedule:primary, user:alice", "1h30m channel:ops", "0s user:a", "-5m user:a",
		"5m user:a:b", "5m USER: x ,", "soon user:a", "", "5m", "5m ,,,", "1.5m user:é"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		st, err := firebreak.ParseEscalationStep(s)
		if err != nil {
			return
		}
		text := firebreak.FormatEscalationStep(st)
		back, err := firebreak.ParseEscalationStep(text)
		if err != nil || !reflect.DeepEqual(back, st) {
			t.Fatalf("%q → %+v → %q → %+v, %v", s, st, text, back, err)
		}
		in := firebreak.EscalationPolicyInput{Name: "p", Steps: []firebreak.EscalationStep{st}}
		_ = in.Validate()
	})
}
