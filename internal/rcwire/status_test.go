package rcwire

import (
	"net/http"
	"testing"

	"github.com/switchboardhq/switchboard"
)

// Every errorCode keeps the HTTP status RingCentral answers it with (and
// the API answered before the status became the edge's to decide).
func TestStatus(t *testing.T) {
	for _, tc := range []struct {
		code   string
		status int
	}{
		{switchboard.CodeInvalidParameter, 400}, {switchboard.CodeNotFound, 404}, {switchboard.CodeInvalidJSON, 400},
		{switchboard.CodeBadRequest, 400}, {switchboard.CodeBatchLimit, 400}, {switchboard.CodeRangeNotSatisfied, 416},
		{"CMN-109", 403}, {"CMN-120", 404}, {switchboard.CodeUnavailable, 503}, {switchboard.CodeInternal, 500},
		{"CMN-301", 429}, {switchboard.CodeAppPermission, 403}, {switchboard.CodeOtherExtension, 403},
		{switchboard.CodeLoginRequired, 401}, {"CMN-408", 403}, {switchboard.CodeRequestTooLarge, 413},
		{switchboard.CodeUnsupportedMedia, 415}, {switchboard.CodeAccessTokenExpired, 401}, {switchboard.CodeAccessTokenInvalid, 401},
		{"OAU-213", 403}, {"MSG-242", 403}, {"MSG-245", 400}, {"MSG-304", 403}, {"MSG-324", 400}, {"MSG-331", 403},
		{"MSG-333", 400}, {"MSG-337", 400}, {"MSG-338", 400}, {switchboard.CodeNotRestorable, 400}, {"MSG-343", 406},
		{"MSG-347", 400}, {"MSG-348", 415}, {"MSG-349", 400}, {"SUB-405", 403}, {"SUB-505", 403}, {"SUB-508", 400},
		{"SUB-522", 400}, {"SUB-525", 400},
		{"XYZ-999", http.StatusBadRequest}, // unknown: a client error, never a 5xx
	} {
		if got := ErrorStatus(switchboard.Errorf(tc.code, "x")); got != tc.status {
			t.Errorf("%s: status %d, want %d", tc.code, got, tc.status)
		}
	}
}
