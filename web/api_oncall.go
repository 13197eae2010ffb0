package web

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/oncall"
)

// On-call: teams, schedules, overrides, who is on call, shifts, and calendar feeds (iCalendar). The store is
// found on Config.Catalog (the SQL store implements every service); without it the routes are not registered.

// Windows of the on-call answers.
const (
	// ScheduleCheckWindow is how far ahead schedule answers look for gaps and overlapping overrides.
	ScheduleCheckWindow = 28 * 24 * time.Hour
	// CalendarPast and CalendarAhead bound the shifts of a calendar feed.
	CalendarPast  = 7 * 24 * time.Hour
	CalendarAhead = 56 * 24 * time.Hour
	// MaxShiftsWindow bounds GET /schedules/{id}/shifts.
	MaxShiftsWindow = 93 * 24 * time.Hour
)

// ScheduleOut is a schedule as the API answers it, with the warnings about the next four weeks.
type ScheduleOut struct {
	firebreak.Schedule
	Warnings []oncall.Warning `json:"warnings"`
}

// OverrideCreated answers a new override, with the schedule's warnings (e.g. it overlaps another override).
type OverrideCreated struct {
	firebreak.Override
	Warnings []oncall.Warning `json:"warnings"`
}

// OnCall answers who is on call on a schedule at a time, and since and until when (clipped to 7 days back and
// 35 days ahead of At).
type OnCall struct {
	ScheduleID string    `json:"schedule_id"`
	At         time.Time `json:"at"`
	Users      []string  `json:"users"`
	Since      time.Time `json:"since"`
	Until      time.Time `json:"until"`
}

// ShiftList is the merged shifts of a schedule in [From, To), and the gaps in it.
type ShiftList struct {
	ScheduleID string         `json:"schedule_id"`
	From       time.Time      `json:"from"`
	To         time.Time      `json:"to"`
	Items      []oncall.Shift `json:"items"`
	Gaps       []oncall.Shift `json:"gaps"`
}

// CalendarFeed is the secret URL of a calendar feed (shown once; issuing a new one disables the old one).
type CalendarFeed struct {
	URL       string `json:"url"`
	WebcalURL string `json:"webcal_url"`
}

func (s *Server) routesOnCallAPI() {
	teams, _ := s.cfg.Catalog.(firebreak.TeamService)
	scheds, _ := s.cfg.Catalog.(firebreak.ScheduleService)
	if teams == nil || scheds == nil {
		return
	}
	viewer, responder, admin := firebreak.RoleViewer, firebreak.RoleResponder, firebreak.RoleAdmin
	s.api("POST /teams", admin, s.createTeam)
	s.api("GET /teams", viewer, s.listTeams)
	s.api("GET /teams/{slug}", viewer, s.getTeam)
	s.api("PATCH /teams/{slug}", admin, s.updateTeam)
	s.api("POST /teams/{slug}/members", admin, s.addTeamMember)
	s.api("DELETE /teams/{slug}/members/{username}", admin, s.removeTeamMember)

	s.api("POST /schedules", admin, s.createSchedule)
	s.api("GET /schedules", viewer, s.listSchedules)
	s.api("GET /schedules/{id}", viewer, s.getSchedule)
	s.api("PUT /schedules/{id}", admin, s.updateSchedule)
	s.api("DELETE /schedules/{id}", admin, s.deleteSchedule)
	s.api("POST /schedules/{id}/overrides", responder, s.addOverride)
	s.api("DELETE /schedules/{id}/overrides/{oid}", responder, s.deleteOverride)
	s.api("GET /schedules/{id}/oncall", viewer, s.onCallNow)
	s.api("GET /schedules/{id}/shifts", viewer, s.listShifts)
	s.api("POST /schedules/{id}/calendar", viewer, s.issueScheduleFeed)
	s.api("POST /users/{username}/calendar", viewer, s.issueUserFeed)
	// Calendar apps cannot send a bearer token: the secret in the URL authenticates them.
	s.calendarRoute("GET /schedules/{id}/calendar/{feed}", s.scheduleCalendar)
	s.calendarRoute("GET /users/{username}/calendar/{feed}", s.userCalendar)
}

// teams and schedules are the on-call services (routesOnCallAPI registers routes only when both exist).
func (s *Server) teams() firebreak.TeamService {
	t, _ := s.cfg.Catalog.(firebreak.TeamService)
	return t
}

