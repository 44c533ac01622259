//go:build unix

package cmdutil

import "syscall"

// PrivateFiles sets the process umask to 0077, so files and directories that libraries create
// in the data dir with looser modes of their own (etcd writes its snapshots 0666) come out 0600
// and 0700 (docs/security.md). Our own code sets these modes explicitly; this covers the rest.
// Only a binary's main calls it: the umask belongs to the whole process.
func PrivateFiles() { syscall.Umask(0o077) }
