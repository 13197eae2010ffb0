package analysis

import (
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The blameless-language linter (docs: research "postmortems-metrics" §3.3). It is deterministic phrase matching
// over words plus a name gazetteer and a small subject heuristic; it favours precision over recall, because a
// false blocking finding erodes trust faster than a missed warning.
//
// Known limits: it reads English only; the subject of a verb is the nearest word before it in the same clause
// (after skipping auxiliaries and adverbs), so passive voice ("the config was deleted by Alice") and long subjects
// are not analysed (a known name in a cause field is still found, anywhere); a first name that is also a common
// word ("Will", "Mark") counts only when capitalised and followed by a causal verb; quotes are not recognised
// (quoting a chat message "I forgot to…" in a narrative still warns).

// LintVersion changes when the rules change, so a stored result can say which rules it passed.
const LintVersion = "1"

// Kind says how a field is linted.
type Kind string

const (
	// KindNarrative: summary, what went poorly, lessons, narrative sections. Findings are warnings.
	KindNarrative Kind = "narrative"
	// KindCause: contributing factors, root cause / primary trigger. A person or "human error" as the cause
	// blocks publishing.
	KindCause Kind = "cause"
	// KindWhyChainEnd: the last answer of a five-whys chain. Ending at a person blocks publishing.
	KindWhyChainEnd Kind = "why-chain-end"
	// KindActionItem: action item titles and descriptions: vague and punitive actions (warnings).
	KindActionItem Kind = "action-item"
)

// Severity of a finding.
type Severity string

const (
	SeverityWarning  Severity = "warning"
	SeverityBlocking Severity = "blocking" // blocks publishing unless an approver overrides it with a reason
)

// Rule ids.
const (
	RulePersonAsCause      = "person-as-cause"
	RuleHumanErrorCause    = "human-error-cause"
	RuleWhyChainEndsPerson = "why-chain-ends-at-person"
	RuleCounterfactual     = "counterfactual"
	RuleCharacter          = "character-judgement"
	RuleHindsight          = "hindsight"
	RuleMinimiser          = "minimiser"
	RuleVagueAction        = "vague-action"
	RulePunitiveAction     = "punitive-action"
)

// Field is one text field of a document. Path names it for the person fixing it, e.g.
// "contributing_factors[0].description" or "five_whys[1][4].answer".
type Field struct {
	Path string `json:"path"`
	Text string `json:"text"`
	Kind Kind   `json:"kind"`
}

// Fields is what Lint reads: the document's fields and the people it might name (users' display names and
// usernames; a name with spaces is also recognised by its first word).
type Fields struct {
	Items  []Field  `json:"fields"`
	People []string `json:"people"`
}

// Finding is one problem. Start and End are byte offsets of Words in the field's Text (on rune boundaries).
type Finding struct {
	Field      string   `json:"field"`
	Rule       string   `json:"rule"`
	Severity   Severity `json:"severity"`
	Start      int      `json:"start"`
	End        int      `json:"end"`
	Words      string   `json:"words"`
	Message    string   `json:"message"`
	Suggestion string   `json:"suggestion"`
}

// Override lets publishing go ahead despite blocking findings. Empty Field or Rule matches any; an override
// without a reason overrides nothing.
type Override struct {
	Field  string `json:"field,omitempty"`
	Rule   string `json:"rule,omitempty"`
	By     string `json:"by"`
	Reason string `json:"reason"`
}

// Blocking returns the blocking findings that no override (with a reason) covers: publishing may go ahead when
// it is empty.
func Blocking(fs []Finding, overrides []Override) []Finding {
	var out []Finding
	for _, f := range fs {
		if f.Severity != SeverityBlocking {
			continue
		}
		covered := false
		for _, o := range overrides {
			if strings.TrimSpace(o.Reason) != "" && (o.Field == "" || o.Field == f.Field) &&
				(o.Rule == "" || o.Rule == f.Rule) {
				covered = true
				break
			}
		}
		if !covered {
			out = append(out, f)
		}
	}
	return out
}

// Lint checks every field and returns the findings in field order, then by position. It never fails: unknown
// kinds are linted as narrative.
func Lint(doc Fields) []Finding {
	g := newLintGazetteer(doc.People)
	var out []Finding
	for _, f := range doc.Items {
		out = append(out, lintOneField(f, g)...)
	}
	return out
}

// LintText lints one text (a convenience for a single field, e.g. while typing).
func LintText(path, text string, kind Kind, people []string) []Finding {
	return Lint(Fields{Items: []Field{{Path: path, Text: text, Kind: kind}}, People: people})
}

// ---- words ----

type lintToken struct {
	start, end int
	low        string // lower case, ’ as '
	brk        bool   // a clause break (.,;:!?()\n…) lies between the previous token and this one
}

func lintWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r) }

