package e2e

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/opensmh/opensmh/pkg/cmdutil"
	"github.com/opensmh/opensmh/tests/internal/cluster"
	"github.com/opensmh/opensmh/tests/internal/proc"
)

// The suite's two runners (docs/testing.md, after etcd's tests/common): the same tests against
// the all-in-one in process (the default: every test, on both namespace engines) or against a
// split deployment (deploymentEnv=split): three etcd members, a PostgreSQL server, two replicas
// of every service with the object service on S3, two gateways finding object data endpoints
// through etcd. A split deployment takes the same requests through several processes and
// networks; the tests listed in splitSuite run there: every test that uses only the public API in
// real time (tokens, uploads, directories, spaces, quotas, search, batches, history, archives,
// shares, CORS, hostile files, the tenant-isolation matrix). A test that reaches
// into the all-in-one (its clock, stores or jobs) fails on the split runner rather than
// passing unseen: it is left out of the list on purpose.
const deploymentEnv = "SMH_E2E_DEPLOYMENT"

// splitSuite are the tests the split runner runs (each whole, with every subtest).
var splitSuite = []string{
	"TestAPIClientAbortIsA499",
	"TestAdminKey",
	"TestArchives",
	"TestBatch",
	"TestCORS",
	"TestCORSOfUnknownLibrary",
	"TestConfirmKeysStayWithTheirUpload",
	"TestDataEndpointCORS",
	"TestFileAttributeBounds",
	"TestFileOpsExtra",
	"TestFormUpload",
	"TestHistoryVersions",
	"TestHostileFilesNeverRenderAsPages",
	"TestInstantUpload",
	"TestInstantUploadStaysInItsSpace",
	"TestLibraryExistenceIsNotRevealed",
	"TestMultipartUpload",
	"TestOpenAPIDocument",
	"TestPaginationUnderConcurrentChanges",
	"TestPublicRead",
	"TestQuotaConcurrentUploads",
	"TestQuotaEnforcement",
	"TestQuotaOperations",
	"TestQuotaSingleTenant",
	"TestRangeEdges",
	"TestSearch",
	"TestSearchFavoriteStatus",
	"TestSecretResetRacingMints",
	"TestShareSaveEdge",
	"TestShareSymlinksStayInside",
	"TestSharesStayInTheirTenant",
	"TestSimpleUploadRoundTrip",
	"TestSpaceExistenceIsNotRevealed",
	"TestSpaces",
	"TestTenantIsolationMatrix",
	"TestTokenConcurrency",
	"TestTokenDeleteUserTokens",
	"TestTokenMint",
	"TestTrailingSlashOnAFilePath",
	"TestUploadConflictsAndPaths",
	"TestVideoCover",
	"TestWritesWithoutCredentialsRefusedBeforeTheBody",
}

// splitS3Prefix is the split deployment's key prefix in its bucket.
const splitS3Prefix = "e2e/split"

// split is the deployment the split runner sends every test to; nil on the in-process runner.
var split *cluster.Deployment

// ranSplit records the tests that started a system on the split deployment.
var ranSplit sync.Map

// runTests runs the tests on the runner deploymentEnv names and answers the exit code.
func runTests(m *testing.M) int {
	switch runner := os.Getenv(deploymentEnv); runner {
	case "", "all-in-one":
		return m.Run()
	case "split":
		return runSplit(m)
	default:
		fmt.Fprintf(os.Stderr, "%s=%q: want all-in-one or split\n", deploymentEnv, runner)
		return 2
	}
}

// runSplit starts the split deployment, runs splitSuite against it (or the tests -run names),
// and checks that every listed test ran, that the processes logged JSON only and no secret.
func runSplit(m *testing.M) int {
	flag.Parse()
	chosen := flag.Lookup("test.run").Value.String() != ""
	if !chosen {
		if err := flag.Set("test.run", "^("+strings.Join(splitSuite, "|")+")$"); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
	}
	bin, err := proc.Build(proc.ServiceCommands...)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(bin)
	suite := &cluster.Suite{}
	return suite.Run(func(s *cluster.Suite) {
		split = cluster.Start(s, s.TempDir(), cluster.Options{BinDir: bin,
			// Without the share visitor limits, as onEveryEngineUnthrottled's systems: the
			// authorization matrix sends hundreds of calls to one share from one address. The
			// limits' own tests run in process.
			Env: []string{"SMH_SHARE_VISIT_LIMIT=off", "SMH_SHARE_VISIT_TOTAL_LIMIT=off"},
			// Under a prefix, as TestS3BlobStore's store, so that storedObjects reads it alike.
			ObjectArgs: []string{"--s3-prefix", splitS3Prefix}})
	}, func() int {
		code := m.Run()
		if !chosen {
			for _, name := range splitSuite {
				if _, ok := ranSplit.Load(name); !ok {
					fmt.Fprintf(os.Stderr, "FAIL: %s is in splitSuite but did not run on the split deployment\n", name)
					code = 1
				}
			}
		}
		for _, p := range split.Procs { // ours, not etcd's or PostgreSQL's
			p.LogRecords(suite)
		}
		split.ExpectNoSecretLogged(suite)
		return code
	})
}

// splitSystem is a test's view of the split deployment. The deployment is shared: a test keeps
// to the libraries it creates, as every test does already.
func splitSystem(t testing.TB, o systemOptions) *system {
	t.Helper()
	if o.S3 != nil || o.DataHost != "" || o.Tune != nil || o.Deadlines != (cmdutil.Deadlines{}) || o.EtcdEndpoints != nil {
		t.Fatalf("%s sets up an all-in-one of its own: it cannot run on the split deployment (take it out of splitSuite)", t.Name())
	}
	root, _, _ := strings.Cut(t.Name(), "/")
	ranSplit.Store(root, true)
	tr := split.Transport()
	t.Cleanup(tr.CloseIdleConnections)
	c := *split.Client
	c.Transport = tr
	return &system{t: t, url: cluster.PublicURL, http: &c, adminKey: split.AdminKey,
		s3: &fakeS3{backend: split.S3.Backend, bucket: cluster.S3Bucket, prefix: splitS3Prefix}}
}

// splitLogs answers every split process's output so far.
func splitLogs() string {
	var b strings.Builder
	for _, p := range split.All() {
		out := p.Output()
		b.WriteString(out)
		if out != "" && !strings.HasSuffix(out, "\n") {
			b.WriteByte('\n') // a line being written: not glued to the next process's first
		}
	}
	return b.String()
}
