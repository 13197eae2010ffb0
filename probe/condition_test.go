package probe

import (
	"strings"
	"testing"
	"time"

	"github.com/firebreak/firebreak"
)

const sampleBody = `{"status":"UP","version":"1.2.0","count":3,"ratio":0.5,"ok":true,"nothing":null,
"items":[{"name":"a","tags":["x","y"]},{"name":"b","tags":[]}],"nested":{"deep":{"value":42}},"empty":"","text":"héllo"}`

func TestConditions(t *testing.T) {
	obs := func() *Observation {
		return &Observation{
			Connected: true, Status: 200, ResponseTime: 150 * time.Millisecond, Body: []byte(sampleBody),
			HasCert: true, CertExpiry: 72 * time.Hour,
		}
	}
	tests := []struct {
		cond string
		obs  *Observation // nil: obs()
		ok   bool
		why  string // the failure description when !ok
	}{
		// [STATUS] with every operator.
		{cond: "[STATUS] == 200", ok: true},
		{cond: "[STATUS] == 201", why: "[STATUS] (200) == 201"},
		{cond: "[STATUS] != 200", why: "[STATUS] (200) != 200"},
		{cond: "[STATUS] != 503", ok: true},
		{cond: "[STATUS] < 400", ok: true},
		{cond: "[STATUS] < 200", why: "[STATUS] (200) < 200"},
		{cond: "[STATUS] <= 200", ok: true},
		{cond: "[STATUS] <= 199", why: "[STATUS] (200) <= 199"},
		{cond: "[STATUS] > 199", ok: true},
		{cond: "[STATUS] > 200", why: "[STATUS] (200) > 200"},
		{cond: "[STATUS] >= 200", ok: true},
		{cond: "[STATUS] >= 300", why: "[STATUS] (200) >= 300"},
		{cond: "200 == [STATUS]", ok: true},
		{cond: "500 <= [STATUS]", why: "500 <= [STATUS] (200)"},
		{cond: "[STATUS] == 503", obs: &Observation{Status: 503}, ok: true},
		{cond: "[STATUS] == 200", obs: &Observation{}, why: "[STATUS] (no answer) == 200"},
		// Spaces are needed around the operator; extra spaces are fine.
		{cond: "  [STATUS]   ==   200  ", ok: true},
		// [RESPONSE_TIME] in milliseconds, or with a duration.
		{cond: "[RESPONSE_TIME] < 500", ok: true},
		{cond: "[RESPONSE_TIME] < 100", why: "[RESPONSE_TIME] (150) < 100"},
		{cond: "[RESPONSE_TIME] < 1s", ok: true},
		{cond: "[RESPONSE_TIME] <= 150ms", ok: true},
		{cond: "[RESPONSE_TIME] > 0.2s", why: "[RESPONSE_TIME] (150) > 0.2s"},
		// [CONNECTED].
		{cond: "[CONNECTED] == true", ok: true},
		{cond: "[CONNECTED] == false", why: "[CONNECTED] (true) == false"},
		{cond: "[CONNECTED] == true", obs: &Observation{}, why: "[CONNECTED] (false) == true"},
		// [CERTIFICATE_EXPIRATION] with durations or milliseconds.
		{cond: "[CERTIFICATE_EXPIRATION] > 48h", ok: true},
		{cond: "[CERTIFICATE_EXPIRATION] > 96h", why: "[CERTIFICATE_EXPIRATION] (72h0m0s) > 96h"},
		{cond: "[CERTIFICATE_EXPIRATION] > 86400000", ok: true},
		{cond: "[CERTIFICATE_EXPIRATION] < 1000", why: "[CERTIFICATE_EXPIRATION] (72h0m0s) < 1000"},
		{cond: "[CERTIFICATE_EXPIRATION] > 48h", obs: &Observation{Status: 200}, why: "[CERTIFICATE_EXPIRATION] (no certificate) > 48h"},
		{cond: "[CERTIFICATE_EXPIRATION] > 0", obs: &Observation{HasCert: true, CertExpiry: -time.Hour}, why: "[CERTIFICATE_EXPIRATION] (-1h0m0s) > 0"},
		// [BODY] and JSON paths.
		{cond: "[BODY] == pat(*\"status\":\"UP\"*)", ok: true},
		{cond: "[BODY] == ok", obs: &Observation{Body: []byte("ok")}, ok: true},
		{cond: "[BODY] == ok", obs: &Observation{Body: []byte("not ok")}, why: "[BODY] (not ok) == ok"},
		{cond: "[BODY] > 10", obs: &Observation{Body: []byte("12\n")}, ok: true},
		{cond: "[BODY].status == UP", ok: true},
		{cond: `[BODY].status == "UP"`, ok: true},
		{cond: "[BODY].status == DOWN", why: "[BODY].status (UP) == DOWN"},
		{cond: "[BODY].status != DOWN", ok: true},
		{cond: "[BODY].count == 3", ok: true},
		{cond: "[BODY].count == 3.0", ok: true},
		{cond: "[BODY].count > 5", why: "[BODY].count (3) > 5"},
		{cond: "[BODY].ratio < 1", ok: true},
		{cond: "[BODY].ok == true", ok: true},
		{cond: "[BODY].nothing == null", ok: true},
		{cond: `[BODY].empty == ""`, ok: true},
		{cond: "[BODY].items[1].name == b", ok: true},
		{cond: "[BODY].items[0].tags[1] == y", ok: true},
		{cond: "[BODY].items[5].name == b", why: "[BODY].items[5].name (missing) == b"},
		{cond: "[BODY].nested.deep.value >= 42", ok: true},
		{cond: "[BODY].nested.deep.value != 42", why: "[BODY].nested.deep.value (42) != 42"},
		{cond: "[BODY].nope == x", why: "[BODY].nope (missing) == x"},
		{cond: "[BODY].nope != x", why: "[BODY].nope (missing) != x"},
		{cond: "[BODY].status == UP", obs: &Observation{Body: []byte("<html>")}, why: "[BODY].status (body is not JSON) == UP"},
		{cond: "[BODY][0] == 1", obs: &Observation{Body: []byte("[1,2]")}, ok: true},
		{cond: "[BODY].nested == pat(*42*)", ok: true},
		{cond: "[BODY].status < 5", why: "[BODY].status (UP) < 5"},
		// len().
		{cond: "len([BODY].items) == 2", ok: true},
		{cond: "len([BODY].items) > 2", why: "len([BODY].items) (2) > 2"},
		{cond: "len([BODY].text) == 5", ok: true},
		{cond: "len([BODY].nested) == 1", ok: true},
		{cond: "len([BODY].items[1].tags) == 0", ok: true},
		{cond: "len([BODY]) == 2", obs: &Observation{Body: []byte("ok")}, ok: true},
		{cond: "len([BODY].count) == 1", why: "len([BODY].count) (no length) == 1"},
		{cond: "len([BODY].nope) == 0", why: "len([BODY].nope) (missing) == 0"},
		// has().
		{cond: "has([BODY].status) == true", ok: true},
		{cond: "has([BODY].nothing) == true", ok: true},
		{cond: "has([BODY].errors) == false", ok: true},
		{cond: "has([BODY].errors) == true", why: "has([BODY].errors) (false) == true"},
		{cond: "has([BODY].items[0].name) == true", ok: true},
		// pat().
		{cond: "[BODY].version == pat(1.*)", ok: true},
		{cond: "[BODY].version == pat(2.*)", why: "[BODY].version (1.2.0) == pat(2.*)"},
		{cond: "[BODY].version != pat(2.*)", ok: true},
		{cond: "[BODY].version == pat(*.2.*)", ok: true},
		{cond: "[BODY].version == pat(1.2.0)", ok: true},
		{cond: "[BODY].version == pat(*)", ok: true},
		{cond: "pat(1.*) == [BODY].version", ok: true},
		{cond: "[STATUS] == pat(2*)", ok: true},
		// any().
		{cond: "[STATUS] == any(200, 201, 204)", ok: true},
		{cond: "[STATUS] == any(301, 302)", why: "[STATUS] (200) == any(301, 302)"},
		{cond: "[STATUS] != any(500, 503)", ok: true},
		{cond: "[BODY].status == any(UP, DEGRADED)", ok: true},
		{cond: "[BODY].status != any(UP, DEGRADED)", why: "[BODY].status (UP) != any(UP, DEGRADED)"},
	}
	for _, tt := range tests {
		t.Run(tt.cond, func(t *testing.T) {
			c, err := Compile(tt.cond)
			if err != nil {
				t.Fatalf("Compile: %v", err)
			}
			o := tt.obs
			if o == nil {
				o = obs()
			}
			ok, why := c.Evaluate(o)
			if ok != tt.ok {
				t.Fatalf("Evaluate = %v (%q), want %v", ok, why, tt.ok)
			}
			if !tt.ok && why != tt.why {
				t.Errorf("description = %q, want %q", why, tt.why)
			}
			if tt.ok && why != "" {
				t.Errorf("a holding condition described as %q", why)
			}
		})
	}
}

