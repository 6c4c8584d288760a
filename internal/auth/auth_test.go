package auth

import (
	"strings"
	"testing"
	"time"
)

func TestPasswordHashing(t *testing.T) {
	hash, err := HashPassword("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(hash, "$argon2id$v=19$") || strings.Contains(hash, "correct") {
		t.Fatalf("hash %q is not an argon2id PHC string", hash)
	}
	other, _ := HashPassword("correct horse battery")
	if other == hash {
		t.Fatal("two hashes of one password are equal: the salt is not random")
	}
	tests := []struct {
		hash, password string
		want           bool
	}{
		{hash, "correct horse battery", true},
		{hash, "correct horse batterY", false},
		{hash, "", false},
		{"", "correct horse battery", false},
		{"$argon2id$v=19$m=1,t=1,p=1$bad$bad", "x", false},
		{strings.Replace(hash, "m=19456", "m=99999999", 1), "correct horse battery", false}, // refuses absurd costs
		{"$2a$10$abcdefghijklmnopqrstuv", "x", false},
	}
	for _, tt := range tests {
		if got := VerifyPassword(tt.hash, tt.password); got != tt.want {
			t.Errorf("VerifyPassword(%q, %q) = %v, want %v", tt.hash, tt.password, got, tt.want)
		}
	}
	for _, pw := range []string{"short", strings.Repeat("x", 257)} {
		if _, err := HashPassword(pw); err == nil {
			t.Errorf("HashPassword accepted a password of %d characters", len(pw))
		}
	}
}

func TestOpaqueToken(t *testing.T) {
	a, ha := NewOpaqueToken()
	b, hb := NewOpaqueToken()
	if a == b || ha == hb || len(a) < 40 {
		t.Fatalf("tokens are not random and long: %q %q", a, b)
	}
	if HashSecret(a) != ha || len(ha) != 64 {
		t.Fatalf("hash %q is not the hex SHA-256 of the token", ha)
	}
}

func TestTTL(t *testing.T) {
	tests := []struct {
		requested int
		def, max  time.Duration
		want      time.Duration
	}{
		{0, time.Hour, time.Hour, time.Hour},
		{-5, time.Hour, time.Hour, time.Hour}, // the Go SDK sends 0 for unset ints
		{600, time.Hour, time.Hour, 10 * time.Minute},
		{7200, time.Hour, time.Hour, time.Hour},  // clamped, not refused
		{30, time.Hour, time.Hour, MinTTL},       // above the JS SDK's 60 s margin
		{0, 30 * time.Second, time.Hour, MinTTL}, // even a short configured default
	}
	for _, tt := range tests {
		if got := ttl(tt.requested, tt.def, tt.max); got != tt.want {
			t.Errorf("ttl(%d, %v, %v) = %v, want %v", tt.requested, tt.def, tt.max, got, tt.want)
		}
	}
}

func TestVerifyPKCE(t *testing.T) {
	// RFC 7636 appendix B.
	const verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	const challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
	tests := []struct {
		name                        string
		method, challenge, verifier string
		want                        bool
	}{
		{"RFC 7636 example", PKCES256, challenge, verifier, true},
		{"another verifier", PKCES256, challenge, verifier[:42] + "A", false},
		{"verifier too short", PKCES256, challenge, verifier[:42], false},
		{"verifier with a character outside the alphabet", PKCES256, challenge, verifier[:42] + "+", false},
		{"the S256 challenge itself as verifier", PKCES256, challenge, challenge, false},
		{"empty", PKCES256, challenge, "", false},
		{"plain: the verifier is the challenge", PKCEPlain, verifier, verifier, true},
		{"plain: another verifier", PKCEPlain, verifier, challenge, false},
		{"plain: the hash of the verifier is not it", PKCEPlain, challenge, verifier, false},
		{"unknown method", "S512", challenge, verifier, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := VerifyPKCE(tc.method, tc.challenge, tc.verifier); got != tc.want {
				t.Fatalf("VerifyPKCE = %v, want %v", got, tc.want)
			}
		})
	}
}
