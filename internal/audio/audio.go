// Package audio recognises and measures voicemail recordings: WAV (any
// codec with a constant byte rate: PCM, µ-law, A-law, GSM 6.10, IMA ADPCM)
// and MP3 (MPEG-1, -2 and -2.5, CBR and VBR, with or without ID3 tags).
//
// Durations are computed from the audio itself, never taken from whoever
// supplied it: a WAV's data chunk size over its byte rate, an MP3's frames
// counted one by one. Nothing is decoded, so measuring a minute of audio
// costs well under a millisecond.
package audio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/tcolgate/mp3"
)

// Content types of the formats Measure knows.
const (
	TypeWAV = "audio/wav"
	TypeMP3 = "audio/mpeg"
)

// Errors Measure returns (wrapped with detail; test with errors.Is).
var (
	// ErrUnsupported: the data is neither WAV nor MP3.
	ErrUnsupported = errors.New("audio: not a WAV or MP3 file")
	// ErrMalformed: it claims to be WAV or MP3 but cannot be measured.
	ErrMalformed = errors.New("audio: malformed file")
	// ErrEmpty: a well-formed file without any sound.
	ErrEmpty = errors.New("audio: no audio data")
)

// Info describes a recording.
type Info struct {
	ContentType string
	Duration    time.Duration
	SampleRate  int
	Channels    int
}

// Seconds is the duration rounded to whole seconds as RingCentral's
// vmDuration counts it; any sound at all is at least one second.
func (i Info) Seconds() int {
	s := int(math.Round(i.Duration.Seconds()))
	if s == 0 && i.Duration > 0 {
		s = 1
	}
	return s
}

// Measure recognises data by its content and measures it.
func Measure(data []byte) (Info, error) {
	switch {
	case len(data) == 0:
		return Info{}, fmt.Errorf("%w: zero bytes", ErrEmpty)
	case len(data) >= 12 && string(data[:4]) == "RIFF" && string(data[8:12]) == "WAVE":
		return measureWAV(data)
	case len(data) >= 3 && string(data[:3]) == "ID3",
		len(data) >= 2 && data[0] == 0xFF && data[1]&0xE0 == 0xE0:
		return measureMP3(data)
	}
	return Info{}, ErrUnsupported
}

// measureWAV walks the RIFF chunks for "fmt " and "data". The byte rate
// (nAvgBytesPerSec) is what makes compressed codecs work too: GSM 6.10 at
// 8 kHz is 1625 bytes a second whatever its block layout.
func measureWAV(b []byte) (Info, error) {
	var info Info
	byteRate := uint32(0)
	dataSize, haveData := uint64(0), false
	p := 12
	for p+8 <= len(b) {
		id := string(b[p : p+4])
		size := uint64(binary.LittleEndian.Uint32(b[p+4 : p+8]))
		body := p + 8
		avail := uint64(len(b) - body)
		switch id {
		case "fmt ":
			if size < 16 || avail < 16 {
				return Info{}, fmt.Errorf("%w: WAV fmt chunk of %d bytes", ErrMalformed, size)
			}
			info.Channels = int(binary.LittleEndian.Uint16(b[body+2:]))
			info.SampleRate = int(binary.LittleEndian.Uint32(b[body+4:]))
			byteRate = binary.LittleEndian.Uint32(b[body+8:])
		case "data":
			// Recorders that stream (and crash) leave the size 0 or
			// 0xFFFFFFFF; what is in the file is what can be played.
			dataSize, haveData = min(size, avail), true
		}
		if id == "data" && byteRate != 0 {
			break
		}
		next := uint64(body) + size + size&1 // chunks are word aligned
		if next > uint64(len(b)) {
			break
		}
		p = int(next)
	}
	switch {
	case byteRate == 0 || info.SampleRate == 0 || info.Channels == 0:
		return Info{}, fmt.Errorf("%w: WAV without a valid fmt chunk", ErrMalformed)
	case !haveData:
		return Info{}, fmt.Errorf("%w: WAV without a data chunk", ErrMalformed)
	case dataSize == 0:
		return Info{}, fmt.Errorf("%w: WAV data chunk is empty", ErrEmpty)
	}
	info.ContentType = TypeWAV
	info.Duration = time.Duration(float64(dataSize) / float64(byteRate) * float64(time.Second))
	return info, nil
}

// measureMP3 skips an ID3v2 tag and sums the frames' durations. A file
// is accepted only when frames make up nearly all of it, so random bytes
// that happen to contain a frame sync are refused. A LAME/Xing header frame
// carries no sound and is not counted.
func measureMP3(b []byte) (Info, error) {
	body := b
	if len(body) >= 10 && string(body[:3]) == "ID3" {
		n := int(body[6]&0x7f)<<21 | int(body[7]&0x7f)<<14 | int(body[8]&0x7f)<<7 | int(body[9]&0x7f)
		n += 10
		if body[5]&0x10 != 0 {
			n += 10 // footer
		}
		if n > len(body) {
			return Info{}, fmt.Errorf("%w: ID3 tag longer than the file", ErrMalformed)
		}
		body = body[n:]
	}
	if len(body) >= 128 && string(body[len(body)-128:len(body)-125]) == "TAG" {
		body = body[:len(body)-128] // ID3v1
	}
	var info Info
	dec := mp3.NewDecoder(bytes.NewReader(body))
	var f mp3.Frame
	frames, audioFrames, skippedTotal := 0, 0, 0
	for {
		skipped := 0
		err := dec.Decode(&f, &skipped)
		skippedTotal += skipped
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				break // a truncated last frame is not played
			}
			return Info{}, fmt.Errorf("%w: MP3 frame %d: %v", ErrMalformed, frames+1, err)
		}
		frames++
		if frames == 1 && skippedTotal > 4096 {
			return Info{}, fmt.Errorf("%w: no MP3 frame at the start", ErrMalformed)
		}
		if frames == 1 && isInfoFrame(&f) {
			continue
		}
		audioFrames++
		info.Duration += f.Duration()
		if info.SampleRate == 0 {
			h := f.Header()
			info.SampleRate = int(h.SampleRate())
			info.Channels = 2
			if h.ChannelMode() == mp3.SingleChannel {
				info.Channels = 1
			}
		}
	}
	switch {
	case frames == 0:
		return Info{}, fmt.Errorf("%w: no MP3 frame found", ErrMalformed)
	case audioFrames == 0:
		return Info{}, fmt.Errorf("%w: MP3 without audio frames", ErrEmpty)
	}
	// Junk between frames is tolerated in small amounts (some encoders
	// pad); a file mostly of junk is not an MP3.
	if skippedTotal*4 > len(body) {
		return Info{}, fmt.Errorf("%w: %d of %d bytes are not MP3 frames", ErrMalformed, skippedTotal, len(body))
	}
	info.ContentType = TypeMP3
	return info, nil
}

// isInfoFrame reports whether f is a Xing/Info (or VBRI) header frame,
// which encoders write first to describe the stream; it decodes to silence
// and is not part of the recording.
func isInfoFrame(f *mp3.Frame) bool {
	buf := make([]byte, min(f.Size(), 64))
	n, _ := io.ReadFull(f.Reader(), buf)
	buf = buf[:n]
	return bytes.Contains(buf, []byte("Xing")) || bytes.Contains(buf, []byte("Info")) || bytes.Contains(buf, []byte("VBRI"))
}
