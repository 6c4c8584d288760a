package ratelimit

import "strings"

// endpointGroups is RingCentral's assignment of endpoints to groups: the
// x-throttling-group of each operation in its API reference
// (/work/shared/spec, RingCentral's OpenAPI). "*" matches one path segment.
// The message-store-report endpoints are not in that reference; they count
// as Heavy, as RingCentral's developer guide classes report creation.
var endpointGroups = []struct {
	method, path string
	group        Group
}{
	{"GET", "/restapi/oauth/authorize", Auth},
	{"POST", "/restapi/oauth/authorize", Auth},
	{"POST", "/restapi/oauth/token", Auth},
	{"POST", "/restapi/oauth/revoke", Auth},
	{"POST", "/restapi/oauth/wstoken", Auth},

	{"GET", "/restapi/v1.0/account/*", Light},
	{"GET", "/restapi/v1.0/account/*/extension", Medium},
	{"GET", "/restapi/v1.0/account/*/extension/*", Light},
	{"GET", "/restapi/v1.0/account/*/extension/*/phone-number", Light},
	{"GET", "/restapi/v1.0/account/*/phone-number", Heavy},
	{"GET", "/restapi/v1.0/account/*/phone-number/*", Light},
	{"GET", "/restapi/v1.0/account/*/extension/*/features", Medium},

	{"GET", "/restapi/v1.0/account/*/extension/*/message-store", Light},
	{"DELETE", "/restapi/v1.0/account/*/extension/*/message-store", Medium},
	{"GET", "/restapi/v1.0/account/*/extension/*/message-store/*", Light},
	{"PUT", "/restapi/v1.0/account/*/extension/*/message-store/*", Medium},
	{"PATCH", "/restapi/v1.0/account/*/extension/*/message-store/*", Medium},
	{"DELETE", "/restapi/v1.0/account/*/extension/*/message-store/*", Medium},
	{"GET", "/restapi/v1.0/account/*/extension/*/message-store/*/content/*", Medium},
	{"GET", "/restapi/v1.0/account/*/extension/*/message-sync", Light},
	{"POST", "/restapi/v1.0/account/*/extension/*/sms", Medium},
	{"POST", "/restapi/v1.0/account/*/extension/*/mms", Medium},
	{"POST", "/restapi/v1.0/account/*/extension/*/company-pager", Medium},
	{"POST", "/restapi/v1.0/account/*/extension/*/fax", Heavy},
	{"GET", "/restapi/v1.0/dictionary/fax-cover-page", Light},
	{"GET", "/restapi/v1.0/account/*/message-store-configuration", Light},
	{"PUT", "/restapi/v1.0/account/*/message-store-configuration", Light},
	{"POST", "/restapi/v1.0/account/*/message-store-report", Heavy},
	{"GET", "/restapi/v1.0/account/*/message-store-report/*", Heavy},
	{"GET", "/restapi/v1.0/account/*/message-store-report/*/archive", Heavy},
	{"GET", "/restapi/v1.0/account/*/message-store-report/*/archive/*", Heavy},

	{"GET", "/restapi/v1.0/subscription", Light},
	{"POST", "/restapi/v1.0/subscription", Medium},
	{"GET", "/restapi/v1.0/subscription/*", Light},
	{"PUT", "/restapi/v1.0/subscription/*", Medium},
	{"DELETE", "/restapi/v1.0/subscription/*", Medium},
	{"POST", "/restapi/v1.0/subscription/*/renew", Light},
}

// GroupFor is the group of a RingCentral API call; ok is false for paths
// RingCentral does not throttle (or does not have). An endpoint the table
// does not name but that lives under /restapi/v1.0 counts as Medium, so that
// nothing new goes uncounted.
func GroupFor(method, path string) (g Group, ok bool) {
	path = strings.TrimSuffix(path, "/")
	for _, e := range endpointGroups {
		if e.method == method && matchPath(e.path, path) {
			return e.group, true
		}
	}
	if strings.HasPrefix(path, "/restapi/v1.0/") {
		return Medium, true
	}
	return "", false
}

func matchPath(pattern, path string) bool {
	for {
		ps, prest, pmore := strings.Cut(pattern, "/")
		s, rest, more := strings.Cut(path, "/")
		if ps != "*" && ps != s || ps == "*" && s == "" || pmore != more {
			return false
		}
		if !more {
			return true
		}
		pattern, path = prest, rest
	}
}
