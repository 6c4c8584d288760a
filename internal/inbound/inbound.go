// Package inbound stores messages that arrive from outside Switchboard:
// SMS and MMS and faxes handed over by a carrier, voicemail and received
// faxes handed over by a phone system (through the admin API or the SMTP
// listener). Service is the one switchboard.InboundReceiver they all call,
// so every way in applies the same rules:
//
//   - the recipient is a number owned by an enabled extension (or, for
//     voicemail and fax, an extension number); anything else is refused
//     with 404 CMN-102 naming "to", logged, and nothing is stored;
//   - files are checked by their content, never by the declared type:
//     MMS media against the types carriers carry, fax documents with
//     fax.Sniff and rendered into one fax PDF (as outbound faxes are),
//     voicemail audio with audio.Measure, which also gives its duration;
//   - each message is stored in one transaction (a refused one leaves no
//     trace) as Inbound, Received, Unread; an SMS lands in the
//     conversation of its two numbers, the one the mailbox's replies use.
package inbound

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"path"
	"strings"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/audio"
	"github.com/switchboardhq/switchboard/internal/config"
	"github.com/switchboardhq/switchboard/internal/dircache"
	"github.com/switchboardhq/switchboard/internal/fax"
)

// Store is what the service reads and writes.
type Store interface {
	dircache.Store // the recipient's number and extension, through the directory cache
	ExtensionByNumber(ctx context.Context, accountID int64, number string) (*switchboard.Extension, error)
	Accounts(ctx context.Context) ([]*switchboard.Account, error)
	CreateMessage(ctx context.Context, c switchboard.MessageCreate) (*switchboard.Message, error)
	CreateVoiceMail(ctx context.Context, c switchboard.MessageCreate, transcribe bool) (*switchboard.Message, error)
	// A2P keywords (keywords.go).
	SetOptOuts(ctx context.Context, accountID int64, from string, to []string, status switchboard.OptOutStatus, source switchboard.OptOutSource) error
	CreateOutbound(ctx context.Context, c switchboard.OutboundCreate) (*switchboard.Message, error)
}

// Config bounds what the service takes.
type Config struct {
	// MaxAudioBytes bounds one voicemail recording (default 20 MB: about
	// 20 minutes of 16-bit 8 kHz WAV).
	MaxAudioBytes int64
	// MMS bounds the media of one MMS, as for sending (MaxMMSFiles,
	// MaxMMSBytes); zero: config.DefaultSendLimits.
	MMS config.SendLimits
	// Transcribe is set when a transcriber is configured: new voicemails
	// are then InProgress with a transcription job, else NotAvailable.
	Transcribe bool
	// Wake is called after a voicemail with a transcription job is stored
	// (the transcription worker's Wake). Optional.
	Wake func()
	// WakeOutbox is called after an automatic reply to an A2P keyword is
	// queued (the delivery worker's Wake). Optional.
	WakeOutbox func()
}

// DefaultMaxAudioBytes bounds a voicemail recording unless told otherwise.
const DefaultMaxAudioBytes = 20 << 20

// Service stores inbound messages. It is safe for concurrent use.
type Service struct {
	store  Store
	dir    *dircache.Cache // the recipient lookups: the epoch's one read once warm
	logger *slog.Logger
	config Config
}

var _ switchboard.InboundReceiver = (*Service)(nil)

// New returns the service.
func New(store Store, logger *slog.Logger, cfg Config) *Service {
	if cfg.MaxAudioBytes <= 0 {
		cfg.MaxAudioBytes = DefaultMaxAudioBytes
	}
	if cfg.MMS.MaxMMSFiles <= 0 || cfg.MMS.MaxMMSBytes <= 0 {
		cfg.MMS = config.DefaultSendLimits()
	}
	return &Service{store: store, dir: dircache.New(store, config.DirectoryCacheEntries), logger: logger, config: cfg}
}

