// Package netlimit bounds what one client can hold of the server: open
// connections, uploads in progress, and the time a request body may take.
// A client that trickles a body a byte at a time would otherwise keep a
// connection, a goroutine and a buffer for as long as it likes.
package netlimit

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Listener wraps ln so that at most max connections are open at once. A
// connection accepted past the cap is closed at once rather than left
// waiting in the backlog: a client sees a reset and can retry, and the
// connections being served keep their file descriptors. rejected, when
// not nil, is called for each one closed (a counter, a rate-limited log).
func Listener(ln net.Listener, max int, rejected func()) net.Listener {
	return &listener{Listener: ln, max: int64(max), rejected: rejected}
}

type listener struct {
	net.Listener
	max      int64
	open     atomic.Int64
	rejected func()
}

func (l *listener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.open.Add(1) > l.max {
			l.open.Add(-1)
			c.Close()
			if l.rejected != nil {
				l.rejected()
			}
			continue
		}
		return &conn{Conn: c, l: l}, nil
	}
}

// Open is the number of connections open now.
func (l *listener) Open() int64 { return l.open.Load() }

type conn struct {
	net.Conn
	l    *listener
	once sync.Once
}

func (c *conn) Close() error {
	c.once.Do(func() { c.l.open.Add(-1) })
	return c.Conn.Close()
}

// ErrSlowBody is the error a request body's Read returns once the client
// has fallen below the minimum rate.
var ErrSlowBody = errors.New("request body arrives slower than the server's minimum upload rate")

// Bodies bounds request bodies.
type Bodies struct {
	MinRate    int64         // bytes per second a body must average
	Grace      time.Duration // time allowed on top of MinRate
	MaxUploads int           // uploads received at once
	// UploadBytes: a body larger than this, or any multipart body, is an
	// upload (counted against MaxUploads).
	UploadBytes int64
	// Busy answers a request refused because MaxUploads are in progress
	// (a 503 with Retry-After, in the API's error format).
	Busy http.Handler
}

// Handler applies the bounds to every request with a body.
func (b Bodies) Handler(next http.Handler) http.Handler {
	uploads := make(chan struct{}, max(b.MaxUploads, 1))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
			next.ServeHTTP(w, r)
			return
		}
		if b.isUpload(r) {
			select {
			case uploads <- struct{}{}:
				defer func() { <-uploads }()
			default:
				b.Busy.ServeHTTP(w, r)
				return
			}
		}
		body := &rateBody{body: r.Body, rc: http.NewResponseController(w), start: time.Now(), rate: b.MinRate, grace: b.Grace}
		r.Body = body
		// The deadline stays when the handler leaves the body unread:
		// net/http then discards the rest, and a trickling client must
		// not hold the connection through that either.
		next.ServeHTTP(w, r)
	})
}

func (b Bodies) isUpload(r *http.Request) bool {
	if r.ContentLength > b.UploadBytes {
		return true
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return strings.HasPrefix(mt, "multipart/")
}

// rateBody holds the connection's read deadline at start + grace +
// received/rate: a client that keeps up never meets it, a stalled or
// trickling one meets it as soon as its average falls below the rate,
// and no body can take longer than its size allows. Its times are the
// network's, real time (time.Now), never the emulator's movable clock:
// socket deadlines are in real time.
type rateBody struct {
	body        io.ReadCloser
	rc          *http.ResponseController
	start       time.Time
	rate        int64
	grace       time.Duration
	n           int64
	deadlineSet bool
	noDeadline  bool // the connection cannot take deadlines (checked after each read instead)
	done        bool
}

func (b *rateBody) deadline() time.Time {
	return b.start.Add(b.grace + time.Duration(float64(b.n)/float64(b.rate)*float64(time.Second)))
}

func (b *rateBody) Read(p []byte) (int, error) {
	if b.done {
		return b.body.Read(p)
	}
	d := b.deadline()
	if !b.noDeadline {
		if err := b.rc.SetReadDeadline(d); err != nil {
			b.noDeadline = true
		} else {
			b.deadlineSet = true
		}
	}
	n, err := b.body.Read(p)
	b.n += int64(n)
	var ne net.Error
	switch {
	case err == io.EOF:
		// The whole body is in: the handler may now work for as long as it
		// needs, and net/http's background read of the idle connection
		// must not meet the deadline and cancel the request.
		b.release()
	case err != nil && errors.As(err, &ne) && ne.Timeout():
		return n, fmt.Errorf("%w (%d bytes in %s)", ErrSlowBody, b.n, time.Since(b.start).Round(time.Millisecond))
	case err == nil && b.noDeadline && time.Now().After(b.deadline()):
		return n, fmt.Errorf("%w (%d bytes in %s)", ErrSlowBody, b.n, time.Since(b.start).Round(time.Millisecond))
	}
	return n, err
}

func (b *rateBody) Close() error { return b.body.Close() }

// release lifts the deadline once the whole body is read.
func (b *rateBody) release() {
	b.done = true
	if b.deadlineSet {
		b.deadlineSet = false
		_ = b.rc.SetReadDeadline(time.Time{})
	}
}
