// Package smtpin is the optional SMTP listener through which phone systems
// and fax servers hand over voicemail and received faxes, the way most of
// them already can: voicemail-to-email and fax-to-email.
//
// # Recipient addresses
//
// With --smtp-domain vm.example.com, a message is addressed to a mailbox as
//
//	16505550101@vm.example.com           the extension that owns +1 650 555 0101
//	+16505550101@vm.example.com          the same (the + is optional)
//	101@100000001.vm.example.com         extension 101 of the account with id 100000001
//	101@16505550100.vm.example.com       extension 101 of the account whose main number is +1 650 555 0100
//
// A recipient that maps to no enabled extension, or another domain, is
// refused at RCPT with 550 5.1.1 (the listener relays nothing).
//
// # What a message must carry
//
// The first audio attachment (WAV or MP3, by content) makes a VoiceMail;
// otherwise PDF and TIFF attachments (and the other fax document types)
// make a Fax, rendered as outbound faxes are. The caller's number is taken
// from an X-Caller-ID (or X-Asterisk-CallerID) header, else from the first
// phone number in the Subject; without one the message has no sender
// number. A message without usable audio or documents, or whose files are
// refused (malformed, empty, over the audio limit), is rejected at DATA
// with a 554 (a 5xx: sending it again will not help); a database failure
// is a 451, to be retried. Messages over --smtp-max-bytes are refused with
// 552. Each recipient's copy is stored in a transaction of its own.
//
// # Hardening
//
// With a TLS configuration the listener offers STARTTLS. With an
// Authenticate function it requires AUTH (PLAIN or LOGIN, offered only
// once the session is encrypted) before MAIL. With AcceptAnyRecipient every
// address under the domain is accepted at RCPT, so the answers to RCPT do
// not tell which mailboxes exist; the recipients are resolved at DATA,
// where a message none of whose recipients exists is refused with 550
// 5.1.1 and the unknown ones of a message that reaches some are dropped
// and logged (SMTP has one reply to DATA: a reply per recipient exists
// only in LMTP). Without these, listen on loopback or on a network only
// the phone system reaches.
package smtpin

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/audio"
)

// Directory resolves recipient addresses.
type Directory interface {
	PhoneNumberByNumber(ctx context.Context, number string) (*switchboard.PhoneNumber, error)
	Account(ctx context.Context, id int64) (*switchboard.Account, error)
	AccountByMainNumber(ctx context.Context, number string) (*switchboard.Account, error)
	ExtensionByNumber(ctx context.Context, accountID int64, number string) (*switchboard.Extension, error)
	Extension(ctx context.Context, accountID, id int64) (*switchboard.Extension, error)
}

// Config tunes the listener.
type Config struct {
	Domain        string // recipient addresses are under this domain
	MaxBytes      int64  // largest message (default 30 MB)
	MaxRecipients int    // per message (default 10)
	// Hostname is the name the server greets with (default Domain).
	Hostname string
	// Timeout bounds each command read and reply write (default 1m).
	Timeout time.Duration

	// TLS, when set, is offered by STARTTLS.
	TLS *tls.Config
	// Authenticate, when set, makes AUTH (over TLS) required before MAIL;
	// it checks a user name and password.
	Authenticate func(ctx context.Context, username, password string) error
	// AcceptAnyRecipient accepts every address under Domain at RCPT and
	// resolves them at DATA (see the package doc).
	AcceptAnyRecipient bool
}

// Server is the SMTP listener.
type Server struct {
	smtp      *smtp.Server
	dir       Directory
	recv      switchboard.InboundReceiver
	domain    string
	auth      func(ctx context.Context, username, password string) error
	acceptAny bool
	logger    *slog.Logger
}

