package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/auth"
	"github.com/switchboardhq/switchboard/internal/rcwire"
)

// errorBody is RingCentral's error envelope: the legacy top-level errorCode
// and message (which the SDKs show) plus errors[] (which the spec models).
type errorBody struct {
	ErrorCode     string      `json:"errorCode"`
	Message       string      `json:"message"`
	Errors        []errorItem `json:"errors"`
	ParameterName string      `json:"parameterName,omitempty"`
}

type errorItem struct {
	ErrorCode      string `json:"errorCode"`
	Message        string `json:"message"`
	ParameterName  string `json:"parameterName,omitempty"`
	ParameterValue string `json:"parameterValue,omitempty"`
}

// oauthErrorBody is the token endpoint's error shape.
type oauthErrorBody struct {
	Error            string      `json:"error"`
	ErrorDescription string      `json:"error_description"`
	Errors           []errorItem `json:"errors"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// writeJSONBytes writes a body already encoded as JSON.
func writeJSONBytes(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// writeMessage writes one message as RingCentral shows it
// (rcwire.AppendMessage: NewMessage's JSON without reflection).
func writeMessage(w http.ResponseWriter, base string, m *switchboard.Message) {
	writeJSONBytes(w, http.StatusOK, append(rcwire.AppendMessage(make([]byte, 0, 1024), base, m), '\n'))
}

// appendJSON appends v as writeJSON writes it (no HTML escaping), without
// the newline.
func appendJSON(dst []byte, v any) []byte {
	buf := bytes.NewBuffer(dst)
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(fmt.Sprintf("httpapi: encode %T: %v", v, err)) // only our own wire types come here
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// errorResponse turns any error into a status and RingCentral body. Errors
// that are not *switchboard.Error are internal: they are logged with the
// request id and the client sees a generic message.
func (s *Server) errorResponse(r *http.Request, err error) (int, errorBody) {
	e := switchboard.AsError(err)
	if e == nil && errors.Is(err, switchboard.ErrNotFound) {
		e = switchboard.NotFound("resource", "")
	}
	if e == nil && errors.Is(err, switchboard.ErrStorageFull) {
		// 503 rather than 507: RingCentral's clients know 503 and its
		// Retry-After; nothing is wrong with the request.
		s.logger.WarnContext(r.Context(), "database storage full: write refused", "err", err, "method", r.Method, "path", r.URL.Path, "request_id", requestID(r.Context()))
		e = switchboard.Errorf(switchboard.CodeUnavailable, "Service temporarily unavailable: the server cannot store anything now, retry later")
	}
	if e == nil && errors.Is(err, switchboard.ErrUnavailable) {
		// The store reconnects by itself; the client is told to retry.
		s.logger.WarnContext(r.Context(), "database unavailable", "err", err, "method", r.Method, "path", r.URL.Path, "request_id", requestID(r.Context()))
		e = switchboard.Errorf(switchboard.CodeUnavailable, "Service temporarily unavailable")
	}
	if e == nil && errors.Is(err, errBodyTooLarge) {
		e = switchboard.Errorf(switchboard.CodeRequestTooLarge, "Request body is too large")
	}
	if e == nil {
		s.logger.ErrorContext(r.Context(), "internal error", "err", err, "method", r.Method, "path", r.URL.Path, "request_id", requestID(r.Context()))
		e = switchboard.Errorf(switchboard.CodeInternal, "Internal Server Error")
	}
	body := errorBody{ErrorCode: e.Code, Message: e.Message, Errors: []errorItem{}}
	for _, p := range e.Params {
		body.Errors = append(body.Errors, errorItem{ErrorCode: p.Code, Message: p.Message, ParameterName: p.Name, ParameterValue: p.Value})
	}
	if len(body.Errors) == 0 {
		body.Errors = append(body.Errors, errorItem{ErrorCode: e.Code, Message: e.Message})
	} else {
		body.ParameterName = e.Params[0].Name
	}
	return rcwire.ErrorStatus(e), body
}

func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status, body := s.errorResponse(r, err)
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="switchboard"`)
	}
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", retryAfter(err))
	}
	writeJSON(w, status, body)
}

// retryAfter is the Retry-After of a 503: a second for a database that
// reconnects by itself, longer for storage an operator has to free.
func retryAfter(err error) string {
	if errors.Is(err, switchboard.ErrStorageFull) {
		return "30"
	}
	return "1"
}

func (s *Server) writeOAuthError(w http.ResponseWriter, r *http.Request, err error) {
	var oe *auth.OAuthError
	if !errors.As(err, &oe) {
		if errors.Is(err, errBodyTooLarge) {
			oe = &auth.OAuthError{Status: http.StatusRequestEntityTooLarge, Err: "invalid_request", Description: "Request body is too large", Code: switchboard.CodeRequestTooLarge}
		} else if e := switchboard.AsError(err); e != nil {
			oe = &auth.OAuthError{Status: rcwire.ErrorStatus(e), Err: "invalid_request", Description: e.Message, Code: e.Code}
		} else if errors.Is(err, switchboard.ErrUnavailable) {
			s.logger.WarnContext(r.Context(), "token endpoint: database unavailable", "err", err, "request_id", requestID(r.Context()))
			w.Header().Set("Retry-After", retryAfter(err))
			oe = &auth.OAuthError{Status: http.StatusServiceUnavailable, Err: "temporarily_unavailable", Description: "Service temporarily unavailable", Code: switchboard.CodeUnavailable}
		} else {
			s.logger.ErrorContext(r.Context(), "token endpoint", "err", err, "request_id", requestID(r.Context()))
			oe = &auth.OAuthError{Status: http.StatusInternalServerError, Err: "server_error", Description: "Internal Server Error", Code: switchboard.CodeInternal}
		}
	}
	if oe.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(oe.RetryAfter))
	}
	writeJSON(w, oe.Status, oauthErrorBody{Error: oe.Err, ErrorDescription: oe.Description,
		Errors: []errorItem{{ErrorCode: oe.Code, Message: oe.Description}}})
}
