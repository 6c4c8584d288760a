package netlimit

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// serve runs h behind the limits on a real loopback listener.
func serve(t *testing.T, maxConns int, b Bodies, h http.Handler) (addr string, rejected *atomic.Int64) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rejected = new(atomic.Int64)
	if b.Busy == nil {
		b.Busy = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusServiceUnavailable)
		})
	}
	srv := &http.Server{Handler: b.Handler(h), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(Listener(ln, maxConns, func() { rejected.Add(1) }))
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String(), rejected
}

// readAll is a handler that reads the body and answers how much arrived,
// or 400 with the read error.
var readAll = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	n, err := io.Copy(io.Discard, r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	fmt.Fprint(w, n)
})

// TestTricklingBodyIsCutOff: a client sending a byte a second against a
// 1000 B/s minimum loses its connection soon after the grace period, where
// before the limits it was kept as long as it kept sending.
func TestTricklingBodyIsCutOff(t *testing.T) {
	addr, _ := serve(t, 100, Bodies{MinRate: 1000, Grace: 500 * time.Millisecond, MaxUploads: 4, UploadBytes: 1 << 20}, readAll)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n")
	started := time.Now()
	cut := make(chan time.Duration, 1)
	go func() {
		// The server answers 400 or closes; either way the read returns.
		_, _ = io.ReadAll(c)
		cut <- time.Since(started)
	}()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case d := <-cut:
			if d > 5*time.Second {
				t.Fatalf("cut off only after %s", d)
			}
			return
		case <-tick.C:
			if _, err := c.Write([]byte("x")); err != nil {
				return // the server closed the connection
			}
			if time.Since(started) > 10*time.Second {
				t.Fatal("a body trickling at 5 B/s was still being read after 10s")
			}
		}
	}
}

// TestStalledBodyIsCutOff: a client that sends headers and part of the
// body, then nothing, is disconnected after the grace period.
func TestStalledBodyIsCutOff(t *testing.T) {
	addr, _ := serve(t, 100, Bodies{MinRate: 1000, Grace: 300 * time.Millisecond, MaxUploads: 4, UploadBytes: 1 << 20}, readAll)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc")
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatal("a stalled body was still being waited for after 10s")
		}
		return // closed without an answer: also cut off
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "slower than the server's minimum") {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
}

// TestFastBodyAndSlowHandler: a body that arrives at speed is read whole,
// and the handler may then take longer than the deadline was (the read
// deadline is lifted at the end of the body, so the connection's
// background read does not cancel the request).
func TestFastBodyAndSlowHandler(t *testing.T) {
	slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, err := io.Copy(io.Discard, r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		select {
		case <-time.After(700 * time.Millisecond):
		case <-r.Context().Done():
			http.Error(w, "cancelled", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprint(w, n)
	})
	addr, _ := serve(t, 100, Bodies{MinRate: 1 << 20, Grace: 200 * time.Millisecond, MaxUploads: 4, UploadBytes: 1 << 20}, slow)
	for range 2 { // twice on one keep-alive connection
		resp, err := http.Post("http://"+addr+"/", "application/octet-stream", bytes.NewReader(make([]byte, 300<<10)))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(body) != fmt.Sprint(300<<10) {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
	}
}

// TestConnectionCap: past the cap a new connection is closed at once; the
// ones open are served, and a slot frees when one closes.
func TestConnectionCap(t *testing.T) {
	addr, rejected := serve(t, 3, Bodies{MinRate: 1000, Grace: time.Second, MaxUploads: 4, UploadBytes: 1 << 20}, readAll)
	var open []net.Conn
	defer func() {
		for _, c := range open {
			c.Close()
		}
	}()
	for range 3 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		open = append(open, c)
	}
	extra, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	_ = extra.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := extra.Read(make([]byte, 1)); err == nil || isTimeout(err) {
		t.Fatalf("a connection past the cap was kept: %v", err)
	}
	extra.Close()
	if rejected.Load() != 1 {
		t.Fatalf("rejected %d", rejected.Load())
	}
	// An open connection is served.
	fmt.Fprintf(open[0], "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi")
	resp, err := http.ReadResponse(bufio.NewReader(open[0]), nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("%v %v", resp, err)
	}
	// Closing one frees its slot.
	open[1].Close()
	open = append(open[:1], open[2:]...)
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		c.Close()
		if err == nil && resp.StatusCode == 200 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no slot freed: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestUploadCap: with one upload in progress and a cap of one, a second
// upload is answered 503 at once; a small JSON body is not an upload.
func TestUploadCap(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan struct{}, 1)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hold" {
			entered <- struct{}{}
			<-release
		}
		readAll(w, r)
	})
	addr, _ := serve(t, 100, Bodies{MinRate: 1, Grace: 10 * time.Second, MaxUploads: 1, UploadBytes: 1024}, h)
	held := make(chan error, 1)
	go func() {
		resp, err := http.Post("http://"+addr+"/hold", "multipart/form-data; boundary=x", strings.NewReader("--x--\r\n"))
		if err == nil {
			resp.Body.Close()
		}
		held <- err
	}()
	<-entered
	for _, tc := range []struct {
		ct   string
		size int
		want int
	}{
		{"multipart/form-data; boundary=y", 10, http.StatusServiceUnavailable},
		{"application/octet-stream", 4096, http.StatusServiceUnavailable},
		{"application/json", 100, http.StatusOK},
	} {
		resp, err := http.Post("http://"+addr+"/", tc.ct, bytes.NewReader(make([]byte, tc.size)))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Fatalf("%s %d bytes: %d, want %d", tc.ct, tc.size, resp.StatusCode, tc.want)
		}
	}
	close(release)
	if err := <-held; err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post("http://"+addr+"/", "multipart/form-data; boundary=y", strings.NewReader("--y--\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("after the upload ended: %d", resp.StatusCode)
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
