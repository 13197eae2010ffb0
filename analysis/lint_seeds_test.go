package analysis

import (
	"os"
	"strings"
	"testing"
)

// The seed documents are written blamelessly (one is about blameless post-mortems): linted line by line as cause
// fields, nothing blocks, and the few warnings are the ones a reviewer would also raise. They live outside the
// repository, so the test skips without them.
func TestLintSeedsHaveNoFalseBlocks(t *testing.T) {
	var warnings []string
	for _, f := range []string{"000_1691b605e7eed93c.txt", "001_4dd4d4379ecfb3fd.txt", "002_af0a6485c07d7039.txt"} {
		b, err := os.ReadFile("/work/shared/seeds/" + f)
		if err != nil {
			t.Skip(err)
		}
		for i, line := range strings.Split(string(b), "\n") {
			for _, fd := range LintText(f, line, KindCause, []string{"Alice Chen", "bob"}) {
				if fd.Severity == SeverityBlocking {
					t.Errorf("%s:%d: blocking %s %q in %q", f, i+1, fd.Rule, fd.Words, line)
				}
				warnings = append(warnings, fd.Rule+":"+strings.ToLower(fd.Words))
			}
		}
	}
	if got := strings.Join(warnings, " "); got != "minimiser:of course" {
		t.Errorf("warnings = %q", got)
	}
}
