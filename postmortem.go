package firebreak

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
)

// PostmortemStatus is where a post-mortem is in its review workflow:
// draft → in_review → published → closed (after the follow-up review). A reviewer may send an in-review
// post-mortem back to draft by editing it (any save of an in-review document keeps it in review; only submit
// and publish move it on).
type PostmortemStatus string

const (
	PostmortemDraft     PostmortemStatus = "draft"
	PostmortemInReview  PostmortemStatus = "in_review"
	PostmortemPublished PostmortemStatus = "published"
	PostmortemClosed    PostmortemStatus = "closed"
)

// PostmortemStatuses lists every status in workflow order.
var PostmortemStatuses = []PostmortemStatus{PostmortemDraft, PostmortemInReview, PostmortemPublished,
	PostmortemClosed}

// DefaultFollowUpDelay is how long after publishing the follow-up review is scheduled when none is set.
const DefaultFollowUpDelay = 14 * 24 * time.Hour

// FishboneCategory classifies a contributing factor (the software adaptation of the Ishikawa "6 Ms").
type FishboneCategory string

const (
	CategoryChange         FishboneCategory = "change_release"    // deploy, config or flag change, migration
	CategoryCode           FishboneCategory = "code_design"       // bug, latent defect, architecture misfit
	CategoryCapacity       FishboneCategory = "capacity_scale"    // load, resource limits, quotas
	CategoryInfrastructure FishboneCategory = "infrastructure"    // host, network, region, DNS, certificates
	CategoryDependencies   FishboneCategory = "dependencies"      // third-party or internal upstream
	CategoryObservability  FishboneCategory = "observability"     // missing or noisy alert, dashboards, logs
	CategoryProcess        FishboneCategory = "process"           // runbooks, handoffs, escalation, change review
	CategoryKnowledge      FishboneCategory = "knowledge_tooling" // training, docs, tool ergonomics, automation
	CategoryUnknown        FishboneCategory = "unknown"           // indeterminable: the action is more observability
)

// FishboneCategories lists every category.
var FishboneCategories = []FishboneCategory{CategoryChange, CategoryCode, CategoryCapacity, CategoryInfrastructure,
	CategoryDependencies, CategoryObservability, CategoryProcess, CategoryKnowledge, CategoryUnknown}

// Title is the human name of a category.
func (c FishboneCategory) Title() string {
	switch c {
	case CategoryChange:
		return "Change & release"
	case CategoryCode:
		return "Code & design"
	case CategoryCapacity:
		return "Capacity & scale"
	case CategoryInfrastructure:
		return "Infrastructure & environment"
	case CategoryDependencies:
		return "Dependencies"
	case CategoryObservability:
		return "Observability & detection"
	case CategoryProcess:
		return "Process & coordination"
	case CategoryKnowledge:
		return "Knowledge & tooling"
	case CategoryUnknown:
		return "Unknown"
	}
	return string(c)
}

// ContributingFactor is one condition that contributed to the incident, with the evidence for it.
type ContributingFactor struct {
	Category    FishboneCategory `json:"category"`
	Description string           `json:"description"`
	// Evidence links to what shows it: dashboards, logs, pull requests, timeline entries.
	Evidence []string `json:"evidence"`
	// PrimaryTrigger marks the factor that set the incident off.
	PrimaryTrigger bool `json:"primary_trigger,omitempty"`
}

// WhyStep is one question and answer of a five-whys chain. ParentID names the step it answers further (empty
// for the first step); two steps with the same parent branch the chain.
type WhyStep struct {
	ID       string `json:"id"`
	ParentID string `json:"parent_id,omitempty"`
	Question string `json:"question"`
	Answer   string `json:"answer"`
}

// WhyChain is a five-whys analysis: a tree of steps. Its ends (steps no other step answers further) are where
// the analysis stopped, and must not stop at a person.
type WhyChain struct {
	Title string    `json:"title,omitempty"`
	Steps []WhyStep `json:"steps"`
}