// tokenize splits s into words: letters, digits and marks, joined by ' ’ - _ . when a word character follows
// (so "didn't", "on-call", "j.doe" are one word), with a leading @ kept (handles).
func lintTokenize(s string) []lintToken {
	var toks []lintToken
	brk := true
	i := 0
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		if lintWordRune(r) || (r == '@' && i+n < len(s) && lintStartsWord(s[i+n:]) && !lintEndsWord(s[:i])) {
			start := i
			i += n
			for i < len(s) {
				r, n := utf8.DecodeRuneInString(s[i:])
				if lintWordRune(r) {
					i += n
					continue
				}
				if (r == '\'' || r == '’' || r == '-' || r == '_' || r == '.') && i+n < len(s) && lintStartsWord(s[i+n:]) {
					i += n
					continue
				}
				break
			}
			low := strings.ReplaceAll(strings.ToLower(s[start:i]), "’", "'")
			toks = append(toks, lintToken{start: start, end: i, low: low, brk: brk})
			brk = false
			continue
		}
		if strings.ContainsRune(".,;:!?()[]{}\n\r—–\"“”…|", r) {
			brk = true
		}
		i += n
	}
	return toks
}

func lintEndsWord(s string) bool {
	r, _ := utf8.DecodeLastRuneInString(s)
	return lintWordRune(r)
}

func lintStartsWord(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return lintWordRune(r)
}

// ---- phrase patterns ----

// A pattern is words separated by spaces; "a|b" are alternatives, a trailing "*" matches a prefix, a trailing
// "?" makes the word optional, and "^" first requires the start of a clause.
type lintPattern struct {
	words       []lintPatWord
	clauseStart bool
}

type lintPatWord struct {
	alts     []string
	optional bool
}

func lintCompile(p string) lintPattern {
	var pt lintPattern
	for _, w := range strings.Fields(p) {
		if w == "^" {
			pt.clauseStart = true
			continue
		}
		var pw lintPatWord
		if strings.HasSuffix(w, "?") {
			pw.optional = true
			w = strings.TrimSuffix(w, "?")
		}
		pw.alts = strings.Split(w, "|")
		pt.words = append(pt.words, pw)
	}
	return pt
}

func (w lintPatWord) matches(low string) bool {
	for _, a := range w.alts {
		if strings.HasSuffix(a, "*") {
			if strings.HasPrefix(low, a[:len(a)-1]) {
				return true
			}
		} else if low == a {
			return true
		}
	}
	return false
}

// match returns the index after the last token matched by p starting at token i, or -1.
func (p lintPattern) match(toks []lintToken, i int) int {
	if p.clauseStart && !toks[i].brk {
		return -1
	}
	var try func(w, t int) int
	try = func(w, t int) int {
		if w == len(p.words) {
			return t
		}
		pw := p.words[w]
		if t < len(toks) && (t == i || !toks[t].brk) && pw.matches(toks[t].low) {
			if end := try(w+1, t+1); end >= 0 {
				return end
			}
		}
		if pw.optional {
			return try(w+1, t)
		}
		return -1
	}
	end := try(0, i)
	if end == i {
		return -1
	}
	return end
}

// ---- rules ----

// subject says when a phrase counts, by the subject of its verb.
type lintSubjectMode int

const (
	lintSubjAny          lintSubjectMode = iota // always
	lintSubjPerson                              // only when the subject is a person, role or personal pronoun
	lintSubjPersonOrNone                        // also when there is no subject ("Should have rolled back sooner")
)

