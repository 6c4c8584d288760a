package switchboard

import (
	"context"
	"errors"
	"testing"
)

func TestEpochIn(t *testing.T) {
	for _, tc := range []struct {
		name   string
		scoped bool
		fail   bool // the first read fails
		want   []int64
		reads  int
	}{
		{"no scope: every call reads", false, false, []int64{1, 2, 3}, 3},
		{"a scope reads once", true, false, []int64{1, 1, 1}, 1},
		{"a failed read is not kept", true, true, []int64{0, 2, 2}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			if tc.scoped {
				ctx = WithEpochScope(ctx)
			}
			reads := 0
			read := func() (int64, error) {
				reads++
				if tc.fail && reads == 1 {
					return 0, errors.New("database away")
				}
				return int64(reads), nil
			}
			for i, want := range tc.want {
				got, err := EpochIn(ctx, read)
				if (err != nil) != (tc.fail && i == 0) {
					t.Fatalf("call %d: error %v", i, err)
				}
				if got != want {
					t.Fatalf("call %d: epoch %d, want %d", i, got, want)
				}
			}
			if reads != tc.reads {
				t.Fatalf("%d reads, want %d", reads, tc.reads)
			}
			// Another request's scope reads anew.
			if tc.scoped && !tc.fail {
				if got, _ := EpochIn(WithEpochScope(context.Background()), read); got != int64(tc.reads+1) {
					t.Fatalf("a new scope answered %d, want a fresh read", got)
				}
			}
		})
	}
}
