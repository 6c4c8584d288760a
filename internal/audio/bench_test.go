package audio

import (
	"bytes"
	"hash/crc32"
	"testing"
	"time"

	"github.com/tcolgate/mp3"
)

// BenchmarkMeasure measures one minute of audio of each format. The
// baseline is a CRC-32 of the MP3's bytes: one pass over the data, the
// least any reader of the file costs.
//
//	go test -run XXX -bench Measure -benchmem ./internal/audio
func BenchmarkMeasure(b *testing.B) {
	minuteMP3 := bytes.Repeat(mp3.SilentBytes, int(time.Minute/mp3.SilentFrame.Duration())+1)
	minuteWAV := wavFile(1, 1, 8000, 16000, 2, 16, 16000*60, chunk("LIST", make([]byte, 100)))
	b.Run("baseline-crc32-mp3", func(b *testing.B) {
		b.SetBytes(int64(len(minuteMP3)))
		for b.Loop() {
			crc32.ChecksumIEEE(minuteMP3)
		}
	})
	b.Run("mp3-60s", func(b *testing.B) {
		b.SetBytes(int64(len(minuteMP3)))
		for b.Loop() {
			if info, err := Measure(minuteMP3); err != nil || info.Seconds() != 60 {
				b.Fatal(info, err)
			}
		}
	})
	b.Run("wav-60s", func(b *testing.B) {
		b.SetBytes(int64(len(minuteWAV)))
		for b.Loop() {
			if info, err := Measure(minuteWAV); err != nil || info.Seconds() != 60 {
				b.Fatal(info, err)
			}
		}
	})
}
