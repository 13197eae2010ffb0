package probe

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/firebreak/firebreak"
)

func init() { firebreak.ProbeConditionChecker = Check }

// Observation is what one check saw; conditions are evaluated on it. An Observation caches the parsed JSON body,
// so it must not be shared between goroutines while conditions are evaluated.
type Observation struct {
	Connected    bool
	Status       int           // HTTP status code; 0 without an answer
	ResponseTime time.Duration // see the package documentation
	Body         []byte        // nil unless a condition needs it
	// CertExpiry is the time until the server's leaf certificate expires (negative: expired); HasCert says whether
	// there was one.
	CertExpiry time.Duration
	HasCert    bool
	notAfter   time.Time

	parsed  bool
	json    any
	jsonErr bool
}

func (o *Observation) jsonBody() (any, bool) {
	if !o.parsed {
		o.parsed = true
		d := json.NewDecoder(bytes.NewReader(o.Body))
		d.UseNumber()
		if err := d.Decode(&o.json); err != nil || d.More() {
			o.json, o.jsonErr = nil, true
		}
	}
	return o.json, !o.jsonErr
}

// Op is a comparison operator.
type Op uint8

// The operators, in Gatus' syntax.
const (
	OpEq Op = iota + 1 // ==
	OpNe               // !=
	OpLt               // <
	OpLe               // <=
	OpGt               // >
	OpGe               // >=
)

var opText = [...]string{OpEq: "==", OpNe: "!=", OpLt: "<", OpLe: "<=", OpGt: ">", OpGe: ">="}

func (op Op) String() string {
	if int(op) < len(opText) && op != 0 {
		return opText[op]
	}
	return "?"
}

type placeholder uint8

const (
	phNone placeholder = iota
	phStatus
	phResponseTime
	phBody
	phConnected
	phCertExpiration
)

var placeholders = map[string]placeholder{
	"[STATUS]":                 phStatus,
	"[RESPONSE_TIME]":          phResponseTime,
	"[BODY]":                   phBody,
	"[CONNECTED]":              phConnected,
	"[CERTIFICATE_EXPIRATION]": phCertExpiration,
}

type function uint8

const (
	fnNone function = iota
	fnLen
	fnHas
	fnPat
	fnAny
)

// pathStep is one step of a JSON path: a key, or an index when key is "" and isIndex.
type pathStep struct {
	key     string
	index   int
	isIndex bool
}

// operand is one compiled side of a condition.
type operand struct {
	text string // as written, for descriptions
	ph   placeholder
	path []pathStep // [BODY] only
	fn   function   // len, has (on a placeholder); pat, any (on literals)
	// Literal (ph == phNone, fn none or pat/any).
	lit     value
	options []value // any(...)
	pattern string  // pat(...)
}

// value is a resolved operand.
type value struct {
	s       string
	num     float64
	isNum   bool
	missing string // non-empty: the value could not be resolved; says why
	dur     bool   // a time value in ms: described as a duration
}

func literal(s string) value {
	v := value{s: s}
	if n, err := strconv.ParseFloat(s, 64); err == nil && !math.IsNaN(n) && !math.IsInf(n, 0) {
		v.num, v.isNum = n, true
	} else if d, err := time.ParseDuration(s); err == nil {
		// Durations are numbers of milliseconds, as [RESPONSE_TIME] and [CERTIFICATE_EXPIRATION] are.
		v.num, v.isNum, v.dur = float64(d)/float64(time.Millisecond), true, true
	}
	return v
}

// Condition is a compiled condition. It is immutable and safe for concurrent use.
type Condition struct {
	raw         string
	left, right operand
	op          Op
}

// String returns the condition as written.
func (c *Condition) String() string { return c.raw }

// NeedsBody says whether evaluating the condition reads the response body.
func (c *Condition) NeedsBody() bool { return c.left.ph == phBody || c.right.ph == phBody }

// usesConnected says whether the condition looks at [CONNECTED]: then a failed connection is an outcome to
// evaluate, not only an error.
func (c *Condition) usesConnected() bool {
	return c.left.ph == phConnected || c.right.ph == phConnected
}

// Check validates a condition's syntax.
func Check(cond string) error {
	_, err := Compile(cond)
	return err
}

// MustCompile is Compile that panics on an error, for conditions written in code.
func MustCompile(cond string) *Condition {
	c, err := Compile(cond)
	if err != nil {
		panic(err)
	}
	return c
}

