package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard"
)

func (e *env) filter(x *switchboard.Extension, rest string) string {
	return fmt.Sprintf("/restapi/v1.0/account/%d/extension/%d/%s", x.AccountID, x.ID, rest)
}

func (e *env) newSubscription(t *testing.T, id string, owner *switchboard.Extension, app int64, ttl time.Duration, filters ...string) *switchboard.Subscription {
	t.Helper()
	now := e.clock.Now()
	s := &switchboard.Subscription{ID: id, AccountID: owner.AccountID, ExtensionID: owner.ID, AppID: app,
		EventFilters: filters, Transport: switchboard.TransportWebHook, Address: "http://127.0.0.1:1/hook",
		VerificationToken: "vt-" + id, Created: now, Expires: now.Add(ttl)}
	noErr(t, e.store.CreateSubscription(e.ctx, s))
	return s
}

// testSubscriptionCRUD: a subscription is visible to its owner (extension
// and app) only, round-trips its fields, updates and deletes.
func testSubscriptionCRUD(t *testing.T, e *env) {
	s := e.newSubscription(t, "sub-a", e.ext1, 7, time.Hour, e.filter(e.ext1, "message-store"))
	got := must(e.store.Subscription(e.ctx, e.ext1.AccountID, e.ext1.ID, 7, "sub-a"))(t)
	wantEqual(t, got.EventFilters, s.EventFilters, "filters")
	wantEqual(t, got.Status, switchboard.SubscriptionActive, "status")
	wantEqual(t, got.VerificationToken, "vt-sub-a", "verification token")
	wantTime(t, got.Expires, Base.Add(time.Hour), "expiry")
	wantEqual(t, got.Lifetime, time.Hour, "lifetime (from creation to expiry when not given)")

	// Other extension, other app, other account: not found.
	for name, err := range map[string]error{
		"other extension": errOf(e.store.Subscription(e.ctx, e.ext2.AccountID, e.ext2.ID, 7, "sub-a")),
		"other app":       errOf(e.store.Subscription(e.ctx, e.ext1.AccountID, e.ext1.ID, 8, "sub-a")),
		"other account":   errOf(e.store.Subscription(e.ctx, e.ext3.AccountID, e.ext1.ID, 7, "sub-a")),
		"delete by other": e.store.DeleteSubscription(e.ctx, e.ext2.AccountID, e.ext2.ID, 7, "sub-a"),
	} {
		wantIs(t, err, switchboard.ErrNotFound, name)
	}
	if l := must(e.store.ListSubscriptions(e.ctx, e.ext2.AccountID, e.ext2.ID, 7))(t); len(l) != 0 {
		t.Fatalf("ext2 lists %d subscriptions of ext1", len(l))
	}

	up := must(e.store.UpdateSubscription(e.ctx, e.ext1.AccountID, e.ext1.ID, 7, "sub-a",
		[]string{e.filter(e.ext1, "message-store/instant?type=SMS")}, Base.Add(2*time.Hour), 2*time.Hour))(t)
	wantEqual(t, up.EventFilters, []string{e.filter(e.ext1, "message-store/instant?type=SMS")}, "updated filters")
	// nil filters keep them and only renew.
	up = must(e.store.UpdateSubscription(e.ctx, e.ext1.AccountID, e.ext1.ID, 7, "sub-a", nil, Base.Add(3*time.Hour), 3*time.Hour))(t)
	wantEqual(t, len(up.EventFilters), 1, "filters after renew")
	renewed := must(e.store.SubscriptionByID(e.ctx, "sub-a"))(t)
	wantTime(t, renewed.Expires, Base.Add(3*time.Hour), "renewed expiry")
	wantEqual(t, renewed.Lifetime, 3*time.Hour, "renewed lifetime")

	noErr(t, e.store.DeleteSubscription(e.ctx, e.ext1.AccountID, e.ext1.ID, 7, "sub-a"))
	wantIs(t, errOf(e.store.SubscriptionByID(e.ctx, "sub-a")), switchboard.ErrNotFound, "after delete")
	wantIs(t, e.store.DeleteSubscription(e.ctx, e.ext1.AccountID, e.ext1.ID, 7, "sub-a"), switchboard.ErrNotFound, "second delete")
}

func errOf[T any](_ T, err error) error { return err }

