package e2e

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	_ "google.golang.org/grpc/health/grpc_health_v1" // registers the descriptors the server lists
	"google.golang.org/grpc/metadata"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	_ "google.golang.org/grpc/reflection/grpc_reflection_v1alpha" // registers the descriptors the server lists
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/known/structpb"

	_ "github.com/opensmh/opensmh/gen/go/smh/library/v1"
	_ "github.com/opensmh/opensmh/gen/go/smh/namespace/v1"
	_ "github.com/opensmh/opensmh/gen/go/smh/object/v1"
	_ "github.com/opensmh/opensmh/gen/go/smh/token/v1"
	"github.com/opensmh/opensmh/pkg/reqmeta"
	"github.com/opensmh/opensmh/pkg/smherr"
	"github.com/opensmh/opensmh/services/gateway"
)

// The gRPC half of the tenant-isolation matrix: every method of every service the public port
// serves, listed by the server itself (reflection), so a new RPC or service cannot escape.

// internalMethods answer the operator key only: the services call them, no dispatcher row
// reaches them, and a business credential must never open them.
var internalMethods = []string{
	"smh.library.v1.LibraryService/*",
	"smh.token.v1.TokenService/ValidateToken",
	"smh.token.v1.TokenService/WatchRevocations",
	"smh.token.v1.TokenService/PurgeLibraryTokens",
	"smh.token.v1.TokenService/RevokeLibraryTokens",
	"smh.namespace.v1.NamespaceService/PurgeLibrary",
	"smh.namespace.v1.NamespaceService/GetLibrariesUsage",
	"smh.namespace.v1.NamespaceService/CheckUpload",
	"smh.namespace.v1.NamespaceService/CommitFile",
	"smh.namespace.v1.NamespaceService/ResolveFile",
	"smh.namespace.v1.NamespaceService/ResolveAlbumCover",
	"smh.namespace.v1.NamespaceService/ReferencedBlobs",
	"smh.namespace.v1.RecycleService/ResolveRecycledFile",
	// archives (issue 12 item 6): the object service's calls for 3.17.
	"smh.namespace.v1.ArchiveTaskService/*",
	// favorites (issue 12 item 4): the object service's recent-file record and isFavorite.
	"smh.namespace.v1.FavoriteService/RecordRecentFile",
	"smh.namespace.v1.FavoriteService/GetFavoriteStatus",
	// ---- issue 13 tokens: the namespace mints share access tokens once a code is verified.
	"smh.token.v1.TokenService/MintShareToken",
	// ---- end issue 13 tokens
	// ---- issue 13 fetch: the object service asks the namespace what a share visitor may fetch
	// (the visitor's share token travels forwarded beside the operator key).
	"smh.namespace.v1.ShareResolverService/*",
	// ---- end issue 13 fetch
}

// openServices answer everyone: they hold no tenant data (health and the schema itself).
var openServices = []string{"grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection"}

func listed(patterns []string, service, method string) bool {
	return slices.Contains(patterns, service+"/"+method) || slices.Contains(patterns, service+"/*")
}

// publicServices asks the server which services it serves on the public port.
func publicServices(t *testing.T, conn *grpc.ClientConn) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	stream, err := reflectionpb.NewServerReflectionClient(conn).ServerReflectionInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.Send(&reflectionpb.ServerReflectionRequest{MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{}}); err != nil {
		t.Fatal(err)
	}
	resp, err := stream.Recv()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, s := range resp.GetListServicesResponse().GetService() {
		out = append(out, s.GetName())
	}
	sort.Strings(out)
	if len(out) == 0 {
		t.Fatal("the public port lists no services")
	}
	return out
}

// rpcPolicies derives each business RPC's policy from the rows that reach it; rows reaching one
// RPC must agree on who may call it. The representative row (no flags, no body key when there
// is one) gives the call's shape.
func rpcPolicies(t *testing.T, policies map[string]routePolicy) (map[string]routePolicy, map[string]gateway.Route) {
	t.Helper()
	byRPC, shapes := map[string]routePolicy{}, map[string]gateway.Route{}
	for _, r := range gateway.Routes() {
		p := policies[rowKey(r)]
		rpc := strings.TrimPrefix(r.RPC, "/") // as the method list below names it: Service/Method
		if prev, ok := byRPC[rpc]; ok {
			a, b := prev, p
			a.answer, b.answer = "", ""
			if fmt.Sprint(a) != fmt.Sprint(b) {
				t.Errorf("the rows reaching %s declare different policies", rpc)
			}
			if len(r.Flags) > 0 || r.BodyKey != "" {
				continue
			}
		}
		byRPC[rpc], shapes[rpc] = p, r
	}
	return byRPC, shapes
}

