// Package e2e holds the end-to-end tests: the official RingCentral SDKs
// (@ringcentral/sdk, @rc-ex/core and @ringcentral/subscriptions, pinned in
// package-lock.json) drive a real switchboard binary started with
// `serve --demo` on a free loopback port.
//
// The tests are node:test files (*.test.mjs, sharing harness.mjs). The web
// UI's tests (webui.test.mjs) drive Debian's Chromium (/usr/bin/chromium,
// installed from .ci/apt-packages) with playwright-core, which downloads no
// browser of its own. The Go test
// in this package builds the binary and runs `node --test e2e/` with
// SWITCHBOARD_BIN set, so `go test ./...` covers the SDKs too; it needs
// `npm ci --prefix e2e` first. To run the SDK tests alone:
//
//	npm ci --prefix e2e && node --test e2e/
package e2e
