package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/push"
	"github.com/switchboardhq/switchboard/internal/rcwire"
)

// Notifier is the push dispatcher as the API uses it.
type Notifier interface {
	ValidateWebHook(ctx context.Context, address string) error
	Attach(sub *switchboard.Subscription, sink push.Sink) (detach func())
	Update(sub *switchboard.Subscription)
	Wake()
}

// subscriptionRequest is CreateSubscriptionRequest / UpdateSubscriptionRequest.
type subscriptionRequest struct {
	EventFilters []string `json:"eventFilters"`
	ExpiresIn    *int64   `json:"expiresIn"`
	DeliveryMode *struct {
		TransportType     string `json:"transportType"`
		Address           string `json:"address"`
		VerificationToken string `json:"verificationToken"`
		// Current RingCentral docs call it validationToken; both are taken.
		ValidationToken string `json:"validationToken"`
	} `json:"deliveryMode"`
}

// subscriptionJSON is SubscriptionInfo.
type subscriptionJSON struct {
	URI             string           `json:"uri"`
	ID              string           `json:"id"`
	CreationTime    string           `json:"creationTime"`
	Status          string           `json:"status"`
	EventFilters    []string         `json:"eventFilters"`
	ExpirationTime  string           `json:"expirationTime"`
	ExpiresIn       int64            `json:"expiresIn"`
	DeliveryMode    deliveryModeJSON `json:"deliveryMode"`
	BlacklistedData *blacklistedJSON `json:"blacklistedData,omitempty"`
}

type deliveryModeJSON struct {
	TransportType string `json:"transportType"`
	Address       string `json:"address,omitempty"`
	Encryption    *bool  `json:"encryption,omitempty"`
}

type blacklistedJSON struct {
	BlacklistedAt string `json:"blacklistedAt"`
	Reason        string `json:"reason"`
}

type subscriptionListJSON struct {
	URI     string             `json:"uri"`
	Records []subscriptionJSON `json:"records"`
}

func (s *Server) subscriptionJSON(base string, sub *switchboard.Subscription) subscriptionJSON {
	out := subscriptionJSON{
		URI: base + "/restapi/v1.0/subscription/" + sub.ID, ID: sub.ID, CreationTime: rcwire.Time(sub.Created),
		Status: string(sub.Status), EventFilters: sub.EventFilters, ExpirationTime: rcwire.Time(sub.Expires),
		ExpiresIn: max(sub.ExpiresIn(s.clock.Now()), 1), DeliveryMode: deliveryModeJSON{TransportType: string(sub.Transport)},
	}
	if sub.Transport == switchboard.TransportWebHook {
		out.DeliveryMode.Address, out.DeliveryMode.Encryption = sub.Address, new(bool)
	}
	if sub.Status == switchboard.SubscriptionBlacklisted {
		out.BlacklistedData = &blacklistedJSON{BlacklistedAt: rcwire.Time(sub.Blacklisted), Reason: sub.LastError}
	}
	return out
}

// wsSession is the WebSocket session a subscription call comes over
// (nil over HTTP).
type wsSession struct {
	id     string // wsc token
	attach func(sub *switchboard.Subscription)
	drop   func(id string)
}

// subscriptionCall runs one subscription API call for p, over HTTP or a
// WebSocket ClientRequest: method, the path after /restapi/v1.0/subscription
// ("" or "/{id}" or "/{id}/renew") and the JSON body.
func (s *Server) subscriptionCall(ctx context.Context, p *switchboard.Principal, base, method, rest string, body []byte, ws *wsSession) (int, any, error) {
	if s.push == nil {
		return 0, nil, switchboard.Errorf(switchboard.CodeUnavailable, "Push notifications are not enabled on this server")
	}
	rest = strings.Trim(rest, "/")
	id, action, _ := strings.Cut(rest, "/")
	switch {
	case id == "" && method == http.MethodPost:
		sub, err := s.createSubscription(ctx, p, body, ws)
		if err != nil {
			return 0, nil, err
		}
		return http.StatusOK, s.subscriptionJSON(base, sub), nil
	case id == "" && method == http.MethodGet:
		subs, err := s.store.ListSubscriptions(ctx, p.AccountID, p.ExtensionID, p.AppID)
		if err != nil {
			return 0, nil, err
		}
		out := subscriptionListJSON{URI: base + "/restapi/v1.0/subscription", Records: []subscriptionJSON{}}
		now := s.clock.Now()
		for _, sub := range subs {
			if !sub.Expired(now) {
				out.Records = append(out.Records, s.subscriptionJSON(base, sub))
			}
		}
		return http.StatusOK, out, nil
	case id != "" && action == "" && method == http.MethodGet:
		sub, err := s.ownSubscription(ctx, p, id)
		if err != nil {
			return 0, nil, err
		}
		return http.StatusOK, s.subscriptionJSON(base, sub), nil
	case id != "" && (action == "" && method == http.MethodPut || action == "renew" && method == http.MethodPost):
		if action == "renew" {
			body = nil
		}
		sub, err := s.updateSubscription(ctx, p, id, body, ws)
		if err != nil {
			return 0, nil, err
		}
		return http.StatusOK, s.subscriptionJSON(base, sub), nil
	case id != "" && action == "" && method == http.MethodDelete:
		if _, err := s.ownSubscription(ctx, p, id); err != nil {
			return 0, nil, err
		}
		if err := s.store.DeleteSubscription(ctx, p.AccountID, p.ExtensionID, p.AppID, id); err != nil {
			return 0, nil, notFoundAs(err, "subscriptionId", id)
		}
		if ws != nil {
			ws.drop(id)
		}
		return http.StatusNoContent, nil, nil
	}
	return 0, nil, switchboard.Errorf("CMN-120", "Invalid URI: %s /restapi/v1.0/subscription/%s", method, rest)
}

