package web

import (
	"html"
	"html/template"
	"strconv"
	"strings"
	"unicode/utf8"
)

// A small, safe Markdown renderer for runbooks in the console. It knows the common subset a procedure needs:
// ATX headings, paragraphs, bulleted and numbered lists (nested by indentation), fenced and indented code blocks,
// block quotes, rules, pipe tables, code spans, strong and emphasis, links and bare http(s) URLs. It never passes
// HTML through: every piece of text is escaped when it is written, the only tags are the renderer's own (always
// balanced), and links keep only http, https and mailto URLs or local paths, so a runbook can neither run script
// nor break out of its container. Anything it does not know is shown as the text it is. Work is linear in the
// input (times a small nesting bound), so a hostile runbook cannot make rendering slow.

// Nesting bounds: deeper block quotes and lists, and deeper inline markup, are shown as text.
const (
	mdMaxBlockDepth  = 12
	mdMaxInlineDepth = 4
)

// renderMarkdown renders Markdown source as HTML. Headings start at level headingBase (h1 in the source becomes
// h<headingBase>, capped at h6), so a document fits under the page's own heading.
func renderMarkdown(src string, headingBase int) template.HTML {
	src = strings.ToValidUTF8(src, "\uFFFD")
	src = strings.ReplaceAll(src, "\x00", "\uFFFD")
	src = strings.ReplaceAll(strings.ReplaceAll(src, "\r\n", "\n"), "\r", "\n")
	r := &mdRenderer{headingBase: max(1, min(headingBase, 6))}
	r.blocks(strings.Split(src, "\n"), 0)
	return template.HTML(r.b.String()) //nolint:gosec // every text is escaped; the tags are the renderer's own
}

type mdRenderer struct {
	b           strings.Builder
	headingBase int
}

// esc writes text escaped for HTML content.
func (r *mdRenderer) esc(s string) { r.b.WriteString(html.EscapeString(s)) }

// indentOf returns the width of the line's leading white space (a tab counts as reaching the next multiple of
// 4) and the rest of the line.
func indentOf(line string) (int, string) {
	w := 0
	for i, c := range line {
		switch c {
		case ' ':
			w++
		case '\t':
			w += 4 - w%4
		default:
			return w, line[i:]
		}
	}
	return w, ""
}

// dedent removes n columns of leading white space (less if the line has less).
func dedent(line string, n int) string {
	w := 0
	for i, c := range line {
		if w >= n {
			return line[i:]
		}
		switch c {
		case ' ':
			w++
		case '\t':
			w += 4 - w%4
			if w > n { // a tab that spans the cut keeps its remaining columns as spaces
				return strings.Repeat(" ", w-n) + line[i+1:]
			}
		default:
			return line[i:]
		}
	}
	return ""
}

func blank(line string) bool { return strings.TrimSpace(line) == "" }

// fence reports a code fence opener or closer: its character and length (0 when the line is none).
func fence(line string) (byte, int, string) {
	ind, rest := indentOf(line)
	if ind > 3 || len(rest) < 3 || (rest[0] != '`' && rest[0] != '~') {
		return 0, 0, ""
	}
	c := rest[0]
	n := 0
	for n < len(rest) && rest[n] == c {
		n++
	}
	if n < 3 || (c == '`' && strings.Contains(rest[n:], "`")) {
		return 0, 0, ""
	}
	return c, n, strings.TrimSpace(rest[n:])
}

// heading reports an ATX heading: its level (0 when the line is none) and text.
func heading(line string) (int, string) {
	ind, rest := indentOf(line)
	if ind > 3 {
		return 0, ""
	}
	n := 0
	for n < len(rest) && rest[n] == '#' {
		n++
	}
	if n == 0 || n > 6 || (n < len(rest) && rest[n] != ' ' && rest[n] != '\t') {
		return 0, ""
	}
	text := strings.TrimSpace(rest[n:])
	// A closing run of #s preceded by a space is not part of the text.
	if t := strings.TrimRight(text, "#"); t != text && (t == "" || strings.HasSuffix(t, " ")) {
		text = strings.TrimSpace(t)
	}
	return n, text
}

func rule(line string) bool {
	ind, rest := indentOf(line)
	if ind > 3 || rest == "" {
		return false
	}
	c := rest[0]
	if c != '-' && c != '*' && c != '_' {
		return false
	}
	n := 0
	for i := 0; i < len(rest); i++ {
		switch rest[i] {
		case c:
			n++
		case ' ', '\t':
		default:
			return false
		}
	}
	return n >= 3
}

