package web

import (
	"html"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestRenderMarkdown(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"# Failover\n\nPromote the **replica**.", "<h2>Failover</h2><p>Promote the <strong>replica</strong>.</p>"},
		{"### Three ###", "<h4>Three</h4>"},
		{"####### seven", "<p>####### seven</p>"},
		{"#hashtag", "<p>#hashtag</p>"},
		{"a *b* _c_ snake_case_name __d__", "<p>a <em>b</em> <em>c</em> snake_case_name <strong>d</strong></p>"},
		{"2 * 3 * 4", "<p>2 * 3 * 4</p>"},
		{"- one\n- two\n  continued\n- three", "<ul><li>one</li><li>two\ncontinued</li><li>three</li></ul>"},
		{"1. check\n2. promote\n\n3. verify", "<ol><li><p>check</p></li><li><p>promote</p></li><li><p>verify</p></li></ol>"},
		{"3) start\n4) next", `<ol start="3"><li>start</li><li>next</li></ol>`},
		{"- a\n  - b\n  - c\n- d", "<ul><li>a<ul><li>b</li><li>c</li></ul></li><li>d</li></ul>"},
		{"1. Stop writes:\n   ```\n   pg_ctl stop\n   ```\n2. Done", "<ol><li>Stop writes:<pre><code>pg_ctl stop\n</code></pre></li><li>Done</li></ol>"},
		{"```sh\nkubectl get pods <ns>\n```", "<pre><code>kubectl get pods &lt;ns&gt;\n</code></pre>"},
		{"~~~\nunclosed", "<pre><code>unclosed\n</code></pre>"},
		{"    indented\n    code", "<pre><code>indented\ncode\n</code></pre>"},
		{"> quoted\n> **bold**", "<blockquote><p>quoted\n<strong>bold</strong></p></blockquote>"},
		{"text\n---\nmore", "<p>text</p><hr><p>more</p>"},
		{"Run `rm -rf /tmp/<x>` now", "<p>Run <code>rm -rf /tmp/&lt;x&gt;</code> now</p>"},
		{"``a ` b``", "<p><code>a ` b</code></p>"},
		{"[dash](https://grafana.example.com/d/x?a=1&b=2)",
			`<p><a href="https://grafana.example.com/d/x?a=1&amp;b=2" rel="nofollow noopener noreferrer">dash</a></p>`},
		{"[local](/incidents/INC-7) [anchor](#step-2)",
			`<p><a href="/incidents/INC-7" rel="nofollow noopener noreferrer">local</a> <a href="#step-2" rel="nofollow noopener noreferrer">anchor</a></p>`},
		{"[x](javascript:alert(1)) [y](//evil.example) [z](data:text/html,hi)",
			"<p>[x](javascript:alert(1)) [y](//evil.example) [z](data:text/html,hi)</p>"},
		{"see https://status.example.com/x. <mailto:oncall@example.com>",
			`<p>see <a href="https://status.example.com/x" rel="nofollow noopener noreferrer">https://status.example.com/x</a>. <a href="mailto:oncall@example.com" rel="nofollow noopener noreferrer">mailto:oncall@example.com</a></p>`},
		{"<script>alert(1)</script> <b onclick=x>", "<p>&lt;script&gt;alert(1)&lt;/script&gt; &lt;b onclick=x&gt;</p>"},
		{`\*not em\* a\\b`, `<p>*not em* a\b</p>`},
		{"| Step | Owner |\n|---|:-:|\n| Promote | DB team |\n| `check` \\| x |", "<table><thead><tr><th>Step</th><th>Owner</th></tr></thead><tbody><tr><td>Promote</td><td>DB team</td></tr><tr><td><code>check</code> | x</td><td></td></tr></tbody></table>"},
		{"a \"quote\" & 'apos'", "<p>a &#34;quote&#34; &amp; &#39;apos&#39;</p>"},
		{"", ""},
	} {
		if got := string(renderMarkdown(c.in, 2)); got != c.want {
			t.Errorf("renderMarkdown(%q)\n got %s\nwant %s", c.in, got, c.want)
		}
	}
}

// mdTagRE matches exactly the tags the renderer writes.
var mdTagRE = regexp.MustCompile(`</?(p|h[1-6]|ul|ol|li|pre|code|blockquote|strong|em|table|thead|tbody|tr|th|td|a)>` +
	`|<ol start="\d{1,9}">|<hr>|<br>|<a href="([^"<>]*)" rel="nofollow noopener noreferrer">`)

