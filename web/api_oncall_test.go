package web_test

import (
	"context"
	"io"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/oncall"
	"github.com/firebreak/firebreak/web"
)

func TestAPITeams(t *testing.T) {
	forEachAPI(t, func(t *testing.T, e *apiEnv) {
		ctx := context.Background()
		tm, err := e.admin.CreateTeam(ctx, firebreak.TeamInput{Slug: "payments", Name: "Payments",
			Members: []firebreak.TeamMemberInput{{Username: "test-responder", Role: firebreak.TeamRoleManager}}})
		if err != nil || tm.Slug != "payments" || len(tm.Members) != 1 {
			t.Fatalf("create: %+v %v", tm, err)
		}
		_, err = e.viewer.CreateTeam(ctx, firebreak.TeamInput{Slug: "x"})
		wantCode(t, err, firebreak.EForbidden)
		_, err = e.admin.CreateTeam(ctx, firebreak.TeamInput{Slug: "payments"})
		wantCode(t, err, firebreak.EConflict)
		_, err = e.admin.CreateTeam(ctx, firebreak.TeamInput{Slug: "-bad-"})
		wantCode(t, err, firebreak.EInvalid, "slug")

		tm, err = e.admin.SetTeamMember(ctx, "payments", firebreak.TeamMemberInput{Username: "test-viewer"})
		if err != nil || len(tm.Members) != 2 || tm.Version != 2 {
			t.Fatalf("add member: %+v %v", tm, err)
		}
		_, err = e.admin.SetTeamMember(ctx, "payments", firebreak.TeamMemberInput{Username: "test-viewer", Role: "boss"})
		wantCode(t, err, firebreak.EInvalid, "role")
		tm, err = e.admin.RemoveTeamMember(ctx, "payments", "test-viewer")
		if err != nil || len(tm.Members) != 1 {
			t.Fatalf("remove member: %+v %v", tm, err)
		}
		name := "Payments Team"
		_, err = e.admin.UpdateTeam(ctx, "payments", firebreak.TeamPatch{Name: &name}, 1)
		wantCode(t, err, firebreak.EPreconditionFailed)
		if tm, err = e.admin.UpdateTeam(ctx, "payments", firebreak.TeamPatch{Name: &name}, tm.Version); err != nil || tm.Name != name {
			t.Fatalf("rename: %+v %v", tm, err)
		}
		list, err := e.viewer.ListTeams(ctx)
		if err != nil || len(list) != 1 || list[0].Name != name {
			t.Fatalf("list: %+v %v", list, err)
		}
		// A service's owner_team names its team.
		if _, err := e.admin.CreateService(ctx, firebreak.ServiceInput{Slug: "checkout", OwnerTeam: "payments"}); err != nil {
			t.Fatal(err)
		}
		svcs, err := e.viewer.ListServices(ctx, firebreak.ServiceFilter{Team: tm.Slug})
		if err != nil || len(svcs.Items) != 1 {
			t.Fatalf("services of team: %+v %v", svcs, err)
		}
	})
}

