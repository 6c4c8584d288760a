package httpapi

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/switchboardhq/switchboard"
)

// mailbox is the extension a request addresses, after "~" is resolved and
// the principal's right to it is checked.
type mailbox struct {
	AccountID, ExtensionID int64
}

// resolveMailbox applies the tenancy rules: "~" is the token's own
// account or extension; another account does not exist for the caller
// (404, so ids of other tenants cannot be probed); another extension of the
// same account needs the admin role (403 otherwise).
func (s *Server) resolveMailbox(r *http.Request, p *switchboard.Principal) (mailbox, error) {
	accountID, err := s.resolveAccount(r, p)
	if err != nil {
		return mailbox{}, err
	}
	raw := r.PathValue("extensionId")
	if raw == "~" {
		return mailbox{accountID, p.ExtensionID}, nil
	}
	id, err := parseID("extensionId", raw)
	if err != nil {
		return mailbox{}, err
	}
	if id == p.ExtensionID {
		return mailbox{accountID, id}, nil
	}
	if !p.Admin {
		return mailbox{}, switchboard.Errorf(switchboard.CodeOtherExtension,
			"Access to other extension resources is not allowed")
	}
	if _, err := s.store.Extension(r.Context(), accountID, id); err != nil {
		if errors.Is(err, switchboard.ErrNotFound) {
			return mailbox{}, switchboard.NotFound("extensionId", raw)
		}
		return mailbox{}, err
	}
	return mailbox{accountID, id}, nil
}

func (s *Server) resolveAccount(r *http.Request, p *switchboard.Principal) (int64, error) {
	raw := r.PathValue("accountId")
	if raw == "~" {
		return p.AccountID, nil
	}
	id, err := parseID("accountId", raw)
	if err != nil {
		return 0, err
	}
	if id != p.AccountID {
		return 0, switchboard.NotFound("accountId", raw)
	}
	return id, nil
}

// parseID parses a positive decimal id from a path or query parameter.
func parseID(param, raw string) (int64, error) {
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		return 0, switchboard.InvalidParam(param, raw, "Parameter [%s] must be a positive integer id", param)
	}
	return id, nil
}

// maxBatch is RingCentral's limit of ids in one batch request.
const maxBatch = 50

// parseIDList parses "1,2,3" (a batch) into ids.
func parseIDList(param, raw string) ([]int64, error) {
	parts := strings.Split(raw, ",")
	if len(parts) > maxBatch {
		return nil, &switchboard.Error{Code: switchboard.CodeBatchLimit,
			Message: "Batch request is limited to 50 entries",
			Params:  []switchboard.ParamError{{Code: switchboard.CodeBatchLimit, Message: "Batch request is limited to 50 entries", Name: param}}}
	}
	ids := make([]int64, 0, len(parts))
	for _, p := range parts {
		id, err := parseID(param, strings.TrimSpace(p))
		if err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// multiValue returns a query parameter's values, repeated (as the SDKs
// send them) or comma-separated (as people type them).
func multiValue(q url.Values, name string) []string {
	var out []string
	for _, v := range q[name] {
		for _, part := range strings.Split(v, ",") {
			if part = strings.TrimSpace(part); part != "" {
				out = append(out, part)
			}
		}
	}
	return out
}

func parseEnums[T ~string](q url.Values, name string, set []T) ([]T, error) {
	var out []T
	for _, v := range multiValue(q, name) {
		e, err := switchboard.ParseEnum(name, v, set)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// dateLayouts are the forms RingCentral accepts for date-time parameters:
// ISO 8601 with or without seconds, fraction and zone, or a bare date.
var dateLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04",
	"2006-01-02",
}

// parseTime parses a date-time parameter; times without a zone are UTC.
func parseTime(param, raw string) (time.Time, error) {
	for _, layout := range dateLayouts {
		if t, err := time.Parse(layout, raw); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, switchboard.InvalidParam(param, raw,
		"Parameter [%s] value %q is not a valid date-time; use ISO 8601, for example 2026-01-31T12:00:00.000Z", param, raw)
}

func parseBool(param, raw string) (bool, error) {
	switch strings.ToLower(raw) {
	case "", "false":
		return false, nil
	case "true":
		return true, nil
	}
	return false, switchboard.InvalidParam(param, raw, "Parameter [%s] must be true or false", param)
}

// parseInt parses an optional integer parameter in [min, max].
func parseInt(q url.Values, param string, def, min, max int) (int, error) {
	raw := q.Get(param)
	if raw == "" {
		return def, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < min || n > max {
		return 0, switchboard.InvalidParam(param, raw, "Parameter [%s] must be an integer from %d to %d", param, min, max)
	}
	return n, nil
}

// readBody reads a request body up to limit bytes. An empty body is not an
// error: the JS SDK sends Content-Type: application/json on every request,
// bodies or not.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return nil, errBodyTooLarge
	}
	if err != nil {
		return nil, switchboard.Errorf(switchboard.CodeBadRequest, "Cannot read request body: %v", err)
	}
	return b, nil
}

// decodeJSON reads a JSON body into v. It reports whether a body was sent.
func (s *Server) decodeJSON(w http.ResponseWriter, r *http.Request, limit int64, v any) (bool, error) {
	b, err := readBody(w, r, limit)
	if err != nil {
		return false, err
	}
	if len(strings.TrimSpace(string(b))) == 0 {
		return false, nil
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, _ := mime.ParseMediaType(ct)
		// curl -d sends a JSON body as a form unless told otherwise; a body
		// that is JSON is taken as such rather than refused.
		curlDefault := mt == "application/x-www-form-urlencoded" && json.Valid(b)
		if mt != "application/json" && !strings.HasSuffix(mt, "+json") && !curlDefault {
			return false, switchboard.Errorf(switchboard.CodeUnsupportedMedia,
				"Content-Type %q is not supported; send application/json", mt)
		}
	}
	if err := unmarshalJSON(r.Context(), b, v); err != nil {
		return false, err
	}
	return true, nil
}
