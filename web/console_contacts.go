package web

import (
	"net/http"
	"strings"

	"github.com/firebreak/firebreak"
)

// The one-click acknowledgement page (/ack/{token}, no sign-in: the link's secret is the credential) and the
// page where a user manages their own contact methods (/account/contact-methods).
//
// Opening the link only shows what it would acknowledge; the button posts. Mail scanners and chat link previews
// fetch links they see, and a GET that acknowledged would stop the escalation before anyone read the page.

type ackPageData struct {
	Link  *firebreak.AckLink
	Token string
	Done  bool   // acknowledged by this request
	Error string // why the link cannot be used
	Code  int
}

func (c *console) routesContacts() {
	if c.ackLinks() != nil {
		c.s.mux.HandleFunc("GET /ack/{token}", c.page(c.ackPage))
		c.s.mux.HandleFunc("POST /ack/{token}", c.page(c.ackUse))
	}
	if c.s.contacts() == nil {
		return
	}
	c.s.mux.HandleFunc("GET /account/contact-methods", c.page(c.authed(firebreak.RoleViewer, c.contactMethods)))
	c.s.mux.HandleFunc("POST /account/contact-methods", c.page(c.authed(firebreak.RoleViewer, c.addContactMethod)))
	c.s.mux.HandleFunc("POST /account/contact-methods/{id}/delete",
		c.page(c.authed(firebreak.RoleViewer, c.deleteContactMethod)))
	c.s.mux.HandleFunc("POST /account/contact-methods/{id}/test",
		c.page(c.authed(firebreak.RoleViewer, c.testContactMethod)))
}

func (c *console) ackLinks() firebreak.AckLinkService {
	a, _ := c.s.cfg.Catalog.(firebreak.AckLinkService)
	return a
}

func (c *console) optionalViewer(r *http.Request) viewer {
	if a := authFrom(r.Context()); a.ok {
		return viewer{Actor: a.actor, CSRF: a.csrf}
	}
	return viewer{}
}

func (c *console) renderAck(w http.ResponseWriter, r *http.Request, d ackPageData, err error) {
	status := http.StatusOK
	if err != nil {
		status = statusOf(firebreak.ErrorCode(err))
		d.Error, d.Code = firebreak.ErrorMessage(err), status
		if status >= 500 {
			c.s.log.ErrorContext(r.Context(), "acknowledgement link", "err", err)
			d.Error = "Something went wrong. Try again, or acknowledge from the incident page."
		}
	}
	w.Header().Set("Referrer-Policy", "no-referrer") // the path is a secret
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Robots-Tag", "noindex")
	c.render(w, r, status, "ack", layoutData{Title: "Acknowledge", Viewer: c.optionalViewer(r), Page: d})
}

func (c *console) ackPage(w http.ResponseWriter, r *http.Request) {
	tok := r.PathValue("token")
	l, err := c.ackLinks().AckLink(r.Context(), tok)
	d := ackPageData{Link: l, Token: tok}
	if err == nil {
		switch {
		case l.UsedAt != nil:
			err = firebreak.Errorf(firebreak.EConflict, "This link was used already.")
		case l.Expired:
			err = firebreak.Errorf(firebreak.EGone, "This link has expired.")
		}
	}
	c.renderAck(w, r, d, err)
}

func (c *console) ackUse(w http.ResponseWriter, r *http.Request) {
	tok := r.PathValue("token")
	l, err := c.ackLinks().AcknowledgeByLink(r.Context(), tok)
	if err != nil {
		l, _ = c.ackLinks().AckLink(r.Context(), tok)
	}
	c.renderAck(w, r, ackPageData{Link: l, Token: tok, Done: err == nil}, err)
}

const contactMethodsPath = "/account/contact-methods"

type contactMethodsPage struct {
	Methods []firebreak.Channel
	Kinds   []firebreak.ChannelKind
	In      firebreak.ChannelInput
	Errors  formErrors
	Error   string
	Notice  string
}

func (c *console) contactMethods(w http.ResponseWriter, r *http.Request, v viewer) {
	d := contactMethodsPage{Notice: c.takeFlash(w, r).Notice, In: firebreak.ChannelInput{Kind: firebreak.ChannelEmail}}
	c.renderContactMethods(w, r, v, http.StatusOK, d)
}

func (c *console) renderContactMethods(w http.ResponseWriter, r *http.Request, v viewer, status int,
	d contactMethodsPage) {
	ms, err := c.s.contacts().ListContactMethods(r.Context(), v.Username)
	if err != nil {
		c.errorPage(w, r, v, err)
		return
	}
	d.Methods, d.Kinds = ms, firebreak.ChannelKinds
	if d.Errors == nil {
		d.Errors = formErrors{}
	}
	c.render(w, r, status, "contact_methods", layoutData{Title: "Your contact methods", Nav: "account", Viewer: v,
		Page: d})
}

func (c *console) addContactMethod(w http.ResponseWriter, r *http.Request, v viewer) {
	in := firebreak.ChannelInput{Kind: firebreak.ChannelKind(r.PostFormValue("kind")),
		Name: strings.TrimSpace(r.PostFormValue("name")), URL: strings.TrimSpace(r.PostFormValue("url")),
		Address: strings.TrimSpace(r.PostFormValue("address")), Secret: r.PostFormValue("secret")}
	ch, err := c.s.contacts().AddContactMethod(r.Context(), v.Username, in)
	if err != nil {
		in.Secret = ""
		fe, msg := fieldErrors(err)
		d := contactMethodsPage{In: in, Errors: fe, Error: "The contact method was not added: " + msg}
		c.renderContactMethods(w, r, v, statusOf(firebreak.ErrorCode(err)), d)
		return
	}
	c.setFlash(w, r, flash{Path: contactMethodsPath, Notice: "Added " + ch.Name + ". Send a test to check that it reaches you."})
	seeOther(w, r, contactMethodsPath)
}

func (c *console) deleteContactMethod(w http.ResponseWriter, r *http.Request, v viewer) {
	ch, err := c.s.contacts().ContactMethod(r.Context(), v.Username, r.PathValue("id"))
	if err == nil {
		err = c.s.channels().DeleteChannel(r.Context(), ch.ID)
	}
	if err != nil {
		c.errorPage(w, r, v, err)
		return
	}
	c.setFlash(w, r, flash{Path: contactMethodsPath, Notice: "Removed " + ch.Name + "."})
	seeOther(w, r, contactMethodsPath)
}

func (c *console) testContactMethod(w http.ResponseWriter, r *http.Request, v viewer) {
	ch, err := c.s.contacts().ContactMethod(r.Context(), v.Username, r.PathValue("id"))
	if err == nil {
		_, err = c.s.channels().TestChannel(r.Context(), ch.ID)
	}
	if err != nil {
		c.errorPage(w, r, v, err)
		return
	}
	c.setFlash(w, r, flash{Path: contactMethodsPath, Notice: "A test message to " + ch.Name + " is on its way."})
	seeOther(w, r, contactMethodsPath)
}
