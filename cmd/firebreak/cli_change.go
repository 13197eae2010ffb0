package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/google/uuid"
	"github.com/spf13/cobra"

	"github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/client"
)

// Change control during an incident: firebreak incident propose|proposals|approve|reject|withdraw. Proposals are
// named by their number on the incident (1 is the first proposed, as 'proposals' shows), or their id.

func newIncidentChangeCmds(f *apiFlags) []*cobra.Command {
	return []*cobra.Command{newIncidentProposeCmd(f), newIncidentProposalsCmd(f),
		newIncidentDecideCmd(f, firebreak.DecisionApprove), newIncidentDecideCmd(f, firebreak.DecisionReject),
		newIncidentDecideCmd(f, firebreak.DecisionWithdraw)}
}

func newIncidentProposeCmd(f *apiFlags) *cobra.Command {
	var in firebreak.ProposalInput
	var risk string
	cmd := &cobra.Command{
		Use:   "propose INC-7 --action ACTION --reason REASON [--risk low|medium|high]",
		Short: "Propose a production change; the incident commander approves or rejects it",
		Example: `  firebreak incident propose INC-7 --action "Restart the orders pods one at a time" \
      --reason "connections leak since the 14:02 deploy" --risk medium`,
		Args: exactArgs("an incident"),
		RunE: func(cmd *cobra.Command, args []string) error {
			in.Risk = firebreak.ChangeRisk(strings.ToLower(strings.TrimSpace(risk)))
			c := f.client()
			p, err := c.ProposeChange(cmd.Context(), args[0], in)
			if err != nil {
				return apiError(err)
			}
			if f.json {
				return printJSON(cmd.OutOrStdout(), p)
			}
			n := 0
			if all, err := c.ListProposals(cmd.Context(), args[0]); err == nil {
				n = proposalNumber(all, p.ID)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Proposed change #%d on %s: %s\n", n, p.Incident, p.Action)
			if inc, err := c.GetIncident(cmd.Context(), args[0]); err == nil {
				if ic := inc.Roles[firebreak.RoleCommander]; ic != "" {
					fmt.Fprintf(cmd.OutOrStdout(), "Waiting for the incident commander, %s: firebreak incident approve %s %d\n",
						ic, p.Incident, n)
				} else {
					fmt.Fprintf(cmd.OutOrStdout(), "%s has no incident commander yet: assign one to decide it\n", p.Incident)
				}
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&in.Action, "action", "", "the change that will be made (required)")
	fl.StringVar(&in.Reason, "reason", "", "why it should help (required)")
	fl.StringVar(&risk, "risk", "", "low, medium or high")
	return cmd
}

func newIncidentProposalsCmd(f *apiFlags) *cobra.Command {
	return &cobra.Command{
		Use:     "proposals INC-7",
		Short:   "List the changes proposed on an incident, with their state",
		Example: "  firebreak incident proposals INC-7",
		Args:    exactArgs("an incident"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ps, err := f.client().ListProposals(cmd.Context(), args[0])
			if err != nil {
				return apiError(err)
			}
			if f.json {
				return printJSON(cmd.OutOrStdout(), firebreak.Page[firebreak.ChangeProposal]{Items: ps})
			}
			printProposals(cmd.OutOrStdout(), ps)
			return nil
		},
	}
}

func printProposals(w io.Writer, ps []firebreak.ChangeProposal) {
	if len(ps) == 0 {
		fmt.Fprintln(w, "No changes proposed.")
		return
	}
	t := newTable(w, "#", "STATE", "RISK", "PROPOSED", "BY", "ACTION", "DECISION")
	for i, p := range ps {
		decision := "—"
		if p.DecidedBy != "" {
			decision = p.DecidedBy + " " + fmtTimePtr(p.DecidedAt)
			if p.Note != "" {
				decision += ": " + truncate(p.Note, 40)
			}
		}
		t.row(strconv.Itoa(i+1), string(p.State), orDash(string(p.Risk)), fmtTime(p.ProposedAt), p.ProposedBy,
			truncate(p.Action, 60), decision)
	}
	_ = t.flush()
}

func proposalNumber(ps []firebreak.ChangeProposal, id string) int {
	for i, p := range ps {
		if p.ID == id {
			return i + 1
		}
	}
	return 0
}

// resolveProposal turns a proposal's number on the incident (or its id, or a unique start of it) into its id.
func resolveProposal(ctx context.Context, c *client.Client, ref, arg string) (string, error) {
	arg = strings.TrimPrefix(strings.TrimSpace(arg), "#")
	if u, err := uuid.Parse(arg); err == nil {
		return u.String(), nil
	}
	ps, err := c.ListProposals(ctx, ref)
	if err != nil {
		return "", apiError(err)
	}
	if n, err := strconv.Atoi(arg); err == nil {
		if n < 1 || n > len(ps) {
			return "", fmt.Errorf("%s has %d proposed changes; there is no #%d (see: firebreak incident proposals %s)",
				ref, len(ps), n, ref)
		}
		return ps[n-1].ID, nil
	}
	var found []string
	for _, p := range ps {
		if len(arg) >= 6 && strings.HasPrefix(p.ID, strings.ToLower(arg)) {
			found = append(found, p.ID)
		}
	}
	if len(found) != 1 {
		return "", fmt.Errorf("%q names no single proposed change of %s: use its number from "+
			"'firebreak incident proposals %s'", arg, ref, ref)
	}
	return found[0], nil
}

func newIncidentDecideCmd(f *apiFlags, d firebreak.Decision) *cobra.Command {
	var note string
	short := map[firebreak.Decision]string{
		firebreak.DecisionApprove:  "Approve a proposed change (the incident commander, or an admin)",
		firebreak.DecisionReject:   "Reject a proposed change (the incident commander, or an admin)",
		firebreak.DecisionWithdraw: "Withdraw a change you proposed",
	}[d]
	cmd := &cobra.Command{
		Use:     string(d) + " INC-7 PROPOSAL",
		Short:   short,
		Example: fmt.Sprintf("  firebreak incident %s INC-7 2 --note \"one pod at a time\"", d),
		Args:    exactArgs("an incident", "a proposal (its number or id)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, c := cmd.Context(), f.client()
			id, err := resolveProposal(ctx, c, args[0], args[1])
			if err != nil {
				return err
			}
			p, err := c.DecideProposal(ctx, args[0], id, d, firebreak.DecisionInput{Note: note})
			if err != nil {
				return apiError(err)
			}
			if f.json {
				return printJSON(cmd.OutOrStdout(), p)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Change %s on %s: %s\n", p.State, p.Incident, p.Action)
			return nil
		},
	}
	cmd.Flags().StringVar(&note, "note", "", "a note with the decision")
	return cmd
}
