package notify

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

var t0 = time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC)

func testMessage() Message {
	return Message{
		ID:   "msg-0193a1b2-7c4d",
		Kind: KindDeclared,
		Incident: Incident{Ref: "INC-42", Title: `Checkout <b>down</b> & "<!channel>"`, Severity: "SEV1",
			Status: "investigating", Services: []string{"checkout", "payments"}, Commander: "Ada Lovelace",
			URL: "https://firebreak.example.com/incidents/INC-42", AckURL: "https://firebreak.example.com/ack/xyz"},
		Text:       "Error rate above 20% since 09:20.\nRolling back deploy 1234.",
		Actor:      "grace",
		OccurredAt: t0,
	}
}

// request is one request a receiver saw.
type request struct {
	Header http.Header
	Body   []byte
}

// receiver is a real local HTTP endpoint. Each request is recorded, then answered by behave(n) for the n-th
// request (0-based); a nil behave answers 200.
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	reqs   []request
	behave func(n int, w http.ResponseWriter, r *http.Request)
}

func newReceiver(t *testing.T, behave func(n int, w http.ResponseWriter, r *http.Request)) *receiver {
	rc := &receiver{behave: behave}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		n := len(rc.reqs)
		rc.reqs = append(rc.reqs, request{Header: r.Header.Clone(), Body: body})
		rc.mu.Unlock()
		if rc.behave != nil {
			rc.behave(n, w, r)
			return
		}
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) requests() []request {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]request(nil), rc.reqs...)
}

// distinctKeys counts requests per idempotency key: the number of keys bounds what a receiver that deduplicates
// by key shows to people.
func distinctKeys(reqs []request) map[string]int {
	keys := map[string]int{}
	for _, r := range reqs {
		keys[r.Header.Get("Idempotency-Key")]++
	}
	return keys
}

func newTestNotifier(timeout time.Duration) *Notifier {
	return New(Config{AttemptTimeout: timeout, Now: func() time.Time { return t0 }})
}

// deliverWithRetries is what the outbox will do, with the clock fast-forwarded instead of waiting: attempt,
// decide, repeat until delivered or dead-lettered.
func deliverWithRetries(t *testing.T, n *Notifier, d Destination, m Message, maxAttempts int) ([]Attempt, Decision) {
	t.Helper()
	p := DefaultPolicy(d.Kind)
	r := rand.New(rand.NewPCG(1, 2))
	now := t0
	var attempts []Attempt
	for i := 1; i <= maxAttempts; i++ {
		a := n.Deliver(context.Background(), d, m)
		attempts = append(attempts, a)
		dec := p.Decide(a, t0, i, now, r)
		if dec.Outcome != OutcomeRetry {
			return attempts, dec
		}
		if dec.NextAt.Before(now) {
			t.Fatalf("retry scheduled in the past: %v < %v", dec.NextAt, now)
		}
		now = dec.NextAt
	}
	t.Fatalf("not settled after %d attempts: %+v", maxAttempts, attempts)
	return nil, Decision{}
}

