package cli

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/opensmh/opensmh/services/smh/client"
)

// The file commands (docs/cli.md): ls, stat, mkdir, rm, mv, cp, put, get.

func newFileCommands() []*cobra.Command {
	return []*cobra.Command{newLs(), newStat(), newMkdir(), newRm(), newMove(), newCopy(), newPut(), newGet()}
}

// listed is one entry of ls, with its path from the listed directory.
type listed struct {
	client.Entry
	Rel string `json:"relativePath"`
}

func newLs() *cobra.Command {
	var f fileFlags
	var recursive bool
	cmd := &cobra.Command{
		Use:   "ls LIBRARY[/SPACE]:[DIR]",
		Short: "list a directory",
		Example: `  smh ls mylib:photos/2026
  smh ls -r --json mylib/space1: | jq -r '.[].relativePath'`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := mustRemote(args[0])
			if err != nil {
				return err
			}
			return f.withSession(cmd, []remote{r}, func(s *session) error {
				var out []listed
				sp := s.space(r)
				err := walk(cmd.Context(), sp, r.Path, "", recursive, func(rel string, e client.Entry) error {
					out = append(out, listed{Entry: e, Rel: rel})
					return nil
				})
				// ls of a file shows the file, as ls(1) does.
				if client.IsStatus(err, http.StatusNotFound) && r.Path != "" {
					if e, serr := sp.Stat(cmd.Context(), r.Path); serr == nil && !e.IsDir() {
						e.Name = path.Base(r.Path)
						out, err = []listed{{Entry: e, Rel: e.Name}}, nil
					}
				}
				if err != nil {
					return fmt.Errorf("%s: %w", r, err)
				}
				if f.json {
					if out == nil {
						out = []listed{}
					}
					return printJSON(cmd.OutOrStdout(), out)
				}
				w := cmd.OutOrStdout()
				for _, l := range out {
					size, name := fmt.Sprint(int64(l.Size)), l.Rel
					if l.IsDir() {
						size, name = "DIR", name+"/"
					}
					fmt.Fprintf(w, "%19s %14s  %s\n", shortTime(l.ModificationTime), size, name)
				}
				return nil
			})
		},
	}
	f.add(cmd)
	cmd.Flags().BoolVarP(&recursive, "recursive", "r", false, "list subdirectories too")
	return cmd
}

// walk calls fn for each entry of dir with its path relative to the walk's start; with recursive,
// a subdirectory's entries follow it.
func walk(ctx context.Context, sp *client.Space, dir, rel string, recursive bool, fn func(rel string, e client.Entry) error) error {
	return sp.List(ctx, dir, func(e client.Entry) error {
		r := path.Join(rel, e.Name)
		if err := fn(r, e); err != nil {
			return err
		}
		if e.IsDir() && recursive {
			return walk(ctx, sp, path.Join(dir, e.Name), r, true, fn)
		}
		return nil
	})
}

// shortTime trims an ISO time to the second for the human listing.
func shortTime(iso string) string {
	if len(iso) >= 19 {
		return strings.Replace(iso[:19], "T", " ", 1)
	}
	return iso
}

func newStat() *cobra.Command {
	var f fileFlags
	cmd := &cobra.Command{
		Use:     "stat LIBRARY[/SPACE]:PATH",
		Short:   "describe a file or directory",
		Example: `  smh stat --json mylib:report.pdf | jq -r .crc64`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := mustRemote(args[0])
			if err != nil {
				return err
			}
			return f.withSession(cmd, []remote{r}, func(s *session) error {
				e, err := s.space(r).Stat(cmd.Context(), r.Path)
				if err != nil {
					return err
				}
				if f.json {
					return printJSON(cmd.OutOrStdout(), e)
				}
				w := cmd.OutOrStdout()
				fmt.Fprintf(w, "path:      %s\ntype:      %s\n", r, e.Type)
				if !e.IsDir() {
					fmt.Fprintf(w, "size:      %d\ncrc64:     %s\ncontent:   %s\n", int64(e.Size), e.CRC64, e.ContentType)
				}
				fmt.Fprintf(w, "created:   %s\nmodified:  %s\n", e.CreationTime, e.ModificationTime)
				return nil
			})
		},
	}
	f.add(cmd)
	return cmd
}

