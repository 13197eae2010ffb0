package web

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/firebreak/firebreak"
)

// withIdem puts the request's idempotency key (if any) into ctx for the store.
func apiWithIdem(ctx context.Context, idem *firebreak.Idempotency) context.Context {
	if idem == nil {
		return ctx
	}
	return firebreak.WithIdempotency(ctx, *idem)
}

// replayOf returns the replay the store answered with, checking that it names the kind of resource this endpoint
// creates; a key first used on another endpoint is a conflict.
func apiReplayOf(err error, kind string) (*firebreak.IdempotentReplay, error) {
	var rp *firebreak.IdempotentReplay
	if !errors.As(err, &rp) {
		return nil, err
	}
	if rp.Kind != kind {
		return nil, firebreak.Errorf(firebreak.EConflict,
			"Idempotency-Key was already used for another request (a %s)", rp.Kind)
	}
	return rp, nil
}

func apiIncidentPath(id string) string { return APIPrefix + "/incidents/" + id }

func (s *Server) declareIncident(w http.ResponseWriter, r *http.Request) {
	var in firebreak.DeclareInput
	idem, err := s.decodeRequest(w, r, &in, true)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	inc, err := s.cfg.Incidents.DeclareIncident(apiWithIdem(r.Context(), idem), in)
	rp, err := apiReplayOf(err, "incident")
	if rp != nil {
		inc, err = s.cfg.Incidents.GetIncident(r.Context(), rp.ID)
	}
	if err != nil {
		s.problem(w, r, err)
		return
	}
	apiCreated(w, apiIncidentPath(inc.ID), inc.Version, rp != nil, inc)
}

func (s *Server) listIncidents(w http.ResponseWriter, r *http.Request) {
	q := newAPIQuery(r, "status", "severity", "service", "open", "since", "until", "q", "limit", "cursor")
	var f firebreak.IncidentFilter
	for _, v := range q.list("status") {
		st := firebreak.Status(strings.ToLower(v))
		if !st.Valid() {
			q.v.Add("status", "unknown status %q (one of %s)", v, apiJoin(firebreak.Statuses))
			continue
		}
		f.Status = append(f.Status, st)
	}
	for _, v := range q.list("severity") {
		sev := firebreak.Severity(strings.ToUpper(v))
		if !sev.Valid() {
			q.v.Add("severity", "unknown severity %q (one of %s)", v, apiJoin(firebreak.Severities))
			continue
		}
		f.Severity = append(f.Severity, sev)
	}
	f.Service = q.str("service")
	if f.Service != "" && !firebreak.ValidSlug(f.Service) {
		q.v.Add("service", "must be a service slug")
	}
	f.Open = q.boolean("open")
	f.DeclaredAfter = q.time("since")
	f.DeclaredBefore = q.time("until")
	if f.DeclaredAfter != nil && f.DeclaredBefore != nil && !f.DeclaredBefore.After(*f.DeclaredAfter) {
		q.v.Add("until", "must be after since")
	}
	f.Query = q.str("q")
	if len(f.Query) > firebreak.MaxTitleLen {
		q.v.Add("q", "must be at most %d characters", firebreak.MaxTitleLen)
	}
	f.Limit = q.limit()
	f.Cursor = q.str("cursor")
	if err := q.err(); err != nil {
		s.problem(w, r, err)
		return
	}
	p, err := s.cfg.Incidents.ListIncidents(r.Context(), f)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, apiPageOf(p))
}

func (s *Server) getIncident(w http.ResponseWriter, r *http.Request) {
	inc, err := s.cfg.Incidents.GetIncident(r.Context(), r.PathValue("id"))
	if err != nil {
		s.problem(w, r, err)
		return
	}
	if apiNotModified(w, r, inc.Version) {
		return
	}
	apiRespond(w, http.StatusOK, inc.Version, inc)
}

func (s *Server) updateIncident(w http.ResponseWriter, r *http.Request) {
	version, err := apiIfMatch(r)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	var p firebreak.IncidentPatch
	if _, err := s.decodeRequest(w, r, &p, false); err != nil {
		s.problem(w, r, err)
		return
	}
	inc, err := s.cfg.Incidents.UpdateIncident(r.Context(), r.PathValue("id"), p, version)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	apiRespond(w, http.StatusOK, inc.Version, inc)
}

// StatusChange is the body of POST /incidents/{id}/status.
type StatusChange struct {
	Status  firebreak.Status `json:"status"`
	Message string           `json:"message,omitempty"`
}

func (s *Server) changeStatus(w http.ResponseWriter, r *http.Request) {
	version, err := apiIfMatch(r)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	var in StatusChange
	if _, err := s.decodeRequest(w, r, &in, false); err != nil {
		s.problem(w, r, err)
		return
	}
	if in.Status == "" {
		s.problem(w, r, apiFieldError("status", "is required (one of "+apiJoin(firebreak.Statuses)+")"))
		return
	}
	inc, err := s.cfg.Incidents.ChangeStatus(r.Context(), r.PathValue("id"), in.Status, in.Message, version)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	apiRespond(w, http.StatusOK, inc.Version, inc)
}

