package cli

import (
	"net/url"
	"strconv"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	libraryv1 "github.com/opensmh/opensmh/gen/go/smh/library/v1"
)

func newLibrary() *cobra.Command {
	var f apiFlags
	cmd := &cobra.Command{Use: "library", Short: "manage media libraries (admin API)",
		Example: "  smh library list --admin-key \"$(cat data/admin.key)\""}
	f.add(cmd)

	var name, remark, extension string
	var fileLib, multiSpace, multiAlbum, publicRead bool
	create := &cobra.Command{
		Use: "create --name NAME", Short: "create a library", Args: cobra.NoArgs,
		Example: `  smh library create --name photos
  smh library create --name docs --file-library --extension '{"useRecycleBin":true}'`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := f.client(cmd)
			if err != nil {
				return err
			}
			ext, err := parseExtension(extension)
			if err != nil {
				return err
			}
			setFlag := func(flag string, field **bool, v bool) {
				if cmd.Flags().Changed(flag) {
					*field = proto.Bool(v)
				}
			}
			setFlag("file-library", &ext.IsFileLibrary, fileLib)
			setFlag("multi-space", &ext.IsMultiSpace, multiSpace)
			setFlag("multi-album", &ext.IsMultiAlbum, multiAlbum)
			setFlag("public-read", &ext.IsPublicRead, publicRead)
			body := &libraryv1.CreateLibraryRequest{Name: name, Remark: remark, LibraryExtension: ext}
			return show(cmd, c, "POST", "/admin/v1/libraries", nil, body, true)
		},
	}
	create.Flags().StringVar(&name, "name", "", "name, 1-50 characters")
	create.Flags().StringVar(&remark, "remark", "", "remark, up to 250 characters")
	create.Flags().BoolVar(&fileLib, "file-library", false, "file library (any file) instead of a media library")
	create.Flags().BoolVar(&multiSpace, "multi-space", false, "multi-tenant mode (spaces)")
	create.Flags().BoolVar(&multiAlbum, "multi-album", false, "multi-album mode (single-tenant media libraries)")
	create.Flags().BoolVar(&publicRead, "public-read", false, "public read (single-tenant libraries)")
	create.Flags().StringVar(&extension, "extension", "", `more libraryExtension fields as JSON, e.g. '{"useRecycleBin":true}'`)

	var page, pageSize int
	list := &cobra.Command{
		Use: "list", Short: "list libraries, newest first", Args: cobra.NoArgs,
		Example: "  smh library list --page 2 --page-size 50",
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := f.client(cmd)
			if err != nil {
				return err
			}
			q := url.Values{"page": {strconv.Itoa(page)}, "page_size": {strconv.Itoa(pageSize)}}
			return show(cmd, c, "GET", "/admin/v1/libraries", q, nil, true)
		},
	}
	list.Flags().IntVar(&page, "page", 1, "page number")
	list.Flags().IntVar(&pageSize, "page-size", 10, "libraries per page (max 100)")

	show := &cobra.Command{
		Use: "show LIBRARY_ID", Short: "show one library", Args: cobra.ExactArgs(1),
		Example: "  smh library show smh3jsttekkpsoqw",
		RunE: func(cmd *cobra.Command, args []string) error {
			return adminCall(cmd, &f, "GET", "/admin/v1/libraries/"+url.PathEscape(args[0]), nil)
		},
	}

	var newName, newRemark, newExt string
	update := &cobra.Command{
		Use: "update LIBRARY_ID", Short: "change mutable fields", Args: cobra.ExactArgs(1),
		Example: `  smh library update smh3jsttekkpsoqw --remark "family photos" --extension '{"enableFileHistory":true}'`,
		RunE: func(cmd *cobra.Command, args []string) error {
			// The route's body is the patch itself (proto/http.yaml: body: library).
			body := &libraryv1.LibraryPatch{}
			if cmd.Flags().Changed("name") {
				body.Name = proto.String(newName)
			}
			if cmd.Flags().Changed("remark") {
				body.Remark = proto.String(newRemark)
			}
			if newExt != "" {
				ext, err := parseExtension(newExt)
				if err != nil {
					return err
				}
				body.LibraryExtension = ext
			}
			if body.Name == nil && body.Remark == nil && body.LibraryExtension == nil {
				return usagef("nothing to update: give --name, --remark or --extension")
			}
			return adminCall(cmd, &f, "PATCH", "/admin/v1/libraries/"+url.PathEscape(args[0]), body)
		},
	}
	update.Flags().StringVar(&newName, "name", "", "new name")
	update.Flags().StringVar(&newRemark, "remark", "", "new remark")
	update.Flags().StringVar(&newExt, "extension", "", "libraryExtension fields to change, as JSON")

	del := &cobra.Command{
		Use: "delete LIBRARY_ID", Short: "delete a library with everything in it", Args: cobra.ExactArgs(1),
		Example: "  smh library delete smh3jsttekkpsoqw",
		RunE: func(cmd *cobra.Command, args []string) error {
			return adminCall(cmd, &f, "DELETE", "/admin/v1/libraries/"+url.PathEscape(args[0]), nil)
		},
	}

	var reset, revokeTokens bool
	secret := &cobra.Command{
		Use: "secret LIBRARY_ID [--reset [--revoke-tokens]]", Short: "show (or reset) the library secret", Args: cobra.ExactArgs(1),
		Example: `  smh library secret smh3jsttekkpsoqw
  smh library secret smh3jsttekkpsoqw --reset --revoke-tokens`,
		RunE: func(cmd *cobra.Command, args []string) error {
			path := "/admin/v1/libraries/" + url.PathEscape(args[0]) + "/secret"
			if revokeTokens && !reset {
				return usagef("--revoke-tokens goes with --reset")
			}
			if reset {
				return adminCall(cmd, &f, "POST", path+":reset", &libraryv1.ResetLibrarySecretRequest{RevokeTokens: revokeTokens})
			}
			return adminCall(cmd, &f, "GET", path, nil)
		},
	}
	secret.Flags().BoolVar(&reset, "reset", false, "replace the secret; the old one stops working at once")
	secret.Flags().BoolVar(&revokeTokens, "revoke-tokens", false,
		"with --reset: also revoke every access token minted with an earlier secret (signs every user out)")

	cmd.AddCommand(create, list, show, update, del, secret)
	return cmd
}

func adminCall(cmd *cobra.Command, f *apiFlags, method, path string, body proto.Message) error {
	c, err := f.client(cmd)
	if err != nil {
		return err
	}
	return show(cmd, c, method, path, nil, body, true)
}

// parseExtension reads --extension: libraryExtension fields as JSON, checked against the
// contract (a misspelt field is a usage error, not a setting the server never sees).
func parseExtension(s string) (*libraryv1.LibraryExtension, error) {
	ext := &libraryv1.LibraryExtension{}
	if s == "" {
		return ext, nil
	}
	if err := protojson.Unmarshal([]byte(s), ext); err != nil {
		return nil, usagef("--extension is not a JSON object of libraryExtension fields: %v", err)
	}
	return ext, nil
}
