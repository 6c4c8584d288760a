package httpapi

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/push"
	"github.com/switchboardhq/switchboard/internal/rcwire"
)

// WebSocket gateway, as RingCentral's (and its SDKs @ringcentral/subscriptions
// and @rc-ex/ws) speak it: every frame is a JSON array [meta, body?].

const (
	wsPath = "/ws"
	// wsRecoveryTimeout is announced in ConnectionDetails: how long a
	// dropped session's subscriptions wait for a recovering client. They
	// live WebSocketSubscriptionTTL, which is longer.
	wsRecoveryTimeout = 180
	wsMaxFrame        = 1 << 20
	wsWriteTimeout    = 10 * time.Second
)

type wsTokenJSON struct {
	URI           string `json:"uri"`
	WSAccessToken string `json:"ws_access_token"`
	ExpiresIn     int    `json:"expires_in"`
}

// handleWSToken is POST /restapi/oauth/wstoken. The body and its
// Content-Type vary by SDK and are ignored.
func (s *Server) handleWSToken(w http.ResponseWriter, r *http.Request, p *switchboard.Principal) {
	if _, err := readBody(w, r, s.config.MaxBodyBytes); err != nil {
		s.writeError(w, r, err)
		return
	}
	token, ttl, err := s.auth.IssueWebSocketToken(r.Context(), p)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	base := s.baseURL(r)
	uri := "ws" + strings.TrimPrefix(base, "http") + wsPath // http→ws, https→wss
	writeJSON(w, http.StatusOK, wsTokenJSON{URI: uri, WSAccessToken: token, ExpiresIn: int(ttl / time.Second)})
}

type wsMeta struct {
	Type      string          `json:"type"`
	MessageID string          `json:"messageId"`
	Method    string          `json:"method,omitempty"`
	Path      string          `json:"path,omitempty"`
	Status    int             `json:"status,omitempty"`
	Headers   map[string]any  `json:"headers,omitempty"`
	WSC       *wscJSON        `json:"wsc,omitempty"`
	Query     json.RawMessage `json:"query,omitempty"`
}

type wscJSON struct {
	Token    string `json:"token"`
	Sequence int64  `json:"sequence"`
}

// wsConn is one client socket and the session it carries.
type wsConn struct {
	s       *Server
	c       *websocket.Conn
	p       *switchboard.Principal
	base    string
	session string

	writeMu  sync.Mutex // orders sequence numbers with writes
	sequence int64
	mu       sync.Mutex // guards detach; never held across network I/O
	detach   map[string]func()
}

