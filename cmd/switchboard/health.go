package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// health asks a running server whether it serves and reaches its database:
// exit status 0 when it answers 200. It is the container's health check
// (the image has no shell or curl), so by default it asks the server this
// environment configures: SWITCHBOARD_LISTEN, with a wildcard host asked
// on loopback.
func health(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("health", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := envOr("SWITCHBOARD_LISTEN", "127.0.0.1:8080")
	server := fs.String("url", "", "the server's base URL (default: SWITCHBOARD_LISTEN, or 127.0.0.1:8080, by https:// when SWITCHBOARD_TLS_CERT is set)")
	timeout := fs.Duration("timeout", 3*time.Second, "how long to wait for the answer")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *server == "" {
		host, port, err := net.SplitHostPort(listen)
		if err != nil {
			return fmt.Errorf("health: SWITCHBOARD_LISTEN %q: want host:port", listen)
		}
		if host == "" || host == "0.0.0.0" || host == "::" {
			host = "127.0.0.1"
		}
		scheme := "http://"
		if envOr("SWITCHBOARD_TLS_CERT", "") != "" {
			scheme = "https://"
		}
		*server = scheme + net.JoinHostPort(host, port)
	}
	client := http.DefaultClient
	if strings.HasPrefix(*server, "https://") {
		// The check asks its own server on loopback, whose certificate
		// names the public host: whether the certificate is right is not
		// what it checks.
		client = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", *server+"/switchboard/v1/health", nil)
	if err != nil {
		return fmt.Errorf("health: %w", err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("health: %w (is the server running there?)", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	if resp.StatusCode != http.StatusOK {
		return errors.New("health: " + resp.Status + " " + string(b))
	}
	fmt.Fprintf(stdout, "%s", b)
	return nil
}
