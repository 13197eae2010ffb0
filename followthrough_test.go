package firebreak

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestAddBusinessDays(t *testing.T) {
	for _, c := range []struct{ from, want string }{
		{"2026-03-02T12:00:00Z", "2026-03-09T12:00:00Z"}, // Monday → next Monday
		{"2026-03-06T16:00:00Z", "2026-03-13T16:00:00Z"}, // Friday → next Friday
		{"2026-03-21T10:00:00Z", "2026-03-27T10:00:00Z"}, // Saturday → Friday (the weekend is not counted)
		{"2026-03-22T10:00:00Z", "2026-03-27T10:00:00Z"}, // Sunday → Friday
		{"2026-03-05T23:30:00Z", "2026-03-12T23:30:00Z"}, // Thursday → next Thursday
	} {
		from, _ := time.Parse(time.RFC3339, c.from)
		if got := AddBusinessDays(from, 5).Format(time.RFC3339); got != c.want {
			t.Errorf("%s + 5 business days = %s, want %s", c.from, got, c.want)
		}
	}
	if got := AddBusinessDays(time.Date(2026, 3, 6, 9, 0, 0, 0, time.UTC), 1); got.Weekday() != time.Monday {
		t.Errorf("Friday + 1 = %s", got.Weekday())
	}
}

func TestOverdueReminderSchedule(t *testing.T) {
	p := DefaultFollowThroughPolicy()
	at := func(s string) time.Time {
		t, _ := time.Parse(time.RFC3339, s)
		return t
	}
	a := ActionItem{Status: ActionOpen, DueDate: "2026-03-10"}
	if got := p.NextOverdueReminder(&a); got == nil || !got.Equal(at("2026-03-11T09:00:00Z")) {
		t.Fatalf("first reminder %v, want the day after the due date at 09:00 UTC", got)
	}
	if a.OverdueAt(at("2026-03-10T23:59:59Z")) || !a.OverdueAt(at("2026-03-11T00:00:00Z")) {
		t.Fatal("overdue from 00:00 UTC the day after the due date")
	}
	r := at("2026-03-11T09:00:05Z")
	a.RemindedAt = &r
	if got := p.NextOverdueReminder(&a); !got.Equal(r.Add(7 * 24 * time.Hour)) {
		t.Fatalf("second reminder %v", got)
	}
	if p.EscalatesAt(&a, at("2026-03-17T23:59:00Z")) || !p.EscalatesAt(&a, at("2026-03-18T00:00:00Z")) {
		t.Fatal("the team hears from 7 days overdue")
	}
	// The due date moved past the last reminder: the schedule starts again from the new date.
	a.DueDate = "2026-03-20"
	if got := p.NextOverdueReminder(&a); !got.Equal(at("2026-03-21T09:00:00Z")) {
		t.Fatalf("after the due date moved: %v", got)
	}
	for _, st := range []ActionItemStatus{ActionDone, ActionVerified, ActionNotDoing} {
		b := a
		b.Status = st
		if got := p.NextOverdueReminder(&b); got != nil {
			t.Errorf("%s item reminded at %v", st, got)
		}
	}
	if got := p.NextOverdueReminder(&ActionItem{Status: ActionOpen}); got != nil {
		t.Errorf("undated item reminded at %v", got)
	}
	custom := FollowThroughPolicy{OverdueFirst: time.Hour, OverdueEvery: 24 * time.Hour}.WithDefaults()
	a.RemindedAt = nil
	if got := custom.NextOverdueReminder(&a); !got.Equal(at("2026-03-21T01:00:00Z")) {
		t.Fatalf("custom first reminder %v", got)
	}
}

func TestReviewReminderSchedule(t *testing.T) {
	p := DefaultFollowThroughPolicy()
	f := time.Date(2026, 3, 20, 10, 0, 0, 0, time.UTC)
	pm := Postmortem{Status: PostmortemInReview, FollowUpAt: &f}
	if p.NextReviewReminder(&pm) != nil {
		t.Fatal("an unpublished post-mortem has no review reminder")
	}
	pm.Status = PostmortemPublished
	if got := p.NextReviewReminder(&pm); !got.Equal(f) {
		t.Fatalf("first review reminder %v", got)
	}
	r := f.Add(time.Minute)
	pm.FollowUpRemindedAt = &r
	if got := p.NextReviewReminder(&pm); !got.Equal(r.Add(7 * 24 * time.Hour)) {
		t.Fatalf("next review reminder %v", got)
	}
	later := f.Add(30 * 24 * time.Hour) // the review was moved later: remind on the new date
	pm.FollowUpAt = &later
	if got := p.NextReviewReminder(&pm); !got.Equal(later) {
		t.Fatalf("moved review %v", got)
	}
	pm.Status = PostmortemClosed
	if p.NextReviewReminder(&pm) != nil {
		t.Fatal("a closed post-mortem is reminded")
	}
}

