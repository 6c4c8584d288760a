package storetest

import (
	"testing"
	"time"

	"github.com/switchboardhq/switchboard"
)

// testWatchChanges: a committed change wakes every watcher, signals
// coalesce instead of blocking the writer, and a stopped watch is released.
func testWatchChanges(t *testing.T, e *env) {
	box := mb(e.ext1)
	first, stopFirst := e.store.WatchChanges()
	second, stopSecond := e.store.WatchChanges()
	defer stopSecond()

	// Drain anything the directory set-up signalled.
	drain := func(ch <-chan struct{}) {
		for {
			select {
			case <-ch:
			default:
				return
			}
		}
	}
	drain(first)
	drain(second)

	// Many writes with nobody reading must not block the writer.
	for i := range 5 {
		e.create(t, sms(box, switchboard.Inbound, p1, []string{own1}, "wake "+string(rune('a'+i))))
	}
	for name, ch := range map[string]<-chan struct{}{"first": first, "second": second} {
		select {
		case <-ch:
		case <-time.After(10 * time.Second):
			t.Fatalf("%s watcher: no signal after a committed change", name)
		}
	}

	// After stop, the watch gets nothing more; the other one still does.
	stopFirst()
	stopFirst() // idempotent
	drain(first)
	drain(second)
	e.create(t, sms(box, switchboard.Inbound, p1, []string{own1}, "after stop"))
	select {
	case <-second:
	case <-time.After(10 * time.Second):
		t.Fatal("second watcher: no signal after the first stopped")
	}
}
