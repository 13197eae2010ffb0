package web

import (
	"net/http"

	"github.com/firebreak/firebreak"
)

// The health probe API (when a ProbeService is configured): responders create, replace and delete probes,
// viewers read them with their recent results and uptime statistics. Creating or replacing a probe wakes the
// probe runner so the new configuration is checked at once.

func apiProbePath(id string) string { return APIPrefix + "/probes/" + id }

// routesProbesAPI registers the probe routes.
func (s *Server) routesProbesAPI() {
	if s.cfg.Probes == nil {
		return
	}
	s.api("POST /probes", firebreak.RoleResponder, s.createProbe)
	s.api("GET /probes", firebreak.RoleViewer, s.listProbes)
	s.api("GET /probes/{id}", firebreak.RoleViewer, s.getProbe)
	s.api("PUT /probes/{id}", firebreak.RoleResponder, s.updateProbe)
	s.api("DELETE /probes/{id}", firebreak.RoleResponder, s.deleteProbe)
}

// wakeProbes tells the probe runner that the schedule changed.
func (s *Server) wakeProbes() {
	if s.cfg.ProbeWake != nil {
		s.cfg.ProbeWake()
	}
}

// probeOut fills a probe's empty lists, so the API answers [] and {} rather than null.
func probeOut(p *firebreak.Probe) *firebreak.Probe {
	if p.Headers == nil {
		p.Headers = map[string]string{}
	}
	if p.Conditions == nil {
		p.Conditions = []string{}
	}
	return p
}

func (s *Server) createProbe(w http.ResponseWriter, r *http.Request) {
	var in firebreak.ProbeInput
	if _, err := s.decodeRequest(w, r, &in, false); err != nil {
		s.problem(w, r, err)
		return
	}
	p, err := s.cfg.Probes.CreateProbe(r.Context(), in)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	s.wakeProbes()
	w.Header().Set("Location", apiProbePath(p.ID))
	writeJSON(w, http.StatusCreated, probeOut(p))
}

func (s *Server) listProbes(w http.ResponseWriter, r *http.Request) {
	q := newAPIQuery(r, "service", "limit", "cursor")
	f := firebreak.ProbeFilter{Service: q.str("service")}
	if err := q.err(); err != nil {
		s.problem(w, r, err)
		return
	}
	list, err := s.cfg.Probes.ListProbes(r.Context(), f)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	for i := range list {
		probeOut(&list[i])
	}
	page, err := apiPageSlice(q, list, func(p firebreak.Probe) string { return p.ID })
	if err != nil {
		s.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, page)
}

func (s *Server) getProbe(w http.ResponseWriter, r *http.Request) {
	st, err := s.cfg.Probes.GetProbe(r.Context(), r.PathValue("id"))
	if err != nil {
		s.problem(w, r, err)
		return
	}
	probeOut(&st.Probe)
	if st.Recent == nil {
		st.Recent = []firebreak.ProbeResult{}
	}
	if st.Windows == nil {
		st.Windows = []firebreak.ProbeWindowStats{}
	}
	writeJSON(w, http.StatusOK, st)
}

func (s *Server) updateProbe(w http.ResponseWriter, r *http.Request) {
	var in firebreak.ProbeInput
	if _, err := s.decodeRequest(w, r, &in, false); err != nil {
		s.problem(w, r, err)
		return
	}
	p, err := s.cfg.Probes.UpdateProbe(r.Context(), r.PathValue("id"), in)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	s.wakeProbes()
	writeJSON(w, http.StatusOK, probeOut(p))
}

func (s *Server) deleteProbe(w http.ResponseWriter, r *http.Request) {
	if err := s.cfg.Probes.DeleteProbe(r.Context(), r.PathValue("id")); err != nil {
		s.problem(w, r, err)
		return
	}
	s.wakeProbes()
	w.WriteHeader(http.StatusNoContent)
}
