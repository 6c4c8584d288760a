package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// FuzzJWTCredential: an assertion is accepted only when it carries a valid
// HS256 signature of the server's key over its own header and payload, and
// the switchboard issuer; anything else is refused without a panic.
func FuzzJWTCredential(f *testing.F) {
	key := []byte("0123456789abcdef0123456789abcdef")
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	sign := func(method jwt.SigningMethod, k any, c jwt.RegisteredClaims) string {
		s, err := jwt.NewWithClaims(method, c).SignedString(k)
		if err != nil {
			f.Fatal(err)
		}
		return s
	}
	valid := sign(jwt.SigningMethodHS256, key, jwt.RegisteredClaims{Issuer: jwtIssuer, Subject: "42", ID: "cred"})
	for _, seed := range []string{
		valid,
		sign(jwt.SigningMethodHS256, []byte("another key"), jwt.RegisteredClaims{Issuer: jwtIssuer, Subject: "42"}),
		sign(jwt.SigningMethodHS512, key, jwt.RegisteredClaims{Issuer: jwtIssuer}),
		sign(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, jwt.RegisteredClaims{Issuer: jwtIssuer}),
		sign(jwt.SigningMethodHS256, key, jwt.RegisteredClaims{Issuer: "someone", Subject: "42"}),
		sign(jwt.SigningMethodHS256, key, jwt.RegisteredClaims{Issuer: jwtIssuer, ExpiresAt: jwt.NewNumericDate(now.Add(-time.Hour))}),
		"", "a.b.c", "....", strings.Repeat("A", 9000), valid[:len(valid)-2],
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, assertion string) {
		claims, err := parseJWT(func(*jwt.Token) (any, error) { return key, nil }, assertion, func() time.Time { return now })
		if err != nil {
			return
		}
		parts := strings.Split(assertion, ".")
		if len(parts) != 3 || claims.Issuer != jwtIssuer {
			t.Fatalf("accepted %q: claims %+v", assertion, claims)
		}
		mac := hmac.New(sha256.New, key)
		mac.Write([]byte(parts[0] + "." + parts[1]))
		sig, err := base64.RawURLEncoding.DecodeString(parts[2])
		if err != nil || !hmac.Equal(sig, mac.Sum(nil)) {
			t.Fatalf("accepted %q without a valid HS256 signature of the key", assertion)
		}
	})
}
