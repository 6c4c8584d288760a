package outbound

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/fax"
)

// faxJob is a validated fax envelope.
type faxJob struct {
	to         []switchboard.Party // Queued, with the names given
	numbers    []string
	resolution fax.Resolution
	coverIndex int
	coverText  string
}

// fax is a new fax: its documents are checked (fax.Check) now, so an
// unsupported or empty one is answered at once, and stored with a render
// job. Rendering takes from milliseconds to minutes, so it runs in the
// background (internal/faxrender), which holds the deliveries until it has
// rendered the documents, or fails the fax as RingCentral does
// (RenderingFailed, TooManyPages).
func (s *Service) fax(ctx context.Context, ext *switchboard.Extension, req Request) (switchboard.OutboundCreate, error) {
	var c switchboard.OutboundCreate
	job, err := s.faxJob(req.To, req.Fax)
	if err != nil {
		return c, err
	}
	docs := make([]fax.Document, len(req.Files))
	for i, f := range req.Files {
		docs[i] = fax.Document{FileName: f.FileName, ContentType: f.ContentType, Data: f.Data}
	}
	types, err := fax.Check(docs)
	if err != nil {
		return c, err
	}
	from, err := s.faxFromNumber(ctx, ext, "")
	if err != nil {
		return c, err
	}
	render, err := fax.EncodeJob(s.renderOptions(job, ext.Name, from))
	if err != nil {
		return c, err
	}
	atts := make([]*switchboard.Attachment, 0, len(docs))
	for i, d := range docs {
		atts = append(atts, &switchboard.Attachment{Type: switchboard.AttachmentSourceDocument, ContentType: types[i], FileName: d.FileName, Content: d.Data})
	}
	c = s.faxCreate(ext, from, ext.Name, job, 0, atts, req.Fax)
	c.Render = render
	c.Recipients, err = s.route(ctx, ext, job.numbers)
	return c, err
}

// renderOptions are the renderer's settings of a fax: its resolution and
// cover page.
func (s *Service) renderOptions(job *faxJob, senderName, from string) fax.Options {
	opts := fax.Options{Resolution: job.resolution}
	if job.coverIndex != 0 {
		opts.Cover = &fax.Cover{Index: job.coverIndex, Text: job.coverText, From: partyLabel(senderName, from),
			To: coverRecipients(job.to), Date: s.clock.Now()}
	}
	return opts
}

// resendFax resends (or forwards) a failed outbound fax of the sender's
// mailbox as a new message: the original's documents, rendered fax and
// settings, to the given recipients or else the original ones.
func (s *Service) resendFax(ctx context.Context, ext *switchboard.Extension, req Request) (switchboard.OutboundCreate, error) {
	var c switchboard.OutboundCreate
	id := req.Fax.ResendOf
	raw := strconv.FormatInt(id, 10)
	orig, err := s.store.Message(ctx, ext.AccountID, ext.ID, id)
	if errors.Is(err, switchboard.ErrNotFound) {
		return c, switchboard.NotFound("originalMessageId", raw)
	}
	if err != nil {
		return c, err
	}
	if orig.Type != switchboard.TypeFax || orig.Direction != switchboard.Outbound || orig.MessageStatus != switchboard.StatusSendingFailed {
		return c, &switchboard.Error{Code: "MSG-343",
			Message: fmt.Sprintf("Message %d cannot be resent: only an outbound fax whose sending failed can be (it is an %s %s, %s)", id, orig.Direction, orig.Type, orig.MessageStatus),
			Params:  []switchboard.ParamError{{Code: "MSG-343", Name: "originalMessageId", Value: raw, Message: "resend not allowed in the current state"}}}
	}
	// Validated as a new fax with the original's settings.
	to := req.To
	if len(to) == 0 {
		for _, t := range orig.To {
			to = append(to, Recipient{PhoneNumber: t.PhoneNumber, Name: t.Name})
		}
	}
	cover := orig.CoverIndex
	opts := FaxOptions{Resolution: orig.FaxResolution, CoverIndex: &cover, CoverPageText: orig.CoverPageText, SendAt: req.Fax.SendAt}
	job, err := s.faxJob(to, opts)
	if err != nil {
		return c, err
	}
	// From the original's number while the caller still holds it, else
	// from its current one: never from a number it has lost.
	from, err := s.faxFromNumber(ctx, ext, orig.From.PhoneNumber)
	if err != nil {
		return c, err
	}
	atts := make([]*switchboard.Attachment, 0, len(orig.Attachments))
	rendered := false
	for _, a := range orig.Attachments {
		rendered = rendered || a.Type == switchboard.AttachmentRenderedDocument
		full, err := s.store.Attachment(ctx, orig.AccountID, orig.ExtensionID, orig.ID, a.ID)
		if err != nil {
			return c, err
		}
		cp := *full
		cp.ID, cp.MessageID = 0, 0
		atts = append(atts, &cp)
	}
	c = s.faxCreate(ext, from, orig.From.Name, job, orig.FaxPageCount, atts, opts)
	if !rendered {
		// The original failed to render: render again (the limits may have
		// changed), so it fails or is sent the same way.
		if c.Render, err = fax.EncodeJob(s.renderOptions(job, orig.From.Name, from)); err != nil {
			return c, err
		}
	}
	c.Recipients, err = s.route(ctx, ext, job.numbers)
	return c, err
}