type lintRule struct {
	id         string
	patterns   []lintPattern
	subject    lintSubjectMode
	kinds      map[Kind]Severity
	notBefore  []string // the match does not count when followed by one of these words
	message    string
	suggestion string
	// suggestions by the first matched word, more specific than suggestion
	suggestions map[string]string
}

var (
	lintCauseBlocking = map[Kind]Severity{KindCause: SeverityBlocking, KindWhyChainEnd: SeverityBlocking,
		KindNarrative: SeverityWarning}
	lintAllWarning = map[Kind]Severity{KindCause: SeverityWarning, KindWhyChainEnd: SeverityWarning,
		KindNarrative: SeverityWarning, KindActionItem: SeverityWarning}
	lintProseWarning = map[Kind]Severity{KindCause: SeverityWarning, KindWhyChainEnd: SeverityWarning,
		KindNarrative: SeverityWarning}
	lintActionWarning = map[Kind]Severity{KindActionItem: SeverityWarning}
)

func lintCompileAll(ps ...string) []lintPattern {
	out := make([]lintPattern, len(ps))
	for i, p := range ps {
		out[i] = lintCompile(p)
	}
	return out
}

var lintRules = []lintRule{
	{
		id: RuleHumanErrorCause, kinds: lintCauseBlocking, subject: lintSubjAny,
		patterns: lintCompileAll("human|operator|user|pilot|engineer|engineering error|errors|mistake|mistakes",
			"pebkac", "fat-finger*", "fat finger|fingered|fingering", "finger trouble", "carelessness",
			"human factor|factors", "mistyped"),
		notBefore: []string{"rate", "rates", "count", "counts", "budget", "code", "codes", "page", "pages",
			"message", "messages", "response", "responses", "handling", "metric", "metrics", "ratio"},
		message: "\"Human error\" is a starting point for the analysis, not its conclusion.",
		suggestion: "Ask how the system made the action reasonable or possible: what did the tooling allow, " +
			"what did the person know at the time? e.g. \"the CLI applied the change to production without a " +
			"confirmation\".",
	},
	{
		id: RuleCounterfactual, kinds: lintProseWarning, subject: lintSubjAny,
		patterns: lintCompileAll("forgot|forget|forgets|forgotten to?", "neglected|neglect to",
			"didn't bother", "did not bother", "if only", "^ had he|she|they|we|i|you", "ought to have"),
		message: "Counterfactuals describe what did not happen; they invite blame and hide what did.",
		suggestion: "State what happened and what people knew and saw at the time, e.g. " +
			"\"the runbook step was not visible in the alert\".",
		suggestions: map[string]string{
			"forgot":    "Describe the missing safeguard: \"no automation or check ensured …\".",
			"forget":    "Describe the missing safeguard: \"no automation or check ensured …\".",
			"forgets":   "Describe the missing safeguard: \"no automation or check ensured …\".",
			"forgotten": "Describe the missing safeguard: \"no automation or check ensured …\".",
			"neglected": "Describe the missing safeguard: \"nothing prompted …\".",
			"didn't":    "Describe the process gap: \"the process had no safeguard for …\".",
			"did":       "Describe the process gap: \"the process had no safeguard for …\".",
		},
	},
	{
		id: RuleCounterfactual, kinds: lintProseWarning, subject: lintSubjPersonOrNone,
		patterns: lintCompileAll("should|could|would|might have", "should've|could've|would've|might've",
			"shouldn't|couldn't|wouldn't have"),
		message: "Counterfactuals describe what did not happen; they invite blame and hide what did.",
		suggestion: "State what happened and what was known at the time; if a safeguard was missing, " +
			"name it: \"the system allowed …\".",
	},
	{
		id: RuleCounterfactual, kinds: lintProseWarning, subject: lintSubjPerson,
		patterns: lintCompileAll("failed|fail|fails|failing to",
			"didn't|never notice|check|verify|test|review|escalate|catch|see|read|follow",
			"did not notice|check|verify|test|review|escalate|catch|see|read|follow"),
		message: "\"Failed to\" judges a person against what we know now.",
		suggestion: "Describe the conditions: what made the step hard to notice or easy to skip, e.g. " +
			"\"the check was manual and not part of the deploy\".",
	},
	{
		id: RuleCharacter, kinds: lintCauseBlocking, subject: lintSubjAny,
		patterns: lintCompileAll("careless|carelessly|negligent|negligence|negligently|sloppy|sloppily|lazy|laziness",
			"incompetent|incompetence|reckless|recklessly|irresponsible|irresponsibly|stupid|stupidity|dumb",
			"idiot|idiotic|clueless|inattentive", "rookie|amateur mistake|mistakes|error|errors", "cowboy|cowboys",
			"should|should've|shouldn't have? know|known better", "knew better", "lack of attention|care|diligence",
			"not paying attention", "bad apple|apples"),
		message:    "This judges a person's character; it explains nothing about the system.",
		suggestion: "Remove it, and describe the action and its context instead.",
	},
	{
		id: RuleHindsight, kinds: lintProseWarning, subject: lintSubjAny,
		patterns: lintCompileAll("obviously", "^ clearly", "clearly should|wrong|obvious", "it was clear|obvious", "should have been obvious|clear",
			"ignored|missed the? warning|warnings|alert|alerts|alarm|alarms|page|pages|signs",
			"in hindsight", "red flag|flags"),
		message: "Hindsight bias: it was not obvious at the time, or it would not have happened.",
		suggestion: "Describe the signals as they looked then and what else competed for attention, e.g. " +
			"\"the alert fired among 40 others in the same minute\".",
	},
	{
		id: RuleMinimiser, kinds: lintAllWarning, subject: lintSubjAny,
		patterns: lintCompileAll("simply", "trivial|trivially", "of course", "everyone|everybody knows",
			"should|could|can|would|might just", "just need|needs|needed|have|has|had to"),
		message:    "Minimising words are condescending and hide the difficulty people faced.",
		suggestion: "Remove the word; if something is easy, say what makes it so.",
	},
	{
		id: RuleVagueAction, kinds: lintActionWarning, subject: lintSubjAny,
		patterns: lintCompileAll("be|being more? careful", "more careful", "pay|paying more? attention",
			"^ remember to", "^ always? make sure", "^ double-check*", "^ double check", "^ always? try to",
			"should|will|must try|remember to", "be|being more? vigilant", "be aware",
			"improve|better monitoring|alerting|observability|communication|testing|documentation",
			"retrain*", "re-train*", "remind*"),
		message: "Not actionable: it names no mechanism and no done-condition.",
		suggestion: "Name a mechanism and when it is done, e.g. \"add a pre-deploy check that refuses " +
			"migrations without a rollback step (done when CI enforces it)\".",
		suggestions: map[string]string{
			"double-check": "Automate the check: \"add a CI step that verifies …\".",
			"double":       "Automate the check: \"add a CI step that verifies …\".",
			"remember":     "Make the system remember: \"add a checklist step / reminder bot / guard that …\".",
			"improve":      "Say which signal, which threshold and who is paged: \"alert when … exceeds … for 5 min\".",
		},
	},
	{
		id: RulePunitiveAction, kinds: lintActionWarning, subject: lintSubjAny,
		patterns: lintCompileAll("discipline|disciplinary|disciplined|disciplining", "performance review|reviews", "performance improvement plan", "reprimand*",
			"written warning", "revoke|remove access for|from", "fire|terminate the? engineer|employee|person"),
		message:    "Punitive actions do not belong in a post-mortem; they make people withhold what they know.",
		suggestion: "Replace it with a change to the system or process that makes the failure harder to repeat.",
	},
}

