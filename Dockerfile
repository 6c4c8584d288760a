# Switchboard: one static binary on a distroless base, run as a non-root user,
# with its data (SQLite database, demo.json, PDFium's compilation cache) in
# the /data volume.
#
#   docker build -t switchboard .
#   docker run -p 8080:8080 -v switchboard-data:/data switchboard serve --demo
#
# cmd/switchboard/packaging_test.go runs the same steps without Docker.

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG COMMIT=unknown
ARG DATE=unknown
# No cgo: the SQLite driver is pure Go and PDFium runs as WebAssembly, so the
# binary needs no libc and runs on an empty base.
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w -X main.version=${VERSION} -X main.commit=${COMMIT} -X main.date=${DATE}" -o /out/switchboard ./cmd/switchboard
RUN mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/switchboard /switchboard
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
ENV SWITCHBOARD_LISTEN=0.0.0.0:8080 \
    SWITCHBOARD_DATA=/data
VOLUME /data
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 CMD ["/switchboard", "health"]
ENTRYPOINT ["/switchboard"]
CMD ["serve"]
