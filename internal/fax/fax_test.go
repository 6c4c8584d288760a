package fax

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/klippa-app/go-pdfium/requests"
)

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSniff(t *testing.T) {
	png1 := encodePNG(t, topHalfBlack(10, 10))
	tests := []struct {
		name, file string
		data       []byte
		want       string // "" = *UnsupportedError
	}{
		{"pdf", "a.pdf", makePDF(t, 1), TypePDF},
		{"pdf with junk before header", "a.pdf", append([]byte("garbage\n"), makePDF(t, 1)...), TypePDF},
		{"tiff LE", "a.tif", makeTIFF(tiffPage{img: topHalfBlack(4, 4)}), TypeTIFF},
		{"tiff BE", "a.tif", []byte("MM\x00*\x00\x00\x00\x08"), TypeTIFF},
		{"png named .txt", "a.txt", png1, TypePNG},
		{"jpeg", "a.jpg", encodeJPEG(t, topHalfBlack(10, 10)), TypeJPEG},
		{"gif", "a.gif", encodeGIF(t, topHalfBlack(10, 10)), TypeGIF},
		{"bmp", "a.bmp", append([]byte("BM"), make([]byte, 60)...), TypeBMP},
		{"utf-8 text", "a.txt", []byte("Hello, wörld\n\tTabbed\r\n"), TypeText},
		{"text starting with BM", "a.txt", []byte("BMW service report: all fine, nothing to add here.\n"), TypeText},
		{"utf-8 BOM", "a.txt", []byte("\xef\xbb\xbfhi"), TypeText},
		{"utf-16 BOM", "a.txt", []byte("\xff\xfeh\x00i\x00"), TypeText},
		{"latin-1", "a.txt", []byte("caf\xe9 cr\xe8me"), TypeText},
		{"docx (zip)", "a.docx", []byte("PK\x03\x04\x14\x00\x06\x00rest-of-zip"), ""},
		{"doc (OLE)", "a.doc", []byte("\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00\x00"), ""},
		{"webp", "a.webp", []byte("RIFF\x00\x00\x00\x00WEBPVP8 "), ""},
		{"empty", "a.pdf", nil, ""},
		{"binary", "a.bin", []byte{1, 2, 3, 0, 5, 6, 7, 8}, ""},
		{"binary named .jpg", "b.jpg", []byte{1, 2, 3, 0, 5, 6, 7, 8}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Sniff(Document{FileName: tt.file, Data: tt.data})
			if tt.want == "" {
				var ue *UnsupportedError
				if !errors.As(err, &ue) || ue.FileName != tt.file || !strings.Contains(err.Error(), tt.file) {
					t.Fatalf("Sniff = %q, %v; want *UnsupportedError naming %s", got, err, tt.file)
				}
				// Bytes that are no format at all under a supported name are
				// a mismatch, not an "unsupported JPEG".
				mismatch := strings.HasSuffix(tt.file, ".jpg") || strings.HasSuffix(tt.file, ".pdf") && len(tt.data) > 0
				if ue.Mismatch != mismatch || strings.Contains(err.Error(), "does not match its declared type") != mismatch {
					t.Fatalf("Sniff(%s) = %v: mismatch %v, want %v", tt.file, err, ue.Mismatch, mismatch)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Sniff = %q, %v; want %s", got, err, tt.want)
			}
		})
	}
}

