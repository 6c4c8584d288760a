package sqlstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/pgtest"
)

// TestCopyData: a SQLite store with data of every kind is copied into a
// fresh PostgreSQL database; read back through the store interfaces, both
// stores answer the same. New rows continue each table's ids, a second copy
// into the now non-empty target is refused.
func TestCopyData(t *testing.T) {
	pgURL := pgtest.NewDatabase(t)
	ctx := t.Context()
	clock := testClock()
	src := mustOpen(t, filepath.Join(t.TempDir(), "switchboard.db"), clock, SQLiteOptions{Synchronous: "NORMAL"})
	seedEveryKind(t, ctx, src, clock)

	dst := mustOpenPostgres(t, pgURL, clock)
	var progress bytes.Buffer
	counts, err := CopyData(ctx, src, dst, &progress)
	if err != nil {
		t.Fatalf("copy: %v\n%s", err, progress.String())
	}
	for _, table := range []string{"accounts", "extensions", "department_members", "phone_numbers", "apps", "jwt_credentials",
		"admin_tokens", "secrets", "tokens", "messages", "message_parties", "attachments", "changes", "mailbox_stats",
		"change_log_horizon", "deliveries"} {
		if counts[table] == 0 {
			t.Errorf("copied no rows of %s (the seed has some)", table)
		}
		if !strings.Contains(progress.String(), table) {
			t.Errorf("progress does not mention %s:\n%s", table, progress.String())
		}
	}

	want, got := readEverything(t, ctx, src, clock), readEverything(t, ctx, dst, clock)
	if len(want) < 40 {
		t.Fatalf("read only %d things", len(want))
	}
	t.Logf("copied:\n%scompared %d reads", progress.String(), len(want))
	for k, w := range want {
		if !reflect.DeepEqual(w, got[k]) {
			t.Errorf("%s differs after the copy:\n sqlite   %s\n postgres %s", k, show(w), show(got[k]))
		}
	}

	// New ids continue after the copied ones, in each table's range.
	accs, _ := src.Accounts(ctx)
	acc, err := dst.CreateAccount(ctx, switchboard.AccountCreate{Name: "After"})
	if err != nil {
		t.Fatal(err)
	}
	if acc.ID != accs[len(accs)-1].ID+1 {
		t.Errorf("new account id %d, want %d", acc.ID, accs[len(accs)-1].ID+1)
	}
	x, err := dst.CreateExtension(ctx, switchboard.ExtensionCreate{AccountID: acc.ID, ExtensionNumber: "101", Name: "New"})
	if err != nil {
		t.Fatal(err)
	}
	m, err := dst.CreateMessage(ctx, switchboard.MessageCreate{AccountID: acc.ID, ExtensionID: x.ID, Type: switchboard.TypeSMS,
		Direction: switchboard.Inbound, From: switchboard.Party{PhoneNumber: "+14155550001"}, To: []switchboard.Party{{PhoneNumber: "+16505550109"}}})
	if err != nil {
		t.Fatal(err)
	}
	if x.ID/100000000 != 2 || m.ID/100000000 != 6 {
		t.Errorf("new ids %d (extension), %d (message) left their ranges", x.ID, m.ID)
	}
	// Attachment ids continue after every id handed out, those of texts
	// kept on their message's row included.
	var inline, handedOut int64
	if err := src.reader.QueryRowContext(ctx, `SELECT COUNT(*), MAX(text_attachment_id) FROM messages WHERE text_attachment_id <> 0`).Scan(&inline, &handedOut); err != nil || inline == 0 {
		t.Fatalf("texts kept on message rows in the source: %d (%v); the seed has some", inline, err)
	}
	mms, err := dst.CreateMessage(ctx, switchboard.MessageCreate{AccountID: acc.ID, ExtensionID: x.ID, Type: switchboard.TypeSMS,
		Direction: switchboard.Inbound, From: switchboard.Party{PhoneNumber: "+14155550001"}, To: []switchboard.Party{{PhoneNumber: "+16505550109"}},
		Attachments: []*switchboard.Attachment{{Type: switchboard.AttachmentMms, ContentType: "image/png", Content: []byte("png")}}})
	if err != nil {
		t.Fatal(err)
	}
	if id := mms.Attachments[0].ID; id <= handedOut {
		t.Errorf("new attachment id %d, want one above %d, the largest the source handed out", id, handedOut)
	}

	if _, err := CopyData(ctx, src, dst, &progress); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Fatalf("copy into a non-empty target: %v, want a refusal", err)
	}
}

