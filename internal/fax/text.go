package fax

import (
	"bytes"
	"encoding/binary"
	"image"
	"strings"
	"sync"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/gomono"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
)

// Text pages: Go Mono 10 pt (12 characters per inch, 90 columns), 6 lines
// per inch, ½ inch margins: 61 lines per page. Characters the Go fonts
// lack (e.g. CJK) print as a box.
const (
	textPointSize = 10
	textLeading   = 12 // points
	marginPt      = 36 // ½ inch
	tabWidth      = 8
)

var (
	fontsOnce                sync.Once
	fontMono, fontReg, fontB *opentype.Font
	fontsErr                 error
)

func loadFonts() error {
	fontsOnce.Do(func() {
		for _, f := range []struct {
			dst **opentype.Font
			ttf []byte
		}{{&fontMono, gomono.TTF}, {&fontReg, goregular.TTF}, {&fontB, gobold.TTF}} {
			if *f.dst, fontsErr = opentype.Parse(f.ttf); fontsErr != nil {
				return
			}
		}
	})
	return fontsErr
}

// newFace returns a face at size points for the square-pixel canvas.
// Faces are not safe for concurrent use, so each render makes its own.
func newFace(f *opentype.Font, size float64) font.Face {
	face, err := opentype.NewFace(f, &opentype.FaceOptions{Size: size, DPI: squareDPI, Hinting: font.HintingFull})
	if err != nil { // only fails for invalid options
		panic(err)
	}
	return face
}

func pt(p float64) int { return int(p * squareDPI / 72) }

// squareCanvas returns a white page at square pixels.
func squareCanvas() *image.Gray {
	g := image.NewGray(image.Rect(0, 0, PageWidth, squareHeight))
	for i := range g.Pix {
		g.Pix[i] = 0xff
	}
	return g
}

// text typesets a plain-text document onto as many pages as needed.
func (r *renderer) text(d Document) error {
	if err := loadFonts(); err != nil {
		return &RenderError{FileName: d.FileName, Err: err}
	}
	face := newFace(fontMono, textPointSize)
	defer face.Close()
	adv, _ := face.GlyphAdvance('M')
	cols := (PageWidth - 2*pt(marginPt)) / adv.Ceil()
	rows := (squareHeight - 2*pt(marginPt)) / pt(textLeading)

	pages := paginate(wrapText(decodeText(d.Data), cols), rows)
	if err := r.room(len(pages)); err != nil {
		return err
	}
	for _, lines := range pages {
		if err := r.ctx.Err(); err != nil {
			return err
		}
		g := squareCanvas()
		dr := font.Drawer{Dst: g, Src: image.Black, Face: face}
		ascent := face.Metrics().Ascent.Ceil()
		for i, line := range lines {
			dr.Dot = fixed.P(pt(marginPt), pt(marginPt)+ascent+i*pt(textLeading))
			dr.DrawString(line)
		}
		if err := r.add(r.squash(g), false); err != nil {
			return err
		}
	}
	return nil
}

// decodeText converts UTF-8 (with or without BOM), UTF-16 with BOM or
// Latin-1 bytes to a string.
func decodeText(b []byte) string {
	if hasUTF16BOM(b) {
		var order binary.ByteOrder = binary.LittleEndian
		if b[0] == 0xfe {
			order = binary.BigEndian
		}
		u := make([]uint16, 0, len(b)/2)
		for i := 2; i+1 < len(b); i += 2 {
			u = append(u, order.Uint16(b[i:]))
		}
		return string(utf16.Decode(u))
	}
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	if utf8.Valid(b) {
		return string(b)
	}
	rs := make([]rune, len(b))
	for i, c := range b {
		rs[i] = rune(c)
	}
	return string(rs)
}

// pageBreak is a line that starts a new page (from a form feed).
const pageBreak = "\f"

// wrapText splits text into display lines of at most cols characters,
// breaking at spaces where possible, expanding tabs and dropping other
// control characters. Form feeds become pageBreak lines.
func wrapText(s string, cols int) []string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	s = strings.ReplaceAll(s, "\f", "\n"+pageBreak+"\n")
	s = strings.TrimSuffix(s, "\n")
	var out []string
	for _, para := range strings.Split(s, "\n") {
		if para == pageBreak {
			out = append(out, pageBreak)
			continue
		}
		var line []rune
		for _, c := range para {
			switch {
			case c == '\t':
				for n := tabWidth - len(line)%tabWidth; n > 0; n-- {
					line = append(line, ' ')
				}
			case unicode.IsControl(c) || c == utf8.RuneError:
				continue
			default:
				line = append(line, c)
			}
		}
		for len(line) > cols {
			cut := cols
			if i := lastSpace(line[:cols+1]); i > cols/2 {
				cut = i
			}
			out = append(out, strings.TrimRight(string(line[:cut]), " "))
			line = line[cut:]
			for len(line) > 0 && line[0] == ' ' {
				line = line[1:]
			}
		}
		out = append(out, string(line))
	}
	return out
}

func lastSpace(rs []rune) int {
	for i := len(rs) - 1; i >= 0; i-- {
		if rs[i] == ' ' {
			return i
		}
	}
	return -1
}

// paginate groups lines into pages of rows lines; an empty document gives
// one blank page.
func paginate(lines []string, rows int) [][]string {
	var pages [][]string
	var cur []string
	started := false
	for _, l := range lines {
		if l == pageBreak {
			pages = append(pages, cur)
			cur, started = nil, false
			continue
		}
		if len(cur) == rows {
			pages = append(pages, cur)
			cur = nil
		}
		cur = append(cur, l)
		started = true
	}
	if started || len(pages) == 0 {
		pages = append(pages, cur)
	}
	return pages
}
