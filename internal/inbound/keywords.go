package inbound

import (
	"context"

	"github.com/switchboardhq/switchboard"
)

// Keywords to high-volume (A2P) numbers: a recipient who texts STOP (or
// UNSUBSCRIBE, …) to a number with the A2PSmsSender feature is opted out of
// it, START (UNSTOP) opts back in, HELP asks what to do. As on RingCentral
// the network answers each with a short message, sent here as an ordinary
// SMS from the number through the outbox.

// keywordReplies are the automatic answers, by keyword.
var keywordReplies = map[switchboard.Keyword]string{
	switchboard.KeywordOptOut: "NETWORK MSG: You replied STOP and will no longer receive messages from this number. Reply START to receive them again.",
	switchboard.KeywordOptIn:  "NETWORK MSG: You replied START and will receive messages from this number again. Reply STOP to stop them.",
	switchboard.KeywordHelp:   "NETWORK MSG: Reply STOP to stop messages from this number, START to receive them again.",
}

// keyword records what an inbound SMS to an A2P number asks, and returns
// the keyword (KeywordNone for any other message).
func (s *Service) keyword(ctx context.Context, ext *switchboard.Extension, to, from switchboard.Party, in *switchboard.InboundMessage) (switchboard.Keyword, error) {
	if in.Type != switchboard.TypeSMS || to.PhoneNumber == "" || from.PhoneNumber == "" || len(in.Files) > 0 {
		return switchboard.KeywordNone, nil
	}
	kw := switchboard.ParseKeyword(in.Text)
	if kw == switchboard.KeywordNone {
		return kw, nil
	}
	pn, err := s.store.PhoneNumberByNumber(ctx, to.PhoneNumber)
	if err != nil || !pn.HasFeature(switchboard.FeatureA2PSms) {
		return switchboard.KeywordNone, err
	}
	status := map[switchboard.Keyword]switchboard.OptOutStatus{switchboard.KeywordOptOut: switchboard.OptOut, switchboard.KeywordOptIn: switchboard.OptIn}[kw]
	if status != "" {
		if err := s.store.SetOptOuts(ctx, ext.AccountID, to.PhoneNumber, []string{from.PhoneNumber}, status, switchboard.OptOutByRecipient); err != nil {
			return kw, err
		}
		s.logger.InfoContext(ctx, "A2P recipient "+string(status), "number", to.PhoneNumber, "recipient", from.PhoneNumber)
	}
	return kw, nil
}

// reply queues the network's answer to a keyword.
func (s *Service) reply(ctx context.Context, ext *switchboard.Extension, to, from switchboard.Party, kw switchboard.Keyword) error {
	text := keywordReplies[kw]
	if text == "" {
		return nil
	}
	target, err := switchboard.Route(ctx, s.store, from.PhoneNumber, ext.ID)
	if err != nil {
		return err
	}
	c := switchboard.OutboundSMS(ext.AccountID, ext.ID, switchboard.Party{PhoneNumber: to.PhoneNumber, Name: ext.Name},
		[]switchboard.DeliveryTarget{target}, text, nil)
	if _, err := s.store.CreateOutbound(ctx, c); err != nil {
		return err
	}
	if s.config.WakeOutbox != nil {
		s.config.WakeOutbox()
	}
	return nil
}
