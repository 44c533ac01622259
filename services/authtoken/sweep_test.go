package authtoken_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/opensmh/opensmh/pkg/clock"
	"github.com/opensmh/opensmh/pkg/etcdx/etcdtest"
	"github.com/opensmh/opensmh/services/authtoken"
	"github.com/opensmh/opensmh/services/authtoken/internal/app"
	"github.com/opensmh/opensmh/services/authtoken/internal/store"
)

const (
	tokensPrefix   = "/smh/authtoken/tokens/"
	electionPrefix = "/smh/authtoken/jobs/sweep-expired/"
)

// logBuffer collects one replica's log lines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// sweeps counts the completed sweeps this replica logged.
func (b *logBuffer) sweeps() int { return strings.Count(b.String(), `msg="token sweep" `) }

// startSweeping starts a replica on cli that sweeps every 50 ms of real time.
func startSweeping(t *testing.T, cli *clientv3.Client, clk clock.Clock) (*authtoken.Service, *logBuffer) {
	t.Helper()
	logs := &logBuffer{}
	svc, err := authtoken.New(context.Background(), authtoken.Config{
		Etcd:       cli,
		Libraries:  fakeLibraryClient{},
		AdminKey:   adminKey,
		Clock:      clk,
		SweepEvery: 50 * time.Millisecond,
		Logger:     slog.New(slog.NewTextHandler(logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := svc.Close(); err != nil {
			t.Error(err)
		}
	})
	return svc, logs
}

// putTokens writes n token records last renewed at renewed straight into etcd, as tokens minted
// by some replica and never used again; no replica caches them.
func putTokens(t *testing.T, cli *clientv3.Client, renewed time.Time, n int) []string {
	t.Helper()
	st := store.NewEtcd(cli)
	var hashes []string
	for range n {
		var raw [32]byte
		_, _ = rand.Read(raw[:])
		h := hex.EncodeToString(raw[:])
		rec := app.Record{LibraryID: "lib", UserID: "u", PeriodSeconds: 1200, CreatedAt: renewed, LastRenewedAt: renewed}
		if _, err := st.Create(context.Background(), h, rec); err != nil {
			t.Fatal(err)
		}
		hashes = append(hashes, h)
	}
	return hashes
}

func countKeys(t *testing.T, cli *clientv3.Client, prefix string) int64 {
	t.Helper()
	resp, err := cli.Get(context.Background(), prefix, clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil {
		t.Fatal(err)
	}
	return resp.Count
}

// eventually retries f until it holds or a generous deadline passes.
func eventually(t *testing.T, what string, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting: %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestSweepRunsOnOneReplica(t *testing.T) {
	cli := etcdtest.New(t)
	clk := clock.NewFake(time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC))
	a, aLogs := startSweeping(t, cli, clk)
	b, bLogs := startSweeping(t, cli, clk)

	expired := putTokens(t, cli, clk.Now().Add(-2*time.Hour), 5)
	putTokens(t, cli, clk.Now(), 2) // live: must survive every sweep
	eventually(t, "expired tokens swept", func() bool { return countKeys(t, cli, tokensPrefix) == 2 })
	eventually(t, "several sweeps", func() bool { return aLogs.sweeps()+bLogs.sweeps() >= 3 })
	if aLogs.sweeps() > 0 && bLogs.sweeps() > 0 {
		t.Fatalf("both replicas swept: %d and %d sweeps", aLogs.sweeps(), bLogs.sweeps())
	}

	leader, leaderLogs, followerLogs := a, aLogs, bLogs
	if bLogs.sweeps() > 0 {
		leader, leaderLogs, followerLogs = b, bLogs, aLogs
	}
	if err := leader.Close(); err != nil { // resigns: the follower takes over at once
		t.Fatal(err)
	}
	done := leaderLogs.sweeps()
	more := putTokens(t, cli, clk.Now().Add(-2*time.Hour), 5)
	eventually(t, "follower sweeps after the leader closed", func() bool {
		return followerLogs.sweeps() > 0 && countKeys(t, cli, tokensPrefix) == 2
	})
	if n := leaderLogs.sweeps(); n != done {
		t.Errorf("closed replica swept %d more times", n-done)
	}
	if n := countKeys(t, cli, "/smh/authtoken/users/"); n != 2 {
		t.Errorf("index holds %d entries, want the 2 live tokens'", n)
	}

	// Logs carry counts, never hashes (which would identify tokens).
	for _, h := range append(expired, more...) {
		if strings.Contains(aLogs.String()+bLogs.String(), h) {
			t.Fatalf("a token hash was logged")
		}
	}
}

func TestCloseStopsSweeping(t *testing.T) {
	cli := etcdtest.New(t)
	svc, logs := startSweeping(t, cli, clock.NewFake(time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)))
	eventually(t, "a sweep", func() bool { return logs.sweeps() > 0 })
	if n := countKeys(t, cli, electionPrefix); n != 1 {
		t.Fatalf("election holds %d candidates, want 1", n)
	}
	if err := svc.Close(); err != nil {
		t.Fatal(err)
	}
	// Close waited for the runner, which resigned on its way out.
	if n := countKeys(t, cli, electionPrefix); n != 0 {
		t.Errorf("election still holds %d candidates after Close", n)
	}
	n := logs.sweeps()
	time.Sleep(200 * time.Millisecond) // four intervals
	if logs.sweeps() != n {
		t.Errorf("swept after Close")
	}
	if err := svc.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestSweepDisabled(t *testing.T) {
	cli := etcdtest.New(t)
	svc, err := authtoken.New(context.Background(), authtoken.Config{
		Etcd: cli, Libraries: fakeLibraryClient{}, AdminKey: adminKey, SweepEvery: -1,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	// With a second, sweeping replica present, the disabled one never campaigns.
	_, logs := startSweeping(t, cli, clock.Real{})
	eventually(t, "a sweep", func() bool { return logs.sweeps() > 0 })
	if n := countKeys(t, cli, electionPrefix); n != 1 {
		t.Errorf("election holds %d candidates, want only the sweeping replica", n)
	}
}
