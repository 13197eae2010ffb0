package intake

import (
	"encoding/json"
	"fmt"
	"strings"
)

// amMessage is the Alertmanager webhook body, version "4" (also Grafana's,
// version "1", which adds fields we read in grafana.go). Unknown keys
// (notification_reason, routeLabels, future ones) are ignored.
type amMessage struct {
	Version         string          `json:"version"`
	GroupKey        string          `json:"groupKey"`
	TruncatedAlerts uint64          `json:"truncatedAlerts"`
	Status          string          `json:"status"`
	Receiver        string          `json:"receiver"`
	ExternalURL     string          `json:"externalURL"`
	Alerts          json.RawMessage `json:"alerts"`
}

// amAlert is one alert of an Alertmanager or Grafana webhook body.
type amAlert struct {
	Status       string             `json:"status"`
	Labels       map[string]string  `json:"labels"`
	Annotations  map[string]string  `json:"annotations"`
	StartsAt     string             `json:"startsAt"`
	EndsAt       string             `json:"endsAt"`
	GeneratorURL string             `json:"generatorURL"`
	Fingerprint  string             `json:"fingerprint"`
	SilenceURL   string             `json:"silenceURL"`   // Grafana
	DashboardURL string             `json:"dashboardURL"` // Grafana
	PanelURL     string             `json:"panelURL"`     // Grafana
	ImageURL     string             `json:"imageURL"`     // Grafana
	Values       map[string]float64 `json:"values"`       // Grafana
	ValueString  string             `json:"valueString"`  // Grafana
}

// ParseAlertmanagerV4 parses an Alertmanager webhook body (version "4") into
// one Event per alert. Alertmanager sends the whole current group each time,
// firing and resolved alerts together, so the caller must reconcile against
// the state it holds rather than treat each Event as new.
//
//   - version must be "4"; alerts must be present and hold at most MaxAlerts.
//   - Each alert's status must be "firing" (Action trigger) or "resolved"
//     (Action resolve).
//   - DedupKey and Fingerprint are the alert's fingerprint; when absent it
//     is computed from the labels as Alertmanager does (LabelsFingerprint).
//   - Severity comes from the "severity" label (SeverityFromLabel).
//   - Summary is annotation summary, else description, else the alertname
//     label, else the label set.
//   - startsAt/endsAt must be RFC 3339 when present; the zero time
//     "0001-01-01T00:00:00Z" (a firing alert) gives a zero EndsAt.
//   - generatorURL becomes a Link with text "Source".
//
// GroupKey, Receiver, ExternalURL and TruncatedAlerts are copied into every
// Event. Unknown keys are ignored.
func ParseAlertmanagerV4(body []byte) ([]Event, error) {
	return parseAMShape(body, FormatAlertmanager, "4")
}

func parseAMShape(body []byte, format, version string) ([]Event, error) {
	if err := checkSize(body); err != nil {
		return nil, err
	}
	var msg amMessage
	if err := json.Unmarshal(body, &msg); err != nil {
		return nil, jsonErr("", err)
	}
	if msg.Version != version {
		return nil, fieldErr("version", "must be %q, got %q", version, msg.Version)
	}
	raws, err := splitAlerts("alerts", msg.Alerts)
	if err != nil {
		return nil, err
	}
	events := make([]Event, 0, len(raws))
	for i, raw := range raws {
		path := fmt.Sprintf("alerts[%d]", i)
		var a amAlert
		if err := json.Unmarshal(raw, &a); err != nil {
			return nil, jsonErr(path, err)
		}
		if string(raw) == "null" || len(raw) == 0 || raw[0] != '{' {
			return nil, fieldErr(path, "must be an object")
		}
		ev := Event{
			Format:          format,
			GroupKey:        msg.GroupKey,
			Receiver:        msg.Receiver,
			ExternalURL:     msg.ExternalURL,
			TruncatedAlerts: msg.TruncatedAlerts,
			Labels:          a.Labels,
			Annotations:     a.Annotations,
			Raw:             compactJSON(raw),
		}
		switch a.Status {
		case "firing":
			ev.Action = ActionTrigger
		case "resolved":
			ev.Action = ActionResolve
		default:
			return nil, fieldErr(path+".status", "must be \"firing\" or \"resolved\", got %q", a.Status)
		}
		if ev.Labels == nil {
			ev.Labels = map[string]string{}
		}
		if ev.Annotations == nil {
			ev.Annotations = map[string]string{}
		}
		ev.Fingerprint = a.Fingerprint
		if strings.TrimSpace(ev.Fingerprint) == "" {
			ev.Fingerprint = LabelsFingerprint(ev.Labels)
		}
		ev.DedupKey = ev.Fingerprint
		ev.Severity = SeverityFromLabel(ev.Labels["severity"])
		ev.Summary = summaryFrom(ev.Labels, ev.Annotations)
		var ok bool
		if ev.StartsAt, ok = parseTime(a.StartsAt); !ok {
			return nil, fieldErr(path+".startsAt", "must be an RFC 3339 time, got %q", a.StartsAt)
		}
		if ev.EndsAt, ok = parseTime(a.EndsAt); !ok {
			return nil, fieldErr(path+".endsAt", "must be an RFC 3339 time, got %q", a.EndsAt)
		}
		for _, l := range []Link{
			{a.GeneratorURL, "Source"},
			{a.SilenceURL, "Silence"},
			{a.DashboardURL, "Dashboard"},
			{a.PanelURL, "Panel"},
		} {
			if l.Href != "" {
				ev.Links = append(ev.Links, l)
			}
		}
		if a.ImageURL != "" {
			ev.Images = []Image{{Src: a.ImageURL}}
		}
		ev.Values = a.Values
		ev.ValueString = a.ValueString
		events = append(events, ev)
	}
	return events, nil
}
