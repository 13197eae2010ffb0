package app

import (
	"fmt"
	"time"

	"github.com/firebreak/firebreak"
)

// fileFollowThrough is the follow_through: section of the config file (every key optional; defaults in
// firebreak.DefaultFollowThroughPolicy).
//
//	follow_through:
//	  overdue_reminders: {first: 9h, every: 168h, team_after: 168h}
//	  follow_up_review_reminders: {every: 168h}
//	  close_requires: [SEV1, SEV2]        # [] lets every incident close without follow-through
//	  postmortem_due_business_days: 5
type fileFollowThrough struct {
	OverdueReminders struct {
		First     time.Duration `yaml:"first"`
		Every     time.Duration `yaml:"every"`
		TeamAfter time.Duration `yaml:"team_after"`
	} `yaml:"overdue_reminders"`
	FollowUpReviewReminders struct {
		Every time.Duration `yaml:"every"`
	} `yaml:"follow_up_review_reminders"`
	CloseRequires             *[]firebreak.Severity `yaml:"close_requires"`
	PostmortemDueBusinessDays int                   `yaml:"postmortem_due_business_days"`
}

func (f fileFollowThrough) apply(p *firebreak.FollowThroughPolicy) error {
	o := f.OverdueReminders
	n := *p
	if o.First != 0 {
		n.OverdueFirst = o.First
	}
	if o.Every != 0 {
		n.OverdueEvery = o.Every
	}
	if o.TeamAfter != 0 {
		n.TeamAfter = o.TeamAfter
	}
	if e := f.FollowUpReviewReminders.Every; e != 0 {
		n.ReviewEvery = e
	}
	if f.CloseRequires != nil {
		n.CloseRequires = append([]firebreak.Severity{}, *f.CloseRequires...)
	}
	if f.PostmortemDueBusinessDays != 0 {
		n.PostmortemDueBusinessDays = f.PostmortemDueBusinessDays
	}
	if err := n.Validate(); err != nil {
		return fmt.Errorf("follow_through: %w", err)
	}
	*p = n
	return nil
}