// New returns a listener that hands messages to recv.
func New(dir Directory, recv switchboard.InboundReceiver, config Config, logger *slog.Logger) *Server {
	if config.MaxBytes <= 0 {
		config.MaxBytes = 30 << 20
	}
	if config.MaxRecipients <= 0 {
		config.MaxRecipients = 10
	}
	if config.Timeout <= 0 {
		config.Timeout = time.Minute
	}
	s := &Server{dir: dir, recv: recv, domain: strings.ToLower(config.Domain), auth: config.Authenticate,
		acceptAny: config.AcceptAnyRecipient, logger: logger}
	srv := smtp.NewServer(s)
	srv.TLSConfig = config.TLS // AllowInsecureAuth stays false: AUTH only after STARTTLS
	srv.Domain = config.Hostname
	if srv.Domain == "" {
		srv.Domain = config.Domain
	}
	srv.MaxMessageBytes = config.MaxBytes
	srv.MaxRecipients = config.MaxRecipients
	srv.ReadTimeout, srv.WriteTimeout = config.Timeout, config.Timeout
	s.smtp = srv
	return s
}

// Serve accepts connections on l until Close or Shutdown.
func (s *Server) Serve(l net.Listener) error {
	err := s.smtp.Serve(l)
	if errors.Is(err, smtp.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown stops accepting and waits for open sessions to end, up to ctx.
func (s *Server) Shutdown(ctx context.Context) error { return s.smtp.Shutdown(ctx) }

// Close stops the listener and closes open sessions.
func (s *Server) Close() error { return s.smtp.Close() }

// NewSession implements smtp.Backend.
func (s *Server) NewSession(c *smtp.Conn) (smtp.Session, error) {
	ss := &session{s: s, remote: c.Conn().RemoteAddr().String()}
	if s.auth != nil {
		return &authSession{session: ss}, nil
	}
	return ss, nil
}

// target is one accepted recipient.
type target struct {
	addr      string
	to        string // E.164 number or extension number
	accountID int64
}

type session struct {
	s       *Server
	remote  string
	from    string
	targets []target
	later   []string // AcceptAnyRecipient: addresses resolved at DATA
}

func (ss *session) Reset()        { ss.from, ss.targets, ss.later = "", nil, nil }
func (ss *session) Logout() error { return nil }

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	ss.from = from
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if ss.s.acceptAny {
		if !ss.s.inDomain(to) {
			return errDomain(to)
		}
		ss.later = append(ss.later, to)
		return nil
	}
	t, err := ss.s.resolve(context.Background(), to)
	if err != nil {
		ss.s.logger.Warn("smtp: recipient refused", "rcpt", to, "remote", ss.remote, "err", err)
		return err
	}
	ss.targets = append(ss.targets, t)
	return nil
}

// resolveLater resolves the recipients accepted without a lookup. A
// message that reaches none of them is refused as RCPT would have been;
// unknown ones beside known ones are dropped and logged.
func (ss *session) resolveLater(ctx context.Context) error {
	var unknown error
	for _, addr := range ss.later {
		t, err := ss.s.resolve(ctx, addr)
		var se *smtp.SMTPError
		if errors.As(err, &se) && se.Code == 550 {
			ss.s.logger.Warn("smtp: recipient refused after DATA", "rcpt", addr, "remote", ss.remote, "err", err)
			unknown = err
			continue
		}
		if err != nil {
			return err
		}
		ss.targets = append(ss.targets, t)
	}
	ss.later = nil
	if len(ss.targets) == 0 && unknown != nil {
		return unknown
	}
	return nil
}

// authSession is a session that must authenticate before MAIL.
type authSession struct {
	*session
	user string // set once AUTH succeeded
}

func (as *authSession) AuthMechanisms() []string { return []string{sasl.Plain, sasl.Login} }

func (as *authSession) Auth(mech string) (sasl.Server, error) {
	check := func(identity, username, password string) error {
		if identity != "" && identity != username {
			return errAuthFailed
		}
		if err := as.s.auth(context.Background(), username, password); err != nil {
			var se *smtp.SMTPError
			if errors.As(err, &se) {
				return err // an outage: 454, try again
			}
			as.s.logger.Warn("smtp: authentication failed", "user", username, "remote", as.remote)
			return errAuthFailed
		}
		as.user = username
		return nil
	}
	switch mech {
	case sasl.Plain:
		return sasl.NewPlainServer(check), nil
	case sasl.Login:
		return &loginServer{check: check}, nil
	}
	return nil, smtp.ErrAuthUnknownMechanism
}

func (as *authSession) Mail(from string, opts *smtp.MailOptions) error {
	if as.user == "" {
		return smtp.ErrAuthRequired
	}
	return as.session.Mail(from, opts)
}

var errAuthFailed = &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "Authentication credentials invalid"}