// Receive checks and stores one inbound message and returns it as stored.
func (s *Service) Receive(ctx context.Context, in switchboard.InboundMessage) (*switchboard.Message, error) {
	var from switchboard.Party
	if strings.TrimSpace(in.From) != "" {
		n, err := switchboard.NormalizeE164(in.From)
		if err != nil {
			return nil, switchboard.InvalidParam("from", in.From, "Parameter [from]: %v", err)
		}
		from.PhoneNumber = n
	} else if in.Type == switchboard.TypeSMS {
		return nil, switchboard.InvalidParam("from", "", "Parameter [from] is required: the sender's phone number")
	}
	var build func(context.Context, *switchboard.InboundMessage, *switchboard.MessageCreate) error
	switch in.Type {
	case switchboard.TypeSMS:
		build = s.sms
	case switchboard.TypeFax:
		build = s.fax
	case switchboard.TypeVoiceMail:
		build = s.voiceMail
	default:
		return nil, switchboard.InvalidParam("type", string(in.Type), "Inbound messages are SMS, Fax or VoiceMail")
	}
	ext, to, err := s.recipient(ctx, &in)
	if err != nil {
		return nil, err
	}
	c := switchboard.MessageCreate{AccountID: ext.AccountID, ExtensionID: ext.ID, Type: in.Type,
		Direction: switchboard.Inbound, MessageStatus: switchboard.StatusReceived, ReadStatus: switchboard.Unread,
		From: from, To: []switchboard.Party{to}, Created: in.Received, SourceID: strings.TrimSpace(in.SourceID)}
	if err := build(ctx, &in, &c); err != nil {
		return nil, err
	}
	// An opt-out is recorded before the message: a redelivered message
	// records it again, harmlessly, so a crash between them loses nothing.
	kw, err := s.keyword(ctx, ext, to, from, &in)
	if err != nil {
		return nil, err
	}
	var m *switchboard.Message
	if in.Type == switchboard.TypeVoiceMail {
		m, err = s.store.CreateVoiceMail(ctx, c, s.config.Transcribe)
		if err == nil && s.config.Transcribe && s.config.Wake != nil {
			s.config.Wake()
		}
	} else {
		m, err = s.store.CreateMessage(ctx, c)
	}
	if err != nil {
		return nil, err
	}
	s.logger.InfoContext(ctx, "inbound message stored", "type", m.Type, "id", m.ID,
		"account", m.AccountID, "extension", m.ExtensionID, "from", from.PhoneNumber, "to", in.To)
	if err := s.reply(ctx, ext, to, from, kw); err != nil {
		// The opt-out holds; only the courtesy reply is lost.
		s.logger.WarnContext(ctx, "could not queue the reply to an A2P keyword", "to", from.PhoneNumber, "err", err)
	}
	return m, nil
}

// recipient finds the mailbox of in.To and the party it is addressed as.
func (s *Service) recipient(ctx context.Context, in *switchboard.InboundMessage) (*switchboard.Extension, switchboard.Party, error) {
	to := strings.TrimSpace(in.To)
	if to == "" {
		return nil, switchboard.Party{}, switchboard.InvalidParam("to", "", "Parameter [to] is required")
	}
	if !strings.HasPrefix(to, "+") {
		if in.Type == switchboard.TypeSMS || !isDigits(to) || len(to) > 8 {
			return nil, switchboard.Party{}, switchboard.InvalidParam("to", to,
				"Parameter [to] must be an E.164 phone number (starting with +)%s", map[bool]string{true: "", false: " or an extension number"}[in.Type == switchboard.TypeSMS])
		}
		return s.extensionRecipient(ctx, in, to)
	}
	n, err := switchboard.NormalizeE164(to)
	if err != nil {
		return nil, switchboard.Party{}, switchboard.InvalidParam("to", to, "Parameter [to]: %v", err)
	}
	view, err := s.dir.View(ctx)
	if err != nil {
		return nil, switchboard.Party{}, err
	}
	pn, err := view.PhoneNumberByNumber(ctx, n)
	if err == nil && pn.Status == switchboard.StatusDisabled {
		err = switchboard.ErrNotFound // a disabled number takes no messages
	}
	var ext *switchboard.Extension
	if err == nil {
		ext, err = view.Extension(ctx, pn.AccountID, pn.ExtensionID)
	}
	if errors.Is(err, switchboard.ErrNotFound) {
		return nil, switchboard.Party{}, s.unknown(ctx, in, n, "no extension of this server has the number")
	}
	if err != nil {
		return nil, switchboard.Party{}, err
	}
	if ext.Status == switchboard.StatusDisabled {
		return nil, switchboard.Party{}, s.unknown(ctx, in, n, "the number's extension is disabled")
	}
	return ext, switchboard.Party{PhoneNumber: n, Name: ext.Name}, nil
}

