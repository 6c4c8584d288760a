package fax

import (
	"bytes"
	"compress/zlib"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/color"
	stddraw "image/draw"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"math"

	"golang.org/x/image/bmp"
	"golang.org/x/image/draw"
	"golang.org/x/image/tiff"
)

// encodedPage is one output page: a 1-bit DeviceGray bitmap (1 = white),
// rows padded to whole bytes, zlib (FlateDecode) compressed.
type encodedPage struct {
	flate         []byte
	width, height int
}

type renderer struct {
	ctx      context.Context
	lines    int // output page height
	max      int // page limit
	reserved int // pages reserved for the cover
	pages    []encodedPage
}

// room fails with ErrTooManyPages if n more pages would exceed the limit.
func (r *renderer) room(n int) error {
	if total := len(r.pages) + r.reserved + n; total > r.max {
		return fmt.Errorf("%w: more than %d", ErrTooManyPages, r.max)
	}
	return nil
}

// newPage returns a white page of the output size.
func (r *renderer) newPage() *image.Gray {
	g := image.NewGray(image.Rect(0, 0, PageWidth, r.lines))
	for i := range g.Pix {
		g.Pix[i] = 0xff
	}
	return g
}

// place scales src (square pixels, or pixels of the given aspect
// yres-corrected height/width) to fit a letter page, centred, preserving
// its aspect, and returns the page. Scaling goes through an RGBA buffer:
// x/image/draw has fast paths for RGBA destinations only.
func (r *renderer) place(src image.Image, aspect float64) *image.Gray {
	b := src.Bounds()
	sw, sh := float64(b.Dx()), float64(b.Dy())*aspect
	s := math.Min(PageWidth/sw, squareHeight/sh)
	w := min(PageWidth, max(1, int(math.Round(sw*s))))
	h := min(r.lines, max(1, int(math.Round(sh*s*float64(r.lines)/squareHeight))))
	tmp := image.NewRGBA(image.Rect(0, 0, w, h))
	op := draw.Src
	if o, ok := src.(interface{ Opaque() bool }); !ok || !o.Opaque() {
		stddraw.Draw(tmp, tmp.Bounds(), image.White, image.Point{}, stddraw.Src)
		op = draw.Over
	}
	draw.BiLinear.Scale(tmp, tmp.Bounds(), src, b, op, nil)
	dst := r.newPage()
	x0, y0 := (PageWidth-w)/2, (r.lines-h)/2
	for y := range h {
		in := tmp.Pix[y*tmp.Stride : y*tmp.Stride+4*w]
		out := dst.Pix[(y0+y)*dst.Stride+x0:]
		for x := range w {
			p := in[4*x : 4*x+3 : 4*x+3]
			out[x] = uint8((299*uint32(p[0]) + 587*uint32(p[1]) + 114*uint32(p[2]) + 500) / 1000)
		}
	}
	return dst
}

// squash resamples a square-pixel page (PageWidth × squareHeight) to the
// output line count with a vertical box filter.
func (r *renderer) squash(src *image.Gray) *image.Gray {
	sb := src.Bounds()
	W, H := sb.Dx(), sb.Dy()
	dst := image.NewGray(image.Rect(0, 0, W, r.lines))
	scale := float64(H) / float64(r.lines)
	acc := make([]float64, W)
	for y := range r.lines {
		y0, y1 := float64(y)*scale, float64(y+1)*scale
		clear(acc)
		for sy := int(y0); float64(sy) < y1 && sy < H; sy++ {
			wgt := math.Min(y1, float64(sy+1)) - math.Max(y0, float64(sy))
			off := src.PixOffset(sb.Min.X, sb.Min.Y+sy)
			for x, v := range src.Pix[off : off+W] {
				acc[x] += wgt * float64(v)
			}
		}
		row := dst.Pix[y*dst.Stride : y*dst.Stride+W]
		for x, a := range acc {
			row[x] = uint8(min(255, a/scale+0.5))
		}
	}
	return dst
}

