package fax

import (
	"context"
	"testing"
)

func BenchmarkRenderText10Pages(b *testing.B) {
	docs := []Document{{FileName: "a.txt", Data: longText(600)}}
	for b.Loop() {
		if _, err := Render(context.Background(), docs, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRenderPDF3Pages(b *testing.B) {
	docs := []Document{{FileName: "a.pdf", Data: makePDF(b, 3)}}
	for b.Loop() {
		if _, err := Render(context.Background(), docs, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