func TestRenderPageCounts(t *testing.T) {
	ctx := context.Background()
	gray := grayImage(600, 400, func(x, y int) uint8 { return uint8(x * 255 / 600) })
	tests := []struct {
		name  string
		docs  []Document
		pages int
	}{
		{"generated 3-page PDF", []Document{{FileName: "three.pdf", Data: makePDF(t, 3)}}, 3},
		{"fixture PDF, 3 pages of mixed sizes", []Document{{FileName: "sizes.pdf", Data: fixture(t, "fpdf-pagesize-3p.pdf")}}, 3},
		{"generated 3-page TIFF", []Document{{FileName: "three.tif", Data: makeTIFF(
			tiffPage{img: topHalfBlack(850, 1100), xres: 100, yres: 100},
			tiffPage{img: topHalfBlack(1728, 1078), xres: 204, yres: 98},
			tiffPage{img: gray})}}, 3},
		{"fixture TIFF, CCITT G4", []Document{{FileName: "g4.tif", Data: fixture(t, "gopher-g4.tiff")}}, 1},
		{"PNG", []Document{{FileName: "a.png", Data: encodePNG(t, gray)}}, 1},
		{"JPEG", []Document{{FileName: "a.jpg", Data: encodeJPEG(t, gray)}}, 1},
		{"GIF", []Document{{FileName: "a.gif", Data: encodeGIF(t, gray)}}, 1},
		{"short text", []Document{{FileName: "a.txt", Data: []byte("Hello fax\n")}}, 1},
		{"empty text lines", []Document{{FileName: "a.txt", Data: []byte("\n\n")}}, 1},
		{"long text, 150 lines at 61 per page", []Document{{FileName: "a.txt", Data: longText(150)}}, 3},
		{"one very long line wraps", []Document{{FileName: "a.txt", Data: []byte(strings.Repeat("word ", 90*70/5))}}, 2},
		{"form feeds", []Document{{FileName: "a.txt", Data: []byte("page 1\fpage 2\fpage 3")}}, 3},
		{"documents in order", []Document{
			{FileName: "a.txt", Data: []byte("first")},
			{FileName: "b.pdf", Data: makePDF(t, 2)},
			{FileName: "c.png", Data: encodePNG(t, gray)},
		}, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Render(ctx, tt.docs, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if res.Pages != tt.pages {
				t.Fatalf("Pages = %d, want %d", res.Pages, tt.pages)
			}
			pages := parsePDF(t, res.PDF)
			if len(pages) != tt.pages {
				t.Fatalf("PDF has %d pages, want %d", len(pages), tt.pages)
			}
			for i, p := range pages {
				if p.width != PageWidth || p.height != LinesHigh {
					t.Errorf("page %d is %dx%d, want %dx%d", i+1, p.width, p.height, PageWidth, LinesHigh)
				}
				if r := p.blackRatio(0, p.height); (r <= 0 && tt.name != "empty text lines") || r > 0.6 {
					t.Errorf("page %d black ratio %.4f, want (0, 0.6]", i+1, r)
				}
			}
		})
	}
}

func TestResolution(t *testing.T) {
	for _, tt := range []struct {
		res   Resolution
		lines int
	}{{High, 2156}, {Low, 1078}} {
		t.Run(tt.res.String(), func(t *testing.T) {
			docs := []Document{
				{FileName: "a.pdf", Data: makePDF(t, 1)},
				{FileName: "a.png", Data: encodePNG(t, topHalfBlack(1000, 1294))}, // letter aspect
				{FileName: "a.txt", Data: []byte("text")},
			}
			res, err := Render(context.Background(), docs, Options{Resolution: tt.res, Cover: &Cover{Index: 1}})
			if err != nil {
				t.Fatal(err)
			}
			for i, p := range parsePDF(t, res.PDF) {
				if p.width != PageWidth || p.height != tt.lines {
					t.Errorf("page %d is %dx%d, want %dx%d", i+1, p.width, p.height, PageWidth, tt.lines)
				}
			}
			// Orientation and aspect: the PNG (page 3) is black in its top half only.
			p := parsePDF(t, res.PDF)[2]
			h := p.height
			if top, bottom := p.blackRatio(h/10, h*4/10), p.blackRatio(h*6/10, h*9/10); top < 0.95 || bottom > 0.05 {
				t.Errorf("PNG page: top black %.3f, bottom black %.3f; want ≈1 and ≈0", top, bottom)
			}
		})
	}
}

func TestCoverPage(t *testing.T) {
	ctx := context.Background()
	doc := []Document{{FileName: "a.pdf", Data: makePDF(t, 2)}}
	plain, err := Render(ctx, doc, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tpl := range CoverTemplates() {
		t.Run(tpl.Name, func(t *testing.T) {
			c := &Cover{Index: tpl.Index, Text: strings.Repeat("Please review and sign. ", 43)[:1024],
				From: "Alice <+14155550100>", To: "Bob <+14155550111>", Subject: "Contract",
				Date: time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)}
			res, err := Render(ctx, doc, Options{Cover: c})
			if err != nil {
				t.Fatal(err)
			}
			want := plain.Pages
			if tpl.Index != 0 {
				want++
			}
			if res.Pages != want {
				t.Fatalf("Pages = %d, want %d", res.Pages, want)
			}
			if c.Pages != 0 {
				t.Errorf("caller's Cover was modified: Pages = %d", c.Pages)
			}
			pages := parsePDF(t, res.PDF)
			if tpl.Index != 0 {
				if r := pages[0].blackRatio(0, pages[0].height); r < 0.01 || r > 0.3 {
					t.Errorf("cover black ratio %.4f, want a printed page", r)
				}
			}
		})
	}
	t.Run("many newlines are cut to one page", func(t *testing.T) {
		res, err := Render(ctx, doc, Options{Cover: &Cover{Index: 2, Text: strings.Repeat("x\n", 512)}})
		if err != nil || res.Pages != 3 {
			t.Fatalf("Render = %v, %v; want 3 pages", res, err)
		}
	})
	for _, c := range []*Cover{{Index: 99}, {Index: -1}, {Index: 1, Text: strings.Repeat("é", 1025)}} {
		if _, err := Render(ctx, doc, Options{Cover: c}); !errors.Is(err, ErrInvalidCover) {
			t.Errorf("cover %d/%d chars: err = %v, want ErrInvalidCover", c.Index, len([]rune(c.Text)), err)
		}
	}
}

