# The backend image: the release build of cargo-leptos (server binary + site), run as a
# non-root user. Build from the repository root:
#   docker build -f docker/backend.Dockerfile -t webide/backend .
FROM rust:1-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends nodejs npm binaryen \
    && rm -rf /var/lib/apt/lists/*
RUN rustup target add wasm32-unknown-unknown \
    && rustup toolchain install nightly --profile minimal \
    && cargo +nightly install cargo-leptos --locked \
    && cargo install wasm-opt --locked
WORKDIR /src
COPY . .
# wasm-bindgen-cli must match the version in Cargo.lock; the scripts install it so.
RUN bash -c 'source scripts/lib.sh && ensure_wasm_bindgen && build_release' \
    && mkdir -p /out && cp "$HOME/.cache/webide/target/release/server" /out/ \
    && cp -r target/site /out/site

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /var/lib/webide webide \
    && mkdir -p /var/lib/webide && chown webide /var/lib/webide
COPY --from=build /out/server /usr/local/bin/webide
COPY --from=build /out/site /srv/webide/site
ENV LEPTOS_SITE_ROOT=/srv/webide/site \
    WEBIDE_DATA_DIR=/var/lib/webide \
    WEBIDE_LISTEN=0.0.0.0:3000
USER 10001
EXPOSE 3000
ENTRYPOINT ["/usr/local/bin/webide"]
