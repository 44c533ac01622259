package blob_test

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/opensmh/opensmh/services/object/internal/blob"
	"github.com/opensmh/opensmh/services/object/internal/blob/blobtest"
)

// motoStartTimeout bounds how long moto_server may take to answer; it usually needs 2 to 4 seconds.
const motoStartTimeout = 60 * time.Second

// startMoto runs moto's S3 server, an S3 implementation independent of gofakes3 (Python, installed
// with pip on this project's machines), on a free loopback port until the test ends, and answers
// its host:port. The test is skipped where moto_server is not installed.
func startMoto(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("moto_server")
	if err != nil {
		t.Skip("moto_server not installed (pip install 'moto[server]'): ", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	l.Close() // moto binds the port itself; another process taking it in between fails the start below.

	logPath := filepath.Join(t.TempDir(), "moto.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close() // The child has its own descriptor.
	cmd := exec.Command(bin, "-H", "127.0.0.1", "-p", port)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Its own process group, so the cleanup also ends whatever the pyenv shim started.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait() // Killed by the cleanup; its exit status says nothing.
		close(exited)
	}()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
	})

	endpoint := "127.0.0.1:" + port
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(motoStartTimeout)
	for {
		resp, err := client.Get("http://" + endpoint + "/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return endpoint
			}
		}
		select {
		case <-exited:
			out, _ := os.ReadFile(logPath)
			t.Fatalf("moto_server exited before answering:\n%s", out)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			out, _ := os.ReadFile(logPath)
			t.Fatalf("moto_server did not answer within %v:\n%s", motoStartTimeout, out)
		}
	}
}

// TestS3ContractMoto runs the contract against moto over plain http: a second S3 implementation, so
// the S3 store is not only shaped to gofakes3's reading of the protocol.
func TestS3ContractMoto(t *testing.T) {
	endpoint := startMoto(t)
	var buckets atomic.Int64
	blobtest.Run(t, func(t *testing.T) blob.Store {
		s, err := blob.NewS3(t.Context(), blob.S3Config{
			Endpoint:     endpoint,
			Bucket:       fmt.Sprintf("contract-%d", buckets.Add(1)),
			AccessKey:    "test-access",
			SecretKey:    "test-secret",
			CreateBucket: true,
		})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}, blobtest.Skip("ConcurrentSameKey",
		"moto 5.2.1 answers 500 to concurrent PUTs of one key: one request reads the value buffer "+
			"another request's PUT has closed (ValueError: I/O operation on closed file)"))
}
