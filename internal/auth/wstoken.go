package auth

import (
	"context"
	"errors"
	"time"

	"github.com/switchboardhq/switchboard"
)

// WebSocketTokenTTL is the lifetime of a ws_access_token. The SDKs reuse
// one for reconnects until 0.8 of it has passed, so it is accepted any
// number of times while it lives (RingCentral's docs call it single-use,
// its SDK does not treat it so).
const WebSocketTokenTTL = 10 * time.Minute

// IssueWebSocketToken issues the token a client opens the notification
// WebSocket with (POST /restapi/oauth/wstoken), in p's login session: a
// revoke of the session ends it too.
func (s *Service) IssueWebSocketToken(ctx context.Context, p *switchboard.Principal) (string, time.Duration, error) {
	now := s.clock.Now()
	text, hash := NewOpaqueToken()
	t := &switchboard.Token{Hash: hash, Kind: switchboard.TokenWebSocket, SessionID: p.SessionID, AccountID: p.AccountID,
		ExtensionID: p.ExtensionID, AppID: p.AppID, Scopes: p.Scopes, Created: now, Expires: now.Add(WebSocketTokenTTL)}
	if err := s.store.CreateTokens(ctx, t); err != nil {
		return "", 0, err
	}
	return text, WebSocketTokenTTL, nil
}

// AuthenticateWebSocket resolves a ws_access_token into the principal it
// acts as; the extension and account must still be enabled.
func (s *Service) AuthenticateWebSocket(ctx context.Context, token string) (*switchboard.Principal, error) {
	invalid := switchboard.Errorf(switchboard.CodeAccessTokenInvalid, "Invalid token")
	if token == "" {
		return nil, invalid
	}
	// One read, as for API tokens; an outage stays an error (503), not a
	// refusal of the token.
	p, err := s.store.AccessPrincipal(ctx, HashSecret(token), switchboard.TokenWebSocket, s.clock.Now())
	if errors.Is(err, switchboard.ErrNotFound) {
		return nil, invalid
	}
	return p, err
}
