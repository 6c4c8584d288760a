package switchboard

import (
	"errors"
	"strings"
)

// NormalizeE164 returns s as an E.164 number ("+" and 8 to 15 digits). It
// accepts the spacing and punctuation people type (spaces, dashes, dots,
// parentheses) and rejects everything else.
func NormalizeE164(s string) (string, error) {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "+") {
		return "", errors.New("phone number must be in E.164 format, starting with +")
	}
	var b strings.Builder
	b.WriteByte('+')
	for _, r := range s[1:] {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == ' ' || r == '-' || r == '.' || r == '(' || r == ')':
		default:
			return "", errors.New("phone number may contain only digits after +")
		}
	}
	n := b.String()
	if len(n) < 9 || len(n) > 16 || n[1] == '0' {
		return "", errors.New("phone number must have 8 to 15 digits and not start with 0")
	}
	return n, nil
}