// handleWebSocket is the gateway: GET /ws?access_token=…[&wsc=…].
func (s *Server) handleWebSocket(w http.ResponseWriter, r *http.Request) {
	if s.push == nil {
		s.writeError(w, r, switchboard.Errorf(switchboard.CodeUnavailable, "Push notifications are not enabled on this server"))
		return
	}
	if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		w.Header().Set("Upgrade", "websocket")
		// HTTP's own answer to a request that must upgrade, in RingCentral's body.
		_, body := s.errorResponse(r, switchboard.Errorf(switchboard.CodeBadRequest,
			"This is the WebSocket gateway: connect with a WebSocket client (Upgrade: websocket) and the token from POST /restapi/oauth/wstoken"))
		writeJSON(w, http.StatusUpgradeRequired, body)
		return
	}
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{
		// Authentication is the token in the URL, never a cookie, so a
		// foreign origin gains nothing.
		InsecureSkipVerify: true,
	})
	if err != nil {
		return
	}
	c.SetReadLimit(wsMaxFrame)
	conn := &wsConn{s: s, c: c, base: s.baseURL(r), detach: map[string]func(){}}
	defer conn.close()
	s.metrics.WebSocketSessions.Inc()
	defer s.metrics.WebSocketSessions.Dec()
	// On shutdown the socket is closed with 1012 (service restart): the
	// SDKs reconnect, to another node or to this one once it is back, and
	// recover the session with wsc.
	ended := make(chan struct{})
	defer close(ended)
	go func() {
		select {
		case <-s.closing:
			c.Close(websocket.StatusServiceRestart, "server shutting down; reconnect")
		case <-ended:
		}
	}()
	ctx := r.Context()

	p, err := s.auth.AuthenticateWebSocket(ctx, r.URL.Query().Get("access_token"))
	if err != nil {
		status, body := s.errorResponse(r, err)
		_ = conn.write(ctx, wsMeta{Type: "Error", MessageID: newMessageID(), Status: status}, body)
		if status == http.StatusServiceUnavailable {
			// The database is down, not the token: 1013 tells the client
			// to reconnect later rather than to log in again.
			c.Close(websocket.StatusTryAgainLater, "service temporarily unavailable; reconnect later")
			return
		}
		c.Close(websocket.StatusPolicyViolation, "invalid token")
		return
	}
	conn.p = p

	details := map[string]any{
		"creationTime": rcwire.Time(s.clock.Now()), "maxConnectionsPerSession": 1, "recoveryBufferSize": 100,
		"recoveryTimeout": wsRecoveryTimeout, "maxActiveRequests": 10,
		"idleTimeout":     int(s.config.WebSocketIdleTimeout.Seconds()),
		"absoluteTimeout": int(s.config.WebSocketAbsoluteTimeout.Seconds()),
	}
	var recovered []*switchboard.Subscription
	if wsc := r.URL.Query().Get("wsc"); wsc != "" {
		recovered, err = s.store.SessionSubscriptions(ctx, p.AccountID, p.ExtensionID, wsc)
		if err != nil {
			s.logger.WarnContext(ctx, "websocket recovery", "err", err)
		}
		if len(recovered) > 0 {
			conn.session, details["recoveryState"] = wsc, "Successful"
		} else {
			details["recoveryState"] = "Failed"
		}
	}
	if conn.session == "" {
		conn.session = rand.Text()
	}
	if err := conn.write(ctx, wsMeta{Type: "ConnectionDetails", MessageID: newMessageID(), Status: http.StatusOK}, details); err != nil {
		return
	}
	// Recovered subscriptions resume from their persisted cursors: what
	// happened while the client was away is delivered now.
	for _, sub := range recovered {
		conn.attach(sub)
	}

	// The announced timeouts hold: a socket silent for the idle timeout, or
	// older than the absolute one, is closed (wall time: they bound
	// connections, not messages). The client reconnects and recovers its
	// session with wsc, its subscriptions delivering from their cursors.
	closeAt := time.Now().Add(s.config.WebSocketAbsoluteTimeout)
	for {
		deadline := time.Now().Add(s.config.WebSocketIdleTimeout)
		if closeAt.Before(deadline) {
			deadline = closeAt
		}
		readCtx, cancel := context.WithDeadline(ctx, deadline)
		_, data, err := c.Read(readCtx)
		timedOut := readCtx.Err() == context.DeadlineExceeded
		cancel()
		if err != nil {
			if timedOut {
				c.Close(websocket.StatusGoingAway, "idle or absolute timeout")
			}
			return
		}
		conn.handleFrame(ctx, r, data)
	}
}

func newMessageID() string { return push.NewUUID() }

func (w *wsConn) handleFrame(ctx context.Context, r *http.Request, data []byte) {
	meta, body, ok := parseFrame(data)
	if !ok {
		_ = w.write(ctx, wsMeta{Type: "Error", MessageID: newMessageID(), Status: http.StatusBadRequest},
			errorBody{ErrorCode: "WSG-400", Message: "A frame must be a JSON array [meta, body]", Errors: []errorItem{{ErrorCode: "WSG-400", Message: "A frame must be a JSON array [meta, body]"}}})
		return
	}
	switch meta.Type {
	case "Heartbeat":
		_ = w.write(ctx, wsMeta{Type: "Heartbeat", MessageID: meta.MessageID, Status: http.StatusOK}, nil)
	case "ClientRequest":
		var created []*switchboard.Subscription
		status, out, headers := w.clientRequest(ctx, r, meta, body, &created)
		_ = w.write(ctx, wsMeta{Type: "ClientRequest", MessageID: meta.MessageID, Status: status, Headers: headers}, out)
		// Notifications start after the reply: the SDK drops any whose
		// subscriptionId it has not yet been told.
		for _, sub := range created {
			w.attach(sub)
		}
	}
}

// parseFrame splits a client frame, a JSON array [meta, body?].
func parseFrame(data []byte) (meta wsMeta, body []byte, ok bool) {
	var frame []json.RawMessage
	if json.Unmarshal(data, &frame) != nil || len(frame) == 0 || json.Unmarshal(frame[0], &meta) != nil {
		return wsMeta{}, nil, false
	}
	if len(frame) > 1 {
		body = frame[1]
	}
	return meta, body, true
}

