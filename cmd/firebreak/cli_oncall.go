package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/oncall"
)

// --- team ------------------------------------------------------------------------------------------------------

func newTeamCmd() *cobra.Command {
	f := &apiFlags{}
	cmd := groupCmd("team", "Manage teams over the API")
	cmd.Aliases = []string{"teams"}
	f.bind(cmd)
	member := groupCmd("member", "Add or remove team members (admin)")
	member.AddCommand(newTeamMemberAddCmd(f), newTeamMemberRmCmd(f))
	cmd.AddCommand(newTeamAddCmd(f), newTeamListCmd(f), member)
	cmd.AddCommand(newTeamChannelsCmd(f)) // cli_followthrough.go
	return cmd
}

func printTeam(w io.Writer, t *firebreak.Team) {
	fmt.Fprintf(w, "%s (%s)\n", t.Slug, t.Name)
	for _, m := range t.Members {
		fmt.Fprintf(w, "  %s  %s\n", m.Username, m.Role)
	}
}

func newTeamAddCmd(f *apiFlags) *cobra.Command {
	var in firebreak.TeamInput
	var members, managers []string
	cmd := &cobra.Command{
		Use:     "add --slug SLUG [--name NAME] [--member USER]... [--manager USER]...",
		Short:   "Create a team (admin)",
		Example: `  firebreak team add --slug payments --name "Payments" --manager ann --member bob,cyd`,
		Args:    exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			for _, m := range splitList(managers) {
				in.Members = append(in.Members, firebreak.TeamMemberInput{Username: m, Role: firebreak.TeamRoleManager})
			}
			for _, m := range splitList(members) {
				in.Members = append(in.Members, firebreak.TeamMemberInput{Username: m, Role: firebreak.TeamRoleMember})
			}
			t, err := f.client().CreateTeam(cmd.Context(), in)
			if err != nil {
				return apiError(err)
			}
			if f.json {
				return printJSON(cmd.OutOrStdout(), t)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Added team ")
			printTeam(cmd.OutOrStdout(), t)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&in.Slug, "slug", "", "permanent short name; services name it in --team (required)")
	fl.StringVar(&in.Name, "name", "", "display name (default: the slug)")
	fl.StringArrayVar(&members, "member", nil, "username of a member (repeatable, or comma-separated)")
	fl.StringArrayVar(&managers, "manager", nil, "username of a manager (repeatable, or comma-separated)")
	return cmd
}

func newTeamListCmd(f *apiFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List teams and their members",
		Args:  exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			teams, err := f.client().ListTeams(cmd.Context())
			if err != nil {
				return apiError(err)
			}
			out := cmd.OutOrStdout()
			if f.json {
				return printJSON(out, firebreak.Page[firebreak.Team]{Items: teams})
			}
			if len(teams) == 0 {
				fmt.Fprintln(out, "No teams.")
				return nil
			}
			tb := newTable(out, "SLUG", "NAME", "MEMBERS")
			for _, t := range teams {
				var ms []string
				for _, m := range t.Members {
					s := m.Username
					if m.Role == firebreak.TeamRoleManager {
						s += " (manager)"
					}
					ms = append(ms, s)
				}
				tb.row(t.Slug, t.Name, orDash(strings.Join(ms, ", ")))
			}
			return tb.flush()
		},
	}
}

func newTeamMemberAddCmd(f *apiFlags) *cobra.Command {
	var role string
	cmd := &cobra.Command{
		Use:   "add TEAM USER [--role member|manager]",
		Short: "Add a member to a team, or change a member's role (admin)",
		Args:  exactArgs("TEAM", "USER"),
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := f.client().SetTeamMember(cmd.Context(), args[0],
				firebreak.TeamMemberInput{Username: args[1], Role: firebreak.TeamRole(role)})
			if err != nil {
				return apiError(err)
			}
			if f.json {
				return printJSON(cmd.OutOrStdout(), t)
			}
			printTeam(cmd.OutOrStdout(), t)
			return nil
		},
	}
	cmd.Flags().StringVar(&role, "role", "member", "member or manager")
	return cmd
}

func newTeamMemberRmCmd(f *apiFlags) *cobra.Command {
	return &cobra.Command{
		Use:     "rm TEAM USER",
		Aliases: []string{"remove"},
		Short:   "Remove a member from a team (admin)",
		Args:    exactArgs("TEAM", "USER"),
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := f.client().RemoveTeamMember(cmd.Context(), args[0], args[1])
			if err != nil {
				return apiError(err)
			}
			if f.json {
				return printJSON(cmd.OutOrStdout(), t)
			}
			printTeam(cmd.OutOrStdout(), t)
			return nil
		},
	}
}

