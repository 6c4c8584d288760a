package fax

import (
	"encoding/json"
	"errors"
	"fmt"
)

// job is the part of Options a stored fax keeps until it is rendered: the
// request's settings. The limits are the server's, given at render time.
type job struct {
	Resolution string `json:"resolution"`
	Cover      *Cover `json:"cover,omitempty"`
}

// EncodeJob encodes the request's settings of opts (resolution, cover
// page) to be stored with a fax that is rendered later.
func EncodeJob(opts Options) ([]byte, error) {
	return json.Marshal(job{Resolution: opts.Resolution.String(), Cover: opts.Cover})
}

// DecodeJob is the inverse of EncodeJob.
func DecodeJob(b []byte) (Options, error) {
	var j job
	if err := json.Unmarshal(b, &j); err != nil {
		return Options{}, fmt.Errorf("fax: stored render settings: %w", err)
	}
	opts := Options{Cover: j.Cover}
	switch j.Resolution {
	case "High", "":
		opts.Resolution = High
	case "Low":
		opts.Resolution = Low
	default:
		return Options{}, fmt.Errorf("fax: stored render settings: resolution %q", j.Resolution)
	}
	return opts, nil
}

// ErrorCode is RingCentral's faxErrorCode for a fax whose documents Render
// refused: TooManyPages, or RenderingFailed for documents that cannot be
// rendered (corrupt, encrypted, unsupported, over the size limit). ok is
// false for errors of the renderer itself (its initialisation, the
// context), which say nothing about the documents: try again later.
func ErrorCode(err error) (code string, ok bool) {
	var re *RenderError
	var unsupported *UnsupportedError
	switch {
	case errors.Is(err, ErrTooManyPages):
		return "TooManyPages", true
	case errors.As(err, &re), errors.As(err, &unsupported), errors.Is(err, ErrTooLarge),
		errors.Is(err, ErrInvalidCover), errors.Is(err, ErrNoDocuments):
		return "RenderingFailed", true
	}
	return "", false
}