// Compile parses a condition: "<left> <op> <right>" with spaces around the operator.
func Compile(cond string) (*Condition, error) {
	raw := strings.TrimSpace(cond)
	if raw == "" {
		return nil, errors.New("is empty")
	}
	if len(raw) > 4096 {
		return nil, errors.New("is too long")
	}
	pos, op, width := findOp(raw)
	if pos < 0 {
		return nil, errors.New(`must be "<left> <op> <right>" with op one of == != < <= > >= and spaces around it`)
	}
	c := &Condition{raw: raw, op: op}
	var err error
	if c.left, err = parseOperand(strings.TrimSpace(raw[:pos])); err != nil {
		return nil, err
	}
	if c.right, err = parseOperand(strings.TrimSpace(raw[pos+width:])); err != nil {
		return nil, err
	}
	for _, o := range []operand{c.left, c.right} {
		if (o.fn == fnPat || o.fn == fnAny) && op != OpEq && op != OpNe {
			return nil, fmt.Errorf("%s(...) can only be compared with == or !=", fnName(o.fn))
		}
	}
	if (c.left.fn == fnPat || c.left.fn == fnAny) && (c.right.fn == fnPat || c.right.fn == fnAny) {
		return nil, errors.New("pat(...) and any(...) cannot be compared with each other")
	}
	if c.left.ph == phNone && c.left.fn == fnNone && c.right.ph == phNone && c.right.fn == fnNone {
		return nil, errors.New("compares two values: one side must be a placeholder such as [STATUS] or a function such as len([BODY])")
	}
	return c, nil
}

// findOp finds the first operator surrounded by spaces.
func findOp(s string) (pos int, op Op, width int) {
	for i := 1; i+2 < len(s); i++ {
		if s[i-1] != ' ' {
			continue
		}
		two := ""
		if i+3 <= len(s) {
			two = s[i : i+2]
		}
		switch {
		case two == "==" && s[i+2] == ' ':
			return i - 1, OpEq, 4
		case two == "!=" && s[i+2] == ' ':
			return i - 1, OpNe, 4
		case two == "<=" && s[i+2] == ' ':
			return i - 1, OpLe, 4
		case two == ">=" && s[i+2] == ' ':
			return i - 1, OpGe, 4
		case s[i] == '<' && s[i+1] == ' ':
			return i - 1, OpLt, 3
		case s[i] == '>' && s[i+1] == ' ':
			return i - 1, OpGt, 3
		}
	}
	return -1, 0, 0
}

func fnName(f function) string {
	switch f {
	case fnLen:
		return "len"
	case fnHas:
		return "has"
	case fnPat:
		return "pat"
	case fnAny:
		return "any"
	}
	return ""
}

func parseOperand(s string) (operand, error) {
	o := operand{text: s}
	if s == "" {
		return o, errors.New(`must be "<left> <op> <right>": a side is empty`)
	}
	for _, f := range []function{fnLen, fnHas, fnPat, fnAny} {
		name := fnName(f) + "("
		if !strings.HasPrefix(s, name) {
			continue
		}
		if !strings.HasSuffix(s, ")") {
			return o, fmt.Errorf("%s misses its closing parenthesis", s)
		}
		arg := strings.TrimSpace(s[len(name) : len(s)-1])
		o.fn = f
		switch f {
		case fnLen, fnHas:
			inner, err := parsePlaceholder(arg)
			if err != nil {
				return o, err
			}
			if inner.ph != phBody {
				return o, fmt.Errorf("%s(...) takes [BODY] or a JSON path such as [BODY].items", fnName(f))
			}
			o.ph, o.path = inner.ph, inner.path
		case fnPat:
			o.pattern = unquote(arg)
		case fnAny:
			if arg == "" {
				return o, errors.New("any(...) needs at least one value")
			}
			for _, a := range strings.Split(arg, ",") {
				o.options = append(o.options, literal(unquote(strings.TrimSpace(a))))
			}
		}
		return o, nil
	}
	if strings.HasPrefix(s, "[") {
		return parsePlaceholder(s)
	}
	o.lit = literal(unquote(s))
	return o, nil
}

// unquote removes one pair of surrounding double quotes.
func unquote(s string) string {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return s[1 : len(s)-1]
	}
	return s
}

