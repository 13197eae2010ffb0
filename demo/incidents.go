package demo

import (
	"time"

	"github.com/firebreak/firebreak"
)

// The incidents below follow the scenarios of the seed material (docs in ../shared/seeds): the SEV1 post-mortem
// "Cascading service failures during peak traffic" with its timeline and action-item table, the deadlock, the
// connection-pool exhaustion, the payment outage behind a shipping deploy, the stale runbook, and the series of
// payment outages whose post-mortem action items were never finished.

type ai = firebreak.ActionItemInput

const (
	internal = firebreak.AudienceInternal
	external = firebreak.AudienceExternal
	everyone = firebreak.AudienceAll
)

func step(who string, at time.Time, s firebreak.ActionItemStatus) progress {
	return progress{who: who, at: at, status: s}
}

// recurringPaymentFirst is the first of a recurring series: the post-mortem's action items stay open.
func (l *loader) recurringPaymentFirst() {
	d := l.day(41)
	inc := l.declare("payments-1", "dave", hm(d, 2, 20), firebreak.DeclareInput{
		Title: "Payment processing failing: calls to the payment provider hang",
		Summary: "Card payments and the nightly settlement batch time out. Calls to the external payment provider " +
			"hang and hold every payment worker; our provider client has no timeout.",
		Severity: firebreak.SEV2, Status: firebreak.StatusInvestigating, Services: []string{"payments"},
		Roles:           map[firebreak.Role]string{firebreak.RoleCommander: "dave"},
		ImpactStartedAt: ptr(hm(d, 2, 5)), DetectedAt: ptr(hm(d, 2, 12)),
	})
	inc.note("dave", hm(d, 2, 25), "Payment worker pool saturated: 64/64 workers blocked on provider API calls, "+
		"some for more than 10 minutes.").
		note("dave", hm(d, 2, 31), "The payment provider's status page shows degraded performance in our region.").
		status("dave", hm(d, 2, 35), firebreak.StatusIdentified,
			"provider API latency; our client waits forever because it has no timeout").
		update("dave", hm(d, 2, 38), internal, "Payments failing since 02:05 UTC. The provider is degraded and our "+
			"client holds workers without a timeout. Restarting payment workers to free them.").
		status("dave", hm(d, 2, 45), firebreak.StatusMitigating, "payment workers restarted; failed settlements queued for retry").
		note("dave", hm(d, 3, 30), "Provider latency back to normal (p99 400 ms); settlement batch completed at 03:24.").
		status("dave", hm(d, 3, 35), firebreak.StatusResolved, "provider recovered; all failed settlements retried").
		action("alice", hm(d.AddDate(0, 0, 1), 11, 0), ai{Title: "Add a 5-second timeout and a circuit breaker to the payment provider client",
			Owner: "Payments Team", DueDate: date(d.AddDate(0, 0, 14)), Priority: firebreak.PriorityHigh, Kind: firebreak.KindPrevent}).
		action("alice", hm(d.AddDate(0, 0, 1), 11, 5), ai{Title: "Alert when payment provider p99 latency exceeds 2 s for 5 minutes",
			Owner: "dave", DueDate: date(d.AddDate(0, 0, 7)), Priority: firebreak.PriorityMedium, Kind: firebreak.KindDetect},
			step("dave", hm(d.AddDate(0, 0, 10), 9, 30), firebreak.ActionInProgress)).
		action("alice", hm(d.AddDate(0, 0, 1), 11, 10), ai{Title: "Track post-mortem action items in the payments team backlog",
			Owner: "alice", DueDate: date(d.AddDate(0, 0, 7)), Priority: firebreak.PriorityMedium, Kind: firebreak.KindProcess}).
		// None of them was finished, so by the close policy the incident stays resolved: never closed.
		note("alice", hm(d.AddDate(0, 0, 2), 14, 0), "Post-mortem meeting held; the action items went to the payments "+
			"team's backlog.")
}

