package main

import (
	"context"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/keys"
)

// The JWT signing keys live in a key file (or the environment), not in the
// database. Older versions kept the key in the database's secrets table
// under legacySecret: it is moved to the key file at the first start.
const (
	legacySecret = "jwt-signing-key"
	legacyKeyID  = "db"
	// keyMarker records, in the database, the id of the first key the
	// installation used, so a node started without the key file notices
	// that the others sign with a key it does not have.
	keyMarker    = "jwt-signing-key-id"
	keyFileName  = "jwt-keys.json"
	keepOnRotate = 3
	keysEnv      = "SWITCHBOARD_JWT_KEYS"
	keyFileEnv   = "SWITCHBOARD_KEY_FILE"
)

var errNoSecret = errors.New("no such secret")

// keyFilePath is the key file: the setting, or the data directory's.
func keyFilePath(setting, dataDir string) string {
	if setting != "" {
		return setting
	}
	return filepath.Join(dataDir, keyFileName)
}

// existingSecret reads a secret without creating it.
func existingSecret(ctx context.Context, store switchboard.Store, name string) ([]byte, error) {
	v, err := store.Secret(ctx, name, func() ([]byte, error) { return nil, errNoSecret })
	if errors.Is(err, errNoSecret) {
		return nil, nil
	}
	return v, err
}

// loadKeys returns the JWT signing keys: from envKeys when set, else from
// the key file, which is created when missing. A key still in the database
// (an older version's) joins the ring, to verify the credentials it signed,
// and leaves the database.
func loadKeys(ctx context.Context, store switchboard.Store, path, envKeys string, now time.Time, logger *slog.Logger) (*keys.Ring, error) {
	legacy, err := existingSecret(ctx, store, legacySecret)
	if err != nil {
		return nil, err
	}
	if envKeys != "" {
		r, err := keys.Parse(envKeys)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", keysEnv, err)
		}
		if legacy != nil {
			// It cannot be written into the environment: keep verifying
			// with it, and say how to move it.
			r.Keys = append(r.Keys, keys.Key{ID: legacyKeyID, Secret: legacy})
			logger.Warn("the JWT signing key of an earlier version is still in the database; start once with a key file (no "+keysEnv+") to move it out, or add it to "+keysEnv,
				"key_id", legacyKeyID)
		}
		return r, nil
	}
	r, err := keys.Load(path)
	created := false
	switch {
	case errors.Is(err, keys.ErrNoFile) && legacy != nil:
		r = &keys.Ring{Keys: []keys.Key{{ID: legacyKeyID, Secret: legacy, Created: now.UTC()}}}
	case errors.Is(err, keys.ErrNoFile):
		r, created = &keys.Ring{Keys: []keys.Key{keys.New(now)}}, true
	case err != nil:
		return nil, err
	case legacy != nil:
		if _, ok := r.Lookup(legacyKeyID); !ok {
			r.Keys = append(r.Keys, keys.Key{ID: legacyKeyID, Secret: legacy, Created: now.UTC()})
		}
	}
	// The installation's first key, recorded once. A node that has just
	// made a key of its own while the others sign with another would issue
	// credentials the others refuse: stop it instead.
	marker, err := store.Secret(ctx, keyMarker, func() ([]byte, error) { return []byte(r.Keys[len(r.Keys)-1].ID), nil })
	if err != nil {
		return nil, err
	}
	if _, ok := r.Lookup(string(marker)); !ok {
		if created {
			return nil, fmt.Errorf("this installation's JWT credentials are signed with key %q, which is not in %s: copy the key file from a node that has it (or set %s), then start again", marker, path, keysEnv)
		}
		logger.Warn("the key file does not hold the installation's first JWT signing key: credentials signed with it are refused", "key_id", string(marker), "file", path)
	}
	if created || legacy != nil {
		if err := keys.Save(path, r); err != nil {
			return nil, fmt.Errorf("write the JWT key file %s: %w (choose another with --key-file)", path, err)
		}
	}
	if legacy != nil {
		if err := store.DeleteSecret(ctx, legacySecret); err != nil {
			return nil, err
		}
		logger.Info("moved the JWT signing key out of the database into the key file", "file", path)
	} else if created {
		logger.Info("created the JWT signing key file", "file", path)
	}
	return r, nil
}

// keysCommand is `switchboard keys rotate|generate`.
func keysCommand(_ context.Context, args []string, stdout, stderr io.Writer) error {
	usage := "Usage: switchboard keys rotate [--data DIR] [--key-file FILE]   put a new JWT signing key first (older ones still verify); restart the server to use it\n" +
		"       switchboard keys generate                                  print a new key as id:base64, for " + keysEnv + "\n"
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("keys: no command given")
	}
	switch args[0] {
	case "generate":
		k := keys.New(time.Now())
		fmt.Fprintf(stdout, "%s:%s\n", k.ID, base64.StdEncoding.EncodeToString(k.Secret))
		return nil
	case "rotate":
		fs := flag.NewFlagSet("keys rotate", flag.ContinueOnError)
		fs.SetOutput(stderr)
		data := fs.String("data", envOr("SWITCHBOARD_DATA", "./switchboard-data"), "data directory (env SWITCHBOARD_DATA)")
		file := fs.String("key-file", envOr(keyFileEnv, ""), "key file (env "+keyFileEnv+"; default <data>/"+keyFileName+")")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		path := keyFilePath(*file, *data)
		k, err := keys.Rotate(path, time.Now(), keepOnRotate)
		if errors.Is(err, keys.ErrNoFile) {
			return fmt.Errorf("keys rotate: %s does not exist (the server creates it at its first start)", path)
		}
		if err != nil {
			return fmt.Errorf("keys rotate: %w", err)
		}
		fmt.Fprintf(stdout, "New signing key %s in %s (the %d newest keys are kept; older JWT credentials keep working while their key is there).\nRestart the server, and copy the file to every node first when several share a database.\n", k.ID, path, keepOnRotate)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("keys: unknown command %q", args[0])
}
