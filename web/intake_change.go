package web

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/intake"
)

// Change events: what changed (deploys, config pushes) on a service, for "what changed before this incident?".
//
//	POST /v2/change/enqueue               PagerDuty Change Events (routing_key = a PagerDuty integration's key)
//	GET  /api/v1/changes                  ?service=&since=&until=&limit=&cursor= (viewer)
//	GET  /api/v1/incidents/{id}/changes   ?window=2h (viewer)
//
// The routes exist when the configured AlertService also implements firebreak.ChangeService.

// PagerDutyChangeEnqueuePath is the PagerDuty-compatible Change Events endpoint.
const PagerDutyChangeEnqueuePath = "/v2/change/enqueue"

// changeService is the AlertService's ChangeService, if it has one.
func (s *Server) changeService() (firebreak.ChangeService, bool) {
	cs, ok := s.cfg.Alerts.(firebreak.ChangeService)
	return cs, ok
}

// pagerDutyChangeEnqueue takes a PagerDuty change event. Answers are those of /v2/enqueue (pagerDutyEnqueue):
// 202 once stored, with {"status":"success","message":"Change event processed"}; 400 PagerDuty-style for an
// invalid event and, with the same body, for any key that is not a PagerDuty integration's; 413 over 512 KiB;
// 429 with Retry-After over the per-integration rate limit (shared with alert intake); 500 when storing fails.
func (s *Server) pagerDutyChangeEnqueue(w http.ResponseWriter, r *http.Request) {
	cs, _ := s.changeService()
	body, tooLarge, err := readIntakeBody(w, r)
	if tooLarge {
		pagerDutyAnswer(w, http.StatusRequestEntityTooLarge,
			pagerDutyInvalid(fmt.Sprintf("Request body is larger than %d bytes", intake.MaxBodyBytes)))
		return
	}
	if err != nil {
		pagerDutyAnswer(w, http.StatusBadRequest, pagerDutyInvalid("Request body could not be read"))
		return
	}
	ch, err := intake.ParsePagerDutyChange(body)
	var pde *intake.PagerDutyError
	if errors.As(err, &pde) {
		status := pde.StatusCode()
		if errors.Is(err, intake.ErrBodyTooLarge) {
			status = http.StatusRequestEntityTooLarge
		}
		pagerDutyAnswer(w, status, pde.Body())
		return
	}
	if err != nil {
		pagerDutyAnswer(w, http.StatusBadRequest, pagerDutyInvalid(err.Error()))
		return
	}
	internal := func(what string, err error) {
		s.log.ErrorContext(r.Context(), "pagerduty change intake: "+what, "err", err.Error())
		pagerDutyAnswer(w, http.StatusInternalServerError, (&intake.PagerDutyError{Status: "error",
			Message: "Internal error", Errors: []string{}}).Body())
	}
	integ, err := s.cfg.Alerts.AuthenticateIntegration(r.Context(), ch.RoutingKey)
	if err != nil || integ.Kind != firebreak.IntegrationPagerDuty {
		if err != nil && firebreak.ErrorCode(err) != firebreak.EUnauthorized && firebreak.ErrorCode(err) != firebreak.ENotFound {
			internal("authenticating", err)
			return
		}
		pagerDutyAnswer(w, http.StatusBadRequest, pagerDutyInvalid("Invalid routing key"))
		return
	}
	if ok, wait := s.intakeLimit.allow(integ.ID); !ok {
		w.Header().Set("Retry-After", retryAfterSeconds(wait))
		pagerDutyAnswer(w, http.StatusTooManyRequests, (&intake.PagerDutyError{Status: "throttle event",
			Message: "Requests for this service are arriving too quickly. Please retry later.", Errors: []string{}}).Body())
		return
	}
	in := firebreak.ChangeInput{Summary: ch.Summary, Source: ch.Source, Details: string(ch.Details),
		OccurredAt: ch.Timestamp}
	for _, l := range ch.Links {
		in.Links = append(in.Links, firebreak.AlertLink{Href: l.Href, Text: l.Text})
	}
	if _, err := cs.RecordChange(r.Context(), integ.ID, in); err != nil {
		code := firebreak.ErrorCode(err)
		if code == firebreak.EInvalid || code == firebreak.EBadRequest {
			pagerDutyAnswer(w, http.StatusBadRequest, pagerDutyInvalid(firebreak.ErrorMessage(err)))
			return
		}
		internal("storing", err)
		return
	}
	pagerDutyAnswer(w, http.StatusAccepted, intake.PagerDutyChangeAccepted())
}

func (s *Server) listChanges(w http.ResponseWriter, r *http.Request) {
	cs, _ := s.changeService()
	q := newAPIQuery(r, "service", "since", "until", "limit", "cursor")
	f := firebreak.ChangeFilter{Service: q.str("service"), Since: q.time("since"), Until: q.time("until"),
		Limit: q.limit(), Cursor: q.str("cursor")}
	if err := q.err(); err != nil {
		s.problem(w, r, err)
		return
	}
	p, err := cs.ListChanges(r.Context(), f)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, apiPageOf(p))
}

// ChangesBefore is the answer of GET /incidents/{id}/changes.
type ChangesBefore struct {
	Window string             `json:"window"` // Go duration, e.g. "2h0m0s"
	Items  []firebreak.Change `json:"items"`
}

func (s *Server) listIncidentChanges(w http.ResponseWriter, r *http.Request) {
	cs, _ := s.changeService()
	q := newAPIQuery(r, "window")
	window := firebreak.DefaultChangeWindow
	if v := q.str("window"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 || d > firebreak.MaxChangeWindow {
			q.v.Add("window", "must be a duration from 1s to %s, e.g. 2h or 90m", firebreak.MaxChangeWindow)
		} else {
			window = d
		}
	}
	if err := q.err(); err != nil {
		s.problem(w, r, err)
		return
	}
	items, err := cs.ChangesBefore(r.Context(), r.PathValue("id"), window)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, ChangesBefore{Window: window.String(), Items: items})
}
