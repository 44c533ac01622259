// Package openapi holds the OpenAPI 2.0 document that protoc-gen-openapiv2 writes at make generate
// (opensmh.swagger.json). It describes the grpc-gateway routes of proto/http.yaml: the admin API
// and the internal /_smh/ routes the dispatcher rewrites to. The gateway builds the public
// document from it and the dispatcher table (decision 53). This file is not generated: make
// generate leaves it alone.
package openapi

import _ "embed"

//go:embed opensmh.swagger.json
var internal string

// Internal answers the generated document's bytes.
func Internal() []byte { return []byte(internal) }
