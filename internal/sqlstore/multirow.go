package sqlstore

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Multi-row statements. Per statement, database/sql and the driver cost
// more than SQLite's insert of a row, and on PostgreSQL each statement is
// a round trip: rows written together go in one statement of many rows.

// rowChunks are the row counts of the multi-row statements: a few fixed
// sizes, so that the texts stay few and prepared (the statement cache
// keys by text), and at most 64 rows of 29 values, far below either
// database's parameter limit.
var rowChunks = []int{64, 16, 4, 1}

// inRowChunks calls fn for consecutive chunks of n rows, each of a size of
// rowChunks, largest first.
func inRowChunks(n int, fn func(from, size int) error) error {
	from := 0
	for _, size := range rowChunks {
		for n-from >= size {
			if err := fn(from, size); err != nil {
				return err
			}
			from += size
		}
	}
	return nil
}

// tuple is a row of cols parameters: "(?, ?, …)".
func tuple(cols int) string {
	return "(" + strings.Repeat("?, ", cols-1) + "?)"
}

// multiRow is the text of a statement of many rows: head, rows copies of
// tuple separated by ", ", then tail, each ? of the tuples and the tail
// numbered $1, $2, … in order. One text per (head, tuple, rows, tail),
// built once.
func multiRow(head, tuple string, rows int, tail string) string {
	key := multiRowKey{head, tuple, tail, rows}
	if s, ok := multiRowTexts.Load(key); ok {
		return s.(string)
	}
	var b strings.Builder
	b.WriteString(head)
	n := 0
	number := func(part string) {
		for i := 0; i < len(part); i++ {
			if part[i] != '?' {
				b.WriteByte(part[i])
				continue
			}
			n++
			b.WriteString("$" + strconv.Itoa(n))
		}
	}
	for r := range rows {
		if r > 0 {
			b.WriteString(", ")
		}
		number(tuple)
	}
	number(tail)
	s, _ := multiRowTexts.LoadOrStore(key, b.String())
	return s.(string)
}

type multiRowKey struct {
	head, tuple, tail string
	rows              int
}

var multiRowTexts sync.Map // multiRowKey → string

// execRows runs head, tuples, tail over values, rows of as many values as
// tuple has parameters, in chunks of rowChunks; extra (tail's parameters)
// follows each chunk's values.
func execRows(ctx context.Context, tx *tx, head, tuple, tail string, values []any, extra ...any) error {
	cols := strings.Count(tuple, "?")
	return inRowChunks(len(values)/cols, func(from, n int) error {
		a := append(values[from*cols:(from+n)*cols:(from+n)*cols], extra...)
		_, err := tx.ExecContext(ctx, multiRow(head, tuple, n, tail), a...)
		return err
	})
}

// insertRows is execRows of an INSERT into a table with an id: the new
// rows' ids, in the order of the rows (one statement's keys ascend with
// its rows, whatever order RETURNING lists them in).
func insertRows(ctx context.Context, tx *tx, head, tuple string, values []any) ([]int64, error) {
	cols := strings.Count(tuple, "?")
	ids := make([]int64, 0, len(values)/cols)
	err := inRowChunks(len(values)/cols, func(from, n int) error {
		got, err := queryAll(ctx, tx, scanID, multiRow(head, tuple, n, ` RETURNING id`), values[from*cols:(from+n)*cols]...)
		if err != nil {
			return err
		}
		if len(got) != n {
			return fmt.Errorf("stored %d of %d rows", len(got), n)
		}
		slices.Sort(got)
		ids = append(ids, got...)
		return nil
	})
	return ids, err
}
