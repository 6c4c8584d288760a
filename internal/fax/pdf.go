package fax

import (
	"errors"
	"fmt"
	"image"
	"io"
	"math"
	"sync"

	"github.com/klippa-app/go-pdfium"
	"github.com/klippa-app/go-pdfium/requests"
	"github.com/klippa-app/go-pdfium/webassembly"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
)

// PDFium runs as WebAssembly inside wazero (no cgo). Compiling the 5.8 MB
// module takes seconds, so one pool is created lazily per process and
// shared; Warmup lets a server pay that cost at start-up.
var (
	pdfiumOnce sync.Once
	pdfiumPool pdfium.Pool
	pdfiumErr  error

	cacheMu     sync.Mutex
	cacheDir    string
	concurrency = 1
)

// pdfiumMemoryPages caps the linear memory of one PDFium instance
// (64 KiB pages): 16384 = 1 GiB, a bound on hostile documents.
const pdfiumMemoryPages = 16384

// SetCompilationCacheDir makes wazero keep its compiled PDFium code in dir,
// which cuts the one-time initialisation from seconds to well under a
// second on later starts. Call it before the first Render or Warmup; later
// calls have no effect. An empty dir (the default) disables the cache.
func SetCompilationCacheDir(dir string) {
	cacheMu.Lock()
	defer cacheMu.Unlock()
	cacheDir = dir
}

// SetConcurrency sets how many PDFs may be rendered at once in this
// process (PDFium instances, each a WebAssembly sandbox of its own; at
// least 1, the default). Call it before the first Render or Warmup; later
// calls have no effect. Rendering runs off the request path (the fax
// render worker), which sizes this to its own pool.
func SetConcurrency(n int) {
	cacheMu.Lock()
	defer cacheMu.Unlock()
	concurrency = max(n, 1)
}

// Warmup initialises the PDF rasteriser now instead of on the first PDF.
func Warmup() error {
	_, err := pool()
	return err
}

func pool() (pdfium.Pool, error) {
	pdfiumOnce.Do(func() {
		cacheMu.Lock()
		dir, n := cacheDir, concurrency
		cacheMu.Unlock()
		pdfiumPool, pdfiumErr = initPDFium(dir, n)
		if pdfiumErr != nil && dir != "" {
			// A cache directory that cannot be written (or was changed
			// under us) must not cost PDF rendering: compile without it.
			pdfiumPool, pdfiumErr = initPDFium("", n)
		}
		if pdfiumErr != nil {
			pdfiumErr = fmt.Errorf("fax: initialising PDFium: %w", pdfiumErr)
		}
	})
	return pdfiumPool, pdfiumErr
}

// initPDFium compiles PDFium, keeping the compiled code in cacheDir when
// it is set, for up to n instances at once.
func initPDFium(cacheDir string, n int) (pdfium.Pool, error) {
	rc := wazero.NewRuntimeConfig().
		WithCoreFeatures(api.CoreFeaturesV2 | experimental.CoreFeaturesExceptionHandling).
		WithMemoryLimitPages(pdfiumMemoryPages)
	if cacheDir != "" {
		cc, err := wazero.NewCompilationCacheWithDir(cacheDir)
		if err != nil {
			return nil, err
		}
		rc = rc.WithCompilationCache(cc)
	}
	return webassembly.Init(webassembly.Config{
		MinIdle:       1,
		MaxIdle:       n, // an instance costs its start-up each time it is made again
		MaxTotal:      n, // instances are created as renders need them, up to n
		RuntimeConfig: rc,
		FSConfig:      wazero.NewFSConfig(), // no host file system inside the sandbox
		Stdout:        io.Discard,
		Stderr:        io.Discard,
	})
}

// pdf renders every page of a PDF document.
func (r *renderer) pdf(d Document) (err error) {
	p, err := pool()
	if err != nil {
		return err
	}
	inst, err := p.GetInstanceWithContext(r.ctx)
	if err != nil {
		if ctxErr := r.ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		return fmt.Errorf("fax: getting PDFium instance: %w", err)
	}
	defer inst.Close()
	// A crash inside the WebAssembly module surfaces as a panic from wazero;
	// treat it as an unrenderable document, not as a server crash.
	defer func() {
		if v := recover(); v != nil {
			err = &RenderError{FileName: d.FileName, Err: fmt.Errorf("PDFium: %v", v)}
		}
	}()

	data := d.Data
	doc, err := inst.OpenDocument(&requests.OpenDocument{File: &data})
	if err != nil {
		return &RenderError{FileName: d.FileName, Err: err}
	}
	defer inst.FPDF_CloseDocument(&requests.FPDF_CloseDocument{Document: doc.Document})

	pc, err := inst.FPDF_GetPageCount(&requests.FPDF_GetPageCount{Document: doc.Document})
	if err != nil {
		return &RenderError{FileName: d.FileName, Err: err}
	}
	if pc.PageCount <= 0 {
		return &RenderError{FileName: d.FileName, Err: errors.New("PDF has no pages")}
	}
	if err := r.room(pc.PageCount); err != nil {
		return err
	}
	for i := range pc.PageCount {
		if err := r.ctx.Err(); err != nil {
			return err
		}
		page := requests.Page{ByIndex: &requests.PageByIndex{Document: doc.Document, Index: i}}
		g, err := r.pdfPage(inst, page)
		if err != nil {
			return &RenderError{FileName: d.FileName, Page: i + 1, Err: err}
		}
		if err := r.add(g, false); err != nil {
			return err
		}
	}
	return nil
}

// pdfPage renders one page to fit a letter page at square pixels and
// places it on an output page.
func (r *renderer) pdfPage(inst pdfium.Pdfium, page requests.Page) (*image.Gray, error) {
	size, err := inst.GetPageSize(&requests.GetPageSize{Page: page})
	if err != nil {
		return nil, err
	}
	if !(size.Width > 0 && size.Height > 0) || size.Width > 14400 || size.Height > 14400 {
		return nil, fmt.Errorf("invalid page size %.0f×%.0f pt", size.Width, size.Height)
	}
	s := math.Min(PageWidth/size.Width, squareHeight/size.Height)
	res, err := inst.RenderPageInPixels(&requests.RenderPageInPixels{
		Page:        page,
		Width:       max(1, int(math.Round(size.Width*s))),
		Height:      max(1, int(math.Round(size.Height*s))),
		ImageFormat: requests.RenderImageFormatGrayscale,
	})
	if err != nil {
		return nil, err
	}
	defer res.Cleanup()
	img := res.Result.RenderedImage
	if img == nil {
		return nil, errors.New("PDFium returned no image")
	}
	// Copy the pixels (centred on a square-pixel page) before Cleanup
	// releases the WebAssembly buffer, then resample to the line count.
	g, ok := img.(*image.Gray)
	if !ok {
		return r.place(img, 1), nil
	}
	canvas := squareCanvas()
	gb := g.Bounds()
	w, h := min(gb.Dx(), PageWidth), min(gb.Dy(), squareHeight)
	x0, y0 := (PageWidth-w)/2, (squareHeight-h)/2
	for y := range h {
		off := g.PixOffset(gb.Min.X, gb.Min.Y+y)
		copy(canvas.Pix[(y0+y)*canvas.Stride+x0:], g.Pix[off:off+w])
	}
	return r.squash(canvas), nil
}
