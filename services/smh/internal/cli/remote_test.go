package cli

import (
	"strings"
	"testing"
)

func TestParseRemote(t *testing.T) {
	for _, c := range []struct {
		arg              string
		remote, bad      bool
		lib, space, path string
		dir              bool
	}{
		{arg: "lib1:", remote: true, lib: "lib1", space: "-", dir: true},
		{arg: "lib1:a/b.txt", remote: true, lib: "lib1", space: "-", path: "a/b.txt"},
		{arg: "lib1/sp-2:a//b/", remote: true, lib: "lib1", space: "sp-2", path: "a/b", dir: true},
		{arg: "lib1:/photos", remote: true, lib: "lib1", space: "-", path: "photos"},
		{arg: "lib1:a/../../etc", remote: true, bad: true},
		{arg: "lib1:./x", remote: true, bad: true},
		{arg: "./lib1:x", remote: false},
		{arg: "/tmp/a:b", remote: false},
		{arg: "local.txt", remote: false},
		{arg: "-", remote: false},
		{arg: "lib/a/b:c", remote: false},
	} {
		r, ok, err := parseRemote(c.arg)
		if ok != c.remote || (err != nil) != c.bad {
			t.Errorf("%q: remote %v, err %v", c.arg, ok, err)
			continue
		}
		if !ok || c.bad {
			continue
		}
		if r.Library != c.lib || r.Space != c.space || r.Path != c.path || r.Dir != c.dir {
			t.Errorf("%q: %+v", c.arg, r)
		}
	}
}

// FuzzParseRemote: any argument is a local path, a usage error, or an address whose path has no
// empty, . or .. segment and which reads back the same from its String form.
func FuzzParseRemote(f *testing.F) {
	for _, s := range []string{"lib:", "lib/sp:a/b/", "lib:a/../b", "x:/./", "lib:a b/c%2F", "./a:b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, arg string) {
		r, ok, err := parseRemote(arg)
		if !ok || err != nil {
			return
		}
		if r.Path != "" {
			for _, seg := range strings.Split(r.Path, "/") {
				if seg == "" || seg == "." || seg == ".." {
					t.Fatalf("%q: path %q has segment %q", arg, r.Path, seg)
				}
			}
		}
		again, ok, err := parseRemote(r.String())
		if !ok || err != nil || again.Library != r.Library || again.Space != r.Space || again.Path != r.Path {
			t.Fatalf("%q: %+v reads back from %q as %+v (%v)", arg, r, r.String(), again, err)
		}
	})
}