// deliverableWords make an "investigate …" action item concrete. Such an item is vague only when it starts with the
// verb (an imperative), so "begin the investigation" or a description that mentions one is not flagged.
var lintDeliverables = map[string]bool{"add": true, "create": true, "implement": true, "build": true,
	"write": true, "document": true, "automate": true, "alert": true, "remove": true, "replace": true,
	"migrate": true, "enforce": true, "fix": true, "ship": true, "deploy": true, "publish": true, "by": true,
	"dashboard": true, "report": true, "decide": true, "propose": true, "rfc": true, "ticket": true}

var lintInvestigate = lintCompileAll("^ investigate", "^ look into", "^ explore", "^ think about", "^ consider",
	"^ research")

// ---- people ----

var lintPronouns = map[string]bool{"he": true, "she": true, "they": true, "we": true, "i": true, "you": true,
	"someone": true, "somebody": true, "nobody": true, "everyone": true, "everybody": true, "anyone": true}

var lintRoles = map[string]bool{"engineer": true, "engineers": true, "developer": true, "developers": true,
	"dev": true, "devs": true, "operator": true, "operators": true, "intern": true, "interns": true,
	"admin": true, "admins": true, "administrator": true, "sysadmin": true, "dba": true, "sre": true, "sres": true,
	"contractor": true, "contractors": true, "on-call": true, "oncall": true, "on-caller": true,
	"responder": true, "responders": true, "commander": true, "reviewer": true, "reviewers": true,
	"employee": true, "employees": true, "staff": true, "person": true, "junior": true, "newbie": true,
	"team": true, "teams": true, "teammate": true, "colleague": true, "author": true, "hire": true, "hires": true}

