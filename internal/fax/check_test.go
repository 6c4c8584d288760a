package fax

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/rcwire"
)

func TestCheck(t *testing.T) {
	text := Document{FileName: "note.txt", ContentType: "application/octet-stream", Data: []byte("hello\n")}
	pdf := Document{FileName: "a.pdf", Data: []byte("%PDF-1.4\n%%EOF\n")}
	many := make([]Document, MaxDocuments+1)
	for i := range many {
		many[i] = text
	}
	huge := Document{FileName: "big.txt", Data: bytes.Repeat([]byte("x"), MaxTotalBytes/2+1)}
	for _, tc := range []struct {
		name   string
		docs   []Document
		status int
		code   string
		value  string
		types  []string
	}{
		{"typed by content", []Document{text, pdf}, 0, "", "", []string{TypeText, TypePDF}},
		{"none", nil, http.StatusBadRequest, switchboard.CodeInvalidParameter, "", nil},
		{"too many", many, http.StatusBadRequest, switchboard.CodeInvalidParameter, "", nil},
		{"empty", []Document{text, {FileName: "empty.pdf"}}, http.StatusBadRequest, "MSG-347", "empty.pdf", nil},
		{"unsupported", []Document{{FileName: "x.zip", Data: []byte("PK\x03\x04rest of a zip")}}, http.StatusUnsupportedMediaType, "MSG-348", "x.zip", nil},
		{"too large together", []Document{huge, huge}, http.StatusBadRequest, "MSG-338", "", nil},
		{"not what it says", []Document{{FileName: "scan.bin", ContentType: "image/jpeg", Data: []byte{0, 1, 2, 3, 0, 9}}}, http.StatusUnsupportedMediaType, "MSG-348", "scan.bin", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			types, err := Check(tc.docs)
			if tc.status == 0 {
				if err != nil || len(types) != len(tc.types) || types[0] != tc.types[0] || types[1] != tc.types[1] {
					t.Fatalf("Check = %v, %v; want %v", types, err, tc.types)
				}
				return
			}
			e := switchboard.AsError(err)
			if e == nil || rcwire.ErrorStatus(e) != tc.status || e.Code != tc.code || len(e.Params) != 1 || e.Params[0].Name != "attachment" || e.Params[0].Value != tc.value {
				t.Fatalf("Check error %#v, want %d %s naming attachment %q", err, tc.status, tc.code, tc.value)
			}
			if mismatch := strings.Contains(e.Message, "does not match its declared type image/jpeg"); mismatch != (tc.name == "not what it says") ||
				strings.Contains(e.Message, "unsupported document type image/jpeg") {
				t.Fatalf("message %q", e.Message)
			}
		})
	}
}
