package keys

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestFileRoundTripAndRotate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys", "jwt-keys.json")
	if _, err := Load(path); err != ErrNoFile {
		t.Fatalf("missing file: %v", err)
	}
	now := time.Date(2026, 12, 3, 8, 0, 0, 0, time.UTC)
	first := New(now)
	if err := Save(path, &Ring{Keys: []Key{first}}); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", fi.Mode().Perm())
	}
	second, err := Rotate(path, now.Add(time.Hour), 2)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if r.Signing().ID != second.ID {
		t.Fatalf("signing %s, want the new key %s", r.Signing().ID, second.ID)
	}
	if _, ok := r.Lookup(first.ID); !ok {
		t.Fatal("the old key no longer verifies")
	}
	third, _ := Rotate(path, now.Add(2*time.Hour), 2)
	r, _ = Load(path)
	if _, ok := r.Lookup(first.ID); ok || len(r.Keys) != 2 || r.Signing().ID != third.ID {
		t.Fatalf("keep 2: %+v", r.Keys)
	}
	// A file others can read is refused.
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("world-readable file: %v", err)
	}
}

func TestParse(t *testing.T) {
	a, b := base64.StdEncoding.EncodeToString(make([]byte, 32)), base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123"))
	r, err := Parse("new:" + a + ", old:" + b)
	if err != nil || r.Signing().ID != "new" || len(r.All()) != 2 {
		t.Fatalf("%+v %v", r, err)
	}
	for _, bad := range []string{"", "nocolon", "x:not base64!", "x:" + base64.StdEncoding.EncodeToString([]byte("short")), "x:" + a + ",x:" + a} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