// skipped between a subject and its verb.
var lintAuxiliaries = map[string]bool{"had": true, "has": true, "have": true, "was": true, "were": true, "is": true,
	"are": true, "just": true, "also": true, "then": true, "accidentally": true, "mistakenly": true,
	"inadvertently": true, "apparently": true, "unfortunately": true, "again": true, "never": true, "not": true,
	"already": true, "manually": true, "incorrectly": true, "wrongly": true, "carelessly": true, "simply": true,
	"probably": true, "still": true, "initially": true, "later": true, "repeatedly": true, "unknowingly": true,
	"unintentionally": true, "quickly": true, "may": true, "might": true, "must": true, "did": true}

// causal verbs: a person as their subject is a person as the cause. Narrative fields use only the damaging ones.
var lintDamageVerbs = map[string]bool{"caused": true, "causes": true, "cause": true, "broke": true, "breaks": true,
	"broken": true, "deleted": true, "dropped": true, "misconfigured": true, "introduced": true, "forgot": true,
	"failed": true, "neglected": true, "ignored": true, "missed": true, "skipped": true, "overlooked": true,
	"mistyped": true, "messed": true, "screwed": true, "botched": true, "wiped": true,
	"corrupted": true, "truncated": true, "erased": true, "fat-fingered": true}

var lintCauseVerbs = map[string]bool{"pushed": true, "deployed": true, "ran": true, "removed": true, "merged": true,
	"approved": true, "disabled": true, "changed": true, "typed": true, "executed": true, "restarted": true,
	"shut": true, "turned": true, "killed": true, "rebooted": true, "applied": true, "made": true,
	"rolled": true, "released": true, "shipped": true, "edited": true, "modified": true, "updated": true,
	"set": true, "configured": true, "committed": true, "triggered": true, "started": true, "stopped": true}

// commonWords are names that are also English words: they count only capitalised and before a causal verb.
var lintCommonWords = map[string]bool{"will": true, "mark": true, "bill": true, "may": true, "june": true,
	"april": true, "august": true, "grant": true, "chase": true, "page": true, "rich": true, "summer": true,
	"joy": true, "hope": true, "faith": true, "art": true, "don": true, "max": true, "dawn": true, "ray": true,
	"rose": true, "jack": true, "frank": true, "sky": true, "river": true, "case": true, "lane": true,
	"admin": true, "root": true, "deploy": true, "ops": true, "bot": true, "system": true,
	"release": true, "ci": true, "build": true, "service": true, "test": true, "user": true, "dev": true}

type lintGazetteer struct {
	names  [][]string      // multi-word names, lower-cased words
	single map[string]bool // single-word names and usernames, lower case
}

func newLintGazetteer(people []string) *lintGazetteer {
	g := &lintGazetteer{single: map[string]bool{}}
	for _, p := range people {
		var ws []string
		for _, t := range lintTokenize(p) {
			ws = append(ws, strings.TrimPrefix(t.low, "@"))
		}
		switch {
		case len(ws) == 0:
		case len(ws) == 1:
			if len([]rune(ws[0])) >= 2 {
				g.single[ws[0]] = true
			}
		default:
			g.names = append(g.names, ws)
			if len([]rune(ws[0])) >= 2 {
				g.single[ws[0]] = true // first name
			}
		}
	}
	sort.Slice(g.names, func(i, j int) bool { return len(g.names[i]) > len(g.names[j]) })
	return g
}

