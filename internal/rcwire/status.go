// Package rcwire is RingCentral's wire format as every HTTP face of
// Switchboard speaks it (the REST API, the web UI's endpoints): for now the
// one mapping from a domain error's kind to its HTTP status.
package rcwire

import (
	"net/http"

	"github.com/switchboardhq/switchboard"
)

// Status is the HTTP status RingCentral answers an error of kind k with.
func Status(k switchboard.Kind) int {
	switch k {
	case switchboard.KindUnauthorized:
		return http.StatusUnauthorized
	case switchboard.KindForbidden:
		return http.StatusForbidden
	case switchboard.KindNotFound:
		return http.StatusNotFound
	case switchboard.KindNotAcceptable:
		return http.StatusNotAcceptable
	case switchboard.KindTooLarge:
		return http.StatusRequestEntityTooLarge
	case switchboard.KindUnsupported:
		return http.StatusUnsupportedMediaType
	case switchboard.KindRangeNotSatisfiable:
		return http.StatusRequestedRangeNotSatisfiable
	case switchboard.KindTooMany:
		return http.StatusTooManyRequests
	case switchboard.KindUnavailable:
		return http.StatusServiceUnavailable
	case switchboard.KindInternal:
		return http.StatusInternalServerError
	}
	return http.StatusBadRequest
}

// ErrorStatus is Status of e's kind.
func ErrorStatus(e *switchboard.Error) int { return Status(e.Kind()) }
