package analysis

import (
	"strings"
	"testing"
)

var lintRoster = []string{"Alice Chen", "bob", "Will Turner", "j.doe"}

type lintWant struct {
	rule  string
	sev   Severity
	words string // case-insensitive substring of Words
}

func TestLintRules(t *testing.T) {
	cases := []struct {
		kind Kind
		text string
		want []lintWant // exactly these findings, in order
	}{
		// Causes (seed 001's post-mortem and seed 000's Friday deploy), blameless: nothing to say.
		{KindCause, "The primary database connection pool was configured for 100 connections, but the promotional " +
			"event generated traffic requiring over 250 concurrent connections.", nil},
		{KindCause, "Lack of circuit breakers between services allowed failures to cascade", nil},
		{KindCause, "Because we didn't have a Circuit Breaker yet, the Order Service waited for the Shipping Service.", nil},
		{KindCause, "That library caused a memory leak, making the service respond very slowly.", nil},
		{KindCause, "Multiple teams made conflicting changes simultaneously", nil},
		{KindNarrative, "The payment service failed to connect to the database after the failover.", nil},
		{KindNarrative, "The alert should have fired at 14:05 but the threshold was 90%.", nil},
		{KindNarrative, "The deploy had just finished when errors began.", nil},
		{KindNarrative, "Alice restarted the pod at 14:30 and errors stopped.", nil},
		{KindNarrative, "The user error rate rose to 4%.", nil},
		{KindActionItem, "Implement circuit breakers across all service-to-service calls", nil},
		{KindActionItem, "Investigate pool sizing and add an alert on saturation above 80%", nil},
		{KindActionItem, "Write up the runbook for connection pool exhaustion", nil},
		{KindNarrative, "Will the retry storm recur? We do not know yet.", nil},

		// A person as the cause blocks; the whole name is one finding.
		{KindCause, "Alice Chen deployed the config without a canary.", []lintWant{{RulePersonAsCause, SeverityBlocking, "alice chen"}}},
		{KindCause, "A config change by @bob removed the route.", []lintWant{{RulePersonAsCause, SeverityBlocking, "@bob"}}},
		{KindCause, "The new hire ran the migration against production.", []lintWant{{RulePersonAsCause, SeverityBlocking, "the new hire ran"}}},
		{KindCause, "j.doe’s script truncated the table.", []lintWant{{RulePersonAsCause, SeverityBlocking, "j.doe"}}},
		{KindCause, "He deleted the index during peak traffic.", []lintWant{{RulePersonAsCause, SeverityBlocking, "he deleted"}}},
		{KindCause, "@kim dropped the replica slot.", []lintWant{{RulePersonAsCause, SeverityBlocking, "@kim dropped"}}},
		{KindCause, "The @Transactional annotation was missing on the retry path.", nil},
		{KindCause, "We deployed on a Friday afternoon.", nil}, // collective "we" with a neutral verb
		// A common-word first name counts only capitalised before a causal verb (and never as a bare mention).
		{KindCause, "Retries will amplify load.", nil},
		{KindNarrative, "Will broke the staging cluster.", []lintWant{{RulePersonAsCause, SeverityWarning, "will broke"}}},

		// Human error.
		{KindCause, "Human error during the manual failover.", []lintWant{{RuleHumanErrorCause, SeverityBlocking, "human error"}}},
		{KindCause, "Root cause: operator errors and a fat-fingered command.", []lintWant{
			{RuleHumanErrorCause, SeverityBlocking, "operator errors"}, {RuleHumanErrorCause, SeverityBlocking, "fat-fingered"}}},
		{KindNarrative, "Some called it HUMAN ERROR at first.", []lintWant{{RuleHumanErrorCause, SeverityWarning, "human error"}}},

		// Five whys ending at a person.
		{KindWhyChainEnd, "Because the engineer forgot to run the migration script.", []lintWant{
			{RuleWhyChainEndsPerson, SeverityBlocking, "the engineer forgot"}, {RuleCounterfactual, SeverityWarning, "forgot to"}}},
		{KindWhyChainEnd, "Because Bob didn't check the dashboard.", []lintWant{
			{RuleWhyChainEndsPerson, SeverityBlocking, "bob"}, {RuleCounterfactual, SeverityWarning, "bob didn't check"}}},
		{KindWhyChainEnd, "Human error.", []lintWant{{RuleWhyChainEndsPerson, SeverityBlocking, "human error"}}},
		{KindWhyChainEnd, "Because CI/CD had no load test for library upgrades.", nil},

		// Counterfactuals: always for forgot/neglected; failed to / should have by subject.
		{KindNarrative, "The on-call engineer failed to escalate for 40 minutes.", []lintWant{
			{RuleCounterfactual, SeverityWarning, "the on-call engineer failed to"}}},
		{KindNarrative, "We should have rolled back sooner.", []lintWant{{RuleCounterfactual, SeverityWarning, "we should have"}}},
		{KindNarrative, "Should've rolled back sooner.", []lintWant{{RuleCounterfactual, SeverityWarning, "should've"}}},
		{KindNarrative, "Someone forgot to renew the certificate.", []lintWant{{RuleCounterfactual, SeverityWarning, "forgot to"}}},
		{KindNarrative, "If only the runbook had been current.", []lintWant{{RuleCounterfactual, SeverityWarning, "if only"}}},
		{KindNarrative, "The team did not follow the runbook.", []lintWant{{RuleCounterfactual, SeverityWarning, "the team did not follow"}}},
		{KindNarrative, "The request did not follow redirects.", nil},
		{KindCause, "The team deleted the index during peak traffic.", []lintWant{{RulePersonAsCause, SeverityBlocking, "the team deleted"}}},

		// Character judgements block in causes, warn elsewhere.
		{KindCause, "A careless change to the load balancer.", []lintWant{{RuleCharacter, SeverityBlocking, "careless"}}},
		{KindNarrative, "It was a rookie mistake; he should have known better.", []lintWant{
			{RuleCharacter, SeverityWarning, "rookie mistake"}, {RuleCounterfactual, SeverityWarning, "he should have"},
			{RuleCharacter, SeverityWarning, "should have known better"}}},

		// Hindsight and minimisers.
		{KindNarrative, "Obviously the disk was filling up; the team ignored the alerts.", []lintWant{
			{RuleHindsight, SeverityWarning, "obviously"}, {RuleHindsight, SeverityWarning, "ignored the alerts"}}},
		{KindNarrative, "It was Friday afternoon (of course!).", []lintWant{{RuleMinimiser, SeverityWarning, "of course"}}},
		{KindNarrative, "They could just restart the service.", []lintWant{{RuleMinimiser, SeverityWarning, "could just"}}},

		// Action items.
		{KindActionItem, "Engineers should be more careful when deploying.", []lintWant{{RuleVagueAction, SeverityWarning, "be more careful"}}},
		{KindActionItem, "Double-check the config before merging", []lintWant{{RuleVagueAction, SeverityWarning, "double-check"}}},
		{KindActionItem, "Improve monitoring", []lintWant{{RuleVagueAction, SeverityWarning, "improve monitoring"}}},
		{KindActionItem, "Look into the connection pool", []lintWant{{RuleVagueAction, SeverityWarning, "look into"}}},
		{KindActionItem, "Disciplinary review for the responsible engineer", []lintWant{{RulePunitiveAction, SeverityWarning, "disciplinary"}}},

		// Unicode and case: curly apostrophes, capitals, non-ASCII neighbours.
		{KindNarrative, "WE SHOULDN’T HAVE deployed — ÜBERLAST folgte.", []lintWant{{RuleCounterfactual, SeverityWarning, "we shouldn’t have"}}},
		{KindNarrative, "Überlast: clearly, obviouslyness is not a word.", []lintWant{{RuleHindsight, SeverityWarning, "clearly"}}},
	}
	for _, tc := range cases {
		got := LintText("f", tc.text, tc.kind, lintRoster)
		ok := len(got) == len(tc.want)
		for i := 0; ok && i < len(got); i++ {
			w := tc.want[i]
			ok = got[i].Rule == w.rule && got[i].Severity == w.sev &&
				strings.Contains(strings.ToLower(got[i].Words), w.words)
		}
		if !ok {
			var desc []string
			for _, f := range got {
				desc = append(desc, f.Rule+"/"+string(f.Severity)+":"+f.Words)
			}
			t.Errorf("%s %q:\n got %q\nwant %v", tc.kind, tc.text, desc, tc.want)
		}
		for _, f := range got {
			checkLintFinding(t, tc.text, f)
			if f.Field != "f" || f.Message == "" || f.Suggestion == "" {
				t.Errorf("%q: incomplete finding %+v", tc.text, f)
			}
		}
	}
}