// add appends a page, thresholded (dither=false: text and vector pages)
// or Floyd–Steinberg dithered (photos).
func (r *renderer) add(g *image.Gray, dither bool) error {
	if err := r.room(1); err != nil {
		return err
	}
	var p encodedPage
	var err error
	if dither {
		p, err = r.encodeDither(g)
	} else {
		p, err = r.encode(g)
	}
	if err != nil {
		return err
	}
	r.pages = append(r.pages, p)
	return nil
}

// encode thresholds g at 50% gray and compresses it.
func (r *renderer) encode(g *image.Gray) (encodedPage, error) {
	b := g.Bounds()
	stride := (b.Dx() + 7) / 8
	row := make([]byte, stride)
	var buf bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&buf, zlib.BestSpeed)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		clear(row)
		off := g.PixOffset(b.Min.X, y)
		for x, v := range g.Pix[off : off+b.Dx()] {
			if v >= 0x80 {
				row[x>>3] |= 0x80 >> (x & 7)
			}
		}
		zw.Write(row)
	}
	if err := zw.Close(); err != nil {
		return encodedPage{}, err
	}
	return encodedPage{flate: buf.Bytes(), width: b.Dx(), height: b.Dy()}, nil
}

var bw = color.Palette{color.Gray{0}, color.Gray{0xff}}

func (r *renderer) encodeDither(g *image.Gray) (encodedPage, error) {
	p := image.NewPaletted(g.Bounds(), bw)
	stddraw.FloydSteinberg.Draw(p, p.Bounds(), g, g.Bounds().Min)
	// Palette index 1 is white: reuse the threshold encoder on the indexes.
	for i, v := range p.Pix {
		p.Pix[i] = v * 0xff
	}
	return r.encode(&image.Gray{Pix: p.Pix, Stride: p.Stride, Rect: p.Rect})
}

// image renders a single-frame raster image (PNG, JPEG, GIF, BMP) onto one page.
func (r *renderer) image(d Document) error {
	if err := r.room(1); err != nil {
		return err
	}
	img, err := decodeBounded(d.Data)
	if err != nil {
		return &RenderError{FileName: d.FileName, Err: err}
	}
	return r.add(r.place(img, 1), true)
}

func decodeBounded(data []byte) (image.Image, error) {
	var decodeConfig func(io.Reader) (image.Config, error)
	var decode func(io.Reader) (image.Image, error)
	ct, _ := Sniff(Document{Data: data})
	switch ct {
	case TypePNG:
		decodeConfig, decode = png.DecodeConfig, png.Decode
	case TypeJPEG:
		decodeConfig, decode = jpeg.DecodeConfig, jpeg.Decode
	case TypeGIF:
		decodeConfig, decode = gif.DecodeConfig, gif.Decode
	case TypeBMP:
		decodeConfig, decode = bmp.DecodeConfig, bmp.Decode
	case TypeTIFF:
		decodeConfig, decode = tiff.DecodeConfig, tiff.Decode
	default:
		return nil, fmt.Errorf("not a raster image (%s)", ct)
	}
	cfg, err := decodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	if err := checkSize(cfg.Width, cfg.Height); err != nil {
		return nil, err
	}
	return decode(bytes.NewReader(data))
}

func checkSize(w, h int) error {
	if w <= 0 || h <= 0 {
		return fmt.Errorf("invalid image size %d×%d", w, h)
	}
	if w > MaxImageSide || h > MaxImageSide || w*h > maxImagePixels {
		return fmt.Errorf("image too large: %d×%d pixels (max %d per side, %d in total)", w, h, MaxImageSide, maxImagePixels)
	}
	return nil
}

// tiff renders every page (IFD) of a TIFF. golang.org/x/image/tiff decodes
// only the first IFD, so ifds walks the chain and each page is decoded
// through a view of the file whose header points at that IFD.
func (r *renderer) tiff(d Document) error {
	ifds, err := tiffIFDs(d.Data, r.max+1)
	if err != nil {
		return &RenderError{FileName: d.FileName, Err: err}
	}
	if err := r.room(len(ifds)); err != nil {
		return err
	}
	for i, ifd := range ifds {
		if err := r.ctx.Err(); err != nil {
			return err
		}
		v := &tiffView{data: d.Data, order: ifd.order}
		v.order.PutUint32(v.hdr[:], ifd.offset)
		cfg, err := tiff.DecodeConfig(v)
		if err == nil {
			err = checkSize(cfg.Width, cfg.Height)
		}
		var img image.Image
		if err == nil {
			img, err = tiff.Decode(v)
		}
		if err != nil {
			return &RenderError{FileName: d.FileName, Page: i + 1, Err: err}
		}
		bilevel := false
		switch img.(type) {
		case *image.Gray, *image.Paletted:
			bilevel = isBilevel(img)
		}
		if err := r.add(r.place(img, ifd.aspect), !bilevel); err != nil {
			return err
		}
	}
	return nil
}