// listItem reports a list item's marker: ordered, its number, the marker's character (-, *, + or . and ) for
// numbers), the column where the content starts, and the content. ok is false when the line is no item.
type listMarker struct {
	ordered bool
	start   int
	char    byte
	indent  int // the marker's own indentation
	content int // the content's column
	text    string
}

func listItem(line string) (listMarker, bool) {
	ind, rest := indentOf(line)
	if rest == "" {
		return listMarker{}, false
	}
	m := listMarker{indent: ind}
	var width int
	switch c := rest[0]; {
	case c == '-' || c == '*' || c == '+':
		m.char, width = c, 1
	case c >= '0' && c <= '9':
		n := 0
		for n < len(rest) && n < 9 && rest[n] >= '0' && rest[n] <= '9' {
			n++
		}
		if n >= len(rest) || (rest[n] != '.' && rest[n] != ')') {
			return listMarker{}, false
		}
		m.ordered, m.char, width = true, rest[n], n+1
		m.start, _ = strconv.Atoi(rest[:n])
	default:
		return listMarker{}, false
	}
	after := rest[width:]
	if after != "" && after[0] != ' ' && after[0] != '\t' {
		return listMarker{}, false
	}
	sp, text := indentOf(after)
	switch {
	case text == "": // an empty item
		m.content, m.text = ind+width+1, ""
	case sp > 4: // the content is indented code: one space belongs to the marker
		m.content, m.text = ind+width+1, dedent(after, 1)
	default:
		m.content, m.text = ind+width+sp, text
	}
	return m, true
}

// tableRow splits a pipe table row into its cells; delimiter reports a |---|:---:| row.
func tableCells(line string) []string {
	s := strings.TrimSpace(line)
	s = strings.TrimPrefix(s, "|")
	if strings.HasSuffix(s, "|") && !strings.HasSuffix(s, `\|`) {
		s = s[:len(s)-1]
	}
	var cells []string
	var cur strings.Builder
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\\' && i+1 < len(s) && s[i+1] == '|':
			cur.WriteByte('|')
			i++
		case s[i] == '|':
			cells = append(cells, strings.TrimSpace(cur.String()))
			cur.Reset()
		default:
			cur.WriteByte(s[i])
		}
	}
	return append(cells, strings.TrimSpace(cur.String()))
}

func tableDelimiter(line string) bool {
	if !strings.Contains(line, "-") {
		return false
	}
	for _, c := range tableCells(line) {
		c = strings.TrimSuffix(strings.TrimPrefix(c, ":"), ":")
		if c == "" || strings.Trim(c, "-") != "" {
			return false
		}
	}
	return true
}

// startsBlock reports whether line begins a block that interrupts a paragraph.
func startsBlock(line string) bool {
	if c, _, _ := fence(line); c != 0 {
		return true
	}
	if n, _ := heading(line); n > 0 {
		return true
	}
	if rule(line) {
		return true
	}
	_, rest := indentOf(line)
	if strings.HasPrefix(rest, ">") {
		return true
	}
	m, ok := listItem(line)
	return ok && m.text != "" && (!m.ordered || m.start == 1)
}

