// Package storetest is the behaviour suite that every switchboard.Store
// backend must pass. A backend's test calls Run with a function that opens
// an empty store; the suite exercises the store only through the
// switchboard interfaces, so SQLite and PostgreSQL are held to the same
// contract.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard"
)

// Base is the instant every suite clock starts at. Times in expectations
// are offsets from it, so results never depend on when the suite runs.
var Base = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)

// Run runs the whole suite. open must return an empty store that reads
// time from clock, and arrange for it to be closed when t ends
// (t.Cleanup). Run calls it once per top-level test, and those tests run
// in parallel, so each call needs its own database.
func Run(t *testing.T, open func(t *testing.T, clock switchboard.Clock) switchboard.Store) {
	tests := []struct {
		name string
		fn   func(*testing.T, *env)
	}{
		{"Accounts", testAccounts},
		{"Extensions", testExtensions},
		{"PhoneNumbers", testPhoneNumbers},
		{"DirectoryEpoch", testDirectoryEpoch},
		{"Apps", testApps},
		{"JWTCredentials", testJWTCredentials},
		{"AdminTokens", testAdminTokens},
		{"Secret", testSecret},
		{"Tokens", testTokens},
		{"AuthCodes", testAuthCodes},
		{"AppRedirects", testAppRedirects},
		{"AccessPrincipal", testAccessPrincipal},
		{"RotateRefreshTokenConcurrently", testRotateConcurrently},
		{"MessageRoundTrip", testMessageRoundTrip},
		{"CreateMessagesValidation", testCreateMessagesValidation},
		{"ListMessages", testListMessages},
		{"ListMessagesTies", testListMessagesTies},
		{"DeepPages", testDeepPages},
		{"GroupedMessageWrites", testGroupedMessageWrites},
		{"MailboxIsolation", testMailboxIsolation},
		{"DeleteLifecycle", testDeleteLifecycle},
		{"UpdateLifecycle", testUpdateLifecycle},
		{"PurgeErasesContent", testPurgeErasesContent},
		{"DeleteMessages", testDeleteMessages},
		{"ChangeLog", testChangeLog},
		{"LastModified", testLastModified},
		{"AccountRetention", testAccountRetention},
		{"PurgeDeleted", testPurgeDeleted},
		{"RemovePurged", testRemovePurged},
		{"MailboxCap", testMailboxCap},
		{"SyncChanges", testSyncChanges},
		{"RetentionConcurrently", testRetentionConcurrently},
		{"CreateOutbound", testCreateOutbound},
		{"ClaimLease", testClaimLease},
		{"DeliverBatch", testDeliverBatch},
		{"DeliverDueInternal", testDeliverDueInternal},
		{"CompletesOnAccept", testCompletesOnAccept},
		{"ClaimCarrierDeliveries", testClaimCarrierDeliveries},
		{"ScheduledSend", testScheduledSend},
		{"GroupedWrites", testGroupedWrites},
		{"ReceiptBeforeSubmit", testReceiptBeforeSubmit},
		{"ClaimConcurrently", testClaimConcurrently},
		{"DeliveryStatus", testDeliveryStatus},
		{"RecordCarrier", testRecordCarrier},
		{"ListDeliveries", testListDeliveries},
		{"AllSubscriptions", testAllSubscriptions},
		{"WebHookAttempts", testWebHookAttempts},
		{"Reschedule", testReschedule},
		{"Postpone", testPostpone},
		{"ClaimUnreceipted", testClaimUnreceipted},
		{"Departments", testDepartments},
		{"WatchChanges", testWatchChanges},
		{"ChangeOrder", testChangeOrder},
		{"Transcriptions", testTranscriptions},
		{"ClaimTranscriptionsConcurrently", testClaimTranscriptionsConcurrently},
		{"FaxRenders", testFaxRenders},
		{"FaxRenderFairness", testFaxRenderFairness},
		{"SourceID", testSourceID},
		{"SubscriptionCRUD", testSubscriptionCRUD},
		{"SubscriptionLimit", testSubscriptionLimit},
		{"SubscriptionChanges", testSubscriptionChanges},
		{"SubscriptionClaim", testSubscriptionClaim},
		{"SubscriptionSession", testSubscriptionSession},
		{"SubscriptionClaimConcurrently", testSubscriptionClaimConcurrently},
		{"ClockOffset", testClockOffset},
		{"ExpireMessages", testExpireMessages},
		{"Exports", testExports},
		{"A2PBatches", testA2PBatches},
		{"OptOuts", testOptOuts},
		{"RateLimits", testRateLimits},
		{"RotatedSession", testRotatedSession},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newEnv(t, open))
		})
	}
}

