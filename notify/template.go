package notify

import (
	"bytes"
	"fmt"
	htmltemplate "html/template"
	"strings"
	texttemplate "text/template"
	"time"
)

// Headlines holds the one template per message kind: a single line (text/template) that becomes the email subject,
// the chat message's first line and the webhook's "summary". The bodies around it are shared (TextBody, HTMLBody),
// so a new wording is one line here. Templates see the Message as dot.
var Headlines = map[Kind]string{
	KindDeclared:        `{{.Incident.Ref}} declared ({{.Incident.Severity}}): {{.Incident.Title}}`,
	KindSeverityChanged: `{{.Incident.Ref}} is now {{.Incident.Severity}}: {{.Incident.Title}}`,
	KindStatusChanged:   `{{.Incident.Ref}} is now {{.Incident.Status}}: {{.Incident.Title}}`,
	KindRoleChanged:     `{{.Incident.Ref}} roles changed: {{.Incident.Title}}`,
	KindUpdatePosted:    `{{.Incident.Ref}} update: {{.Incident.Title}}`,
	KindResolved:        `{{.Incident.Ref}} resolved: {{.Incident.Title}}`,
	KindPage:            `Page: {{.Incident.Ref}} ({{.Incident.Severity}}) needs you: {{.Incident.Title}}`,
	KindReminder:        `Reminder: {{.Incident.Ref}} is still {{.Incident.Status}}: {{.Incident.Title}}`,
	KindTest:            `Firebreak test notification{{with .Incident.Ref}} for {{.}}{{end}}`,

	// Follow-through: the message's Text names the action item or the review.
	KindActionItemOverdue: `Overdue action item from {{.Incident.Ref}}: {{.Incident.Title}}`,
	KindFollowUpReview:    `Follow-up review due: {{.Incident.Ref}} post-mortem ({{.Incident.Title}})`,
	// Recurrence: the message's Text names the earlier incident and its open action items.
	KindRecurrence: `{{.Incident.Ref}} looks like an earlier incident with open action items: {{.Incident.Title}}`,
	// Change control: the message's Text says what is proposed and why, or the decision and its note.
	KindChangeProposed: `Approval needed on {{.Incident.Ref}}: {{with .Actor}}{{.}} proposes{{else}}proposed{{end}} a change ({{.Incident.Title}})`,
	KindChangeApproved: `Change approved on {{.Incident.Ref}}{{with .Actor}} by {{.}}{{end}}: {{.Incident.Title}}`,
	KindChangeRejected: `Change rejected on {{.Incident.Ref}}{{with .Actor}} by {{.}}{{end}}: {{.Incident.Title}}`,
}

// TextBody is the plain-text body (email text part). Dot is a View.
const TextBody = `{{.Headline}}
{{with .Message.Text}}
{{.}}
{{end}}{{with .Message.Incident}}{{if .Ref}}
Incident:  {{.Ref}} {{.Title}}
Severity:  {{.Severity}}
Status:    {{.Status}}{{with .Services}}
Services:  {{join . ", "}}{{end}}{{with .Commander}}
Commander: {{.}}{{end}}{{end}}{{end}}{{with .Message.Actor}}
By:        {{.}}{{end}}
At:        {{.When}}
{{with .Message.Incident.URL}}
Open the incident: {{.}}{{end}}{{with .Message.Incident.AckURL}}
Acknowledge: {{.}}{{end}}
`

