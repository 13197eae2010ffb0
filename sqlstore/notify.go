package sqlstore

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// hub signals subscribers of an incident's timeline. Signals coalesce: a subscriber's channel holds at most one
// pending signal, and a send never blocks.
type hub struct {
	mu   sync.Mutex
	subs map[string]map[*subscription]struct{}
}

type subscription struct{ ch chan struct{} }

func (h *hub) subscribe(incidentID string) (<-chan struct{}, func()) {
	sub := &subscription{ch: make(chan struct{}, 1)}
	h.mu.Lock()
	m := h.subs[incidentID]
	if m == nil {
		m = map[*subscription]struct{}{}
		h.subs[incidentID] = m
	}
	m[sub] = struct{}{}
	h.mu.Unlock()
	var once sync.Once
	return sub.ch, func() {
		once.Do(func() {
			h.mu.Lock()
			delete(h.subs[incidentID], sub)
			if len(h.subs[incidentID]) == 0 {
				delete(h.subs, incidentID)
			}
			h.mu.Unlock()
		})
	}
}

func (h *hub) signal(incidentID string) {
	h.mu.Lock()
	for sub := range h.subs[incidentID] {
		select {
		case sub.ch <- struct{}{}:
		default:
		}
	}
	h.mu.Unlock()
}

func (h *hub) signalAll() {
	h.mu.Lock()
	for _, m := range h.subs {
		for sub := range m {
			select {
			case sub.ch <- struct{}{}:
			default:
			}
		}
	}
	h.mu.Unlock()
}

// Subscribe returns a channel that is signalled after every commit that appended timeline events of the
// incident (by its ID, not a ref), and a cancel function to call when done. The channel is buffered (1) and
// signals coalesce, so a slow reader sees one signal for many events and should then read everything new
// (ListTimeline with AfterID). On PostgreSQL, commits made by other replicas signal it too (LISTEN/NOTIFY); after
// the listener reconnects every subscriber is signalled once, since notifications may have been missed. A
// signal means "look again": it may be spurious (on PostgreSQL a replica also hears its own NOTIFY, so one commit
// can signal twice). The channel is never closed.
func (s *Store) Subscribe(incidentID string) (ch <-chan struct{}, cancel func()) {
	return s.hub.subscribe(incidentID)
}

// listenerAppName names the listener's PostgreSQL session (visible in pg_stat_activity).
const listenerAppName = "firebreak-listener"

// listen keeps a dedicated connection LISTENing on the timeline channel and forwards notifications to the hub,
// reconnecting with capped exponential backoff and full jitter.
func (s *Store) listen(ctx context.Context) {
	defer close(s.listenDone)
	const minBackoff, maxBackoff = 100 * time.Millisecond, 10 * time.Second
	backoff := minBackoff
	var ready sync.Once
	for ctx.Err() == nil {
		err := s.listenOnce(ctx, func() {
			backoff = minBackoff
			s.hub.signalAll() // whatever happened while we were not listening
			ready.Do(func() { close(s.listenReady) })
		})
		if ctx.Err() != nil {
			return
		}
		s.log.Warn("timeline listener disconnected; reconnecting", "error", err, "backoff", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Duration(rand.Int64N(int64(backoff)) + 1)):
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

func (s *Store) listenOnce(ctx context.Context, connected func()) error {
	cfg, err := pgx.ParseConfig(s.url)
	if err != nil {
		return err
	}
	cfg.RuntimeParams["application_name"] = listenerAppName
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+notifyChannel); err != nil {
		return err
	}
	connected()
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		s.hub.signal(n.Payload)
	}
}
