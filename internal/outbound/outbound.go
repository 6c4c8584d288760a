// Package outbound owns sending: the mirror of package inbound. Send takes
// a decoded request from any way in (the REST API, and later the web UI,
// SMTP fax-out, the CLI and A2P batches) and decides, once, everything the
// outbox needs: that the sender is the caller's own extension and owns the
// number it sends from with the right feature, the recipients (one rule,
// switchboard.NormalizeRecipients), where each one goes (a mailbox of this
// server, with a department fanned out to its members, or the carrier),
// the fax's rendering and its schedule, and which number a resend uses. It
// hands the store one switchboard.OutboundCreate, stored durably in one
// transaction, which also completes the deliveries to mailboxes of this
// server that are due (OutboundCreate.CompletesOnAccept), and wakes the
// delivery worker for the others, which it carries out without looking
// anything up again.
package outbound

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/config"
	"github.com/switchboardhq/switchboard/internal/dircache"
)

// Store is what sending needs of the store: the directory lookups of
// routing, the original of a resend, and the outbox.
type Store interface {
	Extension(ctx context.Context, accountID, id int64) (*switchboard.Extension, error)
	ExtensionByNumber(ctx context.Context, accountID int64, number string) (*switchboard.Extension, error)
	PhoneNumbers(ctx context.Context, accountID, extensionID int64) ([]*switchboard.PhoneNumber, error)
	PhoneNumberByNumber(ctx context.Context, number string) (*switchboard.PhoneNumber, error)
	DirectoryEpoch(ctx context.Context) (int64, error)
	DepartmentMembers(ctx context.Context, accountID, departmentID int64) ([]*switchboard.Extension, error)
	Message(ctx context.Context, accountID, extensionID, id int64) (*switchboard.Message, error)
	Attachment(ctx context.Context, accountID, extensionID, messageID, attachmentID int64) (*switchboard.Attachment, error)
	CreateOutbound(ctx context.Context, c switchboard.OutboundCreate) (*switchboard.Message, error)
}

// Service sends messages.
type Service struct {
	store  Store
	dir    *dircache.Cache // the directory lookups of routing, one read per send
	clock  switchboard.Clock
	limits config.SendLimits
	wake   func()
}

// New returns the service. wake (optional) is called after a message is
// queued, so the workers (delivery, fax rendering) start at once instead of
// at their next poll.
func New(store Store, clock switchboard.Clock, limits config.SendLimits, wake func()) *Service {
	if wake == nil {
		wake = func() {}
	}
	return &Service{store: store, dir: dircache.New(store, config.DirectoryCacheEntries), clock: clock, limits: limits, wake: wake}
}

// Limits are the limits the service applies (the API bounds its request
// bodies with them).
func (s *Service) Limits() config.SendLimits { return s.limits }

// File is an uploaded file: an MMS attachment or a fax document.
type File struct {
	FileName, ContentType string
	Data                  []byte
}

// Recipient names one recipient: a phone number (SMS, MMS, fax, with an
// optional name for the fax cover page) or, for Pager, an extension by
// number or id (both must then agree).
type Recipient struct {
	PhoneNumber     string
	Name            string
	ExtensionNumber string
	ExtensionID     string
}

// Request is one message to send from the mailbox (AccountID, ExtensionID)
// as the API path names it.
type Request struct {
	AccountID, ExtensionID int64
	// Type is SMS (an MMS when MMS is set or Files are given), Pager or Fax.
	Type switchboard.MessageType
	MMS  bool
	// From is the sender's number (SMS, MMS); for Pager, FromExtension
	// may name the sender, which must be the caller.
	From          string
	FromExtension Recipient
	To            []Recipient
	Text          string
	Files         []File
	// ReplyOn (Pager) replies to the parties of an earlier pager message.
	ReplyOn int64
	Fax     FaxOptions
}

// FaxOptions are the settings of a fax.
type FaxOptions struct {
	Resolution    string // High (default) or Low
	CoverIndex    *int   // nil: no cover page
	CoverPageText string
	// SendAt schedules the fax; zero or past: now.
	SendAt time.Time
	// ResendOf, when set, resends the failed outbound fax of that id
	// (originalMessageId) with its documents and settings: only To (else
	// the original's) and SendAt come from the request.
	ResendOf int64
}

// Send checks and queues one message and returns the sender's copy as
// accepted (Queued). A refusal is a *switchboard.Error and stores nothing.
func (s *Service) Send(ctx context.Context, p *switchboard.Principal, req Request) (*switchboard.Message, error) {
	view, err := s.dir.View(ctx)
	if err != nil {
		return nil, err
	}
	return s.looking(view).send(ctx, p, req)
}

// looking returns the service with its directory lookups answered by
// view: the directory as of the send's start, from memory where it can.
func (s *Service) looking(view *dircache.View) *Service {
	c := *s
	c.store = cachedDirectory{Store: s.store, view: view}
	return &c
}

