package web

import (
	"net/http"

	"github.com/firebreak/firebreak"
)

// Notification channels and the outbox's operator view (docs/NOTIFICATIONS.md). Admins manage channels;
// responders read them (URLs masked, secrets never shown) and the notifications.

func (s *Server) routesChannelsAPI() {
	if s.channels() == nil {
		return
	}
	s.routesContactsAPI()
	responder, admin := firebreak.RoleResponder, firebreak.RoleAdmin
	s.api("POST /channels", admin, s.createChannel)
	s.api("GET /channels", responder, s.listChannels)
	s.api("GET /channels/{id}", responder, s.getChannel)
	s.api("PATCH /channels/{id}", admin, s.updateChannel)
	s.api("DELETE /channels/{id}", admin, s.deleteChannel)
	s.api("POST /channels/{id}/test", admin, s.testChannel)
	s.api("GET /notifications", responder, s.listNotifications)
	s.api("POST /notifications/{id}/retry", admin, s.retryNotification)
}

func (s *Server) channels() firebreak.ChannelService {
	c, _ := s.cfg.Catalog.(firebreak.ChannelService)
	return c
}

func (s *Server) createChannel(w http.ResponseWriter, r *http.Request) {
	var in firebreak.ChannelInput
	if _, err := s.decodeRequest(w, r, &in, false); err != nil {
		s.problem(w, r, err)
		return
	}
	c, err := s.channels().CreateChannel(r.Context(), in)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	apiCreated(w, APIPrefix+"/channels/"+c.ID, 0, false, c)
}

func (s *Server) listChannels(w http.ResponseWriter, r *http.Request) {
	q := newAPIQuery(r, "limit", "cursor")
	cs, err := s.channels().ListChannels(r.Context())
	if err != nil {
		s.problem(w, r, err)
		return
	}
	page, err := apiPageSlice(q, cs, func(c firebreak.Channel) string { return c.ID })
	if err != nil {
		s.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, page)
}

func (s *Server) getChannel(w http.ResponseWriter, r *http.Request) {
	c, err := s.channels().GetChannel(r.Context(), r.PathValue("id"))
	if err != nil {
		s.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

func (s *Server) updateChannel(w http.ResponseWriter, r *http.Request) {
	var p firebreak.ChannelPatch
	if _, err := s.decodeRequest(w, r, &p, false); err != nil {
		s.problem(w, r, err)
		return
	}
	c, err := s.channels().UpdateChannel(r.Context(), r.PathValue("id"), p)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

func (s *Server) deleteChannel(w http.ResponseWriter, r *http.Request) {
	if err := s.channels().DeleteChannel(r.Context(), r.PathValue("id")); err != nil {
		s.problem(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) testChannel(w http.ResponseWriter, r *http.Request) {
	n, err := s.channels().TestChannel(r.Context(), r.PathValue("id"))
	if err != nil {
		s.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, n)
}

func (s *Server) listNotifications(w http.ResponseWriter, r *http.Request) {
	q := newAPIQuery(r, "status", "incident", "limit")
	f := firebreak.NotificationFilter{Status: firebreak.NotificationStatus(q.str("status")), Incident: q.str("incident"),
		Limit: q.limit()}
	if err := q.err(); err != nil {
		s.problem(w, r, err)
		return
	}
	ns, err := s.channels().ListNotifications(r.Context(), f)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, apiList[firebreak.Notification]{Items: ns})
}

func (s *Server) retryNotification(w http.ResponseWriter, r *http.Request) {
	n, err := s.channels().RetryNotification(r.Context(), r.PathValue("id"))
	if err != nil {
		s.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, n)
}
