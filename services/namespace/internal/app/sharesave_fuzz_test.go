package app

import (
	"encoding/json"
	"errors"
	"testing"
)

// FuzzParseShareSave fuzzes 13.12's save body as the gateway decodes it: whatever the JSON, the
// parser answers a target space, 1-MaxBatchItems distinct positive inodes, a chain of at most
// maxSaveChain positive inodes and a known strategy, or an input error (a 4xx), never a panic.
func FuzzParseShareSave(f *testing.F) {
	for _, s := range []string{
		`{"targetSpaceId":"s","targetPath":"","sourceInodesPath":"","inodes":["1","2"]}`,
		`{"targetSpaceId":"s","targetPath":"a/b","sourceInodesPath":"3/4/","inodes":["5"],"conflictResolutionStrategy":"rename"}`,
		`{"targetSpaceId":"s","sourceInodesPath":"","inodes":[7]}`,
		`{"targetSpaceId":"s","sourceInodesPath":"","inodes":["01"]}`,
		`{"targetSpaceId":"s","sourceInodesPath":"a","inodes":["1"]}`,
		`{"targetSpaceId":"s","sourceInodesPath":"","inodes":["1","1"]}`,
		`{"targetSpaceId":"s","sourceInodesPath":"","inodes":[]}`,
		`{"targetSpaceId":"","sourceInodesPath":"","inodes":["1"]}`,
		`{"targetSpaceId":1,"sourceInodesPath":"","inodes":["1"]}`,
		`{"targetSpaceId":"s","sourceInodesPath":"","inodes":["1"],"conflictResolutionStrategy":"merge"}`,
		`{"targetSpaceId":"s","sourceInodesPath":"","inodes":[1.5,-1,"-1",null]}`,
		`[]`, `null`, `{}`, `"x"`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var body any
		if json.Unmarshal(data, &body) != nil {
			return
		}
		s, err := ParseShareSave(body)
		if err != nil {
			var in *InputError
			if !errors.As(err, &in) {
				t.Fatalf("%s: %v is not an input error", data, err)
			}
			return
		}
		if s.TargetSpaceID == "" || len(s.Inodes) == 0 || len(s.Inodes) > MaxBatchItems || len(s.SourceChain) > maxSaveChain {
			t.Fatalf("%s: accepted %+v", data, s)
		}
		seen := map[int64]bool{}
		for _, in := range append(append([]int64{}, s.SourceChain...), s.Inodes...) {
			if in <= 0 {
				t.Fatalf("%s: inode %d accepted", data, in)
			}
		}
		for _, in := range s.Inodes {
			if seen[in] {
				t.Fatalf("%s: inode %d twice", data, in)
			}
			seen[in] = true
		}
		switch s.Strategy {
		case "", "ask", "rename", "overwrite":
		default:
			t.Fatalf("%s: strategy %q accepted", data, s.Strategy)
		}
	})
}