// isBilevel reports whether a Gray or Paletted image has only black and white.
func isBilevel(img image.Image) bool {
	switch m := img.(type) {
	case *image.Gray:
		for _, v := range m.Pix {
			if v != 0 && v != 0xff {
				return false
			}
		}
		return true
	case *image.Paletted:
		return len(m.Palette) <= 2
	}
	return false
}

type tiffIFD struct {
	offset uint32
	order  binary.ByteOrder
	aspect float64 // YResolution-corrected pixel height / width (e.g. 2 for 204×98 fax pages)
}

// tiffIFDs walks the IFD chain of a classic (non-Big) TIFF.
func tiffIFDs(b []byte, limit int) ([]tiffIFD, error) {
	if len(b) < 8 {
		return nil, errors.New("truncated TIFF header")
	}
	var order binary.ByteOrder
	switch string(b[:4]) {
	case "II*\x00":
		order = binary.LittleEndian
	case "MM\x00*":
		order = binary.BigEndian
	default:
		return nil, errors.New("not a TIFF file")
	}
	var out []tiffIFD
	seen := map[uint32]bool{}
	off := order.Uint32(b[4:8])
	for off != 0 {
		if seen[off] {
			return nil, errors.New("TIFF IFD chain loops")
		}
		seen[off] = true
		if len(out) >= limit {
			break // the caller reports too many pages
		}
		if uint64(off)+2 > uint64(len(b)) {
			return nil, fmt.Errorf("TIFF IFD offset %d out of range", off)
		}
		n := int(order.Uint16(b[off:]))
		end := uint64(off) + 2 + uint64(n)*12
		if end+4 > uint64(len(b)) {
			return nil, fmt.Errorf("truncated TIFF IFD at %d", off)
		}
		ifd := tiffIFD{offset: off, order: order, aspect: 1}
		var xres, yres float64
		for i := range n {
			e := b[uint64(off)+2+uint64(i)*12:]
			tag, typ, cnt := order.Uint16(e), order.Uint16(e[2:]), order.Uint32(e[4:])
			if (tag == 282 || tag == 283) && typ == 5 && cnt == 1 { // X/YResolution RATIONAL
				p := uint64(order.Uint32(e[8:]))
				if p+8 <= uint64(len(b)) {
					num, den := order.Uint32(b[p:]), order.Uint32(b[p+4:])
					if den != 0 {
						if tag == 282 {
							xres = float64(num) / float64(den)
						} else {
							yres = float64(num) / float64(den)
						}
					}
				}
			}
		}
		if xres > 0 && yres > 0 {
			ifd.aspect = math.Min(4, math.Max(0.25, xres/yres))
		}
		out = append(out, ifd)
		off = order.Uint32(b[end:])
	}
	if len(out) == 0 {
		return nil, errors.New("TIFF has no pages")
	}
	return out, nil
}

// tiffView is the TIFF file with its first-IFD offset (bytes 4–8) replaced.
type tiffView struct {
	data  []byte
	order binary.ByteOrder
	hdr   [4]byte
}

func (v *tiffView) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("negative offset")
	}
	if off >= int64(len(v.data)) {
		return 0, io.EOF
	}
	n := copy(p, v.data[off:])
	for i := range n {
		if o := off + int64(i); o >= 4 && o < 8 {
			p[i] = v.hdr[o-4]
		}
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// Read is never used by x/image/tiff (it prefers io.ReaderAt) but makes
// tiffView an io.Reader.
func (v *tiffView) Read(p []byte) (int, error) { return 0, errors.New("tiffView: use ReadAt") }