// setFields fills the fields of msg that vals names (proto names); others stay unset.
func setFields(t *testing.T, msg protoreflect.Message, vals map[string]any) {
	t.Helper()
	fields := msg.Descriptor().Fields()
	for name, v := range vals {
		fd := fields.ByName(protoreflect.Name(name))
		if fd == nil {
			continue
		}
		switch x := v.(type) {
		case string:
			if fd.Kind() == protoreflect.StringKind && !fd.IsList() {
				msg.Set(fd, protoreflect.ValueOfString(x))
			}
		case bool:
			if fd.Kind() == protoreflect.BoolKind && !fd.IsList() {
				msg.Set(fd, protoreflect.ValueOfBool(x))
			}
		case []string:
			if fd.Kind() == protoreflect.StringKind && fd.IsList() {
				list := msg.Mutable(fd).List()
				for _, s := range x {
					list.Append(protoreflect.ValueOfString(s))
				}
			}
		case map[string]any:
			if fd.Kind() == protoreflect.MessageKind && !fd.IsList() && !fd.IsMap() {
				setFields(t, msg.Mutable(fd).Message(), x)
			}
		case *structpb.Struct: // issue 13 wiring: bodies the use case parses
			if fd.Kind() == protoreflect.MessageKind && fd.Message().FullName() == "google.protobuf.Struct" {
				msg.Set(fd, protoreflect.ValueOfMessage(x.ProtoReflect()))
			}
		default:
			t.Fatalf("no way to set %s from %T", name, v)
		}
	}
}

// grpcFields answers the request fields of a business RPC reached by row r, against fx.
func (m *matrix) grpcFields(t *testing.T, r gateway.Route, fx *spaceFixture) map[string]any {
	t.Helper()
	params, body := m.values(t, r.Method, r.BodyKey, r.Flags, strings.HasPrefix(r.Pattern, "/api/v1/directory/"), fx)
	vals := map[string]any{
		"library_id": params["LibraryId"], "space_id": params["SpaceId"], "space_ids": params["SpaceIds"],
		"dir_path": params["DirPath"], "file_path": params["FilePath"], "confirm_key": params["ConfirmKey"],
		"inode": params["Inode"], "task_id_list": params["TaskIdList"], "album_name": params["AlbumName"],
		"task_id": params["TaskId"], "recycled_item_id": params["RecycledItemId"],
		"space_or_quota_id": params["SpaceOrQuotaId"],
	}
	if b, ok := body.(map[string]any); ok {
		transfer := map[string]any{}
		for k, v := range b {
			transfer[map[string]string{"copyFrom": "copy_from", "from": "from", "linkTo": "link_to"}[k]] = v
		}
		vals["transfer"] = transfer
	}
	m.shareGRPCFields(t, r, params, vals) // issue 13 wiring
	switch {
	case strings.HasPrefix(r.Pattern, "/api/v1/token"):
		vals = map[string]any{"library_id": m.multi.ID, "access_token": m.throwawayToken(t), "user_id": "matrix-throwaway"}
	case r.Method == "POST" && r.Pattern == "/api/v1/space/{LibraryId}":
		delete(vals, "space_id") // a generated id
	case r.Method == "DELETE" && r.Pattern == "/api/v1/space/{LibraryId}/{SpaceId}":
		vals["force"] = true
	case strings.Contains(r.Pattern, "{HistoryId}"):
		// Only 9.6 names a version in its path; the reads' history_id stays empty.
		vals["history_id"] = params["HistoryId"]
	}
	return vals
}

// grpcOutcome is what one gRPC call answered.
type grpcOutcome struct {
	err    error
	status int
	code   string
}

func (o grpcOutcome) String() string {
	if o.err == nil {
		return "OK"
	}
	return fmt.Sprintf("%d %s (%v)", o.status, o.code, o.err)
}