// extensionRecipient resolves an extension number: in in.AccountID, or in
// the only account that has it.
func (s *Service) extensionRecipient(ctx context.Context, in *switchboard.InboundMessage, number string) (*switchboard.Extension, switchboard.Party, error) {
	var accounts []int64
	if in.AccountID != 0 {
		accounts = []int64{in.AccountID}
	} else {
		all, err := s.store.Accounts(ctx)
		if err != nil {
			return nil, switchboard.Party{}, err
		}
		for _, a := range all {
			accounts = append(accounts, a.ID)
		}
	}
	var found []*switchboard.Extension
	for _, id := range accounts {
		ext, err := s.store.ExtensionByNumber(ctx, id, number)
		if errors.Is(err, switchboard.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, switchboard.Party{}, err
		}
		if ext.Status != switchboard.StatusDisabled {
			found = append(found, ext)
		}
	}
	switch len(found) {
	case 0:
		return nil, switchboard.Party{}, s.unknown(ctx, in, number, "no enabled extension has the number")
	case 1:
	default:
		return nil, switchboard.Party{}, switchboard.InvalidParam("to", number,
			"Extension number %s exists in %d accounts: give accountId, or a phone number", number, len(found))
	}
	ext := found[0]
	p := switchboard.Party{ExtensionNumber: ext.ExtensionNumber, Name: ext.Name}
	nums, err := s.store.PhoneNumbers(ctx, ext.AccountID, ext.ID)
	if err != nil {
		return nil, switchboard.Party{}, err
	}
	for _, pn := range nums {
		if pn.Status != switchboard.StatusDisabled {
			p.PhoneNumber = pn.PhoneNumber
			break
		}
	}
	return ext, p, nil
}

// unknown logs a refused message and returns the error its sender gets.
func (s *Service) unknown(ctx context.Context, in *switchboard.InboundMessage, to, why string) error {
	s.logger.WarnContext(ctx, "inbound message refused: unknown recipient", "type", in.Type, "from", in.From, "to", to, "reason", why)
	msg := fmt.Sprintf("Recipient %s is unknown: %s", to, why)
	return &switchboard.Error{Code: switchboard.CodeNotFound, Message: msg,
		Params: []switchboard.ParamError{{Code: switchboard.CodeNotFound, Message: msg, Name: "to", Value: to}}}
}

func (s *Service) sms(_ context.Context, in *switchboard.InboundMessage, c *switchboard.MessageCreate) error {
	mms := len(in.Files) > 0
	if !mms && strings.TrimSpace(in.Text) == "" {
		return switchboard.InvalidParam("text", "", "Parameter [text] is required (or media, for an MMS)")
	}
	if n := switchboard.UTF16Len(in.Text); n > switchboard.MaxSMSText {
		return switchboard.InvalidParam("text", "", "Parameter [text] is %d characters long; the limit is %d (UTF-16 code units)", n, switchboard.MaxSMSText)
	}
	c.Subject = in.Text
	if in.Text != "" {
		c.Attachments = append(c.Attachments, &switchboard.Attachment{Type: switchboard.AttachmentText, ContentType: "text/plain", Content: []byte(in.Text)})
	}
	if !mms {
		c.SegmentCount = switchboard.SMSSegments(in.Text)
		return nil
	}
	if len(in.Files) > s.config.MMS.MaxMMSFiles {
		return switchboard.InvalidParam("attachments", "", "At most %d attachments per MMS", s.config.MMS.MaxMMSFiles)
	}
	total := 0
	for _, f := range in.Files {
		if len(f.Data) == 0 {
			return switchboard.EmptyFile("attachments", f.FileName)
		}
		ct := detectType(f)
		if !switchboard.MMSContentType(ct) {
			return switchboard.UnsupportedMedia("attachments", f.FileName, fmt.Sprintf("Attachment %q has a media type MMS does not carry (%s)", f.FileName, ct))
		}
		total += len(f.Data)
		if total > s.config.MMS.MaxMMSBytes {
			return switchboard.MMSTooLarge(s.config.MMS.MaxMMSBytes)
		}
		c.Attachments = append(c.Attachments, &switchboard.Attachment{Type: switchboard.AttachmentMms, ContentType: ct,
			FileName: f.FileName, Content: f.Data})
	}
	return nil
}

