# krawlr: one binary for api, worker and setup. Multi-stage: build with the Rust toolchain,
# run on a distroless image (glibc, CA certificates, no shell) as a non-root user.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock rustfmt.toml ./
COPY src ./src
COPY tests ./tests
# The workspace's other member (the benchmarks) must be there for Cargo to read the workspace;
# only krawlr is built.
COPY bench/Cargo.toml ./bench/Cargo.toml
COPY bench/src ./bench/src
RUN cargo build --release --locked --bin krawlr

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /src/target/release/krawlr /usr/local/bin/krawlr
ENV KRAWLR_LISTEN=0.0.0.0:8000 \
    KRAWLR_DATA_DIR=/data
USER nonroot:nonroot
EXPOSE 8000
ENTRYPOINT ["/usr/local/bin/krawlr"]
CMD ["up"]
