package push

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/rcwire"
)

// event is one notification to deliver: its filter (the event name) and
// body, and the change-log positions it covers.
type event struct {
	name     string
	body     any
	firstSeq int64
}

// envelope is RingCentral's notification: the same JSON for WebHooks and
// WebSocket ServerNotifications.
type envelope struct {
	UUID           string `json:"uuid"`
	Event          string `json:"event"`
	Timestamp      string `json:"timestamp"`
	SubscriptionID string `json:"subscriptionId"`
	OwnerID        string `json:"ownerId"`
	Body           any    `json:"body"`
}

// messageEventBody is RingCentral's MessageEvent body.
type messageEventBody struct {
	AccountID   int64           `json:"accountId"`
	ExtensionID int64           `json:"extensionId"`
	LastUpdated string          `json:"lastUpdated"`
	Changes     []messageChange `json:"changes"`
}

type messageChange struct {
	Type          string  `json:"type"`
	NewCount      int     `json:"newCount"`
	UpdatedCount  int     `json:"updatedCount"`
	NewMessageIDs []int64 `json:"newMessageIds,omitempty"`
}

// changeType spells a message type as MessageEvent's changes[].type does.
func changeType(t switchboard.MessageType) string {
	if t == switchboard.TypeVoiceMail {
		return "Voicemail"
	}
	return string(t)
}

// buildEvents turns a batch of changes (oldest first) into the
// subscription's events, ordered by the first change each covers. A
// message-store filter folds the batch's changes of its mailbox into one
// MessageEvent (counts per type, as RingCentral sends); instant, fax and
// voicemail filters give one event per new message, carrying the message;
// the a2p-sms/batches filter one per batch created or completed, carrying
// the batch as it is now.
func (d *Dispatcher) buildEvents(ctx context.Context, filters []switchboard.EventFilter, changes []*switchboard.Change) ([]event, error) {
	var events []event
	agg := map[int]int{} // filter index -> index in events of its MessageEvent
	for _, c := range changes {
		for i, f := range filters {
			if !f.Matches(c) {
				continue
			}
			if f.Kind == switchboard.EventMessageStore {
				j, ok := agg[i]
				if !ok {
					j = len(events)
					agg[i] = j
					events = append(events, event{name: f.Path, firstSeq: c.Seq,
						body: &messageEventBody{AccountID: c.AccountID, ExtensionID: c.ExtensionID}})
				}
				b := events[j].body.(*messageEventBody)
				b.LastUpdated = rcwire.Time(c.At)
				k := -1
				for n := range b.Changes {
					if b.Changes[n].Type == changeType(c.Type) {
						k = n
					}
				}
				if k < 0 {
					b.Changes = append(b.Changes, messageChange{Type: changeType(c.Type)})
					k = len(b.Changes) - 1
				}
				if c.Kind == switchboard.ChangeCreated {
					b.Changes[k].NewCount++
					b.Changes[k].NewMessageIDs = append(b.Changes[k].NewMessageIDs, c.MessageID)
				} else {
					b.Changes[k].UpdatedCount++
				}
				continue
			}
			if f.Kind == switchboard.EventA2PBatches {
				b, err := d.store.A2PBatch(ctx, c.AccountID, c.MessageID)
				if errors.Is(err, switchboard.ErrNotFound) {
					continue
				}
				if err != nil {
					return nil, err
				}
				events = append(events, event{name: f.Path, firstSeq: c.Seq, body: rcwire.NewA2PBatch(b)})
				continue
			}
			m, err := d.store.Message(ctx, c.AccountID, c.ExtensionID, c.MessageID)
			if errors.Is(err, switchboard.ErrNotFound) {
				continue // removed since: nothing left to show
			}
			if err != nil {
				return nil, err
			}
			events = append(events, event{name: f.Path, firstSeq: c.Seq, body: rcwire.NewMessage(d.config.BaseURL, m)})
		}
	}
	return events, nil
}

// encode builds the envelope of ev for sub, and says the uuid it gave it.
func (d *Dispatcher) encode(sub *switchboard.Subscription, ev event) (body []byte, uuid string, err error) {
	uuid = newUUID()
	body, err = json.Marshal(envelope{
		UUID:           uuid,
		Event:          ev.name,
		Timestamp:      rcwire.Time(d.clock.Now()),
		SubscriptionID: sub.ID,
		OwnerID:        strconv.FormatInt(sub.ExtensionID, 10),
		Body:           ev.body,
	})
	return body, uuid, err
}