// env is one fresh store with a small directory: two accounts, the first
// with two User extensions, the second with one. ext1 is the mailbox most
// tests work in; the others are neighbours that must stay invisible.
type env struct {
	ctx        context.Context
	clock      *switchboard.ManualClock
	store      switchboard.Store
	acc1, acc2 *switchboard.Account
	ext1, ext2 *switchboard.Extension // of acc1
	ext3       *switchboard.Extension // of acc2
	nextExt    int
}

// Phone numbers the fixtures use.
const (
	own1 = "+16505550101" // ext1
	own2 = "+16505550102" // ext2
	own3 = "+14085550103" // ext3
	p1   = "+14155550001" // peers outside the server
	p2   = "+14155550002"
	p3   = "+14155550003"
)

func newEnv(t *testing.T, open func(*testing.T, switchboard.Clock) switchboard.Store) *env {
	t.Helper()
	clock := switchboard.NewManualClock(func() time.Time { return Base })
	e := &env{ctx: t.Context(), clock: clock, store: open(t, clock), nextExt: 200}
	e.acc1 = must(e.store.CreateAccount(e.ctx, switchboard.AccountCreate{Name: "One", MainNumber: "+16505550100"}))(t)
	e.acc2 = must(e.store.CreateAccount(e.ctx, switchboard.AccountCreate{Name: "Two", MainNumber: "+14085550100"}))(t)
	e.ext1 = e.newExtension(t, e.acc1, "101", own1)
	e.ext2 = e.newExtension(t, e.acc1, "102", own2)
	e.ext3 = e.newExtension(t, e.acc2, "101", own3)
	return e
}

// newExtension adds a User extension with a direct number ("" for none).
func (e *env) newExtension(t *testing.T, acc *switchboard.Account, number, phone string) *switchboard.Extension {
	t.Helper()
	if number == "" {
		e.nextExt++
		number = fmt.Sprint(e.nextExt)
	}
	x := must(e.store.CreateExtension(e.ctx, switchboard.ExtensionCreate{
		AccountID: acc.ID, ExtensionNumber: number, Name: "Ext " + number}))(t)
	if phone != "" {
		must(e.store.CreatePhoneNumber(e.ctx, switchboard.PhoneNumberCreate{
			AccountID: acc.ID, ExtensionID: x.ID, PhoneNumber: phone, Features: []string{switchboard.FeatureSmsSender}}))(t)
	}
	return x
}

// must fails the test on a non-nil error and otherwise returns the value:
// must(store.X(…))(t).
func must[T any](v T, err error) func(t *testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return v
	}
}

func noErr(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}

// wantIs fails unless errors.Is(err, target).
func wantIs(t *testing.T, err, target error, what string) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: got error %v, want %v", what, err, target)
	}
}

// wantCode fails unless err carries a *switchboard.Error with code.
func wantCode(t *testing.T, err error, code, what string) {
	t.Helper()
	e := switchboard.AsError(err)
	if e == nil || e.Code != code {
		t.Fatalf("%s: got error %v, want a *switchboard.Error with code %s", what, err, code)
	}
}

func wantEqual[T any](t *testing.T, got, want T, what string) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s:\n got  %+v\n want %+v", what, got, want)
	}
}

func wantTime(t *testing.T, got, want time.Time, what string) {
	t.Helper()
	if !got.Equal(want) || got.Location() != time.UTC {
		t.Fatalf("%s: got %v, want %v (UTC)", what, got, want)
	}
}

func ptr[T any](v T) *T { return &v }

func isNotFound(err error) bool { return errors.Is(err, switchboard.ErrNotFound) }