// testSubscriptionLimit: 30 live subscriptions per extension and app;
// expired ones do not count, other apps have their own budget.
func testSubscriptionLimit(t *testing.T, e *env) {
	f := e.filter(e.ext1, "message-store")
	for i := range switchboard.MaxSubscriptions {
		e.newSubscription(t, fmt.Sprintf("lim-%d", i), e.ext1, 1, time.Duration(i+1)*time.Minute, f)
	}
	now := e.clock.Now()
	over := &switchboard.Subscription{ID: "lim-over", AccountID: e.ext1.AccountID, ExtensionID: e.ext1.ID, AppID: 1,
		EventFilters: []string{f}, Transport: switchboard.TransportWebHook, Created: now, Expires: now.Add(time.Hour)}
	wantCode(t, e.store.CreateSubscription(e.ctx, over), switchboard.CodeSubscriptionLimit, "31st subscription")
	e.newSubscription(t, "other-app", e.ext1, 2, time.Hour, f)
	e.clock.Advance(90 * time.Second) // lim-0 has expired
	over.Created, over.Expires = e.clock.Now(), e.clock.Now().Add(time.Hour)
	noErr(t, e.store.CreateSubscription(e.ctx, over))
	n := must(e.store.DeleteExpiredSubscriptions(e.ctx, e.clock.Now()))(t)
	wantEqual(t, n, 1, "expired subscriptions deleted")
	wantIs(t, errOf(e.store.SubscriptionByID(e.ctx, "lim-0")), switchboard.ErrNotFound, "expired subscription")
}

// testSubscriptionChanges: a new subscription starts at the head of the
// change log and reads the changes of its own mailboxes only, in order.
func testSubscriptionChanges(t *testing.T, e *env) {
	before := e.create(t, sms(mb(e.ext1), switchboard.Inbound, p1, []string{own1}, "before"))
	s := e.newSubscription(t, "chg", e.ext1, 1, time.Hour, e.filter(e.ext1, "message-store"), e.filter(e.ext2, "message-store?type=SMS"))
	if cs := must(e.store.SubscriptionChanges(e.ctx, s.ID, s.Cursor, 100))(t); len(cs) != 0 {
		t.Fatalf("a new subscription sees %d old changes (first message %d)", len(cs), before.ID)
	}
	var want []int64
	for i, x := range []*switchboard.Extension{e.ext1, e.ext3, e.ext2, e.ext1} {
		m := e.create(t, sms(mb(x), switchboard.Inbound, p1, []string{own1}, fmt.Sprint("m", i)))
		if x != e.ext3 {
			want = append(want, m.ID)
		}
	}
	cs := must(e.store.SubscriptionChanges(e.ctx, s.ID, s.Cursor, 100))(t)
	var got []int64
	for i, c := range cs {
		got = append(got, c.MessageID)
		if i > 0 && c.Seq <= cs[i-1].Seq {
			t.Fatalf("changes out of order: %d after %d", c.Seq, cs[i-1].Seq)
		}
	}
	wantEqual(t, got, want, "messages of the watched mailboxes")
	two := must(e.store.SubscriptionChanges(e.ctx, s.ID, s.Cursor, 2))(t)
	wantEqual(t, len(two), 2, "limit")
	rest := must(e.store.SubscriptionChanges(e.ctx, s.ID, two[1].Seq, 100))(t)
	wantEqual(t, len(rest), 1, "after the second")

	// Advancing never moves back.
	noErr(t, e.store.AdvanceSubscription(e.ctx, s.ID, "", cs[2].Seq))
	noErr(t, e.store.AdvanceSubscription(e.ctx, s.ID, "", cs[0].Seq))
	wantEqual(t, must(e.store.SubscriptionByID(e.ctx, s.ID))(t).Cursor, cs[2].Seq, "cursor")
}

