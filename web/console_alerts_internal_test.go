package web

import (
	"time"

	"github.com/firebreak/firebreak"
)

// alertTestRows are alert rows for rendering tests.
func alertTestRows(now time.Time) []alertRow {
	resolved := now
	return []alertRow{
		{A: firebreak.Alert{ID: "a1", Service: "api", Source: firebreak.IntegrationAlertmanager, Status: firebreak.AlertFiring,
			Summary: "High <down>", Severity: firebreak.AlertCritical, Labels: map[string]string{"x": "<down>"},
			Annotations: map[string]string{"y": "z"}, Links: []firebreak.AlertLink{{Href: "https://x", Text: "t"}},
			FirstSeenAt: now, LastSeenAt: now, Occurrences: 3, IncidentID: "id"},
			StatusClass: alertStatusClass(firebreak.AlertFiring), IncidentRef: "INC-7"},
		{A: firebreak.Alert{ID: "a2", Service: "api", Source: firebreak.IntegrationGeneric, Status: firebreak.AlertResolved,
			Summary: "s", Severity: firebreak.AlertInfo, FirstSeenAt: now, LastSeenAt: now, ResolvedAt: &resolved},
			StatusClass: alertStatusClass(firebreak.AlertResolved)},
	}
}
