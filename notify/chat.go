package notify

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
)

// Slack-compatible incoming webhook (Mattermost accepts the same body): "text" is the complete message — what
// notifications, Mattermost and old clients show — and "blocks" the rich layout Slack shows.

type slackSender struct{ cfg *Config }

// Slack's limits: a header block's text is at most 150 characters, a section's text 3000, a field's 2000.
const (
	slackHeaderMax  = 150
	slackSectionMax = 3000
	slackFieldMax   = 2000
)

// slackEscape escapes the three characters Slack's mrkdwn treats as control (RFC: api.slack.com "Escaping text"),
// so a title like "<!channel>" cannot ping everyone or forge a link.
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

func (s *slackSender) Send(ctx context.Context, d Destination, m Message) error {
	body, err := slackPayload(s.cfg.Templates, m)
	if err != nil {
		return err
	}
	return postJSON(ctx, s.cfg, d.URL, body, idempotencyHeader(m))
}

func idempotencyHeader(m Message) http.Header {
	return http.Header{"Idempotency-Key": {m.ID}}
}

type slackText struct {
	Type string `json:"type"` // plain_text or mrkdwn
	Text string `json:"text"`
}

type slackBlock struct {
	Type     string      `json:"type"`
	Text     *slackText  `json:"text,omitempty"`
	Fields   []slackText `json:"fields,omitempty"`
	Elements []slackText `json:"elements,omitempty"`
}

type slackMessage struct {
	Text   string       `json:"text"`
	Blocks []slackBlock `json:"blocks"`
}

func slackPayload(t *Templates, m Message) ([]byte, error) {
	r, err := t.Render(m)
	if err != nil {
		return nil, err
	}
	inc := m.Incident
	text := slackEscape(r.Headline)
	if inc.URL != "" {
		text += "\n" + slackEscape(inc.URL)
	}
	if m.Text != "" {
		text += "\n" + slackEscape(truncate(m.Text, slackSectionMax))
	}
	msg := slackMessage{Text: text}
	msg.Blocks = append(msg.Blocks, slackBlock{Type: "header",
		Text: &slackText{Type: "plain_text", Text: truncate(r.Headline, slackHeaderMax)}})
	if m.Text != "" {
		msg.Blocks = append(msg.Blocks, slackBlock{Type: "section",
			Text: &slackText{Type: "mrkdwn", Text: truncate(slackEscape(m.Text), slackSectionMax)}})
	}
	var fields []slackText
	field := func(name, value string) {
		if value != "" {
			fields = append(fields, slackText{Type: "mrkdwn",
				Text: "*" + name + "*\n" + truncate(slackEscape(value), slackFieldMax)})
		}
	}
	field("Severity", inc.Severity)
	field("Status", inc.Status)
	field("Services", strings.Join(inc.Services, ", "))
	field("Commander", inc.Commander)
	if len(fields) > 0 {
		msg.Blocks = append(msg.Blocks, slackBlock{Type: "section", Fields: fields})
	}
	var links []string
	if inc.URL != "" {
		links = append(links, "<"+slackEscape(inc.URL)+"|Open "+slackEscape(orDefault(inc.Ref, "incident"))+">")
	}
	if inc.AckURL != "" {
		links = append(links, "<"+slackEscape(inc.AckURL)+"|Acknowledge>")
	}
	if len(links) > 0 {
		msg.Blocks = append(msg.Blocks, slackBlock{Type: "section",
			Text: &slackText{Type: "mrkdwn", Text: strings.Join(links, "  ·  ")}})
	}
	ctxLine := "Firebreak · " + formatTime(m.OccurredAt)
	if m.Actor != "" {
		ctxLine = "Firebreak · by " + slackEscape(m.Actor) + " · " + formatTime(m.OccurredAt)
	}
	msg.Blocks = append(msg.Blocks, slackBlock{Type: "context", Elements: []slackText{{Type: "mrkdwn", Text: ctxLine}}})
	return json.Marshal(msg)
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// Microsoft Teams: a Workflows ("When a Teams webhook request is received") URL receiving a message with one
// Adaptive Card attachment. Workflows accept Adaptive Cards only, not the retired connectors' MessageCard.

type teamsSender struct{ cfg *Config }

func (s *teamsSender) Send(ctx context.Context, d Destination, m Message) error {
	body, err := teamsPayload(s.cfg.Templates, m)
	if err != nil {
		return err
	}
	return postJSON(ctx, s.cfg, d.URL, body, idempotencyHeader(m))
}

type teamsMessage struct {
	Type        string            `json:"type"` // "message"
	Attachments []teamsAttachment `json:"attachments"`
}

type teamsAttachment struct {
	ContentType string       `json:"contentType"` // application/vnd.microsoft.card.adaptive
	ContentURL  *string      `json:"contentUrl"`  // null
	Content     adaptiveCard `json:"content"`
}

type adaptiveCard struct {
	Schema  string           `json:"$schema"`
	Type    string           `json:"type"` // "AdaptiveCard"
	Version string           `json:"version"`
	Body    []map[string]any `json:"body"`
	Actions []map[string]any `json:"actions,omitempty"`
	MSTeams map[string]any   `json:"msteams,omitempty"`
}

// Adaptive Card content type and schema for Teams.
const (
	AdaptiveCardContentType = "application/vnd.microsoft.card.adaptive"
	AdaptiveCardSchema      = "http://adaptivecards.io/schemas/adaptive-card.json"
	AdaptiveCardVersion     = "1.4"
)

func teamsPayload(t *Templates, m Message) ([]byte, error) {
	r, err := t.Render(m)
	if err != nil {
		return nil, err
	}
	inc := m.Incident
	card := adaptiveCard{Schema: AdaptiveCardSchema, Type: "AdaptiveCard", Version: AdaptiveCardVersion,
		MSTeams: map[string]any{"width": "Full"}}
	card.Body = append(card.Body, map[string]any{"type": "TextBlock", "text": r.Headline, "size": "Medium",
		"weight": "Bolder", "wrap": true})
	if m.Text != "" {
		card.Body = append(card.Body, map[string]any{"type": "TextBlock", "text": truncate(m.Text, 4000),
			"wrap": true})
	}
	var facts []map[string]string
	fact := func(name, value string) {
		if value != "" {
			facts = append(facts, map[string]string{"title": name, "value": value})
		}
	}
	fact("Incident", inc.Ref)
	fact("Severity", inc.Severity)
	fact("Status", inc.Status)
	fact("Services", strings.Join(inc.Services, ", "))
	fact("Commander", inc.Commander)
	fact("By", m.Actor)
	fact("At", formatTime(m.OccurredAt))
	card.Body = append(card.Body, map[string]any{"type": "FactSet", "facts": facts})
	if inc.URL != "" {
		card.Actions = append(card.Actions, map[string]any{"type": "Action.OpenUrl",
			"title": "Open " + orDefault(inc.Ref, "incident"), "url": inc.URL})
	}
	if inc.AckURL != "" {
		card.Actions = append(card.Actions, map[string]any{"type": "Action.OpenUrl", "title": "Acknowledge",
			"url": inc.AckURL})
	}
	return json.Marshal(teamsMessage{Type: "message", Attachments: []teamsAttachment{{
		ContentType: AdaptiveCardContentType, Content: card}}})
}
