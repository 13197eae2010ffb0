package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/firebreak/firebreak"
)

// firebreak escalation-policy list|show|create|rm|attach|detach: escalation policies over the API.
func newEscalationCmd() *cobra.Command {
	f := &apiFlags{}
	cmd := groupCmd("escalation-policy", "Manage escalation policies: who is paged, and who next when nobody acknowledges")
	cmd.Aliases = []string{"escalation-policies", "escalation"}
	f.bind(cmd)
	cmd.AddCommand(newEscalationListCmd(f), newEscalationShowCmd(f), newEscalationCreateCmd(f),
		newEscalationRmCmd(f), newEscalationAttachCmd(f), newEscalationDetachCmd(f))
	return cmd
}

func printEscalationPolicy(w io.Writer, p *firebreak.EscalationPolicy) {
	fmt.Fprintf(w, "%s  (%s, version %d)\n", p.Name, p.ID, p.Version)
	if p.Description != "" {
		fmt.Fprintf(w, "  %s\n", p.Description)
	}
	for i, st := range p.Steps {
		fmt.Fprintf(w, "  step %d: %s\n", i+1, firebreak.FormatEscalationStep(st))
	}
	runs := "once"
	if p.Repeat > 0 {
		runs = strconv.Itoa(p.Repeat+1) + " times"
	}
	fmt.Fprintf(w, "  runs %s; services: %s\n", runs, orDash(strings.Join(p.Services, ", ")))
}

func newEscalationListCmd(f *apiFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List escalation policies",
		Args:  exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ps, err := f.client().ListEscalationPolicies(cmd.Context())
			if err != nil {
				return apiError(err)
			}
			out := cmd.OutOrStdout()
			if f.json {
				return printJSON(out, firebreak.Page[firebreak.EscalationPolicy]{Items: ps})
			}
			if len(ps) == 0 {
				fmt.Fprintln(out, `No escalation policies. Add one with: firebreak escalation-policy create --name NAME --step "5m schedule:primary"`)
				return nil
			}
			t := newTable(out, "NAME", "STEPS", "RUNS", "SERVICES", "ID")
			for _, p := range ps {
				steps := make([]string, len(p.Steps))
				for i, st := range p.Steps {
					steps[i] = firebreak.FormatEscalationStep(st)
				}
				t.row(p.Name, strings.Join(steps, " → "), strconv.Itoa(p.Repeat+1), orDash(strings.Join(p.Services, ",")),
					p.ID)
			}
			return t.flush()
		},
	}
}

func newEscalationShowCmd(f *apiFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "show POLICY",
		Short: "Show an escalation policy (by name or id)",
		Args:  exactArgs("POLICY"),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := f.client().GetEscalationPolicy(cmd.Context(), args[0])
			if err != nil {
				return apiError(err)
			}
			if f.json {
				return printJSON(cmd.OutOrStdout(), p)
			}
			printEscalationPolicy(cmd.OutOrStdout(), p)
			return nil
		},
	}
}