// checkoutSilent is the payment outage of seed 000: a Friday-afternoon library update leaks memory in shipping,
// orders wait on shipping without a timeout and payments wait on orders; users cannot pay for 30 minutes.
func (l *loader) checkoutSilent() {
	d := l.day(28)
	for d.Weekday() != time.Friday {
		d = d.AddDate(0, 0, -1)
	}
	inc := l.declare("checkout", "dave", hm(d, 14, 17), firebreak.DeclareInput{
		Title: "Checkout down: payments hang behind orders and shipping",
		Summary: "Users cannot pay. Order service requests hang waiting for shipping, and payments hang waiting for " +
			"orders; within 15 minutes no checkout succeeds. No circuit breakers or timeouts between the services.",
		Severity: firebreak.SEV1, Status: firebreak.StatusInvestigating,
		Services:        []string{"shipping", "orders", "payments"},
		Roles:           map[firebreak.Role]string{firebreak.RoleCommander: "alice", firebreak.RoleTechLead: "dave"},
		ImpactStartedAt: ptr(hm(d, 14, 10)), DetectedAt: ptr(hm(d, 14, 15)),
	})
	inc.noteLate("dave", hm(d, 14, 19), hm(d, 14, 0), "Shipping deployed with an updated HTTP client library "+
		"(routine dependency bump).", false).
		noteLate("dave", hm(d, 14, 19), hm(d, 14, 10), "Checkout errors began; shipping p99 latency from 300 ms to 28 s.", false).
		noteLate("dave", hm(d, 14, 19), hm(d, 14, 15), "Alert: checkout success rate below 90%.", false).
		star("alice", hm(d, 14, 20), "We are looking for what the system lacked, not for who deployed. "+
			"Question one: why do orders wait on shipping with no timeout?").
		assign("alice", hm(d, 14, 21), firebreak.RoleCommsLead, "carol").
		update("carol", hm(d, 14, 22), everyone, "Some customers are unable to complete checkout. We are investigating.").
		note("dave", hm(d, 14, 24), "Shipping memory grows ~200 MB/min since the deploy: a leak in the new library "+
			"version. Orders has no timeout or circuit breaker on shipping calls, so it hangs too.").
		status("alice", hm(d, 14, 25), firebreak.StatusIdentified, "memory leak in shipping after the library update; "+
			"orders and payments wait on it without timeouts").
		star("alice", hm(d, 14, 26), "Decision: roll shipping back to the previous release.").
		status("alice", hm(d, 14, 30), firebreak.StatusMitigating, "shipping rolled back; checkout recovering").
		status("alice", hm(d, 14, 40), firebreak.StatusResolved, "checkout success rate at 99.8% for 10 minutes").
		update("carol", hm(d, 14, 42), everyone, "Checkout is working normally again. Sorry for the disruption.")
	pm := d.AddDate(0, 0, 3) // the Monday after
	inc.note("alice", hm(pm, 10, 30), "Blameless post-mortem held: the five whys lead to missing timeouts and circuit "+
		"breakers, and to monitoring that did not alert on memory growth, not to the deploy itself.").
		action("alice", hm(pm, 10, 40), ai{Title: "Add circuit breakers to orders→shipping and payments→orders calls",
			Owner: "Platform Team", DueDate: date(pm.AddDate(0, 0, 11)), Priority: firebreak.PriorityHigh, Kind: firebreak.KindPrevent},
			step("dave", hm(pm.AddDate(0, 0, 1), 9, 0), firebreak.ActionInProgress),
			step("dave", hm(pm.AddDate(0, 0, 9), 16, 0), firebreak.ActionDone),
			step("erin", hm(pm.AddDate(0, 0, 12), 11, 0), firebreak.ActionVerified)).
		action("alice", hm(pm, 10, 45), ai{Title: "Set a timeout on every internal API call (default 2 s)",
			Owner: "Platform Team", DueDate: date(pm.AddDate(0, 0, 18)), Priority: firebreak.PriorityHigh, Kind: firebreak.KindPrevent},
			step("dave", hm(pm.AddDate(0, 0, 2), 9, 0), firebreak.ActionInProgress),
			step("dave", hm(pm.AddDate(0, 0, 17), 15, 0), firebreak.ActionDone)).
		action("alice", hm(pm, 10, 50), ai{Title: "Alert on memory (RAM) growth for every service",
			Owner: "Monitoring Team", DueDate: date(pm.AddDate(0, 0, 4)), Priority: firebreak.PriorityMedium, Kind: firebreak.KindDetect},
			step("erin", hm(pm.AddDate(0, 0, 3), 14, 0), firebreak.ActionDone),
			step("alice", hm(pm.AddDate(0, 0, 5), 10, 0), firebreak.ActionVerified)).
		action("alice", hm(pm, 10, 55), ai{Title: "Soak-test dependency upgrades in CI before release",
			Owner: "Fulfilment Team", DueDate: date(pm.AddDate(0, 0, 30)), Priority: firebreak.PriorityMedium, Kind: firebreak.KindDetect},
			step("dave", hm(pm.AddDate(0, 0, 8), 11, 0), firebreak.ActionInProgress))
	// Published, with the action items tracked; it stays resolved while the soak test is in progress (the close
	// policy), and its follow-up review comes due two weeks later.
	if inc.publishPostmortem("alice", "erin", hm(pm, 15, 30), checkoutPostmortem) {
		inc.note("alice", hm(pm, 16, 0), "Post-mortem published; action items tracked. Follow-up review in two weeks.")
	}
}

