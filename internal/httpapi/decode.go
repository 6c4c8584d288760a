package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strings"

	"github.com/switchboardhq/switchboard"
)

// strictKey marks a request of the admin API: its JSON bodies must be an
// object of known fields (admin() sets it). RingCentral's API keeps
// ignoring unknown fields, as RingCentral does.
type strictKey struct{}

func withStrictJSON(r *http.Request) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), strictKey{}, true))
}

func strictJSON(ctx context.Context) bool { v, _ := ctx.Value(strictKey{}).(bool); return v }

// unmarshalJSON decodes b into v. Strictly, b must be one JSON object whose
// every field v knows: an admin call that misspells a field or sends null
// is refused, not applied with defaults.
func unmarshalJSON(ctx context.Context, b []byte, v any) error {
	if !strictJSON(ctx) {
		return jsonError(json.Unmarshal(b, v))
	}
	if t := bytes.TrimSpace(b); len(t) == 0 || t[0] != '{' {
		return switchboard.Errorf(switchboard.CodeInvalidJSON, "Request body must be a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if dec.More() {
		return switchboard.Errorf(switchboard.CodeInvalidJSON, "Request body is not valid JSON: data after the object")
	}
	return nil
}

// jsonError says what is wrong with a JSON body in the client's terms: the
// field and the JSON type it needs, never the Go type behind it.
func jsonError(err error) error {
	if err == nil {
		return nil
	}
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			return switchboard.Errorf(switchboard.CodeInvalidJSON,
				"Request body must be a JSON %s, not %s", jsonKind(typeErr.Type), typeErr.Value)
		}
		return switchboard.InvalidParam(field, "", "Parameter [%s] must be a JSON %s, not %s", field, jsonKind(typeErr.Type), typeErr.Value)
	case errors.As(err, &syntaxErr):
		return switchboard.Errorf(switchboard.CodeInvalidJSON, "Request body is not valid JSON (at byte %d)", syntaxErr.Offset)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return switchboard.InvalidParam(field, "", "Unknown field [%s]", field)
	case errors.Is(err, errBodyTooLarge) || switchboard.AsError(err) != nil:
		return err
	}
	return switchboard.Errorf(switchboard.CodeInvalidJSON, "Request body is not valid JSON")
}

// jsonReason is what jsonError says, for an error of another code.
func jsonReason(err error) string {
	if e := switchboard.AsError(jsonError(err)); e != nil {
		return e.Message
	}
	return "not valid JSON"
}

// jsonKind names the JSON type a Go type is decoded from.
func jsonKind(t reflect.Type) string {
	if t == nil {
		return "value"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Implements(reflect.TypeFor[json.Unmarshaler]()) || reflect.PointerTo(t).Implements(reflect.TypeFor[json.Unmarshaler]()) {
		return "value of another type"
	}
	switch t.Kind() {
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return "string (base64)"
		}
		return "array"
	case reflect.Map, reflect.Struct:
		return "object"
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "integer"
	case reflect.Float32, reflect.Float64:
		return "number"
	}
	return "value"
}
