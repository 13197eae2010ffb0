package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/sqlstore"
)

// adminAPI is what the admin commands need; the HTTP client and the store both provide it.
type adminAPI interface {
	CreateUser(ctx context.Context, in firebreak.UserInput) (*firebreak.User, error)
	ListUsers(ctx context.Context) ([]firebreak.User, error)
	CreateToken(ctx context.Context, in firebreak.TokenInput) (*firebreak.Token, error)
	ListTokens(ctx context.Context, username string) ([]firebreak.Token, error)
	RevokeToken(ctx context.Context, id string) error
}

// adminFlags add to the API flags the offline mode: --data-dir or --database-url work on the database directly,
// for when the server is not running or nobody has a token yet.
type adminFlags struct {
	apiFlags
	dataDir     string
	databaseURL string
}

// open returns the API to use and a function to release it.
func (f *adminFlags) open(cmd *cobra.Command) (adminAPI, func(), error) {
	if !cmd.Flags().Changed("data-dir") && !cmd.Flags().Changed("database-url") {
		return f.client(), func() {}, nil
	}
	st, err := sqlstore.Open(cmd.Context(), sqlstore.Options{DataDir: f.dataDir, DatabaseURL: f.databaseURL,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return nil, nil, err
	}
	return st, func() { _ = st.Close() }, nil
}

func newAdminCmd() *cobra.Command {
	f := &adminFlags{}
	cmd := groupCmd("admin", "Manage users and API tokens (admin)")
	cmd.Long = `Manage users and API tokens. By default the commands go through the API (FIREBREAK_URL, FIREBREAK_TOKEN,
which must be an admin token). With --data-dir or --database-url they work on the database directly, for when
the server is not running or nobody has a token yet:

  firebreak admin token create --data-dir ./firebreak-data --username admin --name cli`
	f.bind(cmd)
	pf := cmd.PersistentFlags()
	pf.StringVar(&f.dataDir, "data-dir", "", "work offline on the SQLite database in this data directory")
	pf.StringVar(&f.databaseURL, "database-url", "", "work offline on this database (postgres://… or sqlite path)")

	user := groupCmd("user", "Create and list users")
	user.AddCommand(newAdminUserCreateCmd(f), newAdminUserListCmd(f))
	token := groupCmd("token", "Create, list and revoke API tokens")
	token.AddCommand(newAdminTokenCreateCmd(f), newAdminTokenListCmd(f), newAdminTokenRevokeCmd(f))
	cmd.AddCommand(user, token)
	return cmd
}

func newAdminUserCreateCmd(f *adminFlags) *cobra.Command {
	var (
		in            firebreak.UserInput
		role          string
		passwordStdin bool
	)
	cmd := &cobra.Command{
		Use:   "create --username NAME --role viewer|responder|admin",
		Short: "Create a user",
		Long: `Create a user. A user without a password signs in only with API tokens; --password-stdin reads the
password for the web console from standard input (the first line).`,
		Example: `  echo "$PASSWORD" | firebreak admin user create --username alice --role responder --name "Alice Chen" \
      --email alice@example.com --password-stdin`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			in.Role = firebreak.UserRole(strings.ToLower(role))
			if passwordStdin {
				pw, err := readLine(cmd.InOrStdin())
				if err != nil {
					return fmt.Errorf("reading the password from standard input: %w", err)
				}
				if pw == "" {
					return usageError(cmd, errors.New("--password-stdin: standard input holds no password"))
				}
				in.Password = pw
			}
			api, done, err := f.open(cmd)
			if err != nil {
				return err
			}
			defer done()
			u, err := api.CreateUser(cmd.Context(), in)
			if err != nil {
				return apiError(err)
			}
			if f.json {
				return printJSON(cmd.OutOrStdout(), u)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Created user %s (%s)\n", u.Username, u.Role)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&in.Username, "username", "", "login name: lowercase letters, digits, '.', '_' or '-' (required)")
	fl.StringVar(&role, "role", "", "viewer, responder (default) or admin")
	fl.StringVar(&in.Name, "name", "", "full name")
	fl.StringVar(&in.Email, "email", "", "email address")
	fl.BoolVar(&passwordStdin, "password-stdin", false, "read the password from standard input")
	return cmd
}

func readLine(r io.Reader) (string, error) {
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func newAdminUserListCmd(f *adminFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List users",
		Args:  exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			api, done, err := f.open(cmd)
			if err != nil {
				return err
			}
			defer done()
			us, err := api.ListUsers(cmd.Context())
			if err != nil {
				return apiError(err)
			}
			if us == nil {
				us = []firebreak.User{}
			}
			out := cmd.OutOrStdout()
			if f.json {
				return printJSON(out, firebreak.Page[firebreak.User]{Items: us})
			}
			t := newTable(out, "USERNAME", "NAME", "EMAIL", "ROLE", "CREATED")
			for _, u := range us {
				t.row(u.Username, orDash(u.Name), orDash(u.Email), string(u.Role), fmtTime(u.CreatedAt))
			}
			return t.flush()
		},
	}
}

func newAdminTokenCreateCmd(f *adminFlags) *cobra.Command {
	var (
		in      firebreak.TokenInput
		role    string
		expires time.Duration
	)
	cmd := &cobra.Command{
		Use:   "create --username NAME --name LABEL",
		Short: "Create an API token for a user; the secret is shown once",
		Example: `  firebreak admin token create --username alice --name laptop
  firebreak admin token create --username ci-bot --name deploys --role responder --expires 2160h`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			in.Role = firebreak.UserRole(strings.ToLower(role))
			if expires < 0 {
				return usageError(cmd, errors.New("--expires must be positive"))
			}
			if expires > 0 {
				t := time.Now().Add(expires).UTC()
				in.ExpiresAt = &t
			}
			api, done, err := f.open(cmd)
			if err != nil {
				return err
			}
			defer done()
			tok, err := api.CreateToken(cmd.Context(), in)
			if err != nil {
				return apiError(err)
			}
			out := cmd.OutOrStdout()
			if f.json {
				return printJSON(out, tok)
			}
			fmt.Fprintf(out, "Created token %q for %s (role %s)", tok.Name, tok.Username, tok.Role)
			if tok.ExpiresAt != nil {
				fmt.Fprintf(out, ", expires %s", fmtTime(*tok.ExpiresAt))
			}
			fmt.Fprintf(out, ".\n\n  %s\n\nWarning: this is the only time the token is shown; Firebreak keeps only a hash. "+
				"Store it now, e.g.\n  export FIREBREAK_TOKEN=%s\n", tok.Secret, tok.Secret)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&in.Username, "username", "", "user the token acts for (required)")
	fl.StringVar(&in.Name, "name", "", "label, e.g. laptop or ci (required)")
	fl.StringVar(&role, "role", "", "role of the token, at most the user's (default: the user's role)")
	fl.DurationVar(&expires, "expires", 0, "lifetime, e.g. 720h (default: no expiry)")
	return cmd
}

func newAdminTokenListCmd(f *adminFlags) *cobra.Command {
	var username string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List API tokens (never their secrets)",
		Args:  exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			api, done, err := f.open(cmd)
			if err != nil {
				return err
			}
			defer done()
			toks, err := api.ListTokens(cmd.Context(), username)
			if err != nil {
				return apiError(err)
			}
			if toks == nil {
				toks = []firebreak.Token{}
			}
			out := cmd.OutOrStdout()
			if f.json {
				return printJSON(out, firebreak.Page[firebreak.Token]{Items: toks})
			}
			t := newTable(out, "ID", "USERNAME", "NAME", "ROLE", "CREATED", "EXPIRES", "LAST USED")
			for _, tk := range toks {
				t.row(tk.ID, tk.Username, tk.Name, string(tk.Role), fmtTime(tk.CreatedAt), fmtTimePtr(tk.ExpiresAt),
					fmtTimePtr(tk.LastUsedAt))
			}
			return t.flush()
		},
	}
	cmd.Flags().StringVar(&username, "username", "", "only this user's tokens")
	return cmd
}

func newAdminTokenRevokeCmd(f *adminFlags) *cobra.Command {
	return &cobra.Command{
		Use:     "revoke TOKEN-ID",
		Short:   "Revoke an API token: it authenticates nobody from then on",
		Example: "  firebreak admin token list --username alice\n  firebreak admin token revoke 01a204cf-9337-7042-b7e8-6578018efeb1",
		Args:    exactArgs("a token id"),
		RunE: func(cmd *cobra.Command, args []string) error {
			api, done, err := f.open(cmd)
			if err != nil {
				return err
			}
			defer done()
			if err := api.RevokeToken(cmd.Context(), args[0]); err != nil {
				return apiError(err)
			}
			if f.json {
				return printJSON(cmd.OutOrStdout(), map[string]any{"id": args[0], "revoked": true})
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Revoked token %s\n", args[0])
			return nil
		},
	}
}
