# syntax=docker/dockerfile:1
# Groundwork's one image: the same static binary runs as api, worker or
# migrate depending on the command (see docker-compose.yml).

FROM golang:1.26-bookworm AS build
# go.mod asks for a specific 1.26 patch release; the official image pins
# GOTOOLCHAIN=local, so a stale cached 1.26 tag would refuse to build
# instead of fetching the toolchain go.mod names.
ENV GOTOOLCHAIN=auto
WORKDIR /src
# Modules first, in their own layer, so editing code does not re-download
# them; only a go.mod/go.sum change invalidates this layer.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# Static binary (no cgo) so it runs on distroless/static, which has no libc.
# The build cache mount keeps incremental rebuilds fast without bloating
# the layer.
RUN --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/groundwork ./cmd/groundwork
# The blob volume's mount point must exist in the image, owned by the
# runtime user: Docker seeds a new named volume from it, and a root-owned
# volume would be unwritable for the non-root process.
RUN mkdir -p /out/data/blobs
# The PDF renderer falls back to these for characters the embedded Go fonts
# lack (CJK, emoji); without them such text is drawn as a visible □ with a
# warning. Copied as files: distroless has no package manager.
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends fonts-droid-fallback fonts-symbola \
    && mkdir -p /out/fonts/droid /out/fonts/ancient-scripts \
    && cp /usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf /out/fonts/droid/ \
    && cp /usr/share/fonts/truetype/ancient-scripts/Symbola_hint.ttf /out/fonts/ancient-scripts/

# The worker renders research pages in Chromium, which distroless cannot
# hold: its image is Debian slim with Debian's chromium package (and fonts
# so pages render legibly). Build it with --target worker; compose does.
FROM debian:bookworm-slim AS worker
RUN apt-get update -qq \
    && apt-get install -y -qq --no-install-recommends chromium fonts-liberation fonts-noto-color-emoji ca-certificates tzdata \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd -g 65532 nonroot && useradd -u 65532 -g 65532 -m -d /home/nonroot nonroot
COPY --from=build /out/groundwork /groundwork
COPY --from=build --chown=65532:65532 /out/data /data
COPY --from=build /out/fonts /usr/share/fonts/truetype
ENV GROUNDWORK_CHROME_PATH=/usr/bin/chromium
USER 65532:65532
ENTRYPOINT ["/groundwork"]
CMD ["worker"]

# distroless/static: CA certificates and tzdata for outbound HTTPS, no shell,
# no package manager; :nonroot runs as uid/gid 65532.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/groundwork /groundwork
COPY --from=build --chown=65532:65532 /out/data /data
COPY --from=build /out/fonts /usr/share/fonts/truetype
# Numeric, so orchestrators enforcing runAsNonRoot can verify it.
USER 65532:65532
EXPOSE 8080
# No HEALTHCHECK here: the image serves several roles (api, worker, one-shot
# migrate) that each need a different probe, so docker-compose.yml sets one
# per service with `groundwork healthcheck`.
ENTRYPOINT ["/groundwork"]
CMD ["help"]