// clientRequest serves a REST call made over the socket: the subscription
// API (how WebSocket subscriptions are created) and every other REST path.
func (w *wsConn) clientRequest(ctx context.Context, r *http.Request, meta wsMeta, body []byte, created *[]*switchboard.Subscription) (int, any, map[string]any) {
	headers := map[string]any{"Content-Type": "application/json", "RCRequestId": requestID(r.Context())}
	path, inPath := meta.Path, ""
	if i := strings.IndexAny(path, "?#"); i >= 0 {
		path, inPath = path[:i], path[i:]
	}
	if u := strings.Index(path, "/restapi/"); u > 0 { // an absolute URL
		path = path[u:]
	}
	const prefix = "/restapi/v1.0/subscription"
	var (
		status int
		out    any
		err    error
	)
	switch {
	case path == prefix || strings.HasPrefix(path, prefix+"/"):
		// Subscriptions made over the socket belong to its session.
		session := &wsSession{id: w.session, drop: w.drop,
			attach: func(sub *switchboard.Subscription) { *created = append(*created, sub) }}
		limits := http.Header{}
		err = w.s.count(ctx, strings.ToUpper(meta.Method), path, principalKey(w.p), limits)
		for k := range limits {
			headers[k] = limits.Get(k)
		}
		if err != nil {
			break
		}
		status, out, err = w.s.subscriptionCall(ctx, w.p, w.base, strings.ToUpper(meta.Method), strings.TrimPrefix(path, prefix), body, session)
	case strings.HasPrefix(path, "/restapi/v1.0/"):
		return w.socketCall(ctx, r, meta, path, strings.TrimPrefix(strings.SplitN(inPath, "#", 2)[0], "?"), body)
	default:
		err = switchboard.Errorf("CMN-120", "Invalid URI: %s %s is not served over the WebSocket (OAuth calls go over HTTP)", meta.Method, path)
	}
	if err != nil {
		st, eb := w.s.errorResponse(r, err)
		return st, eb, headers
	}
	return status, out, headers
}

// socketPrincipalKey carries a WebSocket's principal into the REST call
// made over it; only socketCall sets it, so no client can.
type socketPrincipalKey struct{}

// socketCall serves any other REST call made over the socket, as
// RingCentral's gateway does (@rc-ex/ws restOverWebSocket): the request is
// rebuilt and served by the same route table, handlers and permission
// checks as over HTTP, as the socket's principal.
func (w *wsConn) socketCall(ctx context.Context, r *http.Request, meta wsMeta, path, rawQuery string, body []byte) (int, any, map[string]any) {
	q, err := socketQuery(meta.Query, rawQuery)
	if err != nil {
		st, eb := w.s.errorResponse(r, err)
		return st, eb, map[string]any{"Content-Type": "application/json", "RCRequestId": requestID(r.Context())}
	}
	u := *r.URL
	u.Path, u.RawPath, u.RawQuery = path, "", q.Encode()
	method := strings.ToUpper(meta.Method)
	req, err := http.NewRequestWithContext(context.WithValue(ctx, socketPrincipalKey{}, w.p), method, u.String(), bytes.NewReader(body))
	if err != nil {
		st, eb := w.s.errorResponse(r, switchboard.InvalidParam("path", meta.Path, "The request path is not a valid URL"))
		return st, eb, map[string]any{"Content-Type": "application/json", "RCRequestId": requestID(r.Context())}
	}
	req.Host, req.RemoteAddr, req.TLS = r.Host, r.RemoteAddr, r.TLS
	for k, v := range meta.Headers {
		if sv, ok := v.(string); ok && !strings.EqualFold(k, "Authorization") {
			req.Header.Set(k, sv)
		}
	}
	if len(body) > 0 && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := &socketResponse{header: http.Header{}}
	w.s.observe(w.s.recoverPanics(http.HandlerFunc(w.s.routed))).ServeHTTP(rec, req)
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	// The answer's own headers: its Content-Type and request id.
	headers := map[string]any{}
	for _, k := range []string{"Content-Type", "RCRequestId", "Retry-After",
		"X-Rate-Limit-Group", "X-Rate-Limit-Limit", "X-Rate-Limit-Remaining", "X-Rate-Limit-Window"} {
		if v := rec.header.Get(k); v != "" {
			headers[k] = v
		}
	}
	b := rec.body.Bytes()
	switch {
	case len(bytes.TrimSpace(b)) == 0:
		return rec.status, nil, headers
	case json.Valid(b):
		return rec.status, json.RawMessage(b), headers
	}
	return rec.status, string(b), headers // text; binary content is fetched over HTTP, as the SDKs do
}

