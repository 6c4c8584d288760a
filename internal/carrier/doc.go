// Package carrier sends SMS, MMS and faxes to numbers that do not belong to
// this server, and holds the carrier simulator that does so by default.
//
// # The Carrier interface
//
// A Carrier has four methods, so an SMPP or HTTP-gateway carrier fits in
// one file:
//
//   - Submit sends one message to one recipient. It is idempotent per
//     (MessageID, Recipient): a second Submit returns the first answer and
//     sends nothing. The answer is accepted (Result.Accepted, with the
//     carrier's id), refused for good (Result.ErrorCode), or an error:
//     errors.Is(err, ErrTemporary) means retry later, after RetryAfter(err)
//     when that is not 0; a context error means nothing was decided; any
//     other error (ErrInvalid) means the submission is unusable.
//   - Receipts returns the delivery reports due by now that are not yet
//     acknowledged, oldest first, again on every call until acknowledged.
//   - Ack acknowledges one report. Acknowledging twice is not an error.
//   - Listen is the inbound direction: until its context ends it hands each
//     SMS, MMS or fax the gateway receives for this server's numbers to the
//     switchboard.InboundReceiver it is given, and acknowledges it upstream
//     after Receive returns: accepted when stored, rejected for good on a
//     4xx *switchboard.Error (unknown number, unusable file: logged and not
//     stored), left for redelivery on any other error. It sets each
//     message's SourceID to the gateway's message id, which makes a
//     redelivery idempotent. An SMPP carrier does this from its deliver_sm
//     handler, an HTTP gateway from its callback handler.
//
// Receipts are pulled, not pushed, so a durable worker owns the pace: it
// polls, writes each receipt's status change in a transaction and only then
// acknowledges it. A crash between the two re-delivers the receipt, never
// loses it, so applying a receipt must be idempotent (a message already in
// its final status stays as it is). A carrier whose gateway pushes reports
// (SMPP deliver_sm, an HTTP callback) buffers them into the same shape and
// acknowledges upstream on Ack.
//
// # Mapping to message status
//
//	                         SMS / MMS                      Fax
//	Submit accepted          Sent                           Queued (in transmission)
//	Submit refused           SendingFailed,                 SendingFailed,
//	                         deliveryErrorCode = ErrorCode  faxErrorCode = ErrorCode
//	Receipt Delivered        Delivered, smsDeliveryTime=At  Sent
//	Receipt not Delivered    DeliveryFailed,                SendingFailed,
//	                         deliveryErrorCode = ErrorCode  faxErrorCode = ErrorCode
//	temporary error          stays Queued, retried          stays Queued, retried
//	  ... NotSent (offline)  stays Queued, no try counted   stays Queued, no try counted
//
// # The simulator
//
// NewSimulator returns the default carrier. It accepts every submission,
// and reports it delivered deliveryDelaySeconds later, unless a rule says
// otherwise. It reads time only from its switchboard.Clock (advance a
// ManualClock and receipts come due) and draws percentages from a hash of the
// seed, message id and recipient, so the same messages fail on every run,
// whatever the order or concurrency of the submissions.
//
// Inbound, the simulator has no network: its Receive method plays the
// network's part and hands a simulated SMS, MMS or fax to the receiver
// Listen was given (waiting for Listen to start). The admin API's
// /switchboard/v1/inbound/{sms,mms,fax} endpoints call it.
//
// Rules come from a JSON file (LoadRules) or the admin API (ParseRules, then
// SetRules; Rules reads them back). ParseRules rejects unknown fields and
// answers *switchboard.Error values: CMN-103 for bad JSON, CMN-101 naming
// the field at fault (rules[1].percent) for a bad value. An example:
//
//	{
//	  "deliveryDelaySeconds": 2,
//	  "rules": [
//	    {"match": "^\\+1555000", "stage": "submit", "errorCode": "SMS-UP-410"},
//	    {"match": "^\\+1555001", "stage": "delivery", "errorCode": "SMS-CAR-411", "types": ["SMS"]},
//	    {"types": ["MMS"], "match": "^\\+44", "stage": "delivery", "errorCode": "SMS-CAR-434"},
//	    {"percent": 10, "seed": 42, "stage": "delivery", "errorCode": "SMS-CAR-104"},
//	    {"match": "^\\+1555002", "stage": "delivery", "errorCode": "LineBusy"}
//	  ],
//	  "outages": [
//	    {"from": "2026-11-27T10:00:00Z", "until": "2026-11-27T10:05:00Z"},
//	    {"forSeconds": 300}
//	  ]
//	}
//
// deliveryDelaySeconds (0 to 86400, may be fractional) is the time from
// acceptance to the receipt; omitted, it is 2.
//
// Each rule fails the messages it matches with errorCode at its stage:
// "submit" refuses the submission, "delivery" accepts it and reports a
// failed delivery. A message matches when:
//
//   - its type is one of "types": "SMS" (every SMS), "MMS" (SMS with
//     media) or "Fax"; omitted, every type the error code fits;
//   - its recipient (E.164, such as +15550001234) matches "match", an RE2
//     regular expression that is not anchored unless you write ^ or $;
//     omitted, every recipient;
//   - it falls in "percent" (0 to 100, may be fractional) of the draws with
//     "seed" (omitted: the simulator's seed); omitted, all of them. Rules
//     with the same seed draw the same number for a message, so a 10% rule
//     fails a subset of what a 20% rule with the same seed fails; give
//     independent rules different seeds.
//
// The first matching rule of each stage wins. "stage" and "errorCode" are
// required. The error code looks like RingCentral's: a deliveryErrorCode
// SMS-RC-nnn (RingCentral), SMS-UP-nnn (upstream gateway) or SMS-CAR-nnn
// (recipient's carrier) for SMS and MMS, or a faxErrorCode value (LineBusy,
// NoAnswer, ...; see FaxErrorCodes) for faxes. The code limits the rule to the types it fits,
// so failing every type for a number takes two rules.
//
// During an outage Submit returns a *TemporaryError whose RetryAfter is the
// time left until the outage (and any outage it runs into) ends, or
// DefaultOutageRetryAfter when it has no end. An outage is "from" and
// "until" (RFC 3339), or "forSeconds" counted from "from"; "from" defaults
// to when the rules are set, and an outage with neither "until" nor
// "forSeconds" lasts until the rules change: {"outages": [{}]} turns the
// carrier off. Rules reports outages with absolute from and until, so
// writing back what was read does not restart a relative outage. Outages
// affect Submit only: receipts already scheduled still come due.
//
// Changing the rules does not change what was already decided: a
// submission's answer, and an accepted submission's receipt (its time and
// outcome), are fixed when it is first submitted.
//
// # State and crashes
//
// The simulator keeps its state (answers given, pending receipts) in memory
// only. After a crash the delivery worker resubmits every message it has
// not settled (it re-submits unacknowledged messages), and the simulator
// answers as new: the carrier id is derived from message id and recipient,
// so it is the same as before, and the pending receipt is created again.
// Within one process, a Submit of a (MessageID, Recipient) already answered
// returns the same Result, with the same CarrierID, and does not schedule a
// second receipt, even during an outage. The answer is forgotten
// SettledRetention after the submission settles (its receipt acknowledged,
// or refused), which only bounds memory.
package carrier