func TestAPISchedules(t *testing.T) {
	forEachAPI(t, func(t *testing.T, e *apiEnv) {
		ctx := context.Background()
		now := time.Now().UTC()
		start := now.AddDate(0, 0, -10).Format(time.DateOnly)
		in := firebreak.ScheduleInput{Name: "Primary; payments", TimeZone: "Europe/Berlin", Layers: []firebreak.Layer{{
			Name: "business hours", Rotation: "daily", Start: start, HandoffTime: "09:00",
			Participants: []string{"test-responder", "test-viewer"},
			Restriction:  &firebreak.Restriction{From: "09:00", To: "17:00"}}}}

		_, err := e.responder.CreateSchedule(ctx, in)
		wantCode(t, err, firebreak.EForbidden)
		bad := in
		bad.TimeZone = "Mars/Olympus"
		_, err = e.admin.CreateSchedule(ctx, bad)
		wantCode(t, err, firebreak.EInvalid, "time_zone")
		bad = in
		bad.Layers = []firebreak.Layer{{Rotation: "custom", Start: start, Participants: []string{}}}
		_, err = e.admin.CreateSchedule(ctx, bad)
		wantCode(t, err, firebreak.EInvalid, "layers[0].length", "layers[0].participants")
		bad.Layers = []firebreak.Layer{{Rotation: "daily", Start: start, Participants: []string{"nobody"}}}
		_, err = e.admin.CreateSchedule(ctx, bad)
		wantCode(t, err, firebreak.EInvalid, "layers[0].participants")

		// Gaps (outside 09:00–17:00) are reported, not refused.
		sc, err := e.admin.CreateSchedule(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		if len(sc.Warnings) < 20 || sc.Warnings[0].Kind != oncall.WarnGap {
			t.Fatalf("expected gap warnings, got %+v", sc.Warnings)
		}

		// A second, unrestricted layer below covers the gaps.
		in.Layers = append([]firebreak.Layer{{Name: "base", Rotation: "weekly", Start: start, HandoffTime: "09:00",
			Participants: []string{"admin"}}}, in.Layers...)
		_, err = e.admin.UpdateSchedule(ctx, sc.ID, in, 99)
		wantCode(t, err, firebreak.EPreconditionFailed)
		up, err := e.admin.UpdateSchedule(ctx, sc.ID, in, sc.Version)
		if err != nil || len(up.Warnings) != 0 || len(up.Layers) != 2 {
			t.Fatalf("update: %+v %v", up, err)
		}

		// Who is on call, at a time: the base layer at night, the restricted layer by day.
		berlin, _ := time.LoadLocation("Europe/Berlin")
		y, m, d := now.In(berlin).AddDate(0, 0, 1).Date()
		night := time.Date(y, m, d, 3, 0, 0, 0, berlin)
		noon := time.Date(y, m, d, 12, 0, 0, 0, berlin)
		oc, err := e.viewer.OnCallAt(ctx, sc.ID, &night)
		if err != nil || !slices.Equal(oc.Users, []string{"admin"}) {
			t.Fatalf("at night: %+v %v", oc, err)
		}
		oc, err = e.viewer.OnCallAt(ctx, sc.ID, &noon)
		if err != nil || len(oc.Users) != 1 || oc.Users[0] == "admin" ||
			!oc.Since.Equal(time.Date(y, m, d, 9, 0, 0, 0, berlin)) || !oc.Until.Equal(time.Date(y, m, d, 17, 0, 0, 0, berlin)) {
			t.Fatalf("at noon: %+v %v", oc, err)
		}
		if oc, err := e.viewer.OnCallAt(ctx, sc.ID, nil); err != nil || len(oc.Users) != 1 {
			t.Fatalf("now: %+v %v", oc, err)
		}

		// Overrides: responders add them; overlapping ones are warned about.
		oStart := noon.Add(-time.Hour)
		_, err = e.viewer.AddOverride(ctx, sc.ID, firebreak.OverrideInput{User: "test-viewer", Start: oStart, End: oStart.Add(2 * time.Hour)})
		wantCode(t, err, firebreak.EForbidden)
		o1, err := e.responder.AddOverride(ctx, sc.ID, firebreak.OverrideInput{User: "test-viewer", Start: oStart, End: oStart.Add(2 * time.Hour)})
		if err != nil || len(o1.Warnings) != 0 || o1.CreatedBy != "test-responder" {
			t.Fatalf("override: %+v %v", o1, err)
		}
		o2, err := e.responder.AddOverride(ctx, sc.ID, firebreak.OverrideInput{User: "admin", Start: noon, End: noon.Add(3 * time.Hour)})
		if err != nil || len(o2.Warnings) != 1 || o2.Warnings[0].Kind != oncall.WarnOverlap {
			t.Fatalf("overlapping override: %+v %v", o2, err)
		}
		_, err = e.responder.AddOverride(ctx, sc.ID, firebreak.OverrideInput{User: "admin", Start: noon, End: noon})
		wantCode(t, err, firebreak.EInvalid, "end")
		oc, err = e.viewer.OnCallAt(ctx, sc.ID, &noon)
		if err != nil || !slices.Equal(oc.Users, []string{"admin", "test-viewer"}) {
			t.Fatalf("overridden: %+v %v", oc, err)
		}
		sl, err := e.viewer.Shifts(ctx, sc.ID, night, night.Add(24*time.Hour))
		if err != nil || len(sl.Gaps) != 0 || len(sl.Items) < 4 || !sl.Items[0].Start.Equal(night) {
			t.Fatalf("shifts: %+v %v", sl, err)
		}
		_, err = e.viewer.Shifts(ctx, sc.ID, night, night.AddDate(1, 0, 0))
		wantCode(t, err, firebreak.EInvalid, "to")
		if err := e.responder.DeleteOverride(ctx, sc.ID, o2.ID); err != nil {
			t.Fatal(err)
		}
		got, err := e.viewer.GetSchedule(ctx, sc.ID)
		if err != nil || len(got.Overrides) != 1 || got.Overrides[0].ID != o1.ID {
			t.Fatalf("get: %+v %v", got, err)
		}
		list, err := e.viewer.ListSchedules(ctx, firebreak.ScheduleFilter{User: "admin"})
		if err != nil || len(list) != 1 {
			t.Fatalf("list: %+v %v", list, err)
		}

		// Calendar feeds: the secret URL works without a bearer token; a wrong or replaced one is 404.
		feed, err := e.viewer.IssueScheduleFeed(ctx, sc.ID)
		if err != nil || !strings.HasSuffix(feed.URL, ".ics") || !strings.HasPrefix(feed.WebcalURL, "webcal://") {
			t.Fatalf("feed: %+v %v", feed, err)
		}
		body := getICS(t, feed.URL, http.StatusOK)
		un := oncall.Unfold(body)
		if !strings.HasPrefix(body, "BEGIN:VCALENDAR\r\n") || !strings.Contains(un, `SUMMARY:On call: Primary\; payments`) ||
			strings.Count(un, "BEGIN:VEVENT") < 20 {
			t.Fatalf("calendar:\n%s", body)
		}
		getICS(t, strings.TrimSuffix(feed.URL, ".ics")+"x.ics", http.StatusNotFound)
		getICS(t, strings.TrimSuffix(feed.URL, ".ics"), http.StatusNotFound)
		feed2, err := e.admin.IssueScheduleFeed(ctx, sc.ID)
		if err != nil {
			t.Fatal(err)
		}
		getICS(t, feed.URL, http.StatusNotFound)
		getICS(t, feed2.URL, http.StatusOK)

		_, err = e.viewer.IssueUserFeed(ctx, "test-responder")
		wantCode(t, err, firebreak.EForbidden)
		uf, err := e.viewer.IssueUserFeed(ctx, "test-viewer")
		if err != nil {
			t.Fatal(err)
		}
		ub := oncall.Unfold(getICS(t, uf.URL, http.StatusOK))
		if !strings.Contains(ub, "DESCRIPTION:On call: test-viewer") || strings.Contains(ub, "DESCRIPTION:On call: admin\r\n") {
			t.Fatalf("user calendar holds other people's shifts:\n%s", ub)
		}

		if err := e.responder.DeleteSchedule(ctx, sc.ID); firebreak.ErrorCode(err) != firebreak.EForbidden {
			t.Fatalf("responder delete: %v", err)
		}
		if err := e.admin.DeleteSchedule(ctx, sc.ID); err != nil {
			t.Fatal(err)
		}
		_, err = e.viewer.GetSchedule(ctx, sc.ID)
		wantCode(t, err, firebreak.ENotFound)
		getICS(t, feed2.URL, http.StatusNotFound)
	})
}

func getICS(t *testing.T, url string, want int) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("GET %s: %d, want %d: %s", url, resp.StatusCode, want, b)
	}
	if want == http.StatusOK && resp.Header.Get("Content-Type") != "text/calendar; charset=utf-8" {
		t.Fatalf("Content-Type %q", resp.Header.Get("Content-Type"))
	}
	return string(b)
}