func newMkdir() *cobra.Command {
	var f fileFlags
	var parents bool
	cmd := &cobra.Command{
		Use:     "mkdir LIBRARY[/SPACE]:DIR...",
		Short:   "create directories, with their parents",
		Example: `  smh mkdir -p mylib:photos/2026/12`,
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rs, err := remotes(args)
			if err != nil {
				return err
			}
			return f.withSession(cmd, rs, func(s *session) error {
				for _, r := range rs {
					if err := s.space(r).Mkdir(cmd.Context(), r.Path, parents); err != nil {
						return fmt.Errorf("%s: %w", r, err)
					}
				}
				return nil
			})
		},
	}
	f.add(cmd)
	cmd.Flags().BoolVarP(&parents, "parents", "p", false, "no error if the directory exists")
	return cmd
}

func newRm() *cobra.Command {
	var f fileFlags
	var recursive, permanent bool
	cmd := &cobra.Command{
		Use:   "rm LIBRARY[/SPACE]:PATH...",
		Short: "delete files, or directories with -r (into the recycle bin when the library keeps one)",
		Example: `  smh rm mylib:old.txt
  smh rm -r --permanent mylib:tmp`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rs, err := remotes(args)
			if err != nil {
				return err
			}
			return f.withSession(cmd, rs, func(s *session) error {
				var out []map[string]any
				for _, r := range rs {
					sp := s.space(r)
					e, err := sp.Stat(cmd.Context(), r.Path)
					if err != nil {
						return fmt.Errorf("%s: %w", r, err)
					}
					if e.IsDir() && !recursive {
						return usagef("%s is a directory: give -r to delete it with its contents", r)
					}
					if r.Path == "" {
						return usagef("%s: the root cannot be deleted", r)
					}
					id, err := sp.Delete(cmd.Context(), r.Path, e.IsDir(), permanent)
					if err != nil {
						return fmt.Errorf("%s: %w", r, err)
					}
					item := map[string]any{"path": r.String()}
					if id != 0 {
						item["recycledItemId"] = id
					}
					out = append(out, item)
				}
				if f.json {
					return printJSON(cmd.OutOrStdout(), out)
				}
				return nil
			})
		},
	}
	f.add(cmd)
	cmd.Flags().BoolVarP(&recursive, "recursive", "r", false, "delete directories with their contents")
	cmd.Flags().BoolVar(&permanent, "permanent", false, "delete for good, bypassing the recycle bin")
	return cmd
}

// conflictFlag is --conflict, the strategy when the target exists.
func conflictFlag(cmd *cobra.Command, v *string) {
	cmd.Flags().StringVar(v, "conflict", client.Ask,
		"when the target exists: ask (fail), rename (keep both: name (1).ext) or overwrite")
}

func checkConflict(v string) error {
	switch v {
	case client.Ask, client.Rename, client.Overwrite:
		return nil
	}
	return usagef("--conflict must be ask, rename or overwrite, not %q", v)
}

func newMove() *cobra.Command { return newRelocate("mv", "move or rename a file or directory", true) }
func newCopy() *cobra.Command { return newRelocate("cp", "copy a file or directory", false) }

