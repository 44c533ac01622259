// Package apidoc builds the OpenAPI 2.0 document of the public API: the SMH routes as clients
// call them and the admin API, what the gateway serves at Path (decision 53). The dispatcher
// table is its one source of routes; the document make generate writes for the grpc-gateway
// routes (gen/openapi) gives each row its parameters and schemas, joined on the row's target.
// The internal /_smh/ routes never appear.
package apidoc

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"

	namespacev1 "github.com/opensmh/opensmh/gen/go/smh/namespace/v1"
	tokenv1 "github.com/opensmh/opensmh/gen/go/smh/token/v1"
	"github.com/opensmh/opensmh/services/gateway/internal/dispatch"
)

// Path is where the gateway serves the document: outside /api/ and /admin/, so no dispatcher
// row or admin route can ever take it.
const Path = "/openapi.json"

// Extensions of each public operation: what the dispatcher matches on, so a client (or a test)
// reads the row without parsing the path key.
const (
	// ExtPath is the path template, the key without its fragment.
	ExtPath = "x-smh-path"
	// ExtFlags are the query keys that select the operation (present with or without a value).
	ExtFlags = "x-smh-flags"
	// ExtBodyKey is the key of the JSON body that selects the operation.
	ExtBodyKey = "x-smh-body-key"
)

// Credential parameters of the business API (12.2): query parameters only, declared once under
// "parameters" and referred to by each operation.
const (
	accessToken      = "access_token"
	librarySecret    = "library_secret"
	userID           = "user_id"
	shareAccessToken = "share_access_token"
	adminKey         = "adminKey"
	errorDefinition  = "smhError"
)

// credentialParams answers the declarations of the credential parameters, by name.
func credentialParams() map[string]any {
	return map[string]any{
		accessToken: map[string]any{"name": accessToken, "in": "query", "type": "string", "required": false,
			"description": "The access token (12.2). Not needed by reads of a public-read library."},
		librarySecret: map[string]any{"name": librarySecret, "in": "query", "type": "string", "required": false,
			"description": "The library secret, in place of an access token (decision 4); token management (section 1)."},
		userID: map[string]any{"name": userID, "in": "query", "type": "string", "required": false,
			"description": "The acting user, for an admin token without a user id or the library secret (decision 21)."},
		shareAccessToken: map[string]any{"name": shareAccessToken, "in": "query", "type": "string", "required": false,
			"description": "The share access token of a share with an extraction code (13.12, decision 14)."},
	}
}

// errorSchema answers the body of every refusal (docs/architecture.md, "The public edge").
func errorSchema() map[string]any {
	return map[string]any{
		"type": "object",
		"properties": map[string]any{
			"code":      map[string]any{"type": "string", "description": "The SMH error code."},
			"message":   map[string]any{"type": "string"},
			"requestId": map[string]any{"type": "string", "description": "Also in the X-SMH-Request-Id header."},
		},
	}
}

const description = `The public API of OpenSMH on its HTTPS port: the SMH business API (/api/v1/...) and the admin API (/admin/v1/...).

SMH picks an operation by method, path, query flags and, for PUT on a file or directory, a key of the JSON body, so several operations share one path. Their path keys carry a URL fragment naming what selects them, e.g. "/api/v1/file/{LibraryId}/{SpaceId}/{ConfirmKey}#confirm" or "...#copyFrom": a client sends the path without the fragment, and the selector as the operation's required query parameter (or required body key). Each operation also names its path template in x-smh-path, its flags in x-smh-flags and its body key in x-smh-body-key. A path parameter described as "the rest of the path" may contain "/" and may be empty.`

var pathParam = regexp.MustCompile(`\{([^}]*)\}`)