func parsePlaceholder(s string) (operand, error) {
	o := operand{text: s}
	end := strings.IndexByte(s, ']')
	if !strings.HasPrefix(s, "[") || end < 0 {
		return o, fmt.Errorf("%q is not a placeholder", s)
	}
	ph, ok := placeholders[s[:end+1]]
	if !ok {
		return o, fmt.Errorf("unknown placeholder %s (known: [STATUS], [RESPONSE_TIME], [BODY], [CONNECTED], [CERTIFICATE_EXPIRATION])", s[:end+1])
	}
	o.ph = ph
	rest := s[end+1:]
	if rest == "" {
		return o, nil
	}
	if ph != phBody {
		return o, fmt.Errorf("only [BODY] takes a JSON path, not %s", s[:end+1])
	}
	for rest != "" {
		switch rest[0] {
		case '.':
			rest = rest[1:]
			n := strings.IndexAny(rest, ".[")
			if n < 0 {
				n = len(rest)
			}
			if n == 0 {
				return o, fmt.Errorf("%s: empty key in JSON path", s)
			}
			o.path = append(o.path, pathStep{key: rest[:n]})
			rest = rest[n:]
		case '[':
			n := strings.IndexByte(rest, ']')
			if n < 0 {
				return o, fmt.Errorf("%s: missing ] in JSON path", s)
			}
			i, err := strconv.Atoi(rest[1:n])
			if err != nil || i < 0 {
				return o, fmt.Errorf("%s: array index must be a number such as [0]", s)
			}
			o.path = append(o.path, pathStep{index: i, isIndex: true})
			rest = rest[n+1:]
		default:
			return o, fmt.Errorf("%s: a JSON path continues with .key or [index]", s)
		}
	}
	return o, nil
}

// Evaluate says whether the condition holds on o and, when it does not, describes it with the values seen:
// "[STATUS] (503) == 200".
func (c *Condition) Evaluate(o *Observation) (bool, string) {
	l, r := c.left.resolve(o), c.right.resolve(o)
	if c.holds(l, r) {
		return true, ""
	}
	return false, c.left.describe(l) + " " + c.op.String() + " " + c.right.describe(r)
}

func (c *Condition) holds(l, r value) bool {
	if l.missing != "" || r.missing != "" {
		return false
	}
	switch {
	case c.right.fn == fnPat || c.left.fn == fnPat:
		subject, pat := l.s, c.right.pattern
		if c.left.fn == fnPat {
			subject, pat = r.s, c.left.pattern
		}
		return match(pat, subject) == (c.op == OpEq)
	case c.right.fn == fnAny || c.left.fn == fnAny:
		subject, opts := l, c.right.options
		if c.left.fn == fnAny {
			subject, opts = r, c.left.options
		}
		found := false
		for _, opt := range opts {
			if equal(subject, opt) {
				found = true
				break
			}
		}
		return found == (c.op == OpEq)
	}
	switch c.op {
	case OpEq:
		return equal(l, r)
	case OpNe:
		return !equal(l, r)
	}
	if !l.isNum || !r.isNum {
		return false
	}
	switch c.op {
	case OpLt:
		return l.num < r.num
	case OpLe:
		return l.num <= r.num
	case OpGt:
		return l.num > r.num
	case OpGe:
		return l.num >= r.num
	}
	return false
}

func equal(a, b value) bool {
	if a.isNum && b.isNum {
		return a.num == b.num
	}
	return a.s == b.s
}

func (p *operand) resolve(o *Observation) value {
	switch p.ph {
	case phNone:
		return p.lit // pat and any are matched in holds
	case phStatus:
		if o.Status == 0 {
			return value{s: "0", isNum: true, missing: "no answer"}
		}
		return value{s: strconv.Itoa(o.Status), num: float64(o.Status), isNum: true}
	case phResponseTime:
		ms := o.ResponseTime.Milliseconds()
		return value{s: strconv.FormatInt(ms, 10), num: float64(ms), isNum: true}
	case phConnected:
		return value{s: strconv.FormatBool(o.Connected)}
	case phCertExpiration:
		if !o.HasCert {
			return value{missing: "no certificate"}
		}
		ms := o.CertExpiry.Milliseconds()
		return value{s: strconv.FormatInt(ms, 10), num: float64(ms), isNum: true, dur: true}
	}
	// [BODY]
	var v value
	if len(p.path) == 0 && p.fn == fnNone {
		v = value{s: string(o.Body)}
		if n, err := strconv.ParseFloat(strings.TrimSpace(v.s), 64); err == nil && !math.IsNaN(n) && !math.IsInf(n, 0) {
			v.num, v.isNum = n, true
		}
		return v
	}
	var node any
	if len(p.path) == 0 {
		// len([BODY]) / has([BODY]) on the raw body when it is not JSON.
		if j, ok := o.jsonBody(); ok {
			node = j
		} else {
			node = string(o.Body)
		}
	} else {
		j, ok := o.jsonBody()
		if !ok {
			return value{missing: "body is not JSON"}
		}
		node, ok = walk(j, p.path)
		if !ok {
			if p.fn == fnHas {
				return value{s: "false"}
			}
			return value{missing: "missing"}
		}
	}
	switch p.fn {
	case fnHas:
		return value{s: "true"}
	case fnLen:
		n := -1
		switch x := node.(type) {
		case string:
			n = utf8.RuneCountInString(x)
		case []any:
			n = len(x)
		case map[string]any:
			n = len(x)
		}
		if n < 0 {
			return value{missing: "no length"}
		}
		return value{s: strconv.Itoa(n), num: float64(n), isNum: true}
	}
	return jsonValue(node)
}