// ownSubscription is one of p's live subscriptions: another owner's, or an
// expired one, is 404 as RingCentral answers for a removed subscription.
func (s *Server) ownSubscription(ctx context.Context, p *switchboard.Principal, id string) (*switchboard.Subscription, error) {
	sub, err := s.store.Subscription(ctx, p.AccountID, p.ExtensionID, p.AppID, id)
	if err == nil && sub.Expired(s.clock.Now()) {
		err = switchboard.ErrNotFound
	}
	if err != nil {
		return nil, notFoundAs(err, "subscriptionId", id)
	}
	return sub, nil
}

func decodeSubscriptionRequest(body []byte) (*subscriptionRequest, error) {
	var req subscriptionRequest
	if len(strings.TrimSpace(string(body))) == 0 {
		return &req, nil
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, jsonError(err)
	}
	return &req, nil
}

// checkFilters resolves filters for p (tenancy included) and checks that
// another extension named by an administrator exists in its account.
func (s *Server) checkFilters(ctx context.Context, p *switchboard.Principal, raw []string) ([]string, error) {
	if !p.HasScope(switchboard.ScopeReadMessages) {
		return nil, switchboard.Errorf(switchboard.CodeAppPermission,
			"In order to subscribe to message events, application needs to have [%s] permission", switchboard.ScopeReadMessages)
	}
	fs, err := switchboard.ResolveEventFilters(raw, p)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(fs))
	for _, f := range fs {
		if f.ExtensionID != p.ExtensionID {
			if _, err := s.store.Extension(ctx, f.AccountID, f.ExtensionID); errors.Is(err, switchboard.ErrNotFound) {
				return nil, switchboard.Errorf(switchboard.CodeInvalidEventFilter,
					"Event filter %q is not supported: extension %d does not exist", f.Path, f.ExtensionID)
			} else if err != nil {
				return nil, err
			}
		}
		out = append(out, f.Path)
	}
	return out, nil
}

// lifetime is how long a subscription created or renewed now lives: the
// expiresIn given, else its own lifetime (current; zero when creating),
// else the default.
func lifetime(transport switchboard.TransportType, expiresIn *int64, current time.Duration) (time.Duration, error) {
	if transport == switchboard.TransportWebSocket {
		return switchboard.WebSocketSubscriptionTTL, nil // expiresIn is ignored, as RingCentral does
	}
	if expiresIn == nil && current > 0 {
		return current, nil
	}
	if expiresIn == nil {
		return switchboard.DefaultSubscriptionTTL, nil
	}
	if *expiresIn < 1 || *expiresIn > int64(switchboard.MaxWebHookTTL/time.Second) {
		return 0, switchboard.InvalidParam("expiresIn", strconv.FormatInt(*expiresIn, 10),
			"Parameter [expiresIn] must be between 1 and %d", int64(switchboard.MaxWebHookTTL/time.Second))
	}
	return time.Duration(*expiresIn) * time.Second, nil
}

