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
RUN make -j"$(nproc)" all && make install DESTDIR=/out PREFIX=/usr/local

FROM debian:12-slim
# The libraries the tools link, and what the daily job's make recipes
# call (make, jq, GNU date); no compiler, no headers.
RUN apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
	--no-install-recommends libjq1 libcurl4 libsqlite3-0 libpq5 \
	ca-certificates make jq \
	&& rm -rf /var/lib/apt/lists/* /usr/share/doc/* /usr/share/locale/*
COPY --from=build /out/usr/local /usr/local
RUN useradd --system --create-home --home-dir /srv/asin --uid 10001 asin
USER asin
WORKDIR /srv/asin
ENV PIPELINES=/usr/local/share/asin-tools/pipelines
CMD ["asin-zscore", "--help"]