// Ends returns the indexes of the chain's leaf steps, in order.
func (c WhyChain) Ends() []int {
	parent := map[string]bool{}
	for _, s := range c.Steps {
		if s.ParentID != "" {
			parent[s.ParentID] = true
		}
	}
	var out []int
	for i, s := range c.Steps {
		if !parent[s.ID] {
			out = append(out, i)
		}
	}
	return out
}

// PostmortemImpact is what the incident did to users.
type PostmortemImpact struct {
	Description string `json:"description"`
	// UsersAffected is a count (possibly estimated); nil when unknown.
	UsersAffected  *int64 `json:"users_affected"`
	UsersEstimated bool   `json:"users_estimated"`
	// DurationSeconds is how long users were affected (pre-filled from the milestones).
	DurationSeconds *int64 `json:"duration_seconds"`
	DataLoss        bool   `json:"data_loss"`
	DataLossDetails string `json:"data_loss_details,omitempty"`
	CustomerFacing  bool   `json:"customer_facing"`
}

// PostmortemDetection is how the incident was detected and why not sooner.
type PostmortemDetection struct {
	Narrative string `json:"narrative"`
	// Gap answers "why didn't we know sooner? how would we have detected it in half the time?".
	Gap                string `json:"gap"`
	DetectedByCustomer bool   `json:"detected_by_customer"`
}

// Sections are the editable parts of a post-mortem.
type Sections struct {
	Summary             string               `json:"summary"`
	Impact              PostmortemImpact     `json:"impact"`
	LeadUp              string               `json:"lead_up"`
	Trigger             string               `json:"trigger"`
	Detection           PostmortemDetection  `json:"detection"`
	Response            string               `json:"response"`
	Recovery            string               `json:"recovery"`
	ContributingFactors []ContributingFactor `json:"contributing_factors"`
	FiveWhys            []WhyChain           `json:"five_whys"`
	WentWell            []string             `json:"went_well"`
	WentPoorly          []string             `json:"went_poorly"`
	GotLucky            []string             `json:"got_lucky"`
	Lessons             []string             `json:"lessons_learned"`
	// TimelineScope chooses the timeline entries shown and exported: "all" or "starred".
	TimelineScope string `json:"timeline_scope"`
}

// Reviewer is someone asked to review a post-mortem; approvers also approve it (and may override blocking
// lint findings with a reason).
type Reviewer struct {
	User       string     `json:"user"`
	Approver   bool       `json:"approver"`
	ApprovedAt *time.Time `json:"approved_at"`
}

// SeverityChange is one entry of an incident's severity history.
type SeverityChange struct {
	At    time.Time `json:"at"`
	From  Severity  `json:"from,omitempty"`
	To    Severity  `json:"to"`
	Actor string    `json:"actor"`
}

// Responder is a person who acted on the incident, with the roles they held.
type Responder struct {
	User  string `json:"user"`
	Roles []Role `json:"roles"`
}

// IncidentDurations are derived from the milestones, in seconds; nil when a milestone is missing.
// Detect: impact start → detection. Acknowledge: detection → acknowledgement. Mitigate and resolve: impact
// start (detection when unknown) → mitigation, resolution.
type IncidentDurations struct {
	DetectSeconds      *int64 `json:"detect_seconds"`
	AcknowledgeSeconds *int64 `json:"acknowledge_seconds"`
	MitigateSeconds    *int64 `json:"mitigate_seconds"`
	ResolveSeconds     *int64 `json:"resolve_seconds"`
}

// Durations derives the durations of milestones m.
func Durations(m Milestones) IncidentDurations {
	between := func(a, b *time.Time) *int64 {
		if a == nil || b == nil || b.Before(*a) {
			return nil
		}
		s := int64(b.Sub(*a) / time.Second)
		return &s
	}
	start := m.ImpactStartedAt
	if start == nil {
		start = m.DetectedAt
	}
	return IncidentDurations{
		DetectSeconds:      between(m.ImpactStartedAt, m.DetectedAt),
		AcknowledgeSeconds: between(m.DetectedAt, m.AcknowledgedAt),
		MitigateSeconds:    between(start, m.MitigatedAt),
		ResolveSeconds:     between(start, m.ResolvedAt),
	}
}

// PostmortemAlert is an alert that was attached to the incident.
type PostmortemAlert struct {
	ID          string        `json:"id"`
	Summary     string        `json:"summary"`
	Severity    AlertSeverity `json:"severity"`
	Status      AlertStatus   `json:"status"`
	FirstSeenAt time.Time     `json:"first_seen_at"`
	ResolvedAt  *time.Time    `json:"resolved_at"`
}

// PostmortemFacts is what the draft was pre-filled from: a snapshot of the incident when the draft was made.
type PostmortemFacts struct {
	Title           string            `json:"title"`
	Severity        Severity          `json:"severity"`
	SeverityHistory []SeverityChange  `json:"severity_history"`
	Services        []string          `json:"services"`
	Responders      []Responder       `json:"responders"`
	Milestones      Milestones        `json:"milestones"`
	Durations       IncidentDurations `json:"durations"`
	Timeline        []TimelineEvent   `json:"timeline"`
	Updates         []StatusUpdate    `json:"updates"`
	Alerts          []PostmortemAlert `json:"alerts"`
	// Changes on the affected services shortly before impact (see ChangeService.ChangesBefore).
	Changes     []Change  `json:"changes"`
	GeneratedAt time.Time `json:"generated_at"`
}

// LintFinding is one blameless-language finding on a field (see package analysis). Start and End are byte
// offsets of Words in the field's text.
type LintFinding struct {
	Field      string `json:"field"`
	Rule       string `json:"rule"`
	Severity   string `json:"severity"` // "warning" or "blocking"
	Start      int    `json:"start"`
	End        int    `json:"end"`
	Words      string `json:"words"`
	Message    string `json:"message"`
	Suggestion string `json:"suggestion"`
}

// LintOverride lets publishing go ahead despite a blocking finding; an approver gives it with a reason. Empty
// Field or Rule matches any.
type LintOverride struct {
	Field  string    `json:"field,omitempty"`
	Rule   string    `json:"rule,omitempty"`
	By     string    `json:"by"`
	Reason string    `json:"reason"`
	At     time.Time `json:"at"`
}