// deadlock is the seed's database deadlock: two code paths lock the same rows in opposite order.
func (l *loader) deadlock() {
	d := l.day(18)
	inc := l.declare("deadlock", "dave", hm(d, 11, 20), firebreak.DeclareInput{
		Title: "Random timeouts on order and payment requests",
		Summary: "Users report random timeouts and errors during checkout, more often as traffic rises. Application " +
			"logs show database query timeouts with no clear pattern.",
		Severity: firebreak.SEV2, Status: firebreak.StatusInvestigating,
		Services:        []string{"orders", "payments", "postgres-primary"},
		Roles:           map[firebreak.Role]string{firebreak.RoleCommander: "erin", firebreak.RoleTechLead: "bob"},
		ImpactStartedAt: ptr(hm(d, 10, 40)), DetectedAt: ptr(hm(d, 11, 5)),
	})
	inc.noteLate("carol", hm(d, 11, 22), hm(d, 11, 5), "Support: several customers report checkout errors "+
		"(\"please try again\") since late morning.", false).
		note("bob", hm(d, 11, 30), "postgres-primary log: \"deadlock detected\" 37 times in the last hour; lock waits up to 30 s.").
		star("bob", hm(d, 11, 42), "Deadlock: updateOrderAndCustomer locks the customer row, then the order; "+
			"processPayment locks the order, then the customer. Same rows, opposite order.").
		status("erin", hm(d, 11, 45), firebreak.StatusIdentified, "deadlocks from inconsistent lock order in orders and payments").
		update("erin", hm(d, 11, 50), internal, "Cause found: a lock-order deadlock between checkout and payment "+
			"processing. Bob is terminating the blocking backends; a fix that always locks the order first is in review.").
		note("bob", hm(d, 11, 55), "Terminated the blocking backends (pg_terminate_backend); lock waits cleared.").
		status("erin", hm(d, 11, 56), firebreak.StatusMitigating, "blocking queries terminated; watching for new deadlocks").
		note("dave", hm(d, 13, 10), "Hotfix deployed: every transaction now locks the order row before the customer row.").
		status("erin", hm(d, 13, 40), firebreak.StatusResolved, "no deadlocks for 30 minutes after the hotfix").
		action("erin", hm(d.AddDate(0, 0, 1), 15, 0), ai{Title: "Lock order rows before customer rows in every transaction",
			Owner: "Commerce Team", DueDate: date(d.AddDate(0, 0, 3)), Priority: firebreak.PriorityHigh, Kind: firebreak.KindPrevent},
			step("dave", hm(d.AddDate(0, 0, 2), 10, 0), firebreak.ActionDone),
			step("bob", hm(d.AddDate(0, 0, 9), 10, 0), firebreak.ActionVerified)).
		action("erin", hm(d.AddDate(0, 0, 1), 15, 5), ai{Title: "Retry deadlock victims with exponential backoff and jitter (3 attempts)",
			Owner: "Commerce Team", DueDate: date(d.AddDate(0, 0, 14)), Priority: firebreak.PriorityMedium, Kind: firebreak.KindMitigate},
			step("dave", hm(d.AddDate(0, 0, 5), 9, 0), firebreak.ActionInProgress)).
		action("erin", hm(d.AddDate(0, 0, 1), 15, 10), ai{Title: "Alert on PostgreSQL deadlocks (pg_stat_database.deadlocks)",
			Owner: "Database Team", DueDate: date(d.AddDate(0, 0, 10)), Priority: firebreak.PriorityMedium, Kind: firebreak.KindDetect})
}

