package sqlstore_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"

	firebreak "github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/notify"
	"github.com/firebreak/firebreak/sqlstore"
)

// The seed's rule: the incident commander approves production changes during an incident; a responder proposes,
// the commander (or an admin) decides, and every step is on the timeline.
func TestChangeControl(t *testing.T) {
	forEach(t, func(t *testing.T, s *sqlstore.Store) {
		bob, carol := as("bob", firebreak.RoleResponder), as("carol", firebreak.RoleResponder)
		root := as("root", firebreak.RoleAdmin)
		inc := must(s.DeclareIncident(alice, firebreak.DeclareInput{Title: "Orders pool exhausted",
			Severity: firebreak.SEV1, Roles: map[firebreak.Role]string{firebreak.RoleCommander: "alice"}}))

		p := must(s.ProposeChange(bob, inc.Reference, firebreak.ProposalInput{Action: "Restart the orders pods",
			Reason: "connections leak; a restart frees the pool", Risk: firebreak.RiskMedium}))
		if p.State != firebreak.ProposalProposed || p.ProposedBy != "bob" || p.Incident != inc.Reference ||
			p.IncidentID != inc.ID || p.DecidedAt != nil || p.Risk != firebreak.RiskMedium {
			t.Fatalf("proposal %+v", p)
		}
		// Nobody but the commander (or an admin) decides.
		e := wantCode(t, decide(s, bob, inc, p.ID, firebreak.DecisionApprove, ""), firebreak.EForbidden)
		if !strings.Contains(e.Message, "only the incident commander of "+inc.Reference+" (alice)") {
			t.Errorf("forbidden message %q", e.Message)
		}
		wantCode(t, decide(s, carol, inc, p.ID, firebreak.DecisionReject, ""), firebreak.EForbidden)
		wantCode(t, decide(s, carol, inc, p.ID, firebreak.DecisionWithdraw, ""), firebreak.EForbidden)

		got := must(s.DecideProposal(alice, inc.Reference, p.ID, firebreak.DecisionApprove,
			firebreak.DecisionInput{Note: "  go ahead, one pod at a time "}))
		if got.State != firebreak.ProposalApproved || got.DecidedBy != "alice" || got.DecidedAt == nil ||
			got.Note != "go ahead, one pod at a time" {
			t.Fatalf("approved %+v", got)
		}
		// Decided once: a second decision of any kind is a conflict naming the first.
		for _, d := range []firebreak.Decision{firebreak.DecisionApprove, firebreak.DecisionReject} {
			e := wantCode(t, decide(s, alice, inc, p.ID, d, ""), firebreak.EConflict)
			if !strings.Contains(e.Message, "already approved by alice") {
				t.Errorf("conflict message %q", e.Message)
			}
		}
		wantCode(t, decide(s, bob, inc, p.ID, firebreak.DecisionWithdraw, ""), firebreak.EConflict)

		// Rejected by an admin; withdrawn by its proposer.
		p2 := must(s.ProposeChange(carol, inc.Reference, firebreak.ProposalInput{Action: "Fail over the database",
			Reason: "primary is slow"}))
		must(s.DecideProposal(root, inc.Reference, p2.ID, firebreak.DecisionReject,
			firebreak.DecisionInput{Note: "the primary is healthy; too risky"}))
		p3 := must(s.ProposeChange(bob, inc.Reference, firebreak.ProposalInput{Action: "Raise the pool to 200",
			Reason: "more headroom", Risk: firebreak.RiskLow}))
		w := must(s.DecideProposal(bob, inc.Reference, p3.ID, firebreak.DecisionWithdraw, firebreak.DecisionInput{}))
		if w.State != firebreak.ProposalWithdrawn || w.DecidedBy != "bob" {
			t.Fatalf("withdrawn %+v", w)
		}

		list := must(s.ListProposals(context.Background(), inc.ID))
		var states []string
		for _, x := range list {
			states = append(states, x.ID+"="+string(x.State))
		}
		if want := []string{p.ID + "=approved", p2.ID + "=rejected", p3.ID + "=withdrawn"}; strings.Join(states, " ") !=
			strings.Join(want, " ") {
			t.Fatalf("list %v, want %v", states, want)
		}
		one := must(s.GetProposal(context.Background(), inc.Reference, p2.ID))
		if one.State != firebreak.ProposalRejected || one.DecidedBy != "root" || one.Note != "the primary is healthy; too risky" {
			t.Errorf("get %+v", one)
		}

		// Every step is on the timeline, with the proposal's id.
		var kinds []string
		for _, ev := range timeline(t, s, inc.Reference) {
			if strings.HasPrefix(string(ev.Kind), "change_") {
				kinds = append(kinds, string(ev.Kind)+":"+ev.Actor)
				if ev.Data["proposal_id"] == "" {
					t.Errorf("event %s has no proposal_id: %v", ev.Kind, ev.Data)
				}
			}
		}
		want := "change_proposed:bob change_approved:alice change_proposed:carol change_rejected:root " +
			"change_proposed:bob change_withdrawn:bob"
		if strings.Join(kinds, " ") != want {
			t.Errorf("timeline kinds %v, want %s", kinds, want)
		}
		// Proposals do not change the incident, so they do not invalidate anyone's edit form.
		if after := must(s.GetIncident(context.Background(), inc.ID)); after.Version != inc.Version {
			t.Errorf("incident version %d → %d", inc.Version, after.Version)
		}

		// Bad input names the field; unknown ones are not found, also through another incident.
		e = wantCode(t, errOf(s.ProposeChange(bob, inc.Reference, firebreak.ProposalInput{Reason: "r", Risk: "huge"})),
			firebreak.EInvalid)
		if got := fieldNames(e); strings.Join(got, ",") != "action,risk" {
			t.Errorf("fields %v", got)
		}
		other := declare(t, s, "Other", firebreak.SEV3)
		wantCode(t, decide(s, alice, other, p.ID, firebreak.DecisionApprove, ""), firebreak.ENotFound)
		wantCode(t, decide(s, alice, inc, "not-a-uuid", firebreak.DecisionApprove, ""), firebreak.ENotFound)
		wantCode(t, errOf(s.ProposeChange(bob, "INC-999", firebreak.ProposalInput{Action: "a", Reason: "r"})),
			firebreak.ENotFound)
		wantCode(t, decide(s, alice, inc, p.ID, firebreak.DecisionApprove, strings.Repeat("x", 5001)),
			firebreak.EInvalid)
	})
}

