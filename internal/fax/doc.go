// Package fax renders uploaded documents into fax pages.
//
// Sniff checks a document by content at upload time (callers answer 415
// MSG-348 for an *UnsupportedError). Render turns the documents, in order
// and after an optional cover page, into one PDF whose pages are US-letter
// bitmaps of 1728 pixels per line (ITU-T T.4) and 2156 lines (High, fine
// mode, 196 lpi; RingCentral "200 dpi") or 1078 lines (Low, standard mode,
// 98 lpi; "100 dpi"), 1 bit per pixel, FlateDecode. Result.Pages is the
// message's faxPageCount and Result.PDF its RenderedDocument attachment.
// An *RenderError means faxErrorCode RenderingFailed.
//
// Supported inputs: PDF; TIFF (every page, including CCITT G3/G4 fax
// TIFFs, with their X/Y resolution honoured so 204×98 pages are not
// squashed); PNG, JPEG, GIF (first frame), BMP; plain text (UTF-8,
// UTF-16 with BOM or Latin-1). Office formats (.doc/.docx/.xlsx…), RTF,
// HTML-as-layout and WebP are rejected with *UnsupportedError; HTML, CSV
// or XML files are valid text and print as their source text.
//
// # Dependencies and why
//
//   - PDF: PDFium (github.com/klippa-app/go-pdfium) compiled to
//     WebAssembly and run by wazero (github.com/tetratelabs/wazero): a
//     real, widely deployed PDF renderer with no cgo, so the binary stays
//     static (CGO_ENABLED=0). There is no pure-Go PDF rasteriser that
//     renders arbitrary real-world PDFs (fonts, images, shading); pdfcpu
//     parses but does not rasterise, go-fitz needs cgo and MuPDF (AGPL).
//     Hostile PDFs run in the wasm sandbox without host file system access
//     and with linear memory capped at 1 GiB; a trap is a RenderError.
//     Costs: ≈ +14 MB binary size (the embedded pdfium.wasm is 5.8 MB), and
//     compiling the module takes 5–8 s and ≈ 330 MB peak RSS once per
//     process. The pool is therefore created lazily on the first PDF (or by
//     Warmup) and shared; SetCompilationCacheDir lets wazero keep the
//     compiled code on disk so later starts take well under a second. PDF
//     rendering is serialised (one instance), ≈ 40 ms per page on 2 vCPU.
//   - Images: the standard library decoders plus golang.org/x/image (tiff,
//     bmp, draw for bilinear scaling, font/opentype and the Go fonts for
//     text and cover pages). x/image/tiff reads only the first IFD, so
//     tiffIFDs walks the IFD chain itself (≈ 60 lines) and decodes each
//     page through a view whose header points at that IFD — no extra
//     dependency such as hhrutter/tiff.
//   - Output: a ~50-line PDF writer (writePDF): one image XObject per page.
//     fpdf is used only by tests to generate input PDFs.
//
// # Rendering rules
//
// Text, cover and PDF pages are laid out on a square-pixel letter canvas
// (1728 × 2236, ≈ 203 dpi) and resampled vertically to the line count with
// a box filter, then thresholded at 50 % (crisp text). Raster images are
// scaled to fit the page (aspect preserved, centred, never split over
// pages) and Floyd–Steinberg dithered, except bilevel TIFF pages which are
// thresholded. PDF pages of other sizes are fitted onto letter. Text is
// set in Go Mono 10 pt (90 columns, 61 lines per page, ½ inch margins),
// wrapped at spaces; form feeds start a new page; glyphs missing from the
// Go fonts (e.g. CJK) print as boxes.
//
// # Limits
//
// At most Options.MaxPages pages (default 200, cover included; checked
// before each document is rasterised where the page count is known),
// Options.MaxBytes of input (default 50 MB), raster images at most 20,000
// pixels per side and 200 megapixels (checked from the header before
// decoding), cover text at most 1024 characters (cut with "…" if it does
// not fit on the page). Memory: pages are compressed as soon as they are
// rendered (≈ 4 MB of working buffers plus ≈ 10–60 KB per output page).
package fax
