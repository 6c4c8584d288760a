package dircache

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/switchboardhq/switchboard"
)

// fakeStore is a directory with a epoch, counting the reads.
type fakeStore struct {
	mu     sync.Mutex
	epoch  int64
	exts   map[int64]*switchboard.Extension
	owners map[string]*switchboard.PhoneNumber
	reads  int
	// during runs in the middle of a load, as a concurrent change would.
	during func()
}

func (f *fakeStore) DirectoryEpoch(context.Context) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.epoch, nil
}

func (f *fakeStore) load() {
	f.mu.Lock()
	f.reads++
	during := f.during
	f.during = nil
	f.mu.Unlock()
	if during != nil {
		during()
	}
}

func (f *fakeStore) Extension(_ context.Context, _, id int64) (*switchboard.Extension, error) {
	f.load()
	f.mu.Lock()
	defer f.mu.Unlock()
	if x, ok := f.exts[id]; ok {
		cp := *x
		return &cp, nil
	}
	return nil, switchboard.ErrNotFound
}

func (f *fakeStore) PhoneNumbers(_ context.Context, _, id int64) ([]*switchboard.PhoneNumber, error) {
	f.load()
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*switchboard.PhoneNumber
	for _, pn := range f.owners {
		if pn.ExtensionID == id {
			out = append(out, pn)
		}
	}
	return out, nil
}

func (f *fakeStore) PhoneNumberByNumber(_ context.Context, n string) (*switchboard.PhoneNumber, error) {
	f.load()
	f.mu.Lock()
	defer f.mu.Unlock()
	if pn, ok := f.owners[n]; ok {
		return pn, nil
	}
	return nil, switchboard.ErrNotFound
}

func (f *fakeStore) change(fn func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn()
	f.epoch++
}

func TestCache(t *testing.T) {
	ctx := context.Background()
	f := &fakeStore{epoch: 1, exts: map[int64]*switchboard.Extension{7: {ID: 7, Status: switchboard.StatusEnabled}},
		owners: map[string]*switchboard.PhoneNumber{"+16505550101": {PhoneNumber: "+16505550101", ExtensionID: 7}}}
	c := New(f, 100)
	view := func() *View {
		t.Helper()
		v, err := c.View(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	reads := func(want int, what string) {
		t.Helper()
		if f.reads != want {
			t.Fatalf("%s: %d reads of the store, want %d", what, f.reads, want)
		}
	}

	// Misses read the store once; hits, in this request or the next, never.
	for range 3 {
		v := view()
		if x, err := v.Extension(ctx, 1, 7); err != nil || x.Status != switchboard.StatusEnabled {
			t.Fatalf("extension %v %v", x, err)
		}
		if _, err := v.PhoneNumberByNumber(ctx, "+19995550000"); !errors.Is(err, switchboard.ErrNotFound) {
			t.Fatalf("unknown number: %v", err)
		}
		if ns, err := v.PhoneNumbers(ctx, 1, 7); err != nil || len(ns) != 1 {
			t.Fatalf("numbers %v %v", ns, err)
		}
	}
	reads(3, "three requests")
	if _, err := view().Extension(ctx, 1, 8); !errors.Is(err, switchboard.ErrNotFound) {
		t.Fatalf("missing extension: %v", err)
	}
	if _, err := view().Extension(ctx, 1, 8); !errors.Is(err, switchboard.ErrNotFound) {
		t.Fatalf("missing extension again: %v", err)
	}
	reads(5, "a missing extension is not kept")

	// A change of the directory is seen by the next request.
	f.change(func() {
		f.exts[7].Status = switchboard.StatusDisabled
		f.owners["+19995550000"] = &switchboard.PhoneNumber{PhoneNumber: "+19995550000", ExtensionID: 7}
	})
	v := view()
	if x, _ := v.Extension(ctx, 1, 7); x.Status != switchboard.StatusDisabled {
		t.Fatal("a disabled extension is served enabled after the change")
	}
	if pn, err := v.PhoneNumberByNumber(ctx, "+19995550000"); err != nil || pn.ExtensionID != 7 {
		t.Fatalf("a number added since: %v %v", pn, err)
	}

	// A lookup loaded under an old epoch while the directory changes is
	// not kept under the new one.
	old := view()
	f.during = func() {
		f.change(func() { f.exts[7].Status = switchboard.StatusEnabled })
		view() // a later request sees the new epoch
	}
	if x, _ := old.Extension(ctx, 1, 9); x != nil {
		t.Fatal("extension 9 exists?")
	}
	f.exts[9] = &switchboard.Extension{ID: 9}
	f.during = func() {
		f.change(func() { f.exts[9].Status = switchboard.StatusDisabled })
		view()
	}
	if _, err := old.Extension(ctx, 1, 9); err != nil {
		t.Fatal(err)
	}
	before := f.reads
	if x, _ := view().Extension(ctx, 1, 9); x.Status != switchboard.StatusDisabled {
		t.Fatal("a lookup of an old epoch was kept under the new one")
	}
	reads(before+1, "the new epoch looks it up itself")

	// The bound: past it the cache starts again.
	small := New(f, 2)
	sv, _ := small.View(ctx)
	for _, n := range []string{"+1", "+2", "+3"} {
		_, _ = sv.PhoneNumberByNumber(ctx, n)
	}
	if small.entries > 2 {
		t.Fatalf("%d entries kept, bound 2", small.entries)
	}
}