// socketQuery is the request's query: the one written in the path, plus
// the frame's query object (values: strings, numbers, booleans or arrays of
// them, as the SDKs send params).
func socketQuery(raw json.RawMessage, inPath string) (url.Values, error) {
	q, err := url.ParseQuery(inPath)
	if err != nil {
		return nil, switchboard.InvalidParam("path", inPath, "The query in the request path is malformed: %v", err)
	}
	if len(raw) == 0 || string(raw) == "null" {
		return q, nil
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, switchboard.InvalidParam("query", "", "The frame's query must be an object of parameters")
	}
	for k, v := range m {
		vs, ok := v.([]any)
		if !ok {
			vs = []any{v}
		}
		for _, x := range vs {
			switch x := x.(type) {
			case nil:
			case string:
				q.Add(k, x)
			case float64, bool:
				q.Add(k, fmt.Sprint(x))
			default:
				return nil, switchboard.InvalidParam(k, "", "Query parameter [%s] must be a string, number, boolean or a list of them", k)
			}
		}
	}
	return q, nil
}

// socketResponse collects a handler's answer for the socket.
type socketResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *socketResponse) Header() http.Header { return r.header }

func (r *socketResponse) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}

func (r *socketResponse) Write(b []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	return r.body.Write(b)
}

func (w *wsConn) attach(sub *switchboard.Subscription) {
	// Re-read: the subscription may have moved to another connection
	// since (a cached subscription reused), and the cursor may have moved.
	cur, err := w.s.store.SubscriptionByID(context.Background(), sub.ID)
	if err != nil || cur.SessionID != w.session {
		return
	}
	d := w.s.push.Attach(cur, w)
	w.mu.Lock()
	if old := w.detach[sub.ID]; old != nil {
		old()
	}
	w.detach[sub.ID] = d
	w.mu.Unlock()
}

func (w *wsConn) drop(id string) {
	w.mu.Lock()
	d := w.detach[id]
	delete(w.detach, id)
	w.mu.Unlock()
	if d != nil {
		d()
	}
}

func (w *wsConn) close() {
	w.c.CloseNow() // first: a write blocked on the dead socket returns at once
	w.mu.Lock()
	ds := w.detach
	w.detach = map[string]func(){}
	w.mu.Unlock()
	for _, d := range ds {
		d()
	}
}

// Notify implements push.Sink: a ServerNotification carrying the envelope.
func (w *wsConn) Notify(ctx context.Context, envelope []byte) error {
	return w.write(ctx, wsMeta{Type: "ServerNotification", MessageID: newMessageID(), Status: http.StatusOK,
		Headers: map[string]any{"RCRequestId": newMessageID()}}, json.RawMessage(envelope))
}

// write sends [meta, body] (body omitted when nil), with the session's
// wsc and the next sequence number, as RingCentral's gateway does.
func (w *wsConn) write(ctx context.Context, meta wsMeta, body any) error {
	w.writeMu.Lock()
	defer w.writeMu.Unlock()
	if w.session != "" {
		w.sequence++
		meta.WSC = &wscJSON{Token: w.session, Sequence: w.sequence}
	}
	frame := []any{meta}
	if body != nil {
		frame = append(frame, body)
	}
	data, err := json.Marshal(frame)
	if err != nil {
		return err
	}
	// The SDK treats any frame containing ",--Boundary" as a binary
	// envelope; JSON never has it outside strings, and inside one the
	// escaped hyphen reads the same.
	data = bytes.ReplaceAll(data, []byte(",--Boundary"), []byte(`,\u002d-Boundary`))
	ctx, cancel := context.WithTimeout(ctx, wsWriteTimeout)
	defer cancel()
	if err := w.c.Write(ctx, websocket.MessageText, data); err != nil {
		return errors.Join(errors.New("websocket write"), err)
	}
	return nil
}