// invoke calls one method with req and md; streams are opened, sent req and read once.
func invoke(t *testing.T, conn *grpc.ClientConn, md protoreflect.MethodDescriptor, req protoreflect.ProtoMessage, kv []string) grpcOutcome {
	t.Helper()
	// A bound on a hang only: every call answers at once or fails.
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	ctx = metadata.AppendToOutgoingContext(ctx, kv...)
	full := "/" + string(md.Parent().FullName()) + "/" + string(md.Name())
	out, err := protoregistry.GlobalTypes.FindMessageByName(md.Output().FullName())
	if err != nil {
		t.Fatalf("%s: %v", full, err)
	}
	resp := out.New().Interface()
	if !md.IsStreamingClient() && !md.IsStreamingServer() {
		err = conn.Invoke(ctx, full, req, resp)
	} else {
		var stream grpc.ClientStream
		stream, err = conn.NewStream(ctx, &grpc.StreamDesc{ServerStreams: md.IsStreamingServer(), ClientStreams: md.IsStreamingClient()}, full)
		if err == nil {
			err = stream.SendMsg(req)
		}
		if err == nil {
			err = stream.CloseSend()
		}
		if err == nil {
			err = stream.RecvMsg(resp)
		}
	}
	if err == nil {
		return grpcOutcome{}
	}
	e := smherr.As(err)
	return grpcOutcome{err: err, status: e.Status, code: e.Code}
}

// metadataOf carries a credential as gRPC callers send it (pkg/reqmeta).
func metadataOf(c credential) []string {
	var kv []string
	for param, key := range map[string]string{"access_token": reqmeta.AccessToken, "library_secret": reqmeta.LibrarySecret, "user_id": reqmeta.ActingUser} {
		if v := c.query.Get(param); v != "" {
			kv = append(kv, key, v)
		}
	}
	return kv
}

// TestTenantIsolationMatrixGRPC walks every method on the public port against every credential
// in metadata: the business methods under their rows' policy, the internal ones refusing every
// business credential and answering the operator key.
func TestTenantIsolationMatrixGRPC(t *testing.T) {
	onEveryEngineUnthrottled(t, testTenantIsolationMatrixGRPC)
}