// --- schedule --------------------------------------------------------------------------------------------------

func newScheduleCmd() *cobra.Command {
	f := &apiFlags{}
	cmd := groupCmd("schedule", "Manage on-call schedules over the API")
	cmd.Aliases = []string{"schedules"}
	f.bind(cmd)
	override := groupCmd("override", "Put someone on call for a range of time (responder)")
	override.AddCommand(newOverrideAddCmd(f))
	cmd.AddCommand(newScheduleAddCmd(f), newScheduleListCmd(f), newScheduleShowCmd(f), newScheduleOnCallCmd(f), override)
	return cmd
}

func printWarnings(w io.Writer, ws []oncall.Warning) {
	if len(ws) == 0 {
		return
	}
	fmt.Fprintf(w, "Warnings (next 4 weeks):\n")
	for i, x := range ws {
		if i == 10 {
			fmt.Fprintf(w, "  … and %d more\n", len(ws)-i)
			break
		}
		fmt.Fprintf(w, "  %s\n", x.Message)
	}
}

func newScheduleAddCmd(f *apiFlags) *cobra.Command {
	var file string
	cmd := &cobra.Command{
		Use:   "add --file schedule.json",
		Short: "Create an on-call schedule (admin) from JSON in a file (- for stdin)",
		Example: `  cat > schedule.json <<'JSON'
  {"name": "Payments primary", "team": "payments", "time_zone": "Europe/Berlin",
   "layers": [{"name": "weekly", "rotation": "weekly", "start": "2026-01-05", "handoff_time": "09:00",
               "participants": ["ann", "bob", "cyd"]}]}
  JSON
  firebreak schedule add --file schedule.json`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if file == "" {
				return usageError(cmd, fmt.Errorf("--file is required"))
			}
			var b []byte
			var err error
			if file == "-" {
				b, err = io.ReadAll(io.LimitReader(cmd.InOrStdin(), 1<<20))
			} else {
				b, err = os.ReadFile(file)
			}
			if err != nil {
				return err
			}
			var in firebreak.ScheduleInput
			dec := json.NewDecoder(strings.NewReader(string(b)))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&in); err != nil {
				return fmt.Errorf("%s: not a schedule: %v", file, err)
			}
			sc, err := f.client().CreateSchedule(cmd.Context(), in)
			if err != nil {
				return apiError(err)
			}
			if f.json {
				return printJSON(cmd.OutOrStdout(), sc)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Added schedule %s (%s)\n", sc.Name, sc.ID)
			printWarnings(cmd.OutOrStdout(), sc.Warnings)
			return nil
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "", "the schedule as JSON; - reads stdin")
	return cmd
}

func newScheduleListCmd(f *apiFlags) *cobra.Command {
	var sf firebreak.ScheduleFilter
	cmd := &cobra.Command{
		Use:   "list [--team SLUG] [--user USER]",
		Short: "List on-call schedules",
		Args:  exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			list, err := f.client().ListSchedules(cmd.Context(), sf)
			if err != nil {
				return apiError(err)
			}
			out := cmd.OutOrStdout()
			if f.json {
				return printJSON(out, firebreak.Page[firebreak.Schedule]{Items: list})
			}
			if len(list) == 0 {
				fmt.Fprintln(out, "No schedules.")
				return nil
			}
			tb := newTable(out, "ID", "NAME", "TEAM", "TIME ZONE", "LAYERS")
			for _, s := range list {
				tb.row(s.ID, s.Name, orDash(s.Team), s.TimeZone, fmt.Sprint(len(s.Layers)))
			}
			return tb.flush()
		},
	}
	cmd.Flags().StringVar(&sf.Team, "team", "", "only this team's schedules")
	cmd.Flags().StringVar(&sf.User, "user", "", "only the schedules this user takes part in")
	return cmd
}