func TestCloseBlockers(t *testing.T) {
	p := DefaultFollowThroughPolicy()
	items := []ActionItem{{Title: "Add breakers", Status: ActionVerified}, {Title: "Alert on pool", Status: ActionDone,
		Owner: "erin"}, {Title: "Dependency map", Status: ActionNotDoing, Reason: "superseded"},
		{Title: "Load test", Status: ActionOpen}}
	got := p.CloseBlockers(SEV1, nil, items)
	var fields []string
	for _, b := range got {
		fields = append(fields, b.Field)
	}
	if !slices.Equal(fields, []string{"postmortem", "action_items[1]", "action_items[3]"}) ||
		!strings.Contains(got[1].Message, `"Alert on pool" is done, owner erin`) {
		t.Fatalf("blockers %+v", got)
	}
	pub := &Postmortem{Status: PostmortemPublished}
	if got := p.CloseBlockers(SEV2, pub, items[:1]); len(got) != 0 {
		t.Fatalf("followed through, still blocked: %+v", got)
	}
	if got := p.CloseBlockers(SEV2, &Postmortem{Status: PostmortemInReview}, nil); len(got) != 1 ||
		!strings.Contains(got[0].Message, "in_review") {
		t.Fatalf("in review: %+v", got)
	}
	if got := p.CloseBlockers(SEV3, nil, items); got != nil {
		t.Fatalf("SEV3 blocked by default: %+v", got)
	}
	none := FollowThroughPolicy{CloseRequires: []Severity{}}
	if got := none.CloseBlockers(SEV1, nil, items); got != nil {
		t.Fatalf("an empty policy blocks: %+v", got)
	}
	err := CloseBlockedError("INC-7", p.CloseBlockers(SEV1, nil, items))
	if ErrorCode(err) != EConflict || ErrorMessage(err) != "INC-7 cannot be closed yet: its post-mortem is not published "+
		"and 2 action items are unresolved" {
		t.Fatalf("error %v", err)
	}
}

func TestFollowThroughPolicyValidate(t *testing.T) {
	if err := DefaultFollowThroughPolicy().Validate(); err != nil {
		t.Fatal(err)
	}
	bad := FollowThroughPolicy{OverdueEvery: time.Minute, TeamAfter: -time.Hour, CloseRequires: []Severity{"SEV0"},
		PostmortemDueBusinessDays: 99}
	err := bad.Validate()
	for _, f := range []string{"overdue_reminders.every", "overdue_reminders.team_after", "close_requires",
		"postmortem_due_business_days"} {
		if !strings.Contains(err.Error(), f) {
			t.Errorf("%v does not name %s", err, f)
		}
	}
}

func TestNormalizeTags(t *testing.T) {
	var v Validation
	got := NormalizeTags(&v, "tags", []string{" DNS ", "promo-event", "dns", ""})
	if v.Err() != nil || !slices.Equal(got, []string{"dns", "promo-event"}) {
		t.Fatalf("tags %v %v", got, v.Err())
	}
	for _, bad := range []string{"-x", "a b", "x%", "é", strings.Repeat("a", MaxTagLen+1)} {
		var v Validation
		NormalizeTags(&v, "tags", []string{bad})
		if v.Err() == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	var many []string
	for i := range MaxTags + 1 {
		many = append(many, "t"+strings.Repeat("x", i))
	}
	var v2 Validation
	NormalizeTags(&v2, "tags", many)
	if v2.Err() == nil {
		t.Error("too many tags accepted")
	}
}

// FuzzNormalizeTags: tags come from outside (API, console, CLI). Whatever the input, the result is valid, sorted,
// unique tags, and every input that was dropped was blank or reported.
func FuzzNormalizeTags(f *testing.F) {
	for _, s := range []string{"dns", " DNS ,promo-event", "-x", "a b", "x%_", "é", strings.Repeat("a", 41), ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var v Validation
		in := strings.Split(s, ",")
		out := NormalizeTags(&v, "tags", in)
		if out == nil || !slices.IsSorted(out) {
			t.Fatalf("NormalizeTags(%q) = %#v", in, out)
		}
		for i, tag := range out {
			if !ValidTag(tag) || (i > 0 && out[i-1] == tag) {
				t.Fatalf("NormalizeTags(%q) = %q: invalid or duplicate %q", in, out, tag)
			}
		}
		bad := false
		for _, x := range in {
			if x = strings.ToLower(strings.TrimSpace(x)); x != "" && !ValidTag(x) {
				bad = true
			}
		}
		if bad && v.Err() == nil {
			t.Fatalf("NormalizeTags(%q) dropped an invalid tag silently", in)
		}
	})
}