// cachedDirectory is the store with the lookups dircache keeps.
type cachedDirectory struct {
	Store
	view *dircache.View
}

func (d cachedDirectory) Extension(ctx context.Context, accountID, id int64) (*switchboard.Extension, error) {
	return d.view.Extension(ctx, accountID, id)
}

func (d cachedDirectory) PhoneNumbers(ctx context.Context, accountID, extensionID int64) ([]*switchboard.PhoneNumber, error) {
	return d.view.PhoneNumbers(ctx, accountID, extensionID)
}

func (d cachedDirectory) PhoneNumberByNumber(ctx context.Context, number string) (*switchboard.PhoneNumber, error) {
	return d.view.PhoneNumberByNumber(ctx, number)
}

func (s *Service) send(ctx context.Context, p *switchboard.Principal, req Request) (*switchboard.Message, error) {
	sender, err := s.sender(ctx, p, req)
	if err != nil {
		return nil, err
	}
	var c switchboard.OutboundCreate
	switch req.Type {
	case switchboard.TypeSMS:
		c, err = s.text(ctx, sender, req)
	case switchboard.TypePager:
		c, err = s.pager(ctx, sender, req)
	case switchboard.TypeFax:
		if req.Fax.ResendOf != 0 {
			c, err = s.resendFax(ctx, sender, req)
		} else {
			c, err = s.fax(ctx, sender, req)
		}
	default:
		err = switchboard.InvalidParam("type", string(req.Type), "Messages sent are SMS, Pager or Fax")
	}
	if err != nil {
		return nil, err
	}
	m, err := s.store.CreateOutbound(ctx, c)
	if err != nil {
		return nil, err
	}
	if c.LeavesDeliveries(s.clock.Now()) {
		s.wake()
	}
	return m, nil
}

// MaySendFrom reports (nil, or MSG-331) whether p may send from the
// mailbox (accountID, extensionID): only from its own, whoever else may
// read it. A front end asks before it reads a request's body, so a caller
// without the right learns only that.
func MaySendFrom(p *switchboard.Principal, accountID, extensionID int64) error {
	if p == nil || p.AccountID != accountID || p.ExtensionID != extensionID {
		return switchboard.Errorf("MSG-331", "Messages are sent from the logged-in extension only")
	}
	return nil
}

// sender is the mailbox a message is sent from: only the caller's own.
func (s *Service) sender(ctx context.Context, p *switchboard.Principal, req Request) (*switchboard.Extension, error) {
	if err := MaySendFrom(p, req.AccountID, req.ExtensionID); err != nil {
		return nil, err
	}
	return s.store.Extension(ctx, req.AccountID, req.ExtensionID)
}

func validateText(text string, required bool, limit int) error {
	if required && strings.TrimSpace(text) == "" {
		return switchboard.InvalidParam("text", "", "Parameter [text] is required")
	}
	if n := switchboard.UTF16Len(text); n > limit {
		return switchboard.InvalidParam("text", "", "Parameter [text] is %d characters long; the limit is %d (UTF-16 code units)", n, limit)
	}
	return nil
}

// text is an SMS or MMS.
func (s *Service) text(ctx context.Context, ext *switchboard.Extension, req Request) (switchboard.OutboundCreate, error) {
	var c switchboard.OutboundCreate
	mms := req.MMS || len(req.Files) > 0
	if err := validateText(req.Text, !mms, switchboard.MaxSMSText); err != nil {
		return c, err
	}
	from, err := s.fromNumber(ctx, ext, req.From, mms)
	if err != nil {
		return c, err
	}
	numbers := make([]string, len(req.To))
	for i, t := range req.To {
		numbers[i] = t.PhoneNumber
	}
	to, err := switchboard.NormalizeRecipients(switchboard.TypeSMS, numbers, s.limits.MaxRecipients)
	if err != nil {
		return c, err
	}
	var media []*switchboard.Attachment
	if mms {
		if media, err = s.mmsAttachments(req.Files); err != nil {
			return c, err
		}
	}
	targets, err := s.route(ctx, ext, to)
	if err != nil {
		return c, err
	}
	return switchboard.OutboundSMS(ext.AccountID, ext.ID, switchboard.Party{PhoneNumber: from, Name: ext.Name}, targets, req.Text, media), nil
}

