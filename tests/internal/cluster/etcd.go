package cluster

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/opensmh/opensmh/tests/internal/proc"
)

// EtcdBinary answers the path of the etcd binary on PATH; a split deployment cannot run without
// one, so its absence fails t (.ci/run installs Debian's etcd-server).
func EtcdBinary(t proc.T) string {
	t.Helper()
	etcdBin, err := exec.LookPath("etcd")
	if err != nil {
		t.Fatalf("a split deployment needs an etcd binary on PATH (apt-get install etcd-server): %v", err)
	}
	return etcdBin
}

// EtcdMember is a member of an etcd cluster that a test can kill and start again on the same
// addresses and data directory, as an operator restarting a failed member does.
type EtcdMember struct {
	Name      string
	ClientURL string
	Proc      *proc.Proc

	bin, dir, peerURL string
	// cluster is --initial-cluster: every member's name=peerURL.
	cluster string
}

// StartEtcd runs a one-member etcd cluster keeping its data in dir and waits until it is healthy.
func StartEtcd(t proc.T, etcdBin, dir string) *EtcdMember {
	t.Helper()
	return StartEtcdCluster(t, etcdBin, dir, "0")[0]
}

// StartEtcdCluster runs one member per name, each keeping its data in dir/etcd-<name>, and waits
// until every one is healthy.
func StartEtcdCluster(t proc.T, etcdBin, dir string, names ...string) []*EtcdMember {
	t.Helper()
	var members []*EtcdMember
	var initial []string
	for _, name := range names {
		m := &EtcdMember{Name: name, bin: etcdBin, dir: filepath.Join(dir, "etcd-"+name),
			ClientURL: "http://" + proc.FreeAddr(t), peerURL: "http://" + proc.FreeAddr(t)}
		members = append(members, m)
		initial = append(initial, m.Name+"="+m.peerURL)
	}
	for _, m := range members { // all at once: each waits for the others to form the cluster
		m.cluster = strings.Join(initial, ",")
		m.Launch(t)
	}
	for _, m := range members {
		m.WaitHealthy(t)
	}
	return members
}

// ClientURLs answers the members' client URLs, comma-separated (SMH_ETCD_ENDPOINTS).
func ClientURLs(members []*EtcdMember) string {
	var urls []string
	for _, m := range members {
		urls = append(urls, m.ClientURL)
	}
	return strings.Join(urls, ",")
}

// Start runs the (stopped) member again and waits until it is healthy: for a member of a larger
// cluster, until the cluster has a leader.
func (m *EtcdMember) Start(t proc.T) {
	t.Helper()
	m.Launch(t)
	m.WaitHealthy(t)
}

// Launch runs the (stopped) member again without waiting for it: members of a cluster that lost
// its quorum come back together.
func (m *EtcdMember) Launch(t proc.T) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(m.dir), 0o700); err != nil {
		t.Fatalf("etcd %s: %v", m.Name, err)
	}
	m.Proc = proc.Start(t, "etcd "+m.Name, nil, m.bin,
		"--name", m.Name, "--data-dir", m.dir,
		"--listen-client-urls", m.ClientURL, "--advertise-client-urls", m.ClientURL,
		"--listen-peer-urls", m.peerURL, "--initial-advertise-peer-urls", m.peerURL,
		"--initial-cluster", m.cluster)
}

// WaitHealthy waits until the member reports itself healthy.
func (m *EtcdMember) WaitHealthy(t proc.T) {
	t.Helper()
	proc.WaitFor(t, "etcd "+m.Name, 30*time.Second, func() bool {
		resp, err := http.Get(m.ClientURL + "/health")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
}

// EtcdLeader answers the member that leads the cluster, as the members report it.
func EtcdLeader(t proc.T, members []*EtcdMember) *EtcdMember {
	t.Helper()
	var leaderID string
	ids := map[string]*EtcdMember{}
	for _, m := range members {
		resp, err := http.Post(m.ClientURL+"/v3/maintenance/status", "application/json", strings.NewReader("{}"))
		if err != nil {
			t.Fatalf("status of etcd %s: %v", m.Name, err)
		}
		var status struct {
			Header struct {
				MemberID string `json:"member_id"`
			}
			Leader string
		}
		err = json.NewDecoder(resp.Body).Decode(&status)
		resp.Body.Close()
		if err != nil || status.Header.MemberID == "" || status.Leader == "" {
			t.Fatalf("status of etcd %s: %v %+v", m.Name, err, status)
		}
		ids[status.Header.MemberID] = m
		leaderID = status.Leader
	}
	leader, ok := ids[leaderID]
	if !ok {
		t.Fatalf("the leader %s is none of the members %v", leaderID, ids)
	}
	return leader
}

// EtcdKeyCount answers how many keys start with prefix, through etcd's JSON gateway (v3 API),
// or -1 when etcd does not answer.
func EtcdKeyCount(etcdURL, prefix string) int {
	end := []byte(prefix)
	end[len(end)-1]++ // the range [prefix, end) is every key starting with prefix
	req, _ := json.Marshal(map[string]any{"key": []byte(prefix), "range_end": end, "count_only": true})
	resp, err := http.Post(etcdURL+"/v3/kv/range", "application/json", bytes.NewReader(req))
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	var answer struct {
		Count string `json:"count"` // int64 in proto3 JSON; absent when 0
	}
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&answer) != nil {
		return -1
	}
	if answer.Count == "" {
		return 0
	}
	n, err := strconv.Atoi(answer.Count)
	if err != nil {
		return -1
	}
	return n
}
