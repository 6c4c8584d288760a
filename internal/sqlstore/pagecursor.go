package sqlstore

import (
	"context"
	"fmt"
	"math"
	"strings"
	"sync"

	"github.com/switchboardhq/switchboard"
)

// Deep pages by keyset. RingCentral's list is paged by number (page=N), so
// page N is an OFFSET, and an offset walks the index over every skipped
// entry: page 2,000 of a 200,000-message mailbox costs 2,000 times page 1.
// But clients reach page N through navigation.nextPage, right after page
// N-1. So the store remembers where each page it served ended (the last
// message's creation time and id, a keyset position) and starts the page
// that begins there from that position, one index range read however deep.
//
// A page is the same whichever way it was computed. A position is used
// only while the mailbox has not changed since it was recorded (its newest
// change-log seq is the same, read in the page's own snapshot: every
// insert, update, delete and removal of a message writes a change row), and
// only if no message lies between the dateTo it was recorded under and the
// dateTo asked now (the default dateTo is "now", a new one per request).
// Otherwise, and for a page whose predecessor was not served recently (a
// jump), the page is an OFFSET as before. So under concurrent inserts or
// deletes a page still means what RingCentral's page=N means: the N-th
// page of the mailbox as it is when the page is read. A new message can
// thus shift the next page by one (a message seen twice, or one missed, by
// a client walking meanwhile), as with RingCentral.
//
// dateFrom is not part of a position's key: the rows before a position are
// all newer than it, so a dateFrom at or below the position counts them
// the same, and one above it leaves both forms empty.
//
// The positions are per process: another node, or a restart, only misses
// them and answers by OFFSET.

// maxPageCursors bounds the remembered positions (about 150 bytes each).
const maxPageCursors = 4096

type pageKey struct {
	filter string // the filter without dates, paging and the mailbox's account
	offset int    // the position is before the message at this offset
}

type pagePos struct {
	created, id int64 // the last message of the page served
	seq         int64 // the mailbox's newest change then
	dateTo      int64 // the filter's DateTo then (ms; 0: open)
}

type pageCursors struct {
	mu sync.Mutex
	m  map[pageKey]pagePos
}

func (c *pageCursors) get(k pageKey) (pagePos, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	p, ok := c.m[k]
	return p, ok
}

func (c *pageCursors) put(k pageKey, p pagePos) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[pageKey]pagePos{}
	}
	if _, ok := c.m[k]; !ok && len(c.m) >= maxPageCursors {
		for old := range c.m { // any one: Go's map order is random
			delete(c.m, old)
			break
		}
	}
	c.m[k] = p
}

// cursorFilter is the part of f a position depends on.
func cursorFilter(f switchboard.MessageFilter) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d|%d|%v|%v|%v|%v|%d|%s|%t", f.ExtensionID, f.AccountID, f.Availability, f.Direction,
		f.Types, f.ReadStatus, f.ConversationID, normalizeNumber(f.PhoneNumber), f.DistinctConversations)
	return b.String()
}

// mailboxSeqSQL reads the mailbox's newest change and whether a message
// was created in [$2, $3) (an empty range when the dateTo is the same).
const mailboxSeqSQL = `SELECT COALESCE((SELECT MAX(seq) FROM changes WHERE extension_id = $1), 0),
	EXISTS (SELECT 1 FROM messages WHERE extension_id = $1 AND created_at >= $2 AND created_at < $3)`

// pageStart returns the keyset position page f starts at, if one is known
// and still valid in tx's snapshot.
func (db *DB) pageStart(ctx context.Context, tx *tx, f switchboard.MessageFilter, key string) (pos pagePos, seq int64, ok bool, err error) {
	if f.Offset <= 0 {
		return pos, 0, false, nil
	}
	pos, ok = db.pageCursors.get(pageKey{key, f.Offset})
	if !ok {
		return pos, 0, false, nil
	}
	oldTo, newTo := pos.dateTo, toMillis(f.DateTo)
	if oldTo == 0 {
		oldTo = math.MaxInt64 // open
	}
	if newTo == 0 {
		newTo = math.MaxInt64
	}
	var between bool
	if err := tx.QueryRowContext(ctx, mailboxSeqSQL, f.ExtensionID, min(oldTo, newTo), max(oldTo, newTo)).Scan(&seq, &between); err != nil {
		return pos, 0, false, err
	}
	return pos, seq, seq == pos.seq && !between, nil
}

// rememberPageEnd records where a page that has a successor ended.
func (db *DB) rememberPageEnd(ctx context.Context, tx *tx, f switchboard.MessageFilter, key string, seq int64, known bool, ms []*switchboard.Message) error {
	if len(ms) == 0 {
		return nil
	}
	if !known {
		if err := tx.QueryRowContext(ctx, mailboxSeqSQL, f.ExtensionID, 0, 0).Scan(&seq, new(bool)); err != nil {
			return err
		}
	}
	last := ms[len(ms)-1]
	db.pageCursors.put(pageKey{key, max(f.Offset, 0) + len(ms)},
		pagePos{created: toMillis(last.Created), id: last.ID, seq: seq, dateTo: toMillis(f.DateTo)})
	return nil
}