// loginServer is the server side of the LOGIN mechanism (a user name and
// a password, each asked for in base64), which many PBXs still use.
type loginServer struct {
	check    func(identity, username, password string) error
	username string
	step     int
}

func (l *loginServer) Next(response []byte) (challenge []byte, done bool, err error) {
	switch l.step {
	case 0:
		l.step++
		if len(response) > 0 { // the user name sent with AUTH LOGIN (RFC 4616-style initial response)
			l.username, l.step = string(response), 2
			return []byte("Password:"), false, nil
		}
		return []byte("Username:"), false, nil
	case 1:
		l.username, l.step = string(response), 2
		return []byte("Password:"), false, nil
	case 2:
		l.step++
		return nil, true, l.check("", l.username, string(response))
	}
	return nil, true, errors.New("unexpected LOGIN response")
}

var (
	errNoMailbox = func(addr string) error {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No mailbox here by that name: " + addr}
	}
	errDomain = func(addr string) error {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "Relaying denied: this server takes mail for its mailboxes only: " + addr}
	}
	errTemporary = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Temporary failure, try again later"}
)

// resolve maps a recipient address to a mailbox (see the package doc).
func (s *Server) resolve(ctx context.Context, addr string) (target, error) {
	at := strings.LastIndexByte(addr, '@')
	if at <= 0 {
		return target{}, errNoMailbox(addr)
	}
	local, host := addr[:at], strings.ToLower(strings.TrimSuffix(addr[at+1:], "."))
	switch {
	case host == s.domain:
		n, err := switchboard.NormalizeE164("+" + strings.TrimPrefix(local, "+"))
		if err != nil {
			return target{}, errNoMailbox(addr)
		}
		pn, err := s.dir.PhoneNumberByNumber(ctx, n)
		if errors.Is(err, switchboard.ErrNotFound) || (err == nil && (pn.ExtensionID == 0 || pn.Status == switchboard.StatusDisabled)) {
			return target{}, errNoMailbox(addr)
		}
		if err != nil {
			return target{}, s.temporary(err)
		}
		ext, err := s.dir.Extension(ctx, pn.AccountID, pn.ExtensionID)
		if errors.Is(err, switchboard.ErrNotFound) || (err == nil && ext.Status == switchboard.StatusDisabled) {
			return target{}, errNoMailbox(addr)
		}
		if err != nil {
			return target{}, s.temporary(err) // an outage is 4xx: the sender retries
		}
		return target{addr: addr, to: n, accountID: pn.AccountID}, nil
	case strings.HasSuffix(host, "."+s.domain):
		acc, err := s.account(ctx, strings.TrimSuffix(host, "."+s.domain))
		if err != nil {
			return target{}, err
		}
		if acc == nil {
			return target{}, errNoMailbox(addr)
		}
		ext, err := s.dir.ExtensionByNumber(ctx, acc.ID, local)
		if errors.Is(err, switchboard.ErrNotFound) || (err == nil && ext.Status == switchboard.StatusDisabled) {
			return target{}, errNoMailbox(addr)
		}
		if err != nil {
			return target{}, s.temporary(err)
		}
		return target{addr: addr, to: ext.ExtensionNumber, accountID: acc.ID}, nil
	}
	return target{}, errDomain(addr)
}

// inDomain reports whether an address is under the listener's domain (the
// domain or a subdomain of it), without looking anything up.
func (s *Server) inDomain(addr string) bool {
	at := strings.LastIndexByte(addr, '@')
	if at <= 0 {
		return false
	}
	host := strings.ToLower(strings.TrimSuffix(addr[at+1:], "."))
	return host == s.domain || strings.HasSuffix(host, "."+s.domain)
}