// Build answers the public document built from internal, the document of the grpc-gateway
// routes, and routes, the dispatcher table. An error means the two disagree (a row whose target
// no internal route serves): the tests fail on it before a gateway could.
func Build(internal []byte, routes []dispatch.Route) ([]byte, error) {
	var in struct {
		Tags        []map[string]any                     `json:"tags"`
		Paths       map[string]map[string]map[string]any `json:"paths"`
		Definitions map[string]any                       `json:"definitions"`
	}
	if err := json.Unmarshal(internal, &in); err != nil {
		return nil, fmt.Errorf("apidoc: the internal document: %w", err)
	}
	paths := map[string]map[string]any{}
	add := func(key, method string, op map[string]any) error {
		if paths[key] == nil {
			paths[key] = map[string]any{}
		}
		if _, dup := paths[key][method]; dup {
			return fmt.Errorf("apidoc: two %s operations on %s", strings.ToUpper(method), key)
		}
		paths[key][method] = op
		return nil
	}

	keys := keyer{shapes: map[string]string{}}
	ids := map[string]bool{}
	for _, r := range routes {
		method := strings.ToLower(r.Method)
		internalOp, err := targetOf(in.Paths, r, method)
		if err != nil {
			return nil, err
		}
		op := publicOperation(clone(internalOp), r)
		op["operationId"] = uniqueID(ids, r)
		if err := add(keys.key(r), method, op); err != nil {
			return nil, err
		}
	}
	for p, item := range in.Paths {
		if !strings.HasPrefix(p, "/admin/") {
			continue
		}
		for method, op := range item {
			op = clone(op)
			op["security"] = []any{map[string]any{adminKey: []any{}}}
			replaceDefaultResponse(op)
			ids[op["operationId"].(string)] = true
			if err := add(p, method, op); err != nil {
				return nil, err
			}
		}
	}

	doc := map[string]any{
		"swagger":    "2.0",
		"info":       map[string]any{"title": "OpenSMH public API", "version": "v1", "description": description},
		"schemes":    []any{"https"},
		"consumes":   []any{"application/json"},
		"produces":   []any{"application/json"},
		"paths":      paths,
		"parameters": credentialParams(),
		"securityDefinitions": map[string]any{adminKey: map[string]any{
			"type": "apiKey", "in": "header", "name": "Authorization",
			"description": `The operator key, as "Bearer <key>" (docs/architecture.md, "The admin API").`,
		}},
	}
	defs := reachable(paths, in.Definitions)
	defs[errorDefinition] = errorSchema()
	doc["definitions"] = defs
	doc["tags"] = usedTags(in.Tags, paths)
	return json.MarshalIndent(doc, "", "  ")
}

// targetOf answers the internal operation of r: the one on r's method whose path has r.Target's
// shape (an internal {param} takes a literal of the target, such as the listing mode) and whose
// operationId names r.RPC.
func targetOf(internal map[string]map[string]map[string]any, r dispatch.Route, method string) (map[string]any, error) {
	service, rpc, ok := strings.Cut(strings.TrimPrefix(r.RPC, "/"), "/")
	if !ok {
		return nil, fmt.Errorf("apidoc: %s %s: RPC %q is not /package.Service/Method", r.Method, r.Pattern, r.RPC)
	}
	opID := service[strings.LastIndex(service, ".")+1:] + "_" + rpc
	target := strings.Split(r.Target, "/")
	var found map[string]any
	for p, item := range internal {
		op, ok := item[method]
		if !ok || !sameShape(target, strings.Split(p, "/")) {
			continue
		}
		// protoc-gen-openapiv2 numbers the operationIds of a method's further bindings.
		id, _ := op["operationId"].(string)
		if n, ok := strings.CutPrefix(id, opID); !ok || strings.Trim(n, "0123456789") != "" {
			continue
		}
		if found != nil {
			return nil, fmt.Errorf("apidoc: %s %s: two internal routes match %s", r.Method, r.Pattern, r.Target)
		}
		found = op
	}
	if found == nil {
		return nil, fmt.Errorf("apidoc: %s %s: no internal %s route of %s matches %s", r.Method, r.Pattern, r.Method, opID, r.Target)
	}
	return found, nil
}

func sameShape(target, internal []string) bool {
	if len(target) != len(internal) {
		return false
	}
	for i, seg := range internal {
		if !strings.HasPrefix(seg, "{") && seg != target[i] {
			return false
		}
	}
	return true
}