// personAt reports whether a person is named by the tokens ending at toks[j]; it returns the index of the first
// token of the name. A name that is also a common word counts only when capitalised, and never when strict; an
// unknown @handle counts only when not strict.
func (g *lintGazetteer) personAt(text string, toks []lintToken, j int, strict bool) (int, bool) {
	if h, ok := strings.CutPrefix(toks[j].low, "@"); ok && h != "" {
		// A handle: known, or (as a subject) written in lower case like chat handles, unlike code
		// annotations such as @Transactional.
		r, _ := utf8.DecodeRuneInString(text[toks[j].start+1:])
		if g.single[lintStripPossessive(h)] || (!strict && !unicode.IsUpper(r)) {
			return j, true
		}
		return 0, false
	}
	for _, n := range g.names {
		i := j - len(n) + 1
		if i < 0 {
			continue
		}
		ok := true
		for k, w := range n {
			if lintStripPossessive(toks[i+k].low) != w || (k > 0 && toks[i+k].brk) {
				ok = false
				break
			}
		}
		if ok {
			return i, true
		}
	}
	w := lintStripPossessive(toks[j].low)
	if !g.single[w] {
		return 0, false
	}
	r, _ := utf8.DecodeRuneInString(text[toks[j].start:])
	if lintCommonWords[w] && (strict || !unicode.IsUpper(r)) {
		return 0, false
	}
	return j, true
}

func lintStripPossessive(s string) string {
	return strings.TrimSuffix(strings.TrimSuffix(s, "'s"), "'")
}

// subj is the subject of a verb: whether the clause has one, whether it is a person, and whether it is named
// (a name, handle or role, not merely a pronoun); start is its offset.
type lintSubject struct {
	found, person, named bool
	start                int
}

// subjectOf finds the subject of the verb at toks[k]: the nearest word before it in the clause, after skipping
// auxiliaries and adverbs.
func (g *lintGazetteer) subjectOf(text string, toks []lintToken, k int) lintSubject {
	j := k - 1
	for j >= 0 && !toks[j+1].brk && lintAuxiliaries[toks[j].low] {
		j--
	}
	if j < 0 || toks[j+1].brk {
		return lintSubject{}
	}
	w := toks[j].low
	if i, ok := g.personAt(text, toks, j, false); ok {
		return lintSubject{true, true, true, toks[i].start}
	}
	if lintPronouns[w] {
		return lintSubject{true, true, false, toks[j].start}
	}
	if w == "one" && j > 0 && toks[j-1].low == "no" && !toks[j].brk {
		return lintSubject{true, true, false, toks[j-1].start}
	}
	if r := lintStripPossessive(w); lintRoles[r] {
		named := r != "team" && r != "teams" // collective, like "we"
		i := j
		for i > 0 && !toks[i].brk && (lintRoles[toks[i-1].low] || toks[i-1].low == "new" || toks[i-1].low == "the" ||
			toks[i-1].low == "an" || toks[i-1].low == "a" || toks[i-1].low == "our" || toks[i-1].low == "senior") {
			i--
		}
		return lintSubject{true, true, named, toks[i].start}
	}
	return lintSubject{found: true, start: toks[j].start}
}

// ---- linting ----

