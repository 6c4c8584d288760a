package webui

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/auth"
)

// eventsBatch bounds the changes read from the log per wake-up; the rest
// follow at once.
const eventsBatch = 200

// keepAliveEvery keeps proxies from closing an idle stream.
const keepAliveEvery = 20 * time.Second

// handleEvents streams a mailbox's changes as server-sent events, from the
// change log, the same source as message-sync and push notifications: an
// event names the changed message ids, and the page reads them through the
// API. The request authenticates like an API call (the session cookie with
// its CSRF token, as EventSource cannot set headers) and needs the
// ReadMessages permission and access to the mailbox.
func (u *UI) handleEvents(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	p, err := u.auth.Authenticate(ctx, auth.SessionCredential(r, auth.SessionCookie))
	if err != nil {
		u.unavailable(w, r, err)
		return
	}
	if !p.HasScope(switchboard.ScopeReadMessages) {
		u.writeError(w, http.StatusForbidden, switchboard.CodeAppPermission, "The app needs the ReadMessages permission")
		return
	}
	accountID, extensionID := p.AccountID, p.ExtensionID
	if raw := r.URL.Query().Get("extensionId"); raw != "" && raw != "~" {
		if extensionID, err = strconv.ParseInt(raw, 10, 64); err != nil {
			u.writeError(w, http.StatusBadRequest, switchboard.CodeInvalidParameter, "extensionId must be an extension id")
			return
		}
	}
	if !p.CanAccessMailbox(accountID, extensionID) {
		u.writeError(w, http.StatusForbidden, switchboard.CodeOtherExtension, "Access to other extension resources is not allowed")
		return
	}
	flusher, ok := w.(http.Flusher)
	if !ok {
		u.writeError(w, http.StatusInternalServerError, switchboard.CodeInternal, "Streaming is not supported by this connection")
		return
	}

	changed, stop := u.store.WatchChanges()
	defer stop()
	pos, err := u.store.SyncPosition(ctx)
	if err != nil {
		u.unavailable(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, "retry: 2000\nevent: ready\ndata: {}\n\n")
	flusher.Flush()

	backstop := time.NewTicker(u.config.EventsBackstop)
	defer backstop.Stop()
	keepAlive := time.NewTicker(keepAliveEvery)
	defer keepAlive.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-u.stop:
			return
		case <-keepAlive.C:
			fmt.Fprint(w, ": keep-alive\n\n")
			flusher.Flush()
			continue
		case <-changed:
		case <-backstop.C:
		}
		for {
			delta, err := u.store.SyncChanges(ctx, accountID, extensionID, pos, eventsBatch)
			if errors.Is(err, switchboard.ErrSyncTokenExpired) {
				// The log was trimmed past our position: the page reloads its list.
				if pos, err = u.store.SyncPosition(ctx); err != nil {
					return
				}
				fmt.Fprint(w, "event: reset\ndata: {}\n\n")
				flusher.Flush()
				break
			}
			if err != nil {
				// The client reconnects (retry above) and reloads.
				u.logger.WarnContext(ctx, "web UI events: reading the change log", "err", err)
				return
			}
			if len(delta.Messages) > 0 {
				ids := make([]string, len(delta.Messages))
				for i, m := range delta.Messages {
					ids[i] = strconv.FormatInt(m.ID, 10)
				}
				b, _ := json.Marshal(map[string]any{"messageIds": ids})
				fmt.Fprintf(w, "event: change\ndata: %s\n\n", b)
				flusher.Flush()
			}
			if delta.Seq > pos {
				pos = delta.Seq
			}
			if !delta.More {
				break
			}
		}
	}
}
