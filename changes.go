package switchboard

// ChangeWatcher lets readers of the change log (message-sync long polls,
// notification dispatch) sleep until the log may have grown instead of
// polling it hard.
//
// A signal is a hint, never the data: after a wake-up the reader reads the
// change log from its own persisted position, so a coalesced, spurious or
// lost signal costs latency at most, never an event. Readers should still
// re-read on a slow timer as a backstop.
type ChangeWatcher interface {
	// WatchChanges returns a channel that receives a value after a write
	// that may have added change-log rows has committed: on this node, and,
	// for a backend shared by several nodes, on any node. Signals coalesce
	// (the channel holds at most one). stop releases the watch.
	WatchChanges() (changed <-chan struct{}, stop func())
}
