package fax

import (
	"image"
	"image/draw"
	"strconv"
	"strings"

	"golang.org/x/image/font"
	"golang.org/x/image/math/fixed"
)

// CoverTemplate is one entry of the fax cover page dictionary
// (GET /restapi/v1.0/dictionary/fax-cover-page answers {id, name}).
type CoverTemplate struct {
	Index int
	Name  string
}

type coverStyle struct {
	name, title string
	notice      string // printed in a box at the bottom, if set
}

var coverStyles = []coverStyle{
	1: {name: "Standard", title: "FAX"},
	2: {name: "Confidential", title: "CONFIDENTIAL FAX",
		notice: "The information in this facsimile is confidential and intended only for the recipient named above. " +
			"If you are not the intended recipient, any review, use, disclosure or copying of it is prohibited. " +
			"If you received this fax in error, please notify the sender immediately and destroy all copies."},
	3: {name: "Memo", title: "MEMORANDUM"},
}

// CoverTemplates lists the cover pages, "None" (0) first.
func CoverTemplates() []CoverTemplate {
	out := []CoverTemplate{{Index: 0, Name: "None"}}
	for i, s := range coverStyles {
		if i > 0 {
			out = append(out, CoverTemplate{Index: i, Name: s.name})
		}
	}
	return out
}

func coverTemplate(i int) (coverStyle, bool) {
	if i <= 0 || i >= len(coverStyles) {
		return coverStyle{}, false
	}
	return coverStyles[i], true
}

// renderCover draws the cover page on a square-pixel canvas. Text that
// does not fit on the page is cut and ends with "…".
func renderCover(c *Cover) (*image.Gray, error) {
	if err := loadFonts(); err != nil {
		return nil, err
	}
	style, _ := coverTemplate(c.Index)
	g := squareCanvas()
	left, right := pt(54), PageWidth-pt(54) // ¾ inch margins
	bottom := squareHeight - pt(54)
	width := right - left

	title := newFace(fontB, 40)
	defer title.Close()
	label := newFace(fontB, 14)
	defer label.Close()
	body := newFace(fontReg, 14)
	defer body.Close()
	small := newFace(fontReg, 10)
	defer small.Close()

	y := pt(54) + title.Metrics().Ascent.Ceil()
	drawString(g, title, left, y, style.title)
	y += pt(14)
	fill(g, image.Rect(left, y, right, y+pt(3)))
	y += pt(3) + pt(30)

	fields := []struct{ k, v string }{
		{"To:", c.To}, {"From:", c.From}, {"Subject:", c.Subject}, {"Pages:", strconv.Itoa(c.Pages)},
	}
	if !c.Date.IsZero() {
		fields = append([]struct{ k, v string }{{"Date:", c.Date.Format("January 2, 2006 15:04 MST")}}, fields...)
	}
	valueX := left + pt(90)
	for _, f := range fields {
		lines := wrapMeasured(body, f.v, right-valueX)
		if len(lines) > 3 {
			lines = append(lines[:2], ellipsize(body, lines[2], right-valueX))
		}
		drawString(g, label, left, y, f.k)
		for _, l := range lines {
			drawString(g, body, valueX, y, l)
			y += pt(20)
		}
		if len(lines) == 0 {
			y += pt(20)
		}
	}
	y += pt(6)
	fill(g, image.Rect(left, y, right, y+pt(1)))
	y += pt(30)

	textBottom := bottom
	var notice []string
	if style.notice != "" {
		notice = wrapMeasured(small, style.notice, width-2*pt(10))
		textBottom = bottom - len(notice)*pt(13) - 2*pt(10) - pt(20)
	}
	if c.Text != "" {
		lines := wrapMeasured(body, c.Text, width)
		fit := (textBottom - y) / pt(18)
		if len(lines) > fit && fit > 0 {
			lines = append(lines[:fit-1], ellipsize(body, lines[fit-1], width))
		}
		for i, l := range lines {
			if i >= fit {
				break
			}
			drawString(g, body, left, y+body.Metrics().Ascent.Ceil(), l)
			y += pt(18)
		}
	}
	if len(notice) > 0 {
		top := bottom - len(notice)*pt(13) - 2*pt(10)
		box := image.Rect(left, top, right, bottom)
		frame(g, box, pt(1.5))
		ny := top + pt(10) + small.Metrics().Ascent.Ceil()
		for _, l := range notice {
			drawString(g, small, left+pt(10), ny, l)
			ny += pt(13)
		}
	}
	return g, nil
}

func drawString(g *image.Gray, f font.Face, x, y int, s string) {
	d := font.Drawer{Dst: g, Src: image.Black, Face: f, Dot: fixed.P(x, y)}
	d.DrawString(s)
}

func fill(g *image.Gray, r image.Rectangle) {
	draw.Draw(g, r, image.Black, image.Point{}, draw.Src)
}

func frame(g *image.Gray, r image.Rectangle, w int) {
	fill(g, image.Rect(r.Min.X, r.Min.Y, r.Max.X, r.Min.Y+w))
	fill(g, image.Rect(r.Min.X, r.Max.Y-w, r.Max.X, r.Max.Y))
	fill(g, image.Rect(r.Min.X, r.Min.Y, r.Min.X+w, r.Max.Y))
	fill(g, image.Rect(r.Max.X-w, r.Min.Y, r.Max.X, r.Max.Y))
}

// wrapMeasured wraps text in a proportional face to lines at most width
// pixels wide, breaking at spaces, and within words that are too long.
func wrapMeasured(f font.Face, s string, width int) []string {
	limit := fixed.I(width)
	var out []string
	for _, para := range wrapText(s, 1<<20) {
		if para == pageBreak {
			continue
		}
		line := ""
		for _, w := range strings.Fields(para) {
			cand := w
			if line != "" {
				cand = line + " " + w
			}
			if font.MeasureString(f, cand) <= limit {
				line = cand
				continue
			}
			if line != "" {
				out = append(out, line)
			}
			line = ""
			for _, c := range w { // hard-break an over-long word
				if line != "" && font.MeasureString(f, line+string(c)) > limit {
					out = append(out, line)
					line = ""
				}
				line += string(c)
			}
		}
		out = append(out, line)
	}
	return out
}

func ellipsize(f font.Face, s string, width int) string {
	rs := []rune(s)
	for len(rs) > 0 && font.MeasureString(f, string(rs)+"…") > fixed.I(width) {
		rs = rs[:len(rs)-1]
	}
	return string(rs) + "…"
}
