package firebreak

import (
	"fmt"
	"strings"
	"time"
)

// PostmortemMarkdown renders a post-mortem as a Markdown document (CommonMark with GFM tables). Every piece of
// user text is escaped, so text such as "# not a heading" or "<script>" or "[x](javascript:…)" stays text.
func PostmortemMarkdown(pm *Postmortem) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	section := func(title string) { w("\n## %s\n\n", title) }
	para := func(s, empty string) {
		if strings.TrimSpace(s) == "" {
			w("_%s_\n", empty)
			return
		}
		w("%s\n", MarkdownBlock(s))
	}
	list := func(items []string, empty string) {
		if len(items) == 0 {
			w("_%s_\n", empty)
			return
		}
		for _, it := range items {
			w("- %s\n", MarkdownInline(it))
		}
	}
	f := pm.Facts

	w("# Post-mortem: %s (%s)\n\n", MarkdownInline(pm.Title), pm.IncidentRef)
	w("- **Status:** %s\n", pm.Status)
	w("- **Severity:** %s\n", f.Severity)
	w("- **Services:** %s\n", orNone(mdJoin(f.Services)))
	if pm.PublishedAt != nil {
		w("- **Published:** %s\n", mdTime(pm.PublishedAt))
	}
	if pm.FollowUpAt != nil {
		w("- **Follow-up review:** %s\n", mdTime(pm.FollowUpAt))
	}
	w("- **Version:** %d\n", pm.Version)

	section("Summary")
	para(pm.Summary, "No summary yet.")

	section("Impact")
	users := "unknown"
	if pm.Impact.UsersAffected != nil {
		users = fmt.Sprint(*pm.Impact.UsersAffected)
		if pm.Impact.UsersEstimated {
			users += " (estimated)"
		}
	}
	w("- **Users affected:** %s\n", users)
	w("- **Duration:** %s\n", FormatSeconds(pm.Impact.DurationSeconds))
	dl := yesNo(pm.Impact.DataLoss)
	if pm.Impact.DataLoss && strings.TrimSpace(pm.Impact.DataLossDetails) != "" {
		dl += ": " + MarkdownInline(pm.Impact.DataLossDetails)
	}
	w("- **Data loss:** %s\n", dl)
	w("- **Customer-facing:** %s\n\n", yesNo(pm.Impact.CustomerFacing))
	para(pm.Impact.Description, "No impact description yet.")

	section("Key times")
	w("| Milestone | Time |\n|---|---|\n")
	m := f.Milestones
	for _, r := range []struct {
		name string
		t    *time.Time
	}{{"Impact started", m.ImpactStartedAt}, {"Detected", m.DetectedAt}, {"Declared", m.DeclaredAt},
		{"Acknowledged", m.AcknowledgedAt}, {"Mitigated", m.MitigatedAt}, {"Resolved", m.ResolvedAt}} {
		w("| %s | %s |\n", r.name, mdTime(r.t))
	}
	w("\n| Duration | Value |\n|---|---|\n")
	w("| Time to detect | %s |\n| Time to acknowledge | %s |\n| Time to mitigate | %s |\n| Time to resolve | %s |\n",
		FormatSeconds(f.Durations.DetectSeconds), FormatSeconds(f.Durations.AcknowledgeSeconds),
		FormatSeconds(f.Durations.MitigateSeconds), FormatSeconds(f.Durations.ResolveSeconds))

	section("Severity history")
	for _, c := range f.SeverityHistory {
		if c.From == "" {
			w("- %s: declared as %s\n", pmTime(c.At), c.To)
		} else {
			w("- %s: %s → %s (%s)\n", pmTime(c.At), c.From, c.To, MarkdownInline(c.Actor))
		}
	}
	if len(f.SeverityHistory) == 0 {
		w("_None recorded._\n")
	}

	section("Responders")
	if len(f.Responders) == 0 {
		w("_None recorded._\n")
	}
	for _, r := range f.Responders {
		var roles []string
		for _, role := range r.Roles {
			roles = append(roles, role.Title())
		}
		if len(roles) > 0 {
			w("- %s (%s)\n", MarkdownInline(r.User), strings.Join(roles, ", "))
		} else {
			w("- %s\n", MarkdownInline(r.User))
		}
	}

	section("Lead-up")
	para(pm.LeadUp, "Not written yet.")
	section("Trigger")
	para(pm.Trigger, "Not written yet.")
	section("Detection")
	para(pm.Detection.Narrative, "Not written yet.")
	w("\n**Detected by a customer:** %s\n\n**Why didn't we know sooner?**\n\n", yesNo(pm.Detection.DetectedByCustomer))
	para(pm.Detection.Gap, "Not answered yet.")
	section("Response")
	para(pm.Response, "Not written yet.")
	section("Recovery")
	para(pm.Recovery, "Not written yet.")

	section("Timeline")
	var entries []TimelineEvent
	for _, e := range f.Timeline {
		if pm.TimelineScope != "starred" || e.Starred {
			entries = append(entries, e)
		}
	}
	if len(entries) == 0 {
		w("_No entries._\n")
	} else {
		w("| Time (UTC) | Event | By |\n|---|---|---|\n")
		for _, e := range entries {
			star := ""
			if e.Starred {
				star = "★ "
			}
			w("| %s | %s%s | %s |\n", e.OccurredAt.UTC().Format("2006-01-02 15:04:05"), star,
				MarkdownCell(e.Message), MarkdownCell(e.Actor))
		}
	}

	if len(f.Updates) > 0 {
		section("Status updates")
		for _, u := range f.Updates {
			w("- %s (%s, %s): %s\n", pmTime(u.CreatedAt), u.Audience, u.Status, MarkdownInline(u.Message))
		}
	}
	if len(f.Alerts) > 0 {
		section("Alerts")
		for _, a := range f.Alerts {
			w("- %s [%s] %s (%s)\n", pmTime(a.FirstSeenAt), a.Severity, MarkdownInline(a.Summary), a.Status)
		}
	}
	if len(f.Changes) > 0 {
		section("Changes before impact")
		for _, c := range f.Changes {
			w("- %s %s: %s\n", pmTime(c.OccurredAt), MarkdownInline(c.Service), MarkdownInline(c.Summary))
		}
	}

	section("Contributing factors")
	if len(pm.ContributingFactors) == 0 {
		w("_None yet._\n")
	}
	for i, c := range pm.ContributingFactors {
		primary := ""
		if c.PrimaryTrigger {
			primary = " (primary trigger)"
		}
		w("%d. **%s**%s: %s\n", i+1, MarkdownInline(c.Category.Title()), primary, MarkdownInline(c.Description))
		for _, l := range c.Evidence {
			w("   - Evidence: %s\n", MarkdownLink(l))
		}
	}

	if len(pm.FiveWhys) > 0 {
		section("Five whys")
		for i, c := range pm.FiveWhys {
			title := c.Title
			if strings.TrimSpace(title) == "" {
				title = fmt.Sprintf("Chain %d", i+1)
			}
			w("### %s\n\n", MarkdownInline(title))
			writeWhyTree(&b, c, "", 0)
			w("\n")
		}
	}

	section("What went well")
	list(pm.WentWell, "None listed.")
	section("What went poorly")
	list(pm.WentPoorly, "None listed.")
	section("Where we got lucky")
	list(pm.GotLucky, "None listed.")
	section("Lessons learned")
	list(pm.Lessons, "None listed.")

	section("Action items")
	if len(pm.ActionItems) == 0 {
		w("_None yet._\n")
	} else {
		w("| Action | Kind | Priority | Owner | Due | Status |\n|---|---|---|---|---|---|\n")
		for _, a := range pm.ActionItems {
			w("| %s | %s | %s | %s | %s | %s |\n", MarkdownCell(a.Title), a.Kind, a.Priority,
				orNone(MarkdownCell(a.Owner)), orNone(a.DueDate), a.Status)
		}
	}

	section("Review")
	if len(pm.Reviewers) == 0 {
		w("_No reviewers named._\n")
	}
	for _, r := range pm.Reviewers {
		role := "reviewer"
		if r.Approver {
			role = "approver"
		}
		state := ""
		if r.ApprovedAt != nil {
			state = ", approved " + mdTime(r.ApprovedAt)
		}
		w("- %s (%s%s)\n", MarkdownInline(r.User), role, state)
	}
	for _, o := range pm.Overrides {
		w("- Lint override by %s on %s: %s\n", MarkdownInline(o.By), orNone(MarkdownInline(o.Field)),
			MarkdownInline(o.Reason))
	}
	w("\n**Follow-up review:** %s\n", mdTime(pm.FollowUpAt))
	if pm.FollowUpNotes != "" {
		w("\n%s\n", MarkdownBlock(pm.FollowUpNotes))
	}
	return b.String()
}