func (s *Server) schedules() firebreak.ScheduleService {
	sc, _ := s.cfg.Catalog.(firebreak.ScheduleService)
	return sc
}

func (s *Server) calendarRoute(pattern string, h http.HandlerFunc) {
	method, path, _ := cutPattern(pattern)
	full := method + " " + APIPrefix + path
	s.apiRoutes = append(s.apiRoutes, full)
	s.mux.Handle(full, h)
}

// --- teams -----------------------------------------------------------------------------------------------------

func apiTeamPath(slug string) string { return APIPrefix + "/teams/" + slug }

func (s *Server) createTeam(w http.ResponseWriter, r *http.Request) {
	var in firebreak.TeamInput
	if _, err := s.decodeRequest(w, r, &in, false); err != nil {
		s.problem(w, r, err)
		return
	}
	tm, err := s.teams().CreateTeam(r.Context(), in)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	apiCreated(w, apiTeamPath(tm.Slug), tm.Version, false, tm)
}

func (s *Server) listTeams(w http.ResponseWriter, r *http.Request) {
	q := newAPIQuery(r, "limit", "cursor")
	teams, err := s.teams().ListTeams(r.Context())
	if err != nil {
		s.problem(w, r, err)
		return
	}
	page, err := apiPageSlice(q, teams, func(t firebreak.Team) string { return t.Slug })
	if err != nil {
		s.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, page)
}

func (s *Server) getTeam(w http.ResponseWriter, r *http.Request) {
	tm, err := s.teams().GetTeam(r.Context(), r.PathValue("slug"))
	if err != nil {
		s.problem(w, r, err)
		return
	}
	if apiNotModified(w, r, tm.Version) {
		return
	}
	apiRespond(w, http.StatusOK, tm.Version, tm)
}

func (s *Server) updateTeam(w http.ResponseWriter, r *http.Request) {
	version, err := apiIfMatch(r)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	var p firebreak.TeamPatch
	if _, err := s.decodeRequest(w, r, &p, false); err != nil {
		s.problem(w, r, err)
		return
	}
	tm, err := s.teams().UpdateTeam(r.Context(), r.PathValue("slug"), p, version)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	apiRespond(w, http.StatusOK, tm.Version, tm)
}

func (s *Server) addTeamMember(w http.ResponseWriter, r *http.Request) {
	var in firebreak.TeamMemberInput
	if _, err := s.decodeRequest(w, r, &in, false); err != nil {
		s.problem(w, r, err)
		return
	}
	tm, err := s.teams().SetTeamMember(r.Context(), r.PathValue("slug"), in)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	apiRespond(w, http.StatusOK, tm.Version, tm)
}

func (s *Server) removeTeamMember(w http.ResponseWriter, r *http.Request) {
	tm, err := s.teams().RemoveTeamMember(r.Context(), r.PathValue("slug"), r.PathValue("username"))
	if err != nil {
		s.problem(w, r, err)
		return
	}
	apiRespond(w, http.StatusOK, tm.Version, tm)
}

// --- schedules -------------------------------------------------------------------------------------------------

func apiSchedulePath(id string) string { return APIPrefix + "/schedules/" + id }

// scheduleOut adds the warnings about the next ScheduleCheckWindow.
func (s *Server) scheduleOut(sc *firebreak.Schedule) (ScheduleOut, error) {
	out := ScheduleOut{Schedule: *sc}
	if out.Layers == nil {
		out.Layers = []firebreak.Layer{}
	}
	if out.Overrides == nil {
		out.Overrides = []firebreak.Override{}
	}
	now := s.cfg.Now()
	w, err := oncall.Check(sc, now, now.Add(ScheduleCheckWindow))
	if err != nil {
		return out, err
	}
	out.Warnings = w
	return out, nil
}

func (s *Server) createSchedule(w http.ResponseWriter, r *http.Request) {
	var in firebreak.ScheduleInput
	if _, err := s.decodeRequest(w, r, &in, false); err != nil {
		s.problem(w, r, err)
		return
	}
	sc, err := s.schedules().CreateSchedule(r.Context(), in)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	out, err := s.scheduleOut(sc)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	apiCreated(w, apiSchedulePath(sc.ID), sc.Version, false, out)
}

func (s *Server) listSchedules(w http.ResponseWriter, r *http.Request) {
	q := newAPIQuery(r, "team", "user", "limit", "cursor")
	f := firebreak.ScheduleFilter{Team: q.str("team"), User: q.str("user")}
	if err := q.err(); err != nil {
		s.problem(w, r, err)
		return
	}
	list, err := s.schedules().ListSchedules(r.Context(), f)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	page, err := apiPageSlice(q, list, func(sc firebreak.Schedule) string { return sc.ID })
	if err != nil {
		s.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, page)
}