func TestChangeControlClosedAndNoCommander(t *testing.T) {
	forEach(t, func(t *testing.T, s *sqlstore.Store) {
		bob := as("bob", firebreak.RoleResponder)
		inc := declare(t, s, "No commander yet", firebreak.SEV2)
		p := must(s.ProposeChange(bob, inc.Reference, firebreak.ProposalInput{Action: "Roll back v42", Reason: "errors since the deploy"}))
		e := wantCode(t, decide(s, bob, inc, p.ID, firebreak.DecisionApprove, ""), firebreak.EForbidden)
		if !strings.Contains(e.Message, "has no incident commander") {
			t.Errorf("message %q", e.Message)
		}
		must(s.AssignRole(alice, inc.Reference, firebreak.RoleCommander, "alice", 0))
		pending := must(s.ProposeChange(bob, inc.Reference, firebreak.ProposalInput{Action: "Scale out", Reason: "load"}))

		must(s.ChangeStatus(alice, inc.Reference, firebreak.StatusResolved, "fixed", 0))
		e = wantCode(t, errOf(s.ProposeChange(bob, inc.Reference, firebreak.ProposalInput{Action: "a", Reason: "r"})),
			firebreak.EConflict)
		if !strings.Contains(e.Message, "is resolved") {
			t.Errorf("message %q", e.Message)
		}
		// What waits can no longer be approved, but may still be rejected or withdrawn.
		wantCode(t, decide(s, alice, inc, p.ID, firebreak.DecisionApprove, ""), firebreak.EConflict)
		must(s.DecideProposal(alice, inc.Reference, p.ID, firebreak.DecisionReject, firebreak.DecisionInput{}))
		must(s.DecideProposal(bob, inc.Reference, pending.ID, firebreak.DecisionWithdraw, firebreak.DecisionInput{}))
	})
}

// Two deciders at once (the commander and an admin): exactly one decision is recorded, on both databases.
func TestChangeControlDecidedOnce(t *testing.T) {
	forEach(t, func(t *testing.T, s *sqlstore.Store) {
		inc := must(s.DeclareIncident(alice, firebreak.DeclareInput{Title: "Race", Severity: firebreak.SEV1,
			Roles: map[firebreak.Role]string{firebreak.RoleCommander: "alice"}}))
		for round := 0; round < 5; round++ {
			p := must(s.ProposeChange(as("bob", firebreak.RoleResponder), inc.Reference,
				firebreak.ProposalInput{Action: "Restart", Reason: "stuck"}))
			var wg sync.WaitGroup
			errs := make([]error, 4)
			for i := range errs {
				wg.Go(func() {
					who, d := alice, firebreak.DecisionApprove
					if i%2 == 1 {
						who, d = as("root", firebreak.RoleAdmin), firebreak.DecisionReject
					}
					_, errs[i] = s.DecideProposal(who, inc.Reference, p.ID, d, firebreak.DecisionInput{})
				})
			}
			wg.Wait()
			ok := 0
			for _, e := range errs {
				switch firebreak.ErrorCode(e) {
				case "":
					ok++
				case firebreak.EConflict:
				default:
					t.Fatalf("decision error %v", e)
				}
			}
			if ok != 1 {
				t.Fatalf("round %d: %d decisions succeeded, want 1", round, ok)
			}
		}
		n := 0
		for _, ev := range timeline(t, s, inc.Reference) {
			if ev.Kind == firebreak.EventChangeApproved || ev.Kind == firebreak.EventChangeRejected {
				n++
			}
		}
		if n != 5 {
			t.Errorf("%d decision events, want 5", n)
		}
	})
}

