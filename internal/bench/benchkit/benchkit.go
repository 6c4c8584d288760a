// Package benchkit is what the benchmark commands under internal/bench
// share: building the server binary, starting `serve --demo` and reading
// its demo.json, logging in, calling the API, PostgreSQL database URLs,
// and the figures (CPU time, latency percentiles) they report.
package benchkit

import (
	"bytes"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Demo is the part of <data>/demo.json the benchmarks use.
type Demo struct {
	Server       string `json:"server"`
	ClientID     string `json:"clientId"`
	ClientSecret string `json:"clientSecret"`
	AdminToken   string `json:"adminToken"`
	Extensions   []struct {
		ExtensionNumber string `json:"extensionNumber"`
		PhoneNumber     string `json:"phoneNumber"`
		JWT             string `json:"jwt"`
	} `json:"extensions"`
}

// Build compiles the server binary to bin. The package is named by its
// import path so the command works from any directory of the module.
func Build(bin string) error {
	build := exec.Command("go", "build", "-o", bin, "github.com/switchboardhq/switchboard/cmd/switchboard")
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("go build: %v\n%s", err, out)
	}
	return nil
}

// Binary is bin, a built switchboard binary given with -bin (to compare two
// builds in turn), or else one built now into dir.
func Binary(dir, bin string) (string, error) {
	if bin != "" {
		return bin, nil
	}
	bin = filepath.Join(dir, "switchboard")
	return bin, Build(bin)
}

// Server is one run of the binary.
type Server struct {
	cmd *exec.Cmd
	out lockedBuffer
}

// Start runs `serve --demo` (plus extra flags) on a free loopback port with
// dir as its data directory, and returns once it listens, with the
// demo.json it wrote before that.
//
// It also waits until the server's PDF renderer is compiled: a new data
// directory compiles it in the background, which takes seconds of a core
// and would be measured as part of the first load. The compiled code is
// kept in one directory shared by every benchmark run (PDFCache), so only
// the first run of a binary pays for it.
func Start(bin, dir string, extra ...string) (*Server, Demo, error) {
	var demo Demo
	s := &Server{}
	if err := sharePDFCache(dir); err != nil {
		return nil, demo, err
	}
	s.cmd = exec.Command(bin, append([]string{"serve", "--demo", "--listen", "127.0.0.1:0", "--data", dir}, extra...)...)
	s.cmd.Stdout, s.cmd.Stderr = &s.out, &s.out
	if err := s.cmd.Start(); err != nil {
		return nil, demo, err
	}
	for deadline := time.Now().Add(3 * time.Minute); !strings.Contains(s.Log(), "listening") || !strings.Contains(s.Log(), "PDF renderer"); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			_ = s.cmd.Process.Kill()
			return nil, demo, fmt.Errorf("server did not start (or its PDF renderer did not compile):\n%s", s.Log())
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, "demo.json"))
	if err == nil {
		err = json.Unmarshal(b, &demo)
	}
	if err == nil && len(demo.Extensions) < 2 {
		err = fmt.Errorf("demo.json has %d extensions", len(demo.Extensions))
	}
	if err != nil {
		_ = s.cmd.Process.Kill()
		return nil, demo, err
	}
	return s, demo, nil
}

// PDFCache is where the benchmarks keep the server's compiled PDF
// renderer between runs (the server keeps it in <data>/cache/pdfium).
var PDFCache = filepath.Join(os.TempDir(), "switchboard-bench-pdfium")

// sharePDFCache makes dir's PDF renderer cache the shared one.
func sharePDFCache(dir string) error {
	if err := os.MkdirAll(PDFCache, 0o700); err != nil {
		return err
	}
	link := filepath.Join(dir, "cache", "pdfium")
	if _, err := os.Lstat(link); err == nil {
		return nil // a data directory used again keeps what it has
	}
	if err := os.MkdirAll(filepath.Dir(link), 0o700); err != nil {
		return err
	}
	return os.Symlink(PDFCache, link)
}

// Log is the server's output so far.
func (s *Server) Log() string { return s.out.String() }

// Stop interrupts the server and waits for it to end.
func (s *Server) Stop() error {
	_ = s.cmd.Process.Signal(os.Interrupt)
	return s.cmd.Wait()
}

