package switchboard

import (
	"context"
	"time"
)

// FaxRender is an outbound fax's rendering job: its documents are stored
// with the message (SourceDocument) and rendered in the background, off
// the request. It is written with the fax in one transaction and claimed
// by workers with a lease, like a transcription, so a restart resumes it
// and two nodes never render one fax at once. Until it ends the fax's
// deliveries are held: no recipient is sent a fax that is not rendered.
type FaxRender struct {
	MessageID   int64
	AccountID   int64
	ExtensionID int64  // the sender
	Options     []byte // the renderer's settings, as the fax package encodes them
	Attempts    int    // claims so far, this one included
}

// FaxRenderStore keeps outbound faxes' rendering jobs. The job is created
// by CreateOutbound (OutboundCreate.Render).
type FaxRenderStore interface {
	// ClaimFaxRenders leases up to limit jobs to owner until now+lease:
	// new ones, and ones whose lease has expired (their worker died).
	// Senders take turns: jobs of senders with fewer renders in progress
	// come first, oldest first among equals, and a sender with perSender
	// renders in progress gets no more, so one sender's large documents
	// cannot hold every worker while another's fax waits. (The turns are
	// those at the start of the claim: workers claim one job at a time.)
	ClaimFaxRenders(ctx context.Context, owner string, lease time.Duration, limit, perSender int) ([]*FaxRender, error)
	// CompleteFaxRender ends a job held by owner: rendered is added to the
	// fax as its RenderedDocument, faxPageCount set, and the deliveries
	// made due (at the fax's sendTime, or now); a change is logged. A job
	// not held by owner any more is ErrLeaseLost and changes nothing.
	CompleteFaxRender(ctx context.Context, owner string, messageID int64, rendered *Attachment, pages int) error
	// FailFaxRender ends a job held by owner whose documents cannot be
	// rendered: every delivery fails with errorCode (RingCentral's
	// faxErrorCode RenderingFailed or TooManyPages), so the fax becomes
	// SendingFailed. ErrLeaseLost as for CompleteFaxRender.
	FailFaxRender(ctx context.Context, owner string, messageID int64, errorCode string) error
}