// newRelocate is mv and cp: both ends in one space; a destination that ends in / or is a
// directory receives the source under its own name.
func newRelocate(use, short string, move bool) *cobra.Command {
	var f fileFlags
	var conflict string
	cmd := &cobra.Command{
		Use:     use + " LIBRARY[/SPACE]:SRC LIBRARY[/SPACE]:DST",
		Short:   short,
		Example: fmt.Sprintf("  smh %s mylib:a/report.pdf mylib:b/\n  smh %s --conflict rename mylib:photos mylib:archive/photos", use, use),
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkConflict(conflict); err != nil {
				return err
			}
			rs, err := remotes(args)
			if err != nil {
				return err
			}
			src, dst := rs[0], rs[1]
			if src.Space != dst.Space {
				return usagef("%s and %s are in different spaces", src, dst)
			}
			if src.Path == "" {
				return usagef("%s: the root cannot be the source", src)
			}
			return f.withSession(cmd, rs, func(s *session) error {
				ctx, sp := cmd.Context(), s.space(src)
				e, err := sp.Stat(ctx, src.Path)
				if err != nil {
					return fmt.Errorf("%s: %w", src, err)
				}
				if into, err := isDirTarget(ctx, sp, dst); err != nil {
					return err
				} else if into {
					dst = dst.join(path.Base(src.Path))
				}
				op := sp.Copy
				if move {
					op = sp.Move
				}
				landed, err := op(ctx, src.Path, dst.Path, e.IsDir(), conflict)
				if err != nil {
					return fmt.Errorf("%s %s %s: %w", use, src, dst, err)
				}
				dst.Path = strings.Join(landed, "/")
				if f.json {
					return printJSON(cmd.OutOrStdout(), map[string]any{"from": src.String(), "to": dst.String()})
				}
				return nil
			})
		},
	}
	f.add(cmd)
	conflictFlag(cmd, &conflict)
	return cmd
}

// isDirTarget tells whether a destination names a directory to put things in: it ends in a
// slash, or is an existing directory.
func isDirTarget(ctx context.Context, sp *client.Space, dst remote) (bool, error) {
	if dst.Dir {
		return true, nil
	}
	e, err := sp.Stat(ctx, dst.Path)
	switch {
	case err == nil:
		return e.IsDir(), nil
	case client.IsStatus(err, 404):
		return false, nil
	}
	return false, fmt.Errorf("%s: %w", dst, err)
}

func remotes(args []string) ([]remote, error) {
	rs := make([]remote, len(args))
	for i, a := range args {
		r, err := mustRemote(a)
		if err != nil {
			return nil, err
		}
		rs[i] = r
	}
	return rs, nil
}

// transferFlags are put's and get's.
type transferFlags struct {
	fileFlags
	recursive bool
	progress  string
}

func (t *transferFlags) add(cmd *cobra.Command) {
	t.fileFlags.add(cmd)
	cmd.Flags().BoolVarP(&t.recursive, "recursive", "r", false, "transfer directories with their contents")
	cmd.Flags().StringVar(&t.progress, "progress", "auto", "progress bar on stderr: auto (on a terminal), always or never")
}

func (t *transferFlags) bar(cmd *cobra.Command, name string, total int64) *bar {
	return newBar(cmd.ErrOrStderr(), progressMode(t.progress).enabled(cmd.ErrOrStderr()), name, total)
}

// fileOrTree transfers a file with file, a directory with tree when -r was given, and refuses a
// directory without -r.
func (t *transferFlags) fileOrTree(name string, isDir bool, file, tree func() error) error {
	switch {
	case !isDir:
		return file()
	case !t.recursive:
		return usagef("%s is a directory: give -r to transfer it with its contents", name)
	}
	return tree()
}

// report prints what was transferred, with --json.
func (t *transferFlags) report(cmd *cobra.Command, done []transferred) error {
	if t.json {
		if done == nil {
			done = []transferred{} // an empty directory: [], not null
		}
		return printJSON(cmd.OutOrStdout(), done)
	}
	return nil
}

// transferred is one file put or get moved, for --json: movedBytes crossed the network this
// time, resumedBytes were found in place (parts the server held, a partial local file).
type transferred struct {
	Local   string       `json:"local"`
	Remote  string       `json:"remote"`
	Size    client.Int64 `json:"size"`
	CRC64   string       `json:"crc64"`
	Moved   int64        `json:"movedBytes"`
	Resumed int64        `json:"resumedBytes"`
}

func transferredOf(local string, r remote, tr client.Transfer) transferred {
	return transferred{Local: local, Remote: r.String(), Size: tr.Size, CRC64: tr.CRC64, Moved: tr.Moved, Resumed: tr.Resumed}
}

