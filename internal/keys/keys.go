// Package keys holds the server's signing keys outside the database: a key
// file (or an environment variable), so that a copy of the database, a
// backup or a read-only SQL injection does not hand out the means to sign
// JWT credentials. The keys form a ring: the first signs, every one
// verifies, so a rotation (a new first key) keeps the credentials signed
// with the older ones valid until their key is removed from the file.
package keys

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Key is one signing key.
type Key struct {
	ID      string    `json:"id"`
	Secret  []byte    `json:"secret"` // base64 in the file
	Created time.Time `json:"created"`
}

// Ring is the keys, the signing one first.
type Ring struct {
	Keys []Key `json:"keys"`
}

// keySize is the HMAC-SHA256 key size: 32 bytes.
const keySize = 32

// New returns a fresh key.
func New(now time.Time) Key {
	b := make([]byte, keySize)
	_, _ = rand.Read(b) // crypto/rand does not fail
	return Key{ID: strings.ToLower(rand.Text()[:10]), Secret: b, Created: now.UTC()}
}

// Signing is the key that signs new credentials.
func (r *Ring) Signing() Key { return r.Keys[0] }

// Lookup returns the key named id.
func (r *Ring) Lookup(id string) ([]byte, bool) {
	for _, k := range r.Keys {
		if k.ID == id {
			return k.Secret, true
		}
	}
	return nil, false
}

// All is every key, for credentials that do not name theirs.
func (r *Ring) All() [][]byte {
	out := make([][]byte, len(r.Keys))
	for i, k := range r.Keys {
		out[i] = k.Secret
	}
	return out
}

func (r *Ring) check(from string) error {
	if len(r.Keys) == 0 {
		return fmt.Errorf("%s holds no keys", from)
	}
	seen := map[string]bool{}
	for i, k := range r.Keys {
		if k.ID == "" || seen[k.ID] {
			return fmt.Errorf("%s: key %d has an empty or repeated id", from, i+1)
		}
		seen[k.ID] = true
		if len(k.Secret) < 16 {
			return fmt.Errorf("%s: key %q is %d bytes; want at least 16", from, k.ID, len(k.Secret))
		}
	}
	return nil
}

// ErrNoFile is returned by Load when the file does not exist.
var ErrNoFile = errors.New("no key file")

// Load reads a key file. A file others can read is refused: it would be a
// secret in plain sight.
func Load(path string) (*Ring, error) {
	fi, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrNoFile
	}
	if err != nil {
		return nil, err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("key file %s is readable by others (mode %v): run chmod 600 %s", path, fi.Mode().Perm(), path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r Ring
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("key file %s: %w", path, err)
	}
	return &r, r.check("key file " + path)
}

// Parse reads keys from an environment variable's value: id:base64 pairs
// separated by commas, the signing key first.
func Parse(value string) (*Ring, error) {
	var r Ring
	for _, part := range strings.Split(value, ",") {
		id, secret, ok := strings.Cut(strings.TrimSpace(part), ":")
		b, err := base64.StdEncoding.DecodeString(secret)
		if !ok || err != nil {
			return nil, errors.New("want id:base64-key pairs separated by commas, the signing key first (switchboard keys generate prints one)")
		}
		r.Keys = append(r.Keys, Key{ID: id, Secret: b})
	}
	return &r, r.check("the key list")
}

// Save writes the ring to path (mode 0600), atomically: a reader sees the
// old file or the new one.
func Save(path string, r *Ring) error {
	if err := r.check("the keys to save"); err != nil {
		return err
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".keys-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// Rotate puts a new signing key first in the file at path and keeps the
// older ones (they still verify), at most keep keys in all.
func Rotate(path string, now time.Time, keep int) (Key, error) {
	r, err := Load(path)
	if err != nil {
		return Key{}, err
	}
	k := New(now)
	r.Keys = append([]Key{k}, r.Keys...)
	if keep > 0 && len(r.Keys) > keep {
		r.Keys = r.Keys[:keep]
	}
	return k, Save(path, r)
}