// blocks renders a sequence of lines as blocks.
func (r *mdRenderer) blocks(lines []string, depth int) {
	if depth > mdMaxBlockDepth {
		r.b.WriteString("<p>")
		r.esc(strings.TrimSpace(strings.Join(lines, "\n")))
		r.b.WriteString("</p>")
		return
	}
	for i := 0; i < len(lines); {
		line := lines[i]
		if blank(line) {
			i++
			continue
		}
		ind, rest := indentOf(line)
		if c, n, _ := fence(line); c != 0 {
			i++
			var code []string
			for ; i < len(lines); i++ {
				if c2, n2, info := fence(lines[i]); c2 == c && n2 >= n && info == "" {
					i++
					break
				}
				code = append(code, dedent(lines[i], ind))
			}
			r.code(code)
			continue
		}
		if n, text := heading(line); n > 0 {
			lvl := strconv.Itoa(min(6, n+r.headingBase-1))
			r.b.WriteString("<h" + lvl + ">")
			r.inline(text, 0)
			r.b.WriteString("</h" + lvl + ">")
			i++
			continue
		}
		if rule(line) {
			r.b.WriteString("<hr>")
			i++
			continue
		}
		if ind <= 3 && strings.HasPrefix(rest, ">") {
			var inner []string
			for ; i < len(lines); i++ {
				ind2, rest2 := indentOf(lines[i])
				if ind2 > 3 || !strings.HasPrefix(rest2, ">") {
					break
				}
				rest2 = rest2[1:]
				if strings.HasPrefix(rest2, " ") {
					rest2 = rest2[1:]
				}
				inner = append(inner, rest2)
			}
			r.b.WriteString("<blockquote>")
			r.blocks(inner, depth+1)
			r.b.WriteString("</blockquote>")
			continue
		}
		if m, ok := listItem(line); ok && ind <= 3 {
			i = r.list(lines, i, m, depth)
			continue
		}
		if ind >= 4 {
			var code []string
			for ; i < len(lines); i++ {
				if w, _ := indentOf(lines[i]); w < 4 && !blank(lines[i]) {
					break
				}
				code = append(code, dedent(lines[i], 4))
			}
			for len(code) > 0 && blank(code[len(code)-1]) {
				code = code[:len(code)-1]
			}
			r.code(code)
			continue
		}
		if strings.Contains(line, "|") && i+1 < len(lines) && tableDelimiter(lines[i+1]) {
			i = r.table(lines, i)
			continue
		}
		var para []string
		for ; i < len(lines) && !blank(lines[i]); i++ {
			if len(para) > 0 && startsBlock(lines[i]) {
				break
			}
			para = append(para, strings.TrimSpace(lines[i]))
		}
		r.b.WriteString("<p>")
		r.inline(strings.Join(para, "\n"), 0)
		r.b.WriteString("</p>")
	}
}

func (r *mdRenderer) code(lines []string) {
	r.b.WriteString("<pre><code>")
	for _, l := range lines {
		r.esc(l)
		r.b.WriteByte('\n')
	}
	r.b.WriteString("</code></pre>")
}

// list renders the list that starts at lines[i] with marker m and returns the index after it. An item holds the
// lines indented at least to its content's column (and lazy continuations of its paragraph); a blank line inside
// or between items makes the list loose (items' paragraphs in <p>).
func (r *mdRenderer) list(lines []string, i int, m listMarker, depth int) int {
	sibling := func(l string) bool {
		next, ok := listItem(l)
		return ok && next.ordered == m.ordered && next.char == m.char && next.indent < m.content
	}
	var items [][]string
	loose := false
	for i < len(lines) && sibling(lines[i]) {
		cur, _ := listItem(lines[i])
		item := []string{cur.text}
		i++
		sawBlank := false
		for ; i < len(lines); i++ {
			l := lines[i]
			if blank(l) {
				sawBlank = true
				item = append(item, "")
				continue
			}
			if w, _ := indentOf(l); w >= cur.content {
				item = append(item, dedent(l, cur.content))
				continue
			}
			if _, isItem := listItem(l); !sawBlank && !isItem && !startsBlock(l) { // a lazy continuation line
				item = append(item, strings.TrimSpace(l))
				continue
			}
			break
		}
		trailing := false
		for len(item) > 1 && blank(item[len(item)-1]) {
			item, trailing = item[:len(item)-1], true
		}
		for _, l := range item[1:] {
			if blank(l) {
				loose = true
			}
		}
		items = append(items, item)
		if trailing {
			if i < len(lines) && sibling(lines[i]) {
				loose = true
				continue
			}
			break
		}
	}
	tag := "ul"
	switch {
	case !m.ordered:
		r.b.WriteString("<ul>")
	case m.start != 1:
		tag = "ol"
		r.b.WriteString(`<ol start="` + strconv.Itoa(m.start) + `">`)
	default:
		tag = "ol"
		r.b.WriteString("<ol>")
	}
	for _, item := range items {
		r.b.WriteString("<li>")
		if loose {
			r.blocks(item, depth+1)
		} else {
			// A tight item: its first paragraph is not wrapped in <p>.
			n := 0
			for n < len(item) && !blank(item[n]) && !startsBlock(item[n]) {
				if w, _ := indentOf(item[n]); w >= 4 {
					break
				}
				n++
			}
			if n > 0 {
				para := make([]string, n)
				for j, l := range item[:n] {
					para[j] = strings.TrimSpace(l)
				}
				r.inline(strings.Join(para, "\n"), 0)
			}
			r.blocks(item[n:], depth+1)
		}
		r.b.WriteString("</li>")
	}
	r.b.WriteString("</" + tag + ">")
	return i
}

