package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/firebreak/firebreak"
)

// firebreak contact add|list|rm|test: your contact methods (or, for an admin, anyone's with --user).
func newContactCmd() *cobra.Command {
	f := &apiFlags{}
	var user string
	cmd := groupCmd("contact", "Manage the contact methods that page you (email, chat, webhook)")
	cmd.Aliases = []string{"contacts", "contact-method"}
	f.bind(cmd)
	cmd.PersistentFlags().StringVar(&user, "user", "me", "whose contact methods (admins may name anyone)")
	who := func() string { return user }

	var in firebreak.ChannelInput
	var kind string
	add := &cobra.Command{
		Use:   "add --kind KIND (--address EMAIL | --url URL [--secret SECRET]) [--name NAME]",
		Short: "Add a contact method",
		Example: `  firebreak contact add --kind email --address alice@example.com
  firebreak contact add --kind slack --url https://hooks.slack.com/services/T/B/X --name "alice DM"`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			in.Kind = firebreak.ChannelKind(kind)
			c, err := f.client().AddContactMethod(cmd.Context(), who(), in)
			if err != nil {
				return apiError(err)
			}
			if f.json {
				return printJSON(cmd.OutOrStdout(), c)
			}
			fmt.Fprint(cmd.OutOrStdout(), "Added contact method ")
			printChannel(cmd.OutOrStdout(), c)
			return nil
		},
	}
	fl := add.Flags()
	fl.StringVar(&kind, "kind", "email", "email, slack, mattermost, teams or webhook")
	fl.StringVar(&in.Name, "name", "", "a name (default: your username and the kind)")
	fl.StringVar(&in.URL, "url", "", "webhook URL (slack, mattermost, teams, webhook)")
	fl.StringVar(&in.Address, "address", "", "email address (email)")
	fl.StringVar(&in.Secret, "secret", "", "HMAC signing secret, at least 16 characters (webhook)")

	list := &cobra.Command{
		Use:   "list",
		Short: "List contact methods",
		Args:  exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			cs, err := f.client().ListContactMethods(cmd.Context(), who())
			if err != nil {
				return apiError(err)
			}
			if f.json {
				return printJSON(cmd.OutOrStdout(), cs)
			}
			if len(cs) == 0 {
				fmt.Fprintln(cmd.OutOrStdout(), "No contact methods: nobody can page this user. Add one with: firebreak contact add")
			}
			for i := range cs {
				printChannel(cmd.OutOrStdout(), &cs[i])
			}
			return nil
		},
	}
	rm := &cobra.Command{
		Use:   "rm NAME|ID",
		Short: "Remove a contact method",
		Args:  exactArgs("NAME|ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := f.client().DeleteContactMethod(cmd.Context(), who(), args[0]); err != nil {
				return apiError(err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Removed %s\n", args[0])
			return nil
		},
	}
	test := &cobra.Command{
		Use:   "test NAME|ID",
		Short: "Send a test message to a contact method",
		Args:  exactArgs("NAME|ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := f.client().TestContactMethod(cmd.Context(), who(), args[0])
			if err != nil {
				return apiError(err)
			}
			if f.json {
				return printJSON(cmd.OutOrStdout(), n)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Queued test message %s to %s\n", n.ID, n.Channel)
			return nil
		},
	}
	cmd.AddCommand(add, list, rm, test)
	return cmd
}