func (s *Server) createSubscription(ctx context.Context, p *switchboard.Principal, body []byte, ws *wsSession) (*switchboard.Subscription, error) {
	req, err := decodeSubscriptionRequest(body)
	if err != nil {
		return nil, err
	}
	if req.DeliveryMode == nil || req.DeliveryMode.TransportType == "" {
		return nil, switchboard.InvalidParam("deliveryMode.transportType", "", "Parameter [deliveryMode.transportType] is required")
	}
	sub := &switchboard.Subscription{ID: push.NewUUID(), AccountID: p.AccountID, ExtensionID: p.ExtensionID, AppID: p.AppID,
		Transport: switchboard.TransportType(req.DeliveryMode.TransportType), Status: switchboard.SubscriptionActive}
	switch {
	case sub.Transport == switchboard.TransportWebSocket && ws != nil:
		if !p.HasScope(switchboard.ScopeWebSocketSubscription) {
			return nil, scopeError(switchboard.ScopeWebSocketSubscription)
		}
		sub.SessionID = ws.id
	case sub.Transport == switchboard.TransportWebSocket:
		return nil, switchboard.InvalidParam("deliveryMode.transportType", "WebSocket",
			"WebSocket subscriptions are created over the WebSocket connection (POST /restapi/oauth/wstoken, then connect)")
	case sub.Transport == switchboard.TransportWebHook:
		if !p.HasScope(switchboard.ScopeSubscriptionWebhook) {
			return nil, scopeError(switchboard.ScopeSubscriptionWebhook)
		}
		sub.Address = strings.TrimSpace(req.DeliveryMode.Address)
		sub.VerificationToken = req.DeliveryMode.VerificationToken
		if sub.VerificationToken == "" {
			sub.VerificationToken = req.DeliveryMode.ValidationToken
		}
		if len(sub.VerificationToken) > switchboard.MaxVerificationToken {
			return nil, switchboard.InvalidParam("deliveryMode.verificationToken", "", "Parameter [deliveryMode.verificationToken] is longer than %d", switchboard.MaxVerificationToken)
		}
		if err := push.CheckAddress(sub.Address); err != nil {
			return nil, err
		}
	default:
		return nil, switchboard.InvalidParam("deliveryMode.transportType", req.DeliveryMode.TransportType,
			"Parameter [deliveryMode.transportType] must be WebHook or WebSocket")
	}
	if sub.EventFilters, err = s.checkFilters(ctx, p, req.EventFilters); err != nil {
		return nil, err
	}
	ttl, err := lifetime(sub.Transport, req.ExpiresIn, 0)
	if err != nil {
		return nil, err
	}
	if sub.Transport == switchboard.TransportWebHook {
		// Last, after every cheap check: the receiver is called.
		if err := s.push.ValidateWebHook(ctx, sub.Address); err != nil {
			return nil, err
		}
	}
	// Both times after the handshake, so expiresIn is exact.
	sub.Created = s.clock.Now()
	sub.Expires, sub.Lifetime = sub.Created.Add(ttl), ttl
	if err := s.store.CreateSubscription(ctx, sub); err != nil {
		return nil, err
	}
	if ws != nil {
		ws.attach(sub)
	}
	return sub, nil
}

func (s *Server) updateSubscription(ctx context.Context, p *switchboard.Principal, id string, body []byte, ws *wsSession) (*switchboard.Subscription, error) {
	cur, err := s.ownSubscription(ctx, p, id)
	if err != nil {
		return nil, err
	}
	if cur.Transport == switchboard.TransportWebSocket && ws == nil && len(strings.TrimSpace(string(body))) > 0 {
		return nil, switchboard.InvalidParam("subscriptionId", id, "WebSocket subscriptions cannot be updated over HTTP")
	}
	req, err := decodeSubscriptionRequest(body)
	if err != nil {
		return nil, err
	}
	var filters []string
	if len(req.EventFilters) > 0 {
		if filters, err = s.checkFilters(ctx, p, req.EventFilters); err != nil {
			return nil, err
		}
	}
	ttl, err := lifetime(cur.Transport, req.ExpiresIn, cur.Lifetime)
	if err != nil {
		return nil, err
	}
	expires := s.clock.Now().Add(ttl)
	sub, err := s.store.UpdateSubscription(ctx, p.AccountID, p.ExtensionID, p.AppID, id, filters, expires, ttl)
	if err != nil {
		return nil, notFoundAs(err, "subscriptionId", id)
	}
	// A cached WebSocket subscription taken over by a new connection is
	// this session's now, for renewal and recovery. (A WebHook renewed
	// over a socket has no session and stays as it is.) The session is
	// set before sub is handed on: the dispatcher keeps the pointer.
	takeover := ws != nil && cur.Transport == switchboard.TransportWebSocket && cur.SessionID != ws.id
	if takeover {
		if err := s.store.MoveSubscriptionSession(ctx, p.AccountID, p.ExtensionID, p.AppID, id, ws.id); err != nil {
			return nil, notFoundAs(err, "subscriptionId", id)
		}
		sub.SessionID = ws.id
	}
	s.push.Update(sub)
	if takeover {
		ws.attach(sub)
	}
	return sub, nil
}

func scopeError(scope string) error {
	return switchboard.Errorf(switchboard.CodeAppPermission,
		"In order to call this API endpoint, application needs to have [%s] permission", scope)
}

// handleSubscription serves every /restapi/v1.0/subscription route.
func (s *Server) handleSubscription(w http.ResponseWriter, r *http.Request, p *switchboard.Principal) {
	body, err := readBody(w, r, s.config.MaxBodyBytes)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	rest := strings.TrimPrefix(r.URL.Path, "/restapi/v1.0/subscription")
	status, out, err := s.subscriptionCall(r.Context(), p, s.baseURL(r), r.Method, rest, body, nil)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if out == nil {
		w.WriteHeader(status)
		return
	}
	writeJSON(w, status, out)
}
