module github.com/opensmh/opensmh/bench

go 1.26.0

require (
	github.com/grpc-ecosystem/grpc-gateway/v2 v2.33.0
	go.etcd.io/etcd/client/v3 v3.7.3
	go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc v0.72.0
	go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp v0.72.0
	go.opentelemetry.io/otel v1.47.0
	go.opentelemetry.io/otel/sdk v1.47.0
	go.opentelemetry.io/otel/trace v1.47.0
	google.golang.org/grpc v1.85.0
	google.golang.org/protobuf v1.36.12
)
require github.com/opensmh/opensmh/gen v0.0.0
replace github.com/opensmh/opensmh/gen => ../gen
require github.com/opensmh/opensmh/pkg v0.0.0
replace github.com/opensmh/opensmh/pkg => ../pkg
require github.com/opensmh/opensmh/services/smh v0.0.0
replace github.com/opensmh/opensmh/services/smh => ../services/smh
