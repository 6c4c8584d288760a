package fax

import (
	"bytes"
	"fmt"
	"strings"
)

// writePDF writes a PDF 1.4 file with one US-letter page per encoded
// page, each showing one 1-bit DeviceGray image XObject (FlateDecode)
// stretched over the whole page. Object numbers: 1 catalog, 2 page tree,
// then page, content stream and image for each page.
func writePDF(pages []encodedPage) []byte {
	var b bytes.Buffer
	offsets := []int{0} // object 0 is the free-list head
	obj := func() int {
		offsets = append(offsets, b.Len())
		n := len(offsets) - 1
		fmt.Fprintf(&b, "%d 0 obj\n", n)
		return n
	}
	b.WriteString("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
	obj()
	b.WriteString("<< /Type /Catalog /Pages 2 0 R >>\nendobj\n")
	offsets = append(offsets, 0) // object 2, the page tree, is written last
	kids := make([]string, len(pages))
	const content = "q 612 0 0 792 0 0 cm /Im0 Do Q\n"
	for i, p := range pages {
		n := obj()
		kids[i] = fmt.Sprintf("%d 0 R", n)
		fmt.Fprintf(&b, "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /XObject << /Im0 %d 0 R >> >> /Contents %d 0 R >>\nendobj\n", n+2, n+1)
		obj()
		fmt.Fprintf(&b, "<< /Length %d >>\nstream\n%sendstream\nendobj\n", len(content), content)
		obj()
		fmt.Fprintf(&b, "<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray /BitsPerComponent 1 /Filter /FlateDecode /Length %d >>\nstream\n", p.width, p.height, len(p.flate))
		b.Write(p.flate)
		b.WriteString("\nendstream\nendobj\n")
	}
	offsets[2] = b.Len()
	fmt.Fprintf(&b, "2 0 obj\n<< /Type /Pages /Count %d /Kids [%s] >>\nendobj\n", len(pages), strings.Join(kids, " "))
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(offsets))
	for _, off := range offsets[1:] {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(offsets), xref)
	return b.Bytes()
}
