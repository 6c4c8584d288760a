//go:build !unix

package main

// lockDatabase is a no-op where flock is not available; the release
// builds are for Linux and macOS, which have it.
func lockDatabase(string) (func(), error) { return func() {}, nil }