func TestConditionDescriptionTruncatesLongValues(t *testing.T) {
	c := MustCompile("[BODY] == short")
	ok, why := c.Evaluate(&Observation{Body: []byte(strings.Repeat("é", 500))})
	if ok {
		t.Fatal("holds")
	}
	if len(why) > 300 || !strings.Contains(why, "…") {
		t.Errorf("description not truncated: %d bytes: %q", len(why), why)
	}
}

func TestCheckErrors(t *testing.T) {
	bad := []string{
		"",
		"   ",
		"[STATUS]",
		"[STATUS]==200",
		"[STATUS] = 200",
		"[STATUS] == ",
		" == 200",
		"[STATUSS] == 200",
		"[status] == 200",
		"[STATUS].code == 200",
		"[BODY]. == 1",
		"[BODY].a..b == 1",
		"[BODY].a[x] == 1",
		"[BODY].a[-1] == 1",
		"[BODY].a[0 == 1",
		"[BODY]x == 1",
		"len([STATUS]) == 1",
		"len(foo) == 1",
		"len([BODY] == 1",
		"has([CONNECTED]) == true",
		"[STATUS] < pat(2*)",
		"[STATUS] >= any(200, 201)",
		"[STATUS] == any()",
		"pat(*) == any(1)",
		"1 == 1",
	}
	for _, s := range bad {
		if err := Check(s); err == nil {
			t.Errorf("Check(%q) accepted it", s)
		}
	}
	good := []string{"[STATUS] == 200", "[BODY].a.b[0].c == x", "len([BODY]) > 0", "has([BODY].a) == true",
		"[BODY] == pat(*a b*)", "[CERTIFICATE_EXPIRATION] > 48h", "[BODY].msg == a == b"}
	for _, s := range good {
		if err := Check(s); err != nil {
			t.Errorf("Check(%q) = %v", s, err)
		}
	}
}

