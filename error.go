package switchboard

import (
	"errors"
	"fmt"
	"net/http"
)

// Error is a client-facing error in RingCentral's shape: an errorCode from
// RingCentral's catalogue, a message, the HTTP status it maps to and, for
// parameter problems, the parameter at fault.
type Error struct {
	Status  int
	Code    string
	Message string
	Params  []ParamError
}

// ParamError names one bad parameter of a request.
type ParamError struct {
	Code    string
	Message string
	Name    string
	Value   string
}

func (e *Error) Error() string {
	if len(e.Params) > 0 && e.Params[0].Name != "" {
		return fmt.Sprintf("%s: %s (parameter %s)", e.Code, e.Message, e.Params[0].Name)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// RingCentral error codes that Switchboard answers with.
const (
	CodeInvalidParameter   = "CMN-101" // parameter value is invalid
	CodeNotFound           = "CMN-102" // resource not found
	CodeInvalidJSON        = "CMN-103" // JSON body cannot be parsed
	CodeBadRequest         = "CMN-104" // request cannot be parsed
	CodeBatchLimit         = "CMN-106" // batch request over its entry limit
	CodeRangeNotSatisfied  = "CMN-107" // Range header cannot be satisfied
	CodeUnavailable        = "CMN-201" // service temporarily unavailable
	CodeInternal           = "CMN-203" // internal error
	CodeAppPermission      = "CMN-401" // app permission required
	CodeOtherExtension     = "CMN-404" // access to another extension
	CodeLoginRequired      = "CMN-405" // login required (401)
	CodeUnsupportedMedia   = "CMN-415" // unsupported Content-Type
	CodeRequestTooLarge    = "CMN-413" // request entity too large
	CodeAccessTokenExpired = "OAU-128"
	CodeAccessTokenInvalid = "OAU-129"
	CodeNotRestorable      = "MSG-342" // a Purged message cannot be restored
)

// ErrNotFound is returned by stores when a row does not exist (or is not
// visible to the caller). Handlers translate it into CMN-102.
var ErrNotFound = errors.New("not found")

// ErrConflict is returned by stores when a unique value is already taken.
var ErrConflict = errors.New("already exists")

// ErrUnavailable is returned by stores when the database cannot be reached
// (it is down, restarting, or the connection was lost). Handlers answer
// 503 so the client retries; the store reconnects by itself.
var ErrUnavailable = errors.New("database unavailable")

// ErrStorageFull is returned by stores when a write failed for lack of
// space (a full disk or quota). It is an ErrUnavailable: the client is
// told to retry later, workers back off, and the health check fails until
// the database can be written again.
var ErrStorageFull = fmt.Errorf("%w: its storage is full", ErrUnavailable)

// InvalidParam is the 400 CMN-101 error for one bad parameter.
func InvalidParam(name, value, format string, args ...any) *Error {
	msg := fmt.Sprintf(format, args...)
	return &Error{
		Status: http.StatusBadRequest, Code: CodeInvalidParameter, Message: msg,
		Params: []ParamError{{Code: CodeInvalidParameter, Message: msg, Name: name, Value: value}},
	}
}

// NotFound is the 404 CMN-102 error for a resource named by a parameter.
func NotFound(param, value string) *Error {
	msg := fmt.Sprintf("Resource for parameter [%s] is not found", param)
	return &Error{
		Status: http.StatusNotFound, Code: CodeNotFound, Message: msg,
		Params: []ParamError{{Code: CodeNotFound, Message: msg, Name: param, Value: value}},
	}
}

// Errorf builds an Error without a parameter.
func Errorf(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// AsError returns the *Error in err's chain, or nil.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}
