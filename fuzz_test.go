package switchboard

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzNormalizeE164: any input either normalises into "+" and 8 to 15
// digits that normalise to themselves, or is refused; it never panics.
func FuzzNormalizeE164(f *testing.F) {
	for _, seed := range []string{"+16505550101", "+1 (650) 555-0101", "16505550101", "+0123456789", "+1650555010１",
		"+", "", " +44 20 7946 0958 ", "+1234567890123456", "+1.650.555.0101", "+1\x00650"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := NormalizeE164(s)
		if err != nil {
			if n != "" {
				t.Fatalf("%q: refused but returned %q", s, n)
			}
			return
		}
		if len(n) < 9 || len(n) > 16 || n[0] != '+' || n[1] == '0' || strings.Trim(n[1:], "0123456789") != "" {
			t.Fatalf("%q normalised to %q: not E.164", s, n)
		}
		if again, err := NormalizeE164(n); err != nil || again != n {
			t.Fatalf("%q: normalising %q again gave %q, %v", s, n, again, err)
		}
	})
}

// FuzzSMSParts: the parts put back together are the text, each fits one
// segment of its encoding, no character is split, and SMSSegments agrees.
func FuzzSMSParts(f *testing.F) {
	for _, seed := range []string{"", "hello", strings.Repeat("a", 161), strings.Repeat("€", 81), strings.Repeat("😀", 40),
		strings.Repeat("a", 152) + "€", "\xff\xfe", strings.Repeat("ü", 200) + "中"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, text string) {
		parts, gsm := SMSParts(text)
		if len(parts) == 0 || strings.Join(parts, "") != text || SMSSegments(text) != len(parts) {
			t.Fatalf("%q: parts %q do not make up the text", text, parts)
		}
		limit := ucs2Part
		if gsm {
			limit = gsm7Part
		}
		if len(parts) == 1 {
			limit = ucs2Single
			if gsm {
				limit = gsm7Single
			}
		}
		for i, p := range parts {
			if utf8.ValidString(text) && !utf8.ValidString(p) {
				t.Fatalf("%q: part %d %q splits a character", text, i, p)
			}
			size := UTF16Len(p)
			if gsm {
				size = 0
				for _, r := range p {
					size++
					if gsm7Extension[r] {
						size++
					}
				}
			}
			if size > limit {
				t.Fatalf("%q: part %d holds %d units, over %d", text, i, size, limit)
			}
			if len(parts) > 1 && p == "" {
				t.Fatalf("%q: empty part %d", text, i)
			}
		}
	})
}