func (s *Server) acknowledgeIncident(w http.ResponseWriter, r *http.Request) {
	version, err := apiIfMatch(r)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	inc, err := s.cfg.Incidents.AcknowledgeIncident(r.Context(), r.PathValue("id"), version)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	apiRespond(w, http.StatusOK, inc.Version, inc)
}

// RoleAssignment is the body of POST /incidents/{id}/roles.
type RoleAssignment struct {
	Role firebreak.Role `json:"role"`
	User string         `json:"user"`
}

func (s *Server) assignRole(w http.ResponseWriter, r *http.Request) {
	version, err := apiIfMatch(r)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	var in RoleAssignment
	if _, err := s.decodeRequest(w, r, &in, false); err != nil {
		s.problem(w, r, err)
		return
	}
	inc, err := s.cfg.Incidents.AssignRole(r.Context(), r.PathValue("id"), in.Role, in.User, version)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	apiRespond(w, http.StatusOK, inc.Version, inc)
}

func (s *Server) addTimelineEvent(w http.ResponseWriter, r *http.Request) {
	var in firebreak.TimelineInput
	idem, err := s.decodeRequest(w, r, &in, true)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	ref := r.PathValue("id")
	ev, err := s.cfg.Incidents.AddTimelineEvent(apiWithIdem(r.Context(), idem), ref, in)
	rp, err := apiReplayOf(err, "timeline_event")
	if rp != nil {
		ev, err = s.findEvent(r.Context(), ref, rp.ID)
	}
	if err != nil {
		s.problem(w, r, err)
		return
	}
	apiCreated(w, apiIncidentPath(ev.IncidentID)+"/timeline/"+strconv.FormatInt(ev.ID, 10), 0, rp != nil, ev)
}

func (s *Server) listTimeline(w http.ResponseWriter, r *http.Request) {
	q := newAPIQuery(r, "starred", "after", "limit", "cursor")
	f := firebreak.TimelineFilter{StarredOnly: q.boolean("starred"), Limit: q.limit(), Cursor: q.str("cursor")}
	if a := q.str("after"); a != "" {
		n, err := strconv.ParseInt(a, 10, 64)
		if err != nil || n < 0 {
			q.v.Add("after", "must be a timeline event id")
		}
		f.AfterID = n
	}
	if err := q.err(); err != nil {
		s.problem(w, r, err)
		return
	}
	p, err := s.cfg.Incidents.ListTimeline(r.Context(), r.PathValue("id"), f)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, apiPageOf(p))
}

// eventID reads the {event} path value; anything but a positive number names no event.
func apiEventID(r *http.Request) (int64, error) {
	n, err := strconv.ParseInt(r.PathValue("event"), 10, 64)
	if err != nil || n <= 0 {
		return 0, firebreak.Errorf(firebreak.ENotFound, "timeline event %q not found", r.PathValue("event"))
	}
	return n, nil
}

// findEvent returns one timeline event of an incident. The interface has no single-event read, so it lists the
// events recorded from that id on, which is a short list for the recent events this is used for.
func (s *Server) findEvent(ctx context.Context, ref string, id string) (*firebreak.TimelineEvent, error) {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil || n <= 0 {
		return nil, firebreak.Errorf(firebreak.ENotFound, "timeline event %q not found", id)
	}
	f := firebreak.TimelineFilter{AfterID: n - 1, Limit: firebreak.MaxLimit}
	for {
		p, err := s.cfg.Incidents.ListTimeline(ctx, ref, f)
		if err != nil {
			return nil, err
		}
		for i := range p.Items {
			if p.Items[i].ID == n {
				return &p.Items[i], nil
			}
		}
		if p.NextCursor == "" {
			return nil, firebreak.Errorf(firebreak.ENotFound, "timeline event %d not found on %s", n, ref)
		}
		f.Cursor = p.NextCursor
	}
}

func (s *Server) getTimelineEvent(w http.ResponseWriter, r *http.Request) {
	if _, err := apiEventID(r); err != nil {
		s.problem(w, r, err)
		return
	}
	ev, err := s.findEvent(r.Context(), r.PathValue("id"), r.PathValue("event"))
	if err != nil {
		s.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, ev)
}

// starTimelineEvent stars (POST) or unstars (DELETE) a timeline event.
func (s *Server) starTimelineEvent(w http.ResponseWriter, r *http.Request) {
	id, err := apiEventID(r)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	ev, err := s.cfg.Incidents.StarTimelineEvent(r.Context(), r.PathValue("id"), id, r.Method == http.MethodPost)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, ev)
}

func (s *Server) postUpdate(w http.ResponseWriter, r *http.Request) {
	var in firebreak.UpdateInput
	idem, err := s.decodeRequest(w, r, &in, true)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	ref := r.PathValue("id")
	u, err := s.cfg.Incidents.PostUpdate(apiWithIdem(r.Context(), idem), ref, in)
	rp, err := apiReplayOf(err, "update")
	if rp != nil {
		u, err = s.findUpdate(r.Context(), ref, rp.ID)
	}
	if err != nil {
		s.problem(w, r, err)
		return
	}
	apiCreated(w, apiIncidentPath(u.IncidentID)+"/updates/"+u.ID, 0, rp != nil, u)
}

