package main

import (
	"net/http"
	"strconv"
	"testing"

	"github.com/switchboardhq/switchboard/internal/pgtest"
)

// TestRateLimitsHoldAcrossNodes: two nodes over one PostgreSQL database
// count in the same buckets, so a user who alternates between them gets
// the limit once, not once per node.
func TestRateLimitsHoldAcrossNodes(t *testing.T) {
	dbURL := pgtest.NewDatabase(t)
	flags := []string{"--database", dbURL, "--rate-limit-enforce", "true", "--rate-limits", "Light=6/60s"}
	dir0, dir1 := t.TempDir(), t.TempDir()
	demo, _, stop0 := runServer(t, dir0, flags...)
	defer stop0()
	copyDemo(t, dir0, dir1)
	demo1, _, stop1 := runServer(t, dir1, flags...)
	defer stop1()
	tok := login(t, demo, demo.Extensions[1].JWT)

	servers := []string{demo.Server, demo1.Server}
	for i := 0; i < 8; i++ {
		req, _ := http.NewRequest("GET", servers[i%2]+"/restapi/v1.0/account/~/extension/~", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		want, remaining := 200, 5-i
		if i >= 6 {
			want, remaining = 429, 0
		}
		if resp.StatusCode != want || resp.Header.Get("X-Rate-Limit-Remaining") != strconv.Itoa(remaining) {
			t.Fatalf("call %d on node %d: %d, %s remaining; want %d, %d remaining (one budget for the cluster)",
				i+1, i%2, resp.StatusCode, resp.Header.Get("X-Rate-Limit-Remaining"), want, remaining)
		}
		if want == 429 && resp.Header.Get("Retry-After") != "60" {
			t.Fatalf("call %d: Retry-After %q", i+1, resp.Header.Get("Retry-After"))
		}
	}
}