func walk(node any, path []pathStep) (any, bool) {
	for _, st := range path {
		if st.isIndex {
			a, ok := node.([]any)
			if !ok || st.index >= len(a) {
				return nil, false
			}
			node = a[st.index]
			continue
		}
		m, ok := node.(map[string]any)
		if !ok {
			return nil, false
		}
		if node, ok = m[st.key]; !ok {
			return nil, false
		}
	}
	return node, true
}

func jsonValue(node any) value {
	switch x := node.(type) {
	case string:
		return literalNoDuration(x)
	case json.Number:
		n, err := x.Float64()
		return value{s: x.String(), num: n, isNum: err == nil}
	case bool:
		return value{s: strconv.FormatBool(x)}
	case nil:
		return value{s: "null"}
	default:
		b, _ := json.Marshal(x)
		return value{s: string(b)}
	}
}

// literalNoDuration is a string from the body: numeric text compares as a number, but "1h" stays text.
func literalNoDuration(s string) value {
	v := value{s: s}
	if n, err := strconv.ParseFloat(s, 64); err == nil && !math.IsNaN(n) && !math.IsInf(n, 0) {
		v.num, v.isNum = n, true
	}
	return v
}

const maxShown = 100

func (p *operand) describe(v value) string {
	if p.ph == phNone {
		return p.text
	}
	if v.missing != "" {
		return p.text + " (" + v.missing + ")"
	}
	s := v.s
	if v.dur {
		s = (time.Duration(v.num) * time.Millisecond).Round(time.Second).String()
	}
	if len(s) > maxShown {
		cut := maxShown
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return p.text + " (" + s + ")"
}

// match reports whether s matches pattern, in which * stands for any run of characters.
func match(pattern, s string) bool {
	// Greedy wildcard matching with backtracking to the last star: linear in practice.
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case p < len(pattern) && pattern[p] == s[i]:
			p++
			i++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// Conditions is a probe's compiled condition list.
type Conditions struct {
	list      []*Condition
	needsBody bool
	connected bool
}

// Default conditions when a probe has none.
var (
	defaultHTTP = mustConditions("[STATUS] < 400")
	defaultTCP  = mustConditions("[CONNECTED] == true")
)

func mustConditions(conds ...string) *Conditions {
	c, err := CompileAll(conds)
	if err != nil {
		panic(err)
	}
	return c
}

// CompileAll compiles a list of conditions.
func CompileAll(conds []string) (*Conditions, error) {
	cs := &Conditions{list: make([]*Condition, 0, len(conds))}
	for _, s := range conds {
		c, err := Compile(s)
		if err != nil {
			return nil, fmt.Errorf("condition %q: %w", s, err)
		}
		cs.add(c)
	}
	return cs, nil
}

func (cs *Conditions) add(c *Condition) {
	cs.list = append(cs.list, c)
	cs.needsBody = cs.needsBody || c.NeedsBody()
	cs.connected = cs.connected || c.usesConnected()
}

// NeedsBody says whether any condition reads the body.
func (cs *Conditions) NeedsBody() bool { return cs.needsBody }

// Evaluate evaluates every condition; it returns whether all hold and the descriptions of those that do not.
func (cs *Conditions) Evaluate(o *Observation) (bool, []string) {
	var failed []string
	for _, c := range cs.list {
		if ok, why := c.Evaluate(o); !ok {
			failed = append(failed, why)
		}
	}
	return len(failed) == 0, failed
}
