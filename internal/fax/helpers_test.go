package fax

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"fmt"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/go-pdf/fpdf"
)

func TestMain(m *testing.M) {
	// Share wazero's compiled PDFium between test runs (the pool itself is
	// already created once per process by pool()).
	SetCompilationCacheDir(filepath.Join(os.TempDir(), "switchboard-fax-test-wazero-cache"))
	os.Exit(m.Run())
}

// makePDF generates a Letter PDF with n pages of text and a filled box.
func makePDF(t testing.TB, n int) []byte {
	t.Helper()
	p := fpdf.New("P", "pt", "Letter", "")
	p.SetFont("Helvetica", "", 14)
	for i := 1; i <= n; i++ {
		p.AddPage()
		p.Cell(0, 20, fmt.Sprintf("Switchboard fax test page %d of %d", i, n))
		p.Rect(72, 144, 200, 100, "F")
	}
	var b bytes.Buffer
	if err := p.Output(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func grayImage(w, h int, f func(x, y int) uint8) *image.Gray {
	g := image.NewGray(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			g.Pix[y*g.Stride+x] = f(x, y)
		}
	}
	return g
}

// topHalfBlack is black in its upper half: used to check orientation.
func topHalfBlack(w, h int) *image.Gray {
	return grayImage(w, h, func(x, y int) uint8 {
		if y < h/2 {
			return 0
		}
		return 0xff
	})
}

func encodePNG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func encodeJPEG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func encodeGIF(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := gif.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

type tiffPage struct {
	img        *image.Gray
	xres, yres uint32 // dpi; 0 omits the tags
}

// makeTIFF writes a little-endian multi-page TIFF (8-bit gray,
// uncompressed, one strip per page) — x/image/tiff writes one page only.
func makeTIFF(pages ...tiffPage) []byte {
	le := binary.LittleEndian
	var b bytes.Buffer
	b.WriteString("II*\x00\x00\x00\x00\x00")
	prevNext := 4 // where to patch the offset of the next IFD
	for _, p := range pages {
		w, h := p.img.Bounds().Dx(), p.img.Bounds().Dy()
		data := b.Len()
		b.Write(p.img.Pix)
		rat := b.Len()
		binary.Write(&b, le, [4]uint32{p.xres, 1, p.yres, 1})
		if b.Len()%2 == 1 {
			b.WriteByte(0)
		}
		ifd := b.Len()
		out := b.Bytes()
		le.PutUint32(out[prevNext:], uint32(ifd))
		type entry struct {
			tag, typ uint16
			val      uint32
		}
		es := []entry{{256, 4, uint32(w)}, {257, 4, uint32(h)}, {258, 3, 8}, {259, 3, 1}, {262, 3, 1},
			{273, 4, uint32(data)}, {277, 3, 1}, {278, 4, uint32(h)}, {279, 4, uint32(w * h)}}
		if p.xres > 0 {
			es = append(es, entry{282, 5, uint32(rat)}, entry{283, 5, uint32(rat + 8)}, entry{296, 3, 2})
		}
		binary.Write(&b, le, uint16(len(es)))
		for _, e := range es {
			binary.Write(&b, le, e.tag)
			binary.Write(&b, le, e.typ)
			binary.Write(&b, le, uint32(1))
			if e.typ == 3 {
				binary.Write(&b, le, [2]uint16{uint16(e.val), 0})
			} else {
				binary.Write(&b, le, e.val)
			}
		}
		prevNext = b.Len()
		binary.Write(&b, le, uint32(0))
	}
	return b.Bytes()
}

func longText(lines int) []byte {
	var b strings.Builder
	for i := 1; i <= lines; i++ {
		fmt.Fprintf(&b, "Line %d: The quick brown fox jumps over the lazy dog.\n", i)
	}
	return []byte(b.String())
}

// parsedPage is one page of a PDF written by writePDF.
type parsedPage struct {
	width, height int
	bits          []byte // 1 bit per pixel, 1 = white, rows padded to bytes
}

func (p parsedPage) black(x, y int) bool {
	stride := (p.width + 7) / 8
	return p.bits[y*stride+x/8]&(0x80>>(x%8)) == 0
}

// blackRatio returns the share of black pixels in rows [y0, y1).
func (p parsedPage) blackRatio(y0, y1 int) float64 {
	n := 0
	for y := y0; y < y1; y++ {
		for x := range p.width {
			if p.black(x, y) {
				n++
			}
		}
	}
	return float64(n) / float64(p.width*(y1-y0))
}

var (
	reXref   = regexp.MustCompile(`startxref\n(\d+)\n%%EOF\n$`)
	reCount  = regexp.MustCompile(`/Type /Pages /Count (\d+)`)
	reImage  = regexp.MustCompile(`/Subtype /Image /Width (\d+) /Height (\d+) /ColorSpace /DeviceGray /BitsPerComponent 1 /Filter /FlateDecode /Length (\d+) >>\nstream\n`)
	rePageOb = regexp.MustCompile(`/Type /Page /Parent`)
)

// parsePDF checks the structure of a PDF produced by writePDF (xref
// offsets point at their objects, page count, stream lengths) and returns
// its decoded pages.
func parsePDF(t testing.TB, pdf []byte) []parsedPage {
	t.Helper()
	if !bytes.HasPrefix(pdf, []byte("%PDF-1.4\n")) {
		t.Fatalf("no PDF header")
	}
	m := reXref.FindSubmatch(pdf)
	if m == nil {
		t.Fatalf("no startxref/EOF trailer")
	}
	xref, _ := strconv.Atoi(string(m[1]))
	if !bytes.HasPrefix(pdf[xref:], []byte("xref\n0 ")) {
		t.Fatalf("startxref %d does not point at xref", xref)
	}
	lines := strings.Split(string(pdf[xref:]), "\n")
	size, _ := strconv.Atoi(strings.Fields(lines[1])[1])
	for i := 1; i < size; i++ {
		off, _ := strconv.Atoi(lines[2+i][:10])
		if want := fmt.Sprintf("%d 0 obj\n", i); !bytes.HasPrefix(pdf[off:], []byte(want)) {
			t.Fatalf("xref entry %d (offset %d) does not point at %q", i, off, want)
		}
	}
	cm := reCount.FindSubmatch(pdf)
	if cm == nil {
		t.Fatalf("no page tree")
	}
	count, _ := strconv.Atoi(string(cm[1]))
	if n := len(rePageOb.FindAll(pdf, -1)); n != count {
		t.Fatalf("/Count %d but %d page objects", count, n)
	}
	var pages []parsedPage
	for _, loc := range reImage.FindAllSubmatchIndex(pdf, -1) {
		w, _ := strconv.Atoi(string(pdf[loc[2]:loc[3]]))
		h, _ := strconv.Atoi(string(pdf[loc[4]:loc[5]]))
		n, _ := strconv.Atoi(string(pdf[loc[6]:loc[7]]))
		stream := pdf[loc[1] : loc[1]+n]
		if !bytes.HasPrefix(pdf[loc[1]+n:], []byte("\nendstream")) {
			t.Fatalf("stream length %d is wrong", n)
		}
		zr, err := zlib.NewReader(bytes.NewReader(stream))
		if err != nil {
			t.Fatal(err)
		}
		bits, err := io.ReadAll(zr)
		if err != nil {
			t.Fatal(err)
		}
		if want := (w + 7) / 8 * h; len(bits) != want {
			t.Fatalf("image %dx%d has %d bytes, want %d", w, h, len(bits), want)
		}
		pages = append(pages, parsedPage{width: w, height: h, bits: bits})
	}
	if len(pages) != count {
		t.Fatalf("%d images for %d pages", len(pages), count)
	}
	return pages
}