func newScheduleShowCmd(f *apiFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "show ID",
		Short: "Show a schedule: its layers, overrides, the next week's shifts and warnings",
		Args:  exactArgs("ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c := f.client()
			sc, err := c.GetSchedule(cmd.Context(), args[0])
			if err != nil {
				return apiError(err)
			}
			if f.json {
				return printJSON(cmd.OutOrStdout(), sc)
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "%s (%s)\nTeam: %s   Time zone: %s\n\nLayers (a later layer wins where it has coverage):\n",
				sc.Name, sc.ID, orDash(sc.Team), sc.TimeZone)
			for i, l := range sc.Layers {
				fmt.Fprintf(out, "  %d. %s: %s ×%d from %s at %s: %s", i+1, orDash(l.Name), l.Rotation, l.Length, l.Start,
					l.HandoffTime, strings.Join(l.Participants, ", "))
				if r := l.Restriction; r != nil {
					fmt.Fprintf(out, " (only %s–%s %s)", r.From, r.To, strings.Join(r.Days, ","))
				}
				fmt.Fprintln(out)
			}
			if len(sc.Overrides) > 0 {
				fmt.Fprintln(out, "\nOverrides:")
				tb := newTable(out, "  ID", "USER", "START", "END")
				for _, o := range sc.Overrides {
					tb.row("  "+o.ID, o.User, fmtTime(o.Start), fmtTime(o.End))
				}
				if err := tb.flush(); err != nil {
					return err
				}
			}
			shifts, err := c.Shifts(cmd.Context(), sc.ID, time.Time{}, time.Time{})
			if err != nil {
				return apiError(err)
			}
			fmt.Fprintln(out, "\nNext 7 days:")
			tb := newTable(out, "  START", "END", "ON CALL")
			for _, s := range shifts.Items {
				tb.row("  "+fmtTime(s.Start), fmtTime(s.End), strings.Join(s.Users, ", "))
			}
			if err := tb.flush(); err != nil {
				return err
			}
			fmt.Fprintln(out)
			printWarnings(out, sc.Warnings)
			return nil
		},
	}
}

func newScheduleOnCallCmd(f *apiFlags) *cobra.Command {
	var at string
	cmd := &cobra.Command{
		Use:   "oncall ID [--at TIME]",
		Short: "Who is on call now, or at a time",
		Args:  exactArgs("ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var t *time.Time
			if at != "" {
				v, err := parseAt(at, time.Now())
				if err != nil {
					return usageError(cmd, err)
				}
				t = &v
			}
			oc, err := f.client().OnCallAt(cmd.Context(), args[0], t)
			if err != nil {
				return apiError(err)
			}
			if f.json {
				return printJSON(cmd.OutOrStdout(), oc)
			}
			if len(oc.Users) == 0 {
				fmt.Fprintf(cmd.OutOrStdout(), "No one is on call at %s (gap until %s).\n", fmtTime(oc.At), fmtTime(oc.Until))
				return nil
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s, since %s, until %s\n", strings.Join(oc.Users, ", "), fmtTime(oc.Since),
				fmtTime(oc.Until))
			return nil
		},
	}
	cmd.Flags().StringVar(&at, "at", "", "the time: HH:MM (today, local), YYYY-MM-DD HH:MM (local) or RFC 3339")
	return cmd
}

func newOverrideAddCmd(f *apiFlags) *cobra.Command {
	var user, start, end string
	cmd := &cobra.Command{
		Use:     "add SCHEDULE --user USER --start TIME --end TIME",
		Short:   "Put USER on call on SCHEDULE from START to END (responder)",
		Example: `  firebreak schedule override add 0193… --user bob --start "2026-12-24 18:00" --end "2026-12-27 09:00"`,
		Args:    exactArgs("SCHEDULE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			now := time.Now()
			s, err := parseAt(start, now)
			if err != nil {
				return usageError(cmd, fmt.Errorf("--start: %v", err))
			}
			e, err := parseAt(end, now)
			if err != nil {
				return usageError(cmd, fmt.Errorf("--end: %v", err))
			}
			o, err := f.client().AddOverride(cmd.Context(), args[0], firebreak.OverrideInput{User: user, Start: s, End: e})
			if err != nil {
				return apiError(err)
			}
			if f.json {
				return printJSON(cmd.OutOrStdout(), o)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Override %s: %s on call from %s to %s\n", o.ID, o.User, fmtTime(o.Start),
				fmtTime(o.End))
			printWarnings(cmd.OutOrStdout(), o.Warnings)
			return nil
		},
	}
	cmd.Flags().StringVar(&user, "user", "", "who covers (required)")
	cmd.Flags().StringVar(&start, "start", "", "YYYY-MM-DD HH:MM (local) or RFC 3339 (required)")
	cmd.Flags().StringVar(&end, "end", "", "YYYY-MM-DD HH:MM (local) or RFC 3339 (required)")
	return cmd
}