func (s *Server) getSchedule(w http.ResponseWriter, r *http.Request) {
	sc, err := s.schedules().GetSchedule(r.Context(), r.PathValue("id"))
	if err != nil {
		s.problem(w, r, err)
		return
	}
	if apiNotModified(w, r, sc.Version) {
		return
	}
	out, err := s.scheduleOut(sc)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	apiRespond(w, http.StatusOK, sc.Version, out)
}

func (s *Server) updateSchedule(w http.ResponseWriter, r *http.Request) {
	version, err := apiIfMatch(r)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	var in firebreak.ScheduleInput
	if _, err := s.decodeRequest(w, r, &in, false); err != nil {
		s.problem(w, r, err)
		return
	}
	sc, err := s.schedules().UpdateSchedule(r.Context(), r.PathValue("id"), in, version)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	out, err := s.scheduleOut(sc)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	apiRespond(w, http.StatusOK, sc.Version, out)
}

func (s *Server) deleteSchedule(w http.ResponseWriter, r *http.Request) {
	if err := s.schedules().DeleteSchedule(r.Context(), r.PathValue("id")); err != nil {
		s.problem(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) addOverride(w http.ResponseWriter, r *http.Request) {
	var in firebreak.OverrideInput
	if _, err := s.decodeRequest(w, r, &in, false); err != nil {
		s.problem(w, r, err)
		return
	}
	id := r.PathValue("id")
	o, err := s.schedules().AddOverride(r.Context(), id, in)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	out := OverrideCreated{Override: *o, Warnings: []oncall.Warning{}}
	if sc, err := s.schedules().GetSchedule(r.Context(), id); err == nil {
		if so, err := s.scheduleOut(sc); err == nil {
			out.Warnings = so.Warnings
		}
	}
	w.Header().Set("Location", apiSchedulePath(id)+"/overrides/"+o.ID)
	writeJSON(w, http.StatusCreated, out)
}

func (s *Server) deleteOverride(w http.ResponseWriter, r *http.Request) {
	if err := s.schedules().DeleteOverride(r.Context(), r.PathValue("id"), r.PathValue("oid")); err != nil {
		s.problem(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) onCallNow(w http.ResponseWriter, r *http.Request) {
	q := newAPIQuery(r, "at")
	at := q.time("at")
	if err := q.err(); err != nil {
		s.problem(w, r, err)
		return
	}
	t := s.cfg.Now()
	if at != nil {
		t = *at
	}
	sc, err := s.schedules().GetSchedule(r.Context(), r.PathValue("id"))
	if err != nil {
		s.problem(w, r, err)
		return
	}
	sh, err := oncall.OnCallAt(sc, t)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, OnCall{ScheduleID: sc.ID, At: t.UTC(), Users: sh.Users, Since: sh.Start,
		Until: sh.End})
}

func (s *Server) listShifts(w http.ResponseWriter, r *http.Request) {
	q := newAPIQuery(r, "from", "to")
	from, to := q.time("from"), q.time("to")
	var v firebreak.Validation
	f := s.cfg.Now().UTC()
	if from != nil {
		f = from.UTC()
	}
	t := f.Add(7 * 24 * time.Hour)
	if to != nil {
		t = to.UTC()
	}
	if !t.After(f) {
		v.Add("to", "must be after from")
	} else if t.Sub(f) > MaxShiftsWindow {
		v.Add("to", "must be at most %d days after from", int(MaxShiftsWindow/(24*time.Hour)))
	}
	if err := q.err(); err != nil {
		s.problem(w, r, err)
		return
	}
	if err := v.Err(); err != nil {
		s.problem(w, r, err)
		return
	}
	sc, err := s.schedules().GetSchedule(r.Context(), r.PathValue("id"))
	if err != nil {
		s.problem(w, r, err)
		return
	}
	p, err := oncall.Compile(sc)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, ShiftList{ScheduleID: sc.ID, From: f, To: t, Items: p.Shifts(f, t), Gaps: p.Gaps(f, t)})
}

// --- calendar feeds --------------------------------------------------------------------------------------------

func (s *Server) feedOut(r *http.Request, path, token string) CalendarFeed {
	u := s.baseURL(r) + APIPrefix + path + "/calendar/" + token + ".ics"
	webcal := "webcal://" + strings.TrimPrefix(strings.TrimPrefix(u, "https://"), "http://")
	return CalendarFeed{URL: u, WebcalURL: webcal}
}

func (s *Server) issueScheduleFeed(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	tok, err := s.schedules().IssueCalendarFeed(r.Context(), firebreak.FeedSchedule, id)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, s.feedOut(r, "/schedules/"+id, tok))
}

// issueUserFeed issues the feed of a user's own shifts: for oneself, or (admins) for anyone.
func (s *Server) issueUserFeed(w http.ResponseWriter, r *http.Request) {
	name := strings.ToLower(r.PathValue("username"))
	a := firebreak.ActorFrom(r.Context())
	if a.Username != name && !a.Role.Allows(firebreak.RoleAdmin) {
		s.problem(w, r, firebreak.Errorf(firebreak.EForbidden, "only admins may issue another user's calendar feed"))
		return
	}
	tok, err := s.schedules().IssueCalendarFeed(r.Context(), firebreak.FeedUser, name)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, s.feedOut(r, "/users/"+name, tok))
}