func (r *mdRenderer) table(lines []string, i int) int {
	head := tableCells(lines[i])
	i += 2
	r.b.WriteString("<table><thead><tr>")
	for _, c := range head {
		r.b.WriteString("<th>")
		r.inline(c, 0)
		r.b.WriteString("</th>")
	}
	r.b.WriteString("</tr></thead><tbody>")
	for ; i < len(lines) && !blank(lines[i]) && strings.Contains(lines[i], "|"); i++ {
		cells := tableCells(lines[i])
		r.b.WriteString("<tr>")
		for j := range head {
			r.b.WriteString("<td>")
			if j < len(cells) {
				r.inline(cells[j], 0)
			}
			r.b.WriteString("</td>")
		}
		r.b.WriteString("</tr>")
	}
	r.b.WriteString("</tbody></table>")
	return i
}

// ---- inline ----

const mdPunct = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"

// safeHref returns the URL if a link may point there (http, https, mailto, or a path on this site), else "".
func safeHref(u string) string {
	u = strings.TrimSpace(u)
	if strings.HasPrefix(u, "<") && strings.HasSuffix(u, ">") {
		u = u[1 : len(u)-1]
	}
	if u == "" || strings.ContainsAny(u, " \t\n<>\"`\\") {
		return ""
	}
	for _, c := range u {
		if c < 0x20 || c == 0x7f {
			return ""
		}
	}
	lower := strings.ToLower(u)
	switch {
	case strings.HasPrefix(lower, "https://"), strings.HasPrefix(lower, "http://"), strings.HasPrefix(lower, "mailto:"):
		return u
	case strings.HasPrefix(u, "/") && !strings.HasPrefix(u, "//"), strings.HasPrefix(u, "#"):
		return u
	}
	return ""
}

func (r *mdRenderer) link(href string, text func()) {
	r.b.WriteString(`<a href="`)
	r.b.WriteString(html.EscapeString(href))
	r.b.WriteString(`" rel="nofollow noopener noreferrer">`)
	text()
	r.b.WriteString("</a>")
}

