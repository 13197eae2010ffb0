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

// timelineChanged runs after a commit that appended events of the incident: it signals this process's
// subscribers and, on PostgreSQL, queues a NOTIFY for the other replicas.
func (s *Store) timelineChanged(incidentID string) {
	s.hub.signal(incidentID)
	if s.notifier != nil {
		s.notifier.add(incidentID)
	}
}

// notifier sends the NOTIFYs of committed timeline changes, coalescing the incidents changed since its last send
// into one statement. Delivery is best effort: a replica that misses one (this process died between COMMIT and
// NOTIFY, or the listener was reconnecting) catches up with the next signal, and a reconnecting listener signals
// all its subscribers.
type notifier struct {
	mu      sync.Mutex
	pending map[string]struct{}
	wake    chan struct{}
}

func newNotifier() *notifier {
	return &notifier{pending: map[string]struct{}{}, wake: make(chan struct{}, 1)}
}

func (n *notifier) add(id string) {
	n.mu.Lock()
	n.pending[id] = struct{}{}
	n.mu.Unlock()
	select {
	case n.wake <- struct{}{}:
	default:
	}
}

func (n *notifier) take() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	ids := make([]string, 0, len(n.pending))
	for id := range n.pending {
		ids = append(ids, id)
	}
	clear(n.pending)
	return ids
}

// notifyLoop sends queued NOTIFYs until ctx ends, then sends what is left.
func (s *Store) notifyLoop(ctx context.Context) {
	defer close(s.notifyDone)
	send := func(ctx context.Context) {
		ids := s.notifier.take()
		if len(ids) == 0 {
			return
		}
		for attempt := 0; attempt < 3; attempt++ {
			_, err := s.pgPool(Reserved(ctx)).ExecContext(ctx, notifySQL, ids) // waking replicas is paging work
			if err == nil || ctx.Err() != nil {
				return
			}
			s.log.Warn("notifying other replicas failed", "error", err, "incidents", len(ids))
			time.Sleep(time.Duration(attempt+1) * 50 * time.Millisecond)
		}
	}
	for {
		select {
		case <-s.notifier.wake:
			send(ctx)
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			send(fctx)
			cancel()
			return
		}
	}
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
