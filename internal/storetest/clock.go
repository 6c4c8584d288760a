package storetest

import (
	"testing"
	"time"
)

// testClockOffset: the emulator clock's offset is saved and only grows.
func testClockOffset(t *testing.T, e *env) {
	wantEqual(t, must(e.store.ClockOffset(e.ctx))(t), time.Duration(0), "offset never saved")
	noErr(t, e.store.SaveClockOffset(e.ctx, 48*time.Hour))
	wantEqual(t, must(e.store.ClockOffset(e.ctx))(t), 48*time.Hour, "saved offset")
	noErr(t, e.store.SaveClockOffset(e.ctx, time.Hour)) // a stale, smaller one
	wantEqual(t, must(e.store.ClockOffset(e.ctx))(t), 48*time.Hour, "offset after a smaller save")
	noErr(t, e.store.SaveClockOffset(e.ctx, 120*time.Hour+time.Millisecond))
	wantEqual(t, must(e.store.ClockOffset(e.ctx))(t), 120*time.Hour+time.Millisecond, "offset after a larger save")
}