// cascade is the seed's SEV1 post-mortem, timeline 14:15 → 17:45 UTC, with its action-item table.
func (l *loader) cascade() {
	d := l.day(9)
	at := func(h, m int) time.Time { return hm(d, h, m) }
	inc := l.declare("cascade", "alice", at(15, 5), firebreak.DeclareInput{
		Title: CascadeTitle,
		Summary: "During the promotional event the primary database's connection pool (100 connections) was exhausted " +
			"by traffic needing over 250. Services retried aggressively (a thundering herd) and, without circuit " +
			"breakers or bulkheads, the failure cascaded into a complete outage for all users: about 50,000 users " +
			"affected and an estimated $150,000 in lost revenue. The first hour of the response was uncoordinated.",
		Severity: firebreak.SEV1, Status: firebreak.StatusInvestigating,
		Services:        []string{"api-gateway", "auth", "product-catalog", "orders", "payments", "postgres-primary"},
		Roles:           map[firebreak.Role]string{firebreak.RoleCommander: "alice"},
		ImpactStartedAt: ptr(at(14, 30)), DetectedAt: ptr(at(14, 30)),
	})
	// What happened before the declaration, written down by the people who were there.
	inc.noteLate("dave", at(15, 7), at(14, 15), "Promotional event launched; traffic began increasing.", false).
		noteLate("dave", at(15, 7), at(14, 30), "First alerts: database connection pool exhaustion on postgres-primary.", true).
		noteLate("dave", at(15, 7), at(14, 35), "On-call engineer (dave) acknowledged the alert.", false).
		noteLate("dave", at(15, 7), at(14, 40), "Initial investigation began.", false).
		noteLate("carol", at(15, 8), at(14, 45), "First user reports of slow response times.", false).
		noteLate("bob", at(15, 8), at(14, 50), "Database team increased the connection pool size.", false).
		noteLate("dave", at(15, 8), at(14, 55), "Product catalog service began experiencing timeouts.", false).
		noteLate("dave", at(15, 8), at(15, 0), "Multiple services reporting high error rates.", false).
		correct("alice", at(15, 9), "acknowledged_at", at(14, 35),
			"the on-call engineer acknowledged the first alert at 14:35, before the incident was declared").
		note("alice", at(15, 10), "Incident bridge established. From now on every production change goes through the commander.").
		assign("alice", at(15, 10), firebreak.RoleTechLead, "erin").
		assign("alice", at(15, 11), firebreak.RoleCommsLead, "carol").
		update("carol", at(15, 15), external, "We are investigating errors and slow responses affecting sign-in, "+
			"browsing and checkout. Next update in 30 minutes.").
		note("carol", at(15, 15), "Status page updated with investigating status.").
		note("dave", at(15, 20), "Order processing service completely down.").
		note("dave", at(15, 25), "Team A implemented rate limiting on the API gateway.").
		note("dave", at(15, 30), "Team B restarted the product catalog service; it failed again within minutes.").
		note("bob", at(15, 35), "Team C scaled up database replicas; no effect, the exhaustion is on the primary's pool.").
		star("erin", at(15, 40), "System-wide cascading failures, all services affected: every service retries "+
			"against postgres-primary (thundering herd).").
		update("alice", at(15, 40), internal, "All services affected. Three uncoordinated changes in the last 15 minutes "+
			"(rate limit, catalog restart, replica scale-up); from now on only the commander approves production changes.").
		status("alice", at(15, 45), firebreak.StatusIdentified, "connection pool exhaustion on postgres-primary, "+
			"amplified by retry storms; no circuit breakers between services").
		star("alice", at(15, 45), "Decision made to implement circuit breakers, starting with the authentication service.").
		update("carol", at(15, 50), external, "We have identified the cause: our database is overloaded by the "+
			"promotion traffic. We are rolling out a fix. Next update in 30 minutes.").
		note("erin", at(16, 0), "First circuit breaker implemented in the authentication service.").
		status("alice", at(16, 0), firebreak.StatusMitigating, "circuit breakers rolling out service by service").
		note("erin", at(16, 15), "Gradual service restoration began.").
		update("carol", at(16, 20), external, "Services are recovering gradually. Some pages may still be slow.").
		note("erin", at(16, 30), "50% of services recovered.").
		note("erin", at(17, 0), "80% of services recovered.").
		update("alice", at(17, 0), internal, "80% of services recovered. Circuit breakers in auth, catalog and orders; "+
			"pool at 70%. Keeping the promotion throttled at the gateway until all services are back.").
		star("erin", at(17, 30), "All services restored to normal operation.").
		update("carol", at(17, 30), everyone, "All services are working normally again. We are monitoring closely.").
		status("alice", at(17, 45), firebreak.StatusResolved, "all services stable for 15 minutes; circuit breakers in place").
		update("carol", at(17, 47), everyone, "This incident is resolved. We are sorry for the disruption during the "+
			"promotion; a post-mortem will follow.").
		starEvents("alice", isKind(firebreak.EventDeclared)).
		starEvents("alice", isStatus(firebreak.StatusResolved))

	// The post-mortem's action-item table; due dates keep their distance from the incident date.
	pm := d.AddDate(0, 0, 1)
	due := func(days int) string { return date(d.AddDate(0, 0, days)) }
	later := func(days, h int) time.Time { return hm(d.AddDate(0, 0, days), h, 0) }
	inc.note("alice", hm(pm, 10, 0), "Post-mortem meeting held (blameless). Action items below; follow-up review in two weeks.").
		action("alice", hm(pm, 11, 1), ai{Title: "Implement circuit breakers across all service-to-service calls",
			Owner: "Platform Team", DueDate: due(17), Priority: firebreak.PriorityHigh, Kind: firebreak.KindPrevent},
			step("dave", later(2, 9), firebreak.ActionInProgress)).
		action("alice", hm(pm, 11, 2), ai{Title: "Increase database connection pool size and implement connection pooling middleware",
			Owner: "Database Team", DueDate: due(10), Priority: firebreak.PriorityHigh, Kind: firebreak.KindMitigate},
			step("bob", later(2, 10), firebreak.ActionInProgress),
			step("bob", later(6, 16), firebreak.ActionDone)).
		action("alice", hm(pm, 11, 3), ai{Title: "Create and document formal incident response process with clear roles",
			Owner: "SRE Team", DueDate: due(31), Priority: firebreak.PriorityMedium, Kind: firebreak.KindProcess},
			step("erin", later(3, 9), firebreak.ActionInProgress)).
		action("alice", hm(pm, 11, 4), ai{Title: "Implement rate limiting at API gateway",
			Owner: "Platform Team", DueDate: due(15), Priority: firebreak.PriorityHigh, Kind: firebreak.KindPrevent},
			step("dave", later(2, 11), firebreak.ActionInProgress)).
		action("alice", hm(pm, 11, 5), ai{Title: "Develop service dependency map and cascade failure analysis",
			Owner: "Architecture Team", DueDate: due(46), Priority: firebreak.PriorityMedium, Kind: firebreak.KindProcess},
			progress{who: "erin", at: later(4, 14), status: firebreak.ActionNotDoing,
				reason: "Superseded: service dependencies are now kept in the Firebreak service catalog and shown on every incident."}).
		action("alice", hm(pm, 11, 6), ai{Title: "Conduct load testing simulating promotional event traffic",
			Owner: "QA Team", DueDate: due(31), Priority: firebreak.PriorityMedium, Kind: firebreak.KindDetect}).
		action("alice", hm(pm, 11, 7), ai{Title: "Create dashboards for early detection of connection pool saturation",
			Owner: "Monitoring Team", DueDate: due(5), Priority: firebreak.PriorityHigh, Kind: firebreak.KindDetect},
			step("erin", later(1, 15), firebreak.ActionInProgress),
			step("erin", later(4, 12), firebreak.ActionDone),
			step("alice", later(5, 10), firebreak.ActionVerified)).
		action("alice", hm(pm, 11, 8), ai{Title: "Conduct incident response training for all engineering teams",
			Owner: "SRE Team", DueDate: due(47), Priority: firebreak.PriorityLow, Kind: firebreak.KindProcess}).
		action("alice", hm(pm, 11, 9), ai{Title: "Implement bulkheads to isolate critical services",
			Owner: "Platform Team", DueDate: due(61), Priority: firebreak.PriorityMedium, Kind: firebreak.KindPrevent}).
		action("alice", hm(pm, 11, 10), ai{Title: "Review and update alerting thresholds for all critical services",
			Owner: "SRE Team", DueDate: due(17), Priority: firebreak.PriorityMedium, Kind: firebreak.KindDetect},
			step("erin", later(3, 10), firebreak.ActionInProgress))
}

