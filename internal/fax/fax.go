package fax

import (
	"context"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"
)

// Resolution is the vertical fax resolution requested by the sender
// (RingCentral's faxResolution).
type Resolution int

const (
	// High is RingCentral's "High" (200 dpi): ITU-T T.4 fine mode,
	// 1728 px × 196 lines per inch, 2156 lines per letter page.
	High Resolution = iota
	// Low is RingCentral's "Low" (100 dpi): ITU-T T.4 standard mode,
	// 1728 px × 98 lines per inch, 1078 lines per letter page.
	Low
)

// String returns the RingCentral spelling ("High" or "Low").
func (r Resolution) String() string {
	switch r {
	case High:
		return "High"
	case Low:
		return "Low"
	}
	return fmt.Sprintf("Resolution(%d)", int(r))
}

// Lines returns the number of scan lines of one letter-size page.
func (r Resolution) Lines() int {
	if r == Low {
		return LinesLow
	}
	return LinesHigh
}

// Page geometry of the output (US letter, 8.5 × 11 in).
const (
	// PageWidth is the number of pixels per scan line (ITU-T T.4, A4/letter).
	PageWidth = 1728
	// LinesHigh is the page height in lines at High resolution (196 lpi × 11 in).
	LinesHigh = 2156
	// LinesLow is the page height in lines at Low resolution (98 lpi × 11 in).
	LinesLow = 1078

	// squareHeight is the page height in square pixels (1728 px / 8.5 in ≈
	// 203.3 dpi × 11 in). Text, cover pages and PDF pages are laid out on a
	// canvas of PageWidth × squareHeight and then resampled to the
	// resolution's line count.
	squareHeight = 2236
	squareDPI    = float64(PageWidth) / 8.5
)

// RingCentral limits (ringcentral-api-reference §3.4, §10).
const (
	// MaxPages is the default page limit of one fax, cover page included.
	MaxPages = 200
	// MaxTotalBytes is the default limit of all documents combined (50 MB).
	MaxTotalBytes = 50 << 20
	// MaxCoverTextLen is the maximum coverPageText length in characters.
	MaxCoverTextLen = 1024
	// MaxImageSide bounds the width and height of a raster image that is
	// decoded (checked from the header before decoding).
	MaxImageSide = 20000
	// maxImagePixels bounds width×height of a raster image (≈ 8.5 in × 11 in at 1200 dpi × 4).
	maxImagePixels = 200_000_000
)

// Document is one uploaded attachment, rendered in request order.
type Document struct {
	FileName    string
	ContentType string // as declared by the client; the content decides (see Sniff)
	Data        []byte
}

// Cover describes an optional cover page.
type Cover struct {
	Index   int    // 0: no cover page; 1..: a template from CoverTemplates
	Text    string // coverPageText, ≤ MaxCoverTextLen characters
	From    string
	To      string // recipient name(s) / number(s), printed as given
	Subject string
	// Date printed on the cover; the zero value prints no date. (The
	// renderer does not read the clock, so callers pass their clock's time.)
	Date time.Time
	// Pages is the page count printed on the cover. When 0 the renderer
	// prints the total page count of the fax, cover page included. The
	// caller's Cover is not modified.
	Pages int
}

// Options controls Render.
type Options struct {
	Resolution Resolution
	Cover      *Cover // nil or Index 0: no cover page
	MaxPages   int    // default MaxPages (200)
	MaxBytes   int64  // total size of the documents; default MaxTotalBytes (50 MB)
}

// Result is the rendered fax.
type Result struct {
	PDF   []byte // fax-ready PDF: one 1-bit 1728 px wide image per letter page
	Pages int    // faxPageCount, cover page included
}

// UnsupportedError reports a document whose type is not supported.
// Callers map it to HTTP 415 (MSG-348) at upload time.
type UnsupportedError struct {
	FileName    string
	ContentType string // declared content type
	Detected    string // what the content looks like, if known
	// Mismatch: the declared type (content type or file name) is a
	// supported one, but the bytes are not of it (damaged or mislabelled).
	Mismatch bool
}

func (e *UnsupportedError) Error() string { return fmt.Sprintf("fax: %q: %s", e.FileName, e.reason()) }

func (e *UnsupportedError) reason() string {
	if e.Mismatch {
		return fmt.Sprintf("the content does not match its declared type %s: it is not a PDF, TIFF, PNG, JPEG, GIF, BMP or text document (is the file damaged or mislabelled?)", e.Detected)
	}
	what := e.Detected
	if what == "" {
		what = e.ContentType
	}
	if what == "" {
		what = "unknown"
	}
	return fmt.Sprintf("unsupported document type %s (supported: PDF, TIFF, PNG, JPEG, GIF, BMP, plain text)", what)
}