func TestCoverTemplates(t *testing.T) {
	tpls := CoverTemplates()
	if len(tpls) < 3 || tpls[0] != (CoverTemplate{0, "None"}) {
		t.Fatalf("CoverTemplates = %v; want None first and at least 2 templates", tpls)
	}
	seen := map[int]bool{}
	for _, c := range tpls {
		if seen[c.Index] || c.Name == "" {
			t.Errorf("duplicate or unnamed template %v", c)
		}
		seen[c.Index] = true
	}
}

func TestRenderErrors(t *testing.T) {
	pdf := makePDF(t, 3)
	png1 := encodePNG(t, topHalfBlack(100, 100))
	// A PNG whose header claims 30000×10 pixels: rejected before decoding.
	huge := encodePNG(t, topHalfBlack(1, 1))
	copy(huge[16:20], []byte{0, 0, 0x75, 0x30})
	// A TIFF whose last "next IFD" offset points back at its first IFD.
	loop := makeTIFF(tiffPage{img: topHalfBlack(4, 4)})
	copy(loop[len(loop)-4:], loop[4:8])

	type check func(error) bool
	isRender := func(err error) bool { var re *RenderError; return errors.As(err, &re) }
	isUnsupported := func(err error) bool { var ue *UnsupportedError; return errors.As(err, &ue) }
	is := func(target error) check { return func(err error) bool { return errors.Is(err, target) } }
	tests := []struct {
		name string
		docs []Document
		opts Options
		want check
	}{
		{"corrupt PDF", []Document{{FileName: "bad.pdf", Data: []byte("%PDF-1.4\n1 0 obj garbage\n%%EOF")}}, Options{}, isRender},
		{"truncated PDF", []Document{{FileName: "cut.pdf", Data: pdf[:len(pdf)/3]}}, Options{}, isRender},
		{"corrupt PNG", []Document{{FileName: "bad.png", Data: png1[:len(png1)/2]}}, Options{}, isRender},
		{"huge PNG header", []Document{{FileName: "huge.png", Data: huge}}, Options{}, isRender},
		{"corrupt JPEG", []Document{{FileName: "bad.jpg", Data: []byte("\xff\xd8\xff\xe0garbage")}}, Options{}, isRender},
		{"truncated TIFF", []Document{{FileName: "bad.tif", Data: []byte("II*\x00\xff\x00\x00\x00")}}, Options{}, isRender},
		{"TIFF IFD loop", []Document{{FileName: "loop.tif", Data: loop}}, Options{}, isRender},
		{"docx", []Document{{FileName: "a.txt", Data: []byte("ok")}, {FileName: "b.docx", Data: []byte("PK\x03\x04xxxxxxxx")}}, Options{}, isUnsupported},
		{"PDF over the page limit", []Document{{FileName: "a.pdf", Data: pdf}}, Options{MaxPages: 2}, is(ErrTooManyPages)},
		{"text over the page limit", []Document{{FileName: "a.txt", Data: longText(1000)}}, Options{MaxPages: 5}, is(ErrTooManyPages)},
		{"cover counts toward the limit", []Document{{FileName: "a.pdf", Data: pdf}}, Options{MaxPages: 3, Cover: &Cover{Index: 1}}, is(ErrTooManyPages)},
		{"TIFF over the page limit", []Document{{FileName: "a.tif", Data: makeTIFF(tiffPage{img: topHalfBlack(8, 8)}, tiffPage{img: topHalfBlack(8, 8)})}}, Options{MaxPages: 1}, is(ErrTooManyPages)},
		{"images over the page limit", []Document{{FileName: "1.png", Data: png1}, {FileName: "2.png", Data: png1}}, Options{MaxPages: 1}, is(ErrTooManyPages)},
		{"default limit 200", []Document{{FileName: "a.txt", Data: []byte(strings.Repeat("\f", 200) + "page 201")}}, Options{}, is(ErrTooManyPages)},
		{"too large", []Document{{FileName: "a.png", Data: png1}}, Options{MaxBytes: 10}, is(ErrTooLarge)},
		{"no documents", nil, Options{}, is(ErrNoDocuments)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Render(context.Background(), tt.docs, tt.opts)
			if !tt.want(err) {
				pages := 0
				if res != nil {
					pages = res.Pages
				}
				t.Fatalf("Render = %d pages, %v", pages, err)
			}
			t.Log(err)
		})
	}
}

func TestRenderCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Render(ctx, []Document{{FileName: "a.txt", Data: longText(500)}}, Options{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

// TestOutputReopens opens the output with PDFium, an independent parser.
func TestOutputReopens(t *testing.T) {
	res, err := Render(context.Background(), []Document{
		{FileName: "a.pdf", Data: fixture(t, "fpdf-pagesize-3p.pdf")},
		{FileName: "b.txt", Data: longText(100)},
	}, Options{Resolution: Low, Cover: &Cover{Index: 1}})
	if err != nil {
		t.Fatal(err)
	}
	p, err := pool()
	if err != nil {
		t.Fatal(err)
	}
	inst, err := p.GetInstance(time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	defer inst.Close()
	doc, err := inst.OpenDocument(&requests.OpenDocument{File: &res.PDF})
	if err != nil {
		t.Fatal(err)
	}
	defer inst.FPDF_CloseDocument(&requests.FPDF_CloseDocument{Document: doc.Document})
	pc, err := inst.FPDF_GetPageCount(&requests.FPDF_GetPageCount{Document: doc.Document})
	if err != nil || pc.PageCount != res.Pages || res.Pages != 6 {
		t.Fatalf("PDFium page count %v, %v; Result.Pages %d; want 6", pc, err, res.Pages)
	}
	for i := range pc.PageCount {
		sz, err := inst.GetPageSize(&requests.GetPageSize{Page: requests.Page{ByIndex: &requests.PageByIndex{Document: doc.Document, Index: i}}})
		if err != nil || sz.Width != 612 || sz.Height != 792 {
			t.Errorf("page %d size %v, %v; want 612x792", i+1, sz, err)
		}
	}
}

// TestPdfinfo cross-checks the output with poppler when it is installed.
func TestPdfinfo(t *testing.T) {
	bin, err := exec.LookPath("pdfinfo")
	if err != nil {
		t.Skip("pdfinfo (poppler-utils) not installed")
	}
	res, err := Render(context.Background(), []Document{{FileName: "a.pdf", Data: makePDF(t, 3)}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(t.TempDir(), "out.pdf")
	if err := os.WriteFile(f, res.PDF, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, f).CombinedOutput()
	if err != nil {
		t.Fatalf("pdfinfo: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "Pages:") || !strings.Contains(string(out), "Pages:           "+strconv.Itoa(res.Pages)) {
		t.Fatalf("pdfinfo output:\n%s", out)
	}
}

func TestWrapText(t *testing.T) {
	tests := []struct {
		in   string
		cols int
		want []string
	}{
		{"a b c", 10, []string{"a b c"}},
		{"hello world foo", 11, []string{"hello world", "foo"}},
		{"abcdefghij", 4, []string{"abcd", "efgh", "ij"}},
		{"a\tb", 20, []string{"a       b"}},
		{"x\r\ny\rz", 5, []string{"x", "y", "z"}},
		{"p1\fp2", 5, []string{"p1", pageBreak, "p2"}},
		{"bell\a!", 10, []string{"bell!"}},
	}
	for _, tt := range tests {
		got := wrapText(tt.in, tt.cols)
		if strings.Join(got, "|") != strings.Join(tt.want, "|") {
			t.Errorf("wrapText(%q, %d) = %q, want %q", tt.in, tt.cols, got, tt.want)
		}
	}
}

func FuzzSniff(f *testing.F) {
	f.Add([]byte("%PDF-1.7\n"))
	f.Add([]byte("II*\x00\x08\x00\x00\x00"))
	f.Add([]byte("\x89PNG\r\n\x1a\n"))
	f.Add([]byte("PK\x03\x04"))
	f.Add([]byte("hello\n"))
	f.Add([]byte("\xff\xfeh\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ct, err := Sniff(Document{FileName: "f", Data: data})
		if err != nil {
			var ue *UnsupportedError
			if !errors.As(err, &ue) || ct != "" {
				t.Fatalf("Sniff = %q, %v", ct, err)
			}
			return
		}
		switch ct {
		case TypePDF, TypeTIFF, TypePNG, TypeJPEG, TypeGIF, TypeBMP:
		case TypeText:
			_ = wrapText(decodeText(data), 90) // must not panic
		default:
			t.Fatalf("unexpected type %q", ct)
		}
		if ct == TypeTIFF {
			_, _ = tiffIFDs(data, 10) // must not panic
		}
	})
}