func TestCheckerIsInstalled(t *testing.T) {
	if firebreak.ProbeConditionChecker == nil {
		t.Fatal("ProbeConditionChecker not set")
	}
	if err := firebreak.ProbeConditionChecker("[NOPE] == 1"); err == nil {
		t.Error("the installed checker accepts an unknown placeholder")
	}
	in := firebreak.ProbeInput{Name: "x", Service: "s", URL: "https://example.com", Conditions: []string{"[STATUS] =="}}
	if _, err := in.Validate(); err == nil || !strings.Contains(err.Error(), "conditions") {
		t.Errorf("Validate = %v, want a conditions error", err)
	}
}

func TestMatch(t *testing.T) {
	tests := []struct {
		pat, s string
		want   bool
	}{
		{"", "", true}, {"", "a", false}, {"*", "", true}, {"*", "abc", true}, {"a*", "abc", true},
		{"*c", "abc", true}, {"*b*", "abc", true}, {"a*c", "ac", true}, {"a*c", "ab", false},
		{"a*b*c", "aXbYc", true}, {"a*b*c", "aXcYb", false}, {"**", "x", true}, {"abc", "abc", true},
		{"abc", "abcd", false}, {"*aab", "aaaab", true},
	}
	for _, tt := range tests {
		if got := match(tt.pat, tt.s); got != tt.want {
			t.Errorf("match(%q, %q) = %v", tt.pat, tt.s, got)
		}
	}
}

