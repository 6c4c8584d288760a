package sqlstore

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"testing"
)

// TestCombinedWrites: the writes of a batch that share a combiner run as
// one; when that run fails, each runs alone, so only the bad one fails;
// a write whose caller has gone is not run; writes without a combiner run
// alone as before.
func TestCombinedWrites(t *testing.T) {
	db := mustOpen(t, filepath.Join(t.TempDir(), "g.db"), testClock(), SQLiteOptions{})
	if _, err := db.writer.Exec(`CREATE TABLE g (v INTEGER NOT NULL CHECK (v >= 0))`); err != nil {
		t.Fatal(err)
	}
	var combinedRuns [][]int
	c := &combiner{run: func(ctx context.Context, t *tx, items []any) error {
		var vs []int
		for _, it := range items {
			vs = append(vs, it.(int))
			if _, err := t.ExecContext(ctx, `INSERT INTO g (v) VALUES ($1)`, it.(int)); err != nil {
				return err
			}
		}
		combinedRuns = append(combinedRuns, vs)
		return nil
	}}
	write := func(ctx context.Context, v int, combine *combiner) *groupWrite {
		return &groupWrite{ctx: ctx, combine: combine, item: v, done: make(chan error, 1), lead: make(chan struct{}),
			fn: func(t *tx) error {
				if err := ctx.Err(); err != nil {
					return err
				}
				_, err := t.ExecContext(context.Background(), `INSERT INTO g (v) VALUES ($1)`, v)
				return err
			}}
	}
	gone, cancel := context.WithCancel(context.Background())
	cancel()
	bg := context.Background()
	stored := func() []int {
		var vs []int
		rows, err := db.writer.Query(`SELECT v FROM g ORDER BY v`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var v int
			if err := rows.Scan(&v); err != nil {
				t.Fatal(err)
			}
			vs = append(vs, v)
		}
		return vs
	}

	// All good: one combined run for the three combinable writes.
	batch := []*groupWrite{write(bg, 1, c), write(bg, 2, nil), write(bg, 3, c), write(gone, 4, c), write(bg, 5, c)}
	db.commitGroup(batch)
	for i, w := range batch {
		err := <-w.done
		if want := i == 3; (err != nil) != want || (want && !errors.Is(err, context.Canceled)) {
			t.Errorf("write %d: %v", i, err)
		}
	}
	if len(combinedRuns) != 1 || !slices.Equal(combinedRuns[0], []int{1, 3, 5}) {
		t.Errorf("combined runs %v, want [[1 3 5]]", combinedRuns)
	}
	if got := stored(); !slices.Equal(got, []int{1, 2, 3, 5}) {
		t.Fatalf("stored %v", got)
	}

	// One bad write: the combined run fails and is rolled back, then each
	// runs alone and only the bad one fails.
	combinedRuns = nil
	batch = []*groupWrite{write(bg, 6, c), write(bg, -1, c), write(bg, 7, c)}
	db.commitGroup(batch)
	for i, w := range batch {
		if err := <-w.done; (err != nil) != (i == 1) {
			t.Errorf("write %d: %v", i, err)
		}
	}
	if len(combinedRuns) != 0 {
		t.Errorf("a failed combined run was counted as done: %v", combinedRuns)
	}
	if got := stored(); !slices.Equal(got, []int{1, 2, 3, 5, 6, 7}) {
		t.Fatalf("stored %v", got)
	}
}
