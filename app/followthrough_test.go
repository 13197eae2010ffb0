package app_test

import (
	"os"
	"slices"
	"testing"
	"time"

	"github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/app"
)

func TestConfigFileFollowThrough(t *testing.T) {
	path := t.TempDir() + "/firebreak.yaml"
	write := func(body string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(`follow_through:
  overdue_reminders: {first: 1h, every: 72h, team_after: 240h}
  follow_up_review_reminders: {every: 24h}
  close_requires: [SEV1]
  postmortem_due_business_days: 3
`)
	c := app.BuiltinDefaults()
	if err := c.LoadFile(path); err != nil {
		t.Fatal(err)
	}
	p := c.FollowThrough
	if p.OverdueFirst != time.Hour || p.OverdueEvery != 72*time.Hour || p.TeamAfter != 240*time.Hour ||
		p.ReviewEvery != 24*time.Hour || !slices.Equal(p.CloseRequires, []firebreak.Severity{firebreak.SEV1}) ||
		p.PostmortemDueBusinessDays != 3 {
		t.Fatalf("policy %+v", p)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	// An empty list lets every severity close; omitting the key keeps the default (SEV1, SEV2).
	write("follow_through:\n  close_requires: []\n")
	c = app.BuiltinDefaults()
	if err := c.LoadFile(path); err != nil || c.FollowThrough.RequiresFollowThrough(firebreak.SEV1) {
		t.Fatalf("empty close_requires: %+v %v", c.FollowThrough, err)
	}
	write("addr: 127.0.0.1:9\n")
	c = app.BuiltinDefaults()
	if err := c.LoadFile(path); err != nil || !c.FollowThrough.RequiresFollowThrough(firebreak.SEV2) ||
		c.FollowThrough.RequiresFollowThrough(firebreak.SEV3) {
		t.Fatalf("default close policy: %+v %v", c.FollowThrough, err)
	}
	for name, body := range map[string]string{
		"cadence too short": "follow_through:\n  overdue_reminders: {every: 5m}\n",
		"unknown severity":  "follow_through:\n  close_requires: [SEV9]\n",
		"target too long":   "follow_through:\n  postmortem_due_business_days: 90\n",
		"unknown key":       "follow_through:\n  remind_owner: true\n",
	} {
		write(body)
		if err := (&app.Config{}).LoadFile(path); err == nil {
			t.Errorf("%s: accepted %q", name, body)
		}
	}
}