// seedEveryKind fills every table.
func seedEveryKind(t *testing.T, ctx context.Context, s *DB, clock *switchboard.ManualClock) {
	t.Helper()
	check := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	for a := range 2 {
		acc, err := s.CreateAccount(ctx, switchboard.AccountCreate{Name: fmt.Sprint("Acc ", a), MainNumber: fmt.Sprintf("+1650555%d000", a)})
		check(err)
		check(s.SetAccountRetention(ctx, acc.ID, switchboard.AccountRetention{DeletePeriod: time.Hour, MailboxCap: 50}))
		var exts []*switchboard.Extension
		for e := range 3 {
			x, err := s.CreateExtension(ctx, switchboard.ExtensionCreate{AccountID: acc.ID, ExtensionNumber: fmt.Sprint(101 + e),
				Name: fmt.Sprint("Ext ", e), Email: fmt.Sprintf("e%d-%d@example.com", a, e), PasswordHash: "hash", Admin: e == 0})
			check(err)
			_, err = s.CreatePhoneNumber(ctx, switchboard.PhoneNumberCreate{AccountID: acc.ID, ExtensionID: x.ID,
				PhoneNumber: fmt.Sprintf("+1650555%d%03d", a, 101+e), Features: []string{switchboard.FeatureSmsSender, switchboard.FeatureMmsSender}})
			check(err)
			exts = append(exts, x)
		}
		dept, err := s.CreateExtension(ctx, switchboard.ExtensionCreate{AccountID: acc.ID, ExtensionNumber: "200", Name: "Dept", Type: switchboard.ExtensionTypeDepartment})
		check(err)
		check(s.AddDepartmentMember(ctx, acc.ID, dept.ID, exts[1].ID))
		check(s.CreateJWTCredential(ctx, &switchboard.JWTCredential{ID: fmt.Sprint("jti-", a), AccountID: acc.ID, ExtensionID: exts[0].ID,
			Name: "ci", Status: switchboard.StatusEnabled, Created: clock.Now()}))
		check(s.CreateTokens(ctx, &switchboard.Token{Hash: fmt.Sprint("tok-", a), Kind: switchboard.TokenAccess, SessionID: fmt.Sprint("s", a),
			AccountID: acc.ID, ExtensionID: exts[0].ID, AppID: 1, Scopes: []string{"ReadMessages", "SMS"}, Created: clock.Now(), Expires: clock.Now().Add(24 * time.Hour)}))
		for i := range 12 {
			clock.Advance(time.Second)
			c := switchboard.MessageCreate{AccountID: acc.ID, ExtensionID: exts[0].ID, Type: switchboard.TypeSMS, Direction: switchboard.Inbound,
				Subject: fmt.Sprint("text ", i), From: switchboard.Party{PhoneNumber: "+14155550001", Name: "Peer"},
				To:          []switchboard.Party{{PhoneNumber: fmt.Sprintf("+1650555%d101", a)}},
				Attachments: []*switchboard.Attachment{{Type: switchboard.AttachmentText, ContentType: "text/plain", Content: []byte(fmt.Sprint("text ", i))}}}
			if i%4 == 0 {
				c.Attachments = append(c.Attachments, &switchboard.Attachment{Type: switchboard.AttachmentMms, ContentType: "image/png",
					FileName: "a.png", Content: []byte{0x89, 'P', 'N', 'G', 0, 1, 2}, Width: 10, Height: 20})
			}
			if i == 5 {
				c.Attachments = append(c.Attachments, &switchboard.Attachment{Type: switchboard.AttachmentMms, ContentType: "image/gif", Content: []byte{}})
			}
			m, err := s.CreateMessage(ctx, c)
			check(err)
			switch i % 6 {
			case 1:
				_, err = s.UpdateMessage(ctx, acc.ID, exts[0].ID, m.ID, switchboard.MessageUpdate{ReadStatus: ptrTo(switchboard.Read)})
			case 2:
				err = s.DeleteMessage(ctx, acc.ID, exts[0].ID, m.ID, false)
			case 3:
				err = s.DeleteMessage(ctx, acc.ID, exts[0].ID, m.ID, true)
			}
			check(err)
		}
		out, err := s.CreateOutbound(ctx, switchboard.OutboundCreate{Message: switchboard.MessageCreate{AccountID: acc.ID, ExtensionID: exts[0].ID,
			Type: switchboard.TypeSMS, Direction: switchboard.Outbound, Subject: "out", From: switchboard.Party{PhoneNumber: fmt.Sprintf("+1650555%d101", a)},
			To: []switchboard.Party{{PhoneNumber: fmt.Sprintf("+1650555%d102", a)}, {PhoneNumber: "+14155550009"}}},
			Recipients: []switchboard.DeliveryTarget{{Recipient: fmt.Sprintf("+1650555%d102", a), Internal: true}, {Recipient: "+14155550009"}}})
		check(err)
		_ = out
	}
	app := &switchboard.App{ClientID: "client", SecretHash: "sh", Name: "App", Scopes: []string{"SMS"}, Status: switchboard.StatusEnabled, Created: clock.Now()}
	check(s.CreateApp(ctx, app))
	check(s.CreateAdminToken(ctx, &switchboard.AdminToken{Name: "ops", Hash: "adminhash", Status: switchboard.StatusEnabled, Created: clock.Now()}))
	_, err := s.Secret(ctx, "jwt", func() ([]byte, error) { return []byte{1, 2, 3, 0, 255}, nil })
	check(err)
	// A submitted delivery, and a pruned change-log head (horizon > 0).
	ds, err := s.ClaimDeliveries(ctx, "w", time.Minute, 10)
	check(err)
	for _, d := range ds {
		if !d.Internal {
			check(s.RecordSubmit(ctx, "w", d.ID, true, "carrier-1", ""))
		}
	}
	clock.Advance(time.Hour)
	_, err = s.PruneChanges(ctx, clock.Now().Add(-time.Hour).Add(-5*time.Second))
	check(err)
}

