package audio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/tcolgate/mp3"
)

// wavFile writes a WAV: a fmt chunk for the format, optional extra chunks
// before the data (LIST, fact), and dataBytes of data.
func wavFile(format uint16, channels, rate, byteRate, blockAlign, bits int, dataBytes int, extra ...[]byte) []byte {
	var b bytes.Buffer
	le := func(v any) { _ = binary.Write(&b, binary.LittleEndian, v) }
	b.WriteString("RIFF")
	le(uint32(0)) // patched below
	b.WriteString("WAVE")
	b.WriteString("fmt ")
	le(uint32(16))
	le(format)
	le(uint16(channels))
	le(uint32(rate))
	le(uint32(byteRate))
	le(uint16(blockAlign))
	le(uint16(bits))
	for _, e := range extra {
		b.Write(e)
	}
	b.WriteString("data")
	le(uint32(dataBytes))
	for i := 0; i < dataBytes; i++ {
		b.WriteByte(byte(i * 7))
	}
	out := b.Bytes()
	binary.LittleEndian.PutUint32(out[4:], uint32(len(out)-8))
	return out
}

func chunk(id string, body []byte) []byte {
	var b bytes.Buffer
	b.WriteString(id)
	_ = binary.Write(&b, binary.LittleEndian, uint32(len(body)))
	b.Write(body)
	if len(body)%2 == 1 {
		b.WriteByte(0)
	}
	return b.Bytes()
}

func TestMeasureWAV(t *testing.T) {
	for _, tc := range []struct {
		name     string
		data     []byte
		want     time.Duration
		seconds  int
		rate, ch int
	}{
		{"PCM 8 kHz mono 16-bit 3.5 s", wavFile(1, 1, 8000, 16000, 2, 16, 56000), 3500 * time.Millisecond, 4, 8000, 1},
		{"PCM 44.1 kHz stereo 2 s", wavFile(1, 2, 44100, 176400, 4, 16, 352800), 2 * time.Second, 2, 44100, 2},
		{"mu-law 8 kHz 12.25 s", wavFile(7, 1, 8000, 8000, 1, 8, 98000), 12250 * time.Millisecond, 12, 8000, 1},
		{"A-law 8 kHz 1 s", wavFile(6, 1, 8000, 8000, 1, 8, 8000), time.Second, 1, 8000, 1},
		{"GSM 6.10 8 kHz 10 s", wavFile(0x31, 1, 8000, 1625, 65, 0, 16250, chunk("fact", []byte{0x80, 0x38, 1, 0})), 10 * time.Second, 10, 8000, 1},
		{"LIST chunk (odd size) before data", wavFile(1, 1, 8000, 16000, 2, 16, 16000, chunk("LIST", []byte("INFOISFT\x05\x00\x00\x00sox!"))), time.Second, 1, 8000, 1},
		{"short clip counts as one second", wavFile(1, 1, 8000, 16000, 2, 16, 3200), 200 * time.Millisecond, 1, 8000, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			info, err := Measure(tc.data)
			if err != nil {
				t.Fatal(err)
			}
			if info.ContentType != TypeWAV || info.Duration != tc.want || info.Seconds() != tc.seconds ||
				info.SampleRate != tc.rate || info.Channels != tc.ch {
				t.Fatalf("got %+v (seconds %d), want %s = %d s, %d Hz, %d channels", info, info.Seconds(), tc.want, tc.seconds, tc.rate, tc.ch)
			}
		})
	}
}

func TestMeasureTruncatedWAV(t *testing.T) {
	// A recorder that died mid-file: the data chunk claims more than is
	// there, and only what is there is measured.
	b := wavFile(1, 1, 8000, 16000, 2, 16, 16000)
	b = b[:len(b)-8000]
	info, err := Measure(b)
	if err != nil {
		t.Fatal(err)
	}
	if info.Duration != 500*time.Millisecond {
		t.Fatalf("duration %s, want 500ms", info.Duration)
	}
}