// staleRunbook is the seed's outdated-runbook incident: a 30-minute failover takes over three hours.
func (l *loader) staleRunbook() {
	d := l.day(6)
	inc := l.declare("runbook", "dave", hm(d, 9, 52), firebreak.DeclareInput{
		Title: "Customer-facing APIs failing: database connections refused",
		Summary: "postgres-primary refuses connections; sign-in, orders and the API gateway fail. The failover " +
			"runbook is out of date, so a 30-minute failover took over three hours.",
		Severity: firebreak.SEV2, Status: firebreak.StatusInvestigating,
		Services:        []string{"postgres-primary", "auth", "orders", "api-gateway"},
		Roles:           map[firebreak.Role]string{firebreak.RoleCommander: "dave"},
		ImpactStartedAt: ptr(hm(d, 9, 40)), DetectedAt: ptr(hm(d, 9, 46)),
	})
	inc.note("dave", hm(d, 9, 55), "Following the postgres-primary failover runbook, steps 1–3.").
		star("dave", hm(d, 10, 10), "Runbook step 4 points to pgbouncer-legacy.internal, decommissioned in the spring "+
			"migration, and uses 'dbctl promote', which no longer exists.").
		note("dave", hm(d, 10, 20), "Escalating: nobody on the rota knows the new failover procedure.").
		update("dave", hm(d, 10, 25), internal, "APIs failing since 09:40 UTC. The failover runbook is out of date; "+
			"escalating to the database team.").
		assign("alice", hm(d, 10, 40), firebreak.RoleCommander, "alice").
		assign("alice", hm(d, 10, 41), firebreak.RoleTechLead, "bob").
		assign("alice", hm(d, 10, 45), firebreak.RoleCommsLead, "carol").
		update("carol", hm(d, 10, 50), external, "Some customers see errors when signing in or placing orders. We are working on it.").
		note("bob", hm(d, 11, 30), "Primary lost its storage volume. Promotion now goes through the cluster operator; "+
			"services connect directly, there is no pgbouncer any more.").
		status("alice", hm(d, 11, 35), firebreak.StatusIdentified, "primary lost its volume; failover blocked by an outdated runbook").
		status("alice", hm(d, 12, 20), firebreak.StatusMitigating, "replica promoted; services reconnecting").
		status("alice", hm(d, 12, 55), firebreak.StatusResolved, "all services healthy on the new primary").
		update("carol", hm(d, 12, 58), everyone, "Sign-in and ordering work normally again. Sorry for the long disruption.")
	pm := d.AddDate(0, 0, 2)
	// Followed through: every item done and verified by someone else, the post-mortem published, then closed.
	inc.action("alice", hm(pm, 10, 0), ai{Title: "Rewrite the postgres-primary failover runbook for the current architecture",
		Owner: "Database Team", DueDate: date(d.AddDate(0, 0, 3)), Priority: firebreak.PriorityHigh, Kind: firebreak.KindProcess},
		step("bob", hm(pm, 16, 0), firebreak.ActionDone),
		step("erin", hm(pm.AddDate(0, 0, 2), 11, 0), firebreak.ActionVerified)).
		action("alice", hm(pm, 10, 5), ai{Title: "Add a runbook review step to the architecture change checklist",
			Owner: "SRE Team", DueDate: date(d.AddDate(0, 0, 30)), Priority: firebreak.PriorityMedium, Kind: firebreak.KindProcess},
			step("erin", hm(pm.AddDate(0, 0, 1), 9, 0), firebreak.ActionInProgress),
			step("erin", hm(pm.AddDate(0, 0, 1), 16, 0), firebreak.ActionDone),
			step("alice", hm(pm.AddDate(0, 0, 2), 10, 0), firebreak.ActionVerified)).
		action("alice", hm(pm, 10, 10), ai{Title: "Add escalation contacts to every runbook",
			Owner: "SRE Team", DueDate: date(d.AddDate(0, 0, 14)), Priority: firebreak.PriorityMedium, Kind: firebreak.KindProcess},
			step("erin", hm(pm.AddDate(0, 0, 1), 11, 0), firebreak.ActionDone),
			step("bob", hm(pm.AddDate(0, 0, 2), 9, 30), firebreak.ActionVerified)).
		action("alice", hm(pm, 10, 15), ai{Title: "Run a failover drill in staging every month",
			Owner: "SRE Team", DueDate: date(d.AddDate(0, 0, 45)), Priority: firebreak.PriorityLow, Kind: firebreak.KindDetect},
			step("erin", hm(pm.AddDate(0, 0, 2), 11, 0), firebreak.ActionDone),
			step("alice", hm(pm.AddDate(0, 0, 2), 14, 0), firebreak.ActionVerified))
	if inc.publishPostmortem("alice", "erin", hm(pm.AddDate(0, 0, 1), 14, 0), runbookPostmortem) {
		inc.status("alice", hm(pm.AddDate(0, 0, 2), 15, 0), firebreak.StatusClosed, "runbook verified in a staging failover drill")
	}
}

