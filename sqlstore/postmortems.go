package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	firebreak "github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/analysis"
)

// Post-mortems: one row per incident (postmortems) holding the document as JSON, and every saved version in
// postmortem_revisions. Every write locks the incident's row first (loadHead with lock), so saves of one
// post-mortem are serialized on both databases and the version check (If-Match) is exact.

var _ firebreak.PostmortemService = (*Store)(nil)

// maxDraftEvents caps the timeline entries a draft copies from the incident.
const maxDraftEvents = 2000

// pmDocument is what the document column holds: everything of a Postmortem that has no column of its own
// (action items are read live from action_items).
type pmDocument struct {
	firebreak.Sections
	Facts         firebreak.PostmortemFacts `json:"facts"`
	Reviewers     []firebreak.Reviewer      `json:"reviewers"`
	Lint          []firebreak.LintFinding   `json:"lint"`
	Overrides     []firebreak.LintOverride  `json:"lint_overrides"`
	FollowUpNotes string                    `json:"follow_up_notes,omitempty"`
}

const postmortemCols = `p.id, p.incident_id, i.number, p.status, p.title, p.document, p.follow_up_at,
	p.published_at, p.closed_at, p.created_by, p.created_at, p.updated_at, p.version, p.follow_up_reminded_at`

// scanPostmortem reads postmortemCols, then extra columns into extra.
func scanPostmortem(r rowScanner, extra ...any) (*firebreak.Postmortem, error) {
	var pm firebreak.Postmortem
	var number int64
	var doc string
	if err := r.Scan(append([]any{&pm.ID, &pm.IncidentID, &number, &pm.Status, &pm.Title, &doc,
		ntsCol(&pm.FollowUpAt), ntsCol(&pm.PublishedAt), ntsCol(&pm.ClosedAt), &pm.CreatedBy, tsCol(&pm.CreatedAt),
		tsCol(&pm.UpdatedAt), &pm.Version, ntsCol(&pm.FollowUpRemindedAt)}, extra...)...); err != nil {
		return nil, err
	}
	pm.IncidentRef = firebreak.IncidentRef(number)
	var d pmDocument
	if err := json.Unmarshal([]byte(doc), &d); err != nil {
		return nil, fmt.Errorf("decode post-mortem document: %w", err)
	}
	pm.Sections, pm.Facts, pm.Reviewers, pm.Lint, pm.Overrides, pm.FollowUpNotes = d.Sections, d.Facts,
		d.Reviewers, d.Lint, d.Overrides, d.FollowUpNotes
	normalizePostmortem(&pm)
	return &pm, nil
}

// normalizePostmortem turns nil lists into empty ones, so the JSON has [] rather than null.
func normalizePostmortem(pm *firebreak.Postmortem) {
	for _, l := range []*[]string{&pm.WentWell, &pm.WentPoorly, &pm.GotLucky, &pm.Lessons} {
		if *l == nil {
			*l = []string{}
		}
	}
	if pm.ContributingFactors == nil {
		pm.ContributingFactors = []firebreak.ContributingFactor{}
	}
	for i := range pm.ContributingFactors {
		if pm.ContributingFactors[i].Evidence == nil {
			pm.ContributingFactors[i].Evidence = []string{}
		}
	}
	if pm.FiveWhys == nil {
		pm.FiveWhys = []firebreak.WhyChain{}
	}
	if pm.Reviewers == nil {
		pm.Reviewers = []firebreak.Reviewer{}
	}
	if pm.Lint == nil {
		pm.Lint = []firebreak.LintFinding{}
	}
	if pm.Overrides == nil {
		pm.Overrides = []firebreak.LintOverride{}
	}
	if pm.ActionItems == nil {
		pm.ActionItems = []firebreak.ActionItem{}
	}
	if pm.TimelineScope == "" {
		pm.TimelineScope = "all"
	}
}

func encodePostmortem(pm *firebreak.Postmortem) (string, error) {
	b, err := json.Marshal(pmDocument{Sections: pm.Sections, Facts: pm.Facts, Reviewers: pm.Reviewers, Lint: pm.Lint,
		Overrides: pm.Overrides, FollowUpNotes: pm.FollowUpNotes})
	return string(b), err
}

