/*
 * fuzz/registry.c - libFuzzer target for the local registry file
 * (common/reglocal.c, registry.c): the input is the file, perhaps hand
 * edited.  For each model it names (and one it may not), every read
 * (list, get latest, production and version 1, history) must answer or
 * refuse with a message; then a version is registered and promoted to
 * production through the write path (lock, re-read, atomic replace), as
 * asin-registry register and promote do.  A registered version must be
 * what get latest answers next, and a refused file must stay untouched.
 * The file lives in a private directory of /dev/shm when there is one,
 * so the fsyncs of the atomic write cost nothing.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "registry.h"
#include "scan.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define MAX_NAMES 4

static char dir[64], path[96];

/* Leave no directory behind in /dev/shm. */
static void
clean(void)
{
	char lockp[128];

	snprintf(lockp, sizeof(lockp), "%s.lock", path);
	unlink(path);
	unlink(lockp);
	rmdir(dir);
}

static void
check(jv v, char *err, const char *what, const char *name)
{
	if (!jv_is_valid(v) && (err == NULL || *err == '\0')) {
		fprintf(stderr, "%s %s: refused without a message\n", what,
		    name);
		abort();
	}
	free(err);
	jv_free(v);
}

static void
exercise(struct registry *r, const char *name, long long serial)
{
	struct reg_promote p;
	char *err = NULL, key[17];
	jv v, got, n;
	int existed = 0;
	long long ver;

	check(r->be->list(r->state, name, &err), err, "list", name);
	err = NULL;
	check(r->be->get(r->state, name, "latest", &err), err, "get", name);
	err = NULL;
	check(r->be->get(r->state, name, "production", &err), err, "get",
	    name);
	err = NULL;
	check(r->be->get(r->state, name, "1", &err), err, "get", name);
	err = NULL;
	check(r->be->history(r->state, name, &err), err, "history", name);

	/* register, as asin-registry register builds the version */
	snprintf(key, sizeof(key), "%016llx", serial);
	v = jv_object();
	v = jv_object_set(v, jv_string("name"), jv_string(name));
	v = jv_object_set(v, jv_string("artifact_uri"),
	    jv_string("file:model.json"));
	v = jv_object_set(v, jv_string("metrics"), jv_object_set(jv_object(),
	    jv_string("ndcg@10"), jv_number(0.5)));
	v = jv_object_set(v, jv_string("data_span"), jv_null());
	v = jv_object_set(v, jv_string("feature_version"), jv_string("3"));
	v = jv_object_set(v, jv_string("signature"), jv_parse(
	    "{\"inputs\":[{\"name\":\"price\",\"type\":\"double\","
	    "\"required\":true}],\"outputs\":[{\"name\":\"rank_score\","
	    "\"type\":\"double\",\"required\":true}]}"));
	v = jv_object_set(v, jv_string("run_id"), jv_null());
	v = jv_object_set(v, jv_string("description"), jv_null());
	v = jv_object_set(v, jv_string("content_key"), jv_string(key));
	v = jv_object_set(v, jv_string("registered_by"), jv_string("fuzz"));
	err = NULL;
	v = r->be->create(r->state, v, &existed, &err);
	if (!jv_is_valid(v)) {
		check(v, err, "create", name);
		return;
	}
	n = reg_get(jv_copy(v), jv_string("version"));
	ver = jv_get_kind(n) == JV_KIND_NUMBER ?
	    (long long)jv_number_value(n) : -1;
	jv_free(n);
	jv_free(v);
	err = NULL;
	got = r->be->get(r->state, name, "latest", &err);
	n = reg_get(got, jv_string("version"));
	if (ver < 1 || jv_get_kind(n) != JV_KIND_NUMBER ||
	    (long long)jv_number_value(n) != ver) {
		fprintf(stderr, "%s: registered version %lld, latest is "
		    "another\n", name, ver);
		abort();
	}
	jv_free(n);
	free(err);

	memset(&p, 0, sizeof(p));
	p.name = name;
	p.version = ver;
	p.stage = "production";
	p.feature_version = "3";
	p.by = "fuzz";
	p.force = (int)(serial & 1);
	err = NULL;
	switch (reg_promote(r, &p, &v, &err)) {
	case 0:
		jv_free(v);
		break;
	case 1:
	case -1:
		if (err == NULL || *err == '\0') {
			fprintf(stderr, "promote %s: refused without a "
			    "message\n", name);
			abort();
		}
		free(err);
		break;
	default:
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct scan sc;
	static long long serial;
	const char *names[MAX_NAMES + 1];
	struct registry *r;
	int fd, nn = 0, i;
	jv doc, models;

	if (dir[0] == '\0') {
		diag_init("fuzz-registry");
		snprintf(dir, sizeof(dir), "%s/fuzz-registry.XXXXXX",
		    access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
		if (mkdtemp(dir) == NULL)
			die("%s:", dir);
		snprintf(path, sizeof(path), "%s/registry.json", dir);
		atexit(clean);
		scan_init(&sc);
	}
	/* The scanner first: libjq leaks on the texts it refuses, and the
	 * leak check after each would cost the run its speed. */
	if (size > 1 << 16 || !scan_text(&sc, (const char *)data, size))
		return 0;
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644)) < 0 ||
	    write(fd, data, size) != (ssize_t)size || close(fd) != 0)
		die("%s:", path);
	doc = jv_parse_sized((const char *)data, (int)size);
	models = reg_get(doc, jv_string("models"));
	if (jv_get_kind(models) == JV_KIND_OBJECT)
		jv_object_keys_foreach(models, k) {
			if (nn < MAX_NAMES &&
			    reg_valid_name(jv_string_value(k)))
				names[nn++] = xstrdup(jv_string_value(k));
			jv_free(k);
		}
	jv_free(models);
	names[nn++] = xstrdup("fuzz-model");
	r = reg_open_local(path);
	for (i = 0; i < nn; i++)
		exercise(r, names[i], ++serial);
	reg_close(r);
	for (i = 0; i < nn; i++)
		free((char *)names[i]);
	return 0;
}