// falseAlarm is an alert from a misconfigured probe, cancelled.
func (l *loader) falseAlarm() {
	d := l.day(2)
	l.declare("false-alarm", "dave", hm(d, 3, 12), firebreak.DeclareInput{
		Title:    "Search latency alert: p99 above 2 s",
		Severity: firebreak.SEV3, Services: []string{"search"}, DetectedAt: ptr(hm(d, 3, 8)),
	}).
		status("dave", hm(d, 3, 20), firebreak.StatusInvestigating, "checking the search dashboards").
		note("dave", hm(d, 3, 31), "Production search p99 is 180 ms. The alert comes from the synthetic probe, which "+
			"targets staging since yesterday's config change.").
		status("dave", hm(d, 3, 34), firebreak.StatusCancelled, "false alarm: the probe targeted staging; production search is healthy").
		action("dave", hm(d, 9, 0), ai{Title: "Check probe targets in config review",
			Owner: "Platform Team", DueDate: date(d.AddDate(0, 0, 14)), Priority: firebreak.PriorityLow, Kind: firebreak.KindDetect})
}

// poolExhaustion is happening now: the orders pool is exhausted by an N+1 export endpoint; mitigated.
func (l *loader) poolExhaustion() {
	t0 := l.t.Now.Add(-130 * time.Minute).Truncate(time.Minute)
	m := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Minute) }
	l.declare("pool", "dave", t0, firebreak.DeclareInput{
		Title: "Orders API slow: database connection pool exhausted",
		Summary: "Order history and checkout requests wait for database connections; the orders pool is at 100/100 " +
			"with requests queueing.",
		Severity: firebreak.SEV2, Status: firebreak.StatusInvestigating, Services: []string{"orders", "postgres-primary"},
		Roles:           map[firebreak.Role]string{firebreak.RoleCommander: "alice", firebreak.RoleTechLead: "bob"},
		ImpactStartedAt: ptr(m(-8)), DetectedAt: ptr(m(-3)),
	}).
		note("dave", m(5), "Pool wait p99 4.2 s; 100/100 connections in use on every orders instance.").
		star("bob", m(12), "80% of orders connections run the same product query from /reports/export: one request "+
			"issues 200+ queries (N+1), holding a connection for seconds.").
		assign("alice", m(15), firebreak.RoleCommsLead, "carol").
		status("alice", m(18), firebreak.StatusIdentified, "N+1 queries in the new order export endpoint hold pool connections").
		update("carol", m(20), external, "Some customers see slow order pages. We have found the cause and are applying a fix.").
		note("dave", m(28), "Disabled /reports/export with its feature flag.").
		status("alice", m(30), firebreak.StatusMitigating, "export endpoint disabled; pool usage down to 62%").
		update("alice", m(45), internal, "Mitigated: pool at 55–62%. The export stays disabled until the query is fixed; "+
			"monitoring for an hour before resolving.").
		note("bob", m(60), "Fix for the export query (one join instead of a query per order) is in review.")
}