func writeWhyTree(b *strings.Builder, c WhyChain, parent string, depth int) {
	if depth > MaxWhySteps {
		return
	}
	for _, s := range c.Steps {
		if s.ParentID != parent {
			continue
		}
		ind := strings.Repeat("  ", depth)
		fmt.Fprintf(b, "%s- **Why?** %s\n%s  **Because** %s\n", ind, MarkdownInline(s.Question), ind,
			MarkdownInline(s.Answer))
		writeWhyTree(b, c, s.ID, depth+1)
	}
}

// markdownSpecial are the characters escaped anywhere in text.
const markdownSpecial = "\\`*_[]<>|~&"

// MarkdownInline escapes text for use inside one Markdown line (newlines become spaces).
func MarkdownInline(s string) string {
	s = oneLine(s)
	var b strings.Builder
	for i, r := range s {
		if strings.ContainsRune(markdownSpecial, r) {
			b.WriteByte('\\')
		} else if i == 0 && strings.ContainsRune("#+-=>", r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return escapeOrderedMarker(b.String())
}

// MarkdownCell escapes text for a table cell.
func MarkdownCell(s string) string { return MarkdownInline(s) }

// MarkdownBlock escapes multi-line text line by line, keeping its paragraphs (blank lines) and line breaks.
func MarkdownBlock(s string) string {
	lines := strings.Split(strings.ReplaceAll(strings.TrimSpace(s), "\r\n", "\n"), "\n")
	for i, l := range lines {
		l = strings.TrimRight(l, " \t")
		if strings.TrimSpace(l) == "" {
			lines[i] = ""
			continue
		}
		// Keep a leading "- " list as a list (the draft's lead-up uses one), escape the rest.
		if rest, ok := strings.CutPrefix(strings.TrimLeft(l, " "), "- "); ok {
			lines[i] = "- " + MarkdownInline(rest)
			continue
		}
		lines[i] = MarkdownInline(strings.TrimLeft(l, " \t"))
		// A hard line break (CommonMark) keeps lines as lines, unless a blank line or a list follows.
		if i+1 < len(lines) {
			if next := strings.TrimSpace(lines[i+1]); next != "" && !strings.HasPrefix(next, "- ") {
				lines[i] += "\\"
			}
		}
	}
	return strings.Join(lines, "\n")
}

// escapeOrderedMarker escapes "12. " or "3) " at the start, which would start an ordered list.
func escapeOrderedMarker(s string) string {
	i := 0
	for i < len(s) && i < 9 && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i > 0 && i < len(s) && (s[i] == '.' || s[i] == ')') {
		return s[:i] + "\\" + s[i:]
	}
	return s
}

// MarkdownLink renders a link whose destination is an http(s) URL or a #fragment; anything else is text.
func MarkdownLink(u string) string {
	if !validLink(u) {
		return MarkdownInline(u)
	}
	dest := strings.NewReplacer(" ", "%20", "<", "%3C", ">", "%3E", "\n", "", "(", "%28", ")", "%29").Replace(u)
	return "[" + MarkdownInline(u) + "](<" + dest + ">)"
}

func mdJoin(xs []string) string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = MarkdownInline(x)
	}
	return strings.Join(out, ", ")
}

func mdTime(t *time.Time) string {
	if t == nil {
		return "–"
	}
	return pmTime(*t)
}

func orNone(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
