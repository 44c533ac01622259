//go:build !unix

package cmdutil

// PrivateFiles does nothing where there is no umask.
func PrivateFiles() {}