// feedToken checks the {feed} path segment, "<token>.ics", against the subject's current token.
func (s *Server) feedToken(r *http.Request, kind, subject string) error {
	tok, ok := strings.CutSuffix(r.PathValue("feed"), ".ics")
	if !ok || tok == "" {
		return firebreak.Errorf(firebreak.ENotFound, "calendar feed not found")
	}
	return s.schedules().CheckCalendarFeed(r.Context(), kind, subject, tok)
}

func (s *Server) scheduleCalendar(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := s.feedToken(r, firebreak.FeedSchedule, id); err != nil {
		s.problem(w, r, err)
		return
	}
	sc, err := s.schedules().GetSchedule(r.Context(), id)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	cal, err := s.calendarOf(sc.Name, []firebreak.Schedule{*sc}, "")
	if err != nil {
		s.problem(w, r, err)
		return
	}
	writeCalendar(w, cal.ICS(s.cfg.Now()))
}

func (s *Server) userCalendar(w http.ResponseWriter, r *http.Request) {
	name := strings.ToLower(r.PathValue("username"))
	if err := s.feedToken(r, firebreak.FeedUser, name); err != nil {
		s.problem(w, r, err)
		return
	}
	list, err := s.schedules().ListSchedules(r.Context(), firebreak.ScheduleFilter{User: name})
	if err != nil {
		s.problem(w, r, err)
		return
	}
	cal, err := s.calendarOf("On call: "+name, list, name)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	writeCalendar(w, cal.ICS(s.cfg.Now()))
}

// calendarOf renders the shifts of the schedules from CalendarPast ago to CalendarAhead; user, when set, keeps
// only that user's shifts.
func (s *Server) calendarOf(name string, list []firebreak.Schedule, user string) (oncall.Calendar, error) {
	now := s.cfg.Now().UTC()
	from, to := now.Add(-CalendarPast), now.Add(CalendarAhead)
	cal := oncall.Calendar{Name: name}
	for i := range list {
		sc := &list[i]
		p, err := oncall.Compile(sc)
		if err != nil {
			return cal, err
		}
		// Computed over a wider window so that the shifts at the edges keep their true bounds (and UIDs).
		for _, sh := range p.Shifts(from.Add(-oncall.LookAhead), to.Add(oncall.LookAhead)) {
			if !sh.End.After(from) || !sh.Start.Before(to) {
				continue
			}
			if user != "" && !slices.Contains(sh.Users, user) {
				continue
			}
			ev := oncall.Event{UID: oncall.ShiftUID(sc.ID, sh), Summary: "On call: " + sc.Name, Start: sh.Start,
				End: sh.End, Description: "On call: " + strings.Join(sh.Users, ", ")}
			if user == "" {
				ev.Summary += " (" + strings.Join(sh.Users, ", ") + ")"
			}
			cal.Events = append(cal.Events, ev)
		}
	}
	slices.SortStableFunc(cal.Events, func(a, b oncall.Event) int { return a.Start.Compare(b.Start) })
	return cal, nil
}

func writeCalendar(w http.ResponseWriter, body []byte) {
	w.Header().Set("Content-Type", "text/calendar; charset=utf-8")
	w.Header().Set("Cache-Control", "private, max-age=300")
	w.Header().Set("Content-Disposition", `inline; filename="oncall.ics"`)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}
