package switchboard

import (
	"errors"
	"fmt"
)

// Error is a client-facing error in RingCentral's shape: an errorCode from
// RingCentral's catalogue, a message and, for parameter problems, the
// parameter at fault. What kind of refusal it is follows from the code
// (Kind); each way in maps the kind to its protocol once (the HTTP status
// in httpapi, SMTP's permanent or temporary reply in smtpin).
type Error struct {
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
		Code: CodeInvalidParameter, Message: msg,
		Params: []ParamError{{Code: CodeInvalidParameter, Message: msg, Name: name, Value: value}},
	}
}

// NotFound is the 404 CMN-102 error for a resource named by a parameter.
func NotFound(param, value string) *Error {
	msg := fmt.Sprintf("Resource for parameter [%s] is not found", param)
	return &Error{
		Code: CodeNotFound, Message: msg,
		Params: []ParamError{{Code: CodeNotFound, Message: msg, Name: param, Value: value}},
	}
}

// Errorf builds an Error without a parameter.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Kind is what sort of refusal an Error is, whatever the protocol.
type Kind int

// Kinds of Error.
const (
	KindInvalid             Kind = iota // the request is wrong: the client must change it
	KindUnauthorized                    // no valid credentials
	KindForbidden                       // not allowed for this caller
	KindNotFound                        // no such resource (or not visible to the caller)
	KindNotAcceptable                   // not possible in the resource's current state
	KindTooLarge                        // the request is over a size limit
	KindUnsupported                     // a media type that is not taken
	KindRangeNotSatisfiable             // a byte range outside the content
	KindTooMany                         // over a rate or count limit: retry later
	KindUnavailable                     // a dependency is down: retry later
	KindInternal                        // a fault of the server
)

// kinds is the kind of every errorCode Switchboard answers with. A code
// missing here is KindInvalid: a client error, never a server fault.
var kinds = map[string]Kind{
	CodeInvalidParameter: KindInvalid, CodeNotFound: KindNotFound, CodeInvalidJSON: KindInvalid,
	CodeBadRequest: KindInvalid, CodeBatchLimit: KindInvalid, CodeRangeNotSatisfied: KindRangeNotSatisfiable,
	"CMN-109": KindForbidden, "CMN-120": KindNotFound, CodeUnavailable: KindUnavailable, CodeInternal: KindInternal,
	"CMN-301": KindTooMany, CodeAppPermission: KindForbidden, CodeOtherExtension: KindForbidden,
	CodeLoginRequired: KindUnauthorized, "CMN-408": KindForbidden, CodeRequestTooLarge: KindTooLarge,
	CodeUnsupportedMedia: KindUnsupported, CodeAccessTokenExpired: KindUnauthorized,
	CodeAccessTokenInvalid: KindUnauthorized, "OAU-213": KindForbidden,
	"MSG-242": KindForbidden, "MSG-245": KindInvalid, "MSG-304": KindForbidden, "MSG-324": KindInvalid,
	"MSG-331": KindForbidden, "MSG-333": KindInvalid, "MSG-337": KindInvalid, "MSG-338": KindInvalid,
	CodeNotRestorable: KindInvalid, "MSG-343": KindNotAcceptable, "MSG-347": KindInvalid,
	"MSG-348": KindUnsupported, "MSG-349": KindInvalid,
	"SUB-405": KindForbidden, "SUB-505": KindForbidden, "SUB-508": KindInvalid, "SUB-522": KindInvalid,
	"SUB-525": KindInvalid,
}

// Kind is the kind of refusal e's code means.
func (e *Error) Kind() Kind {
	return kinds[e.Code] // KindInvalid when absent
}

// Temporary reports whether retrying the same request later may succeed.
func (k Kind) Temporary() bool {
	return k == KindUnavailable || k == KindTooMany || k == KindInternal
}

// AsError returns the *Error in err's chain, or nil.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}

// EmptyFile is the 400 MSG-347 error for an empty attachment or document.
func EmptyFile(param, name string) *Error {
	return &Error{Code: "MSG-347", Message: fmt.Sprintf("Attachment %q is empty", name),
		Params: []ParamError{{Code: "MSG-347", Name: param, Value: name, Message: "empty attachment"}}}
}

// UnsupportedMedia is the 415 MSG-348 error for a file of a media type the
// message cannot carry; value is the file name or its type.
func UnsupportedMedia(param, value, msg string) *Error {
	return &Error{Code: "MSG-348", Message: msg,
		Params: []ParamError{{Code: "MSG-348", Name: param, Value: value, Message: "unsupported media type"}}}
}

// MMSTooLarge is the 400 MSG-337 error for MMS media over limit bytes together.
func MMSTooLarge(limit int) *Error {
	return &Error{Code: "MSG-337",
		Message: fmt.Sprintf("MMS attachments are over %d bytes together", limit),
		Params:  []ParamError{{Code: "MSG-337", Name: "attachments", Message: "attachments too large"}}}
}
