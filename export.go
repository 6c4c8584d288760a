package switchboard

import (
	"context"
	"time"
)

// ExportStatus is the status of a message store export, spelled as
// RingCentral's MessageStoreReport spells it.
type ExportStatus string

const (
	ExportAccepted   ExportStatus = "Accepted"
	ExportInProgress ExportStatus = "InProgress"
	ExportCompleted  ExportStatus = "Completed"
	ExportFailed     ExportStatus = "Failed"
)

// MaxActiveExports is RingCentral's limit of simultaneous message store
// report tasks per account.
const MaxActiveExports = 2

// MaxExportAttempts bounds how often a task is started: a task whose
// worker keeps dying (or failing) is Failed after this many claims.
const MaxExportAttempts = 3

// CodeExportLimit is the error code of a create past MaxActiveExports.
const CodeExportLimit = "CMN-301"

// ExportTask is a message store export (RingCentral's message store
// report): the messages of an account (or of one extension of it) created
// in [DateFrom, DateTo), of Types (all when empty), written by a worker
// into one zip archive of message records and attachments.
type ExportTask struct {
	ID          string
	AccountID   int64
	ExtensionID int64 // who asked for it
	// Extensions, when set, limits the export to these mailboxes of the
	// account; empty: every mailbox.
	Extensions       []int64
	Status           ExportStatus
	DateFrom, DateTo time.Time
	Types            []MessageType
	Created          time.Time
	Started          time.Time
	Finished         time.Time
	Attempts         int
	Size             int64  // bytes of the archive, once Completed
	Error            string // why it Failed
}

// ExportStore keeps export tasks and their archives. A task is done by one
// worker at a time under a lease; a worker that dies leaves the lease to
// run out, and the next claim starts the archive again. Archives are kept
// in the database in chunks, so every node serves them and no step holds
// more than one chunk in memory.
type ExportStore interface {
	// CreateExport stores a new Accepted task (ID and times set by the
	// caller); past MaxActiveExports unfinished tasks of the account it
	// returns an *Error (CodeExportLimit).
	CreateExport(ctx context.Context, t *ExportTask) error
	// Export returns a task of the account.
	Export(ctx context.Context, accountID int64, id string) (*ExportTask, error)
	// ClaimExport leases the oldest unfinished task whose lease has run
	// out to owner, removes what an earlier attempt wrote, and returns it
	// InProgress; ErrNotFound when none is due. A task claimed
	// MaxExportAttempts times already is marked Failed instead.
	ClaimExport(ctx context.Context, owner string, lease time.Duration) (*ExportTask, error)
	// WriteExportChunk stores chunk seq (from 0) of the archive and
	// extends the lease; ErrLeaseLost when owner no longer holds it.
	WriteExportChunk(ctx context.Context, id, owner string, seq int, data []byte, lease time.Duration) error
	// FinishExport ends a task Completed (with the archive's size) or
	// Failed (with the reason); ErrLeaseLost when owner no longer holds it.
	FinishExport(ctx context.Context, id, owner string, status ExportStatus, size int64, reason string) error
	// ExportChunk returns chunk seq of a Completed task's archive;
	// ErrNotFound past the last one.
	ExportChunk(ctx context.Context, accountID int64, id string, seq int) ([]byte, error)
}