func newPut() *cobra.Command {
	var t transferFlags
	var conflict, state string
	var partMiB, parallel int
	cmd := &cobra.Command{
		Use:   "put (LOCAL... | -) LIBRARY[/SPACE]:PATH",
		Short: "upload files, or directories with -r; an interrupted upload resumes when run again",
		Example: `  smh put video.mp4 mylib:videos/
  smh put -r --conflict overwrite ./site mylib:www
  tar c ./logs | smh put - mylib:backup/logs.tar
  SMH_LIBRARY_SECRET=... smh put --user alice big.iso mylib/space1:isos/big.iso`,
		Args: cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkConflict(conflict); err != nil {
				return err
			}
			if partMiB < 1 || partMiB > 5120 || parallel < 1 || parallel > 64 {
				return usagef("--part-size must be 1-5120 MiB and --parallel 1-64")
			}
			dst, err := mustRemote(args[len(args)-1])
			if err != nil {
				return err
			}
			srcs := args[:len(args)-1]
			for _, s := range srcs {
				if _, ok, _ := parseRemote(s); ok {
					return usagef("%q: put sends local files; use cp between remote paths", s)
				}
			}
			if state == "" {
				state = stateDir()
			}
			// put - reads stdin into a temporary file first: an upload needs the size, and parts
			// are read at offsets. Nothing is kept for a resume: a second run reads other bytes.
			stdinFile := ""
			if slices.Contains(srcs, "-") {
				if len(srcs) != 1 || dst.Dir || t.recursive {
					return usagef("put - (stdin) takes one destination file name, e.g. LIB:logs/today.txt")
				}
				if stdinFile, err = spool(cmd.InOrStdin()); err != nil {
					return err
				}
				defer os.Remove(stdinFile)
				srcs, state = []string{stdinFile}, ""
			}
			opts := client.UploadOptions{Strategy: conflict, PartSize: int64(partMiB) << 20, Parallel: parallel, StateDir: state}
			return t.withSession(cmd, []remote{dst}, func(s *session) error {
				ctx, sp := cmd.Context(), s.space(dst)
				into := len(srcs) > 1
				if !into {
					var err error
					if into, err = isDirTarget(ctx, sp, dst); err != nil {
						return err
					}
					if into && stdinFile != "" {
						return usagef("%s is a directory: put - needs a file name in it", dst)
					}
				}
				var done []transferred
				put := func(local string, to remote) error {
					f, err := os.Open(local)
					if err != nil {
						return err
					}
					defer f.Close()
					info, err := f.Stat()
					if err != nil {
						return err
					}
					shown := local
					if local == stdinFile {
						shown = "-"
					}
					b := t.bar(cmd, filepath.Base(shown), info.Size())
					o := opts
					o.Progress = b.progress()
					tr, err := sp.Upload(ctx, to.Path, f, o)
					b.finish()
					if err != nil {
						return fmt.Errorf("put %s %s: %w", local, to, err)
					}
					to.Path = strings.Join(tr.Path, "/")
					done = append(done, transferredOf(shown, to, tr))
					return nil
				}
				for _, src := range srcs {
					info, err := os.Stat(src)
					if err != nil {
						return err
					}
					to := dst
					if into {
						to = dst.join(filepath.Base(filepath.Clean(src)))
					}
					err = t.fileOrTree(src, info.IsDir(), func() error { return put(src, to) },
						func() error { return putTree(ctx, sp, src, to, put) })
					if err != nil {
						return err
					}
				}
				return t.report(cmd, done)
			})
		},
	}
	t.add(cmd)
	conflictFlag(cmd, &conflict)
	cmd.Flags().IntVar(&partMiB, "part-size", 8, "multipart part size in MiB; files of at least one part go up in parts")
	cmd.Flags().IntVar(&parallel, "parallel", 4, "parts in flight at once")
	cmd.Flags().StringVar(&state, "state-dir", "", "where resume records of uploads in progress are kept (env SMH_STATE_DIR; default in the user's cache)")
	return cmd
}

