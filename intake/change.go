package intake

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Change is one parsed PagerDuty change event (the body of POST /v2/change/enqueue).
type Change struct {
	RoutingKey string
	Summary    string
	Source     string
	// Timestamp is payload.timestamp when it parses as ISO 8601; zero otherwise (the receiver stamps it).
	Timestamp time.Time
	Details   json.RawMessage // compact custom_details, or nil
	Links     []Link
	Raw       json.RawMessage
}

type pdChange struct {
	RoutingKey string           `json:"routing_key"`
	Payload    *pdChangePayload `json:"payload"`
	Links      json.RawMessage  `json:"links"`
}

type pdChangePayload struct {
	Summary       string          `json:"summary"`
	Timestamp     string          `json:"timestamp"`
	Source        string          `json:"source"`
	CustomDetails json.RawMessage `json:"custom_details"`
}

// PagerDutyChangeAccepted is the 202 body answered to an accepted change event. PagerDuty's change events carry
// no dedup key, so the body is PagerDutyAccepted's without it: {"status","message"} in that order, indented by
// two spaces, with a trailing newline.
func PagerDutyChangeAccepted() []byte {
	return pdEncode(struct {
		Status  string `json:"status"`
		Message string `json:"message"`
	}{"success", "Change event processed"})
}

// ParsePagerDutyChange parses a PagerDuty change event (the body of POST /v2/change/enqueue):
//
//	{"routing_key": "...", "payload": {"summary", "timestamp", "source", "custom_details"}, "links": [{"href","text"}]}
//
// A rejected event gives a *PagerDutyError whose Body is the 400 answer to send, in the same style as
// ParsePagerDutyV2: routing_key must be 32 characters, payload.summary is required and at most 1024
// characters. All violations are reported together; unknown fields are ignored. payload.timestamp goes to
// Timestamp when it parses as ISO 8601 and is otherwise ignored; links without href are dropped.
func ParsePagerDutyChange(body []byte) (Change, error) {
	var in pdChange
	pe, err := decodePagerDuty(body, &in, &in.RoutingKey)
	if err != nil {
		return Change{}, err
	}
	add := pe.add
	p := in.Payload
	if p == nil {
		p = &pdChangePayload{}
	}
	if strings.TrimSpace(p.Summary) == "" {
		add("payload.summary", "'payload.summary' is missing or blank")
	} else if utf8.RuneCountInString(p.Summary) > PagerDutyMaxSummaryLen {
		add("payload.summary", fmt.Sprintf("Length of 'payload.summary' is too long (maximum is %d characters)", PagerDutyMaxSummaryLen))
	}
	if len(pe.Errors) > 0 {
		return Change{}, pe
	}
	c := Change{RoutingKey: in.RoutingKey, Summary: p.Summary, Source: p.Source,
		Details: compactJSON(p.CustomDetails), Raw: append(json.RawMessage(nil), body...)}
	if t, ok := parseTime(p.Timestamp); ok {
		c.Timestamp = t
	}
	var links []struct {
		Href string `json:"href"`
		Text string `json:"text"`
	}
	if json.Unmarshal(in.Links, &links) == nil {
		for _, l := range links {
			if l.Href != "" {
				c.Links = append(c.Links, Link{Href: l.Href, Text: l.Text})
			}
		}
	}
	return c, nil
}