// RenderError reports a document that could not be rendered (corrupt,
// encrypted, truncated, too large to decode). The message's faxErrorCode
// becomes RenderingFailed.
type RenderError struct {
	FileName string
	Page     int // 1-based page of the document, 0 if not page specific
	Err      error
}

func (e *RenderError) Error() string {
	if e.Page > 0 {
		return fmt.Sprintf("fax: %q page %d: rendering failed: %v", e.FileName, e.Page, e.Err)
	}
	return fmt.Sprintf("fax: %q: rendering failed: %v", e.FileName, e.Err)
}

func (e *RenderError) Unwrap() error { return e.Err }

var (
	// ErrTooManyPages is returned (wrapped, use errors.Is) when the fax
	// would exceed Options.MaxPages.
	ErrTooManyPages = errors.New("fax: too many pages")
	// ErrTooLarge is returned (wrapped) when the documents together exceed
	// Options.MaxBytes.
	ErrTooLarge = errors.New("fax: documents too large")
	// ErrInvalidCover is returned (wrapped) for an unknown cover index or a
	// cover text longer than MaxCoverTextLen. Callers validate at the API
	// level (400) before queuing.
	ErrInvalidCover = errors.New("fax: invalid cover page")
	// ErrNoDocuments is returned when there is nothing to send.
	ErrNoDocuments = errors.New("fax: no documents")
)

// ValidateCover checks a cover's index and text length.
func ValidateCover(c *Cover) error {
	if c == nil || c.Index == 0 {
		return nil
	}
	if _, ok := coverTemplate(c.Index); !ok {
		return fmt.Errorf("%w: unknown coverIndex %d", ErrInvalidCover, c.Index)
	}
	if n := utf8.RuneCountInString(c.Text); n > MaxCoverTextLen {
		return fmt.Errorf("%w: coverPageText has %d characters (max %d)", ErrInvalidCover, n, MaxCoverTextLen)
	}
	return nil
}

// Render renders documents (in order, after an optional cover page) into
// one fax-ready PDF whose pages are US letter bitmaps, PageWidth pixels
// wide and Resolution.Lines() high, 1 bit per pixel, and counts the pages.
//
// Errors: *UnsupportedError, *RenderError, ErrTooManyPages, ErrTooLarge,
// ErrInvalidCover, ErrNoDocuments, or the context's error.
func Render(ctx context.Context, docs []Document, opts Options) (*Result, error) {
	if opts.MaxPages <= 0 {
		opts.MaxPages = MaxPages
	}
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = MaxTotalBytes
	}
	if opts.Resolution != High && opts.Resolution != Low {
		return nil, fmt.Errorf("fax: invalid resolution %d", int(opts.Resolution))
	}
	if err := ValidateCover(opts.Cover); err != nil {
		return nil, err
	}
	if len(docs) == 0 {
		return nil, ErrNoDocuments
	}
	var total int64
	kinds := make([]string, len(docs))
	for i, d := range docs {
		total += int64(len(d.Data))
		ct, err := Sniff(d)
		if err != nil {
			return nil, err
		}
		kinds[i] = ct
	}
	if total > opts.MaxBytes {
		return nil, fmt.Errorf("%w: %d bytes (max %d)", ErrTooLarge, total, opts.MaxBytes)
	}

	hasCover := opts.Cover != nil && opts.Cover.Index != 0
	r := &renderer{ctx: ctx, lines: opts.Resolution.Lines(), max: opts.MaxPages}
	if hasCover {
		r.reserved = 1 // the cover counts towards the limit
	}
	for i, d := range docs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		var err error
		switch kinds[i] {
		case TypePDF:
			err = r.pdf(d)
		case TypeTIFF:
			err = r.tiff(d)
		case TypeText:
			err = r.text(d)
		default:
			err = r.image(d)
		}
		if err != nil {
			return nil, err
		}
	}

	pages := r.pages
	if hasCover {
		c := *opts.Cover
		if c.Pages == 0 {
			c.Pages = len(pages) + 1
		}
		g, err := renderCover(&c)
		if err != nil {
			return nil, &RenderError{FileName: "cover page", Err: err}
		}
		cp, err := r.encode(r.squash(g))
		if err != nil {
			return nil, err
		}
		pages = append([]encodedPage{cp}, pages...)
	}
	return &Result{PDF: writePDF(pages), Pages: len(pages)}, nil
}
