package fax

import (
	"bytes"
	"strings"
	"unicode/utf8"
)

// Canonical content types returned by Sniff.
const (
	TypePDF  = "application/pdf"
	TypeTIFF = "image/tiff"
	TypePNG  = "image/png"
	TypeJPEG = "image/jpeg"
	TypeGIF  = "image/gif"
	TypeBMP  = "image/bmp"
	TypeText = "text/plain"
)

// Sniff checks a document's type by its content (the declared Content-Type
// and file extension are only used to name the type in the error) and
// returns the canonical content type, or an *UnsupportedError naming the
// file. Binary formats are recognised by their signatures; anything else
// is accepted as plain text if it decodes as UTF-8 (optionally with a BOM),
// UTF-16 with a BOM, or Latin-1 without control characters.
func Sniff(d Document) (string, error) {
	b := d.Data
	switch {
	case len(b) == 0:
		return "", &UnsupportedError{FileName: d.FileName, ContentType: d.ContentType, Detected: "empty document"}
	case bytes.HasPrefix(b, []byte("%PDF-")) || (bytes.Contains(head(b, 1024), []byte("%PDF-")) && !isBinaryKnown(b)):
		return TypePDF, nil
	case bytes.HasPrefix(b, []byte("II*\x00")) || bytes.HasPrefix(b, []byte("MM\x00*")):
		return TypeTIFF, nil
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")):
		return TypePNG, nil
	case bytes.HasPrefix(b, []byte("\xff\xd8\xff")):
		return TypeJPEG, nil
	case bytes.HasPrefix(b, []byte("GIF87a")) || bytes.HasPrefix(b, []byte("GIF89a")):
		return TypeGIF, nil
	case bytes.HasPrefix(b, []byte("BM")) && len(b) > 26 && !looksText(b):
		return TypeBMP, nil
	}
	if det := knownBinary(b); det != "" {
		return "", &UnsupportedError{FileName: d.FileName, ContentType: d.ContentType, Detected: det}
	}
	if looksText(b) {
		return TypeText, nil
	}
	decl := declared(d)
	return "", &UnsupportedError{FileName: d.FileName, ContentType: d.ContentType, Detected: decl, Mismatch: supportedDeclaration(decl)}
}

// supportedDeclaration reports whether a declared type (a content type or
// a file extension) names a format fax documents may have.
func supportedDeclaration(decl string) bool {
	decl, _, _ = strings.Cut(strings.ToLower(decl), ";")
	switch strings.TrimSpace(decl) {
	case "application/pdf", "image/tiff", "image/png", "image/jpeg", "image/jpg", "image/gif", "image/bmp", "image/x-ms-bmp",
		".pdf", ".tif", ".tiff", ".png", ".jpg", ".jpeg", ".gif", ".bmp":
		return true
	}
	return false
}

func head(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}

func isBinaryKnown(b []byte) bool { return knownBinary(b) != "" }

// knownBinary names common unsupported formats so the error is helpful.
func knownBinary(b []byte) string {
	switch {
	case bytes.HasPrefix(b, []byte("PK\x03\x04")) || bytes.HasPrefix(b, []byte("PK\x05\x06")):
		return "application/zip (e.g. .docx/.xlsx/.pptx; convert it to PDF)"
	case bytes.HasPrefix(b, []byte("\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")):
		return "application/x-ole-storage (e.g. .doc/.xls/.ppt; convert it to PDF)"
	case bytes.HasPrefix(b, []byte("{\\rtf")):
		return "application/rtf"
	case bytes.HasPrefix(b, []byte("\x1f\x8b")):
		return "application/gzip"
	case bytes.HasPrefix(b, []byte("RIFF")) && len(b) >= 12 && string(b[8:12]) == "WEBP":
		return "image/webp"
	case bytes.HasPrefix(b, []byte("8BPS")):
		return "image/vnd.adobe.photoshop"
	case bytes.HasPrefix(b, []byte("\x7fELF")) || bytes.HasPrefix(b, []byte("MZ")):
		return "application/octet-stream (executable)"
	}
	return ""
}

func declared(d Document) string {
	if d.ContentType != "" {
		return d.ContentType
	}
	if i := strings.LastIndexByte(d.FileName, '.'); i >= 0 {
		return "." + strings.ToLower(d.FileName[i+1:])
	}
	return ""
}

// looksText reports whether b is text that decodeText can typeset.
func looksText(b []byte) bool {
	if hasUTF16BOM(b) {
		return len(b)%2 == 0
	}
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	ctrl := 0
	for _, c := range b {
		switch {
		case c == 0:
			return false
		case c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != 0x1b, c == 0x7f:
			ctrl++
		}
	}
	if ctrl*100 > len(b) { // more than 1% control bytes: binary
		return false
	}
	if utf8.Valid(b) {
		return true
	}
	// Latin-1 / Windows-1252 text: few bytes in 0x80–0x9f.
	c1 := 0
	for _, c := range b {
		if c >= 0x80 && c < 0xa0 {
			c1++
		}
	}
	return c1*20 <= len(b)
}

func hasUTF16BOM(b []byte) bool {
	return bytes.HasPrefix(b, []byte("\xff\xfe")) || bytes.HasPrefix(b, []byte("\xfe\xff"))
}