// checkMarkdownHTML fails unless out holds only the renderer's own tags, properly nested, with safe links and no
// markup from the input.
func checkMarkdownHTML(t *testing.T, in, out string) {
	t.Helper()
	if !utf8.ValidString(out) {
		t.Fatalf("output is not UTF-8 for %q", in)
	}
	var stack []string
	last := 0
	for _, m := range mdTagRE.FindAllStringSubmatchIndex(out, -1) {
		between := out[last:m[0]]
		if strings.ContainsAny(between, "<>\"'") {
			t.Fatalf("unescaped markup %q in output for %q:\n%s", between, in, out)
		}
		last = m[1]
		tag := out[m[0]:m[1]]
		var name string
		if m[2] >= 0 {
			name = out[m[2]:m[3]]
		} else { // <ol start>, <hr>, <br> or <a href>
			switch {
			case strings.HasPrefix(tag, "<ol"):
				name = "ol"
			case strings.HasPrefix(tag, "<a "):
				name = "a"
				href := html.UnescapeString(out[m[4]:m[5]])
				if safeHref(href) != href {
					t.Fatalf("unsafe link %q for %q", href, in)
				}
			default:
				continue // void elements
			}
		}
		if strings.HasPrefix(tag, "</") {
			if len(stack) == 0 || stack[len(stack)-1] != name {
				t.Fatalf("unbalanced %s (open: %v) for %q:\n%s", tag, stack, in, out)
			}
			stack = stack[:len(stack)-1]
		} else {
			if name == "a" && containsTag(stack, "a") {
				t.Fatalf("nested link for %q", in)
			}
			stack = append(stack, name)
		}
	}
	if rest := out[last:]; strings.ContainsAny(rest, "<>\"'") {
		t.Fatalf("unescaped markup %q at the end for %q", rest, in)
	}
	if len(stack) != 0 {
		t.Fatalf("unclosed %v for %q:\n%s", stack, in, out)
	}
}

func containsTag(stack []string, name string) bool {
	for _, s := range stack {
		if s == name {
			return true
		}
	}
	return false
}

func TestRenderMarkdownSafeOnHostileInput(t *testing.T) {
	for _, in := range markdownSeeds {
		checkMarkdownHTML(t, in, string(renderMarkdown(in, 2)))
	}
	// Pathological inputs stay linear: each is 100 kB and renders in one pass.
	for _, in := range []string{
		strings.Repeat("[", 100000) + "](",
		strings.Repeat("<", 100000),
		strings.Repeat("*a ", 33000),
		strings.Repeat("**a", 33000),
		strings.Repeat("`", 1000) + strings.Repeat("a`", 40000),
		strings.Repeat(">", 100000),
		strings.Repeat("- ", 50000),
		strings.Repeat("  - x\n", 15000),
		strings.Repeat("http://\\", 12000),
		strings.Repeat("_a", 50000),
		strings.Repeat("| a ", 20000) + "\n" + strings.Repeat("|---", 20000),
	} {
		checkMarkdownHTML(t, in[:min(40, len(in))], string(renderMarkdown(in, 1)))
	}
}

var markdownSeeds = []string{
	"# Failover\n\n1. Promote\n2. Verify\n\n```\ncode\n```\n",
	"<img src=x onerror=alert(1)>",
	"[a](javascript:alert(1))",
	"[a](https://x\" onclick=\"y)",
	"<javascript:alert(1)>",
	"**[x](https://a)**",
	"[**x**](https://a)",
	"[https://a](https://b)",
	"- > quote\n  > more\n- ```\n  x",
	"> - a\n> - b\n>\n> c",
	"1. a\n\n   b\n\n2. c",
	"* * *\n___",
	"|a|\n|-|\n|<b>|",
	"\x00\xff\xfe",
	"\t- tab\n\t\t- deeper",
	"```\n</code></pre><script>\n```",
	"`</code>`",
}

func FuzzRenderMarkdown(f *testing.F) {
	for _, s := range markdownSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		if len(in) > 20000 {
			return
		}
		checkMarkdownHTML(t, in, string(renderMarkdown(in, 2)))
	})
}
