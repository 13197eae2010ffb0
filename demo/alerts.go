package demo

import (
	"fmt"
	"time"

	"github.com/firebreak/firebreak"
)

// DetectionTitle is the title of the incident the demo's alerts open (the summary of its first alert).
const DetectionTitle = "p99 checkout latency above 2s on orders-1"

// detection loads what monitoring would have sent: integrations on three services, a deploy of the orders service,
// a storm of latency alerts 20 minutes later that routing turns into one SEV2 incident (one alert already
// resolved), and warnings that are only recorded. It runs only when the Target has Alerts.
func (l *loader) detection() {
	if l.err != nil || l.t.Alerts == nil {
		return
	}
	t0 := l.t.Now.Add(-40 * time.Minute).Truncate(time.Minute)
	m := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Minute) }
	integration := func(service string, kind firebreak.IntegrationKind, name string) string {
		if l.err != nil {
			return ""
		}
		g, err := l.t.Alerts.CreateIntegration(l.as("admin", t0.Add(-24*time.Hour)),
			firebreak.IntegrationInput{Service: service, Kind: kind, Name: name})
		l.fail("creating integration "+name, err)
		if err != nil {
			return ""
		}
		return g.ID
	}
	prom := integration("orders", firebreak.IntegrationAlertmanager, "Prometheus (prod)")
	pay := integration("payments", firebreak.IntegrationPagerDuty, "Payments monitoring")
	queue := integration("notifications", firebreak.IntegrationGeneric, "Queue monitor")
	ingest := func(at time.Time, integrationID string, evs ...firebreak.AlertEvent) {
		if l.err != nil {
			return
		}
		_, err := l.t.Alerts.IngestAlerts(l.as("admin", at), integrationID, evs)
		l.fail("ingesting demo alerts", err)
	}

	if l.t.Changes != nil && l.err == nil {
		_, err := l.t.Changes.RecordChange(l.as("admin", m(0)), prom, firebreak.ChangeInput{
			Summary: "Deploy orders v3.18.0: new tax calculation on checkout", Source: "argo-cd",
			Links:      []firebreak.AlertLink{{Href: "https://git.example.com/shop/orders/compare/v3.17.2...v3.18.0", Text: "Diff"}},
			OccurredAt: m(0),
		})
		l.fail("recording the demo deploy", err)
	}

	latency := func(instance string, action string) firebreak.AlertEvent {
		return firebreak.AlertEvent{Action: action, DedupKey: "CheckoutLatencyHigh/" + instance,
			Summary:  fmt.Sprintf("p99 checkout latency above 2s on %s", instance),
			Severity: firebreak.AlertCritical, Source: instance,
			Labels: map[string]string{"alertname": "CheckoutLatencyHigh", "instance": instance, "job": "orders",
				"severity": "critical", "cluster": "prod-eu-1"},
			Annotations: map[string]string{"runbook_url": "https://runbooks.example.com/orders/latency",
				"description": "histogram_quantile(0.99, checkout_duration_seconds) > 2 for 5m"},
			Links: []firebreak.AlertLink{{Href: "https://grafana.example.com/d/orders", Text: "Orders dashboard"}},
		}
	}
	ingest(m(20), prom, latency("orders-1", "trigger"), latency("orders-2", "trigger"))
	ingest(m(22), prom, latency("orders-3", "trigger"))
	ingest(m(31), prom, latency("orders-3", "resolve"))
	ingest(m(10), pay, firebreak.AlertEvent{Action: "trigger", DedupKey: "settlement-slow",
		Summary: "Settlement batch running 40% slower than usual", Severity: firebreak.AlertWarning,
		Source: "settlement-worker-2", Details: `{"batch":"2026-11-21","progress":"61%"}`})
	ingest(m(28), queue, firebreak.AlertEvent{Action: "trigger", DedupKey: "queue-depth",
		Summary: "Notification queue depth above 10,000", Severity: firebreak.AlertWarning, Source: "notify-queue",
		Labels: map[string]string{"alertname": "QueueDepthHigh", "queue": "email"}})
}

// statusPage makes the customer-facing services public components of the status page at /status, grouped as a
// shopper sees them.
func (l *loader) statusPage() {
	if l.err != nil || l.t.Status == nil {
		return
	}
	_, err := l.t.Status.SetStatusPageConfig(l.as("admin", l.t.Now), firebreak.StatusPageInput{
		Name: "Example Shop status",
		Components: []firebreak.StatusComponentInput{
			{Service: "orders", Name: "Checkout", Group: "Shop"},
			{Service: "payments", Name: "Payments", Group: "Shop"},
			{Service: "product-catalog", Name: "Product pages", Group: "Shop"},
			{Service: "search", Name: "Search", Group: "Shop"},
			{Service: "auth", Name: "Sign-in", Group: "Accounts"},
			{Service: "notifications", Name: "Order emails", Group: "Accounts"},
			{Service: "shipping", Name: "Shipping", Group: "Delivery"},
		},
	}, 0)
	l.fail("configuring the status page", err)
}
