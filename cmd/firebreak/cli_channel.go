package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/firebreak/firebreak"
)

// firebreak channel add|list|test|notifications: notification channels and the outbox over the API.
func newChannelCmd() *cobra.Command {
	f := &apiFlags{}
	cmd := groupCmd("channel", "Manage notification channels (Slack, Mattermost, Teams, webhook, email)")
	cmd.Aliases = []string{"channels"}
	f.bind(cmd)
	cmd.AddCommand(newChannelAddCmd(f), newChannelListCmd(f), newChannelTestCmd(f), newNotificationsCmd(f))
	return cmd
}

func printChannel(w io.Writer, c *firebreak.Channel) {
	dest := c.URL
	if c.Kind == firebreak.ChannelEmail {
		dest = c.Address
	}
	state := ""
	if !c.Enabled {
		state = "  (disabled)"
	}
	fmt.Fprintf(w, "%s  %s  %s  %s  services: %s%s\n", c.Name, c.Kind, dest, c.ID, strings.Join(c.Services, ","), state)
}

func newChannelAddCmd(f *apiFlags) *cobra.Command {
	var in firebreak.ChannelInput
	var kind string
	cmd := &cobra.Command{
		Use:   "add --kind KIND --name NAME (--url URL [--secret SECRET] | --address ADDRESSES)",
		Short: "Create a notification channel (admin)",
		Example: `  firebreak channel add --kind slack --name ops-slack --url https://hooks.slack.com/services/T/B/X
  firebreak channel add --kind email --name oncall-mail --address oncall@example.com
  # then: PATCH /api/v1/services/payments {"channels": ["ops-slack", "oncall-mail"]}`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			in.Kind = firebreak.ChannelKind(kind)
			c, err := f.client().CreateChannel(cmd.Context(), in)
			if err != nil {
				return apiError(err)
			}
			if f.json {
				return printJSON(cmd.OutOrStdout(), c)
			}
			fmt.Fprint(cmd.OutOrStdout(), "Added channel ")
			printChannel(cmd.OutOrStdout(), c)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&kind, "kind", "", "slack, mattermost, teams, webhook or email (required)")
	fl.StringVar(&in.Name, "name", "", "unique name (required)")
	fl.StringVar(&in.URL, "url", "", "webhook URL (slack, mattermost, teams, webhook)")
	fl.StringVar(&in.Address, "address", "", "email addresses, comma-separated (email)")
	fl.StringVar(&in.Secret, "secret", "", "HMAC signing secret, at least 16 characters (webhook)")
	return cmd
}

func newChannelListCmd(f *apiFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List notification channels (URLs masked)",
		Args:  exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			cs, err := f.client().ListChannels(cmd.Context())
			if err != nil {
				return apiError(err)
			}
			if f.json {
				return printJSON(cmd.OutOrStdout(), cs)
			}
			for i := range cs {
				printChannel(cmd.OutOrStdout(), &cs[i])
			}
			return nil
		},
	}
}

func newChannelTestCmd(f *apiFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "test CHANNEL",
		Short: "Queue a test message to a channel (admin)",
		Args:  exactArgs("CHANNEL"),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := f.client().TestChannel(cmd.Context(), args[0])
			if err != nil {
				return apiError(err)
			}
			if f.json {
				return printJSON(cmd.OutOrStdout(), n)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Queued test message %s to %s; follow it with: firebreak channel notifications\n",
				n.ID, n.Channel)
			return nil
		},
	}
}

func newNotificationsCmd(f *apiFlags) *cobra.Command {
	var fl firebreak.NotificationFilter
	var status string
	cmd := &cobra.Command{
		Use:   "notifications [--status dead|retrying|…] [--incident INC-n]",
		Short: "List notifications in the outbox, newest first",
		Args:  exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			fl.Status = firebreak.NotificationStatus(status)
			ns, err := f.client().ListNotifications(cmd.Context(), fl)
			if err != nil {
				return apiError(err)
			}
			if f.json {
				return printJSON(cmd.OutOrStdout(), ns)
			}
			for _, n := range ns {
				fmt.Fprintf(cmd.OutOrStdout(), "%s  %-9s  %-16s  %-8s  %s  attempts %d  %s\n", n.ID, n.Status, n.Kind,
					n.Incident, n.Channel, n.Attempts, n.LastError)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&status, "status", "", "queued, sending, retrying, delivered or dead")
	cmd.Flags().StringVar(&fl.Incident, "incident", "", "only this incident's notifications")
	cmd.Flags().IntVar(&fl.Limit, "limit", 0, "at most this many (default 50)")
	return cmd
}
