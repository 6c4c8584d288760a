// Command faxbench measures whether one sender's large PDF faxes hold up
// another sender's small one. Extension 101 sends -big faxes of a -pages
// page PDF at once, and extension 102 right after them a 1-page fax; for
// each it records how long the send request took to answer and how long
// until the fax was Sent (rendered and handed to the carrier simulator).
//
// The baseline, measured in the same run on the same server, is the
// 1-page fax sent alone. -bin runs another build of the server (an older
// commit, to compare with the rendering inside the request).
//
//	go run ./internal/bench/faxbench -pages 187 -big 3
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/go-pdf/fpdf"

	"github.com/switchboardhq/switchboard/internal/bench/benchkit"
)

func main() {
	pages := flag.Int("pages", 187, "pages of each large PDF")
	big := flag.Int("big", 3, "large faxes sent at once by the first sender")
	bin := flag.String("bin", "", "server binary to run (default: build this tree)")
	flag.Parse()
	if err := run(*pages, *big, *bin); err != nil {
		log.Fatal(err)
	}
}

// fax is one send and what became of it.
type fax struct {
	uri               string
	answer, sentAfter time.Duration
}

func run(pages, big int, bin string) error {
	dir, err := os.MkdirTemp("", "faxbench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if bin == "" {
		bin = filepath.Join(dir, "switchboard")
		if err := benchkit.Build(bin); err != nil {
			return err
		}
	}
	srv, demo, err := benchkit.Start(bin, filepath.Join(dir, "data"))
	if err != nil {
		return err
	}
	defer srv.Stop()
	// Wait for the PDF renderer's one-off compilation, which is not what
	// is measured.
	for deadline := time.Now().Add(2 * time.Minute); !bytes.Contains([]byte(srv.Log()), []byte("PDF renderer ready")); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			return fmt.Errorf("PDF renderer not ready:\n%s", srv.Log())
		}
	}
	client := &http.Client{Timeout: 10 * time.Minute}
	ann, err := demo.Login(client, demo.Extensions[0].JWT)
	if err != nil {
		return err
	}
	bob, err := demo.Login(client, demo.Extensions[1].JWT)
	if err != nil {
		return err
	}
	large, small := pdf(pages), pdf(1)
	send := func(token string, doc []byte) (*fax, error) {
		started := time.Now()
		f, err := post(client, demo.Server, token, doc)
		if err != nil {
			return nil, err
		}
		f.answer = time.Since(started)
		for {
			var m struct{ MessageStatus string }
			if err := benchkit.GetJSON(client, f.uri, token, &m); err != nil {
				return nil, err
			}
			switch m.MessageStatus {
			case "Sent", "Delivered":
				f.sentAfter = time.Since(started)
				return f, nil
			case "SendingFailed":
				return nil, fmt.Errorf("fax %s failed", f.uri)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	alone, err := send(bob, small)
	if err != nil {
		return err
	}

	cpu := srv.CPUSeconds()
	var wg sync.WaitGroup
	bigs := make([]*fax, big)
	errs := make([]error, big+1)
	for i := range big {
		wg.Add(1)
		go func() { defer wg.Done(); bigs[i], errs[i] = send(ann, large) }()
	}
	time.Sleep(200 * time.Millisecond) // the large faxes are in first
	var loaded *fax
	wg.Add(1)
	go func() { defer wg.Done(); loaded, errs[big] = send(bob, small) }()
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	fmt.Printf("server: %s, %d large faxes of %d pages (%.1f MB each) from 101, then a 1-page fax from 102\n",
		bin, big, pages, float64(len(large))/1e6)
	fmt.Printf("1-page fax alone (baseline):   answer %s  sent after %s\n", ms(alone.answer), ms(alone.sentAfter))
	fmt.Printf("1-page fax behind large ones:  answer %s  sent after %s  (%.1fx the baseline)\n",
		ms(loaded.answer), ms(loaded.sentAfter), loaded.sentAfter.Seconds()/alone.sentAfter.Seconds())
	for i, f := range bigs {
		fmt.Printf("large fax %d:                   answer %s  sent after %s\n", i+1, ms(f.answer), ms(f.sentAfter))
	}
	fmt.Printf("server CPU during the load: %.1f s\n", srv.CPUSeconds()-cpu)
	return nil
}

func ms(d time.Duration) string { return fmt.Sprintf("%7.0f ms", float64(d.Microseconds())/1000) }

// post sends a fax of one PDF to an outside number (the carrier simulator).
func post(client *http.Client, server, token string, doc []byte) (*fax, error) {
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	w, _ := mw.CreatePart(textproto.MIMEHeader{"Content-Type": {"application/json"}, "Content-Disposition": {`form-data; name="request.json"`}})
	_, _ = io.WriteString(w, `{"to":[{"phoneNumber":"+15550000007"}],"faxResolution":"High"}`)
	w, _ = mw.CreatePart(textproto.MIMEHeader{"Content-Type": {"application/pdf"}, "Content-Disposition": {`form-data; name="attachment"; filename="doc.pdf"`}})
	_, _ = w.Write(doc)
	_ = mw.Close()
	req, _ := http.NewRequest("POST", server+"/restapi/v1.0/account/~/extension/~/fax", &b)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("send fax: %d %s", resp.StatusCode, body)
	}
	var m struct{ URI string }
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, err
	}
	return &fax{uri: m.URI}, nil
}

// pdf is a document of n pages of text and shapes, as an office document
// printed to PDF.
func pdf(n int) []byte {
	p := fpdf.New("P", "pt", "Letter", "")
	p.SetFont("Helvetica", "", 11)
	for i := 1; i <= n; i++ {
		p.AddPage()
		p.Cell(0, 20, fmt.Sprintf("Contract page %d of %d", i, n))
		for y := 60.0; y < 700; y += 14 {
			p.Text(72, y, "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore.")
		}
		p.Rect(72, 600, 200, 100, "F")
	}
	var b bytes.Buffer
	if err := p.Output(&b); err != nil {
		panic(err)
	}
	return b.Bytes()
}
