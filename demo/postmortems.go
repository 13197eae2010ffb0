package demo

import (
	"time"

	"github.com/firebreak/firebreak"
)

// Post-mortems of the demo: published where the story says the review happened, so that the close policy (a
// SEV1 or SEV2 closes only with its post-mortem published and every action item verified or not_doing) holds
// for the incidents the demo closes, and the follow-up list has a review that is due.

// publishPostmortem fills the incident's drafted post-mortem as author at at, submits it, has approver approve
// it a few minutes later and publishes it. It reports false (doing nothing) when the Target has no
// PostmortemService.
func (s *incident) publishPostmortem(author, approver string, at time.Time, p firebreak.PostmortemPatch) bool {
	pms := s.l.t.Postmortems
	if !s.ok() || pms == nil {
		return false
	}
	p.Reviewers = &[]firebreak.Reviewer{{User: approver, Approver: true}}
	step := func(what string, err error) bool {
		s.l.fail(s.ref+": "+what+" the post-mortem", err)
		return err == nil
	}
	_, err := pms.UpdatePostmortem(s.l.as(author, at), s.ref, p, 0)
	if !step("writing", err) {
		return false
	}
	_, err = pms.SubmitPostmortem(s.l.as(author, at.Add(time.Minute)), s.ref, 0)
	if !step("submitting", err) {
		return false
	}
	_, err = pms.ApprovePostmortem(s.l.as(approver, at.Add(20*time.Minute)), s.ref, firebreak.ApproveInput{
		Comment: "Reviewed in the post-mortem meeting."}, 0)
	if !step("approving", err) {
		return false
	}
	_, err = pms.PublishPostmortem(s.l.as(author, at.Add(25*time.Minute)), s.ref, 0)
	return step("publishing", err)
}

func secs(n int64) *int64 { return &n }

func strs(xs ...string) *[]string { return &xs }

// checkoutPostmortem is seed 000's post-mortem: contributing factors, not a culprit.
var checkoutPostmortem = firebreak.PostmortemPatch{
	Summary: ptrS("A routine dependency update in shipping leaked memory. Orders waited on shipping and payments " +
		"waited on orders, without timeouts, so no checkout succeeded for 30 minutes."),
	Impact: &firebreak.PostmortemImpact{Description: "Customers could not pay from 14:10 to 14:40 UTC on a Friday " +
		"afternoon.", DurationSeconds: secs(1200), CustomerFacing: true},
	LeadUp:  ptrS("Shipping deployed an updated HTTP client library at 14:00 UTC as part of routine dependency updates."),
	Trigger: ptrS("The new library version leaked about 200 MB of memory per minute in the shipping service."),
	Detection: &firebreak.PostmortemDetection{Narrative: "The checkout success-rate alert fired at 14:15 UTC.",
		Gap: "Memory growth on shipping alerted nobody; an alert on memory growth would have fired minutes after " +
			"the deploy."},
	Response: ptrS("A SEV1 was declared at 14:17 with a commander, a technical lead and a communications lead; the " +
		"team looked for what the system lacked."),
	Recovery: ptrS("Shipping was rolled back at 14:30 UTC; checkout recovered by 14:40."),
	ContributingFactors: &[]firebreak.ContributingFactor{
		{Category: firebreak.CategoryChange, Description: "A dependency update reached production without a soak test",
			PrimaryTrigger: true, Evidence: []string{}},
		{Category: firebreak.CategoryCode, Description: "Orders and payments call their dependencies without " +
			"timeouts or circuit breakers", Evidence: []string{}},
		{Category: firebreak.CategoryObservability, Description: "No alert watched memory growth", Evidence: []string{}},
	},
	WentWell:   strs("The rollback took four minutes", "Customers heard from us within five minutes"),
	WentPoorly: strs("One slow dependency stopped every checkout", "The leak was visible on dashboards but alerted nobody"),
	Lessons:    strs("Every internal call needs a timeout and a circuit breaker", "Soak-test dependency updates before release"),
}

// runbookPostmortem is the stale runbook's post-mortem.
var runbookPostmortem = firebreak.PostmortemPatch{
	Summary: ptrS("postgres-primary lost its storage volume at 09:40 UTC. A failover should take 30 minutes; it took " +
		"over three hours because the failover runbook described the architecture before the spring migration."),
	Impact: &firebreak.PostmortemImpact{Description: "Sign-in, ordering and the public API failed for customers from " +
		"09:40 to 12:20 UTC.", DurationSeconds: secs(9600), CustomerFacing: true},
	LeadUp: ptrS("The spring migration removed pgbouncer-legacy and replaced dbctl with the cluster operator; the " +
		"runbook was not on the migration's checklist."),
	Trigger: ptrS("The primary's storage volume failed."),
	Detection: &firebreak.PostmortemDetection{Narrative: "The connection-refused alert on postgres-primary fired at " +
		"09:46 UTC.", Gap: "Nothing watched the volume's health; an alert on I/O errors would have fired minutes earlier."},
	Response: ptrS("The on-call engineer followed the runbook to step 4, which names a host that no longer exists, " +
		"then escalated; the database team joined at 10:40."),
	Recovery: ptrS("A replica was promoted through the cluster operator at 12:20 UTC and services reconnected directly."),
	ContributingFactors: &[]firebreak.ContributingFactor{
		{Category: firebreak.CategoryProcess, Description: "The failover runbook was not reviewed when the " +
			"architecture changed", Evidence: []string{"https://runbooks.example.com/postgres-primary/failover"}},
		{Category: firebreak.CategoryInfrastructure, Description: "One storage volume failure stopped the primary",
			PrimaryTrigger: true, Evidence: []string{}},
	},
	WentWell:   strs("The database team joined quickly once the runbook failed", "Customers were told within an hour"),
	WentPoorly: strs("The runbook pointed to decommissioned hosts and tools", "The new failover procedure was not practised"),
	GotLucky:   strs("The replicas were up to date, so no data was lost"),
	Lessons:    strs("Runbooks are part of the architecture: review them with every change", "Practise failovers in staging"),
}

func ptrS(s string) *string { return &s }
