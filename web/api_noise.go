package web

// Noise control over HTTP: maintenance windows and the noise report. The routes exist when the AlertService is
// also a MaintenanceService and a NoiseService (the SQL store is).

import (
	"net/http"
	"slices"

	"github.com/firebreak/firebreak"
)

// routesNoise registers the maintenance window and noise report routes.
func (s *Server) routesNoise() {
	ms, ok1 := s.cfg.Alerts.(firebreak.MaintenanceService)
	ns, ok2 := s.cfg.Alerts.(firebreak.NoiseService)
	if !ok1 || !ok2 {
		return
	}
	const (
		viewer    = firebreak.RoleViewer
		responder = firebreak.RoleResponder
	)
	h := &noiseAPI{s: s, ms: ms, ns: ns}
	s.api("POST /maintenance-windows", responder, h.create)
	s.api("GET /maintenance-windows", viewer, h.list)
	s.api("GET /maintenance-windows/{id}", viewer, h.get)
	s.api("PATCH /maintenance-windows/{id}", responder, h.update)
	s.api("DELETE /maintenance-windows/{id}", responder, h.cancel)
	s.api("GET /reports/noise", viewer, h.report)
}

type noiseAPI struct {
	s  *Server
	ms firebreak.MaintenanceService
	ns firebreak.NoiseService
}

func maintenancePath(id string) string { return APIPrefix + "/maintenance-windows/" + id }

func (h *noiseAPI) create(w http.ResponseWriter, r *http.Request) {
	var in firebreak.MaintenanceInput
	if _, err := h.s.decodeRequest(w, r, &in, false); err != nil {
		h.s.problem(w, r, err)
		return
	}
	mw, err := h.ms.CreateMaintenance(r.Context(), in)
	if err != nil {
		h.s.problem(w, r, err)
		return
	}
	apiCreated(w, maintenancePath(mw.ID), mw.Version, false, mw)
}

func (h *noiseAPI) list(w http.ResponseWriter, r *http.Request) {
	q := newAPIQuery(r, "service", "state", "at", "limit", "cursor")
	f := firebreak.MaintenanceFilter{Service: q.str("service"), State: firebreak.MaintenanceState(q.str("state")),
		At: q.time("at"), Limit: q.limit(), Cursor: q.str("cursor")}
	if f.State != "" && !slices.Contains(firebreak.MaintenanceStates, f.State) {
		q.v.Add("state", "must be scheduled, active, completed or cancelled")
	}
	if err := q.err(); err != nil {
		h.s.problem(w, r, err)
		return
	}
	p, err := h.ms.ListMaintenance(r.Context(), f)
	if err != nil {
		h.s.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, apiPageOf(p))
}

func (h *noiseAPI) get(w http.ResponseWriter, r *http.Request) {
	mw, err := h.ms.GetMaintenance(r.Context(), r.PathValue("id"))
	if err != nil {
		h.s.problem(w, r, err)
		return
	}
	if apiNotModified(w, r, mw.Version) {
		return
	}
	apiRespond(w, http.StatusOK, mw.Version, mw)
}

func (h *noiseAPI) update(w http.ResponseWriter, r *http.Request) {
	version, err := apiIfMatch(r)
	if err != nil {
		h.s.problem(w, r, err)
		return
	}
	var p firebreak.MaintenancePatch
	if _, err := h.s.decodeRequest(w, r, &p, false); err != nil {
		h.s.problem(w, r, err)
		return
	}
	mw, err := h.ms.UpdateMaintenance(r.Context(), r.PathValue("id"), p, version)
	if err != nil {
		h.s.problem(w, r, err)
		return
	}
	apiRespond(w, http.StatusOK, mw.Version, mw)
}

// cancel answers DELETE: the window is cancelled, not deleted (reports and the status page still show it), and
// the answer is the cancelled window.
func (h *noiseAPI) cancel(w http.ResponseWriter, r *http.Request) {
	version, err := apiIfMatch(r)
	if err != nil {
		h.s.problem(w, r, err)
		return
	}
	mw, err := h.ms.CancelMaintenance(r.Context(), r.PathValue("id"), version)
	if err != nil {
		h.s.problem(w, r, err)
		return
	}
	apiRespond(w, http.StatusOK, mw.Version, mw)
}

func (h *noiseAPI) report(w http.ResponseWriter, r *http.Request) {
	q := newAPIQuery(r, "service", "since", "until")
	f := firebreak.NoiseFilter{Service: q.str("service"), Since: q.time("since"), Until: q.time("until")}
	if err := q.err(); err != nil {
		h.s.problem(w, r, err)
		return
	}
	rep, err := h.ns.NoiseReport(r.Context(), f)
	if err != nil {
		h.s.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rep)
}
