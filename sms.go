package switchboard

import "unicode/utf16"

// Text limits RingCentral documents, in UTF-16 code units.
const (
	MaxSMSText   = 1000
	MaxPagerText = 1024
	MaxCoverText = 1024
)

// UTF16Len is the length of s in UTF-16 code units, the unit RingCentral's
// text limits count.
func UTF16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// gsm7Basic is the GSM 03.38 default alphabet; gsm7Extension the characters
// sent as an escape plus one septet (two septets each).
var (
	gsm7Basic = makeSet("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
		"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
	gsm7Extension = makeSet("^{}\\[~]|€\f")
)

func makeSet(s string) map[rune]bool {
	m := make(map[rune]bool)
	for _, r := range s {
		m[r] = true
	}
	return m
}

// Segment sizes as carriers count them: a single GSM-7 message holds 160
// septets and each part of a concatenated one 153 (the rest is the UDH); in
// UCS-2 70 and 67 UTF-16 code units.
const (
	gsm7Single, gsm7Part = 160, 153
	ucs2Single, ucs2Part = 70, 67
)

// SMSSegments is the number of segments a carrier sends text in: GSM-7 when
// every character is in the GSM alphabet, UCS-2 otherwise. A character is
// never split across segments (an escaped GSM character or a surrogate pair
// moves whole to the next one). Empty text is one segment.
func SMSSegments(text string) int {
	parts, _ := SMSParts(text)
	return len(parts)
}

// SMSParts splits text into the segments SMSSegments counts, and reports
// whether it fits the GSM 03.38 alphabet (sent as GSM-7) or needs UCS-2. A
// carrier sends each part as one concatenated SMS, so the parts sent always
// match the segmentCount reported. Empty text is one empty part.
func SMSParts(text string) (parts []string, gsm bool) {
	gsm = true
	for _, r := range text {
		if !gsm7Basic[r] && !gsm7Extension[r] {
			gsm = false
			break
		}
	}
	size := func(r rune) int { return utf16.RuneLen(r) }
	single, part := ucs2Single, ucs2Part
	if gsm {
		size = func(r rune) int {
			if gsm7Extension[r] {
				return 2
			}
			return 1
		}
		single, part = gsm7Single, gsm7Part
	}
	total := 0
	for _, r := range text {
		total += size(r)
	}
	if total <= single {
		return []string{text}, gsm
	}
	start, used := 0, 0
	for i, r := range text {
		n := size(r)
		if used+n > part {
			parts = append(parts, text[start:i])
			start, used = i, 0
		}
		used += n
	}
	return append(parts, text[start:]), gsm
}

// mmsTypes are the media types carriers carry in MMS.
var mmsTypes = map[string]bool{
	"image/jpeg": true, "image/png": true, "image/gif": true, "image/bmp": true, "image/tiff": true,
	"video/mp4": true, "video/mpeg": true, "video/3gpp": true, "video/quicktime": true,
	"audio/mpeg": true, "audio/mp4": true, "audio/amr": true, "audio/wav": true, "audio/ogg": true,
	"text/vcard": true, "text/x-vcard": true, "text/plain": true, "application/pdf": true,
}

// MMSContentType reports whether MMS carries media of this type, sent or
// received.
func MMSContentType(ct string) bool { return mmsTypes[ct] }