func TestChangeControlIdempotent(t *testing.T) {
	forEach(t, func(t *testing.T, s *sqlstore.Store) {
		inc := declare(t, s, "Retry", firebreak.SEV2)
		ctx := firebreak.WithIdempotency(as("bob", firebreak.RoleResponder),
			firebreak.Idempotency{Key: "k1", RequestHash: "h1"})
		first := must(s.ProposeChange(ctx, inc.Reference, firebreak.ProposalInput{Action: "a", Reason: "r"}))
		_, e := s.ProposeChange(ctx, inc.Reference, firebreak.ProposalInput{Action: "a", Reason: "r"})
		rep, ok := e.(*firebreak.IdempotentReplay)
		if !ok || rep.ID != first.ID {
			t.Fatalf("replay: %v", e)
		}
		if n := len(must(s.ListProposals(context.Background(), inc.Reference))); n != 1 {
			t.Fatalf("%d proposals after a retry", n)
		}
	})
}

func decide(s *sqlstore.Store, ctx context.Context, inc *firebreak.Incident, id string, d firebreak.Decision,
	note string) error {
	_, e := s.DecideProposal(ctx, inc.Reference, id, d, firebreak.DecisionInput{Note: note})
	return e
}

// errOf drops the value of a call's results.
func errOf[T any](_ T, e error) error { return e }

