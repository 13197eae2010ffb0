package intake

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// PagerDuty Events API v2 limits (PagerDuty developer docs, Events API v2).
const (
	PagerDutyRoutingKeyLen   = 32   // "the 32 character Integration Key"
	PagerDutyMaxSummaryLen   = 1024 // payload.summary, in characters (runes)
	PagerDutyMaxDedupKeyLen  = 255  // dedup_key, in characters (runes)
	pagerDutyStatusInvalid   = "invalid event"
	pagerDutyMessageInvalid  = "Event object is invalid"
	pagerDutyStatusUnrecog   = "Unrecognized object"
	pagerDutyMessageUnrecog  = "Event object format is unrecognized"
	pagerDutyErrJSONParse    = "JSON parse error"
	pagerDutyErrRoutingKeyLn = "Length of 'routing_key' is incorrect (should be 32 characters)"
)

// PagerDutyError is a rejected PagerDuty Events API v2 event. Its JSON form
// (Body) is PagerDuty's 400 answer:
//
//	{"status":"invalid event","message":"Event object is invalid","errors":[...]}
//
// pretty-printed exactly as in PagerDuty's documentation. Fields lists the
// offending fields in the same order as Errors.
type PagerDutyError struct {
	Status  string   `json:"status"`
	Message string   `json:"message"`
	Errors  []string `json:"errors"`
	// Fields names the wrong field of each entry in Errors ("routing_key",
	// "payload.summary", or "body" when the JSON itself is unusable).
	Fields []string `json:"-"`
	// Err is an underlying cause (ErrBodyTooLarge, a JSON error), if any.
	Err error `json:"-"`
}

func (e *PagerDutyError) Error() string {
	parts := make([]string, len(e.Errors))
	for i, m := range e.Errors {
		f := "body"
		if i < len(e.Fields) {
			f = e.Fields[i]
		}
		parts[i] = fmt.Sprintf("field %q: %s", f, m)
	}
	return fmt.Sprintf("intake: pagerduty: %s: %s", e.Message, strings.Join(parts, "; "))
}

func (e *PagerDutyError) Unwrap() error { return e.Err }

// StatusCode is the HTTP status PagerDuty answers with: 400.
func (e *PagerDutyError) StatusCode() int { return 400 }

// Body is the exact response body: PagerDuty's documented 400 body, keys in
// the order status, message, errors, indented by two spaces, with a
// trailing newline.
func (e *PagerDutyError) Body() []byte {
	errs := e.Errors
	if errs == nil {
		errs = []string{}
	}
	return pdEncode(struct {
		Status  string   `json:"status"`
		Message string   `json:"message"`
		Errors  []string `json:"errors"`
	}{e.Status, e.Message, errs})
}

// PagerDutyAccepted returns the exact 202 body PagerDuty answers an accepted
// event with: {"status","message","dedup_key"} in that order, indented by
// two spaces, with a trailing newline, as in PagerDuty's documentation.
func PagerDutyAccepted(dedupKey string) []byte {
	return pdEncode(struct {
		Status   string `json:"status"`
		Message  string `json:"message"`
		DedupKey string `json:"dedup_key"`
	}{"success", "Event processed", dedupKey})
}

func pdEncode(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		panic(err) // only strings: cannot fail
	}
	return buf.Bytes()
}

type pdEvent struct {
	RoutingKey  string          `json:"routing_key"`
	EventAction string          `json:"event_action"`
	DedupKey    string          `json:"dedup_key"`
	Payload     *pdPayload      `json:"payload"`
	Images      json.RawMessage `json:"images"`
	Links       json.RawMessage `json:"links"`
	Client      string          `json:"client"`
	ClientURL   string          `json:"client_url"`
}

type pdPayload struct {
	Summary       string          `json:"summary"`
	Source        string          `json:"source"`
	Severity      string          `json:"severity"`
	Timestamp     string          `json:"timestamp"`
	Component     string          `json:"component"`
	Group         string          `json:"group"`
	Class         string          `json:"class"`
	CustomDetails json.RawMessage `json:"custom_details"`
}