// publicOperation turns a copy of the internal operation of r into r's public operation: the
// pattern's path parameters, r's flags as required query parameters, the internal query and body
// parameters, the credentials, and the SMH error body.
func publicOperation(op map[string]any, r dispatch.Route) map[string]any {
	internalParams, _ := op["parameters"].([]any)
	byName := map[string]map[string]any{}
	for _, p := range internalParams {
		pm := p.(map[string]any)
		if pm["in"] == "path" {
			byName[strings.ToLower(pm["name"].(string))] = pm
		}
	}
	template, rest := templateOf(r.Pattern)
	var params []any
	for _, m := range pathParam.FindAllStringSubmatch(template, -1) {
		name := m[1]
		p := map[string]any{"name": name, "in": "path", "required": true, "type": "string"}
		desc := ""
		if from, ok := byName[strings.ToLower(name)]; ok {
			desc, _ = from["description"].(string)
		}
		if name == rest {
			desc = strings.TrimSpace("The rest of the path: may contain \"/\" (or \"%2F\"), and may be empty. " + desc)
		}
		if desc != "" {
			p["description"] = desc
		}
		params = append(params, p)
	}
	for _, f := range r.Flags {
		params = append(params, map[string]any{"name": f, "in": "query", "required": true, "type": "string",
			"allowEmptyValue": true, "description": "Selects this operation: present, with or without a value."})
	}
	hasUserID := false
	credentials := credentialParams()
	for _, p := range internalParams {
		pm := p.(map[string]any)
		switch {
		case pm["in"] == "path":
			continue
		case pm["in"] == "query" && (slices.Contains(r.Flags, pm["name"].(string)) || credentials[pm["name"].(string)] != nil):
			continue
		case pm["in"] == "body" && r.BodyKey != "":
			pm["schema"] = map[string]any{"allOf": []any{pm["schema"], map[string]any{"type": "object", "required": []any{r.BodyKey}}}}
			desc, _ := pm["description"].(string)
			pm["description"] = strings.TrimSpace(fmt.Sprintf("Selects this operation by its key %q. %s", r.BodyKey, desc))
		}
		if pm["name"] == "userId" {
			hasUserID = true
		}
		delete(pm, "pattern")
		params = append(params, pm)
	}
	for _, c := range credentialsOf(r, hasUserID) {
		params = append(params, map[string]any{"$ref": "#/parameters/" + c})
	}
	op["parameters"] = params
	op[ExtPath] = template
	if len(r.Flags) > 0 {
		op[ExtFlags] = slices.Clone(r.Flags)
	}
	if r.BodyKey != "" {
		op[ExtBodyKey] = r.BodyKey
	}
	replaceDefaultResponse(op)
	return op
}

// credentialsOf answers the credential parameters r takes. The token routes of section 1
// authenticate by the library secret or the token in their path; saving from a share also takes
// the share's access token (decision 14).
func credentialsOf(r dispatch.Route, hasUserID bool) []string {
	if strings.HasPrefix(r.RPC, "/"+tokenv1.TokenService_ServiceDesc.ServiceName+"/") {
		return []string{librarySecret}
	}
	out := []string{accessToken, librarySecret}
	if !hasUserID {
		out = append(out, userID)
	}
	if strings.HasPrefix(r.RPC, "/"+namespacev1.ShareSaveService_ServiceDesc.ServiceName+"/") {
		out = append(out, shareAccessToken)
	}
	return out
}

// templateOf answers the OpenAPI path template of a dispatcher pattern, and the name of its
// rest-of-path parameter ({FilePath...}), if any.
func templateOf(pattern string) (template, rest string) {
	if i := strings.LastIndex(pattern, "{"); i >= 0 && strings.HasSuffix(pattern, "...}") {
		rest = pattern[i+1 : len(pattern)-len("...}")]
		return pattern[:i] + "{" + rest + "}", rest
	}
	return pattern, ""
}