func TestSlackPayloadShape(t *testing.T) {
	rc := newReceiver(t, nil)
	n := newTestNotifier(time.Second)
	m := testMessage()
	if err := n.Send(context.Background(), Destination{Kind: DestSlack, URL: rc.URL + "/services/T0/B0/secret"}, m); err != nil {
		t.Fatal(err)
	}
	reqs := rc.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests", len(reqs))
	}
	req := reqs[0]
	if got := req.Header.Get("Content-Type"); !strings.HasPrefix(got, "application/json") {
		t.Errorf("Content-Type %q", got)
	}
	if got := req.Header.Get("Idempotency-Key"); got != m.ID {
		t.Errorf("Idempotency-Key %q", got)
	}
	var body struct {
		Text   string `json:"text"`
		Blocks []struct {
			Type string `json:"type"`
			Text *struct {
				Type string `json:"type"`
				Text string `json:"text"`
			} `json:"text"`
			Fields []struct {
				Type string `json:"type"`
				Text string `json:"text"`
			} `json:"fields"`
			Elements []json.RawMessage `json:"elements"`
		} `json:"blocks"`
	}
	dec := json.NewDecoder(strings.NewReader(string(req.Body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		t.Fatalf("decode %s: %v", req.Body, err)
	}
	// The fallback text is complete on its own (Mattermost shows only it) and carries the link.
	for _, want := range []string{"INC-42 declared (SEV1)", m.Incident.URL, "Rolling back deploy 1234."} {
		if !strings.Contains(body.Text, want) {
			t.Errorf("text %q lacks %q", body.Text, want)
		}
	}
	// Slack control characters in user text are escaped: no "<!channel>" ping, no forged link.
	if strings.Contains(body.Text, "<!channel>") || strings.Contains(body.Text, "<b>") {
		t.Errorf("unescaped markup in text: %q", body.Text)
	}
	if !strings.Contains(body.Text, "&lt;!channel&gt;") || !strings.Contains(body.Text, "&amp;") {
		t.Errorf("escaping missing in %q", body.Text)
	}
	types := []string{}
	for _, b := range body.Blocks {
		types = append(types, b.Type)
	}
	if got := strings.Join(types, ","); got != "header,section,section,section,context" {
		t.Fatalf("block types %s", got)
	}
	if b := body.Blocks[0]; b.Text.Type != "plain_text" || !strings.HasPrefix(b.Text.Text, "INC-42 declared") {
		t.Errorf("header %+v", b.Text)
	}
	if f := body.Blocks[2].Fields; len(f) != 4 || f[0].Type != "mrkdwn" || f[0].Text != "*Severity*\nSEV1" ||
		f[2].Text != "*Services*\ncheckout, payments" {
		t.Errorf("fields %+v", f)
	}
	links := body.Blocks[3].Text.Text
	if !strings.Contains(links, "<"+m.Incident.URL+"|Open INC-42>") || !strings.Contains(links, "|Acknowledge>") {
		t.Errorf("links %q", links)
	}
}

func TestTeamsAdaptiveCardShape(t *testing.T) {
	rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusAccepted) // what Workflows answers
	})
	n := newTestNotifier(time.Second)
	m := testMessage()
	if err := n.Send(context.Background(), Destination{Kind: DestTeams, URL: rc.URL + "/workflows/abc?sig=secret"}, m); err != nil {
		t.Fatal(err)
	}
	req := rc.requests()[0]
	if req.Header.Get("Idempotency-Key") != m.ID {
		t.Errorf("Idempotency-Key %q", req.Header.Get("Idempotency-Key"))
	}
	var raw map[string]any
	if err := json.Unmarshal(req.Body, &raw); err != nil {
		t.Fatal(err)
	}
	if raw["type"] != "message" {
		t.Errorf("type %v", raw["type"])
	}
	atts := raw["attachments"].([]any)
	if len(atts) != 1 {
		t.Fatalf("%d attachments", len(atts))
	}
	att := atts[0].(map[string]any)
	if att["contentType"] != "application/vnd.microsoft.card.adaptive" {
		t.Errorf("contentType %v", att["contentType"])
	}
	if v, ok := att["contentUrl"]; !ok || v != nil {
		t.Errorf("contentUrl must be present and null, got %v (present %v)", v, ok)
	}
	card := att["content"].(map[string]any)
	if card["$schema"] != "http://adaptivecards.io/schemas/adaptive-card.json" || card["type"] != "AdaptiveCard" ||
		card["version"] != "1.4" {
		t.Errorf("card header %v %v %v", card["$schema"], card["type"], card["version"])
	}
	body := card["body"].([]any)
	first := body[0].(map[string]any)
	if first["type"] != "TextBlock" || !strings.HasPrefix(first["text"].(string), "INC-42 declared (SEV1)") {
		t.Errorf("first block %v", first)
	}
	var facts []any
	for _, b := range body {
		if bm := b.(map[string]any); bm["type"] == "FactSet" {
			facts = bm["facts"].([]any)
		}
	}
	if len(facts) == 0 || facts[0].(map[string]any)["title"] != "Incident" {
		t.Errorf("facts %v", facts)
	}
	actions := card["actions"].([]any)
	open := actions[0].(map[string]any)
	if open["type"] != "Action.OpenUrl" || open["url"] != m.Incident.URL {
		t.Errorf("open action %v", open)
	}
}

