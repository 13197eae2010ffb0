package demo

import (
	"time"

	"github.com/firebreak/firebreak"
)

// Runbooks and change control, drawn from the seed: the incident response runbook (severity levels, roles, the
// commander approving production changes), the postgres-primary failover runbook that was out of date after the
// spring migration and rewritten after the incident it slowed down, and a catalog runbook made stale by an
// architecture change. On the open incidents, changes are proposed and decided by their commanders.

// FailoverRunbook is the runbook rewritten after the incident; StaleRunbook is stale when the data is loaded.
const (
	FailoverRunbook = "Fail over the PostgreSQL primary"
	StaleRunbook    = "Slow product pages"
)

// failoverV1 is the failover runbook as it was before the spring migration (the seed's stale runbook: it names a
// decommissioned pgbouncer host and a tool that no longer exists).
const failoverV1 = `# Fail over the PostgreSQL primary

Use when the primary is down or refuses connections for more than 5 minutes.

1. Confirm the primary is down: ` + "`psql -h pg-primary.internal -c 'select 1'`" + `
2. Stop writes: pause the order workers.
3. Promote the replica: ` + "`dbctl promote pg-replica-1`" + `
4. Repoint **pgbouncer-legacy.internal** at the new primary and reload it.
5. Resume the order workers and watch the error rate.

Escalation: the database team lead.
`

// failoverV2 is the rewrite after the incident, for the current architecture.
const failoverV2 = `# Fail over the PostgreSQL primary

Use when the primary is down or refuses connections for more than 5 minutes. Target: done in 30 minutes.

## Before you start
- Declare an incident (SEV1 if checkout fails) and get an incident commander: **the commander approves the
  failover** before step 3 (propose it on the incident page).
- Open the database dashboard: https://grafana.example.com/d/postgres-primary

## Steps
1. Confirm the primary is down: ` + "`kubectl -n db get pods -l role=primary`" + ` and the connection errors
   on the dashboard.
2. Stop writes: scale the order workers to zero (` + "`kubectl -n orders scale deploy/order-worker --replicas=0`" + `).
3. Promote the replica through the cluster operator:
   ` + "```" + `
   kubectl -n db annotate postgrescluster/main promote=pg-replica-1
   ` + "```" + `
4. Services connect to ` + "`postgres-primary.db.svc`" + ` directly (there is no pgbouncer since the spring
   migration): nothing to repoint. Check that auth, orders and payments reconnect.
5. Scale the order workers back and watch the error rate for 15 minutes.

## Escalation
| Who | When |
|-----|------|
| Database on-call | first |
| Database team lead (bob) | not promoted within 15 minutes |
| Incident commander → CTO | SEV1 over one hour |
`

// responseRunbook is the seed's incident response runbook.
const responseRunbook = `# Major service disruption response

## Severity levels
| Level | Meaning | Response time | Escalation path |
|-------|---------|---------------|-----------------|
| SEV1 | Complete service outage affecting all users | within 5 minutes | On-call engineer → Incident Commander → CTO |
| SEV2 | Partial outage affecting a significant subset of users | within 15 minutes | On-call engineer → Incident Commander → Engineering Manager |
| SEV3 | Degradation with minimal user impact | within 30 minutes | On-call engineer → Team Lead |

## Roles
- **Incident Commander**: coordinates the response, makes the final decisions on mitigation actions and
  *approves all production changes during the incident*; can halt any remediation deemed risky.
- **Technical Lead**: leads the investigation and *proposes* remediation actions.
- **Communications Lead**: internal and external communication, the status page, customer support.

## Procedure
1. **Detection**: acknowledge, verify impact and scope, declare the incident and its severity, page the
   incident commander.
2. **Response**: open the incident bridge and chat, assign the roles, post the first status update.
3. **Mitigation**: propose the mitigation plan; the incident commander approves it; execute; verify it works;
   update the status page.
4. **Resolution**: confirm restoration, notify stakeholders, schedule the post-mortem within 48 hours.

## Escalate when
- no progress on the root cause within 30 minutes;
- mitigation has no effect within 15 minutes;
- critical business functions are affected, or the incident lasts over one hour.
`

const poolRunbook = `# Orders connection pool exhausted

Symptom: order pages slow, ` + "`pool wait`" + ` p99 above 1 s, 100/100 connections in use.

1. Find what holds connections: the *Top queries by connection time* panel on the orders dashboard.
2. If one endpoint dominates, **propose** disabling it with its feature flag on the incident; the incident
   commander approves.
3. Do not raise the pool size above 100 per instance: postgres-primary allows 1,000 connections in all.
4. Restarting the orders pods frees connections for minutes only; it is not a fix.
`

const catalogRunbook = `# Slow product pages

1. Check the catalog dashboard: p99 of ` + "`GET /products/{id}`" + ` should be under 300 ms.
2. Product tags live in the ` + "`products.tags`" + ` JSON column; a slow page is usually a cold cache:
   run ` + "`catalogctl cache warm`" + `.
3. If search is slow too, the indexer may be reindexing; see the search runbook.
`

