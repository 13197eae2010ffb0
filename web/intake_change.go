package web

import (
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
	var ch intake.Change
	integ, ok := s.pagerDutyIntake(w, r, "pagerduty change intake", func(body []byte) (string, error) {
		var err error
		ch, err = intake.ParsePagerDutyChange(body)
		return ch.RoutingKey, err
	})
	if !ok {
		return
	}
	in := firebreak.ChangeInput{Summary: ch.Summary, Source: ch.Source, Details: string(ch.Details),
		OccurredAt: ch.Timestamp}
	for _, l := range ch.Links {
		in.Links = append(in.Links, firebreak.AlertLink{Href: l.Href, Text: l.Text})
	}
	_, err := cs.RecordChange(r.Context(), integ.ID, in)
	if !s.pagerDutyStored(w, r, "pagerduty change intake", err) {
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