func checkLintFinding(t *testing.T, text string, f Finding) {
	t.Helper()
	// Rune boundaries as a range loop decodes them (an invalid byte is a rune of its own).
	bounds := map[int]bool{len(text): true}
	for i := range text {
		bounds[i] = true
	}
	if f.Start < 0 || f.End > len(text) || f.Start >= f.End || !bounds[f.Start] || !bounds[f.End] ||
		text[f.Start:f.End] != f.Words {
		t.Fatalf("bad offsets %d..%d (%q) in %q", f.Start, f.End, f.Words, text)
	}
}

func TestLintDocumentAndOverrides(t *testing.T) {
	doc := Fields{People: lintRoster, Items: []Field{
		{Path: "summary", Kind: KindNarrative, Text: "Checkout failed for 30 minutes; obviously bad."},
		{Path: "contributing_factors[0].description", Kind: KindCause, Text: "Alice Chen pushed a bad config."},
		{Path: "five_whys[0][4].answer", Kind: KindWhyChainEnd, Text: "Because of human error."},
		{Path: "action_items[0].title", Kind: KindActionItem, Text: "Add a config schema check to CI"},
	}}
	fs := Lint(doc)
	var fields []string
	for _, f := range fs {
		fields = append(fields, f.Field+":"+f.Rule)
	}
	lintWant := "summary:hindsight contributing_factors[0].description:person-as-cause five_whys[0][4].answer:why-chain-ends-at-person"
	if strings.Join(fields, " ") != lintWant {
		t.Fatalf("findings %v\nwant %s", fields, lintWant)
	}
	if b := Blocking(fs, nil); len(b) != 2 {
		t.Errorf("blocking = %d, want 2", len(b))
	}
	if b := Blocking(fs, []Override{{By: "carol", Reason: ""}}); len(b) != 2 {
		t.Errorf("an override without a reason overrode %d", 2-len(b))
	}
	if b := Blocking(fs, []Override{{Field: "five_whys[0][4].answer", By: "carol", Reason: "quoted from the customer"}}); len(b) != 1 ||
		b[0].Field != "contributing_factors[0].description" {
		t.Errorf("field override: %v", b)
	}
	if b := Blocking(fs, []Override{{By: "carol", Reason: "reviewed with the team"}}); len(b) != 0 {
		t.Errorf("global override left %v", b)
	}
}

func FuzzLint(f *testing.F) {
	for _, s := range []string{"Alice Chen forgot to run it", "@bob", "human error", "j.doe’s", "Ü@x", "é́ should have",
		"\xff\xfe", "a@b.c", "WE SHOULDN’T HAVE", "-- . ,", "no one failed to"} {
		f.Add(s, "Alice Chen", string(KindCause))
	}
	f.Fuzz(func(t *testing.T, text, person, kind string) {
		fs := Lint(Fields{People: []string{person, "bob"}, Items: []Field{{Path: "x", Text: text, Kind: Kind(kind)}}})
		for _, fd := range fs {
			checkLintFinding(t, text, fd)
		}
	})
}
