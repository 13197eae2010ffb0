package firebreak

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"time"
)

// RotationType is how a layer's shifts are measured: in calendar days or weeks of the schedule's time zone (so a
// 09:00 hand-off stays at 09:00 local across daylight saving changes), or in hours (custom).
type RotationType string

const (
	RotationDaily  RotationType = "daily"
	RotationWeekly RotationType = "weekly"
	RotationCustom RotationType = "custom" // Length is in hours
)

// Schedule is an on-call schedule: layers of rotations (a higher layer — later in Layers — replaces the lower
// ones wherever it has coverage) and overrides (someone covers for a range of time, above every layer).
// The math (who is on call, shifts, gaps) is in package oncall.
type Schedule struct {
	ID          string     `json:"id"`
	Name        string     `json:"name"`
	Description string     `json:"description"`
	Team        string     `json:"team"`      // the owning team's slug, or ""
	TimeZone    string     `json:"time_zone"` // IANA name, e.g. Europe/Berlin
	Layers      []Layer    `json:"layers"`
	Overrides   []Override `json:"overrides"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
	Version     int64      `json:"version"`
}

// Layer is one rotation: participants take turns, in order, starting on Start at HandoffTime (schedule time
// zone), each for Length days (daily), weeks (weekly) or hours (custom).
type Layer struct {
	Name         string       `json:"name"`
	Rotation     RotationType `json:"rotation"`
	Length       int          `json:"length"`       // default 1
	Start        string       `json:"start"`        // local date, 2006-01-02: the first shift starts then
	HandoffTime  string       `json:"handoff_time"` // local time of day, 15:04
	Participants []string     `json:"participants"` // usernames, in order
	// Restriction, when set, limits the layer's coverage to a daily time window (local), e.g. 18:00–09:00.
	Restriction *Restriction `json:"restriction,omitempty"`
}

// Restriction is a daily window of local time: From to To (To <= From wraps past midnight), on the listed
// weekdays (of the day the window starts; empty: every day).
type Restriction struct {
	From string   `json:"from"` // 15:04
	To   string   `json:"to"`   // 15:04
	Days []string `json:"days,omitempty"`
}

// Override puts User on call from Start to End, above every layer.
type Override struct {
	ID        string    `json:"id"`
	User      string    `json:"user"` // username
	Start     time.Time `json:"start"`
	End       time.Time `json:"end"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
}

// ScheduleInput creates or replaces a schedule (its overrides are managed on their own).
type ScheduleInput struct {
	Name        string  `json:"name"`
	Description string  `json:"description,omitempty"`
	Team        string  `json:"team,omitempty"`
	TimeZone    string  `json:"time_zone"`
	Layers      []Layer `json:"layers"`
}

