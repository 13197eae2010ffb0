package firebreak_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/firebreak/firebreak"
)

// FuzzParseIncidentNumber: any accepted reference round-trips through IncidentRef.
func FuzzParseIncidentNumber(f *testing.F) {
	for _, s := range []string{"INC-42", "inc-1", "42", "", "INC-", "INC--1", "9223372036854775807", "0190f3a2-7c1e"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, ok := firebreak.ParseIncidentNumber(s)
		if !ok {
			return
		}
		if n <= 0 {
			t.Fatalf("%q parsed as %d", s, n)
		}
		back, ok2 := firebreak.ParseIncidentNumber(firebreak.IncidentRef(n))
		if !ok2 || back != n {
			t.Fatalf("%q → %d → %q → %d", s, n, firebreak.IncidentRef(n), back)
		}
	})
}

// FuzzDeclareInput: whatever JSON a client sends, validation either refuses it with named fields or leaves an
// input that satisfies every rule a store relies on.
func FuzzDeclareInput(f *testing.F) {
	f.Add(`{"title":"Checkout failing","severity":"SEV1","services":["payments"]}`)
	f.Add(`{"title":"","severity":"SEV4"}`)
	f.Add(`{"title":"x","severity":"SEV2","status":"mitigating","roles":{"commander":"alice"}}`)
	f.Add(`{"title":"x","severity":"SEV3","impact_started_at":"2026-01-01T00:00:00Z","detected_at":"2025-01-01T00:00:00Z"}`)
	f.Fuzz(func(t *testing.T, body string) {
		var in firebreak.DeclareInput
		if json.Unmarshal([]byte(body), &in) != nil {
			return
		}
		err := in.Validate()
		if err != nil {
			e, ok := err.(*firebreak.Error)
			if !ok || e.Code != firebreak.EInvalid || len(e.Fields) == 0 {
				t.Fatalf("refusal without fields: %v", err)
			}
			return
		}
		if in.Title == "" || len(in.Title) > firebreak.MaxTitleLen || strings.ContainsAny(in.Title, "\r\n") {
			t.Fatalf("accepted title %q", in.Title)
		}
		if !in.Severity.Valid() || !in.Status.Open() {
			t.Fatalf("accepted severity %q status %q", in.Severity, in.Status)
		}
		for _, s := range in.Services {
			if strings.TrimSpace(s) == "" {
				t.Fatal("accepted an empty service")
			}
		}
	})
}
