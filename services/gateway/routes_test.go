package gateway

import (
	"reflect"
	"testing"

	"github.com/opensmh/opensmh/services/gateway/internal/dispatch"
)

func TestRoutesCopyTheTable(t *testing.T) {
	got := Routes()
	if len(got) != len(dispatch.Routes) {
		t.Fatalf("%d rows, the table has %d", len(got), len(dispatch.Routes))
	}
	for i, r := range dispatch.Routes {
		want := Route{Method: r.Method, Pattern: r.Pattern, Flags: r.Flags, BodyKey: r.BodyKey, RPC: r.RPC}
		if !reflect.DeepEqual(got[i], want) {
			t.Errorf("row %d = %+v, want %+v", i, got[i], want)
		}
	}
	for i := range got {
		if len(got[i].Flags) > 0 {
			got[i].Flags[0] = "changed"
			if dispatch.Routes[i].Flags[0] == "changed" {
				t.Fatalf("row %d: changing the copy changed the table", i)
			}
			return
		}
	}
	t.Fatal("no row with flags to check the copy on")
}
