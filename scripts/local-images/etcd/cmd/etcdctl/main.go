// Command etcdctl is the upstream etcdctl's main (ctlv3.MustStart): the compose file's etcd
// healthcheck runs /usr/local/bin/etcdctl, which the official image ships, so the stand-in image
// ships it too.
package main

import "go.etcd.io/etcd/etcdctl/v3/ctlv3"

func main() { ctlv3.MustStart() }