// PID is the server's process id.
func (s *Server) PID() int { return s.cmd.Process.Pid }

// CPUSeconds is the server's user+system CPU time so far.
func (s *Server) CPUSeconds() float64 { return CPUSeconds(s.cmd.Process.Pid) }

// CPUSeconds is a process's user+system CPU time from /proc (Linux; 0
// elsewhere).
func CPUSeconds(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseFloat(f[11], 64)
	k, _ := strconv.ParseFloat(f[12], 64)
	return (u + k) / 100 // USER_HZ
}

// RSSBytes is a process's resident memory from /proc (Linux; 0
// elsewhere). Reading it costs the process nothing, unlike a scrape of its
// /metrics, whose collectors query the database.
func RSSBytes(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb * 1024
		}
	}
	return 0
}

// Login trades a JWT for an access token (the JWT bearer grant), with the
// app's client credentials.
func Login(client *http.Client, server, clientID, clientSecret, jwt string) (string, error) {
	req, _ := http.NewRequest("POST", server+"/restapi/oauth/token", strings.NewReader(url.Values{
		"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}, "assertion": {jwt}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(clientID, clientSecret)
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || json.Unmarshal(b, &tok) != nil {
		return "", fmt.Errorf("login: %d %s", resp.StatusCode, b)
	}
	return tok.AccessToken, nil
}

// Login logs in as a demo extension, by its JWT.
func (d Demo) Login(client *http.Client, jwt string) (string, error) {
	return Login(client, d.Server, d.ClientID, d.ClientSecret, jwt)
}

// GetJSON decodes the 200 answer to GET u into v.
func GetJSON(client *http.Client, u, token string, v any) error {
	req, _ := http.NewRequest("GET", u, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return fmt.Errorf("GET %s: %d %s", u, resp.StatusCode, b)
	}
	return json.Unmarshal(b, v)
}

// PostJSON posts a JSON body (none when nil) and returns the answer.
func PostJSON(client *http.Client, u, token string, body []byte) (int, []byte, error) {
	req, _ := http.NewRequest("POST", u, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// SMSBody is the body of POST .../sms from one number to another.
func SMSBody(from, to, text string) []byte {
	b, _ := json.Marshal(map[string]any{"from": map[string]string{"phoneNumber": from},
		"to": []map[string]string{{"phoneNumber": to}}, "text": text})
	return b
}

// P50P99 sorts the samples and returns their median and 99th percentile
// (the sample at index n/2 and n*99/100).
func P50P99(s []time.Duration) (p50, p99 time.Duration) {
	if len(s) == 0 {
		return 0, 0
	}
	slices.Sort(s)
	return s[len(s)/2], s[len(s)*99/100]
}

// Millis formats a latency in milliseconds with the given decimals; each
// command keeps the precision its documented tables were made with.
func Millis(d time.Duration, decimals int) string {
	return fmt.Sprintf("%.*f ms", decimals, float64(d)/float64(time.Millisecond))
}

// lockedBuffer collects the server's output, written by the process's
// copy goroutines while the benchmark reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

// DatabaseURL is the URL of another database, name, on the PostgreSQL
// server of serverURL (same host, user and options).
func DatabaseURL(serverURL, name string) (string, error) {
	u, err := url.Parse(serverURL)
	if err != nil {
		return "", err
	}
	u.Path = "/" + name
	return u.String(), nil
}

// CreateDatabase makes a database with a random name on the PostgreSQL
// server of serverURL and returns its URL and a function that drops it.
// The caller registers the "pgx" driver (github.com/jackc/pgx/v5/stdlib).
func CreateDatabase(serverURL string) (string, func() error, error) {
	admin, err := sql.Open("pgx", serverURL)
	if err != nil {
		return "", nil, err
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "switchboard_bench_" + hex.EncodeToString(b)
	if _, err := admin.Exec(`CREATE DATABASE ` + name); err != nil {
		admin.Close()
		return "", nil, fmt.Errorf("create database: %w", err)
	}
	dbURL, err := DatabaseURL(serverURL, name)
	if err != nil {
		admin.Close()
		return "", nil, err
	}
	return dbURL, func() error {
		defer admin.Close()
		_, err := admin.Exec(`DROP DATABASE IF EXISTS ` + name + ` WITH (FORCE)`)
		return err
	}, nil
}