// HTMLBody is the HTML body (email HTML part); html/template escapes every value, so markup in titles and updates
// is shown, never interpreted. Dot is a View.
const HTMLBody = `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{{.Headline}}</title></head>
<body style="font-family:sans-serif;font-size:14px;color:#1a1a1a">
<h2 style="font-size:16px">{{.Headline}}</h2>
{{with .Message.Text}}<p style="white-space:pre-wrap">{{.}}</p>
{{end}}{{with .Message.Incident}}{{if .Ref}}<table cellpadding="4" style="border-collapse:collapse">
<tr><th align="left">Incident</th><td>{{.Ref}} {{.Title}}</td></tr>
<tr><th align="left">Severity</th><td>{{.Severity}}</td></tr>
<tr><th align="left">Status</th><td>{{.Status}}</td></tr>
{{with .Services}}<tr><th align="left">Services</th><td>{{join . ", "}}</td></tr>
{{end}}{{with .Commander}}<tr><th align="left">Commander</th><td>{{.}}</td></tr>
{{end}}</table>
{{end}}{{end}}<p style="color:#555">{{with .Message.Actor}}By {{.}}, {{end}}{{.When}}</p>
<p>{{with .Message.Incident.URL}}<a href="{{.}}">Open the incident</a>{{end}}{{with .Message.Incident.AckURL}} · <a href="{{.}}">Acknowledge</a>{{end}}</p>
</body></html>
`

// View is what the body templates see.
type View struct {
	Message  Message
	Headline string // the rendered headline, one line
	When     string // OccurredAt in UTC, "2006-01-02 15:04 UTC"
}

// Rendered is a message turned into text.
type Rendered struct {
	Headline string // one line, no control characters, at most 250 runes
	Text     string // plain-text body
	HTML     string // HTML document, every value escaped
}

// Templates renders messages. The zero value is not usable; use DefaultTemplates or NewTemplates.
type Templates struct {
	headlines map[Kind]*texttemplate.Template
	text      *texttemplate.Template
	html      *htmltemplate.Template
}

var funcs = map[string]any{"join": strings.Join}

// NewTemplates parses the given headline templates (one per kind; a missing kind falls back to Headlines) and
// body templates (empty means TextBody / HTMLBody). It is the hook for operators' overrides.
func NewTemplates(headlines map[Kind]string, text, html string) (*Templates, error) {
	t := &Templates{headlines: map[Kind]*texttemplate.Template{}}
	for _, k := range Kinds {
		src, ok := headlines[k]
		if !ok {
			src = Headlines[k]
		}
		h, err := texttemplate.New(string(k)).Funcs(funcs).Option("missingkey=error").Parse(src)
		if err != nil {
			return nil, fmt.Errorf("notify: headline template %s: %w", k, err)
		}
		t.headlines[k] = h
	}
	if text == "" {
		text = TextBody
	}
	if html == "" {
		html = HTMLBody
	}
	var err error
	if t.text, err = texttemplate.New("text").Funcs(funcs).Parse(text); err != nil {
		return nil, fmt.Errorf("notify: text template: %w", err)
	}
	if t.html, err = htmltemplate.New("html").Funcs(funcs).Parse(html); err != nil {
		return nil, fmt.Errorf("notify: html template: %w", err)
	}
	return t, nil
}

// DefaultTemplates returns the built-in templates.
func DefaultTemplates() *Templates {
	t, err := NewTemplates(nil, "", "")
	if err != nil {
		panic(err) // the built-in templates are tested
	}
	return t
}

// MaxHeadline bounds a headline in runes (an email subject, a chat header).
const MaxHeadline = 250

// Render produces the headline and both bodies of m. A rendering failure is permanent: retrying will not fix it.
func (t *Templates) Render(m Message) (Rendered, error) {
	h, ok := t.headlines[m.Kind]
	if !ok {
		return Rendered{}, permanent(fmt.Errorf("notify: no template for kind %q", m.Kind))
	}
	var b bytes.Buffer
	if err := h.Execute(&b, m); err != nil {
		return Rendered{}, permanent(fmt.Errorf("notify: render headline: %w", err))
	}
	v := View{Message: m, Headline: truncate(oneLine(b.String()), MaxHeadline),
		When: m.OccurredAt.UTC().Format("2006-01-02 15:04 UTC")}
	r := Rendered{Headline: v.Headline}
	b.Reset()
	if err := t.text.Execute(&b, v); err != nil {
		return Rendered{}, permanent(fmt.Errorf("notify: render text: %w", err))
	}
	r.Text = b.String()
	b.Reset()
	if err := t.html.Execute(&b, v); err != nil {
		return Rendered{}, permanent(fmt.Errorf("notify: render html: %w", err))
	}
	r.HTML = b.String()
	return r, nil
}

func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }
