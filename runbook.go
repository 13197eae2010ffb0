package firebreak

import (
	"context"
	"strings"
	"time"
)

// Runbooks: Markdown procedures per service, with every saved version kept, an owner and a review date. The seed's
// stale-runbook incident (a 30-minute failover that took three hours because the runbook named decommissioned
// systems) is why a runbook is flagged stale when nobody has reviewed it for RunbookReviewInterval, or when its
// service's architecture changed after its last review.

// RunbookReviewInterval is how long a review keeps a runbook fresh.
const RunbookReviewInterval = 90 * 24 * time.Hour

// MaxRunbookLen is the longest runbook body accepted, in bytes.
const MaxRunbookLen = 100_000

// Runbook is a service's procedure for a kind of failure, written in Markdown.
type Runbook struct {
	ID      string `json:"id"`
	Service string `json:"service"` // the service's slug
	Title   string `json:"title"`
	Body    string `json:"body"`  // Markdown
	Owner   string `json:"owner"` // the username of the person who keeps it current
	// LastReviewedAt and LastReviewedBy say who last confirmed the runbook still matches the system (nil: never).
	LastReviewedAt *time.Time `json:"last_reviewed_at"`
	LastReviewedBy string     `json:"last_reviewed_by,omitempty"`
	// Stale is derived when the runbook is read: StaleReasons say why, in sentences. ReviewDueAt is when it becomes
	// stale by age (RunbookReviewInterval after its last review, or after it was written if never reviewed).
	Stale        bool      `json:"stale"`
	StaleReasons []string  `json:"stale_reasons"`
	ReviewDueAt  time.Time `json:"review_due_at"`
	CreatedBy    string    `json:"created_by"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedBy    string    `json:"updated_by"`
	UpdatedAt    time.Time `json:"updated_at"`
	// Version counts the saved versions of the content (title, body, service, owner); it is the ETag. A review
	// changes no content, so it keeps the version and never invalidates an open editor.
	Version int64 `json:"version"`
}

// SetStaleness derives Stale, StaleReasons and ReviewDueAt at now, given when the runbook's service last changed
// its architecture (nil: never recorded). Until its first review a runbook counts as reviewed when it was written.
func (r *Runbook) SetStaleness(architectureChangedAt *time.Time, now time.Time) {
	base := r.CreatedAt
	if r.LastReviewedAt != nil {
		base = *r.LastReviewedAt
	}
	r.ReviewDueAt = base.Add(RunbookReviewInterval).UTC()
	r.StaleReasons = []string{}
	day := func(t time.Time) string { return t.UTC().Format("2 Jan 2006") }
	if !now.Before(r.ReviewDueAt) {
		if r.LastReviewedAt == nil {
			r.StaleReasons = append(r.StaleReasons, "never reviewed since it was written on "+day(r.CreatedAt)+
				", over 90 days ago")
		} else {
			r.StaleReasons = append(r.StaleReasons, "last reviewed on "+day(*r.LastReviewedAt)+", over 90 days ago")
		}
	}
	if a := architectureChangedAt; a != nil && base.Before(*a) {
		what := "last review"
		if r.LastReviewedAt == nil {
			what = "writing (it was never reviewed)"
		}
		r.StaleReasons = append(r.StaleReasons, "the architecture of "+r.Service+" changed on "+day(*a)+
			", after its "+what)
	}
	r.Stale = len(r.StaleReasons) > 0
}

// RunbookInput creates a runbook. Owner defaults to its author.
type RunbookInput struct {
	Service string `json:"service"`
	Title   string `json:"title"`
	Body    string `json:"body"`
	Owner   string `json:"owner,omitempty"`
}

// Validate checks the input (service, title and body are required).
func (in *RunbookInput) Validate() error {
	var v Validation
	in.Title = strings.TrimSpace(in.Title)
	in.Owner = strings.TrimSpace(in.Owner)
	if strings.TrimSpace(in.Service) == "" {
		v.Add("service", "is required: the slug of the service the runbook is for")
	} else if !ValidSlug(in.Service) {
		v.Add("service", "names an invalid service %q", in.Service)
	}
	validateTitle(&v, "title", in.Title)
	validateRunbookBody(&v, in.Body)
	v.Text("owner", in.Owner, MaxNameLen)
	return v.Err()
}

func validateRunbookBody(v *Validation, body string) {
	if strings.TrimSpace(body) == "" {
		v.Add("body", "is required: the procedure, in Markdown")
		return
	}
	v.Text("body", body, MaxRunbookLen)
}

// RunbookPatch changes some of a runbook's content; nil fields stay as they are. A change saves a new version.
type RunbookPatch struct {
	Service *string `json:"service,omitempty"`
	Title   *string `json:"title,omitempty"`
	Body    *string `json:"body,omitempty"`
	Owner   *string `json:"owner,omitempty"`
}

// Validate checks the patch.
func (p *RunbookPatch) Validate() error {
	var v Validation
	if p.Service != nil && !ValidSlug(*p.Service) {
		v.Add("service", "names an invalid service %q", *p.Service)
	}
	if p.Title != nil {
		t := strings.TrimSpace(*p.Title)
		p.Title = &t
		validateTitle(&v, "title", t)
	}
	if p.Body != nil {
		validateRunbookBody(&v, *p.Body)
	}
	if p.Owner != nil {
		o := strings.TrimSpace(*p.Owner)
		p.Owner = &o
		if o == "" {
			v.Add("owner", "must name a user")
		} else {
			v.Text("owner", o, MaxNameLen)
		}
	}
	return v.Err()
}

// Apply applies a validated patch to r and reports whether anything changed.
func (p RunbookPatch) Apply(r *Runbook) bool {
	changed := false
	set := func(dst *string, v *string) {
		if v != nil && *v != *dst {
			*dst = *v
			changed = true
		}
	}
	set(&r.Service, p.Service)
	set(&r.Title, p.Title)
	set(&r.Body, p.Body)
	set(&r.Owner, p.Owner)
	return changed
}

// RunbookRevision is one saved version of a runbook's content.
type RunbookRevision struct {
	Version int64     `json:"version"`
	Service string    `json:"service"`
	Title   string    `json:"title"`
	Body    string    `json:"body"`
	Owner   string    `json:"owner"`
	Author  string    `json:"author"`
	SavedAt time.Time `json:"saved_at"`
}

// RunbookFilter selects runbooks, in service then title order. Stale, when set, keeps only stale (true) or only
// fresh (false) runbooks.
type RunbookFilter struct {
	Services []string
	Stale    *bool
	Limit    int
	Cursor   string
}

// RunbookService keeps runbooks. Runbooks are addressed by ID.
//
// Errors: ENotFound; EInvalid (bad fields, an unknown service or owner); EPreconditionFailed when ifVersion is
// non-zero and differs from the stored version.
type RunbookService interface {
	CreateRunbook(ctx context.Context, in RunbookInput) (*Runbook, error)
	GetRunbook(ctx context.Context, id string) (*Runbook, error)
	ListRunbooks(ctx context.Context, f RunbookFilter) (*Page[Runbook], error)
	// UpdateRunbook saves a new version when the patch changes anything (nothing is written otherwise).
	UpdateRunbook(ctx context.Context, id string, p RunbookPatch, ifVersion int64) (*Runbook, error)
	ListRunbookRevisions(ctx context.Context, id string) ([]RunbookRevision, error)
	// ReviewRunbook records that the caller reviewed the runbook now (of version ifVersion, when non-zero).
	ReviewRunbook(ctx context.Context, id string, ifVersion int64) (*Runbook, error)
}
