package sqlstore

import (
	"encoding/json"
	"strings"

	"github.com/switchboardhq/switchboard"
)

// Parties are stored as the JSON that encoding/json makes of them
// (from_party, to_parties). Every message read decodes them, a hundred
// per page of a list, where encoding/json's reflection was an eighth of
// the list's cost when measured; so the JSON that json.Marshal writes is
// read here directly, and anything else (an escaped character, a field
// this code does not know) by encoding/json as before.

// decodeParty decodes one stored Party.
func decodeParty(s string) (switchboard.Party, error) {
	var p switchboard.Party
	if rest, ok := scanParty(s, &p); ok && rest == "" {
		return p, nil
	}
	p = switchboard.Party{}
	err := json.Unmarshal([]byte(s), &p)
	return p, err
}

// decodeParties decodes a stored []Party; an empty list is nil.
func decodeParties(s string) ([]switchboard.Party, error) {
	if ps, ok := scanParties(s); ok {
		return ps, nil
	}
	var ps []switchboard.Party
	if err := json.Unmarshal([]byte(s), &ps); err != nil {
		return nil, err
	}
	if len(ps) == 0 {
		return nil, nil
	}
	return ps, nil
}

func scanParties(s string) ([]switchboard.Party, bool) {
	if s == "[]" || s == "null" {
		return nil, true
	}
	if !strings.HasPrefix(s, "[") {
		return nil, false
	}
	s = s[1:]
	var ps []switchboard.Party
	for {
		var p switchboard.Party
		rest, ok := scanParty(s, &p)
		if !ok || rest == "" {
			return nil, false
		}
		ps = append(ps, p)
		switch rest[0] {
		case ',':
			s = rest[1:]
		case ']':
			return ps, rest == "]"
		default:
			return nil, false
		}
	}
}

// scanParty reads one object of string fields (and "target":true) as
// json.Marshal writes a Party: no spaces, no escapes. It returns what
// follows the object, or false for anything else.
func scanParty(s string, p *switchboard.Party) (rest string, ok bool) {
	if !strings.HasPrefix(s, "{") {
		return "", false
	}
	s = s[1:]
	if strings.HasPrefix(s, "}") {
		return s[1:], true
	}
	for {
		key, after, ok := scanString(s)
		if !ok || !strings.HasPrefix(after, ":") {
			return "", false
		}
		s = after[1:]
		if key == "target" {
			if !strings.HasPrefix(s, "true") {
				return "", false
			}
			p.Target, s = true, s[len("true"):]
		} else {
			var value string
			if value, s, ok = scanString(s); !ok {
				return "", false
			}
			switch key {
			case "phoneNumber":
				p.PhoneNumber = value
			case "extensionNumber":
				p.ExtensionNumber = value
			case "extensionId":
				p.ExtensionID = value
			case "name":
				p.Name = value
			case "location":
				p.Location = value
			case "messageStatus":
				p.MessageStatus = switchboard.MessageStatus(value)
			case "faxErrorCode":
				p.FaxErrorCode = value
			default:
				return "", false
			}
		}
		if s == "" {
			return "", false
		}
		switch s[0] {
		case ',':
			s = s[1:]
		case '}':
			return s[1:], true
		default:
			return "", false
		}
	}
}

// scanString reads a JSON string without escapes: what json.Marshal
// writes for text with no quote, backslash or control character.
func scanString(s string) (value, rest string, ok bool) {
	if !strings.HasPrefix(s, `"`) {
		return "", "", false
	}
	end := strings.IndexByte(s[1:], '"')
	if end < 0 {
		return "", "", false
	}
	value = s[1 : 1+end]
	if strings.IndexByte(value, '\\') >= 0 {
		return "", "", false
	}
	for i := 0; i < len(value); i++ {
		if value[i] < 0x20 {
			return "", "", false
		}
	}
	return value, s[2+end:], true
}