// spool copies r into a new temporary file (readable by its owner only) and answers its name.
func spool(r io.Reader) (string, error) {
	f, err := os.CreateTemp("", "smh-put-stdin-")
	if err != nil {
		return "", err
	}
	_, err = io.Copy(f, r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}

// putTree uploads the local directory root to the remote directory to, creating directories as
// it goes (empty ones too). Symbolic links and other special files are refused, not followed.
func putTree(ctx context.Context, sp *client.Space, root string, to remote, put func(string, remote) error) error {
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		target := to
		if rel != "." {
			target = to.join(filepath.ToSlash(rel))
		}
		switch {
		case d.IsDir():
			if err := sp.Mkdir(ctx, target.Path, true); err != nil {
				return fmt.Errorf("%s: %w", target, err)
			}
			return nil
		case d.Type().IsRegular():
			return put(p, target)
		}
		return fmt.Errorf("%s: not a regular file or directory; put does not follow links", p)
	})
}

func newGet() *cobra.Command {
	var t transferFlags
	cmd := &cobra.Command{
		Use:   "get LIBRARY[/SPACE]:PATH... LOCAL",
		Short: "download files, or directories with -r; an interrupted download resumes when run again",
		Example: `  smh get mylib:videos/big.mp4 .
  smh get -r mylib:photos ./backup
  smh get mylib:notes.txt - | less`,
		Args: cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			dst := args[len(args)-1]
			rs, err := remotes(args[:len(args)-1])
			if err != nil {
				return err
			}
			return t.withSession(cmd, rs, func(s *session) error {
				ctx := cmd.Context()
				if dst == "-" {
					if len(rs) != 1 || t.recursive {
						return usagef("get to - (stdout) takes one file")
					}
					_, err := s.space(rs[0]).DownloadTo(ctx, rs[0].Path, cmd.OutOrStdout(), nil)
					return err
				}
				into := len(rs) > 1
				if info, err := os.Stat(dst); err == nil && info.IsDir() {
					into = true
				} else if into {
					return usagef("%s: several sources need an existing local directory", dst)
				}
				var done []transferred
				// get takes the file's size from the listing or stat that found it, for the bar.
				get := func(from remote, size int64, local string) error {
					b := t.bar(cmd, path.Base(from.Path), size)
					tr, err := s.space(from).Download(ctx, from.Path, local, b.progress())
					b.finish()
					if err != nil {
						return fmt.Errorf("get %s %s: %w", from, local, err)
					}
					done = append(done, transferredOf(local, from, tr))
					return nil
				}
				for _, r := range rs {
					local := dst
					if into {
						local = filepath.Join(dst, path.Base("/"+r.Path))
					}
					e, err := s.space(r).Stat(ctx, r.Path)
					if err != nil {
						return fmt.Errorf("%s: %w", r, err)
					}
					err = t.fileOrTree(r.String(), e.IsDir(), func() error { return get(r, int64(e.Size), local) },
						func() error { return getTree(ctx, s.space(r), r, local, get) })
					if err != nil {
						return err
					}
				}
				return t.report(cmd, done)
			})
		},
	}
	t.add(cmd)
	return cmd
}

// getTree downloads the remote directory from into the local directory root, creating it.
// Names are checked before they become local paths: a name the server sent cannot climb out of
// root.
func getTree(ctx context.Context, sp *client.Space, from remote, root string, get func(remote, int64, string) error) error {
	if err := os.MkdirAll(root, 0o755); err != nil {
		return err
	}
	return walk(ctx, sp, from.Path, "", true, func(rel string, e client.Entry) error {
		if !filepath.IsLocal(filepath.FromSlash(rel)) || strings.ContainsRune(e.Name, filepath.Separator) {
			return fmt.Errorf("%s: the server listed an unsafe name %q", from, e.Name)
		}
		local := filepath.Join(root, filepath.FromSlash(rel))
		if e.IsDir() {
			return os.MkdirAll(local, 0o755)
		}
		return get(from.join(rel), int64(e.Size), local)
	})
}
