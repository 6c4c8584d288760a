package fax

import (
	"errors"
	"fmt"

	"github.com/switchboardhq/switchboard"
)

// MaxDocuments bounds the documents of one fax, outbound or inbound.
const MaxDocuments = 50

// Check judges the documents of a fax by their content before rendering,
// so that every way a fax comes in (the send API, the inbound API, email)
// refuses the same things with the same RingCentral errors, all naming
// the parameter "attachment". It returns each document's detected type,
// which is what the document is to be served as: the declared type is
// often application/octet-stream, and serving a declared type the content
// does not have could turn a text file into HTML.
func Check(docs []Document) ([]string, error) {
	switch {
	case len(docs) == 0:
		return nil, switchboard.InvalidParam("attachment", "", "Parameter [attachment] is required: a fax needs at least one document")
	case len(docs) > MaxDocuments:
		return nil, switchboard.InvalidParam("attachment", "", "At most %d documents per fax", MaxDocuments)
	}
	types := make([]string, len(docs))
	var total int64
	for i, d := range docs {
		if len(d.Data) == 0 {
			return nil, &switchboard.Error{Code: "MSG-347", Message: fmt.Sprintf("Attachment %q is empty", d.FileName),
				Params: []switchboard.ParamError{{Code: "MSG-347", Name: "attachment", Value: d.FileName, Message: "empty attachment"}}}
		}
		ct, err := Sniff(d)
		if err != nil {
			return nil, APIError(err)
		}
		if total += int64(len(d.Data)); total > MaxTotalBytes {
			return nil, APIError(ErrTooLarge)
		}
		types[i] = ct
	}
	return types, nil
}

// APIError turns the errors of Check, Sniff and Render into RingCentral
// errors with a 4xx status. Any other error (a failure of the renderer
// itself) is returned as it is.
func APIError(err error) error {
	var re *RenderError
	var unsupported *UnsupportedError
	switch {
	case errors.As(err, &re):
		return &switchboard.Error{Code: switchboard.CodeInvalidParameter,
			Message: fmt.Sprintf("Document %q could not be rendered (RenderingFailed): %v", re.FileName, re.Err),
			Params:  []switchboard.ParamError{{Code: switchboard.CodeInvalidParameter, Name: "attachment", Value: re.FileName, Message: "document could not be rendered"}}}
	case errors.Is(err, ErrTooManyPages):
		return sizeLimitError(fmt.Sprintf("The fax has too many pages (TooManyPages): at most %d, cover page included", MaxPages))
	case errors.Is(err, ErrTooLarge):
		return sizeLimitError(fmt.Sprintf("Fax documents are over %d bytes together", MaxTotalBytes))
	case errors.As(err, &unsupported):
		return &switchboard.Error{Code: "MSG-348",
			Message: fmt.Sprintf("Attachment %q: %s", unsupported.FileName, unsupported.reason()),
			Params:  []switchboard.ParamError{{Code: "MSG-348", Name: "attachment", Value: unsupported.FileName, Message: "unsupported media type"}}}
	case errors.Is(err, ErrInvalidCover):
		return switchboard.InvalidParam("coverIndex", "", "%v", err)
	}
	return err
}

func sizeLimitError(msg string) error {
	return &switchboard.Error{Code: "MSG-338", Message: msg,
		Params: []switchboard.ParamError{{Code: "MSG-338", Name: "attachment", Message: "message size limit exceeded"}}}
}
