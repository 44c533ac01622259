package cli

import (
	"net/url"

	"github.com/spf13/cobra"

	"github.com/opensmh/opensmh/services/smh/client"
)

func newToken() *cobra.Command {
	var f apiFlags
	var libraryID, secret string
	cmd := &cobra.Command{Use: "token", Short: "mint, renew and revoke access tokens (SMH section 1)",
		Example: "  smh token create --library smh3jsttekkpsoqw --library-secret \"$SECRET\" --user alice --grant upload_file"}
	f.add(cmd)
	cmd.PersistentFlags().StringVar(&libraryID, "library", "", "library id (env SMH_LIBRARY)")
	cmd.PersistentFlags().StringVar(&secret, "library-secret", "", "library secret (env SMH_LIBRARY_SECRET)")
	// libraryClient answers a client once the flags (or env) name a library.
	libraryClient := func(cmd *cobra.Command) (*client.Client, error) {
		c, err := f.client(cmd)
		if err != nil {
			return nil, err
		}
		if libraryID == "" {
			return nil, usagef("--library is required")
		}
		return c, nil
	}

	var spaces, user, clientID, session, grant, period string
	create := &cobra.Command{
		Use: "create --library ID --library-secret S", Short: "mint an access token", Args: cobra.NoArgs,
		Example: `  smh token create --library smh3jsttekkpsoqw --library-secret "$SECRET" --user alice --client phone-1 --grant upload_file,delete_file`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := libraryClient(cmd)
			if err != nil {
				return err
			}
			if secret == "" {
				return usagef("--library-secret is required")
			}
			q := url.Values{"library_id": {libraryID}, "library_secret": {secret}}
			for k, v := range map[string]string{"space_id": spaces, "user_id": user, "client_id": clientID, "session_id": session, "grant": grant, "period": period} {
				if v != "" {
					q.Set(k, v)
				}
			}
			return show(cmd, c, "POST", "/api/v1/token", q, nil, false)
		},
	}
	create.Flags().StringVar(&spaces, "space", "", "space id(s), comma-separated")
	create.Flags().StringVar(&user, "user", "", "user id")
	create.Flags().StringVar(&clientID, "client", "", "client (device) id")
	create.Flags().StringVar(&session, "session", "", "session id")
	create.Flags().StringVar(&grant, "grant", "", "grants, comma-separated (empty = read only)")
	create.Flags().StringVar(&period, "period", "", "lifetime and renewal window in seconds (default 86400, min 1200)")

	renew := &cobra.Command{
		Use: "renew --library ID TOKEN", Short: "renew a token for its period", Args: cobra.ExactArgs(1),
		Example: `  smh token renew --library smh3jsttekkpsoqw "$TOKEN"`,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := libraryClient(cmd)
			if err != nil {
				return err
			}
			return show(cmd, c, "POST", "/api/v1/token/"+url.PathEscape(libraryID)+"/"+url.PathEscape(args[0]), nil, nil, false)
		},
	}

	var revUser, revClient, revSession string
	revoke := &cobra.Command{
		Use:   "revoke --library ID (TOKEN | --library-secret S --user U [--client C] [--session S])",
		Short: "revoke one token, or a user's tokens",
		Example: `  smh token revoke --library smh3jsttekkpsoqw "$TOKEN"
  smh token revoke --library smh3jsttekkpsoqw --library-secret "$SECRET" --user alice --client phone-1`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := libraryClient(cmd)
			if err != nil {
				return err
			}
			base := "/api/v1/token/" + url.PathEscape(libraryID)
			if len(args) == 1 {
				return c.Call(cmd.Context(), "DELETE", base+"/"+url.PathEscape(args[0]), nil, nil, false, nil)
			}
			if secret == "" || !cmd.Flags().Changed("user") {
				return usagef("give a TOKEN, or --library-secret and --user")
			}
			q := url.Values{"library_secret": {secret}, "user_id": {revUser}}
			// An explicitly empty --client= selects tokens minted without a client id (1.4).
			if cmd.Flags().Changed("client") {
				q.Set("client_id", revClient)
			}
			if cmd.Flags().Changed("session") {
				q.Set("session_id", revSession)
			}
			return c.Call(cmd.Context(), "DELETE", base, q, nil, false, nil)
		},
	}
	revoke.Flags().StringVar(&revUser, "user", "", "user id(s), comma-separated")
	revoke.Flags().StringVar(&revClient, "client", "", "only these client ids (empty = tokens without a client id)")
	revoke.Flags().StringVar(&revSession, "session", "", "only these session ids")

	cmd.AddCommand(create, renew, revoke)
	return cmd
}