// OverrideInput adds an override.
type OverrideInput struct {
	User  string    `json:"user"`
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// MaxLayers and MaxParticipants bound a schedule.
const (
	MaxLayers       = 20
	MaxParticipants = 200
)

// WeekdayNames are the weekday names a Restriction accepts, Sunday first (time.Weekday order).
var WeekdayNames = []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

var clockRE = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]$`)

// ValidClock reports whether s is a time of day 00:00–23:59.
func ValidClock(s string) bool { return clockRE.MatchString(s) }

// Validate checks the input: a known time zone, and for every layer a rotation type, a positive length, a start
// date, a hand-off time and at least one participant. Unknown users are the store's to report.
func (in *ScheduleInput) Validate() error {
	var v Validation
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" {
		v.Add("name", "is required")
	} else if strings.ContainsAny(in.Name, "\r\n") {
		v.Add("name", "must be one line")
	} else {
		v.Text("name", in.Name, MaxNameLen)
	}
	v.Text("description", in.Description, MaxTextLen)
	in.Team = strings.TrimSpace(in.Team)
	if in.Team != "" && !ValidSlug(in.Team) {
		v.Add("team", "must be a team slug")
	}
	in.TimeZone = strings.TrimSpace(in.TimeZone)
	if in.TimeZone == "" {
		v.Add("time_zone", "is required (an IANA time zone such as Europe/Berlin, or UTC)")
	} else if _, err := time.LoadLocation(in.TimeZone); err != nil || strings.EqualFold(in.TimeZone, "Local") {
		v.Add("time_zone", "unknown time zone %q", in.TimeZone)
	}
	if len(in.Layers) == 0 {
		v.Add("layers", "must have at least one layer")
	}
	if len(in.Layers) > MaxLayers {
		v.Add("layers", "must have at most %d layers", MaxLayers)
	}
	for i := range in.Layers {
		in.Layers[i].validate(&v, "layers["+itoa(i)+"]")
	}
	return v.Err()
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}

func (l *Layer) validate(v *Validation, at string) {
	l.Name = strings.TrimSpace(l.Name)
	if strings.ContainsAny(l.Name, "\r\n") {
		v.Add(at+".name", "must be one line")
	} else {
		v.Text(at+".name", l.Name, MaxNameLen)
	}
	switch l.Rotation {
	case RotationDaily, RotationWeekly:
		if l.Length == 0 {
			l.Length = 1
		}
		if l.Length < 1 || l.Length > 366 {
			v.Add(at+".length", "must be 1–366 (days or weeks)")
		}
	case RotationCustom:
		if l.Length < 1 || l.Length > 24*366 {
			v.Add(at+".length", "must be 1–%d hours", 24*366)
		}
	default:
		v.Add(at+".rotation", "must be daily, weekly or custom")
	}
	if _, err := time.Parse(time.DateOnly, l.Start); err != nil {
		v.Add(at+".start", "must be a date, YYYY-MM-DD")
	}
	if l.HandoffTime == "" {
		l.HandoffTime = "09:00"
	}
	if !ValidClock(l.HandoffTime) {
		v.Add(at+".handoff_time", "must be a time of day, HH:MM")
	}
	if len(l.Participants) == 0 {
		v.Add(at+".participants", "must name at least one user")
	}
	if len(l.Participants) > MaxParticipants {
		v.Add(at+".participants", "must name at most %d users", MaxParticipants)
	}
	for i, p := range l.Participants {
		l.Participants[i] = strings.ToLower(strings.TrimSpace(p))
		if l.Participants[i] == "" {
			v.Add(at+".participants", "must not contain empty names")
		}
	}
	if r := l.Restriction; r != nil {
		if !ValidClock(r.From) {
			v.Add(at+".restriction.from", "must be a time of day, HH:MM")
		}
		if !ValidClock(r.To) {
			v.Add(at+".restriction.to", "must be a time of day, HH:MM")
		}
		for i, d := range r.Days {
			r.Days[i] = strings.ToLower(strings.TrimSpace(d))
			if !slices.Contains(WeekdayNames, r.Days[i]) {
				v.Add(at+".restriction.days", "must be weekday names: sun, mon, tue, wed, thu, fri, sat")
				break
			}
		}
	}
}

// Validate checks an override: a user and a non-empty range of at most a year.
func (in *OverrideInput) Validate() error {
	var v Validation
	in.User = strings.ToLower(strings.TrimSpace(in.User))
	if in.User == "" {
		v.Add("user", "is required")
	}
	if in.Start.IsZero() {
		v.Add("start", "is required")
	}
	if in.End.IsZero() {
		v.Add("end", "is required")
	} else if !in.End.After(in.Start) {
		v.Add("end", "must be after start")
	} else if in.End.Sub(in.Start) > 366*24*time.Hour {
		v.Add("end", "must be at most a year after start")
	}
	in.Start = in.Start.UTC().Truncate(time.Microsecond)
	in.End = in.End.UTC().Truncate(time.Microsecond)
	return v.Err()
}

// ScheduleFilter selects schedules. Zero values select everything.
type ScheduleFilter struct {
	Team string // team slug
	User string // username taking part in a layer or an override
}

// Calendar feed kinds.
const (
	FeedSchedule = "schedule"
	FeedUser     = "user"
)

// ScheduleService keeps on-call schedules and their calendar feed tokens.
//
// Errors: ENotFound (schedule, override, team, user); EInvalid (bad fields, unknown participants or team);
// EPreconditionFailed on a stale version.
type ScheduleService interface {
	CreateSchedule(ctx context.Context, in ScheduleInput) (*Schedule, error)
	GetSchedule(ctx context.Context, id string) (*Schedule, error)
	ListSchedules(ctx context.Context, f ScheduleFilter) ([]Schedule, error)
	UpdateSchedule(ctx context.Context, id string, in ScheduleInput, ifVersion int64) (*Schedule, error)
	DeleteSchedule(ctx context.Context, id string) error
	AddOverride(ctx context.Context, scheduleID string, in OverrideInput) (*Override, error)
	DeleteOverride(ctx context.Context, scheduleID, overrideID string) error
	// IssueCalendarFeed creates (or replaces: the old one stops working) the secret token of the calendar feed
	// of a schedule (kind FeedSchedule, subject its ID) or a user (FeedUser, subject the username), and returns
	// it; only its hash is stored.
	IssueCalendarFeed(ctx context.Context, kind, subject string) (string, error)
	// CheckCalendarFeed returns nil when token is the current feed token of the subject, else ENotFound.
	CheckCalendarFeed(ctx context.Context, kind, subject, token string) error
}