func TestConditionsDefaultsAndNeedsBody(t *testing.T) {
	if ok, _ := defaultHTTP.Evaluate(&Observation{Connected: true, Status: 302}); !ok {
		t.Error("302 fails the default HTTP condition")
	}
	if ok, why := defaultHTTP.Evaluate(&Observation{Connected: true, Status: 500}); ok || why[0] != "[STATUS] (500) < 400" {
		t.Errorf("500: %v %q", ok, why)
	}
	if ok, why := defaultTCP.Evaluate(&Observation{}); ok || why[0] != "[CONNECTED] (false) == true" {
		t.Errorf("tcp: %v %q", ok, why)
	}
	cs, err := CompileAll([]string{"[STATUS] == 200", "[RESPONSE_TIME] < 100"})
	if err != nil || cs.NeedsBody() {
		t.Fatalf("%v %v", cs.NeedsBody(), err)
	}
	cs, err = CompileAll([]string{"[STATUS] == 200", "len([BODY].x) > 1"})
	if err != nil || !cs.NeedsBody() {
		t.Fatalf("%v %v", cs.NeedsBody(), err)
	}
	if _, err := CompileAll([]string{"[STATUS] == 200", "nope"}); err == nil {
		t.Error("CompileAll accepted an invalid condition")
	}
}

func FuzzCondition(f *testing.F) {
	for _, s := range []string{"[STATUS] == 200", "[BODY].a.b[0].c == x", "len([BODY].items) > 2", "has([BODY].x) == false",
		"[BODY] == pat(*ok*)", "[STATUS] == any(200, 201)", "[CERTIFICATE_EXPIRATION] > 48h", "[RESPONSE_TIME] < 1s",
		"[BODY][0][1] != 3", "[CONNECTED] == true"} {
		f.Add(s, []byte(sampleBody))
	}
	f.Add("[BODY] == pat(**a*)", []byte("[[[[[]]]]]"))
	f.Fuzz(func(t *testing.T, cond string, body []byte) {
		c, err := Compile(cond)
		if (err == nil) != (Check(cond) == nil) {
			t.Fatal("Check and Compile disagree")
		}
		if err != nil {
			return
		}
		o := &Observation{Connected: true, Status: 200, Body: body, HasCert: true, CertExpiry: time.Hour}
		ok, why := c.Evaluate(o)
		if ok != (why == "") {
			t.Fatalf("Evaluate = %v, %q", ok, why)
		}
		ok2, why2 := c.Evaluate(o) // the cached JSON gives the same answer
		if ok2 != ok || why2 != why {
			t.Fatalf("second evaluation differs: %v %q vs %v %q", ok2, why2, ok, why)
		}
	})
}

func BenchmarkConditions(b *testing.B) {
	cs, err := CompileAll([]string{"[STATUS] == 200", "[RESPONSE_TIME] < 500", "[BODY].items[1].name == b", "len([BODY].items) > 1"})
	if err != nil {
		b.Fatal(err)
	}
	body := []byte(sampleBody)
	b.ReportAllocs()
	for b.Loop() {
		o := Observation{Connected: true, Status: 200, ResponseTime: 10 * time.Millisecond, Body: body}
		if ok, why := cs.Evaluate(&o); !ok {
			b.Fatal(why)
		}
	}
}