func (s *Server) findUpdate(ctx context.Context, ref, id string) (*firebreak.StatusUpdate, error) {
	us, err := s.cfg.Incidents.ListUpdates(ctx, ref)
	if err != nil {
		return nil, err
	}
	for i := range us {
		if us[i].ID == id {
			return &us[i], nil
		}
	}
	return nil, firebreak.Errorf(firebreak.ENotFound, "status update %q not found on %s", id, ref)
}

func (s *Server) listUpdates(w http.ResponseWriter, r *http.Request) {
	q := newAPIQuery(r, "limit", "cursor")
	us, err := s.cfg.Incidents.ListUpdates(r.Context(), r.PathValue("id"))
	if err != nil {
		s.problem(w, r, err)
		return
	}
	page, err := apiPageSlice(q, us, func(u firebreak.StatusUpdate) string { return u.ID })
	if err != nil {
		s.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, page)
}

func (s *Server) getUpdate(w http.ResponseWriter, r *http.Request) {
	u, err := s.findUpdate(r.Context(), r.PathValue("id"), r.PathValue("update"))
	if err != nil {
		s.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, u)
}

func (s *Server) addActionItem(w http.ResponseWriter, r *http.Request) {
	var in firebreak.ActionItemInput
	idem, err := s.decodeRequest(w, r, &in, true)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	ref := r.PathValue("id")
	a, err := s.cfg.Incidents.AddActionItem(apiWithIdem(r.Context(), idem), ref, in)
	rp, err := apiReplayOf(err, "action_item")
	if rp != nil {
		a, err = s.findActionItem(r.Context(), ref, rp.ID)
	}
	if err != nil {
		s.problem(w, r, err)
		return
	}
	apiCreated(w, apiIncidentPath(a.IncidentID)+"/action-items/"+a.ID, a.Version, rp != nil, a)
}

func (s *Server) findActionItem(ctx context.Context, ref, id string) (*firebreak.ActionItem, error) {
	as, err := s.cfg.Incidents.ListActionItems(ctx, ref)
	if err != nil {
		return nil, err
	}
	for i := range as {
		if as[i].ID == id {
			return &as[i], nil
		}
	}
	return nil, firebreak.Errorf(firebreak.ENotFound, "action item %q not found on %s", id, ref)
}

func (s *Server) listFollowUps(w http.ResponseWriter, r *http.Request) {
	q := newAPIQuery(r, "owner", "status", "overdue", "limit", "cursor")
	f := firebreak.ActionItemFilter{Owner: q.str("owner"), Limit: q.limit(), Cursor: q.str("cursor")}
	for _, st := range q.list("status") {
		if !slices.Contains(firebreak.ActionItemStatuses, firebreak.ActionItemStatus(st)) {
			q.v.Add("status", "must be open, in_progress, done, verified or not_doing")
			break
		}
		f.Status = append(f.Status, firebreak.ActionItemStatus(st))
	}
	switch q.str("overdue") {
	case "", "false":
	case "true":
		f.Overdue = true
	default:
		q.v.Add("overdue", "must be true or false")
	}
	if err := q.err(); err != nil {
		s.problem(w, r, err)
		return
	}
	p, err := s.cfg.Incidents.ListFollowUps(r.Context(), f)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, apiPageOf(p))
}

func (s *Server) listActionItems(w http.ResponseWriter, r *http.Request) {
	q := newAPIQuery(r, "limit", "cursor")
	as, err := s.cfg.Incidents.ListActionItems(r.Context(), r.PathValue("id"))
	if err != nil {
		s.problem(w, r, err)
		return
	}
	page, err := apiPageSlice(q, as, func(a firebreak.ActionItem) string { return a.ID })
	if err != nil {
		s.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, page)
}

func (s *Server) getActionItem(w http.ResponseWriter, r *http.Request) {
	a, err := s.findActionItem(r.Context(), r.PathValue("id"), r.PathValue("item"))
	if err != nil {
		s.problem(w, r, err)
		return
	}
	if apiNotModified(w, r, a.Version) {
		return
	}
	apiRespond(w, http.StatusOK, a.Version, a)
}

func (s *Server) updateActionItem(w http.ResponseWriter, r *http.Request) {
	version, err := apiIfMatch(r)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	var p firebreak.ActionItemPatch
	if _, err := s.decodeRequest(w, r, &p, false); err != nil {
		s.problem(w, r, err)
		return
	}
	a, err := s.cfg.Incidents.UpdateActionItem(r.Context(), r.PathValue("id"), r.PathValue("item"), p, version)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	apiRespond(w, http.StatusOK, a.Version, a)
}

func apiFieldError(field, msg string) error {
	return &firebreak.Error{Code: firebreak.EInvalid, Message: field + " " + msg,
		Fields: []firebreak.FieldError{{Field: field, Message: msg}}}
}

func apiJoin[T ~string](vs []T) string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return strings.Join(out, ", ")
}