func lintOneField(f Field, g *lintGazetteer) []Finding {
	kind := f.Kind
	switch kind {
	case KindNarrative, KindCause, KindWhyChainEnd, KindActionItem:
	default:
		kind = KindNarrative
	}
	toks := lintTokenize(f.Text)
	var out []Finding
	add := func(rule string, sev Severity, start, end int, msg, sugg string) {
		if start < 0 || end > len(f.Text) || start >= end {
			return
		}
		if kind == KindWhyChainEnd && sev == SeverityBlocking &&
			(rule == RulePersonAsCause || rule == RuleHumanErrorCause || rule == RuleCharacter) {
			rule = RuleWhyChainEndsPerson
			msg += " The chain of whys ends at a person."
			sugg = "Keep asking how: what made this action possible or likely? " + sugg
		}
		out = append(out, Finding{Field: f.Path, Rule: rule, Severity: sev, Start: start, End: end,
			Words: f.Text[start:end], Message: msg, Suggestion: sugg})
	}

	for _, r := range lintRules {
		sev, ok := r.kinds[kind]
		if !ok {
			continue
		}
		for i := 0; i < len(toks); i++ {
			for _, p := range r.patterns {
				end := p.match(toks, i)
				if end < 0 {
					continue
				}
				if end < len(toks) && !toks[end].brk && lintContains(r.notBefore, toks[end].low) {
					continue
				}
				start := toks[i].start
				if r.subject != lintSubjAny {
					sb := g.subjectOf(f.Text, toks, i)
					if !sb.person && (r.subject == lintSubjPerson || sb.found) {
						continue
					}
					if sb.person {
						start = sb.start
					}
				}
				sugg := r.suggestion
				if s, ok := r.suggestions[toks[i].low]; ok {
					sugg = s
				}
				add(r.id, sev, start, toks[end-1].end, r.message, sugg)
				i = end - 1
				break
			}
		}
	}

	if kind == KindActionItem {
		concrete := false
		for _, t := range toks {
			if lintDeliverables[t.low] {
				concrete = true
				break
			}
		}
		if !concrete {
			for i := range toks {
				for _, p := range lintInvestigate {
					if end := p.match(toks, i); end > 0 {
						add(RuleVagueAction, SeverityWarning, toks[i].start, toks[end-1].end,
							"An investigation with no deliverable is not an action item.",
							"Say what the investigation produces and by when, e.g. \"write up the options for "+
								"connection-pool sizing and decide on one\".")
						break
					}
				}
			}
		}
	}

	// A person as the cause.
	switch kind {
	case KindCause, KindWhyChainEnd:
		// Any known person named in a cause (the longest name at each place).
		var spans [][2]int
		for j := range toks {
			if i, ok := g.personAt(f.Text, toks, j, true); ok {
				sp := [2]int{toks[i].start, toks[j].end}
				if n := len(spans); n > 0 && spans[n-1][0] == sp[0] {
					spans[n-1] = sp
				} else if n == 0 || spans[n-1][1] <= sp[0] {
					spans = append(spans, sp)
				}
			}
		}
		for _, sp := range spans {
			add(RulePersonAsCause, SeverityBlocking, sp[0], sp[1],
				"A cause names a person. An individual's action is never the cause: the system let it happen.",
				"Describe the condition or system gap, and use a role if needed: \"a deploy from the "+
					"release pipeline …\" instead of a name.")
		}
		// A role, or a pronoun with a damaging verb, as the subject.
		for k := range toks {
			damage := lintDamageVerbs[toks[k].low]
			if !damage && !lintCauseVerbs[toks[k].low] {
				continue
			}
			sb := g.subjectOf(f.Text, toks, k)
			if !sb.person || (!sb.named && !damage) || lintCovered(out, sb.start) {
				continue
			}
			add(RulePersonAsCause, SeverityBlocking, sb.start, toks[k].end,
				"A person (or role) is the subject of the cause.",
				"Make the system the subject: \"the migration ran against production without a dry run\" "+
					"instead of \"the engineer ran the migration\".")
		}
	case KindNarrative:
		for k := range toks {
			if !lintDamageVerbs[toks[k].low] {
				continue
			}
			sb := g.subjectOf(f.Text, toks, k)
			if !sb.named || lintCovered(out, sb.start) {
				continue
			}
			add(RulePersonAsCause, SeverityWarning, sb.start, toks[k].end,
				"A person is the subject of a damaging verb; agentive phrasing makes readers assign blame.",
				"Prefer system-centred phrasing: \"the config change removed the route\" instead of "+
					"\"Alice broke the route\".")
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Start != out[j].Start {
			return out[i].Start < out[j].Start
		}
		return out[i].Severity == SeverityBlocking && out[j].Severity != SeverityBlocking
	})
	return out
}

// coveredBy reports whether a finding already starts at or spans offset s.
func lintCovered(fs []Finding, s int) bool {
	for _, f := range fs {
		if f.Rule != RuleMinimiser && f.Start <= s && s < f.End {
			return true
		}
	}
	return false
}

func lintContains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}
