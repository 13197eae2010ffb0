package demo

import (
	"time"

	"github.com/firebreak/firebreak"
)

// Paging: the responders' contact methods, two on-call schedules with weekly rotations and an escalation policy on
// every service, so that the demo's newest incidents (the alert storm's, and the delayed emails nobody has
// acknowledged yet) are being paged when the server starts and their pages show on the incident page's
// escalation panel.
//
// The contact methods are the users' example.com email addresses: example.com is reserved (RFC 2606) and accepts
// no mail, so nothing real is ever reached. Without SMTP settings each message to them fails at once with a
// permanent error and is dead-lettered after that single attempt (the incident's timeline and the operator's
// Notifications page show it); with SMTP settings the relay refuses or bounces them. Either way every message is
// tried a bounded number of times: nothing retries forever.
//
// The policies are attached to the services only after the older incidents were loaded, so their declarations
// page nobody (no stale pages go out when the server starts); the incidents of the last hour page as they would.

// PrimarySchedule and CommanderSchedule are the names of the demo's on-call schedules.
const (
	PrimarySchedule   = "Primary on-call"
	CommanderSchedule = "Incident commanders"
)

// Escalation policies of the demo: Tier1Policy pages for tier-1 services, OtherPolicy for the rest.
const (
	Tier1Policy = "Tier 1: page now"
	OtherPolicy = "Tier 2-3: business hours"
)

// mondayBefore is midnight UTC of the Monday n weeks before t's week.
func mondayBefore(t time.Time, n int) time.Time {
	d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	for d.Weekday() != time.Monday {
		d = d.AddDate(0, 0, -1)
	}
	return d.AddDate(0, 0, -7*n)
}

// onCall adds the responders' contact methods and the on-call schedules.
func (l *loader) onCall() {
	if l.err != nil || l.t.Contacts == nil || l.t.Schedules == nil {
		return
	}
	created := l.t.Now.AddDate(0, 0, -80)
	for i, u := range Users {
		if u.Role == firebreak.RoleViewer {
			continue // victor reads; nobody pages him
		}
		ctx := l.as(u.Username, created.Add(time.Duration(i)*time.Minute))
		have, err := l.t.Contacts.ListContactMethods(ctx, u.Username)
		if err == nil && len(have) > 0 {
			continue // left by an earlier, interrupted load
		}
		if err == nil {
			_, err = l.t.Contacts.AddContactMethod(ctx, u.Username, firebreak.ChannelInput{
				Kind: firebreak.ChannelEmail, Address: u.Email})
		}
		if err != nil {
			l.fail("adding the contact method of "+u.Username, err)
			return
		}
	}
	start := mondayBefore(l.t.Now, 8).Format(time.DateOnly)
	for _, in := range []firebreak.ScheduleInput{
		{Name: PrimarySchedule, TimeZone: "UTC",
			Description: "First responder for every service: one week each, handed over on Monday at 09:00.",
			Layers: []firebreak.Layer{{Name: "Weekly rotation", Rotation: firebreak.RotationWeekly, Start: start,
				HandoffTime: "09:00", Participants: []string{"dave", "bob", "erin"}}}},
		{Name: CommanderSchedule, TimeZone: "UTC",
			Description: "Incident commander on duty, paged when the first responder does not acknowledge.",
			Layers: []firebreak.Layer{{Name: "Weekly rotation", Rotation: firebreak.RotationWeekly, Start: start,
				HandoffTime: "09:00", Participants: []string{"alice", "erin"}}}},
	} {
		if l.err != nil {
			return
		}
		_, err := l.t.Schedules.CreateSchedule(l.as("admin", created.Add(time.Hour)), in)
		if firebreak.ErrorCode(err) == firebreak.EConflict {
			err = nil
		}
		l.fail("creating schedule "+in.Name, err)
	}
}

// escalation creates the escalation policies and attaches them to every service.
func (l *loader) escalation(at time.Time) {
	if l.err != nil || l.t.Escalation == nil || l.t.Contacts == nil || l.t.Schedules == nil {
		return
	}
	ctx := l.as("admin", at)
	step := func(d time.Duration, targets ...firebreak.EscalationTarget) firebreak.EscalationStep {
		return firebreak.EscalationStep{Delay: firebreak.Duration(d), Targets: targets}
	}
	schedule := func(name string) firebreak.EscalationTarget {
		return firebreak.EscalationTarget{Type: firebreak.TargetSchedule, Ref: name}
	}
	user := func(name string) firebreak.EscalationTarget {
		return firebreak.EscalationTarget{Type: firebreak.TargetUser, Ref: name}
	}
	for _, in := range []firebreak.EscalationPolicyInput{
		{Name: Tier1Policy, Repeat: 1,
			Description: "Customer-facing outage: the first responder at once, then the commander on duty, then the SRE lead.",
			Steps: []firebreak.EscalationStep{step(5*time.Minute, schedule(PrimarySchedule)),
				step(10*time.Minute, schedule(CommanderSchedule)), step(15*time.Minute, user("erin"))}},
		{Name: OtherPolicy,
			Description: "Degraded internal or tier-2/3 service: the first responder, then the SRE lead.",
			Steps: []firebreak.EscalationStep{step(15*time.Minute, schedule(PrimarySchedule)),
				step(30*time.Minute, user("erin"))}},
	} {
		if l.err != nil {
			return
		}
		_, err := l.t.Escalation.CreateEscalationPolicy(ctx, in)
		if firebreak.ErrorCode(err) == firebreak.EConflict {
			err = nil
		}
		l.fail("creating escalation policy "+in.Name, err)
	}
	for _, s := range Services {
		if l.err != nil {
			return
		}
		name := OtherPolicy
		if s.Tier == 1 {
			name = Tier1Policy
		}
		_, err := l.t.Catalog.UpdateService(ctx, s.Slug, firebreak.ServicePatch{EscalationPolicy: &name}, 0)
		l.fail("attaching an escalation policy to "+s.Slug, err)
	}
}
