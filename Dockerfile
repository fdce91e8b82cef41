# Dockerfile: asin-tools, built on Debian 12 and run on debian:12-slim
# with only the runtime libraries, as a non-root user.  The tools, man
# pages, schemas, pipelines and deploy scripts are what `make install`
# puts under /usr/local.  The final image is one layer: debian:12-slim
# with the runtime libraries, pruned to the Debian packages the tools
# and the jobs run (deploy/image-prune; what it removed is listed in
# /usr/local/share/asin-tools/image-pruned.txt), on scratch.
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
COPY deploy/*.sh deploy/
# Stripped: the debug info is most of a binary's size.
RUN make -j"$(nproc)" all && make install DESTDIR=/out PREFIX=/usr/local \
	&& strip --strip-unneeded /out/usr/local/bin/*

FROM debian:12-slim AS runtime
# The libraries the tools link, and what the daily job's make recipes
# call (make, jq, GNU date); no compiler, no headers.
RUN apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
	--no-install-recommends libjq1 libcurl4 libsqlite3-0 libpq5 \
	ca-certificates make jq
COPY --from=build /out/usr/local /usr/local
# The compose stacks' named volumes mount on these: an empty volume
# takes the owner of the image's directory, so the jobs can write.
RUN useradd --system --create-home --home-dir /srv/asin --uid 10001 asin \
	&& install -d -o asin -g asin /srv/asin/data /srv/asin/archive \
	    /srv/asin/exports /srv/asin/models
# Before pruning: the prune purges passwd (useradd) and apt.
COPY deploy/image-prune /tmp/image-prune
RUN sh /tmp/image-prune && rm -f /tmp/image-prune

# A layer on debian:12-slim cannot make its files smaller: what the
# prune removed would still be in the base layer.  So the pruned tree is
# the image's only layer.
FROM scratch
COPY --from=runtime / /
USER asin
WORKDIR /srv/asin
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	PIPELINES=/usr/local/share/asin-tools/pipelines
CMD ["asin-zscore", "--help"]