// account finds an account by id or, failing that, by main number.
func (s *Server) account(ctx context.Context, label string) (*switchboard.Account, error) {
	if id, err := strconv.ParseInt(label, 10, 64); err == nil && id > 0 {
		acc, err := s.dir.Account(ctx, id)
		switch {
		case err == nil:
			return acc, nil
		case !errors.Is(err, switchboard.ErrNotFound):
			return nil, s.temporary(err)
		}
	}
	n, err := switchboard.NormalizeE164("+" + strings.TrimPrefix(label, "+"))
	if err != nil {
		return nil, nil
	}
	acc, err := s.dir.AccountByMainNumber(ctx, n)
	switch {
	case errors.Is(err, switchboard.ErrNotFound):
		return nil, nil
	case err != nil:
		return nil, s.temporary(err)
	}
	return acc, nil
}

func (s *Server) temporary(err error) error {
	s.logger.Error("smtp: directory lookup failed", "err", err)
	return errTemporary
}

func (ss *session) Data(r io.Reader) error {
	ctx := context.Background()
	if err := ss.resolveLater(ctx); err != nil {
		_, _ = io.Copy(io.Discard, r)
		return err
	}
	msg, err := mail.ReadMessage(r)
	if err != nil {
		return reject("Message cannot be parsed: %v", err)
	}
	in, err := parse(msg)
	if err != nil {
		if _, err2 := io.Copy(io.Discard, msg.Body); errors.Is(err2, smtp.ErrDataTooLarge) {
			return smtp.ErrDataTooLarge
		}
		var se *smtp.SMTPError
		if errors.As(err, &se) {
			return err
		}
		return reject("%v", err)
	}
	for _, t := range ss.targets {
		m := in
		m.To, m.AccountID = t.to, t.accountID
		stored, err := ss.s.recv.Receive(ctx, m)
		if e := switchboard.AsError(err); e != nil && !e.Kind().Temporary() {
			ss.s.logger.Warn("smtp: message refused", "rcpt", t.addr, "remote", ss.remote, "err", err)
			return reject("%s", e.Message)
		}
		if err != nil {
			ss.s.logger.Error("smtp: storing a message failed", "rcpt", t.addr, "err", err)
			return errTemporary
		}
		ss.s.logger.Info("smtp: message stored", "rcpt", t.addr, "type", stored.Type, "id", stored.ID, "remote", ss.remote)
	}
	return nil
}

func reject(format string, args ...any) error {
	return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: fmt.Sprintf(format, args...)}
}

// file is one attachment of an email.
type file struct {
	name, contentType string
	data              []byte
}

var phoneInText = regexp.MustCompile(`\+?\d[\d\-. ()]{6,18}\d`)

// parse turns an email into an inbound voicemail or fax (To left empty).
func parse(msg *mail.Message) (switchboard.InboundMessage, error) {
	var files []file
	if err := walk(msg.Header, msg.Body, 0, &files); err != nil {
		return switchboard.InboundMessage{}, err
	}
	// The Message-ID makes a retried email (a 4xx answered for one of its
	// recipients, a lost reply) land once in each mailbox.
	in := switchboard.InboundMessage{From: caller(msg.Header), SourceID: messageID(msg.Header)}
	for _, f := range files {
		if _, err := audio.Measure(f.data); err == nil || strings.HasPrefix(f.contentType, "audio/") {
			in.Type = switchboard.TypeVoiceMail
			in.Files = []switchboard.InboundFile{{FileName: f.name, ContentType: f.contentType, Data: f.data}}
			return in, nil
		}
	}
	for _, f := range files {
		if isDocument(f) {
			in.Type = switchboard.TypeFax
			in.Files = append(in.Files, switchboard.InboundFile{FileName: f.name, ContentType: f.contentType, Data: f.data})
		}
	}
	if in.Type == "" {
		return in, errors.New("no voicemail audio (WAV, MP3) or fax document (PDF, TIFF) attached")
	}
	return in, nil
}

