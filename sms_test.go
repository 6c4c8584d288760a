package switchboard

import (
	"fmt"
	"strings"
	"testing"
)

func TestSMSSegments(t *testing.T) {
	tests := []struct {
		name string
		text string
		want int
	}{
		{"empty", "", 1},
		{"short GSM", "Hello, world!", 1},
		{"160 GSM", strings.Repeat("a", 160), 1},
		{"161 GSM", strings.Repeat("a", 161), 2},
		{"306 GSM", strings.Repeat("a", 306), 2},
		{"307 GSM", strings.Repeat("a", 307), 3},
		{"GSM extension counts twice", strings.Repeat("€", 80), 1},
		{"GSM extension over", strings.Repeat("€", 81), 2},
		{"escape is not split", strings.Repeat("a", 152) + "€" + strings.Repeat("a", 10), 2}, // 152+2 > 153: the € moves
		{"accented Latin stays GSM", strings.Repeat("é", 160), 1},
		{"one emoji makes UCS-2", "Hi 👋", 1},
		{"70 UCS-2", strings.Repeat("ж", 70), 1},
		{"71 UCS-2", strings.Repeat("ж", 71), 2},
		{"134 UCS-2", strings.Repeat("ж", 134), 2},
		{"135 UCS-2", strings.Repeat("ж", 135), 3},
		{"surrogate pair not split", strings.Repeat("ж", 66) + "😀" + strings.Repeat("ж", 66), 3}, // 134 units, but the pair moves whole
		{"35 emoji", strings.Repeat("😀", 35), 1},                                                 // 70 code units
		{"36 emoji", strings.Repeat("😀", 36), 2},                                                 // 72 code units
		{"1000 GSM", strings.Repeat("x", 1000), 7},                                               // ceil(1000/153)
	}
	for _, tt := range tests {
		if got := SMSSegments(tt.text); got != tt.want {
			t.Errorf("%s: SMSSegments = %d, want %d", tt.name, got, tt.want)
		}
	}
}

func TestUTF16Len(t *testing.T) {
	for s, want := range map[string]int{"": 0, "abc": 3, "ж": 1, "😀": 2, "a😀b": 4} {
		if got := UTF16Len(s); got != want {
			t.Errorf("UTF16Len(%q) = %d, want %d", s, got, want)
		}
	}
}

func TestSMSParts(t *testing.T) {
	tests := []struct {
		name string
		text string
		gsm  bool
		lens []int // runes per part
	}{
		{"empty", "", true, []int{0}},
		{"161 GSM", strings.Repeat("a", 161), true, []int{153, 8}},
		{"escape moves whole", strings.Repeat("a", 152) + "€" + strings.Repeat("b", 10), true, []int{152, 11}},
		{"71 UCS-2", strings.Repeat("ж", 71), false, []int{67, 4}},
		{"surrogate pair moves whole", strings.Repeat("ж", 66) + "😀" + "жжж", false, []int{66, 4}},
	}
	for _, tt := range tests {
		parts, gsm := SMSParts(tt.text)
		var lens []int
		for _, p := range parts {
			lens = append(lens, len([]rune(p)))
		}
		if gsm != tt.gsm || strings.Join(parts, "") != tt.text || fmt.Sprint(lens) != fmt.Sprint(tt.lens) {
			t.Errorf("%s: SMSParts = %v parts of %v runes, gsm %v; want %v, gsm %v", tt.name, len(parts), lens, gsm, tt.lens, tt.gsm)
		}
		if len(parts) != SMSSegments(tt.text) {
			t.Errorf("%s: %d parts but SMSSegments = %d", tt.name, len(parts), SMSSegments(tt.text))
		}
	}
}
