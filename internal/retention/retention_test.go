package retention

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard"
)

// fakeStore is an Fn-field fake: each step reports what the test scripts.
type fakeStore struct {
	accounts func() ([]*switchboard.Account, error)
	purge    func(acc int64, cutoff time.Time, limit int) (int, error)
	remove   func(acc int64, cutoff time.Time, limit int) (int, error)
	capFn    func(acc int64, cap int) (int, error)
	prune    func(cutoff time.Time) (int, error)
	expire   func(acc, ext int64, types []switchboard.MessageType, cutoff time.Time, limit int) (int, error)
	compacts int
}

// Extensions: account n has extensions n*10+1 and n*10+2.
func (f *fakeStore) Extensions(_ context.Context, filter switchboard.ExtensionFilter) ([]*switchboard.Extension, error) {
	return []*switchboard.Extension{{ID: filter.AccountID*10 + 1}, {ID: filter.AccountID*10 + 2}}, nil
}
func (f *fakeStore) ExpireMessages(_ context.Context, acc, ext int64, types []switchboard.MessageType, cutoff time.Time, limit int) (int, error) {
	return f.expire(acc, ext, types, cutoff, limit)
}

func (f *fakeStore) Accounts(context.Context) ([]*switchboard.Account, error) { return f.accounts() }
func (f *fakeStore) SetAccountRetention(context.Context, int64, switchboard.AccountRetention) error {
	return nil
}
func (f *fakeStore) PurgeDeleted(_ context.Context, acc int64, cutoff time.Time, limit int) (int, error) {
	return f.purge(acc, cutoff, limit)
}
func (f *fakeStore) RemovePurged(_ context.Context, acc int64, cutoff time.Time, limit int) (int, error) {
	return f.remove(acc, cutoff, limit)
}
func (f *fakeStore) EnforceMailboxCap(_ context.Context, acc int64, cap int) (int, error) {
	return f.capFn(acc, cap)
}
func (f *fakeStore) PruneChanges(_ context.Context, cutoff time.Time) (int, error) {
	return f.prune(cutoff)
}
func (f *fakeStore) Compact(context.Context) error { f.compacts++; return nil }

var _ Store = (*fakeStore)(nil)

func TestRunOnce(t *testing.T) {
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	clock := switchboard.NewManualClock(func() time.Time { return now })
	defaults := switchboard.RetentionPolicy{DeletePeriod: 5 * 24 * time.Hour, PurgePeriod: 2 * 24 * time.Hour, MailboxCap: 100}
	accounts := []*switchboard.Account{
		{ID: 1},
		{ID: 2, Retention: switchboard.AccountRetention{DeletePeriod: time.Hour, MailboxCap: switchboard.NoMailboxCap, MessagePeriod: 30 * 24 * time.Hour}},
	}
	// Account 2's retention period: mailbox 21 has 600 old faxes and
	// voicemails (two batches), 22 has 2; account 1 has none set.
	old := map[int64]int{21: 600, 22: 2}
	// Account 1 has 1,200 messages due for purge: three batches, the last short.
	due := map[int64]int{1: 1200, 2: 7}
	var purgeCutoffs = map[int64]time.Time{}
	var caps = map[int64]int{}
	store := &fakeStore{
		accounts: func() ([]*switchboard.Account, error) { return accounts, nil },
		purge: func(acc int64, cutoff time.Time, limit int) (int, error) {
			purgeCutoffs[acc] = cutoff
			n := min(due[acc], limit)
			due[acc] -= n
			return n, nil
		},
		remove: func(acc int64, cutoff time.Time, limit int) (int, error) {
			if want := now.Add(-defaults.PurgePeriod); !cutoff.Equal(want) {
				t.Errorf("remove cutoff of account %d: %v, want %v", acc, cutoff, want)
			}
			return 0, nil
		},
		capFn: func(acc int64, cap int) (int, error) { caps[acc] = cap; return 3, nil },
		expire: func(acc, ext int64, types []switchboard.MessageType, cutoff time.Time, limit int) (int, error) {
			if acc != 2 || ext/10 != acc || !cutoff.Equal(now.Add(-30*24*time.Hour)) || fmt.Sprint(types) != "[Fax VoiceMail]" {
				t.Errorf("expire %d/%d %v before %v: only account 2's mailboxes, its period, Fax and VoiceMail", acc, ext, types, cutoff)
			}
			n := min(old[ext], limit)
			old[ext] -= n
			return n, nil
		},
		prune: func(cutoff time.Time) (int, error) {
			if want := now.Add(-switchboard.DefaultChangeLogPeriod); !cutoff.Equal(want) {
				t.Errorf("prune cutoff %v, want %v", cutoff, want)
			}
			return 4, nil
		},
	}
	w := NewWorker(store, clock, Config{Defaults: defaults}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	res, err := w.RunOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := switchboard.RetentionResult{Purged: 1207, Removed: 0, Capped: 6, ChangesPruned: 4, Expired: 602}
	if res != want {
		t.Fatalf("result %+v, want %+v", res, want)
	}
	if due[1] != 0 {
		t.Fatalf("%d due messages left: the worker stopped before a short batch", due[1])
	}
	if !purgeCutoffs[1].Equal(now.Add(-defaults.DeletePeriod)) || !purgeCutoffs[2].Equal(now.Add(-time.Hour)) {
		t.Fatalf("purge cutoffs %v: the account override must apply", purgeCutoffs)
	}
	if caps[1] != 100 || caps[2] != 0 {
		t.Fatalf("caps %v: account 2 has no cap", caps)
	}
	if store.compacts != 1 {
		t.Fatalf("compacted %d times, want once after erasing", store.compacts)
	}

	// Nothing due: no compaction, zero result.
	res, err = w.RunOnce(context.Background())
	if err != nil || res.Purged != 0 || store.compacts != 1 {
		t.Fatalf("idle run: %+v, %v, %d compactions", res, err, store.compacts)
	}

	// A failing step stops the run and says which.
	store.purge = func(int64, time.Time, int) (int, error) { return 0, errors.New("disk full") }
	if _, err := w.RunOnce(context.Background()); err == nil || !strings.Contains(err.Error(), "purge account 1") || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("error %v", err)
	}
}