// catalogLatency is being investigated.
func (l *loader) catalogLatency() {
	t0 := l.t.Now.Add(-50 * time.Minute).Truncate(time.Minute)
	m := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Minute) }
	l.declare("catalog", "dave", t0, firebreak.DeclareInput{
		Title:    "Product pages slow: catalog latency elevated",
		Severity: firebreak.SEV3, Status: firebreak.StatusInvestigating, Services: []string{"product-catalog", "search"},
		Roles:      map[firebreak.Role]string{firebreak.RoleCommander: "erin", firebreak.RoleTechLead: "dave"},
		DetectedAt: ptr(m(-2)),
	}).
		note("dave", m(4), "Catalog p99 1.8 s (normally 250 ms); only product detail pages are affected.").
		star("erin", m(9), "Reminder: production changes go through the commander. No pod restarts without a word "+
			"in the incident channel.").
		note("dave", m(15), "Slow query log: the product listing query runs a tag subquery per row; the plan shows a full scan.").
		update("erin", m(20), internal, "Investigating slow product pages; we suspect a catalog query without an index. "+
			"No customer reports yet.")
}

// recurringPaymentAgain is the same failure as the first payment incident, because its action items were never
// finished.
func (l *loader) recurringPaymentAgain() {
	first := l.refs["payments-1"]
	t0 := l.t.Now.Add(-35 * time.Minute).Truncate(time.Minute)
	m := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Minute) }
	l.declare("payments-2", "dave", t0, firebreak.DeclareInput{
		Title: "Payment processing failing again: provider API calls hang",
		Summary: "Payment workers are blocked on calls to the payment provider, as in " + first + ". Card payments " +
			"fail or take minutes.",
		Severity: firebreak.SEV2, Status: firebreak.StatusInvestigating, Services: []string{"payments"},
		Roles:           map[firebreak.Role]string{firebreak.RoleCommander: "alice", firebreak.RoleTechLead: "dave"},
		ImpactStartedAt: ptr(m(-9)), DetectedAt: ptr(m(-4)),
	}).
		note("dave", m(3), "Same symptoms as "+first+": payment workers blocked on provider calls; the provider reports "+
			"degraded performance.").
		star("alice", m(6), "This is a repeat of "+first+". Its action items are still open: the provider client has "+
			"no timeout or circuit breaker, and the latency alert was never finished.").
		status("alice", m(8), firebreak.StatusIdentified, "payment provider degraded; our client has no timeout "+
			"(open action item from "+first+")").
		assign("alice", m(10), firebreak.RoleCommsLead, "carol").
		update("carol", m(11), external, "Some card payments are failing or slow because of an issue at our payment "+
			"provider. We are working on it.").
		action("alice", m(12), ai{Title: "Ship the provider client timeout and circuit breaker from " + first + " before closing",
			Owner: "Payments Team", DueDate: date(l.t.Now.AddDate(0, 0, 2)), Priority: firebreak.PriorityHigh, Kind: firebreak.KindPrevent}).
		update("alice", m(14), internal, "Recurrence of "+first+". Restarting workers as a stop-gap; the timeout fix "+
			"from "+first+"'s action items is now the priority.")
}

// emailsDelayed has just been declared: nobody has acknowledged it yet.
func (l *loader) emailsDelayed() {
	t0 := l.t.Now.Add(-8 * time.Minute).Truncate(time.Minute)
	l.declare("emails", "dave", t0, firebreak.DeclareInput{
		Title: "Order confirmation emails delayed",
		Summary: "The notification queue holds 12,000 messages and is growing; confirmation emails arrive more than " +
			"20 minutes late.",
		Severity: firebreak.SEV3, Services: []string{"notifications"}, DetectedAt: ptr(t0.Add(-2 * time.Minute)),
	}).
		note("dave", t0.Add(2*time.Minute), "The email provider has answered 429 Too Many Requests for 10 minutes.")
}