// fromNumber checks that the sender owns the number with the feature the
// message needs.
func (s *Service) fromNumber(ctx context.Context, ext *switchboard.Extension, raw string, mms bool) (string, error) {
	if raw == "" {
		return "", switchboard.InvalidParam("from.phoneNumber", "", "Parameter [from.phoneNumber] is required")
	}
	n, err := switchboard.NormalizeE164(raw)
	if err != nil {
		return "", switchboard.InvalidParam("from.phoneNumber", raw, "Parameter [from.phoneNumber]: %v", err)
	}
	nums, err := s.store.PhoneNumbers(ctx, ext.AccountID, ext.ID)
	if err != nil {
		return "", err
	}
	feature, kind := switchboard.FeatureSmsSender, "SMS"
	if mms {
		feature, kind = switchboard.FeatureMmsSender, "MMS"
	}
	for _, pn := range nums {
		if pn.PhoneNumber != n {
			continue
		}
		if !pn.HasFeature(feature) || pn.Status == switchboard.StatusDisabled {
			return "", &switchboard.Error{Code: "MSG-242",
				Message: fmt.Sprintf("Sending %s from %s is not available: the number lacks the %s feature", kind, n, feature),
				Params:  []switchboard.ParamError{{Code: "MSG-242", Name: "from.phoneNumber", Value: n, Message: "number lacks feature " + feature}}}
		}
		return n, nil
	}
	return "", &switchboard.Error{Code: "MSG-304",
		Message: fmt.Sprintf("Phone number %s doesn't belong to extension %s", n, ext.ExtensionNumber),
		Params:  []switchboard.ParamError{{Code: "MSG-304", Name: "from.phoneNumber", Value: n, Message: "number not owned by the extension"}}}
}

func (s *Service) mmsAttachments(files []File) ([]*switchboard.Attachment, error) {
	if len(files) > s.limits.MaxMMSFiles {
		return nil, switchboard.InvalidParam("attachments", "", "At most %d attachments per message", s.limits.MaxMMSFiles)
	}
	total := 0
	var out []*switchboard.Attachment
	for _, f := range files {
		if len(f.Data) == 0 {
			return nil, switchboard.EmptyFile("attachments", f.FileName)
		}
		if !switchboard.MMSContentType(f.ContentType) {
			return nil, switchboard.UnsupportedMedia("attachments", f.ContentType,
				fmt.Sprintf("Attachment %q has an unsupported media type %q", f.FileName, f.ContentType))
		}
		total += len(f.Data)
		if total > s.limits.MaxMMSBytes {
			return nil, switchboard.MMSTooLarge(s.limits.MaxMMSBytes)
		}
		out = append(out, &switchboard.Attachment{Type: switchboard.AttachmentMms, ContentType: f.ContentType, FileName: f.FileName, Content: f.Data})
	}
	if len(out) == 0 {
		return nil, switchboard.InvalidParam("attachments", "", "An MMS needs at least one attachment")
	}
	return out, nil
}