func testTenantIsolationMatrixGRPC(t *testing.T, s *system) {
	m := newMatrix(t, s)
	creds := m.credentials(t)
	conn := s.grpcConn(t)
	byRPC, shapes := rpcPolicies(t, routePolicies())
	scratch := s.createLibrary("matrix-scratch", nil)
	operator := []string{reqmeta.Authorization, "Bearer " + s.adminKey}

	type method struct {
		md       protoreflect.MethodDescriptor
		internal bool
		open     bool
	}
	var methods []method
	seenInternal := map[string]bool{}
	for _, name := range publicServices(t, conn) {
		d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(name))
		sd, ok := d.(protoreflect.ServiceDescriptor)
		if err != nil || !ok {
			t.Errorf("the public port serves %s, whose descriptor the test does not know: import it and declare its policy", name)
			continue
		}
		for i := 0; i < sd.Methods().Len(); i++ {
			md := sd.Methods().Get(i)
			rpc := name + "/" + string(md.Name())
			_, business := byRPC[rpc]
			internal := listed(internalMethods, name, string(md.Name()))
			open := slices.Contains(openServices, name)
			switch {
			case business && internal:
				t.Errorf("%s is reached by a dispatcher row and declared internal", rpc)
			case !business && !internal && !open:
				t.Errorf("%s has no policy: a dispatcher row must reach it, or declare it internal (operator key) in internalMethods", rpc)
			}
			if internal {
				seenInternal[rpc] = true
			}
			methods = append(methods, method{md: md, internal: internal, open: open})
		}
	}
	for _, p := range internalMethods {
		if !strings.HasSuffix(p, "/*") && !seenInternal[p] {
			t.Errorf("internal method %s is not served on the public port", p)
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	newRequest := func(md protoreflect.MethodDescriptor, vals map[string]any) protoreflect.ProtoMessage {
		mt, err := protoregistry.GlobalTypes.FindMessageByName(md.Input().FullName())
		if err != nil {
			t.Fatalf("%s: %v", md.FullName(), err)
		}
		msg := mt.New()
		setFields(t, msg, vals)
		return msg.Interface()
	}
	internalFields := map[string]any{
		"library_id": scratch.ID, "library_ids": []string{scratch.ID}, "library_secret": scratch.Secret,
		"blob_ids": []string{strings.Repeat("0", 32)}, "access_token": "not-a-token", "name": "matrix-scratch",
		"space_id": "-", "file_path": "f.txt", "path": []string{"f.txt"},
	}
	counts := walkCounts{}
	rpcName := func(md protoreflect.MethodDescriptor) string {
		return string(md.Parent().FullName()) + "/" + string(md.Name())
	}

	before := m.fingerprint(t)
	type pair struct {
		md protoreflect.MethodDescriptor
		c  credential
	}
	var allowed []pair
	for _, mm := range methods {
		rpc := rpcName(mm.md)
		for _, c := range creds {
			switch {
			case mm.open:
				got := invoke(t, conn, mm.md, newRequest(mm.md, nil), metadataOf(c))
				counts[c.name]++
				if got.status >= 500 || slices.Contains(authCodes, got.code) {
					t.Errorf("%s as %q: %v", rpc, c.name, got)
				}
			case mm.internal:
				got := invoke(t, conn, mm.md, newRequest(mm.md, internalFields), metadataOf(c))
				counts[c.name]++
				if got.status != http.StatusUnauthorized || got.code != "InvalidAdminKey" {
					t.Errorf("internal %s as %q: %v, want 401 InvalidAdminKey", rpc, c.name, got)
				}
			default:
				p := byRPC[rpc]
				if _, _, ok := p.denial(c, m.target(c).space); ok {
					allowed = append(allowed, pair{mm.md, c})
				}
				for _, fx := range m.deniedTargets(c) {
					status, code, ok := p.denial(c, fx.space)
					if ok {
						continue
					}
					got := invoke(t, conn, mm.md, newRequest(mm.md, m.grpcFields(t, shapes[rpc], fx)), metadataOf(c))
					counts[c.name]++
					if got.status != status || got.code != code {
						t.Errorf("%s on %s as %q: %v, want %d %s", rpc, fx.space, c.name, got, status, code)
					}
				}
			}
		}
	}
	if after := m.fingerprint(t); after != before {
		t.Errorf("refused gRPC calls changed the state:\n%s", lineDiff(before, after))
	}

	m.allowedPhase = true // issue 13 wiring: an allowed delete takes a share made for it
	for _, a := range allowed {
		rpc := rpcName(a.md)
		p := byRPC[rpc]
		kv := metadataOf(a.c)
		if p.credentialFree {
			// The token methods take the library secret from metadata; user_id is their field.
			kv = append(withoutKey(withoutKey(kv, reqmeta.ActingUser), reqmeta.LibrarySecret), reqmeta.LibrarySecret, m.multi.Secret)
		}
		got := invoke(t, conn, a.md, newRequest(a.md, m.grpcFields(t, shapes[rpc], m.target(a.c))), kv)
		counts[a.c.name]++
		switch {
		case got.status >= 500 || slices.Contains(authCodes, got.code):
			t.Errorf("%s as %q: %v, want past authorization", rpc, a.c.name, got)
		case p.answer == "" && got.err != nil:
			t.Errorf("%s as %q: %v, want a success", rpc, a.c.name, got)
		case p.answer != "" && got.code != p.answer:
			t.Errorf("%s as %q: %v, want %s", rpc, a.c.name, got, p.answer)
		}
		if p.mutates {
			m.rebuild(t, a.c)
		}
	}

	// The operator key opens the internal methods (on a scratch library: some of them delete).
	for _, mm := range methods {
		if !mm.internal {
			continue
		}
		got := invoke(t, conn, mm.md, newRequest(mm.md, internalFields), operator)
		counts["operator key"]++
		if got.status >= 500 || got.code == "InvalidAdminKey" {
			t.Errorf("internal %s with the operator key: %v", rpcName(mm.md), got)
		}
	}
	counts.log(t, "gRPC")
}

// withoutKey drops a metadata key from key/value pairs.
func withoutKey(kv []string, key string) []string {
	var out []string
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i] != key {
			out = append(out, kv[i], kv[i+1])
		}
	}
	return out
}