func TestWebhookSignedAndDocumented(t *testing.T) {
	rc := newReceiver(t, nil)
	n := newTestNotifier(time.Second)
	m := testMessage()
	secret := "whsec_0123456789abcdef"
	if err := n.Send(context.Background(), Destination{Kind: DestWebhook, URL: rc.URL + "/hook", Secret: secret}, m); err != nil {
		t.Fatal(err)
	}
	req := rc.requests()[0]
	if err := VerifyRequest([]byte(secret), req.Header, req.Body, t0.Add(30*time.Second), DefaultTolerance); err != nil {
		t.Fatalf("Verify: %v (header %q)", err, req.Header.Get(HeaderSignature))
	}
	if err := VerifyRequest([]byte("wrong-secret-0123456"), req.Header, req.Body, t0, 0); !errors.Is(err, ErrSignatureMismatch) {
		t.Errorf("wrong secret: %v", err)
	}
	if err := VerifyRequest([]byte(secret), req.Header, append(req.Body, ' '), t0, 0); !errors.Is(err, ErrSignatureMismatch) {
		t.Errorf("tampered body: %v", err)
	}
	if err := VerifyRequest([]byte(secret), req.Header, req.Body, t0.Add(10*time.Minute), 5*time.Minute); !errors.Is(err, ErrSignatureExpired) {
		t.Errorf("replayed later: %v", err)
	}
	if req.Header.Get(HeaderEvent) != "declared" || req.Header.Get(HeaderIdempotency) != m.ID {
		t.Errorf("headers %v", req.Header)
	}
	var p WebhookPayload
	dec := json.NewDecoder(strings.NewReader(string(req.Body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		t.Fatal(err)
	}
	if p.Version != 1 || p.ID != m.ID || p.Event != KindDeclared || !p.OccurredAt.Equal(t0) || p.Text != m.Text ||
		p.Incident == nil || p.Incident.Ref != "INC-42" || p.Incident.Title != m.Incident.Title ||
		!strings.HasPrefix(p.Summary, "INC-42 declared") {
		t.Errorf("payload %+v", p)
	}
}

func TestRetryAfter500KeepsIdempotencyKey(t *testing.T) {
	delivered := map[string]int{} // what a deduplicating receiver shows to people
	var mu sync.Mutex
	rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if n < 2 {
			http.Error(w, "upstream exploded", http.StatusInternalServerError)
			return
		}
		mu.Lock()
		delivered[r.Header.Get("Idempotency-Key")]++
		mu.Unlock()
		w.WriteHeader(http.StatusOK)
	})
	n := newTestNotifier(time.Second)
	d := Destination{Kind: DestWebhook, URL: rc.URL, Secret: "0123456789abcdef"}
	attempts, dec := deliverWithRetries(t, n, d, testMessage(), 10)
	if dec.Outcome != OutcomeDelivered || len(attempts) != 3 {
		t.Fatalf("outcome %v after %d attempts", dec.Outcome, len(attempts))
	}
	if a := attempts[0]; !a.Retryable || a.StatusCode != 500 || !strings.Contains(a.Error, "upstream exploded") {
		t.Errorf("first attempt %+v", a)
	}
	if keys := distinctKeys(rc.requests()); len(keys) != 1 || keys[testMessage().ID] != 3 {
		t.Errorf("keys %v", keys)
	}
	if len(delivered) != 1 {
		t.Errorf("delivered %v", delivered)
	}
}

func TestHangingReceiverTimesOut(t *testing.T) {
	release := make(chan struct{})
	rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 0 {
			select { // hang until the client gives up (or the test ends)
			case <-r.Context().Done():
			case <-release:
			}
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	defer close(release)
	n := newTestNotifier(150 * time.Millisecond)
	d := Destination{Kind: DestSlack, URL: rc.URL + "/services/secret-path"}
	attempts, dec := deliverWithRetries(t, n, d, testMessage(), 5)
	if dec.Outcome != OutcomeDelivered || len(attempts) != 2 {
		t.Fatalf("outcome %v after %+v", dec.Outcome, attempts)
	}
	a := attempts[0]
	if !a.Retryable || !strings.Contains(a.Error, "deadline exceeded") {
		t.Errorf("timeout attempt %+v", a)
	}
	if strings.Contains(a.Error, "secret-path") {
		t.Errorf("error leaks the webhook URL: %q", a.Error)
	}
	if keys := distinctKeys(rc.requests()); len(keys) != 1 {
		t.Errorf("keys %v", keys)
	}
}

func TestConnectionResetIsRetried(t *testing.T) {
	rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 0 {
			conn, _, err := http.NewResponseController(w).Hijack()
			if err != nil {
				t.Error(err)
				return
			}
			if tc, ok := conn.(*net.TCPConn); ok {
				_ = tc.SetLinger(0) // close with RST, not FIN
			}
			conn.Close()
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	n := newTestNotifier(time.Second)
	d := Destination{Kind: DestTeams, URL: rc.URL + "/x"}
	attempts, dec := deliverWithRetries(t, n, d, testMessage(), 5)
	if dec.Outcome != OutcomeDelivered {
		t.Fatalf("outcome %v after %+v", dec.Outcome, attempts)
	}
	if !attempts[0].Retryable || attempts[0].OK {
		t.Errorf("reset attempt %+v", attempts[0])
	}
	reqs := rc.requests()
	if keys := distinctKeys(reqs); len(keys) != 1 || len(reqs) < 2 {
		t.Errorf("%d requests, keys %v", len(reqs), keys)
	}
}

func TestRefusedConnectionIsRetryable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	a := newTestNotifier(time.Second).Deliver(context.Background(),
		Destination{Kind: DestSlack, URL: "http://" + addr + "/hook"}, testMessage())
	if a.OK || !a.Retryable {
		t.Errorf("refused: %+v", a)
	}
}

func TestHTTPStatusClassification(t *testing.T) {
	for _, tc := range []struct {
		code       int
		retryAfter string
		retryable  bool
		wait       time.Duration
	}{
		{400, "", false, 0},
		{404, "", false, 0},
		{410, "", false, 0},
		{408, "", true, 0},
		{429, "7", true, 7 * time.Second},
		{429, t0.Add(time.Minute).Format(http.TimeFormat), true, time.Minute},
		{503, "120", true, 2 * time.Minute},
		{500, "garbage", true, 0},
		{302, "", false, 0},
		{308, "", false, 0},
	} {
		rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) {
			if tc.retryAfter != "" {
				w.Header().Set("Retry-After", tc.retryAfter)
			}
			if tc.code/100 == 3 {
				w.Header().Set("Location", "/elsewhere")
			}
			w.WriteHeader(tc.code)
		})
		n := newTestNotifier(time.Second) // the default client follows no redirects
		a := n.Deliver(context.Background(), Destination{Kind: DestSlack, URL: rc.URL}, testMessage())
		if a.OK || a.Retryable != tc.retryable || a.StatusCode != tc.code || a.RetryAfter != tc.wait {
			t.Errorf("%d %q: %+v", tc.code, tc.retryAfter, a)
		}
		dec := DefaultPolicy(DestSlack).Decide(a, t0, 1, t0, rand.New(rand.NewPCG(3, 4)))
		if tc.retryable && (dec.Outcome != OutcomeRetry || dec.NextAt.Before(t0.Add(tc.wait))) {
			t.Errorf("%d: decision %+v", tc.code, dec)
		}
		if !tc.retryable && dec.Outcome != OutcomeDeadLetter {
			t.Errorf("%d: decision %+v", tc.code, dec)
		}
	}
}

