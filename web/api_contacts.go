package web

import (
	"net/http"

	"github.com/firebreak/firebreak"
)

// Users' contact methods: the channels that page them. A user manages their own; an admin manages anyone's.
// They are channels with an owner, so delivery, retries, breakers and dead letters work as for any channel.

func (s *Server) routesContactsAPI() {
	if s.contacts() == nil {
		return
	}
	viewer := firebreak.RoleViewer
	s.api("GET /users/{username}/contact-methods", viewer, s.listContactMethods)
	s.api("POST /users/{username}/contact-methods", viewer, s.addContactMethod)
	s.api("DELETE /users/{username}/contact-methods/{id}", viewer, s.deleteContactMethod)
	s.api("POST /users/{username}/contact-methods/{id}/test", viewer, s.testContactMethod)
}

func (s *Server) contacts() firebreak.ContactService {
	c, _ := s.cfg.Catalog.(firebreak.ContactService)
	return c
}

// contactOwner is the user whose contact methods the request names, if the caller may manage them: themselves,
// or anyone for an admin ("me" names the caller).
func contactOwner(r *http.Request) (string, error) {
	a := firebreak.ActorFrom(r.Context())
	u := r.PathValue("username")
	if u == "me" {
		u = a.Username
	}
	if u != a.Username && !a.Role.Allows(firebreak.RoleAdmin) {
		return "", firebreak.Errorf(firebreak.EForbidden, "only %s or an admin may manage %s's contact methods", u, u)
	}
	return u, nil
}

func (s *Server) listContactMethods(w http.ResponseWriter, r *http.Request) {
	u, err := contactOwner(r)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	cs, err := s.contacts().ListContactMethods(r.Context(), u)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, apiList[firebreak.Channel]{Items: cs})
}

func (s *Server) addContactMethod(w http.ResponseWriter, r *http.Request) {
	u, err := contactOwner(r)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	var in firebreak.ChannelInput
	if _, err := s.decodeRequest(w, r, &in, false); err != nil {
		s.problem(w, r, err)
		return
	}
	if in.User != "" && in.User != u {
		var v firebreak.Validation
		v.Add("user", "must be %s (or left out)", u)
		s.problem(w, r, v.Err())
		return
	}
	c, err := s.contacts().AddContactMethod(r.Context(), u, in)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	apiCreated(w, APIPrefix+"/users/"+u+"/contact-methods/"+c.ID, 0, false, c)
}

// ownContactMethod checks that the channel in the path is a contact method of the user in the path.
func (s *Server) ownContactMethod(w http.ResponseWriter, r *http.Request) (*firebreak.Channel, bool) {
	u, err := contactOwner(r)
	if err == nil {
		var c *firebreak.Channel
		if c, err = s.contacts().ContactMethod(r.Context(), u, r.PathValue("id")); err == nil {
			return c, true
		}
	}
	s.problem(w, r, err)
	return nil, false
}

func (s *Server) deleteContactMethod(w http.ResponseWriter, r *http.Request) {
	c, ok := s.ownContactMethod(w, r)
	if !ok {
		return
	}
	if err := s.channels().DeleteChannel(r.Context(), c.ID); err != nil {
		s.problem(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) testContactMethod(w http.ResponseWriter, r *http.Request) {
	c, ok := s.ownContactMethod(w, r)
	if !ok {
		return
	}
	n, err := s.channels().TestChannel(r.Context(), c.ID)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, n)
}
