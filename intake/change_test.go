package intake

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

var changeKey = strings.Repeat("a", 32)

func TestParsePagerDutyChange(t *testing.T) {
	body := []byte(`{"routing_key":"` + changeKey + `","payload":{"summary":"Build Success: deploy v42",
		"timestamp":"2020-07-17T08:42:58.315+0000","source":"acme-build-pipeline-tool-default-i-9999",
		"custom_details":{ "build_state": "passed", "run_time": "1236s"}},
		"links":[{"href":"https://acme.pagerduty.dev/build/2","text":"View more details in Acme!"},{"text":"no href"}]}`)
	c, err := ParsePagerDutyChange(body)
	if err != nil {
		t.Fatal(err)
	}
	want := time.Date(2020, 7, 17, 8, 42, 58, 315e6, time.UTC)
	if c.RoutingKey != changeKey || c.Summary != "Build Success: deploy v42" || !c.Timestamp.Equal(want) ||
		c.Source != "acme-build-pipeline-tool-default-i-9999" ||
		string(c.Details) != `{"build_state":"passed","run_time":"1236s"}` ||
		!reflect.DeepEqual(c.Links, []Link{{Href: "https://acme.pagerduty.dev/build/2", Text: "View more details in Acme!"}}) {
		t.Fatalf("parsed %+v", c)
	}
	// Minimal: no timestamp (zero), no source, no links.
	c, err = ParsePagerDutyChange([]byte(`{"routing_key":"` + changeKey + `","payload":{"summary":"x"}}`))
	if err != nil || !c.Timestamp.IsZero() || c.Details != nil || c.Links != nil {
		t.Fatalf("minimal: %+v %v", c, err)
	}

	for _, tc := range []struct {
		body   string
		fields []string
		status string
	}{
		{`{}`, []string{"routing_key", "payload.summary"}, "invalid event"},
		{`{"routing_key":"` + changeKey + `","payload":{"summary":" "}}`, []string{"payload.summary"}, "invalid event"},
		{`{"routing_key":"` + changeKey + `","payload":{"summary":"` + strings.Repeat("é", 1025) + `"}}`,
			[]string{"payload.summary"}, "invalid event"},
		{`{"routing_key":7}`, []string{"routing_key"}, "invalid event"},
		{`[`, []string{"body"}, "Unrecognized object"},
		{`"x"`, []string{"body"}, "Unrecognized object"},
	} {
		_, err := ParsePagerDutyChange([]byte(tc.body))
		var pe *PagerDutyError
		if !errors.As(err, &pe) || !reflect.DeepEqual(pe.Fields, tc.fields) || pe.Status != tc.status ||
			len(pe.Errors) != len(pe.Fields) || pe.StatusCode() != 400 {
			t.Errorf("%.60s: %#v", tc.body, err)
		}
	}
	big := []byte(`{"routing_key":"` + changeKey + `","payload":{"summary":"` + strings.Repeat("x", MaxBodyBytes) + `"}}`)
	if _, err := ParsePagerDutyChange(big); !errors.Is(err, ErrBodyTooLarge) {
		t.Fatalf("big: %v", err)
	}
	if got := string(PagerDutyChangeAccepted()); got != "{\n  \"status\": \"success\",\n  \"message\": \"Change event processed\"\n}\n" {
		t.Fatalf("202 body %q", got)
	}
}

func FuzzParsePagerDutyChange(f *testing.F) {
	f.Add([]byte(`{"routing_key":"` + changeKey + `","payload":{"summary":"deploy","timestamp":"2020-07-17T08:42:58.315+0000","source":"ci","custom_details":{"a":1}},"links":[{"href":"https://x","text":"t"}]}`))
	f.Add([]byte(`{"routing_key":"short","payload":null,"links":"nope"}`))
	f.Add([]byte(`{"payload":{"summary":7}}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, body []byte) {
		c, err := ParsePagerDutyChange(body)
		if err != nil {
			checkErr(t, err)
			var pe *PagerDutyError
			if !errors.As(err, &pe) {
				t.Fatalf("not a *PagerDutyError: %T %v", err, err)
			}
			return
		}
		if len([]rune(c.RoutingKey)) != PagerDutyRoutingKeyLen || strings.TrimSpace(c.Summary) == "" {
			t.Fatalf("accepted an invalid change: %+v", c)
		}
		for _, l := range c.Links {
			if l.Href == "" {
				t.Fatalf("link without href: %+v", c.Links)
			}
		}
		again, err := ParsePagerDutyChange(body)
		if err != nil || !reflect.DeepEqual(c, again) {
			t.Fatalf("not deterministic: %+v / %+v %v", c, again, err)
		}
	})
}
