package web

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/firebreak/firebreak"
)

// The live timeline: GET /incidents/{ref}/events streams new timeline events as Server-Sent Events.
//
// The store's Live.Subscribe wakes the stream the moment an event is committed (in this process, or through
// PostgreSQL LISTEN/NOTIFY on another replica). Those wake-ups are reliable, so the poll behind them
// (Config.LivePollInterval, 10 s by default) is only a safety net: it catches an event whose signal was lost, or
// one written by another process that shares the SQLite file. Each event carries its id, so a reconnecting browser
// sends Last-Event-ID and misses nothing.

const (
	defaultLivePollInterval = 10 * time.Second
	liveHeartbeatInterval   = 15 * time.Second
)

// liveEvent is the data of one SSE message: the entry rendered as the page renders it, and whether the parts
// of the page outside the timeline need a refresh.
type liveEvent struct {
	ID      int64               `json:"id"`
	Kind    firebreak.EventKind `json:"kind"`
	HTML    string              `json:"html"`
	Refresh bool                `json:"refresh"`
}

func (c *console) events(w http.ResponseWriter, r *http.Request, v viewer) {
	ctx := r.Context()
	inc, err := c.s.cfg.Incidents.GetIncident(ctx, r.PathValue("ref"))
	if err != nil {
		status := statusOf(firebreak.ErrorCode(err))
		http.Error(w, http.StatusText(status), status)
		return
	}
	after := parseEventID(r.Header.Get("Last-Event-ID"))
	if after == 0 {
		after = parseEventID(r.URL.Query().Get("after"))
	}
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Time{}) // a stream outlives the server's write timeout
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	h.Set("X-Content-Type-Options", "nosniff")

	wake, unsubscribe := c.s.cfg.Live.Subscribe(inc.ID)
	defer unsubscribe()

	w.WriteHeader(http.StatusOK)
	if _, err := fmt.Fprint(w, "retry: 2000\n\n"); err != nil {
		return
	}
	if err := rc.Flush(); err != nil {
		return
	}
	ref := firebreak.IncidentRef(inc.Number)
	send := func() error {
		evs, err := c.newEvents(ctx, inc.ID, after)
		if err != nil {
			return err
		}
		if len(evs) == 0 {
			return nil
		}
		var buf bytes.Buffer
		for _, ev := range evs {
			var html bytes.Buffer
			if err := c.tmpl.fragment(&html, "timeline_entry", timelineItem{Ev: ev, Ref: ref, Viewer: v}); err != nil {
				return err
			}
			data, err := json.Marshal(liveEvent{ID: ev.ID, Kind: ev.Kind, HTML: html.String(),
				Refresh: ev.Kind != firebreak.EventNote})
			if err != nil {
				return err
			}
			fmt.Fprintf(&buf, "id: %d\nevent: timeline\ndata: %s\n\n", ev.ID, data)
			after = ev.ID
		}
		if _, err := w.Write(buf.Bytes()); err != nil {
			return err
		}
		return rc.Flush()
	}
	if err := send(); err != nil {
		c.liveStopped(ctx, err)
		return
	}
	poll := time.NewTicker(c.s.cfg.LivePollInterval)
	defer poll.Stop()
	heartbeat := time.NewTicker(liveHeartbeatInterval)
	defer heartbeat.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.s.Closing():
			return // shutting down: the browser reconnects (with Last-Event-ID) to another replica or the restart
		case _, ok := <-wake:
			if !ok {
				wake = nil // the store stopped notifying; polling carries on
			}
			err = send()
		case <-poll.C:
			err = send()
		case <-heartbeat.C:
			if !c.stillSignedIn(r) {
				_, _ = fmt.Fprint(w, "event: signedout\ndata: {}\n\n")
				_ = rc.Flush()
				return
			}
			if _, err = fmt.Fprint(w, ": heartbeat\n\n"); err == nil {
				err = rc.Flush()
			}
		}
		if err != nil {
			c.liveStopped(ctx, err)
			return
		}
	}
}

func (c *console) liveStopped(ctx context.Context, err error) {
	if ctx.Err() != nil {
		return // the browser went away
	}
	c.s.log.WarnContext(ctx, "live timeline stream stopped", "err", err)
}

// newEvents returns the events recorded after the one with id after, in id order.
func (c *console) newEvents(ctx context.Context, incidentID string, after int64) ([]firebreak.TimelineEvent, error) {
	var out []firebreak.TimelineEvent
	f := firebreak.TimelineFilter{AfterID: after, Limit: firebreak.MaxLimit}
	for range 20 {
		p, err := c.s.cfg.Incidents.ListTimeline(ctx, incidentID, f)
		if err != nil {
			return nil, err
		}
		out = append(out, p.Items...)
		if p.NextCursor == "" {
			break
		}
		f.Cursor = p.NextCursor
	}
	slices.SortFunc(out, func(a, b firebreak.TimelineEvent) int { return cmp.Compare(a.ID, b.ID) })
	return slices.CompactFunc(out, func(a, b firebreak.TimelineEvent) bool { return a.ID == b.ID }), nil
}

// stillSignedIn checks, now and then, that the session a stream was opened with has not been signed out.
func (c *console) stillSignedIn(r *http.Request) bool {
	a := authFrom(r.Context())
	if !a.viaCookie {
		return true
	}
	ck, err := r.Cookie(SessionCookie)
	if err != nil {
		return false
	}
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	_, err = c.s.cfg.Sessions.AuthenticateSession(ctx, ck.Value)
	return err == nil || firebreak.ErrorCode(err) != firebreak.EUnauthorized
}

func parseEventID(s string) int64 {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n < 0 {
		return 0
	}
	return n
}
