package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/firebreak/firebreak"
)

// Notification channels and the outbox's dead letters in the console (the API is api_channels.go):
//
//	GET  /channels                       every channel (URLs masked), the services announcing to it; admins also
//	                                     get the create form and test / disable / enable buttons
//	POST /channels                       create (admin)
//	POST /channels/{id}/test             queue a test message (admin)
//	POST /channels/{id}/enabled          enabled=true|false (admin)
//	GET  /notifications?status=dead      the outbox by status, dead letters first, with a retry button for admins
//	POST /notifications/{id}/retry       requeue a dead letter (admin; same id, so receivers still deduplicate)

func (c *console) routesChannels() {
	if c.s.channels() == nil {
		return
	}
	responder, admin := firebreak.RoleResponder, firebreak.RoleAdmin
	c.s.mux.HandleFunc("GET /channels", c.page(c.authed(responder, c.channelList)))
	c.s.mux.HandleFunc("POST /channels", c.page(c.authed(admin, c.channelCreate)))
	c.s.mux.HandleFunc("POST /channels/{id}/test", c.page(c.authed(admin, c.channelTest)))
	c.s.mux.HandleFunc("POST /channels/{id}/enabled", c.page(c.authed(admin, c.channelEnable)))
	c.s.mux.HandleFunc("GET /notifications", c.page(c.authed(responder, c.notificationList)))
	c.s.mux.HandleFunc("POST /notifications/{id}/retry", c.page(c.authed(admin, c.notificationRetry)))
}

type channelsPage struct {
	Rows   []firebreak.Channel
	Kinds  []firebreak.ChannelKind
	In     firebreak.ChannelInput // the create form (never the secret)
	Errors formErrors
	Error  string
	Notice string
	Open   bool // the create form is open
	Dead   int  // dead letters waiting (at most the first page)
}

func (c *console) channelList(w http.ResponseWriter, r *http.Request, v viewer) {
	d := &channelsPage{Errors: formErrors{}, In: firebreak.ChannelInput{Kind: firebreak.ChannelSlack}}
	switch q := r.URL.Query(); {
	case q.Get("created") != "":
		d.Notice = "Channel " + q.Get("created") + " was created. Send it a test message to check it works."
	case q.Get("tested") != "":
		d.Notice = "A test message to " + q.Get("tested") + " was queued: it shows under Notifications as it is sent."
	case q.Get("disabled") != "":
		d.Notice = "Channel " + q.Get("disabled") + " is disabled: nothing is sent to it until it is enabled again."
	case q.Get("enabled") != "":
		d.Notice = "Channel " + q.Get("enabled") + " is enabled again; what waited for it is sent now."
	}
	c.renderChannels(w, r, v, http.StatusOK, d)
}

func (c *console) renderChannels(w http.ResponseWriter, r *http.Request, v viewer, status int, d *channelsPage) {
	ctx := r.Context()
	cs := c.s.channels()
	rows, err := cs.ListChannels(ctx)
	if err != nil {
		c.errorPage(w, r, v, err)
		return
	}
	d.Rows, d.Kinds = rows, firebreak.ChannelKinds
	if dead, err := cs.ListNotifications(ctx, firebreak.NotificationFilter{Status: firebreak.NotificationDead,
		Limit: firebreak.DefaultLimit}); err == nil {
		d.Dead = len(dead)
	}
	c.render(w, r, status, "channels", layoutData{Title: "Notification channels", Nav: "channels", Viewer: v, Page: d})
}