func (s *Service) faxCreate(ext *switchboard.Extension, from, name string, job *faxJob, pages int, atts []*switchboard.Attachment, opts FaxOptions) switchboard.OutboundCreate {
	c := switchboard.OutboundCreate{Message: switchboard.MessageCreate{
		AccountID: ext.AccountID, ExtensionID: ext.ID, Type: switchboard.TypeFax, Direction: switchboard.Outbound,
		MessageStatus: switchboard.StatusQueued, ReadStatus: switchboard.Read,
		From: switchboard.Party{PhoneNumber: from, Name: name}, To: job.to, Attachments: atts,
		TypeDetails: switchboard.TypeDetails{FaxPageCount: pages, FaxResolution: job.resolution.String(),
			CoverIndex: job.coverIndex, CoverPageText: job.coverText},
	}}
	// A future sendTime makes the deliveries due then, by the injected clock.
	if opts.SendAt.After(s.clock.Now()) {
		c.SendAt = opts.SendAt
	}
	return c
}

// faxJob checks the envelope of a fax.
func (s *Service) faxJob(to []Recipient, opts FaxOptions) (*faxJob, error) {
	job := &faxJob{}
	raw := make([]string, len(to))
	for i, t := range to {
		raw[i] = t.PhoneNumber
	}
	numbers, err := switchboard.NormalizeRecipients(switchboard.TypeFax, raw, s.limits.MaxRecipients)
	if err != nil {
		return nil, err
	}
	job.numbers = numbers
	names := map[string]string{}
	for _, t := range to {
		if n, err := switchboard.NormalizeE164(t.PhoneNumber); err == nil {
			if _, ok := names[n]; !ok {
				names[n] = t.Name // the first spelling's name, as the first one is kept
			}
		}
	}
	for _, n := range numbers {
		job.to = append(job.to, switchboard.Party{PhoneNumber: n, Name: names[n], MessageStatus: switchboard.StatusQueued})
	}
	switch strings.ToLower(opts.Resolution) {
	case "", "high":
		job.resolution = fax.High
	case "low":
		job.resolution = fax.Low
	default:
		return nil, switchboard.InvalidParam("faxResolution", opts.Resolution, "Parameter [faxResolution] must be High or Low")
	}
	if opts.CoverIndex != nil {
		job.coverIndex = *opts.CoverIndex
		if !validCoverIndex(job.coverIndex) {
			return nil, switchboard.InvalidParam("coverIndex", strconv.Itoa(job.coverIndex),
				"Parameter [coverIndex] value %d is not a cover page; see GET /restapi/v1.0/dictionary/fax-cover-page", job.coverIndex)
		}
	}
	if n := switchboard.UTF16Len(opts.CoverPageText); n > switchboard.MaxCoverText {
		return nil, switchboard.InvalidParam("coverPageText", "", "Parameter [coverPageText] is %d characters long; the limit is %d (UTF-16 code units)", n, switchboard.MaxCoverText)
	}
	job.coverText = opts.CoverPageText
	return job, nil
}

func validCoverIndex(i int) bool {
	for _, c := range fax.CoverTemplates() {
		if c.Index == i {
			return true
		}
	}
	return false
}

// faxFromNumber is the number a fax goes out from: prefer, when it is an
// enabled number of the extension, else the extension's first enabled one.
func (s *Service) faxFromNumber(ctx context.Context, ext *switchboard.Extension, prefer string) (string, error) {
	nums, err := s.store.PhoneNumbers(ctx, ext.AccountID, ext.ID)
	if err != nil {
		return "", err
	}
	first := ""
	for _, pn := range nums {
		if pn.Status == switchboard.StatusDisabled {
			continue
		}
		if pn.PhoneNumber == prefer {
			return prefer, nil
		}
		if first == "" {
			first = pn.PhoneNumber
		}
	}
	if first != "" {
		return first, nil
	}
	return "", switchboard.Errorf("MSG-245", "Cannot find a phone number of extension %s to send the fax from", ext.ExtensionNumber)
}

func partyLabel(name, number string) string {
	if name == "" {
		return number
	}
	return name + " (" + number + ")"
}

func coverRecipients(to []switchboard.Party) string {
	labels := make([]string, len(to))
	for i, t := range to {
		labels[i] = partyLabel(t.Name, t.PhoneNumber)
	}
	return strings.Join(labels, ", ")
}