// keyer answers the path key of each row: its template, with a fragment naming its flags or body
// key when it has some. OpenAPI keys paths by template; a fragment keeps the operations that
// share one apart and is never sent. A key whose shape (parameter names aside) an earlier key
// with other names already has gets the RPC's method name as fragment: validators take two such
// keys for the same path.
type keyer struct {
	shapes map[string]string // shape → the first key of that shape
}

func (k keyer) key(r dispatch.Route) string {
	key, _ := templateOf(r.Pattern)
	switch {
	case len(r.Flags) > 0:
		key += "#" + strings.Join(r.Flags, "&")
	case r.BodyKey != "":
		key += "#" + r.BodyKey
	}
	shape := pathParam.ReplaceAllString(key, "{}")
	if first, ok := k.shapes[shape]; ok && first != key {
		key += map[bool]string{true: "&", false: "#"}[strings.Contains(key, "#")] + r.RPC[strings.LastIndex(r.RPC, "/")+1:]
		shape = pathParam.ReplaceAllString(key, "{}")
	}
	if _, ok := k.shapes[shape]; !ok {
		k.shapes[shape] = key
	}
	return key
}

// uniqueID answers the operationId of r: Service_Method, suffixed by its selector or a count
// when another row of the same RPC took it.
func uniqueID(ids map[string]bool, r dispatch.Route) string {
	service, rpc, _ := strings.Cut(strings.TrimPrefix(r.RPC, "/"), "/")
	base := service[strings.LastIndex(service, ".")+1:] + "_" + rpc
	id := base
	if ids[id] && (len(r.Flags) > 0 || r.BodyKey != "") {
		id = base + "_" + identifier(append(slices.Clone(r.Flags), r.BodyKey))
	}
	for n := 2; ids[id]; n++ {
		id = fmt.Sprintf("%s%d", base, n)
	}
	ids[id] = true
	return id
}

// identifier joins words into one CamelCase identifier ("by-marker", "by-page" → ByMarkerByPage).
func identifier(words []string) string {
	var b strings.Builder
	for _, w := range words {
		for _, part := range strings.FieldsFunc(w, func(c rune) bool { return c == '-' || c == '_' }) {
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return b.String()
}

// replaceDefaultResponse describes refusals as they reach clients: the SMH error body, not the
// gRPC status the internal document names.
func replaceDefaultResponse(op map[string]any) {
	responses, _ := op["responses"].(map[string]any)
	if responses == nil {
		responses = map[string]any{}
		op["responses"] = responses
	}
	responses["default"] = map[string]any{
		"description": "A refusal: the SMH error code, a message and the request id.",
		"schema":      map[string]any{"$ref": "#/definitions/" + errorDefinition},
	}
}

// reachable answers the definitions the paths refer to, directly or through other definitions.
func reachable(paths map[string]map[string]any, defs map[string]any) map[string]any {
	out := map[string]any{}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if ref, ok := v["$ref"].(string); ok {
				if name, ok := strings.CutPrefix(ref, "#/definitions/"); ok {
					if _, seen := out[name]; !seen && defs[name] != nil {
						out[name] = defs[name]
						walk(defs[name])
					}
				}
			}
			for _, e := range v {
				walk(e)
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	for _, item := range paths {
		walk(item)
	}
	return out
}

// usedTags keeps the tags some operation names, in the internal document's order.
func usedTags(tags []map[string]any, paths map[string]map[string]any) []any {
	used := map[string]bool{}
	for _, item := range paths {
		for _, op := range item {
			ts, _ := op.(map[string]any)["tags"].([]any)
			for _, t := range ts {
				used[t.(string)] = true
			}
		}
	}
	var out []any
	for _, t := range tags {
		if name, _ := t["name"].(string); used[name] {
			out = append(out, t)
		}
	}
	return out
}

// clone answers a deep copy of a decoded JSON object: rows that share an internal operation
// each change their own.
func clone(m map[string]any) map[string]any {
	return deepCopy(m).(map[string]any)
}

func deepCopy(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = deepCopy(e)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = deepCopy(e)
		}
		return out
	}
	return v
}
