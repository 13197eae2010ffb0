package intake

import (
	"errors"
	"reflect"
	"testing"
)

// Each fuzz target asserts: no panic; every accepted event satisfies the
// invariants (non-empty dedup key, valid action and severity); parsing is
// deterministic (parsing the same body twice gives equal results — for
// PagerDuty, apart from a generated random dedup key); and every error
// names a field.

func seed(f *testing.F, files ...string) {
	for _, name := range files {
		b := fixture(f, name)
		f.Add(b)
		f.Add(withRoutingKey(b))
	}
}

func checkErr(t *testing.T, err error) {
	t.Helper()
	var fe *FieldError
	var pe *PagerDutyError
	switch {
	case errors.As(err, &fe):
		if fe.Field == "" || fe.Msg == "" {
			t.Fatalf("error without field: %v", err)
		}
	case errors.As(err, &pe):
		if len(pe.Errors) == 0 || len(pe.Fields) != len(pe.Errors) || len(pe.Body()) == 0 {
			t.Fatalf("bad PagerDutyError: %#v", pe)
		}
		for _, f := range pe.Fields {
			if f == "" {
				t.Fatalf("PagerDutyError without field: %v", pe)
			}
		}
	default:
		t.Fatalf("unexpected error type %T: %v", err, err)
	}
}

func fuzzList(f *testing.F, parse func([]byte) ([]Event, error), files ...string) {
	seed(f, files...)
	f.Fuzz(func(t *testing.T, body []byte) {
		evs, err := parse(body)
		evs2, err2 := parse(body)
		if (err == nil) != (err2 == nil) || (err != nil && err.Error() != err2.Error()) {
			t.Fatalf("non-deterministic error: %v / %v", err, err2)
		}
		if err != nil {
			checkErr(t, err)
			return
		}
		checkInvariants(t, evs)
		if !reflect.DeepEqual(evs, evs2) {
			t.Fatal("non-deterministic events")
		}
		if len(evs) > MaxAlerts {
			t.Fatalf("%d events", len(evs))
		}
	})
}

func FuzzParseAlertmanagerV4(f *testing.F) {
	f.Add([]byte(`{"version":"4","alerts":[{"status":"resolved","labels":{"severity":"warning"}}]}`))
	fuzzList(f, ParseAlertmanagerV4, "alertmanager-v4-firing.json", "alertmanager-v4-resolved.json", "alertmanager-v4-goalert-fixture.json")
}

func FuzzParseGrafana(f *testing.F) {
	f.Add([]byte(`{"version":"1","alerts":[{"status":"firing","imageURL":"https://i","values":{"A":1}}]}`))
	fuzzList(f, ParseGrafana, "grafana-webhook-docs-example.json", "grafana-webhook-v12-keep-fixture.json")
}

func FuzzParseGeneric(f *testing.F) {
	f.Add([]byte(`{"status":"resolved","labels":{"a":"b"}}`))
	fuzzList(f, ParseGeneric, "generic-single.json", "generic-batch.json")
}

func FuzzParsePagerDutyV2(f *testing.F) {
	seed(f, "pagerduty-v2-trigger.json", "pagerduty-v2-acknowledge.json", "pagerduty-v2-resolve.json",
		"pagerduty-v2-trigger-from-alertmanager.json", "pagerduty-v2-trigger-from-gatus.json")
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, err := ParsePagerDutyV2(body)
		ev2, err2 := ParsePagerDutyV2(body)
		if (err == nil) != (err2 == nil) {
			t.Fatalf("non-deterministic: %v / %v", err, err2)
		}
		if err != nil {
			checkErr(t, err)
			var pe, pe2 *PagerDutyError
			errors.As(err, &pe)
			errors.As(err2, &pe2)
			if string(pe.Body()) != string(pe2.Body()) {
				t.Fatal("non-deterministic 400 body")
			}
			return
		}
		checkInvariants(t, []Event{ev})
		if ev.DedupKeyGenerated != ev2.DedupKeyGenerated {
			t.Fatal("non-deterministic key generation")
		}
		if ev.DedupKeyGenerated {
			if !uuidRE.MatchString(ev.DedupKey) || ev.Action != ActionTrigger {
				t.Fatalf("bad generated key %q for %s", ev.DedupKey, ev.Action)
			}
			ev.DedupKey, ev2.DedupKey = "", ""
		}
		if !reflect.DeepEqual(ev, ev2) {
			t.Fatal("non-deterministic event")
		}
		if len(PagerDutyAccepted(ev.DedupKey)) == 0 {
			t.Fatal("empty 202 body")
		}
	})
}
