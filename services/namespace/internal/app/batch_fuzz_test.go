package app

import (
	"encoding/json"
	"errors"
	"testing"
)

// FuzzParseBatchItems fuzzes the batch body of section 10 as the gateway decodes it, for each
// operation: whatever the JSON, the parser answers 1-MaxBatchItems items, each with the
// operation's required paths and a known strategy, or an input error (a 4xx), never a panic.
func FuzzParseBatchItems(f *testing.F) {
	for _, s := range []string{`[{"path":"a"}]`, `[{"path":"a","permanent":true}]`, `[{"path":"a","permanent":1}]`,
		`[{"copyFrom":"a","to":"b"}]`, `[{"from":"a","to":"b","conflictResolutionStrategy":"overwrite","moveAuthority":false}]`,
		`[{"copyFrom":"a","to":"b","conflictResolutionStrategy":"merge"}]`, `[{"copyFrom":"a","to":"b","copyFromSpaceId":"s2"}]`,
		`[]`, `{}`, `null`, `[null]`, `[1]`, `["a"]`, `[{"path":null}]`, `[{"path":["a"]}]`, `[{"to":"b"}]`,
		`[{"from":"a","to":"b","fromSpaceId":7}]`} {
		for op := range 3 {
			f.Add([]byte(s), op)
		}
	}
	ops := []BatchOp{BatchCopy, BatchMove, BatchDelete}
	f.Fuzz(func(t *testing.T, data []byte, opIndex int) {
		var body any
		if json.Unmarshal(data, &body) != nil {
			return
		}
		op := ops[uint(opIndex)%uint(len(ops))]
		items, err := ParseBatchItems(op, body)
		if err != nil {
			var in *InputError
			if !errors.As(err, &in) {
				t.Fatalf("%s: %v is not an input error", data, err)
			}
			return
		}
		if len(items) == 0 || len(items) > MaxBatchItems {
			t.Fatalf("%s: %d items accepted", data, len(items))
		}
		list := body.([]any)
		for i, it := range items {
			obj := list[i].(map[string]any)
			switch op {
			case BatchDelete:
				if _, ok := obj["path"].(string); !ok || it.Path != obj["path"] {
					t.Fatalf("%s: delete item %d accepted as %+v", data, i, it)
				}
			case BatchCopy:
				if obj["copyFrom"] != it.From || obj["to"] != it.To {
					t.Fatalf("%s: copy item %d accepted as %+v", data, i, it)
				}
			case BatchMove:
				if obj["from"] != it.From || obj["to"] != it.To {
					t.Fatalf("%s: move item %d accepted as %+v", data, i, it)
				}
			}
			switch Conflict(it.Strategy) {
			case "", ConflictAsk, ConflictRename, ConflictOverwrite:
			default:
				t.Fatalf("%s: strategy %q accepted", data, it.Strategy)
			}
		}
	})
}
