package firebreak

import (
	"context"
	"strings"
	"time"
)

// Maintenance windows: planned work on some services during which their alerts page nobody. An alert of a service
// that fires while one of the service's windows is active is recorded and marked suppressed ("maintenance", with
// the window's ID) but opens or joins no incident. A window is never deleted: cancelling keeps it (with
// CancelledAt), so that reports and the public status page ("scheduled maintenance") can still show it.

// MaxMaintenanceDuration is the longest a maintenance window may last.
const MaxMaintenanceDuration = 31 * 24 * time.Hour

// MaintenanceState is where a window stands at a given time.
type MaintenanceState string

const (
	MaintenanceScheduled MaintenanceState = "scheduled" // starts later
	MaintenanceActive    MaintenanceState = "active"    // StartsAt ≤ now < EndsAt, not cancelled
	MaintenanceCompleted MaintenanceState = "completed" // ended
	MaintenanceCancelled MaintenanceState = "cancelled" // cancelled (before or while it ran)
)

// MaintenanceStates lists every state.
var MaintenanceStates = []MaintenanceState{MaintenanceScheduled, MaintenanceActive, MaintenanceCompleted,
	MaintenanceCancelled}

// MaintenanceWindow is planned maintenance of some services over [StartsAt, EndsAt).
type MaintenanceWindow struct {
	ID       string   `json:"id"`
	Services []string `json:"services"` // slugs
	Title    string   `json:"title"`
	// Description says what is done and what users may notice (the text a status page shows).
	Description string    `json:"description"`
	StartsAt    time.Time `json:"starts_at"`
	EndsAt      time.Time `json:"ends_at"`
	// CancelledAt is set when the window was cancelled; it suppresses nothing from then on.
	CancelledAt *time.Time `json:"cancelled_at"`
	// State is computed when the window is read.
	State     MaintenanceState `json:"state"`
	CreatedBy string           `json:"created_by"`
	CreatedAt time.Time        `json:"created_at"`
	UpdatedAt time.Time        `json:"updated_at"`
	// Version increases with every change; the HTTP layer serves it as the ETag.
	Version int64 `json:"version"`
}

// StateAt is the window's state at now.
func (w *MaintenanceWindow) StateAt(now time.Time) MaintenanceState {
	switch {
	case w.CancelledAt != nil:
		return MaintenanceCancelled
	case now.Before(w.StartsAt):
		return MaintenanceScheduled
	case now.Before(w.EndsAt):
		return MaintenanceActive
	}
	return MaintenanceCompleted
}

// MaintenanceInput creates a maintenance window.
type MaintenanceInput struct {
	Services    []string  `json:"services"`
	Title       string    `json:"title"`
	Description string    `json:"description,omitempty"`
	StartsAt    time.Time `json:"starts_at"`
	EndsAt      time.Time `json:"ends_at"`
}

// Validate checks the input at now: at least one service, a one-line title, and an end after the start that is
// still to come, at most MaxMaintenanceDuration after it.
func (in *MaintenanceInput) Validate(now time.Time) error {
	var v Validation
	in.Title = strings.TrimSpace(in.Title)
	in.Description = strings.TrimSpace(in.Description)
	validateTitle(&v, "title", in.Title)
	v.Text("description", in.Description, MaxTextLen)
	if len(in.Services) == 0 {
		v.Add("services", "name at least one service")
	}
	validateServiceRefs(&v, "services", in.Services)
	in.StartsAt, in.EndsAt = in.StartsAt.UTC().Truncate(time.Microsecond), in.EndsAt.UTC().Truncate(time.Microsecond)
	validateMaintenanceTimes(&v, in.StartsAt, in.EndsAt, now)
	return v.Err()
}

func validateMaintenanceTimes(v *Validation, start, end, now time.Time) {
	switch {
	case start.IsZero():
		v.Add("starts_at", "is required")
	case end.IsZero():
		v.Add("ends_at", "is required")
	case !end.After(start):
		v.Add("ends_at", "must be after starts_at")
	case end.Sub(start) > MaxMaintenanceDuration:
		v.Add("ends_at", "must be at most %s after starts_at", ShortDuration(MaxMaintenanceDuration))
	case !end.After(now):
		v.Add("ends_at", "must be in the future")
	}
}

