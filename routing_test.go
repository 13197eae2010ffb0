package firebreak

import (
	"testing"
	"time"
)

func TestRoute(t *testing.T) {
	def := DefaultRoutingPolicy()
	byCluster := DefaultRoutingPolicy()
	byCluster.GroupBy = []string{"cluster"}
	custom := RoutingPolicy{Rules: []RoutingRule{
		{Match: map[string]string{"team": "db", "severity": "warning"}, Action: RouteIncident, Severity: SEV1},
		{Match: map[string]string{"env": "staging"}, Action: RouteRecord},
		{Match: map[string]string{}, Action: RouteIncident, Severity: SEV3},
	}}
	alert := func(sev AlertSeverity, labels map[string]string) Alert { return Alert{Severity: sev, Labels: labels} }
	for _, tc := range []struct {
		name   string
		p      RoutingPolicy
		a      Alert
		action RoutingAction
		sev    Severity
		group  string
	}{
		{"critical", def, alert(AlertCritical, nil), RouteIncident, SEV2, ""},
		{"error", def, alert(AlertError, nil), RouteIncident, SEV3, ""},
		{"warning", def, alert(AlertWarning, nil), RouteRecord, "", ""},
		{"info", def, alert(AlertInfo, nil), RouteRecord, "", ""},
		{"severity label", def, alert(AlertInfo, map[string]string{"severity": "critical"}), RouteIncident, SEV2, ""},
		{"group by", byCluster, alert(AlertCritical, map[string]string{"cluster": "eu1"}), RouteIncident, SEV2,
			"cluster=eu1"},
		{"group by missing", byCluster, alert(AlertCritical, nil), RouteIncident, SEV2, "cluster="},
		{"custom match", custom, alert(AlertWarning, map[string]string{"team": "db"}), RouteIncident, SEV1, ""},
		{"custom partial", custom, alert(AlertCritical, map[string]string{"team": "db"}), RouteIncident, SEV3, ""},
		{"custom record", custom, alert(AlertCritical, map[string]string{"env": "staging"}), RouteRecord, "", ""},
		{"no rules", RoutingPolicy{}, alert(AlertCritical, nil), RouteRecord, "", ""},
	} {
		d := Route(tc.p, tc.a)
		if d.Action != tc.action || d.Severity != tc.sev || d.GroupKey != tc.group {
			t.Errorf("%s: got %+v", tc.name, d)
		}
	}
}

func TestRoutingPolicyValidate(t *testing.T) {
	p := DefaultRoutingPolicy()
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	if p.AutoResolve[SEV1] || p.AutoResolve[SEV2] || !p.AutoResolve[SEV3] {
		t.Fatalf("auto resolve %v", p.AutoResolve)
	}
	for _, bad := range []RoutingPolicy{
		{GroupWindow: time.Second},
		{GroupWindow: 25 * time.Hour},
		{Rules: []RoutingRule{{Action: "page"}}},
		{Rules: []RoutingRule{{Action: RouteIncident, Severity: "SEV9"}}},
		{AutoResolve: map[Severity]bool{"SEV4": true}},
	} {
		if err := bad.Validate(); ErrorCode(err) != EInvalid {
			t.Errorf("%+v: %v", bad, err)
		}
	}
	var zero RoutingPolicy
	if err := zero.Validate(); err != nil || zero.GroupWindow != DefaultGroupWindow {
		t.Fatalf("%v %v", err, zero.GroupWindow)
	}
}

// A policy saved without auto_resolve gets the documented default (SEV3 resolves by itself), also when it was
// cloned first, as SetRoutingPolicy does.
func TestRoutingPolicyCloneKeepsDefaultAutoResolve(t *testing.T) {
	p := RoutingPolicy{Rules: DefaultRoutingPolicy().Rules}
	c := p.Clone()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if !c.AutoResolve[SEV3] || c.AutoResolve[SEV1] || c.AutoResolve[SEV2] {
		t.Fatalf("auto_resolve = %v, want the default (only SEV3)", c.AutoResolve)
	}
	// An explicit empty map means "never": it must survive the clone.
	p.AutoResolve = map[Severity]bool{}
	if c := p.Clone(); c.AutoResolve == nil {
		t.Fatal("an explicit empty auto_resolve became nil")
	}
}