// testSubscriptionClaim: only due, Active, unexpired WebHooks with pending
// changes are claimed; a lease excludes other owners until it runs out;
// failures back off and blacklist; an advance needs the lease.
func testSubscriptionClaim(t *testing.T, e *env) {
	const lease = 30 * time.Second
	busy := e.newSubscription(t, "busy", e.ext1, 1, time.Hour, e.filter(e.ext1, "message-store"))
	e.newSubscription(t, "quiet", e.ext2, 1, time.Hour, e.filter(e.ext2, "message-store"))
	e.newSubscription(t, "short", e.ext1, 2, time.Minute, e.filter(e.ext1, "message-store"))
	now := e.clock.Now()
	ws := &switchboard.Subscription{ID: "ws", AccountID: e.ext1.AccountID, ExtensionID: e.ext1.ID, AppID: 3, SessionID: "sess",
		EventFilters: []string{e.filter(e.ext1, "message-store")}, Transport: switchboard.TransportWebSocket, Created: now, Expires: now.Add(time.Minute)}
	noErr(t, e.store.CreateSubscription(e.ctx, ws))
	if c := must(e.store.ClaimSubscriptions(e.ctx, "n1", lease, 10))(t); len(c) != 0 {
		t.Fatalf("claimed %d subscriptions without changes", len(c))
	}
	m := e.create(t, sms(mb(e.ext1), switchboard.Inbound, p1, []string{own1}, "x"))
	e.clock.Advance(2 * time.Minute) // "short" has expired
	got := must(e.store.ClaimSubscriptions(e.ctx, "n1", lease, 10))(t)
	if len(got) != 1 || got[0].ID != busy.ID {
		t.Fatalf("claimed %v, want only busy", subIDs(got))
	}
	if c := must(e.store.ClaimSubscriptions(e.ctx, "n2", lease, 10))(t); len(c) != 0 {
		t.Fatalf("n2 claimed %v while n1 holds the lease", subIDs(c))
	}
	wantIs(t, e.store.AdvanceSubscription(e.ctx, busy.ID, "n2", m.ID), switchboard.ErrNotFound, "advance without the lease")

	// A failure backs off: not due until next.
	noErr(t, e.store.FailSubscription(e.ctx, busy.ID, "n1", e.clock.Now().Add(10*time.Second), "HTTP 500", false))
	s := must(e.store.SubscriptionByID(e.ctx, busy.ID))(t)
	wantEqual(t, s.Attempts, 1, "attempts")
	wantTime(t, s.FailingSince, e.clock.Now(), "failing since")
	if c := must(e.store.ClaimSubscriptions(e.ctx, "n2", lease, 10))(t); len(c) != 0 {
		t.Fatal("claimed before the backoff ran out")
	}
	e.clock.Advance(11 * time.Second)
	got = must(e.store.ClaimSubscriptions(e.ctx, "n2", lease, 10))(t)
	wantEqual(t, subIDs(got), []string{busy.ID}, "claimed after backoff")
	noErr(t, e.store.FailSubscription(e.ctx, busy.ID, "n2", e.clock.Now(), "HTTP 500", false))
	s = must(e.store.SubscriptionByID(e.ctx, busy.ID))(t)
	wantEqual(t, s.Attempts, 2, "attempts")
	wantTime(t, s.FailingSince, Base.Add(2*time.Minute), "failing since stays the first failure")

	// The lease of a crashed owner runs out and is taken over.
	wantEqual(t, subIDs(must(e.store.ClaimSubscriptions(e.ctx, "n3", lease, 10))(t)), []string{busy.ID}, "n3 claim")
	e.clock.Advance(lease + time.Second)
	wantEqual(t, subIDs(must(e.store.ClaimSubscriptions(e.ctx, "n4", lease, 10))(t)), []string{busy.ID}, "takeover")
	wantIs(t, e.store.AdvanceSubscription(e.ctx, busy.ID, "n3", m.ID), switchboard.ErrNotFound, "advance with a lost lease")
	noErr(t, e.store.AdvanceSubscription(e.ctx, busy.ID, "n4", 1<<40))
	s = must(e.store.SubscriptionByID(e.ctx, busy.ID))(t)
	if s.Attempts != 0 || !s.FailingSince.IsZero() || s.Cursor != 1<<40 {
		t.Fatalf("after a delivery: attempts %d, failing since %v, cursor %d", s.Attempts, s.FailingSince, s.Cursor)
	}
	noErr(t, e.store.ReleaseSubscription(e.ctx, busy.ID, "n4"))

	// Blacklisted: never claimed again.
	bl := e.newSubscription(t, "bl", e.ext1, 4, time.Hour, e.filter(e.ext1, "message-store"))
	busy = bl
	e.create(t, sms(mb(e.ext1), switchboard.Inbound, p1, []string{own1}, "y"))
	got = must(e.store.ClaimSubscriptions(e.ctx, "n5", lease, 10))(t)
	wantEqual(t, subIDs(got), []string{busy.ID}, "claim before blacklisting")
	noErr(t, e.store.FailSubscription(e.ctx, busy.ID, "n5", e.clock.Now(), "gone", true))
	s = must(e.store.SubscriptionByID(e.ctx, busy.ID))(t)
	wantEqual(t, s.Status, switchboard.SubscriptionBlacklisted, "status")
	wantTime(t, s.Blacklisted, e.clock.Now(), "blacklisted at")
	if c := must(e.store.ClaimSubscriptions(e.ctx, "n6", lease, 10))(t); len(c) != 0 {
		t.Fatal("a Blacklisted subscription was claimed")
	}
}