// readPolicyFile reads a policy as JSON or YAML (same field names; delays as "5m"), refusing unknown fields.
func readPolicyFile(cmd *cobra.Command, file string) (firebreak.EscalationPolicyInput, error) {
	var in firebreak.EscalationPolicyInput
	var b []byte
	var err error
	if file == "-" {
		b, err = io.ReadAll(io.LimitReader(cmd.InOrStdin(), 1<<20))
	} else {
		b, err = os.ReadFile(file)
	}
	if err != nil {
		return in, err
	}
	var doc any
	if err := yaml.Unmarshal(b, &doc); err != nil { // YAML is a superset of JSON
		return in, fmt.Errorf("%s: not YAML or JSON: %v", file, err)
	}
	raw, err := json.Marshal(doc)
	if err != nil {
		return in, fmt.Errorf("%s: not a policy: %v", file, err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return in, fmt.Errorf("%s: not a policy: %v", file, err)
	}
	return in, nil
}

func newEscalationCreateCmd(f *apiFlags) *cobra.Command {
	var (
		file  string
		in    firebreak.EscalationPolicyInput
		steps []string
	)
	cmd := &cobra.Command{
		Use:   `create (--file policy.yaml | --name NAME --step "DELAY TARGET, TARGET…"…) [--repeat N]`,
		Short: "Create an escalation policy (admin)",
		Long: `Create an escalation policy. Each --step is the delay to wait for an acknowledgement before the next step,
then whom to page: user:NAME (their contact methods), schedule:NAME (whoever is on call when the step fires),
channel:NAME. Every target must exist and every step must reach someone now.`,
		Example: `  firebreak escalation-policy create --name payments --repeat 1 \
      --step "5m schedule:payments-primary" --step "10m user:alice, channel:ops-pager"
  cat > policy.yaml <<'YAML'
  name: payments
  repeat: 1
  steps:
    - {delay: 5m, targets: [{type: schedule, ref: payments-primary}]}
    - {delay: 10m, targets: [{type: user, ref: alice}, {type: channel, ref: ops-pager}]}
  YAML
  firebreak escalation-policy create --file policy.yaml
  firebreak escalation-policy attach payments --service payments`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if file != "" && (len(steps) > 0 || in.Name != "") {
				return usageError(cmd, fmt.Errorf("give either --file or --name and --step, not both"))
			}
			if file != "" {
				var err error
				if in, err = readPolicyFile(cmd, file); err != nil {
					return err
				}
			} else {
				if in.Name == "" || len(steps) == 0 {
					return usageError(cmd, fmt.Errorf("--name and at least one --step are required (or --file)"))
				}
				for _, s := range steps {
					st, err := firebreak.ParseEscalationStep(s)
					if err != nil {
						return usageError(cmd, fmt.Errorf("--step %v", err))
					}
					in.Steps = append(in.Steps, st)
				}
			}
			p, err := f.client().CreateEscalationPolicy(cmd.Context(), in)
			if err != nil {
				return apiError(err)
			}
			if f.json {
				return printJSON(cmd.OutOrStdout(), p)
			}
			fmt.Fprint(cmd.OutOrStdout(), "Added escalation policy ")
			printEscalationPolicy(cmd.OutOrStdout(), p)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&file, "file", "f", "", "the policy as YAML or JSON; - reads stdin")
	fl.StringVar(&in.Name, "name", "", "unique name")
	fl.StringVar(&in.Description, "description", "", "what it is for")
	fl.StringArrayVar(&steps, "step", nil, `a step: "DELAY TARGET, TARGET…", e.g. "5m schedule:primary, user:alice" (repeatable, in order)`)
	fl.IntVar(&in.Repeat, "repeat", 0, "how many times the steps run again when nobody acknowledges (0-9)")
	return cmd
}

func newEscalationRmCmd(f *apiFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "rm POLICY",
		Short: "Delete an escalation policy no service uses (admin)",
		Args:  exactArgs("POLICY"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := f.client().DeleteEscalationPolicy(cmd.Context(), args[0]); err != nil {
				return apiError(err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Deleted escalation policy %s\n", args[0])
			return nil
		},
	}
}

func setServicePolicy(cmd *cobra.Command, f *apiFlags, services []string, policy string) error {
	services = splitList(services)
	if len(services) == 0 {
		return usageError(cmd, fmt.Errorf("--service is required"))
	}
	for _, slug := range services {
		s, err := f.client().UpdateService(cmd.Context(), slug, firebreak.ServicePatch{EscalationPolicy: &policy}, 0)
		if err != nil {
			return apiError(err)
		}
		if f.json {
			if err := printJSON(cmd.OutOrStdout(), s); err != nil {
				return err
			}
			continue
		}
		if s.EscalationPolicy == "" {
			fmt.Fprintf(cmd.OutOrStdout(), "Service %s has no escalation policy: its incidents page nobody\n", s.Slug)
		} else {
			fmt.Fprintf(cmd.OutOrStdout(), "Service %s pages with escalation policy %s\n", s.Slug, s.EscalationPolicy)
		}
	}
	return nil
}

func newEscalationAttachCmd(f *apiFlags) *cobra.Command {
	var services []string
	cmd := &cobra.Command{
		Use:     "attach POLICY --service SLUG…",
		Short:   "Make services page with a policy when their incidents open (admin)",
		Example: `  firebreak escalation-policy attach payments --service payments --service checkout`,
		Args:    exactArgs("POLICY"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return setServicePolicy(cmd, f, services, args[0])
		},
	}
	cmd.Flags().StringArrayVar(&services, "service", nil, "service slug (repeatable, or comma-separated)")
	return cmd
}

func newEscalationDetachCmd(f *apiFlags) *cobra.Command {
	var services []string
	cmd := &cobra.Command{
		Use:   "detach --service SLUG…",
		Short: "Remove services' escalation policy (admin)",
		Args:  exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return setServicePolicy(cmd, f, services, "")
		},
	}
	cmd.Flags().StringArrayVar(&services, "service", nil, "service slug (repeatable, or comma-separated)")
	return cmd
}