// ParsePagerDutyV2 parses a PagerDuty Events API v2 event (the body of
// POST /v2/enqueue). A rejected event gives a *PagerDutyError whose Body is
// the 400 answer to send. The rules, as PagerDuty documents them:
//
//   - routing_key must be 32 characters.
//   - event_action must be trigger, acknowledge or resolve.
//   - dedup_key is at most 255 characters; it is required for acknowledge
//     and resolve. On trigger, a missing or empty ("") dedup_key is replaced
//     by a generated UUID (DedupKeyGenerated is set) to be returned in the
//     202 answer.
//   - On trigger, payload.summary (at most 1024 characters),
//     payload.source and payload.severity (critical, error, warning, info)
//     are required.
//
// All violations are reported together. Unknown fields are ignored. On
// acknowledge and resolve the payload is optional and not validated; Severity
// is payload.severity when valid, else "info". payload.timestamp goes to
// StartsAt when it parses as ISO 8601, and is otherwise ignored (PagerDuty
// stamps such events itself). Links without href and images without src are
// dropped.
func ParsePagerDutyV2(body []byte) (Event, error) {
	var in pdEvent
	pe, err := decodePagerDuty(body, &in, &in.RoutingKey)
	if err != nil {
		return Event{}, err
	}
	add := pe.add
	action := in.EventAction
	if !ValidAction(action) {
		add("event_action", "'event_action' is missing or invalid (should be one of 'trigger', 'acknowledge', 'resolve')")
	}
	if n := utf8.RuneCountInString(in.DedupKey); n > PagerDutyMaxDedupKeyLen {
		add("dedup_key", fmt.Sprintf("Length of 'dedup_key' is too long (maximum is %d characters)", PagerDutyMaxDedupKeyLen))
	} else if n == 0 && (action == ActionAcknowledge || action == ActionResolve) {
		add("dedup_key", "'dedup_key' is missing or blank (required for acknowledge and resolve events)")
	}
	p := in.Payload
	if p == nil {
		p = &pdPayload{}
	}
	if action == ActionTrigger {
		if strings.TrimSpace(p.Summary) == "" {
			add("payload.summary", "'payload.summary' is missing or blank")
		} else if utf8.RuneCountInString(p.Summary) > PagerDutyMaxSummaryLen {
			add("payload.summary", fmt.Sprintf("Length of 'payload.summary' is too long (maximum is %d characters)", PagerDutyMaxSummaryLen))
		}
		if strings.TrimSpace(p.Source) == "" {
			add("payload.source", "'payload.source' is missing or blank")
		}
		if !ValidSeverity(p.Severity) {
			add("payload.severity", "'payload.severity' is missing or invalid (should be one of 'critical', 'error', 'warning', 'info')")
		}
	}
	if len(pe.Errors) > 0 {
		return Event{}, pe
	}

	ev := Event{
		Format:     FormatPagerDuty,
		Action:     action,
		DedupKey:   in.DedupKey,
		RoutingKey: in.RoutingKey,
		Summary:    p.Summary,
		Severity:   p.Severity,
		Source:     p.Source,
		Component:  p.Component,
		Group:      p.Group,
		Class:      p.Class,
		Client:     in.Client,
		ClientURL:  in.ClientURL,
		Details:    compactJSON(p.CustomDetails),
		Raw:        append(json.RawMessage(nil), body...),
	}
	if ev.DedupKey == "" {
		ev.DedupKey = newUUID()
		ev.DedupKeyGenerated = true
	}
	if !ValidSeverity(ev.Severity) {
		ev.Severity = SeverityInfo
	}
	if t, ok := parseTime(p.Timestamp); ok {
		ev.StartsAt = t
	}
	// links and images are best effort: a malformed entry is dropped, not
	// rejected (PagerDuty's rejection rules for them are not documented).
	var links []struct {
		Href string `json:"href"`
		Text string `json:"text"`
	}
	if json.Unmarshal(in.Links, &links) == nil {
		for _, l := range links {
			if l.Href != "" {
				ev.Links = append(ev.Links, Link{Href: l.Href, Text: l.Text})
			}
		}
	}
	var images []Image
	if json.Unmarshal(in.Images, &images) == nil {
		for _, im := range images {
			if im.Src != "" {
				ev.Images = append(ev.Images, im)
			}
		}
	}
	return ev, nil
}

// newUUID returns a random (version 4) UUID.
func newUUID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand.Read does not fail
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// decodePagerDuty does what every PagerDuty endpoint does first: refuse an oversized body, decode it into v
// (answering PagerDuty's bodies for malformed JSON and wrong types) and check the routing key. It returns the
// error being built for the caller's own checks (pe.add); routingKey points into v.
func decodePagerDuty(body []byte, v any, routingKey *string) (*PagerDutyError, error) {
	if err := checkSize(body); err != nil {
		return nil, &PagerDutyError{Status: pagerDutyStatusInvalid, Message: pagerDutyMessageInvalid,
			Errors: []string{fmt.Sprintf("Event object is too large (maximum is %d bytes)", MaxBodyBytes)},
			Fields: []string{"body"}, Err: err}
	}
	if err := json.Unmarshal(body, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			f := jsonErr("", err)
			return nil, &PagerDutyError{Status: pagerDutyStatusInvalid, Message: pagerDutyMessageInvalid,
				Errors: []string{fmt.Sprintf("'%s' %s", f.Field, f.Msg)}, Fields: []string{f.Field}, Err: err}
		}
		return nil, &PagerDutyError{Status: pagerDutyStatusUnrecog, Message: pagerDutyMessageUnrecog,
			Errors: []string{pagerDutyErrJSONParse}, Fields: []string{"body"}, Err: err}
	}
	pe := &PagerDutyError{Status: pagerDutyStatusInvalid, Message: pagerDutyMessageInvalid}
	if utf8.RuneCountInString(*routingKey) != PagerDutyRoutingKeyLen {
		pe.add("routing_key", pagerDutyErrRoutingKeyLn)
	}
	return pe, nil
}

// add records one invalid field and its PagerDuty message.
func (e *PagerDutyError) add(field, msg string) {
	e.Errors = append(e.Errors, msg)
	e.Fields = append(e.Fields, field)
}