// route decides where each phone number goes: to the mailbox of the
// enabled extension of this server that owns it (none when that is the
// sender's own: it keeps only its outbound copy), else to the carrier.
func (s *Service) route(ctx context.Context, sender *switchboard.Extension, numbers []string) ([]switchboard.DeliveryTarget, error) {
	out := make([]switchboard.DeliveryTarget, len(numbers))
	for i, n := range numbers {
		var err error
		if out[i], err = switchboard.Route(ctx, s.store, n, sender.ID); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// pager is a company pager message: internal text to extensions of the
// sender's account (a Department reaches its members), or a reply to the
// parties of an earlier pager message (ReplyOn).
func (s *Service) pager(ctx context.Context, ext *switchboard.Extension, req Request) (switchboard.OutboundCreate, error) {
	var c switchboard.OutboundCreate
	if err := validateText(req.Text, true, switchboard.MaxPagerText); err != nil {
		return c, err
	}
	if n := req.FromExtension.ExtensionNumber; n != "" && n != ext.ExtensionNumber {
		return c, switchboard.InvalidParam("from.extensionNumber", n, "The sender is the logged-in extension %s", ext.ExtensionNumber)
	}
	if id := req.FromExtension.ExtensionID; id != "" && id != strconv.FormatInt(ext.ID, 10) {
		return c, switchboard.InvalidParam("from.extensionId", id, "The sender is the logged-in extension (id %d)", ext.ID)
	}
	recipients, err := s.pagerRecipients(ctx, ext, req)
	if err != nil {
		return c, err
	}
	c.Message = switchboard.MessageCreate{
		AccountID: ext.AccountID, ExtensionID: ext.ID, Type: switchboard.TypePager, Direction: switchboard.Outbound,
		MessageStatus: switchboard.StatusQueued, ReadStatus: switchboard.Read, Subject: req.Text,
		From:        switchboard.Party{ExtensionNumber: ext.ExtensionNumber, ExtensionID: strconv.FormatInt(ext.ID, 10), Name: ext.Name},
		Attachments: []*switchboard.Attachment{{Type: switchboard.AttachmentText, ContentType: "text/plain", Content: []byte(req.Text)}},
	}
	key := []string{"x" + ext.ExtensionNumber}
	for _, to := range recipients {
		n := to.ExtensionNumber
		c.Message.To = append(c.Message.To, switchboard.Party{ExtensionNumber: n, ExtensionID: strconv.FormatInt(to.ID, 10), Name: to.Name, MessageStatus: switchboard.StatusQueued})
		t := switchboard.DeliveryTarget{Recipient: n, Internal: true}
		members := []*switchboard.Extension{to}
		if to.Type == switchboard.ExtensionTypeDepartment {
			c.Message.PgToDepartment = true
			if members, err = s.store.DepartmentMembers(ctx, ext.AccountID, to.ID); err != nil {
				return c, err
			}
		}
		for _, m := range members {
			if m.ID != ext.ID { // a sender in its own department keeps only its outbound copy
				t.Mailboxes = append(t.Mailboxes, switchboard.Mailbox{AccountID: m.AccountID, ExtensionID: m.ID})
			}
		}
		c.Recipients = append(c.Recipients, t)
		key = append(key, "x"+n)
	}
	// Pager parties have no phone numbers: the conversation is derived from
	// the account and the extension numbers, the same in every copy.
	c.Message.ConversationID = switchboard.ConversationIDFor(append(key, "account:"+strconv.FormatInt(ext.AccountID, 10)))
	return c, nil
}

// pagerRecipients resolves the recipients, named by extension number or
// id (or both, which must agree), within the sender's account.
func (s *Service) pagerRecipients(ctx context.Context, ext *switchboard.Extension, req Request) ([]*switchboard.Extension, error) {
	var numbers []string
	if req.ReplyOn != 0 {
		orig, err := s.store.Message(ctx, ext.AccountID, ext.ID, req.ReplyOn)
		if err != nil || orig.Type != switchboard.TypePager {
			return nil, switchboard.NotFound("replyOn", strconv.FormatInt(req.ReplyOn, 10))
		}
		for _, party := range append([]switchboard.Party{orig.From}, orig.To...) {
			if party.ExtensionNumber != "" && party.ExtensionNumber != ext.ExtensionNumber {
				numbers = append(numbers, party.ExtensionNumber)
			}
		}
	}
	for _, t := range req.To {
		n, err := s.pagerNumber(ctx, ext.AccountID, t)
		if err != nil {
			return nil, err
		}
		numbers = append(numbers, n)
	}
	if len(numbers) == 0 {
		return nil, switchboard.InvalidParam("to", "", "Parameter [to] (extension numbers) or [replyOn] is required")
	}
	numbers, err := switchboard.NormalizeRecipients(switchboard.TypePager, numbers, s.limits.MaxRecipients)
	if err != nil {
		return nil, err
	}
	out := make([]*switchboard.Extension, 0, len(numbers))
	for _, n := range numbers {
		to, err := s.store.ExtensionByNumber(ctx, ext.AccountID, n)
		if errors.Is(err, switchboard.ErrNotFound) {
			return nil, switchboard.InvalidParam("to.extensionNumber", n, "Extension %q is not in this account: name each recipient by extensionNumber or extensionId", n)
		}
		if err != nil {
			return nil, err
		}
		if to.Status != switchboard.StatusEnabled {
			return nil, &switchboard.Error{Code: "MSG-324", Message: fmt.Sprintf("Extension %s is disabled", n),
				Params: []switchboard.ParamError{{Code: "MSG-324", Name: "to.extensionNumber", Value: n, Message: "recipient disabled"}}}
		}
		out = append(out, to)
	}
	return out, nil
}

// pagerNumber is the extension number of one recipient entry.
func (s *Service) pagerNumber(ctx context.Context, accountID int64, t Recipient) (string, error) {
	if t.ExtensionID == "" {
		if t.ExtensionNumber == "" {
			return "", switchboard.InvalidParam("to.extensionNumber", "", "Extension %q is not in this account: name each recipient by extensionNumber or extensionId", "")
		}
		return t.ExtensionNumber, nil
	}
	id, err := strconv.ParseInt(t.ExtensionID, 10, 64)
	if err != nil {
		return "", switchboard.InvalidParam("to.extensionId", t.ExtensionID, "Extension id %q is not a number", t.ExtensionID)
	}
	x, err := s.store.Extension(ctx, accountID, id)
	if errors.Is(err, switchboard.ErrNotFound) {
		return "", switchboard.InvalidParam("to.extensionId", t.ExtensionID, "Extension id %s is not in this account", t.ExtensionID)
	}
	if err != nil {
		return "", err
	}
	if t.ExtensionNumber != "" && t.ExtensionNumber != x.ExtensionNumber {
		return "", switchboard.InvalidParam("to.extensionNumber", t.ExtensionNumber, "Extension id %s has number %s, not %s", t.ExtensionID, x.ExtensionNumber, t.ExtensionNumber)
	}
	return x.ExtensionNumber, nil
}