func subIDs(ss []*switchboard.Subscription) []string {
	out := []string{}
	for _, s := range ss {
		out = append(out, s.ID)
	}
	return out
}

// testSubscriptionSession: a WebSocket session's subscriptions are found
// by their session for recovery and renewed while the socket lives.
func testSubscriptionSession(t *testing.T, e *env) {
	now := e.clock.Now()
	s := &switchboard.Subscription{ID: "ws1", AccountID: e.ext1.AccountID, ExtensionID: e.ext1.ID, AppID: 1, SessionID: "wsc-1",
		EventFilters: []string{e.filter(e.ext1, "message-store")}, Transport: switchboard.TransportWebSocket,
		Created: now, Expires: now.Add(time.Minute)}
	noErr(t, e.store.CreateSubscription(e.ctx, s))
	wantEqual(t, subIDs(must(e.store.SessionSubscriptions(e.ctx, e.ext1.AccountID, e.ext1.ID, "wsc-1"))(t)), []string{"ws1"}, "session")
	wantEqual(t, subIDs(must(e.store.SessionSubscriptions(e.ctx, e.ext2.AccountID, e.ext2.ID, "wsc-1"))(t)), []string{}, "another extension's session")
	wantEqual(t, subIDs(must(e.store.SessionSubscriptions(e.ctx, e.ext1.AccountID, e.ext1.ID, ""))(t)), []string{}, "no session")
	wantIs(t, e.store.MoveSubscriptionSession(e.ctx, e.ext2.AccountID, e.ext2.ID, 1, "ws1", "wsc-2"), switchboard.ErrNotFound, "another owner moves it")
	noErr(t, e.store.MoveSubscriptionSession(e.ctx, e.ext1.AccountID, e.ext1.ID, 1, "ws1", "wsc-2"))
	wantEqual(t, subIDs(must(e.store.SessionSubscriptions(e.ctx, e.ext1.AccountID, e.ext1.ID, "wsc-1"))(t)), []string{}, "old session")
	noErr(t, e.store.MoveSubscriptionSession(e.ctx, e.ext1.AccountID, e.ext1.ID, 1, "ws1", "wsc-1"))
	noErr(t, e.store.RenewSession(e.ctx, "wsc-1", now.Add(10*time.Minute)))
	e.clock.Advance(2 * time.Minute)
	wantEqual(t, subIDs(must(e.store.SessionSubscriptions(e.ctx, e.ext1.AccountID, e.ext1.ID, "wsc-1"))(t)), []string{"ws1"}, "renewed session")
	e.clock.Advance(10 * time.Minute)
	wantEqual(t, subIDs(must(e.store.SessionSubscriptions(e.ctx, e.ext1.AccountID, e.ext1.ID, "wsc-1"))(t)), []string{}, "expired session")
}

// testSubscriptionClaimConcurrently: owners racing for the same work never
// hold one subscription at the same time.
func testSubscriptionClaimConcurrently(t *testing.T, e *env) {
	for i := range 5 {
		e.newSubscription(t, fmt.Sprint("cc-", i), e.ext1, int64(i+1), time.Hour, e.filter(e.ext1, "message-store"))
	}
	e.create(t, sms(mb(e.ext1), switchboard.Inbound, p1, []string{own1}, "x"))
	var mu sync.Mutex
	seen := map[string]string{}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			owner := fmt.Sprint("w", w)
			got, err := e.store.ClaimSubscriptions(e.ctx, owner, time.Minute, 10)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			for _, s := range got {
				if prev, ok := seen[s.ID]; ok {
					t.Errorf("%s claimed by %s and %s", s.ID, prev, owner)
				}
				seen[s.ID] = owner
			}
		}()
	}
	wg.Wait()
	wantEqual(t, len(seen), 5, "subscriptions claimed")
}