// A proposal reaches the incident commander's contact methods and the decision reaches the proposer's, in the
// transaction of the step (outbox rows of their own kinds); nobody is told of their own step; without a
// commander the proposal goes to the incident's announcement channels; who was told is on the timeline event.
func TestChangeControlNotifies(t *testing.T) {
	forEach(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		root := as("root", firebreak.RoleAdmin)
		bob, carol := as("bob", firebreak.RoleResponder), as("carol", firebreak.RoleResponder)
		for _, u := range []string{"alice", "bob", "carol"} {
			must(s.CreateUser(root, firebreak.UserInput{Username: u, Role: firebreak.RoleResponder}))
		}
		must(s.CreateChannel(root, firebreak.ChannelInput{Kind: firebreak.ChannelEmail, Name: "alice-mail",
			Address: "alice@example.com", User: "alice"}))
		must(s.CreateChannel(root, firebreak.ChannelInput{Kind: firebreak.ChannelWebhook, Name: "bob-hook",
			URL: "http://127.0.0.1:9/bob", Secret: "0123456789abcdef", User: "bob"}))
		must(s.CreateChannel(root, firebreak.ChannelInput{Kind: firebreak.ChannelSlack, Name: "ops",
			URL: "http://127.0.0.1:9/ops"}))
		service(t, s, "orders", "commerce")
		must(s.UpdateService(root, "orders", firebreak.ServicePatch{Channels: &[]string{"ops"}}, 0))

		inc := must(s.DeclareIncident(alice, firebreak.DeclareInput{Title: "Orders pool exhausted",
			Severity: firebreak.SEV1, Roles: map[firebreak.Role]string{firebreak.RoleCommander: "alice"}}))
		// change messages of the incident: "channel kind" → message text
		sent := func(ref string) map[string][]string {
			out := map[string][]string{}
			for _, n := range must(s.ListNotifications(root, firebreak.NotificationFilter{Incident: ref, Limit: 500})) {
				if !strings.HasPrefix(n.Kind, "change_") {
					continue
				}
				var body string
				if err := sqlstore.QueryRow(ctx, s, `SELECT message FROM notifications WHERE id = ?`, n.ID).Scan(&body); err != nil {
					t.Fatal(err)
				}
				var m notify.Message
				if err := json.Unmarshal([]byte(body), &m); err != nil {
					t.Fatal(err)
				}
				if m.Incident.Ref != ref || !strings.HasSuffix(m.Incident.URL, "/incidents/"+ref) {
					t.Errorf("message %+v does not name its incident", m.Incident)
				}
				out[n.Channel+" "+n.Kind] = append(out[n.Channel+" "+n.Kind], m.Actor+": "+m.Text)
			}
			return out
		}
		lastEvent := func(ref string, kind firebreak.EventKind) firebreak.TimelineEvent {
			var last firebreak.TimelineEvent
			for _, ev := range timeline(t, s, ref) {
				if ev.Kind == kind {
					last = ev
				}
			}
			return last
		}

		// bob proposes: alice, the commander, is asked; the timeline says so.
		p := must(s.ProposeChange(bob, inc.Reference, firebreak.ProposalInput{Action: "Restart the orders pods",
			Reason: "connections leak", Risk: firebreak.RiskMedium}))
		got := sent(inc.Reference)
		if len(got) != 1 || len(got["alice-mail change_proposed"]) != 1 ||
			got["alice-mail change_proposed"][0] != "bob: bob proposes a change on "+inc.Reference+" and needs your "+
				"approval as incident commander: Restart the orders pods (medium risk). Reason: connections leak. "+
				"Approve or reject it on the incident page." {
			t.Fatalf("after the proposal: %v", got)
		}
		if ev := lastEvent(inc.Reference, firebreak.EventChangeProposed); ev.Data["notified"] != "alice" {
			t.Errorf("proposal event data %v", ev.Data)
		}
		// alice approves: bob hears it, with her note.
		must(s.DecideProposal(alice, inc.Reference, p.ID, firebreak.DecisionApprove,
			firebreak.DecisionInput{Note: "one pod at a time"}))
		got = sent(inc.Reference)
		if len(got["bob-hook change_approved"]) != 1 || !strings.HasPrefix(got["bob-hook change_approved"][0],
			"alice: alice approved your proposed change on "+inc.Reference+": Restart the orders pods. Note: one pod at a time.") {
			t.Fatalf("after the approval: %v", got)
		}
		if ev := lastEvent(inc.Reference, firebreak.EventChangeApproved); ev.Data["notified"] != "bob" {
			t.Errorf("approval event data %v", ev.Data)
		}
		// carol has no contact method: her rejection reaches nobody, and the timeline says why.
		p2 := must(s.ProposeChange(carol, inc.Reference, firebreak.ProposalInput{Action: "Fail over", Reason: "slow"}))
		must(s.DecideProposal(alice, inc.Reference, p2.ID, firebreak.DecisionReject, firebreak.DecisionInput{}))
		if ev := lastEvent(inc.Reference, firebreak.EventChangeRejected); ev.Data["unreachable"] != "carol: no contact method" {
			t.Errorf("rejection event data %v", ev.Data)
		}
		// bob's rejected proposal is heard; a withdrawal and the commander's own proposal tell nobody.
		p3 := must(s.ProposeChange(bob, inc.Reference, firebreak.ProposalInput{Action: "Raise the pool", Reason: "headroom"}))
		must(s.DecideProposal(alice, inc.Reference, p3.ID, firebreak.DecisionReject, firebreak.DecisionInput{Note: "no"}))
		p4 := must(s.ProposeChange(bob, inc.Reference, firebreak.ProposalInput{Action: "Drain a node", Reason: "hot"}))
		must(s.DecideProposal(bob, inc.Reference, p4.ID, firebreak.DecisionWithdraw, firebreak.DecisionInput{}))
		must(s.ProposeChange(alice, inc.Reference, firebreak.ProposalInput{Action: "Roll back", Reason: "deploy 41"}))
		got = sent(inc.Reference)
		want := map[string]int{"alice-mail change_proposed": 4, "bob-hook change_approved": 1, "bob-hook change_rejected": 1}
		for k, n := range want {
			if len(got[k]) != n {
				t.Errorf("%s: %d messages, want %d (%v)", k, len(got[k]), n, got)
			}
		}
		if len(got) != len(want) {
			t.Errorf("unexpected messages: %v", got)
		}

		// Without a commander, a proposal goes to the incident's announcement channels.
		inc2 := declare(t, s, "Orders slow", firebreak.SEV2, "orders")
		must(s.ProposeChange(bob, inc2.Reference, firebreak.ProposalInput{Action: "Scale out", Reason: "CPU"}))
		if got := sent(inc2.Reference); len(got["ops change_proposed"]) != 1 ||
			!strings.Contains(got["ops change_proposed"][0], "has no incident commander to approve or reject it") {
			t.Fatalf("without a commander: %v", got)
		}
		if ev := lastEvent(inc2.Reference, firebreak.EventChangeProposed); ev.Data["notified"] !=
			"1 announcement channel(s) (no incident commander)" {
			t.Errorf("event data %v", ev.Data)
		}
	})
}