func (c *console) channelCreate(w http.ResponseWriter, r *http.Request, v viewer) {
	in := firebreak.ChannelInput{Kind: firebreak.ChannelKind(r.PostFormValue("kind")),
		Name: strings.TrimSpace(r.PostFormValue("name")), URL: strings.TrimSpace(r.PostFormValue("url")),
		Address: strings.TrimSpace(r.PostFormValue("address")), Secret: r.PostFormValue("secret")}
	// The form shows both destination fields; only the one the kind uses is sent.
	if in.Kind == firebreak.ChannelEmail {
		in.URL = ""
	} else {
		in.Address = ""
	}
	if in.Kind != firebreak.ChannelWebhook {
		in.Secret = ""
	}
	ch, err := c.s.channels().CreateChannel(r.Context(), in)
	if err != nil {
		code := firebreak.ErrorCode(err)
		if code != firebreak.EInvalid && code != firebreak.EConflict {
			c.errorPage(w, r, v, err)
			return
		}
		in.Secret = ""
		d := &channelsPage{In: in, Errors: formErrors{}, Open: true}
		d.Errors, d.Error = fieldErrors(err)
		if d.Error == "" {
			d.Error = "The channel was not created: check the fields marked below."
		}
		c.renderChannels(w, r, v, statusOf(code), d)
		return
	}
	seeOther(w, r, "/channels?created="+url.QueryEscape(ch.Name)+"#ch-"+ch.ID)
}

func (c *console) channelTest(w http.ResponseWriter, r *http.Request, v viewer) {
	cs := c.s.channels()
	ch, err := cs.GetChannel(r.Context(), r.PathValue("id"))
	if err == nil {
		_, err = cs.TestChannel(r.Context(), ch.ID)
	}
	if err != nil {
		c.errorPage(w, r, v, err)
		return
	}
	seeOther(w, r, "/channels?tested="+url.QueryEscape(ch.Name)+"#ch-"+ch.ID)
}

func (c *console) channelEnable(w http.ResponseWriter, r *http.Request, v viewer) {
	enabled := r.PostFormValue("enabled") == "true"
	ch, err := c.s.channels().UpdateChannel(r.Context(), r.PathValue("id"), firebreak.ChannelPatch{Enabled: &enabled})
	if err != nil {
		c.errorPage(w, r, v, err)
		return
	}
	what := "disabled"
	if ch.Enabled {
		what = "enabled"
	}
	seeOther(w, r, "/channels?"+what+"="+url.QueryEscape(ch.Name)+"#ch-"+ch.ID)
}

// notificationStatuses are the tabs of the outbox view, dead letters first.
var notificationStatuses = []firebreak.NotificationStatus{firebreak.NotificationDead, firebreak.NotificationRetrying,
	firebreak.NotificationQueued, firebreak.NotificationSending, firebreak.NotificationDelivered}

type notificationsPage struct {
	Status   firebreak.NotificationStatus
	Statuses []firebreak.NotificationStatus
	Rows     []firebreak.Notification
	Incident string
	Notice   string
	Error    string
}

func (c *console) notificationList(w http.ResponseWriter, r *http.Request, v viewer) {
	q := r.URL.Query()
	d := &notificationsPage{Status: firebreak.NotificationStatus(q.Get("status")), Statuses: notificationStatuses,
		Incident: strings.TrimSpace(q.Get("incident"))}
	if d.Status == "" {
		d.Status = firebreak.NotificationDead
	}
	if q.Get("retried") != "" {
		d.Notice = "Notification " + q.Get("retried") + " is queued again, with the same id: a receiver that got it " +
			"before drops the duplicate."
	}
	status := http.StatusOK
	rows, err := c.s.channels().ListNotifications(r.Context(), firebreak.NotificationFilter{Status: d.Status,
		Incident: d.Incident, Limit: 200})
	switch code := firebreak.ErrorCode(err); code {
	case "":
		d.Rows = rows
	case firebreak.EInvalid, firebreak.ENotFound:
		d.Error, status = firebreak.ErrorMessage(err), statusOf(code)
	default:
		c.errorPage(w, r, v, err)
		return
	}
	c.render(w, r, status, "notifications", layoutData{Title: "Notifications", Nav: "channels", Viewer: v, Page: d})
}

func (c *console) notificationRetry(w http.ResponseWriter, r *http.Request, v viewer) {
	n, err := c.s.channels().RetryNotification(r.Context(), r.PathValue("id"))
	if err != nil {
		c.errorPage(w, r, v, err)
		return
	}
	seeOther(w, r, "/notifications?status=dead&retried="+url.QueryEscape(n.ID))
}
