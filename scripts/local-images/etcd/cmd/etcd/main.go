// Command etcd is the upstream etcd server's main (etcdmain.Main), built as a static binary for
// the stand-in etcd image of scripts/local-images.sh: Debian's etcd-server is dynamically linked
// and an older release, and the official image cannot be pulled where no image registry is
// reachable.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