// TestOpenAPIOnCallSchemasMatchTypes keeps the on-call schemas equal to the Go types (flattening embedded ones).
func TestOpenAPIOnCallSchemasMatchTypes(t *testing.T) {
	d := loadOpenAPI(t)
	for name, typ := range map[string]any{
		"Team": firebreak.Team{}, "TeamMember": firebreak.TeamMember{}, "TeamInput": firebreak.TeamInput{},
		"TeamMemberInput": firebreak.TeamMemberInput{}, "TeamPatch": firebreak.TeamPatch{}, "Layer": firebreak.Layer{},
		"Restriction": firebreak.Restriction{}, "Override": firebreak.Override{}, "OverrideInput": firebreak.OverrideInput{},
		"Schedule": firebreak.Schedule{}, "ScheduleInput": firebreak.ScheduleInput{}, "Shift": oncall.Shift{},
		"ScheduleWarning": oncall.Warning{}, "OnCall": web.OnCall{}, "ShiftList": web.ShiftList{},
		"CalendarFeed": web.CalendarFeed{},
	} {
		checkSchemaProps(t, d, name, jsonFields(reflect.TypeOf(typ)))
	}
	checkSchemaProps(t, d, "ScheduleOut", append(jsonFields(reflect.TypeOf(firebreak.Schedule{})), "warnings"))
	checkSchemaProps(t, d, "OverrideCreated", append(jsonFields(reflect.TypeOf(firebreak.Override{})), "warnings"))
}

func checkSchemaProps(t *testing.T, d *openAPIDoc, name string, want []string) {
	t.Helper()
	s := d.Components.Schemas[name]
	if s == nil {
		t.Errorf("schema %s missing", name)
		return
	}
	props, _ := s["properties"].(map[string]any)
	var got []string
	for k := range props {
		got = append(got, k)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("schema %s has properties %v; the Go type has %v", name, got, want)
	}
}