// runbooks writes the demo runbooks and the architecture changes that date them.
func (l *loader) runbooks() {
	rs := l.t.Runbooks
	if rs == nil || l.err != nil {
		return
	}
	create := func(who string, at time.Time, in firebreak.RunbookInput) *firebreak.Runbook {
		if l.err != nil {
			return nil
		}
		rb, err := rs.CreateRunbook(l.as(who, l.clamp(at)), in)
		l.fail("creating runbook "+in.Title, err)
		return rb
	}
	review := func(who string, at time.Time, rb *firebreak.Runbook) {
		if l.err == nil && rb != nil {
			_, err := rs.ReviewRunbook(l.as(who, l.clamp(at)), rb.ID, 0)
			l.fail("reviewing runbook "+rb.Title, err)
		}
	}
	archChange := func(slug string, at time.Time) {
		if l.err == nil {
			t := l.clamp(at)
			_, err := l.t.Catalog.UpdateService(l.as("admin", t), slug,
				firebreak.ServicePatch{ArchitectureChangedAt: &t}, 0)
			l.fail("recording the architecture change of "+slug, err)
		}
	}

	resp := create("erin", hm(l.day(70), 10, 0), firebreak.RunbookInput{Service: "api-gateway",
		Title: "Major service disruption response", Body: responseRunbook})
	review("alice", hm(l.day(20), 15, 0), resp)

	failover := create("bob", hm(l.day(75), 14, 0), firebreak.RunbookInput{Service: "postgres-primary",
		Title: FailoverRunbook, Body: failoverV1})
	review("bob", hm(l.day(74), 9, 0), failover)
	// The spring migration: pgbouncer removed, promotion through the cluster operator. The runbook is stale
	// from here until its rewrite after the incident it slowed down (staleRunbook).
	archChange("postgres-primary", hm(l.day(30), 18, 0))
	if failover != nil && l.err == nil {
		body := failoverV2
		_, err := rs.UpdateRunbook(l.as("bob", hm(l.day(4), 16, 0)), failover.ID, firebreak.RunbookPatch{Body: &body}, 1)
		l.fail("rewriting the failover runbook", err)
		review("erin", hm(l.day(2), 11, 0), failover)
	}

	pool := create("alice", hm(l.day(20), 11, 0), firebreak.RunbookInput{Service: "orders",
		Title: "Orders connection pool exhausted", Body: poolRunbook, Owner: "bob"})
	review("bob", hm(l.day(19), 10, 0), pool)

	catalog := create("dave", hm(l.day(60), 13, 0), firebreak.RunbookInput{Service: "product-catalog",
		Title: StaleRunbook, Body: catalogRunbook})
	review("dave", hm(l.day(59), 9, 30), catalog)
	// Tags moved from a JSON column to their own table, and the cache was removed: the runbook above was not
	// reviewed since, so it is stale.
	archChange("product-catalog", hm(l.day(15), 17, 0))
}

// changeControl proposes and decides production changes on the open incidents, as their commanders would.
func (l *loader) changeControl() {
	cc := l.t.ChangeControl
	if cc == nil || l.err != nil {
		return
	}
	propose := func(key, who string, at time.Time, in firebreak.ProposalInput) *firebreak.ChangeProposal {
		ref := l.refs[key]
		if l.err != nil || ref == "" {
			return nil
		}
		p, err := cc.ProposeChange(l.as(who, l.clamp(at)), ref, in)
		l.fail(ref+": proposing "+in.Action, err)
		return p
	}
	decide := func(who string, at time.Time, p *firebreak.ChangeProposal, d firebreak.Decision, note string) {
		if l.err == nil && p != nil {
			_, err := cc.DecideProposal(l.as(who, l.clamp(at)), p.Incident, p.ID, d, firebreak.DecisionInput{Note: note})
			l.fail(p.Incident+": deciding "+p.Action, err)
		}
	}
	// The pool exhaustion (commander alice): the export endpoint is disabled after her approval.
	if t0 := l.t.Now.Add(-130 * time.Minute).Truncate(time.Minute); l.refs["pool"] != "" {
		m := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Minute) }
		restart := propose("pool", "dave", m(10), firebreak.ProposalInput{Action: "Restart the orders pods",
			Reason: "frees the pool connections", Risk: firebreak.RiskMedium})
		decide("alice", m(13), restart, firebreak.DecisionReject,
			"a restart frees connections for minutes only; find what holds them first")
		flag := propose("pool", "bob", m(24), firebreak.ProposalInput{
			Action: "Disable /reports/export with its feature flag",
			Reason: "its N+1 queries hold 80% of the orders connections", Risk: firebreak.RiskLow})
		decide("alice", m(26), flag, firebreak.DecisionApprove, "go; carol tells support the export is off")
	}
	// The catalog latency (commander erin, investigating): a proposal waits for her.
	if t0 := l.t.Now.Add(-50 * time.Minute).Truncate(time.Minute); l.refs["catalog"] != "" {
		m := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Minute) }
		propose("catalog", "dave", m(17), firebreak.ProposalInput{
			Action: "Add an index on product_tags (product_id)",
			Reason: "the listing query runs a tag subquery per row with a full scan", Risk: firebreak.RiskMedium})
	}
}
