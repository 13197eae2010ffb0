package web

import (
	"net/http"
	"net/url"
	"slices"

	"github.com/firebreak/firebreak"
)

func apiServicePath(id string) string { return APIPrefix + "/services/" + id }

func (s *Server) createService(w http.ResponseWriter, r *http.Request) {
	var in firebreak.ServiceInput
	idem, err := s.decodeRequest(w, r, &in, true)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	svc, err := s.cfg.Catalog.CreateService(apiWithIdem(r.Context(), idem), in)
	rp, err := apiReplayOf(err, "service")
	if rp != nil {
		svc, err = s.cfg.Catalog.GetService(r.Context(), rp.ID)
	}
	if err != nil {
		s.problem(w, r, err)
		return
	}
	apiCreated(w, apiServicePath(svc.ID), svc.Version, rp != nil, svc)
}

func (s *Server) listServices(w http.ResponseWriter, r *http.Request) {
	q := newAPIQuery(r, "team", "limit", "cursor")
	f := firebreak.ServiceFilter{Team: q.str("team"), Limit: q.limit(), Cursor: q.str("cursor")}
	if err := q.err(); err != nil {
		s.problem(w, r, err)
		return
	}
	p, err := s.cfg.Catalog.ListServices(r.Context(), f)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, apiPageOf(p))
}

func (s *Server) getService(w http.ResponseWriter, r *http.Request) {
	svc, err := s.cfg.Catalog.GetService(r.Context(), r.PathValue("id"))
	if err != nil {
		s.problem(w, r, err)
		return
	}
	if apiNotModified(w, r, svc.Version) {
		return
	}
	apiRespond(w, http.StatusOK, svc.Version, svc)
}

func (s *Server) updateService(w http.ResponseWriter, r *http.Request) {
	version, err := apiIfMatch(r)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	var p firebreak.ServicePatch
	if _, err := s.decodeRequest(w, r, &p, false); err != nil {
		s.problem(w, r, err)
		return
	}
	svc, err := s.cfg.Catalog.UpdateService(r.Context(), r.PathValue("id"), p, version)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	apiRespond(w, http.StatusOK, svc.Version, svc)
}

// SeverityPolicy is a severity policy as the API shows it: the response target in seconds.
type SeverityPolicy struct {
	Severity              firebreak.Severity `json:"severity"`
	Name                  string             `json:"name"`
	Description           string             `json:"description"`
	ResponseTargetSeconds int64              `json:"response_target_seconds"`
	EscalationPath        string             `json:"escalation_path"`
}

func (s *Server) listSeverities(w http.ResponseWriter, r *http.Request) {
	ps := make([]SeverityPolicy, 0, len(s.cfg.Severities))
	for _, p := range s.cfg.Severities {
		ps = append(ps, SeverityPolicy{Severity: p.Severity, Name: p.Name, Description: p.Description,
			ResponseTargetSeconds: int64(p.ResponseTarget.Seconds()), EscalationPath: p.EscalationPath})
	}
	page, err := apiPageSlice(newAPIQuery(r, "limit", "cursor"), ps,
		func(p SeverityPolicy) string { return string(p.Severity) })
	if err != nil {
		s.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, page)
}

// me answers who the caller is. Role is the role the credential acts with, which for a token may be lower than
// its user's.
func (s *Server) me(w http.ResponseWriter, r *http.Request) {
	a := firebreak.ActorFrom(r.Context())
	u, err := s.cfg.Users.GetUser(r.Context(), a.Username)
	if firebreak.ErrorCode(err) == firebreak.ENotFound {
		u, err = &firebreak.User{ID: a.UserID, Username: a.Username, Name: a.Username}, nil
	}
	if err != nil {
		s.problem(w, r, err)
		return
	}
	u.Role = a.Role
	writeJSON(w, http.StatusOK, u)
}

func (s *Server) createUser(w http.ResponseWriter, r *http.Request) {
	var in firebreak.UserInput
	if _, err := s.decodeRequest(w, r, &in, false); err != nil {
		s.problem(w, r, err)
		return
	}
	u, err := s.cfg.Users.CreateUser(r.Context(), in)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	w.Header().Set("Location", APIPrefix+"/users/"+url.PathEscape(u.Username))
	writeJSON(w, http.StatusCreated, u)
}

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request) {
	q := newAPIQuery(r, "limit", "cursor")
	us, err := s.cfg.Users.ListUsers(r.Context())
	if err != nil {
		s.problem(w, r, err)
		return
	}
	page, err := apiPageSlice(q, us, func(u firebreak.User) string { return u.ID })
	if err != nil {
		s.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, page)
}

func (s *Server) getUser(w http.ResponseWriter, r *http.Request) {
	u, err := s.cfg.Users.GetUser(r.Context(), r.PathValue("username"))
	if err != nil {
		s.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, u)
}

// createToken creates an API token for a user and answers its secret, which is shown this once.
func (s *Server) createToken(w http.ResponseWriter, r *http.Request) {
	var in firebreak.TokenInput
	if _, err := s.decodeRequest(w, r, &in, false); err != nil {
		s.problem(w, r, err)
		return
	}
	t, err := s.cfg.Users.CreateToken(r.Context(), in)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, t)
}

// listTokens lists tokens without secrets: every user's (or ?user=) for admins, the caller's own otherwise.
func (s *Server) listTokens(w http.ResponseWriter, r *http.Request) {
	q := newAPIQuery(r, "user", "limit", "cursor")
	me := firebreak.ActorFrom(r.Context())
	user := q.str("user")
	if !me.Role.Allows(firebreak.RoleAdmin) {
		if user != "" && user != me.Username {
			s.problem(w, r, firebreak.Errorf(firebreak.EForbidden, "only admins may list other users' tokens"))
			return
		}
		user = me.Username
	}
	ts, err := s.cfg.Users.ListTokens(r.Context(), user)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	page, err := apiPageSlice(q, ts, func(t firebreak.Token) string { return t.ID })
	if err != nil {
		s.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, page)
}

// revokeToken deletes a token: any token for admins, only one's own otherwise (others' look not found).
func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	me := firebreak.ActorFrom(r.Context())
	if !me.Role.Allows(firebreak.RoleAdmin) {
		own, err := s.cfg.Users.ListTokens(r.Context(), me.Username)
		if err != nil {
			s.problem(w, r, err)
			return
		}
		if !slices.ContainsFunc(own, func(t firebreak.Token) bool { return t.ID == id }) {
			s.problem(w, r, firebreak.Errorf(firebreak.ENotFound, "token %s not found", id))
			return
		}
	}
	if err := s.cfg.Users.RevokeToken(r.Context(), id); err != nil {
		s.problem(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
