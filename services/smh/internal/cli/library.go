package cli

import (
	"encoding/json"
	"net/url"
	"strconv"

	"github.com/spf13/cobra"
)

func newLibrary() *cobra.Command {
	var f apiFlags
	cmd := &cobra.Command{Use: "library", Short: "manage media libraries (admin API)"}
	f.add(cmd)

	var name, remark, extension string
	var fileLib, multiSpace, multiAlbum, publicRead bool
	create := &cobra.Command{
		Use: "create --name NAME", Short: "create a library", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := f.client(cmd)
			if err != nil {
				return err
			}
			ext, err := parseExtension(extension)
			if err != nil {
				return err
			}
			setFlag := func(flag, field string, v bool) {
				if cmd.Flags().Changed(flag) {
					ext[field] = v
				}
			}
			setFlag("file-library", "isFileLibrary", fileLib)
			setFlag("multi-space", "isMultiSpace", multiSpace)
			setFlag("multi-album", "isMultiAlbum", multiAlbum)
			setFlag("public-read", "isPublicRead", publicRead)
			body := map[string]any{"name": name, "remark": remark, "libraryExtension": ext}
			return c.show(cmd, "POST", "/admin/v1/libraries", nil, body, true)
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
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := f.client(cmd)
			if err != nil {
				return err
			}
			q := url.Values{"page": {strconv.Itoa(page)}, "page_size": {strconv.Itoa(pageSize)}}
			return c.show(cmd, "GET", "/admin/v1/libraries", q, nil, true)
		},
	}
	list.Flags().IntVar(&page, "page", 1, "page number")
	list.Flags().IntVar(&pageSize, "page-size", 10, "libraries per page (max 100)")

	show := &cobra.Command{
		Use: "show LIBRARY_ID", Short: "show one library", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return adminCall(cmd, &f, "GET", "/admin/v1/libraries/"+url.PathEscape(args[0]), nil)
		},
	}

	var newName, newRemark, newExt string
	update := &cobra.Command{
		Use: "update LIBRARY_ID", Short: "change mutable fields", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			body := map[string]any{}
			if cmd.Flags().Changed("name") {
				body["name"] = newName
			}
			if cmd.Flags().Changed("remark") {
				body["remark"] = newRemark
			}
			if newExt != "" {
				ext, err := parseExtension(newExt)
				if err != nil {
					return err
				}
				body["libraryExtension"] = ext
			}
			if len(body) == 0 {
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
		RunE: func(cmd *cobra.Command, args []string) error {
			return adminCall(cmd, &f, "DELETE", "/admin/v1/libraries/"+url.PathEscape(args[0]), nil)
		},
	}

	var reset, revokeTokens bool
	secret := &cobra.Command{
		Use: "secret LIBRARY_ID [--reset [--revoke-tokens]]", Short: "show (or reset) the library secret", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := "/admin/v1/libraries/" + url.PathEscape(args[0]) + "/secret"
			if revokeTokens && !reset {
				return usagef("--revoke-tokens goes with --reset")
			}
			if reset {
				return adminCall(cmd, &f, "POST", path+":reset", map[string]any{"revokeTokens": revokeTokens})
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

func adminCall(cmd *cobra.Command, f *apiFlags, method, path string, body any) error {
	c, err := f.client(cmd)
	if err != nil {
		return err
	}
	return c.show(cmd, method, path, nil, body, true)
}

func parseExtension(s string) (map[string]any, error) {
	ext := map[string]any{}
	if s == "" {
		return ext, nil
	}
	if err := json.Unmarshal([]byte(s), &ext); err != nil {
		return nil, usagef("--extension is not a JSON object: %v", err)
	}
	return ext, nil
}