// inline renders the text of a paragraph, heading, item or cell.
func (r *mdRenderer) inline(s string, depth int) {
	if depth > mdMaxInlineDepth {
		r.esc(s)
		return
	}
	failedTicks := map[int]bool{} // code span openers of this length that have no closer from here on
	nextClose := -2               // the cached index of the next ']' (-1: none), for links
	parenFail := -1               // the nextClose after which no ')' follows
	nextGT := -2                  // the cached index of the next '>' (-1: none), for <autolinks>
	var text strings.Builder      // plain text not written yet
	flush := func() {
		r.esc(text.String())
		text.Reset()
	}
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s) && strings.IndexByte(mdPunct, s[i+1]) >= 0:
			text.WriteByte(s[i+1])
			i += 2
			continue
		case c == '\\' && i+1 < len(s) && s[i+1] == '\n':
			flush()
			r.b.WriteString("<br>")
			i += 2
			continue
		case c == '`':
			n := 0
			for i+n < len(s) && s[i+n] == '`' {
				n++
			}
			if !failedTicks[n] {
				if end := closingTicks(s, i+n, n); end >= 0 {
					code := s[i+n : end]
					if len(code) > 2 && code[0] == ' ' && code[len(code)-1] == ' ' && strings.Trim(code, " ") != "" {
						code = code[1 : len(code)-1]
					}
					flush()
					r.b.WriteString("<code>")
					r.esc(strings.ReplaceAll(code, "\n", " "))
					r.b.WriteString("</code>")
					i = end + n
					continue
				}
				failedTicks[n] = true
			}
			text.WriteString(s[i : i+n])
			i += n
			continue
		case c == '*' || c == '_':
			if end, n, ok := emphasis(s, i); ok {
				flush()
				tag := "em"
				if n == 2 {
					tag = "strong"
				}
				r.b.WriteString("<" + tag + ">")
				r.inline(s[i+n:end], depth+1)
				r.b.WriteString("</" + tag + ">")
				i = end + n
				continue
			}
			n := 1
			for i+n < len(s) && s[i+n] == c {
				n++
			}
			text.WriteString(s[i : i+n])
			i += n
			continue
		case c == '[':
			if nextClose != -1 && nextClose <= i {
				if j := strings.IndexByte(s[i:], ']'); j >= 0 {
					nextClose = i + j
				} else {
					nextClose = -1
				}
			}
			if nextClose > i && nextClose+1 < len(s) && s[nextClose+1] == '(' && parenFail != nextClose {
				j := strings.IndexByte(s[nextClose+2:], ')')
				if j < 0 {
					parenFail = nextClose
				} else {
					label := s[i+1 : nextClose]
					target := s[nextClose+2 : nextClose+2+j]
					if f := strings.Fields(target); len(f) > 0 {
						target = f[0] // a title after the URL is dropped
					}
					end := nextClose + 2 + j + 1
					if href := safeHref(target); href != "" && !strings.Contains(label, "[") {
						flush()
						r.link(href, func() { r.esc(label) })
					} else {
						text.WriteString(s[i:end])
					}
					i = end
					continue
				}
			}
		case c == '<':
			if nextGT != -1 && nextGT <= i {
				if j := strings.IndexByte(s[i:], '>'); j >= 0 {
					nextGT = i + j
				} else {
					nextGT = -1
				}
			}
			if nextGT > i && nextGT-i < 2048 {
				if href := safeHref(s[i+1 : nextGT]); href != "" && strings.Contains(href, ":") {
					flush()
					r.link(href, func() { r.esc(href) })
					i = nextGT + 1
					continue
				}
			}
		case c == 'h' && (i == 0 || !isWordByte(s[i-1])) &&
			(strings.HasPrefix(s[i:], "https://") || strings.HasPrefix(s[i:], "http://")):
			end := i
			for end < len(s) && s[end] > ' ' && s[end] != 0x7f && strings.IndexByte("<>\"`\\", s[end]) < 0 {
				end++
			}
			for end > i && strings.IndexByte(".,;:!?)'*_", s[end-1]) >= 0 {
				end--
			}
			if href := safeHref(s[i:end]); href != "" && end-i > len("https://") {
				flush()
				r.link(href, func() { r.esc(href) })
				i = end
				continue
			}
		}
		_, size := utf8.DecodeRuneInString(s[i:])
		text.WriteString(s[i : i+size])
		i += size
	}
	flush()
}

func isWordByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80
}

// closingTicks finds the next run of exactly n backticks at or after from; -1 when there is none.
func closingTicks(s string, from, n int) int {
	for i := from; i < len(s); {
		j := strings.IndexByte(s[i:], '`')
		if j < 0 {
			return -1
		}
		i += j
		k := 0
		for i+k < len(s) && s[i+k] == '`' {
			k++
		}
		if k == n {
			return i
		}
		i += k
	}
	return -1
}

// emphasis finds the closer of emphasis opened at s[i] (* or _, once or twice): the closer's index and the
// delimiter length. The opener must be followed by non-space and the closer preceded by non-space; _ only
// delimits at word boundaries (snake_case stays as it is).
func emphasis(s string, i int) (end, n int, ok bool) {
	c := s[i]
	n = 1
	if i+1 < len(s) && s[i+1] == c {
		n = 2
	}
	if i+n < len(s) && s[i+n] == c { // three or more: leave as text
		return 0, 0, false
	}
	if i+n >= len(s) || s[i+n] == ' ' || s[i+n] == '\n' || s[i+n] == '\t' {
		return 0, 0, false
	}
	if c == '_' && i > 0 && isWordByte(s[i-1]) {
		return 0, 0, false
	}
	delim := s[i : i+n]
	for from := i + n; from < len(s); {
		j := strings.Index(s[from:], delim)
		if j < 0 {
			return 0, 0, false
		}
		k := from + j
		// A single delimiter must not be half of a double one.
		if n == 1 && k+1 < len(s) && s[k+1] == c {
			if k+2 < len(s) && s[k+2] == c {
				return 0, 0, false
			}
			from = k + 2
			continue
		}
		prev := s[k-1]
		if k > i+n && prev != ' ' && prev != '\n' && prev != '\t' &&
			(c != '_' || k+n >= len(s) || !isWordByte(s[k+n])) {
			return k, n, true
		}
		return 0, 0, false
	}
	return 0, 0, false
}
