# syntax=docker/dockerfile:1
# noise-service: build with the official Swift image, run on debian:bookworm-slim.

FROM swift:6.3-bookworm AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends libmicrohttpd-dev=0.9.75-6 libsimdjson-dev=3.0.1-1 \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Package.swift ./
COPY Sources ./Sources
RUN swift build -c release --static-swift-stdlib --product noise-service \
    && mkdir -p /staging \
    && cp .build/release/noise-service /staging/ \
    && cp -R .build/release/noise-service_NoiseService.resources /staging/

FROM debian:bookworm-slim
# Only the C libraries the binary links besides glibc and libstdc++: libmicrohttpd (with its
# GnuTLS dependencies) and simdjson. The Swift runtime and Foundation are linked statically.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libmicrohttpd12=0.9.75-6 libsimdjson14=3.0.1-1 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin noise
COPY --from=build /staging/ /usr/local/bin/
USER 10001
# Large buffers on transparent huge pages: far fewer page faults for big label arrays.
ENV GLIBC_TUNABLES=glibc.malloc.hugetlb=1
EXPOSE 8080
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=2s --start-period=5s --retries=3 \
    CMD ["/usr/local/bin/noise-service", "--healthcheck"]
ENTRYPOINT ["/usr/local/bin/noise-service"]