// Postmortem is the learning document of one incident.
type Postmortem struct {
	ID          string           `json:"id"`
	IncidentID  string           `json:"incident_id"`
	IncidentRef string           `json:"incident_ref"`
	Title       string           `json:"title"`
	Status      PostmortemStatus `json:"status"`
	Sections
	Facts     PostmortemFacts `json:"facts"`
	Reviewers []Reviewer      `json:"reviewers"`
	// ActionItems are the incident's action items (read live; managed through the action item endpoints).
	ActionItems []ActionItem   `json:"action_items"`
	Lint        []LintFinding  `json:"lint"`
	Overrides   []LintOverride `json:"lint_overrides"`
	FollowUpAt  *time.Time     `json:"follow_up_at"`
	// FollowUpRemindedAt is when the last follow-up review reminder was sent (see FollowThroughPolicy).
	FollowUpRemindedAt *time.Time `json:"follow_up_reminded_at,omitempty"`
	PublishedAt        *time.Time `json:"published_at"`
	ClosedAt           *time.Time `json:"closed_at"`
	// FollowUpNotes are the notes of the follow-up review that closed the post-mortem.
	FollowUpNotes string    `json:"follow_up_notes,omitempty"`
	CreatedBy     string    `json:"created_by"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
	// Version increases with every save; the HTTP layer serves it as the ETag.
	Version int64 `json:"version"`
}

// PostmortemRevision is one saved version of a post-mortem.
type PostmortemRevision struct {
	Version  int64     `json:"version"`
	Action   string    `json:"action"` // created, edited, submitted, approved, published, closed
	Author   string    `json:"author"`
	SavedAt  time.Time `json:"saved_at"`
	Document any       `json:"document"` // the post-mortem as saved (JSON object)
}

// PostmortemPatch changes some parts of a post-mortem; nil fields stay as they are.
type PostmortemPatch struct {
	Title               *string               `json:"title,omitempty"`
	Summary             *string               `json:"summary,omitempty"`
	Impact              *PostmortemImpact     `json:"impact,omitempty"`
	LeadUp              *string               `json:"lead_up,omitempty"`
	Trigger             *string               `json:"trigger,omitempty"`
	Detection           *PostmortemDetection  `json:"detection,omitempty"`
	Response            *string               `json:"response,omitempty"`
	Recovery            *string               `json:"recovery,omitempty"`
	ContributingFactors *[]ContributingFactor `json:"contributing_factors,omitempty"`
	FiveWhys            *[]WhyChain           `json:"five_whys,omitempty"`
	WentWell            *[]string             `json:"went_well,omitempty"`
	WentPoorly          *[]string             `json:"went_poorly,omitempty"`
	GotLucky            *[]string             `json:"got_lucky,omitempty"`
	Lessons             *[]string             `json:"lessons_learned,omitempty"`
	TimelineScope       *string               `json:"timeline_scope,omitempty"`
	Reviewers           *[]Reviewer           `json:"reviewers,omitempty"`
	FollowUpAt          *time.Time            `json:"follow_up_at,omitempty"`
}

// Limits on post-mortem lists.
const (
	MaxPostmortemItems = 100 // entries of a list section (factors, chains, went well…)
	MaxWhySteps        = 50  // steps of one five-whys chain
	MaxEvidenceLinks   = 20
)

// Apply validates the patch and applies it to pm (a closed post-mortem cannot change).
func (p PostmortemPatch) Apply(pm *Postmortem) error {
	if pm.Status == PostmortemClosed {
		return Errorf(EConflict, "the post-mortem is closed")
	}
	n := *pm
	var v Validation
	if p.Title != nil {
		n.Title = strings.TrimSpace(*p.Title)
		validateTitle(&v, "title", n.Title)
	}
	text := func(field string, dst *string, src *string) {
		if src != nil {
			*dst = *src
			v.Text(field, *src, MaxTextLen)
		}
	}
	text("summary", &n.Summary, p.Summary)
	text("lead_up", &n.LeadUp, p.LeadUp)
	text("trigger", &n.Trigger, p.Trigger)
	text("response", &n.Response, p.Response)
	text("recovery", &n.Recovery, p.Recovery)
	if p.Impact != nil {
		n.Impact = *p.Impact
		v.Text("impact.description", n.Impact.Description, MaxTextLen)
		v.Text("impact.data_loss_details", n.Impact.DataLossDetails, MaxTextLen)
		if u := n.Impact.UsersAffected; u != nil && *u < 0 {
			v.Add("impact.users_affected", "must not be negative")
		}
		if d := n.Impact.DurationSeconds; d != nil && *d < 0 {
			v.Add("impact.duration_seconds", "must not be negative")
		}
	}
	if p.Detection != nil {
		n.Detection = *p.Detection
		v.Text("detection.narrative", n.Detection.Narrative, MaxTextLen)
		v.Text("detection.gap", n.Detection.Gap, MaxTextLen)
	}
	if p.ContributingFactors != nil {
		n.ContributingFactors = slices.Clone(*p.ContributingFactors)
		if len(n.ContributingFactors) > MaxPostmortemItems {
			v.Add("contributing_factors", "at most %d factors", MaxPostmortemItems)
		}
		for i, f := range n.ContributingFactors {
			at := fmt.Sprintf("contributing_factors[%d]", i)
			if f.Category != "" && !slices.Contains(FishboneCategories, f.Category) {
				v.Add(at+".category", "must be one of %s", joinCategories())
			}
			v.Text(at+".description", f.Description, MaxTextLen)
			if len(f.Evidence) > MaxEvidenceLinks {
				v.Add(at+".evidence", "at most %d links", MaxEvidenceLinks)
			}
			for j, l := range f.Evidence {
				if !validLink(l) {
					v.Add(fmt.Sprintf("%s.evidence[%d]", at, j), "must be an http(s) URL or a #fragment")
				}
			}
			if f.Evidence == nil {
				n.ContributingFactors[i].Evidence = []string{}
			}
		}
	}
	if p.FiveWhys != nil {
		n.FiveWhys = slices.Clone(*p.FiveWhys)
		if len(n.FiveWhys) > MaxPostmortemItems {
			v.Add("five_whys", "at most %d chains", MaxPostmortemItems)
		}
		for i := range n.FiveWhys {
			validateChain(&v, fmt.Sprintf("five_whys[%d]", i), &n.FiveWhys[i])
		}
	}
	list := func(field string, dst *[]string, src *[]string) {
		if src == nil {
			return
		}
		*dst = []string{}
		if len(*src) > MaxPostmortemItems {
			v.Add(field, "at most %d entries", MaxPostmortemItems)
		}
		for i, s := range *src {
			if s = strings.TrimSpace(s); s != "" {
				v.Text(fmt.Sprintf("%s[%d]", field, i), s, MaxTextLen)
				*dst = append(*dst, s)
			}
		}
	}
	list("went_well", &n.WentWell, p.WentWell)
	list("went_poorly", &n.WentPoorly, p.WentPoorly)
	list("got_lucky", &n.GotLucky, p.GotLucky)
	list("lessons_learned", &n.Lessons, p.Lessons)
	if p.TimelineScope != nil {
		n.TimelineScope = *p.TimelineScope
		if n.TimelineScope != "all" && n.TimelineScope != "starred" {
			v.Add("timeline_scope", "must be all or starred")
		}
	}
	if p.Reviewers != nil {
		old := pm.Reviewers
		n.Reviewers = []Reviewer{}
		seen := map[string]bool{}
		for i, r := range *p.Reviewers {
			r.User = strings.TrimSpace(r.User)
			at := fmt.Sprintf("reviewers[%d].user", i)
			switch {
			case r.User == "":
				v.Add(at, "is required")
			case seen[r.User]:
				v.Add(at, "names %q twice", r.User)
			default:
				v.Text(at, r.User, MaxNameLen)
			}
			seen[r.User] = true
			// Approvals are given through approve, never by a patch: keep the stored one.
			r.ApprovedAt = nil
			for _, o := range old {
				if o.User == r.User && r.Approver {
					r.ApprovedAt = o.ApprovedAt
				}
			}
			n.Reviewers = append(n.Reviewers, r)
		}
	}
	if p.FollowUpAt != nil {
		t := p.FollowUpAt.UTC().Truncate(time.Microsecond)
		n.FollowUpAt = &t
	}
	if err := v.Err(); err != nil {
		return err
	}
	*pm = n
	return nil
}

func validateChain(v *Validation, at string, c *WhyChain) {
	v.Text(at+".title", c.Title, MaxTitleLen)
	if len(c.Steps) > MaxWhySteps {
		v.Add(at+".steps", "at most %d steps", MaxWhySteps)
	}
	ids := map[string]bool{}
	for i := range c.Steps {
		s := &c.Steps[i]
		s.ID = strings.TrimSpace(s.ID)
		if s.ID == "" {
			s.ID = fmt.Sprintf("s%d", i+1)
		}
		if ids[s.ID] {
			v.Add(fmt.Sprintf("%s.steps[%d].id", at, i), "is used twice")
		}
		ids[s.ID] = true
	}
	for i, s := range c.Steps {
		sa := fmt.Sprintf("%s.steps[%d]", at, i)
		if s.ParentID != "" && (!ids[s.ParentID] || s.ParentID == s.ID) {
			v.Add(sa+".parent_id", "must name another step of the chain")
		}
		v.Text(sa+".question", s.Question, MaxTextLen)
		v.Text(sa+".answer", s.Answer, MaxTextLen)
	}
	// No cycles: following parents from any step must reach a root.
	parent := map[string]string{}
	for _, s := range c.Steps {
		parent[s.ID] = s.ParentID
	}
	for i, s := range c.Steps {
		cur, n := s.ID, 0
		for cur != "" && n <= len(c.Steps) {
			cur, n = parent[cur], n+1
		}
		if cur != "" {
			v.Add(fmt.Sprintf("%s.steps[%d].parent_id", at, i), "makes a cycle")
			break
		}
	}
}

func validLink(s string) bool {
	if strings.HasPrefix(s, "#") && len(s) > 1 && len(s) <= 200 {
		return true
	}
	u, err := url.Parse(s)
	return err == nil && len(s) <= 2000 && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

func joinCategories() string {
	out := make([]string, len(FishboneCategories))
	for i, c := range FishboneCategories {
		out[i] = string(c)
	}
	return strings.Join(out, ", ")
}

// Missing lists what a post-mortem still needs before it can be published, as field errors: every empty
// required section, every contributing factor without a category or description, the action items and the
// approval. It does not include lint findings (the store adds the blocking ones).
func (pm *Postmortem) Missing() []FieldError {
	var out []FieldError
	add := func(field, msg string) { out = append(out, FieldError{Field: field, Message: msg}) }
	blank := func(s string) bool { return strings.TrimSpace(s) == "" }
	req := []struct {
		field string
		val   string
	}{
		{"summary", pm.Summary}, {"impact.description", pm.Impact.Description}, {"lead_up", pm.LeadUp},
		{"trigger", pm.Trigger}, {"detection.narrative", pm.Detection.Narrative}, {"detection.gap", pm.Detection.Gap},
		{"response", pm.Response}, {"recovery", pm.Recovery},
	}
	for _, r := range req {
		if blank(r.val) {
			add(r.field, "is required")
		}
	}
	if pm.Impact.DurationSeconds == nil {
		add("impact.duration_seconds", "is required")
	}
	if len(pm.ContributingFactors) == 0 {
		add("contributing_factors", "at least one contributing factor is required")
	}
	for i, f := range pm.ContributingFactors {
		if f.Category == "" {
			add(fmt.Sprintf("contributing_factors[%d].category", i), "is required (one of "+joinCategories()+")")
		}
		if blank(f.Description) {
			add(fmt.Sprintf("contributing_factors[%d].description", i), "is required")
		}
	}
	for i, c := range pm.FiveWhys {
		for _, j := range c.Ends() {
			if blank(c.Steps[j].Answer) {
				add(fmt.Sprintf("five_whys[%d].steps[%d].answer", i, j), "a chain must end with an answer")
			}
		}
	}
	if len(pm.WentWell) == 0 {
		add("went_well", "at least one entry is required")
	}
	if len(pm.WentPoorly) == 0 {
		add("went_poorly", "at least one entry is required")
	}
	if len(pm.Lessons) == 0 {
		add("lessons_learned", "at least one lesson is required")
	}
	if len(pm.ActionItems) == 0 {
		add("action_items", "at least one action item is required (record a not_doing item with a reason if none is warranted)")
	}
	if !pm.Approved() {
		add("approvals", "an approver must approve the post-mortem (submit it for review first)")
	}
	return out
}

// Approved reports whether every approver has approved and there is at least one.
func (pm *Postmortem) Approved() bool {
	n := 0
	for _, r := range pm.Reviewers {
		if r.Approver {
			if r.ApprovedAt == nil {
				return false
			}
			n++
		}
	}
	return n > 0
}

// IsApprover reports whether user is an approver of the post-mortem.
func (pm *Postmortem) IsApprover(user string) bool {
	return slices.ContainsFunc(pm.Reviewers, func(r Reviewer) bool { return r.Approver && r.User == user })
}

// BlockingLint returns the blocking lint findings no override covers.
func (pm *Postmortem) BlockingLint() []LintFinding {
	var out []LintFinding
	for _, f := range pm.Lint {
		if f.Severity != "blocking" {
			continue
		}
		covered := slices.ContainsFunc(pm.Overrides, func(o LintOverride) bool {
			return strings.TrimSpace(o.Reason) != "" && (o.Field == "" || o.Field == f.Field) &&
				(o.Rule == "" || o.Rule == f.Rule)
		})
		if !covered {
			out = append(out, f)
		}
	}
	return out
}

// NeedsPostmortem reports whether resolving an incident of severity s drafts its post-mortem automatically.
func NeedsPostmortem(s Severity) bool { return s == SEV1 || s == SEV2 }

// ApproveInput is the body of an approval: an optional comment and the overrides of blocking lint findings.
type ApproveInput struct {
	Comment   string         `json:"comment,omitempty"`
	Overrides []LintOverride `json:"overrides,omitempty"`
}

// Validate checks the input: every override needs a reason.
func (in *ApproveInput) Validate() error {
	var v Validation
	v.Text("comment", in.Comment, MaxTextLen)
	for i, o := range in.Overrides {
		if strings.TrimSpace(o.Reason) == "" {
			v.Add(fmt.Sprintf("overrides[%d].reason", i), "is required")
		}
		v.Text(fmt.Sprintf("overrides[%d].reason", i), o.Reason, MaxTextLen)
	}
	return v.Err()
}

// PostmortemService keeps post-mortems, one per incident, addressed by the incident's ref.
//
// Errors: ENotFound (unknown incident, or no post-mortem yet); EConflict when a post-mortem already exists
// (CreatePostmortem) or the workflow forbids the step (Allowed lists the statuses it is allowed from);
// EPreconditionFailed when ifVersion is non-zero and differs from the stored version (the message names the
// current version); EInvalid for bad fields, and from PublishPostmortem listing every missing field and every
// blocking lint finding (field "lint:<field>"); EForbidden when someone who is not an approver approves.
type PostmortemService interface {
	// CreatePostmortem drafts the incident's post-mortem from its data (any incident, on request).
	CreatePostmortem(ctx context.Context, incidentRef string) (*Postmortem, error)
	GetPostmortem(ctx context.Context, incidentRef string) (*Postmortem, error)
	// UpdatePostmortem saves a patch, keeps the previous version as a revision and re-runs the lint.
	UpdatePostmortem(ctx context.Context, incidentRef string, p PostmortemPatch, ifVersion int64) (*Postmortem, error)
	// SubmitPostmortem moves a draft to in_review.
	SubmitPostmortem(ctx context.Context, incidentRef string, ifVersion int64) (*Postmortem, error)
	// ApprovePostmortem records the caller's approval (an approver, in review), with any lint overrides.
	ApprovePostmortem(ctx context.Context, incidentRef string, in ApproveInput, ifVersion int64) (*Postmortem, error)
	// PublishPostmortem publishes a complete, approved post-mortem and schedules the follow-up review
	// (DefaultFollowUpDelay after publishing unless one is set).
	PublishPostmortem(ctx context.Context, incidentRef string, ifVersion int64) (*Postmortem, error)
	// ClosePostmortem closes a published post-mortem after its follow-up review.
	ClosePostmortem(ctx context.Context, incidentRef string, notes string, ifVersion int64) (*Postmortem, error)
	ListPostmortemRevisions(ctx context.Context, incidentRef string) ([]PostmortemRevision, error)
}
