# Dockerfile: asin-tools, built on Debian 12 and run on debian:12-slim
# with only the runtime libraries, as a non-root user.  The tools, man
# pages, schemas, pipelines and deploy scripts are what `make install`
# puts under /usr/local.
#   docker build -t asin-tools .
#   docker run --rm asin-tools asin-zscore --version

FROM debian:12 AS build
RUN apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
	--no-install-recommends gcc make pkg-config libc6-dev libjq-dev \
	libcurl4-openssl-dev libsqlite3-dev libpq-dev perl \
	&& rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Makefile ./
COPY bin bin
COPY common common
COPY schemas schemas
COPY man man
COPY pipelines pipelines
COPY deploy deploy
# Stripped: the debug info is most of a binary's size.
RUN make -j"$(nproc)" all && make install DESTDIR=/out PREFIX=/usr/local \
	&& strip --strip-unneeded /out/usr/local/bin/*

FROM debian:12-slim
# The libraries the tools link, and what the daily job's make recipes
# call (make, jq, GNU date); no compiler, no headers.  apt's caches and
# logs go in the same layer (apt's package cache alone is 76 MB where
# the base image does not clean it up itself).
RUN apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
	--no-install-recommends libjq1 libcurl4 libsqlite3-0 libpq5 \
	ca-certificates make jq \
	&& apt-get clean \
	&& rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin \
	    /var/cache/debconf/*-old /var/log/apt /var/log/dpkg.log \
	    /usr/share/doc/* /usr/share/man/* /usr/share/locale/*
COPY --from=build /out/usr/local /usr/local
RUN useradd --system --create-home --home-dir /srv/asin --uid 10001 asin
USER asin
WORKDIR /srv/asin
ENV PIPELINES=/usr/local/share/asin-tools/pipelines
CMD ["asin-zscore", "--help"]