// loadPostmortem reads the post-mortem of the incident with ID incidentID (ENotFound naming ref when none).
func (x q) loadPostmortem(incidentID, ref string) (*firebreak.Postmortem, error) {
	pm, err := scanPostmortem(x.row(`SELECT `+postmortemCols+` FROM postmortems p
		JOIN incidents i ON i.id = p.incident_id WHERE p.incident_id = ?`, incidentID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("incident %s has no post-mortem yet", ref)
	}
	if err != nil {
		return nil, wrap(err, "load post-mortem")
	}
	items, err := x.actionItems(incidentID)
	if err != nil {
		return nil, err
	}
	pm.ActionItems = items
	return pm, nil
}

func (x q) actionItems(incidentID string) ([]firebreak.ActionItem, error) {
	rows, err := x.query(`SELECT `+actionItemCols+` FROM action_items WHERE incident_id = ? ORDER BY created_at, id`,
		incidentID)
	if err != nil {
		return nil, wrap(err, "list action items")
	}
	defer rows.Close()
	out := []firebreak.ActionItem{}
	for rows.Next() {
		a, err := scanActionItem(rows)
		if err != nil {
			return nil, wrap(err, "list action items")
		}
		out = append(out, a)
	}
	return out, wrap(rows.Err(), "list action items")
}

// draftSources reads what a draft is made from; pending are events of the current transaction not yet written.
func (x q) draftSources(inc *firebreak.Incident, pending []firebreak.TimelineEvent) (firebreak.DraftSources, error) {
	src := firebreak.DraftSources{Incident: *inc}
	// The draft keeps at most maxDraftEvents entries (the earliest) so that every revision stays small.
	rows, err := x.query(`SELECT `+eventCols+` FROM timeline_events WHERE incident_id = ?
		ORDER BY occurred_at, id LIMIT ?`, inc.ID, maxDraftEvents)
	if err != nil {
		return src, wrap(err, "draft post-mortem")
	}
	for rows.Next() {
		ev, err := scanEvent(rows)
		if err != nil {
			rows.Close()
			return src, wrap(err, "draft post-mortem")
		}
		src.Timeline = append(src.Timeline, ev)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return src, wrap(err, "draft post-mortem")
	}
	for _, ev := range pending {
		ev.IncidentID = inc.ID
		src.Timeline = append(src.Timeline, ev)
	}
	slices.SortStableFunc(src.Timeline, func(a, b firebreak.TimelineEvent) int { return a.OccurredAt.Compare(b.OccurredAt) })

	rows, err = x.query(`SELECT id, incident_id, message, audience, status, author, created_at
		FROM status_updates WHERE incident_id = ? ORDER BY created_at, id`, inc.ID)
	if err != nil {
		return src, wrap(err, "draft post-mortem")
	}
	for rows.Next() {
		var u firebreak.StatusUpdate
		if err := rows.Scan(&u.ID, &u.IncidentID, &u.Message, &u.Audience, &u.Status, &u.Author,
			tsCol(&u.CreatedAt)); err != nil {
			rows.Close()
			return src, wrap(err, "draft post-mortem")
		}
		src.Updates = append(src.Updates, u)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return src, wrap(err, "draft post-mortem")
	}

	rows, err = x.query(`SELECT id, summary, severity, status, first_seen_at, resolved_at FROM alerts
		WHERE incident_id = ? ORDER BY first_seen_at, id LIMIT 200`, inc.ID)
	if err != nil {
		return src, wrap(err, "draft post-mortem")
	}
	for rows.Next() {
		var a firebreak.PostmortemAlert
		if err := rows.Scan(&a.ID, &a.Summary, &a.Severity, &a.Status, tsCol(&a.FirstSeenAt),
			ntsCol(&a.ResolvedAt)); err != nil {
			rows.Close()
			return src, wrap(err, "draft post-mortem")
		}
		src.Alerts = append(src.Alerts, a)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return src, wrap(err, "draft post-mortem")
	}

	// The changes of the affected services shortly before impact (as ChangesBefore, default window).
	if len(inc.Services) > 0 {
		declared := inc.CreatedAt
		if inc.Milestones.DeclaredAt != nil {
			declared = *inc.Milestones.DeclaredAt
		}
		start := declared
		if m := inc.Milestones.ImpactStartedAt; m != nil && m.Before(declared) {
			start = *m
		}
		args := anys(inc.Services)
		args = append(args, x.s.d.ts(start.Add(-firebreak.DefaultChangeWindow)), x.s.d.ts(declared), maxChangesBefore)
		rows, err = x.query(`SELECT `+changeCols+` FROM changes c JOIN services sv ON sv.id = c.service_id
			WHERE sv.slug IN (`+placeholders(len(inc.Services))+`) AND c.occurred_at >= ? AND c.occurred_at <= ?
			ORDER BY c.occurred_at DESC, c.id DESC LIMIT ?`, args...)
		if err != nil {
			return src, wrap(err, "draft post-mortem")
		}
		for rows.Next() {
			c, err := scanChange(rows)
			if err != nil {
				rows.Close()
				return src, wrap(err, "draft post-mortem")
			}
			src.Changes = append(src.Changes, c)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return src, wrap(err, "draft post-mortem")
		}
	}
	return src, nil
}

// people lists the names the blameless lint recognises: every user's username and display name.
func (x q) people() ([]string, error) {
	rows, err := x.query(`SELECT username, name FROM users`)
	if err != nil {
		return nil, wrap(err, "list users")
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var u, n string
		if err := rows.Scan(&u, &n); err != nil {
			return nil, wrap(err, "list users")
		}
		out = append(out, u)
		if strings.TrimSpace(n) != "" {
			out = append(out, n)
		}
	}
	return out, wrap(rows.Err(), "list users")
}

// relint runs the blameless lint over pm's text fields.
func (x q) relint(pm *firebreak.Postmortem) error {
	people, err := x.people()
	if err != nil {
		return err
	}
	for _, r := range pm.Facts.Responders {
		people = append(people, r.User)
	}
	pm.Lint = lintPostmortem(pm, people)
	return nil
}

// lintPostmortem is the single call site of the blameless lint (package analysis): narrative fields get
// warnings; cause fields (trigger, contributing factors) and the ends of five-whys chains may get blocking
// findings.
func lintPostmortem(pm *firebreak.Postmortem, people []string) []firebreak.LintFinding {
	items := postmortemFields(pm)
	out := []firebreak.LintFinding{}
	for _, f := range analysis.Lint(analysis.Fields{Items: items, People: people}) {
		out = append(out, firebreak.LintFinding{Field: f.Field, Rule: f.Rule, Severity: string(f.Severity),
			Start: f.Start, End: f.End, Words: f.Words, Message: f.Message, Suggestion: f.Suggestion})
	}
	return out
}

// postmortemFields are the non-empty text fields of a post-mortem, in document order, with what the lint treats
// them as.
func postmortemFields(pm *firebreak.Postmortem) []analysis.Field {
	var items []analysis.Field
	add := func(path, text string, kind analysis.Kind) {
		if strings.TrimSpace(text) != "" {
			items = append(items, analysis.Field{Path: path, Text: text, Kind: kind})
		}
	}
	add("summary", pm.Summary, analysis.KindNarrative)
	add("impact.description", pm.Impact.Description, analysis.KindNarrative)
	add("impact.data_loss_details", pm.Impact.DataLossDetails, analysis.KindNarrative)
	add("lead_up", pm.LeadUp, analysis.KindNarrative)
	add("trigger", pm.Trigger, analysis.KindCause)
	add("detection.narrative", pm.Detection.Narrative, analysis.KindNarrative)
	add("detection.gap", pm.Detection.Gap, analysis.KindNarrative)
	add("response", pm.Response, analysis.KindNarrative)
	add("recovery", pm.Recovery, analysis.KindNarrative)
	for i, f := range pm.ContributingFactors {
		add(fmt.Sprintf("contributing_factors[%d].description", i), f.Description, analysis.KindCause)
	}
	for i, c := range pm.FiveWhys {
		ends := c.Ends()
		for j, st := range c.Steps {
			add(fmt.Sprintf("five_whys[%d].steps[%d].question", i, j), st.Question, analysis.KindNarrative)
			kind := analysis.KindNarrative
			if slices.Contains(ends, j) {
				kind = analysis.KindWhyChainEnd
			}
			add(fmt.Sprintf("five_whys[%d].steps[%d].answer", i, j), st.Answer, kind)
		}
	}
	for name, l := range map[string][]string{"went_well": pm.WentWell, "went_poorly": pm.WentPoorly,
		"got_lucky": pm.GotLucky, "lessons_learned": pm.Lessons} {
		for i, s := range l {
			add(fmt.Sprintf("%s[%d]", name, i), s, analysis.KindNarrative)
		}
	}
	for i, a := range pm.ActionItems {
		add(fmt.Sprintf("action_items[%d].title", i), a.Title, analysis.KindActionItem)
	}
	// Map iteration above is unordered: keep the fields in a stable order.
	slices.SortStableFunc(items, func(a, b analysis.Field) int { return fieldOrder(a.Path) - fieldOrder(b.Path) })
	return items
}

// indexPostmortem replaces a post-mortem's rows in the knowledge-base search index (search_docs, kind
// 'postmortem'): its title and summary, and one row per other text field, in the same transaction as the save.
// (The indexes over search_docs follow by trigger on SQLite and by its stored search vector on PostgreSQL.)
func (t *txn) indexPostmortem(pm *firebreak.Postmortem) error {
	var incidentTitle string
	if err := t.row(`SELECT title FROM incidents WHERE id = ?`, pm.IncidentID).Scan(&incidentTitle); err != nil {
		return wrap(err, "index post-mortem")
	}
	if _, err := t.exec(`DELETE FROM search_docs WHERE kind = 'postmortem' AND doc_id = ?`, pm.ID); err != nil {
		return wrap(err, "index post-mortem")
	}
	ins := func(part, partID, title, body, context string) error {
		_, err := t.exec(`INSERT INTO search_docs (kind, doc_id, incident_id, part, part_id, title, body, context)
			VALUES ('postmortem', ?, ?, ?, ?, ?, ?, ?)`, pm.ID, pm.IncidentID, part, partID, title, body, context)
		return wrap(err, "index post-mortem")
	}
	if err := ins("postmortem", pm.ID, pm.Title, pm.Summary, incidentTitle); err != nil {
		return err
	}
	for _, f := range postmortemFields(pm) {
		if f.Path == "summary" || strings.HasPrefix(f.Path, "action_items") {
			continue // the summary is on the document's row; action items change without a post-mortem save
		}
		if err := ins("section", f.Path, "", f.Text, pm.Title); err != nil {
			return err
		}
	}
	return nil
}

var lintFieldOrder = []string{"summary", "impact.", "lead_up", "trigger", "detection.", "response", "recovery",
	"contributing_factors", "five_whys", "went_well", "went_poorly", "got_lucky", "lessons_learned", "action_items"}

func fieldOrder(path string) int {
	for i, p := range lintFieldOrder {
		if strings.HasPrefix(path, p) {
			return i
		}
	}
	return len(lintFieldOrder)
}

// insertPostmortem writes a new post-mortem and its first revision.
func (t *txn) insertPostmortem(pm *firebreak.Postmortem, author string) error {
	doc, err := encodePostmortem(pm)
	if err != nil {
		return wrap(err, "encode post-mortem")
	}
	d := t.s.d
	if _, err := t.exec(`INSERT INTO postmortems (id, incident_id, status, title, document, follow_up_at,
		published_at, closed_at, created_by, created_at, updated_at, version, follow_up_remind_at, categories)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		pm.ID, pm.IncidentID, pm.Status, pm.Title, doc, d.nts(pm.FollowUpAt), d.nts(pm.PublishedAt),
		d.nts(pm.ClosedAt), pm.CreatedBy, d.ts(pm.CreatedAt), d.ts(pm.UpdatedAt), pm.Version, t.reviewRemindAt(pm),
		postmortemCategories(pm)); err != nil {
		if isUniqueViolation(err) {
			return firebreak.Errorf(firebreak.EConflict, "incident %s already has a post-mortem", pm.IncidentRef)
		}
		return wrap(err, "insert post-mortem")
	}
	if err := t.indexPostmortem(pm); err != nil {
		return err
	}
	return t.insertRevision(pm, "created", author)
}

func (t *txn) insertRevision(pm *firebreak.Postmortem, action, author string) error {
	b, err := json.Marshal(pm)
	if err != nil {
		return wrap(err, "encode post-mortem")
	}
	_, err = t.exec(`INSERT INTO postmortem_revisions (postmortem_id, version, action, author, saved_at, document)
		VALUES (?, ?, ?, ?, ?, ?)`, pm.ID, pm.Version, action, author, t.s.d.ts(pm.UpdatedAt), string(b))
	return wrap(err, "insert post-mortem revision")
}

// draftPostmortem builds, lints and inserts the draft of inc (pending: events of this transaction not yet
// written).
func (t *txn) draftPostmortem(inc *firebreak.Incident, pending []firebreak.TimelineEvent,
	actor string) (*firebreak.Postmortem, error) {
	src, err := t.draftSources(inc, pending)
	if err != nil {
		return nil, err
	}
	pm := firebreak.DraftPostmortem(src, actor, t.s.clock())
	pm.ID = newID()
	if pm.ActionItems, err = t.actionItems(inc.ID); err != nil {
		return nil, err
	}
	if err := t.relint(&pm); err != nil {
		return nil, err
	}
	if err := t.insertPostmortem(&pm, actor); err != nil {
		return nil, err
	}
	return &pm, nil
}

// autoDraftPostmortem drafts the post-mortem of a SEV1 or SEV2 incident that ev resolves, unless it has one:
// called by ChangeStatus inside the transition's transaction, so the draft commits with the resolution.
func (t *txn) autoDraftPostmortem(inc *firebreak.Incident, ev firebreak.TimelineEvent) error {
	if inc.Status != firebreak.StatusResolved || !firebreak.NeedsPostmortem(inc.Severity) {
		return nil
	}
	var n int
	if err := t.row(`SELECT COUNT(*) FROM postmortems WHERE incident_id = ?`, inc.ID).Scan(&n); err != nil {
		return wrap(err, "check post-mortem")
	}
	if n > 0 {
		return nil
	}
	_, err := t.draftPostmortem(inc, []firebreak.TimelineEvent{ev}, ev.Actor)
	return err
}

// CreatePostmortem drafts an incident's post-mortem on request.
func (s *Store) CreatePostmortem(ctx context.Context, ref string) (*firebreak.Postmortem, error) {
	actor := firebreak.ActorFrom(ctx).Username
	var out *firebreak.Postmortem
	err := s.write(ctx, func(t *txn) error {
		h, err := t.loadHead(ref, true)
		if err != nil {
			return err
		}
		inc, err := t.loadIncident(h.ref(), false)
		if err != nil {
			return err
		}
		var n int
		if err := t.row(`SELECT COUNT(*) FROM postmortems WHERE incident_id = ?`, inc.ID).Scan(&n); err != nil {
			return wrap(err, "check post-mortem")
		}
		if n > 0 {
			return firebreak.Errorf(firebreak.EConflict, "incident %s already has a post-mortem", inc.Ref())
		}
		out, err = t.draftPostmortem(inc, nil, actor)
		return err
	})
	if err != nil {
		return nil, wrap(err, "create post-mortem")
	}
	return out, nil
}

// GetPostmortem reads an incident's post-mortem.
func (s *Store) GetPostmortem(ctx context.Context, ref string) (*firebreak.Postmortem, error) {
	r := s.read(ctx)
	h, err := r.loadHead(ref, false)
	if err != nil {
		return nil, err
	}
	return r.loadPostmortem(h.id, h.ref())
}

// mutatePostmortem loads the post-mortem with its incident locked, checks ifVersion, applies change, bumps the
// version and saves it with a revision, all in one transaction. lint re-runs the blameless lint first.
func (s *Store) mutatePostmortem(ctx context.Context, ref string, ifVersion int64, action string, lint bool,
	change func(t *txn, pm *firebreak.Postmortem) error) (*firebreak.Postmortem, error) {
	actor := firebreak.ActorFrom(ctx).Username
	var out *firebreak.Postmortem
	err := s.write(ctx, func(t *txn) error {
		h, err := t.loadHead(ref, true)
		if err != nil {
			return err
		}
		pm, err := t.loadPostmortem(h.id, h.ref())
		if err != nil {
			return err
		}
		if err := checkVersion("post-mortem of "+h.ref(), pm.Version, ifVersion); err != nil {
			return err
		}
		if err := change(t, pm); err != nil {
			return err
		}
		if lint {
			if err := t.relint(pm); err != nil {
				return err
			}
		}
		pm.Version++
		pm.UpdatedAt = s.clock()
		doc, err := encodePostmortem(pm)
		if err != nil {
			return wrap(err, "encode post-mortem")
		}
		d := s.d
		if _, err := t.exec(`UPDATE postmortems SET status = ?, title = ?, document = ?, follow_up_at = ?,
			published_at = ?, closed_at = ?, updated_at = ?, version = ?, follow_up_remind_at = ?, categories = ?
			WHERE id = ?`,
			pm.Status, pm.Title, doc, d.nts(pm.FollowUpAt), d.nts(pm.PublishedAt), d.nts(pm.ClosedAt),
			d.ts(pm.UpdatedAt), pm.Version, t.reviewRemindAt(pm), postmortemCategories(pm), pm.ID); err != nil {
			return wrap(err, "save post-mortem")
		}
		if err := t.indexPostmortem(pm); err != nil {
			return err
		}
		if err := t.insertRevision(pm, action, actor); err != nil {
			return err
		}
		out = pm
		return nil
	})
	if err != nil {
		return nil, wrap(err, "save post-mortem")
	}
	return out, nil
}

func workflowConflict(pm *firebreak.Postmortem, step string, allowed ...firebreak.PostmortemStatus) error {
	e := firebreak.Errorf(firebreak.EConflict, "cannot %s a post-mortem that is %s", step, pm.Status)
	for _, a := range allowed {
		e.Allowed = append(e.Allowed, string(a))
	}
	return e
}

// UpdatePostmortem saves a patch; the lint runs again.
func (s *Store) UpdatePostmortem(ctx context.Context, ref string, p firebreak.PostmortemPatch,
	ifVersion int64) (*firebreak.Postmortem, error) {
	return s.mutatePostmortem(ctx, ref, ifVersion, "edited", true, func(t *txn, pm *firebreak.Postmortem) error {
		if pm.Status == firebreak.PostmortemClosed {
			return workflowConflict(pm, "edit", firebreak.PostmortemDraft, firebreak.PostmortemInReview,
				firebreak.PostmortemPublished)
		}
		return p.Apply(pm)
	})
}

// SubmitPostmortem moves a draft to review; it needs at least one approver.
func (s *Store) SubmitPostmortem(ctx context.Context, ref string, ifVersion int64) (*firebreak.Postmortem, error) {
	return s.mutatePostmortem(ctx, ref, ifVersion, "submitted", false, func(t *txn, pm *firebreak.Postmortem) error {
		if pm.Status != firebreak.PostmortemDraft {
			return workflowConflict(pm, "submit", firebreak.PostmortemDraft)
		}
		if !slices.ContainsFunc(pm.Reviewers, func(r firebreak.Reviewer) bool { return r.Approver }) {
			return invalid("reviewers", "name at least one approver before submitting for review")
		}
		pm.Status = firebreak.PostmortemInReview
		return nil
	})
}

// ApprovePostmortem records the caller's approval and overrides.
func (s *Store) ApprovePostmortem(ctx context.Context, ref string, in firebreak.ApproveInput,
	ifVersion int64) (*firebreak.Postmortem, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	actor := firebreak.ActorFrom(ctx).Username
	return s.mutatePostmortem(ctx, ref, ifVersion, "approved", false, func(t *txn, pm *firebreak.Postmortem) error {
		if pm.Status != firebreak.PostmortemInReview {
			return workflowConflict(pm, "approve", firebreak.PostmortemInReview)
		}
		if !pm.IsApprover(actor) {
			return firebreak.Errorf(firebreak.EForbidden, "only an approver of this post-mortem may approve it")
		}
		now := s.clock()
		for i := range pm.Reviewers {
			if pm.Reviewers[i].User == actor && pm.Reviewers[i].Approver {
				pm.Reviewers[i].ApprovedAt = &now
			}
		}
		for _, o := range in.Overrides {
			o.By, o.At = actor, now
			pm.Overrides = append(pm.Overrides, o)
		}
		return nil
	})
}

// PublishPostmortem publishes a complete, approved post-mortem with no blocking lint finding left.
func (s *Store) PublishPostmortem(ctx context.Context, ref string, ifVersion int64) (*firebreak.Postmortem, error) {
	return s.mutatePostmortem(ctx, ref, ifVersion, "published", false, func(t *txn, pm *firebreak.Postmortem) error {
		if pm.Status != firebreak.PostmortemDraft && pm.Status != firebreak.PostmortemInReview {
			return workflowConflict(pm, "publish", firebreak.PostmortemDraft, firebreak.PostmortemInReview)
		}
		// Action items may have changed since the last save: lint what is published.
		if err := t.relint(pm); err != nil {
			return err
		}
		missing := pm.Missing()
		for _, f := range pm.BlockingLint() {
			missing = append(missing, firebreak.FieldError{Field: f.Field,
				Message: fmt.Sprintf("blameless lint (%s): %s", f.Rule, f.Message)})
		}
		if len(missing) > 0 {
			return &firebreak.Error{Code: firebreak.EInvalid, Fields: missing,
				Message: fmt.Sprintf("the post-mortem cannot be published yet: %d things are missing", len(missing))}
		}
		now := s.clock()
		pm.Status, pm.PublishedAt = firebreak.PostmortemPublished, &now
		if pm.FollowUpAt == nil || pm.FollowUpAt.Before(now) {
			f := now.Add(firebreak.DefaultFollowUpDelay)
			pm.FollowUpAt = &f
		}
		return nil
	})
}

// ClosePostmortem closes a published post-mortem after its follow-up review.
func (s *Store) ClosePostmortem(ctx context.Context, ref string, notes string,
	ifVersion int64) (*firebreak.Postmortem, error) {
	var v firebreak.Validation
	v.Text("notes", notes, firebreak.MaxTextLen)
	if err := v.Err(); err != nil {
		return nil, err
	}
	return s.mutatePostmortem(ctx, ref, ifVersion, "closed", false, func(t *txn, pm *firebreak.Postmortem) error {
		if pm.Status != firebreak.PostmortemPublished {
			return workflowConflict(pm, "close", firebreak.PostmortemPublished)
		}
		// The follow-up review closes the loop: by the close policy, not while action items are unresolved.
		var sev firebreak.Severity
		if err := t.row(`SELECT severity FROM incidents WHERE id = ?`, pm.IncidentID).Scan(&sev); err != nil {
			return wrap(err, "close post-mortem")
		}
		if s.FollowThroughPolicy().RequiresFollowThrough(sev) {
			if b := firebreak.UnresolvedItems(pm.ActionItems); len(b) > 0 {
				return firebreak.CloseBlockedError("the post-mortem of "+pm.IncidentRef, b)
			}
		}
		now := s.clock()
		pm.Status, pm.ClosedAt, pm.FollowUpNotes = firebreak.PostmortemClosed, &now, strings.TrimSpace(notes)
		return nil
	})
}

// postmortemCategories is the categories column: the distinct fishbone categories of the contributing factors,
// space-separated (the knowledge base filters on it).
func postmortemCategories(pm *firebreak.Postmortem) string {
	var cs []string
	for _, f := range pm.ContributingFactors {
		if c := string(f.Category); c != "" && !slices.Contains(cs, c) {
			cs = append(cs, c)
		}
	}
	slices.Sort(cs)
	return strings.Join(cs, " ")
}

// ListPostmortemRevisions lists every saved version, oldest first.
func (s *Store) ListPostmortemRevisions(ctx context.Context, ref string) ([]firebreak.PostmortemRevision, error) {
	r := s.read(ctx)
	h, err := r.loadHead(ref, false)
	if err != nil {
		return nil, err
	}
	rows, err := r.query(`SELECT r.version, r.action, r.author, r.saved_at, r.document FROM postmortem_revisions r
		JOIN postmortems p ON p.id = r.postmortem_id WHERE p.incident_id = ? ORDER BY r.version`, h.id)
	if err != nil {
		return nil, wrap(err, "list post-mortem revisions")
	}
	defer rows.Close()
	out := []firebreak.PostmortemRevision{}
	for rows.Next() {
		var rv firebreak.PostmortemRevision
		var doc string
		if err := rows.Scan(&rv.Version, &rv.Action, &rv.Author, tsCol(&rv.SavedAt), &doc); err != nil {
			return nil, wrap(err, "list post-mortem revisions")
		}
		rv.Document = json.RawMessage(doc)
		out = append(out, rv)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(err, "list post-mortem revisions")
	}
	if len(out) == 0 {
		if _, err := r.loadPostmortem(h.id, h.ref()); err != nil {
			return nil, err
		}
	}
	return out, nil
}
