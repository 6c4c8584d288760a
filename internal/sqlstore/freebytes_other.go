//go:build !unix

package sqlstore

// freeBytes is unknown here: only failed writes tell.
func freeBytes(string) (uint64, bool) { return 0, false }