func ptrTo[T any](v T) *T { return &v }

// readEverything reads all a store holds through its interfaces.
func readEverything(t *testing.T, ctx context.Context, s *DB, clock *switchboard.ManualClock) map[string]any {
	t.Helper()
	out := map[string]any{}
	put := func(k string, v any, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		out[k] = v
	}
	accs, err := s.Accounts(ctx)
	put("accounts", accs, err)
	for ai, a := range accs {
		xs, err := s.Extensions(ctx, switchboard.ExtensionFilter{AccountID: a.ID})
		put(fmt.Sprint("extensions ", a.ID), xs, err)
		jwts, err := s.JWTCredentials(ctx, a.ID)
		put(fmt.Sprint("jwt ", a.ID), jwts, err)
		for _, x := range xs {
			ns, err := s.PhoneNumbers(ctx, a.ID, x.ID)
			put(fmt.Sprint("numbers ", x.ID), ns, err)
			if x.Type == switchboard.ExtensionTypeDepartment {
				ms, err := s.DepartmentMembers(ctx, a.ID, x.ID)
				put(fmt.Sprint("members ", x.ID), ms, err)
			}
			page, err := s.ListMessages(ctx, switchboard.MessageFilter{AccountID: a.ID, ExtensionID: x.ID,
				Availability: []switchboard.Availability{switchboard.Alive, switchboard.Deleted, switchboard.Purged}})
			put(fmt.Sprint("messages ", x.ID), page, err)
			for _, m := range page.Messages {
				for _, at := range m.Attachments {
					c, err := s.Attachment(ctx, a.ID, x.ID, m.ID, at.ID)
					if errors.Is(err, switchboard.ErrNotFound) {
						err = nil
					}
					put(fmt.Sprint("attachment ", at.ID), c, err)
				}
			}
			cs, err := s.Changes(ctx, a.ID, x.ID, 0, 0)
			put(fmt.Sprint("changes ", x.ID), cs, err)
			// The horizon moved too: a position before it is refused.
			if _, err := s.SyncChanges(ctx, a.ID, x.ID, 0, 0); !errors.Is(err, switchboard.ErrSyncTokenExpired) {
				t.Errorf("sync from 0 after pruning: %v, want expired", err)
			}
			if len(cs) > 0 {
				d, err := s.SyncChanges(ctx, a.ID, x.ID, cs[0].Seq-1, 0)
				put(fmt.Sprint("sync ", x.ID), d, err)
			}
		}
		p, err := s.AccessPrincipal(ctx, fmt.Sprint("tok-", ai), switchboard.TokenAccess, clock.Now())
		put(fmt.Sprint("principal ", a.ID), p, err)
	}
	pos, err := s.SyncPosition(ctx)
	put("position", pos, err)
	apps, err := s.Apps(ctx)
	put("apps", apps, err)
	ats, err := s.AdminTokens(ctx)
	put("admin tokens", ats, err)
	sec, err := s.Secret(ctx, "jwt", func() ([]byte, error) { return []byte("new"), nil })
	put("secret", sec, err)
	// Last, as it marks what it lists: every delivery waiting for a receipt.
	sub, err := s.ClaimUnreceipted(ctx, clock.Now().Add(time.Hour), 100_000)
	put("submitted", sub, err)
	return out
}

func show(v any) string {
	s := fmt.Sprintf("%+v", v)
	if len(s) > 2000 {
		s = s[:2000] + "…"
	}
	return s
}
