// Package benchdata seeds large databases for Switchboard's benchmarks and
// logs in to them. It is shared by the benchmark commands under
// internal/bench.
package benchdata

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/auth"
	"github.com/switchboardhq/switchboard/internal/bench/benchkit"
)

// Base is the clock of the seeded data: messages spread over the year
// before it.
var Base = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

// Others is how many extensions share the messages outside the measured
// mailbox.
const Others = 8

// Target is the measured mailbox and a way to log in to it.
type Target struct {
	AccountID, ExtensionID int64
	JWT, ClientID, Secret  string
	// Extensions are the seeded account's extensions; the first is the
	// measured mailbox, the others share the rest of the messages.
	Extensions []*switchboard.Extension
}

// Seed fills a new database: one account, the measured mailbox, and the
// rest of the messages spread over other extensions. The app and the JWT
// are created on every run (tokens are cheap; secrets are not kept).
func Seed(ctx context.Context, store switchboard.Store, authService *auth.Service, total, mailbox int, fresh bool) (Target, error) {
	var t Target
	t.ClientID, t.Secret = "listbench-"+fmt.Sprint(time.Now().UnixNano()), "secret"
	if err := store.CreateApp(ctx, &switchboard.App{ClientID: t.ClientID, SecretHash: auth.HashSecret(t.Secret),
		Name: "listbench", Scopes: switchboard.DefaultAppScopes, Status: switchboard.StatusEnabled}); err != nil {
		return t, err
	}
	var exts []*switchboard.Extension
	if fresh {
		acc, err := store.CreateAccount(ctx, switchboard.AccountCreate{Name: "Bench"})
		if err != nil {
			return t, err
		}
		for i := 0; i <= Others; i++ {
			x, err := store.CreateExtension(ctx, switchboard.ExtensionCreate{AccountID: acc.ID, ExtensionNumber: fmt.Sprint(100 + i), Name: fmt.Sprint("bench ", i)})
			if err != nil {
				return t, err
			}
			exts = append(exts, x)
		}
	} else {
		accs, err := store.Accounts(ctx)
		if err != nil || len(accs) == 0 {
			return t, fmt.Errorf("existing database has no account (%v); delete it to reseed", err)
		}
		if exts, err = store.Extensions(ctx, switchboard.ExtensionFilter{AccountID: accs[0].ID}); err != nil {
			return t, err
		}
	}
	t.AccountID, t.ExtensionID = exts[0].AccountID, exts[0].ID
	t.Extensions = exts
	_, jwt, err := authService.IssueJWTCredential(ctx, t.AccountID, t.ExtensionID, "bench", 0)
	if err != nil {
		return t, err
	}
	t.JWT = jwt
	if !fresh {
		return t, nil
	}
	const batch = 5000
	start := time.Now()
	span := 365 * 24 * time.Hour
	for done := 0; done < total; {
		cs := make([]switchboard.MessageCreate, 0, batch)
		for ; len(cs) < batch && done < total; done++ {
			owner := exts[0]
			if done >= mailbox {
				owner = exts[1+done%Others]
			}
			peer := fmt.Sprintf("+1555%07d", done%5000)
			own := "+16505550100"
			dir := switchboard.Inbound
			from, to := peer, own
			if done%3 == 0 {
				dir, from, to = switchboard.Outbound, own, peer
			}
			text := fmt.Sprintf("message %d: the quick brown fox jumps over the lazy dog", done)
			cs = append(cs, switchboard.MessageCreate{
				AccountID: owner.AccountID, ExtensionID: owner.ID, Type: switchboard.TypeSMS, Direction: dir,
				Subject: text, From: switchboard.Party{PhoneNumber: from}, To: []switchboard.Party{{PhoneNumber: to}},
				Created:     Base.Add(-span / time.Duration(mailbox+1) * time.Duration(done%mailbox+1)), // divide first: span*n overflows int64
				Attachments: []*switchboard.Attachment{{Type: switchboard.AttachmentText, ContentType: "text/plain", Content: []byte(text)}},
			})
		}
		if _, err := store.CreateMessages(ctx, cs); err != nil {
			return t, err
		}
		rate := float64(done) / time.Since(start).Seconds()
		fmt.Fprintf(os.Stderr, "\rseeding %d/%d messages (%.0f/s, %s left)   ", done, total, rate,
			time.Duration(float64(total-done)/rate*float64(time.Second)).Round(time.Second))
	}
	fmt.Fprintln(os.Stderr)
	return t, nil
}

// Login logs in to the measured mailbox on the server at serverURL.
func Login(serverURL string, t Target) (string, error) {
	return benchkit.Login(http.DefaultClient, serverURL, t.ClientID, t.Secret, t.JWT)
}
