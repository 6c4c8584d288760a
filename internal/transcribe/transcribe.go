// Package transcribe turns voicemail audio into text with an external
// transcriber, and runs the durable jobs that do so.
//
// # The transcriber contract
//
// A transcriber is a program or an HTTP endpoint; Switchboard ships none
// (wrap whisper.cpp, Vosk or a cloud service in a few lines of script).
//
//   - Command (--transcribe-command "/usr/local/bin/stt --lang en"): run
//     once per recording, without a shell, the words of the setting as
//     program and arguments. The audio (WAV or MP3) is on stdin; its
//     content type is in the environment as SWITCHBOARD_AUDIO_CONTENT_TYPE
//     (audio/wav or audio/mpeg). Exit status 0 with the text (UTF-8) on
//     stdout is success; any other status is a failure, and the end of
//     stderr is logged.
//   - HTTP (--transcribe-url https://stt.internal/v1/transcribe): POST with
//     the audio as the body and its Content-Type. A 2xx answer is success:
//     a text/plain body is the text, an application/json body is an object
//     whose "text" member is. Any other status is a failure.
//
// Either way the run is bounded by --transcribe-timeout (the program is
// killed, the request cancelled) and the transcript by MaxText bytes.
// Success with text stores it as an AudioTranscription attachment
// (text/plain) and the voicemail's vmTranscriptionStatus becomes
// Completed (an empty text completes without an attachment); a failure
// makes it Failed, a timeout TimedOut. The voicemail and its audio are kept
// whatever happens.
package transcribe

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"time"
	"unicode/utf8"
)

// MaxText bounds a transcript (about three hours of speech).
const MaxText = 256 << 10

// Transcriber turns a recording into text.
type Transcriber interface {
	Transcribe(ctx context.Context, audio []byte, contentType string) (string, error)
}

// Command is a transcriber program.
type Command struct {
	Path string
	Args []string
}

// NewCommand splits a command line on white space (no shell, no quoting).
func NewCommand(line string) (*Command, error) {
	f := strings.Fields(line)
	if len(f) == 0 {
		return nil, errors.New("transcribe: empty command")
	}
	return &Command{Path: f[0], Args: f[1:]}, nil
}

// Transcribe runs the program with the audio on stdin.
func (c *Command) Transcribe(ctx context.Context, audio []byte, contentType string) (string, error) {
	cmd := exec.CommandContext(ctx, c.Path, c.Args...)
	cmd.Stdin = bytes.NewReader(audio)
	cmd.Env = append(os.Environ(), "SWITCHBOARD_AUDIO_CONTENT_TYPE="+contentType)
	stdout := &capped{max: MaxText}
	stderr := &capped{max: 4096, keepTail: true}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	// A killed program's children may hold the pipes open; stop waiting
	// for them shortly after.
	cmd.WaitDelay = 2 * time.Second
	err := cmd.Run()
	if ctx.Err() != nil {
		return "", ctx.Err()
	}
	if err != nil {
		return "", fmt.Errorf("transcribe: %s: %v: %s", c.Path, err, strings.TrimSpace(stderr.String()))
	}
	if stdout.over {
		return "", fmt.Errorf("transcribe: %s: transcript over %d bytes", c.Path, MaxText)
	}
	return text(stdout.Bytes())
}

// HTTP is a transcriber endpoint.
type HTTP struct {
	URL    string
	Client *http.Client // nil: http.DefaultClient
}

// Transcribe POSTs the audio and reads the text answer.
func (h *HTTP) Transcribe(ctx context.Context, audio []byte, contentType string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.URL, bytes.NewReader(audio))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Accept", "text/plain, application/json")
	client := h.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		return "", fmt.Errorf("transcribe: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxText+1))
	if err != nil {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		return "", fmt.Errorf("transcribe: read answer: %w", err)
	}
	if resp.StatusCode/100 != 2 {
		return "", fmt.Errorf("transcribe: %s answered %s: %.200s", h.URL, resp.Status, body)
	}
	if len(body) > MaxText {
		return "", fmt.Errorf("transcribe: transcript over %d bytes", MaxText)
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt == "application/json" {
		var v struct {
			Text *string `json:"text"`
		}
		if err := json.Unmarshal(body, &v); err != nil || v.Text == nil {
			return "", fmt.Errorf("transcribe: JSON answer without a \"text\" string: %.200s", body)
		}
		return text([]byte(*v.Text))
	}
	return text(body)
}

func text(b []byte) (string, error) {
	if !utf8.Valid(b) {
		return "", errors.New("transcribe: transcript is not UTF-8")
	}
	return strings.TrimSpace(string(b)), nil
}

// capped is a buffer that keeps at most max bytes: the head, or with
// keepTail the tail.
type capped struct {
	bytes.Buffer
	max      int
	keepTail bool
	over     bool
}

func (c *capped) Write(p []byte) (int, error) {
	n := len(p)
	if c.keepTail {
		c.Buffer.Write(p)
		if c.Len() > c.max {
			tail := append([]byte(nil), c.Bytes()[c.Len()-c.max:]...)
			c.Reset()
			c.Buffer.Write(tail)
		}
		return n, nil
	}
	if room := c.max - c.Len(); len(p) > room {
		p = p[:max(room, 0)]
		c.over = true
	}
	c.Buffer.Write(p)
	return n, nil
}
