package main

import (
	"context"
	"crypto/rand"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/auth"
)

// TestJWTKeysOutOfDatabase: the JWT signing key lives in a key file (mode
// 0600), not the database; an older installation's key moves out at the
// next start and its credentials keep working; a rotation signs with a new
// key while the old ones verify, until rotated out; a node without the key
// file refuses to start rather than sign with a key of its own; and demo
// secrets are printed at creation only.
func TestJWTKeysOutOfDatabase(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	demo, out, stop := runServer(t, dir)
	stop()
	keyFile := filepath.Join(dir, keyFileName)
	if fi, err := os.Stat(keyFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", fi, err)
	}
	if !strings.Contains(out.String(), demo.ClientSecret) {
		t.Fatal("the new demo's secrets were not printed")
	}
	dbPath := filepath.Join(dir, databaseFile)
	withStore := func(f func(store switchboard.Store)) {
		store, err := openDatabase(ctx, dbSettings{database: "sqlite://" + dbPath, dataDir: dir, sqliteSync: "FULL"}, switchboard.SystemClock{})
		if err != nil {
			t.Fatal(err)
		}
		defer store.Close()
		f(store)
	}
	withStore(func(store switchboard.Store) {
		if v, err := existingSecret(ctx, store, legacySecret); err != nil || v != nil {
			t.Fatalf("a signing key is in the database: %v %v", v, err)
		}
	})

	// An older version's database: the key in the secrets table, and a JWT
	// it signed (no kid).
	bob := demo.Extensions[1]
	var legacyJWT string
	withStore(func(store switchboard.Store) {
		if _, err := store.Secret(ctx, legacySecret, func() ([]byte, error) { b := make([]byte, 32); _, err := rand.Read(b); return b, err }); err != nil {
			t.Fatal(err)
		}
		acc, _ := strconv.ParseInt(bob.AccountID, 10, 64)
		ext, _ := strconv.ParseInt(bob.ID, 10, 64)
		var err error
		if _, legacyJWT, err = auth.NewService(store, switchboard.SystemClock{}, auth.Config{}).IssueJWTCredential(ctx, acc, ext, "old", 0); err != nil {
			t.Fatal(err)
		}
	})
	demo, out, stop = runServer(t, dir)
	login(t, demo, legacyJWT)
	login(t, demo, bob.JWT)
	stop()
	if strings.Contains(out.String(), demo.ClientSecret) || strings.Contains(out.String(), demo.AdminToken) || !strings.Contains(out.String(), demoFile) {
		t.Fatalf("a later start printed the demo's secrets (or not where they are):\n%s", out.String())
	}
	withStore(func(store switchboard.Store) {
		if v, err := existingSecret(ctx, store, legacySecret); err != nil || v != nil {
			t.Fatalf("the old key was left in the database: %v", err)
		}
	})
	if b, _ := os.ReadFile(keyFile); !strings.Contains(string(b), `"id": "db"`) {
		t.Fatalf("the old key is not in the key file:\n%s", b)
	}

	// Rotation: a new key signs; the older ones still verify.
	var rotated string
	if err := run(ctx, []string{"keys", "rotate", "--data", dir}, &syncBuffer{}, &syncBuffer{}); err != nil {
		t.Fatal(err)
	}
	var cli syncBuffer
	if err := run(ctx, []string{"jwt", "create", "--data", dir, "--account", bob.AccountID, "--extension", bob.ID}, &cli, &cli); err != nil {
		t.Fatalf("%v\n%s", err, cli.String())
	}
	for _, f := range strings.Fields(cli.String()) {
		if strings.HasPrefix(f, "eyJ") {
			rotated = f
		}
	}
	if kid := kidOf(t, rotated); kid == "" || kid == "db" || kid == kidOf(t, bob.JWT) {
		t.Fatalf("a JWT made after the rotation has kid %q", kid)
	}
	demo, _, stop = runServer(t, dir)
	for _, j := range []string{legacyJWT, bob.JWT, rotated} {
		login(t, demo, j)
	}
	stop()
	// Rotated out (three keys are kept): the older keys' JWTs are refused,
	// the one signed by the first rotation's key still logs in.
	for range 2 {
		if err := run(ctx, []string{"keys", "rotate", "--data", dir}, &syncBuffer{}, &syncBuffer{}); err != nil {
			t.Fatal(err)
		}
	}
	demo, _, stop = runServer(t, dir)
	for _, j := range []string{legacyJWT, bob.JWT} {
		if status, _ := jwtGrant(t, demo, j); status != http.StatusBadRequest {
			t.Fatalf("a JWT whose key was rotated out: %d", status)
		}
	}
	login(t, demo, rotated)
	stop()

	// Another node of the same database without the key file.
	err := run(ctx, serveArgs(t.TempDir(), "--database", "sqlite://"+dbPath), &syncBuffer{}, &syncBuffer{})
	if err == nil || !strings.Contains(err.Error(), "copy the key file") {
		t.Fatalf("a node without the key file: %v", err)
	}
}

func kidOf(t *testing.T, token string) string {
	t.Helper()
	tok, _, err := jwt.NewParser().ParseUnverified(token, &jwt.RegisteredClaims{})
	if err != nil {
		t.Fatalf("%q: %v", token, err)
	}
	kid, _ := tok.Header["kid"].(string)
	return kid
}