func TestMeasureMP3Fixture(t *testing.T) {
	// testdata/vm-8k.mp3: 3 s of tone, 8 kHz mono MPEG-2.5 Layer III at
	// 16 kbps with an ID3v2 tag and a LAME Info frame (lame 3.100; see
	// testdata/README.md). LAME pads to whole frames of 576 samples.
	b, err := os.ReadFile("testdata/vm-8k.mp3")
	if err != nil {
		t.Fatal(err)
	}
	info, err := Measure(b)
	if err != nil {
		t.Fatal(err)
	}
	if info.ContentType != TypeMP3 || info.SampleRate != 8000 || info.Channels != 1 || info.Seconds() != 3 {
		t.Fatalf("got %+v (seconds %d), want audio/mpeg 8 kHz mono 3 s", info, info.Seconds())
	}
	if d := info.Duration - 3*time.Second; d < 0 || d > 300*time.Millisecond {
		t.Fatalf("duration %s, want 3 s plus at most the encoder's padding", info.Duration)
	}
	// The same file without its tag, and with junk after it, measures the same.
	if _, err := Measure(b[10:]); err == nil {
		t.Fatal("a file starting inside an ID3 tag was accepted")
	}
}

func TestMeasureMP3Generated(t *testing.T) {
	// Whole silent MPEG-1 frames, as tcolgate/mp3 ships one.
	one := mp3.SilentFrame.Duration()
	for _, n := range []int{1, 2, 100} {
		b := bytes.Repeat(mp3.SilentBytes, n)
		info, err := Measure(b)
		if err != nil {
			t.Fatalf("%d frames: %v", n, err)
		}
		if info.Duration != time.Duration(n)*one || info.ContentType != TypeMP3 {
			t.Fatalf("%d frames: %+v, want %s", n, info, time.Duration(n)*one)
		}
	}
	// An ID3v2 tag in front changes nothing.
	tag := append([]byte("ID3\x04\x00\x00\x00\x00\x00\x0a"), make([]byte, 10)...)
	info, err := Measure(append(tag, bytes.Repeat(mp3.SilentBytes, 10)...))
	if err != nil || info.Duration != 10*one {
		t.Fatalf("with ID3: %+v, %v", info, err)
	}
}

func TestMeasureRejects(t *testing.T) {
	fmtOnly := wavFile(1, 1, 8000, 16000, 2, 16, 0)
	fmtOnly = fmtOnly[:len(fmtOnly)-8] // no data chunk at all
	for _, tc := range []struct {
		name string
		data []byte
		want error
	}{
		{"zero bytes", nil, ErrEmpty},
		{"text", []byte("hello, this is not audio"), ErrUnsupported},
		{"PDF", []byte("%PDF-1.4\n..."), ErrUnsupported},
		{"WAV with empty data", wavFile(1, 1, 8000, 16000, 2, 16, 0), ErrEmpty},
		{"WAV without data chunk", fmtOnly, ErrMalformed},
		{"WAV with zero byte rate", wavFile(1, 1, 8000, 0, 2, 16, 100), ErrMalformed},
		{"WAV header only", []byte("RIFF\x04\x00\x00\x00WAVE"), ErrMalformed},
		{"WAV short fmt", append([]byte("RIFF\x10\x00\x00\x00WAVEfmt \x04\x00\x00\x00"), 1, 0, 1, 0), ErrMalformed},
		{"ID3 tag only", append([]byte("ID3\x04\x00\x00\x00\x00\x00\x0a"), make([]byte, 10)...), ErrMalformed},
		{"ID3 tag longer than file", []byte("ID3\x04\x00\x00\x00\x00\x7f\x7f"), ErrMalformed},
		{"frame sync then junk", append([]byte{0xFF, 0xFB, 0x90, 0x64}, bytes.Repeat([]byte("junk"), 2000)...), ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			info, err := Measure(tc.data)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Measure = %+v, %v; want %v", info, err, tc.want)
			}
		})
	}
}

func FuzzMeasure(f *testing.F) {
	f.Add(wavFile(1, 1, 8000, 16000, 2, 16, 160))
	f.Add(wavFile(0x31, 1, 8000, 1625, 65, 0, 65, chunk("fact", []byte{1, 2, 3, 4})))
	f.Add(bytes.Repeat(mp3.SilentBytes, 3))
	if b, err := os.ReadFile("testdata/vm-8k.mp3"); err == nil {
		f.Add(b[:min(len(b), 2048)])
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		info, err := Measure(b)
		if err == nil && (info.Duration <= 0 || info.Seconds() < 1 || info.ContentType == "") {
			t.Fatalf("accepted %d bytes with %+v", len(b), info)
		}
	})
}