// detectType is a file's type by content where the content says, else the
// declared one: an MMS part declared application/octet-stream that is a
// JPEG is a JPEG, and a declared image that is HTML is not an image.
func detectType(f switchboard.InboundFile) string {
	if info, err := audio.Measure(f.Data); err == nil {
		return info.ContentType
	}
	sniffed, _, _ := mime.ParseMediaType(http.DetectContentType(f.Data))
	declared, _, _ := mime.ParseMediaType(f.ContentType)
	switch {
	case sniffed == "text/plain" && strings.HasPrefix(declared, "text/"):
		return declared // vCards are text to the sniffer
	case sniffed != "application/octet-stream":
		return sniffed
	case declared != "" && !strings.HasPrefix(declared, "text/") && !strings.HasPrefix(declared, "image/"):
		return declared // video and AMR audio, which the sniffer does not know
	}
	return sniffed
}

func (s *Service) fax(ctx context.Context, in *switchboard.InboundMessage, c *switchboard.MessageCreate) error {
	docs := make([]fax.Document, len(in.Files))
	for i, f := range in.Files {
		docs[i] = fax.Document{FileName: f.FileName, ContentType: f.ContentType, Data: f.Data}
	}
	if _, err := fax.Check(docs); err != nil {
		return err
	}
	res, err := fax.Render(ctx, docs, fax.Options{Resolution: fax.High})
	if err != nil {
		return fax.APIError(err)
	}
	c.FaxPageCount = res.Pages
	c.FaxResolution = fax.High.String()
	c.Attachments = []*switchboard.Attachment{{Type: switchboard.AttachmentRenderedDocument, ContentType: fax.TypePDF,
		FileName: "fax.pdf", Content: res.PDF}}
	return nil
}

func (s *Service) voiceMail(_ context.Context, in *switchboard.InboundMessage, c *switchboard.MessageCreate) error {
	if len(in.Files) != 1 {
		return switchboard.InvalidParam("audio", "", "A voicemail needs exactly one audio file (got %d)", len(in.Files))
	}
	f := in.Files[0]
	if int64(len(f.Data)) > s.config.MaxAudioBytes {
		return &switchboard.Error{Code: switchboard.CodeRequestTooLarge,
			Message: fmt.Sprintf("Audio file %q is over %d bytes", f.FileName, s.config.MaxAudioBytes),
			Params:  []switchboard.ParamError{{Code: switchboard.CodeRequestTooLarge, Name: "audio", Value: f.FileName, Message: "audio file too large"}}}
	}
	info, err := audio.Measure(f.Data)
	switch {
	case len(f.Data) == 0:
		return switchboard.EmptyFile("audio", f.FileName)
	case errors.Is(err, audio.ErrUnsupported):
		return &switchboard.Error{Code: switchboard.CodeUnsupportedMedia,
			Message: fmt.Sprintf("Audio file %q is neither WAV nor MP3", f.FileName),
			Params:  []switchboard.ParamError{{Code: switchboard.CodeUnsupportedMedia, Name: "audio", Value: f.FileName, Message: "unsupported audio format"}}}
	case err != nil:
		return switchboard.InvalidParam("audio", f.FileName, "Audio file %q cannot be used: %v", f.FileName, err)
	}
	name := f.FileName
	if name == "" || len(name) > switchboard.MaxFileNameLength {
		name = "voicemail" + map[string]string{audio.TypeWAV: ".wav", audio.TypeMP3: ".mp3"}[info.ContentType]
	}
	name = path.Base(strings.ReplaceAll(name, `\`, "/"))
	c.Subject = "Voice message"
	if c.From.PhoneNumber != "" {
		c.Subject = "Voice message from " + c.From.PhoneNumber
	}
	c.Attachments = []*switchboard.Attachment{{Type: switchboard.AttachmentAudioRecording, ContentType: info.ContentType,
		FileName: name, Content: f.Data, VMDuration: info.Seconds()}}
	return nil
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}
