package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/engine"
	"github.com/firebreak/firebreak/notify"
	"github.com/firebreak/firebreak/sqlstore"
)

// NotificationConfig configures notification delivery (the outbox engine).
type NotificationConfig struct {
	SMTP notify.SMTPConfig
	// AttemptTimeout bounds one delivery attempt (default 10 s).
	AttemptTimeout time.Duration
	// Lease is how long a replica's claim on a notification it is sending (or an update reminder) lasts (zero:
	// 2 min); a replica that dies mid-attempt leaves the message to be sent again (same idempotency key) after
	// it. Keep it above AttemptTimeout.
	Lease time.Duration
	// Reminders is the update reminder cadence per severity (nil: SEV1 30 min, SEV2 60 min, SEV3 none).
	Reminders map[firebreak.Severity]time.Duration
}

// DefaultNotificationLease is the outbox's claim lease when none is configured (engine.Outbox's default).
const DefaultNotificationLease = 2 * time.Minute

// fileNotifications is the notifications: section of the config file.
//
//	notifications:
//	  attempt_timeout: 10s
//	  lease: 2m          # a replica's claim on a message it sends; longer than attempt_timeout
//	  reminders: {SEV1: 30m, SEV2: 1h}
//	  smtp: {host: smtp.example.com, port: 587, username: firebreak, password: …, from: "Firebreak <fb@example.com>", tls: require}
type fileNotifications struct {
	AttemptTimeout time.Duration                        `yaml:"attempt_timeout"`
	Lease          *time.Duration                       `yaml:"lease"`
	Reminders      map[firebreak.Severity]time.Duration `yaml:"reminders"`
	SMTP           struct {
		Host     string `yaml:"host"`
		Port     int    `yaml:"port"`
		Username string `yaml:"username"`
		Password string `yaml:"password"`
		From     string `yaml:"from"`
		TLS      string `yaml:"tls"`
	} `yaml:"smtp"`
}

func (f fileNotifications) apply(c *NotificationConfig) error {
	if f.AttemptTimeout > 0 {
		c.AttemptTimeout = f.AttemptTimeout
	}
	if f.Lease != nil {
		if *f.Lease <= 0 {
			return fmt.Errorf("notifications.lease must be a positive duration (e.g. 2m), not %s", *f.Lease)
		}
		c.Lease = *f.Lease
	}
	if p := c.leaseProblem(); p != "" {
		return errors.New(p)
	}
	if f.Reminders != nil {
		for sev := range f.Reminders {
			if !sev.Valid() {
				return fmt.Errorf("notifications.reminders: unknown severity %q", sev)
			}
		}
		c.Reminders = f.Reminders
	}
	s := f.SMTP
	if s.Host != "" {
		c.SMTP.Host = s.Host
	}
	if s.Port != 0 {
		c.SMTP.Port = s.Port
	}
	if s.Username != "" {
		c.SMTP.Username = s.Username
	}
	if s.Password != "" {
		c.SMTP.Password = s.Password
	}
	if s.From != "" {
		c.SMTP.From = s.From
	}
	if s.TLS != "" {
		switch m := notify.TLSMode(s.TLS); m {
		case notify.TLSOpportunistic, notify.TLSRequire, notify.TLSImplicit, notify.TLSOff:
			c.SMTP.TLS = m
		default:
			return fmt.Errorf("notifications.smtp.tls must be opportunistic, require, implicit or off, not %q", s.TLS)
		}
	}
	return nil
}

// leaseProblem says what is wrong with the lease ("" when nothing is): it must be positive (zero: the default)
// and outlast one delivery attempt, or a second replica would take over a message still being sent and send it
// again (receivers would drop the duplicate by its idempotency key, but it is a wasted attempt and a muddled
// timeline).
func (c NotificationConfig) leaseProblem() string {
	if c.Lease < 0 {
		return fmt.Sprintf("notifications.lease must be a positive duration (e.g. 2m), not %s", c.Lease)
	}
	lease, what := c.Lease, ""
	if lease == 0 {
		lease, what = DefaultNotificationLease, ", the default"
	}
	attempt := c.AttemptTimeout
	if attempt <= 0 {
		attempt = notify.DefaultAttemptTimeout
	}
	if lease <= attempt {
		return fmt.Sprintf("notifications.lease (%s%s) must be longer than notifications.attempt_timeout (%s): a "+
			"replica's claim on a message must outlast its delivery attempt", lease, what, attempt)
	}
	return ""
}

// notificationEnv applies FIREBREAK_SMTP_HOST, _PORT, _USERNAME, _PASSWORD, _FROM and _TLS (they override the file).
func (c *NotificationConfig) notificationEnv() {
	set := func(dst *string, k string) {
		if v := os.Getenv(k); v != "" {
			*dst = v
		}
	}
	set(&c.SMTP.Host, "FIREBREAK_SMTP_HOST")
	set(&c.SMTP.Username, "FIREBREAK_SMTP_USERNAME")
	set(&c.SMTP.Password, "FIREBREAK_SMTP_PASSWORD")
	set(&c.SMTP.From, "FIREBREAK_SMTP_FROM")
	if v := os.Getenv("FIREBREAK_SMTP_TLS"); v != "" {
		c.SMTP.TLS = notify.TLSMode(v)
	}
	if p, err := strconv.Atoi(os.Getenv("FIREBREAK_SMTP_PORT")); err == nil && p > 0 {
		c.SMTP.Port = p
	}
}

// runNotifications runs the outbox engine until ctx ends (then lets the attempts in flight record their outcome).
func (a *App) runNotifications(ctx context.Context) {
	nc := a.Config.Notifications
	nc.notificationEnv()
	a.Store.SetNotificationSettings(a.URL(), nc.Reminders)
	ob := &engine.Outbox{Store: a.Store, Logger: a.Logger, Clock: a.engineClock(), Lease: nc.Lease,
		Notifier: notify.New(notify.Config{SMTP: nc.SMTP, AttemptTimeout: nc.AttemptTimeout, Now: a.Clock.Now})}
	// Follow-through reminders (overdue action items, follow-up reviews) run next to the outbox's queues.
	ft := &engine.FollowThrough{Store: a.Store, Logger: a.Logger, Clock: ob.Clock}
	wake, stop := a.Store.Subscribe(sqlstore.JobsTopic)
	defer stop()
	// Recurrence checks of new incidents (is this a recurrence of an earlier one with open action items?).
	rc := &engine.Recurrence{Store: a.Store, Logger: a.Logger, Clock: ob.Clock}
	engine.New(engine.Options{Clock: ob.Clock, Wake: wake, Logger: a.Logger},
		append(append(ob.Queues(), ft.Queues()...), rc.Queue())...).Run(ctx)
}

// appClock adapts the App's clock (pinnable by the demo loader) to the engine.
type appClock struct{ c *Clock }

func (c appClock) Now() time.Time                         { return c.c.Now() }
func (c appClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

func (a *App) engineClock() engine.Clock { return appClock{a.Clock} }