// MaintenancePatch changes some fields of a window that has not ended; nil fields stay as they are.
type MaintenancePatch struct {
	Services    *[]string  `json:"services,omitempty"`
	Title       *string    `json:"title,omitempty"`
	Description *string    `json:"description,omitempty"`
	StartsAt    *time.Time `json:"starts_at,omitempty"`
	EndsAt      *time.Time `json:"ends_at,omitempty"`
}

// Apply validates the patch against w at now and applies it to w; it reports whether anything changed.
func (p *MaintenancePatch) Apply(w *MaintenanceWindow, now time.Time) (bool, error) {
	var v Validation
	next := *w
	if p.Title != nil {
		next.Title = strings.TrimSpace(*p.Title)
		validateTitle(&v, "title", next.Title)
	}
	if p.Description != nil {
		next.Description = strings.TrimSpace(*p.Description)
		v.Text("description", next.Description, MaxTextLen)
	}
	if p.Services != nil {
		next.Services = append([]string(nil), *p.Services...)
		if len(next.Services) == 0 {
			v.Add("services", "name at least one service")
		}
		validateServiceRefs(&v, "services", next.Services)
	}
	if p.StartsAt != nil {
		next.StartsAt = p.StartsAt.UTC().Truncate(time.Microsecond)
	}
	if p.EndsAt != nil {
		next.EndsAt = p.EndsAt.UTC().Truncate(time.Microsecond)
	}
	if p.StartsAt != nil || p.EndsAt != nil {
		validateMaintenanceTimes(&v, next.StartsAt, next.EndsAt, now)
	}
	if err := v.Err(); err != nil {
		return false, err
	}
	changed := next.Title != w.Title || next.Description != w.Description || !next.StartsAt.Equal(w.StartsAt) ||
		!next.EndsAt.Equal(w.EndsAt) || strings.Join(next.Services, "\x00") != strings.Join(w.Services, "\x00")
	if !changed {
		return false, nil
	}
	switch w.StateAt(now) {
	case MaintenanceCancelled:
		return false, Errorf(EConflict, "maintenance window %s is cancelled", w.ID)
	case MaintenanceCompleted:
		return false, Errorf(EConflict, "maintenance window %s has ended", w.ID)
	}
	*w = next
	w.UpdatedAt = now
	w.Version++
	return true, nil
}

// MaintenanceFilter selects windows. State "" lists every window, most recent start first; "scheduled" and
// "active" list those windows at At (default now), soonest start first; "completed" and "cancelled" most recent
// start first.
type MaintenanceFilter struct {
	Service string
	State   MaintenanceState
	At      *time.Time
	Limit   int
	Cursor  string
}

// MaintenanceService keeps maintenance windows.
//
// Errors: EInvalid (naming the field; unknown services in "services"); ENotFound; EConflict (changing a window
// that ended or was cancelled); EPreconditionFailed (stale ifVersion).
type MaintenanceService interface {
	CreateMaintenance(ctx context.Context, in MaintenanceInput) (*MaintenanceWindow, error)
	ListMaintenance(ctx context.Context, f MaintenanceFilter) (*Page[MaintenanceWindow], error)
	GetMaintenance(ctx context.Context, id string) (*MaintenanceWindow, error)
	// UpdateMaintenance changes a window that has not ended; ifVersion, when not 0, must be its version.
	UpdateMaintenance(ctx context.Context, id string, p MaintenancePatch, ifVersion int64) (*MaintenanceWindow, error)
	// CancelMaintenance cancels a window that has not ended (an active one stops suppressing at once). Cancelling
	// a cancelled window changes nothing. ifVersion, when not 0, must be its version.
	CancelMaintenance(ctx context.Context, id string, ifVersion int64) (*MaintenanceWindow, error)
}