// isDocument reports whether an attachment is a fax document: PDF or TIFF
// by content, or an attachment of a type fax rendering takes.
func isDocument(f file) bool {
	switch {
	case bytes.HasPrefix(f.data, []byte("%PDF-")), bytes.HasPrefix(f.data, []byte("II*\x00")), bytes.HasPrefix(f.data, []byte("MM\x00*")):
		return true
	case f.name == "": // a body part, not an attachment
		return false
	}
	switch f.contentType {
	case "application/pdf", "image/tiff", "image/png", "image/jpeg", "image/gif", "image/bmp", "text/plain":
		return true
	}
	return false
}

// caller is the calling number a phone system put in the headers or the
// subject, as E.164 (country code assumed present), or "".
func caller(h mail.Header) string {
	for _, k := range []string{"X-Caller-ID", "X-Asterisk-CallerID", "X-Switchboard-From"} {
		if n := e164(h.Get(k)); n != "" {
			return n
		}
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(h.Get("Subject"))
	if err != nil {
		subject = h.Get("Subject")
	}
	return e164(phoneInText.FindString(subject))
}

func e164(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	n, err := switchboard.NormalizeE164("+" + strings.TrimPrefix(s, "+"))
	if err != nil {
		return ""
	}
	return n
}

// header is mail.Header or a part's textproto.MIMEHeader.
type header interface{ Get(string) string }

// maxParts and maxDepth bound the MIME walk.
const (
	maxParts = 100
	maxDepth = 5
)

// walk collects the leaf parts of a MIME entity, decoded.
func walk(h header, body io.Reader, depth int, files *[]file) error {
	ct := h.Get("Content-Type")
	if ct == "" {
		ct = "text/plain"
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		mt, params = "application/octet-stream", nil
	}
	if strings.HasPrefix(mt, "multipart/") {
		if depth >= maxDepth || params["boundary"] == "" {
			return errors.New("MIME structure too deep or without a boundary")
		}
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				if errors.Is(err, smtp.ErrDataTooLarge) {
					return smtp.ErrDataTooLarge
				}
				return fmt.Errorf("malformed MIME body: %v", err)
			}
			if len(*files) >= maxParts {
				return errors.New("too many MIME parts")
			}
			if err := walk(p.Header, p, depth+1, files); err != nil {
				return err
			}
		}
	}
	var r io.Reader = body
	switch strings.ToLower(strings.TrimSpace(h.Get("Content-Transfer-Encoding"))) {
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, newlineStripper{body})
	case "quoted-printable":
		r = quotedprintable.NewReader(body)
	}
	data, err := io.ReadAll(r)
	if err != nil {
		if errors.Is(err, smtp.ErrDataTooLarge) {
			return smtp.ErrDataTooLarge
		}
		return fmt.Errorf("part cannot be decoded: %v", err)
	}
	name := ""
	if _, dp, err := mime.ParseMediaType(h.Get("Content-Disposition")); err == nil {
		name = dp["filename"]
	}
	if name == "" {
		name = params["name"]
	}
	*files = append(*files, file{name: name, contentType: mt, data: data})
	return nil
}

// newlineStripper drops CR and LF, which base64 bodies are wrapped with.
type newlineStripper struct{ r io.Reader }

func (n newlineStripper) Read(p []byte) (int, error) {
	for {
		k, err := n.r.Read(p)
		j := 0
		for _, b := range p[:k] {
			if b != '\r' && b != '\n' && b != ' ' && b != '\t' {
				p[j] = b
				j++
			}
		}
		if j > 0 || err != nil {
			return j, err
		}
	}
}

// messageID is the email's Message-ID without its angle brackets, or "" when
// it has none or one too long to be an id.
func messageID(h mail.Header) string {
	id := strings.Trim(strings.TrimSpace(h.Get("Message-Id")), "<>")
	if len(id) > switchboard.MaxSourceIDLength {
		return ""
	}
	return id
}
