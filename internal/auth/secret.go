// Package auth implements Switchboard's OAuth 2.0 server logic in
// RingCentral's dialect: token grants (JWT bearer, password, refresh token,
// authorization code with PKCE), browser sessions of the web UI,
// opaque tokens stored as hashes, password hashing and the server-signed JWT
// credentials users log in with. It holds no HTTP code; internal/httpapi
// decodes requests and encodes responses around it.
package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// tokenEncoding spells tokens in letters and digits only, so they never
// start with "-" (which command lines take for a flag) and need no quoting.
var tokenEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// NewOpaqueToken returns a random token text (256 bits) and the hex SHA-256
// under which it is stored. Token texts are never stored.
func NewOpaqueToken() (text, hash string) {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	text = tokenEncoding.EncodeToString(b)
	return text, HashSecret(text)
}

// HashSecret is the at-rest form of high-entropy secrets (tokens, client
// secrets): a hex SHA-256. A fast hash is right for them; passwords, which
// are low-entropy, use HashPassword.
func HashSecret(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// argon2id parameters: OWASP's second recommended set (19 MiB, 2 passes, 1
// lane), which keeps a login near 50 ms on 2 cores and bounds the memory of
// concurrent logins.
const (
	argonTime    = 2
	argonMemory  = 19 * 1024
	argonThreads = 1
	argonKeyLen  = 32
)

// HashPassword returns an argon2id PHC string for password.
func HashPassword(password string) (string, error) {
	if len(password) < 8 || len(password) > 256 {
		return "", errors.New("password must be 8 to 256 characters")
	}
	salt := make([]byte, 16)
	_, _ = rand.Read(salt)
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// VerifyPassword reports whether password matches the PHC string hash.
func VerifyPassword(hash, password string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" || len(password) > 256 {
		return false
	}
	var version int
	var mem, iter uint32
	var threads uint8
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &mem, &iter, &threads); err != nil {
		return false
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil {
		return false
	}
	want, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil || len(want) == 0 || len(want) > 64 || mem > 1<<20 || iter > 16 || threads == 0 {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, iter, mem, threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}