// testAllSubscriptions: every owner's subscriptions, newest first.
func testAllSubscriptions(t *testing.T, e *env) {
	e.newSubscription(t, "sub-1", e.ext1, 7, time.Hour, e.filter(e.ext1, "message-store"))
	e.clock.Advance(time.Second)
	e.newSubscription(t, "sub-2", e.ext3, 9, time.Hour, e.filter(e.ext3, "message-store"))
	all := must(e.store.AllSubscriptions(e.ctx, 10))(t)
	if len(all) != 2 || all[0].ID != "sub-2" || all[1].ID != "sub-1" || all[0].AccountID != e.ext3.AccountID {
		t.Fatalf("AllSubscriptions = %+v", all)
	}
	if got := must(e.store.AllSubscriptions(e.ctx, 1))(t); len(got) != 1 {
		t.Fatalf("limit 1 gave %d", len(got))
	}
}

// testWebHookAttempts: a subscription keeps its most recent POSTs, newest
// first, trimmed to what the caller keeps; they go with the subscription.
func testWebHookAttempts(t *testing.T, e *env) {
	e.newSubscription(t, "sub-h", e.ext1, 7, time.Hour, e.filter(e.ext1, "message-store"))
	e.newSubscription(t, "sub-o", e.ext2, 7, time.Hour, e.filter(e.ext2, "message-store"))
	attempt := func(n int, status int, fail string) switchboard.WebHookAttempt {
		return switchboard.WebHookAttempt{Time: Base.Add(time.Duration(n) * time.Second), EventID: fmt.Sprintf("uuid-%d", n),
			Event: e.filter(e.ext1, "message-store"), Status: status, Error: fail, Duration: time.Duration(n) * time.Millisecond}
	}
	noErr(t, e.store.RecordWebHookAttempts(e.ctx, "sub-h", nil, 3))
	noErr(t, e.store.RecordWebHookAttempts(e.ctx, "sub-h", []switchboard.WebHookAttempt{attempt(1, 200, ""), attempt(2, 200, "")}, 3))
	noErr(t, e.store.RecordWebHookAttempts(e.ctx, "sub-o", []switchboard.WebHookAttempt{attempt(9, 200, "")}, 3))
	noErr(t, e.store.RecordWebHookAttempts(e.ctx, "sub-h", []switchboard.WebHookAttempt{attempt(3, 200, ""), attempt(4, 503, "HTTP 503"), attempt(5, 0, "connection refused")}, 3))

	got := must(e.store.WebHookAttempts(e.ctx, "sub-h", 10))(t)
	var ids []string
	for _, a := range got {
		ids = append(ids, a.EventID)
	}
	wantEqual(t, ids, []string{"uuid-5", "uuid-4", "uuid-3"}, "the three most recent, newest first")
	wantEqual(t, got[1].Status, 503, "status")
	wantEqual(t, got[1].Error, "HTTP 503", "error")
	wantEqual(t, got[1].OK(), false, "a 503 is not OK")
	wantEqual(t, got[2].OK(), true, "a 200 is OK")
	wantTime(t, got[0].Time, Base.Add(5*time.Second), "time")
	wantEqual(t, got[0].Duration, 5*time.Millisecond, "duration")
	wantEqual(t, len(must(e.store.WebHookAttempts(e.ctx, "sub-h", 1))(t)), 1, "limit")
	wantEqual(t, len(must(e.store.WebHookAttempts(e.ctx, "sub-o", 10))(t)), 1, "another subscription's history is its own")

	noErr(t, e.store.DeleteSubscription(e.ctx, e.ext1.AccountID, e.ext1.ID, 7, "sub-h"))
	wantEqual(t, len(must(e.store.WebHookAttempts(e.ctx, "sub-h", 10))(t)), 0, "history after delete")
	e.clock.Advance(2 * time.Hour)
	n := must(e.store.DeleteExpiredSubscriptions(e.ctx, e.clock.Now()))(t)
	wantEqual(t, n, 1, "expired")
	wantEqual(t, len(must(e.store.WebHookAttempts(e.ctx, "sub-o", 10))(t)), 0, "history after expiry")
}