func TestInvalidInputsArePermanent(t *testing.T) {
	n := newTestNotifier(time.Second)
	m := testMessage()
	for name, d := range map[string]Destination{
		"no url":       {Kind: DestSlack},
		"ftp url":      {Kind: DestTeams, URL: "ftp://example.com/x"},
		"no secret":    {Kind: DestWebhook, URL: "https://example.com/x"},
		"bad address":  {Kind: DestEmail, Address: "not an address"},
		"unknown kind": {Kind: "pager", URL: "https://example.com"},
	} {
		a := n.Deliver(context.Background(), d, m)
		if a.OK || a.Retryable || !strings.Contains(a.Error, "invalid destination") {
			t.Errorf("%s: %+v", name, a)
		}
	}
	bad := m
	bad.ID = "has space"
	if a := n.Deliver(context.Background(), Destination{Kind: DestSlack, URL: "https://example.com"}, bad); a.Retryable || a.OK {
		t.Errorf("bad id: %+v", a)
	}
	bad = m
	bad.Kind = "exploded"
	if a := n.Deliver(context.Background(), Destination{Kind: DestSlack, URL: "https://example.com"}, bad); a.Retryable || a.OK {
		t.Errorf("bad kind: %+v", a)
	}
}

func TestEveryKindRenders(t *testing.T) {
	tpl := DefaultTemplates()
	for _, k := range Kinds {
		m := testMessage()
		m.Kind = k
		r, err := tpl.Render(m)
		if err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		if r.Headline == "" || strings.ContainsAny(r.Headline, "\r\n") || !strings.Contains(r.Text, m.Incident.URL) {
			t.Errorf("%s: %+v", k, r)
		}
	}
	m := testMessage()
	m.Kind = KindTest
	m.Incident = Incident{}
	if r, err := tpl.Render(m); err != nil || r.Headline != "Firebreak test notification" {
		t.Errorf("bare test message: %q %v", r.Headline, err)
	}
	if _, err := NewTemplates(map[Kind]string{KindPage: "{{.Nope"}, "", ""); err == nil {
		t.Error("broken override accepted")
	}
	custom, err := NewTemplates(map[Kind]string{KindPage: "WAKE UP {{.Incident.Ref}}"}, "", "")
	if err != nil {
		t.Fatal(err)
	}
	m = testMessage()
	m.Kind = KindPage
	if r, _ := custom.Render(m); r.Headline != "WAKE UP INC-42" {
		t.Errorf("override: %q", r.Headline)
	}
}

func TestDestinationKeyHidesURL(t *testing.T) {
	d := Destination{Kind: DestSlack, URL: "https://hooks.slack.com/services/T0/B0/supersecret"}
	k := d.Key()
	if strings.Contains(k, "supersecret") || !strings.HasPrefix(k, "slack:") || k != d.Key() {
		t.Errorf("key %q", k)
	}
	if k == (Destination{Kind: DestSlack, URL: d.URL + "x"}).Key() {
		t.Error("distinct URLs share a key")
	}
}
