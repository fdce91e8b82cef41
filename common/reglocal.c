/*
 * reglocal.c - the registry in one local JSON file.  Readers read the
 * file as it is (a rename replaces it whole, so they see one state or
 * the next); a writer holds an exclusive flock on a separate FILE.lock
 * (the data file is replaced, so it cannot carry the lock), re-reads the
 * file under it, and writes the new state with write_atomic().  Two
 * writers queue on the lock; a kill -9 at any point leaves the old file
 * or the new one and at most a stray FILE.tmp.PID.
 *
 * The file: {"format":"asin-registry","format_version":1,"models":
 * {NAME:{"versions":[record...],"aliases":{alias:version},
 * "history":[event...]}}}.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "registry.h"

#define FORMAT_VERSION 1

struct local {
	char *path;
	int lockfd;		/* >= 0 while the write lock is held */
};

/*
 * The shape the rest of this file relies on (db borrowed): every model
 * an object with "versions" numbered 1..n, an "aliases" object of
 * version numbers within them, and a "history" array.  A hand-edited or
 * foreign file is refused here rather than crashing later.
 */
static int
check_models(struct local *l, jv db, char **err)
{
	jv models = reg_get(jv_copy(db), jv_string("models"));
	int rc = 0;

	jv_object_foreach(models, k, m) {
		jv vers = reg_get(jv_copy(m), jv_string("versions"));
		jv al = reg_get(jv_copy(m), jv_string("aliases"));
		jv h = reg_get(jv_copy(m), jv_string("history"));
		const char *why = NULL;
		int i, n = 0;

		if (jv_get_kind(m) != JV_KIND_OBJECT ||
		    jv_get_kind(vers) != JV_KIND_ARRAY ||
		    jv_get_kind(al) != JV_KIND_OBJECT ||
		    jv_get_kind(h) != JV_KIND_ARRAY)
			why = "expected versions, aliases and history";
		else
			n = jv_array_length(jv_copy(vers));
		for (i = 0; why == NULL && i < n; i++) {
			jv e = jv_array_get(jv_copy(vers), i);
			jv num = jv_get_kind(e) == JV_KIND_OBJECT ?
			    reg_get(jv_copy(e), jv_string("version")) :
			    jv_invalid();

			if (jv_get_kind(num) != JV_KIND_NUMBER ||
			    jv_number_value(num) != i + 1)
				why = "versions are not numbered 1..n";
			jv_free(num);
			jv_free(e);
		}
		if (why == NULL)
			jv_object_foreach(al, ak, av) {
				if (why == NULL && (jv_get_kind(av) !=
				    JV_KIND_NUMBER || jv_number_value(av) < 1 ||
				    jv_number_value(av) > n ||
				    jv_number_value(av) !=
				    (double)(long long)jv_number_value(av)))
					why = "an alias names no version";
				jv_free(ak);
				jv_free(av);
			}
		if (why != NULL && rc == 0) {
			*err = xasprintf("%s: not a registry file: model "
			    "\"%s\": %s", l->path, jv_string_value(k), why);
			rc = -1;
		}
		jv_free(vers);
		jv_free(al);
		jv_free(h);
		jv_free(k);
		jv_free(m);
	}
	jv_free(models);
	return rc;
}

/* Read and check the file; a missing file is an empty registry. */
static jv
load(struct local *l, char **err)
{
	struct buf b;
	char tmp[65536], *perr = NULL;
	ssize_t n;
	int fd;
	jv v, f, m;
	jv_kind mk;

	if ((fd = open(l->path, O_RDONLY | O_CLOEXEC)) < 0) {
		if (errno == ENOENT)
			return jv_object_set(jv_object_set(jv_object_set(
			    jv_object(), jv_string("format"),
			    jv_string("asin-registry")),
			    jv_string("format_version"),
			    jv_number(FORMAT_VERSION)), jv_string("models"),
			    jv_object());
		*err = xasprintf("%s: cannot open: %s", l->path,
		    strerror(errno));
		return jv_invalid();
	}
	buf_init(&b);
	while ((n = read(fd, tmp, sizeof tmp)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			*err = xasprintf("%s: read error: %s", l->path,
			    strerror(errno));
			close(fd);
			buf_free(&b);
			return jv_invalid();
		}
		buf_add(&b, tmp, (size_t)n);
	}
	close(fd);
	v = json_parse(b.data ? b.data : "", b.len, &perr);
	buf_free(&b);
	if (!jv_is_valid(v)) {
		*err = xasprintf("%s: not a registry file: %s", l->path, perr);
		free(perr);
		return v;
	}
	f = reg_get(jv_copy(v), jv_string("format"));
	m = jv_get_kind(v) == JV_KIND_OBJECT ? reg_get(jv_copy(v),
	    jv_string("models")) : jv_invalid();
	mk = jv_get_kind(m);
	jv_free(m);
	if (jv_get_kind(f) != JV_KIND_STRING ||
	    strcmp(jv_string_value(f), "asin-registry") != 0 ||
	    mk != JV_KIND_OBJECT) {
		jv_free(f);
		jv_free(v);
		*err = xasprintf("%s: not a registry file (no \"format\": "
		    "\"asin-registry\" with \"models\")", l->path);
		return jv_invalid();
	}
	jv_free(f);
	f = reg_get(jv_copy(v), jv_string("format_version"));
	if (jv_get_kind(f) != JV_KIND_NUMBER ||
	    jv_number_value(f) > FORMAT_VERSION) {
		jv_free(f);
		jv_free(v);
		*err = xasprintf("%s: format_version newer than %d; upgrade "
		    "asin-registry", l->path, FORMAT_VERSION);
		return jv_invalid();
	}
	jv_free(f);
	if (check_models(l, v, err) != 0) {
		jv_free(v);
		return jv_invalid();
	}
	return v;
}

/* Make the directories above path (runs/ on a first register). */
static void
mkdir_parents(const char *path)
{
	char *d = xstrdup(path), *p;

	for (p = d + 1; (p = strchr(p, '/')) != NULL; p++) {
		*p = '\0';
		if (mkdir(d, 0777) != 0 && errno != EEXIST)
			break;
		*p = '/';
	}
	free(d);
}

static int
lock(struct local *l, char **err)
{
	char *lp = xasprintf("%s.lock", l->path);

	mkdir_parents(l->path);
	l->lockfd = open(lp, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (l->lockfd < 0) {
		*err = xasprintf("%s: cannot open: %s", lp, strerror(errno));
		free(lp);
		return -1;
	}
	while (flock(l->lockfd, LOCK_EX) != 0) {
		if (errno == EINTR)
			continue;
		*err = xasprintf("%s: cannot lock: %s", lp, strerror(errno));
		free(lp);
		close(l->lockfd);
		l->lockfd = -1;
		return -1;
	}
	free(lp);
	return 0;
}

static void
unlock(struct local *l)
{
	if (l->lockfd >= 0)
		close(l->lockfd);	/* drops the flock */
	l->lockfd = -1;
}

/* Write db (consumed) atomically; the lock must be held. */
static int
save(struct local *l, jv db, char **err)
{
	jv s = jv_dump_string(db, JV_PRINT_INDENT_FLAGS(2));
	char *text = xasprintf("%s\n", jv_string_value(s));
	int rc = 0;

	jv_free(s);
	if (write_atomic(l->path, text, strlen(text)) != 0) {
		*err = xasprintf("%s: cannot write: %s", l->path,
		    strerror(errno));
		rc = -1;
	}
	free(text);
	return rc;
}

static jv
model_of(jv db, const char *name)
{
	return reg_get(reg_get(db, jv_string("models")),
	    jv_string(name));
}

/* The aliases of version n as an array, from the aliases map. */
static jv
aliases_of(jv amap, long long n)
{
	jv res = jv_array();

	if (jv_get_kind(amap) != JV_KIND_OBJECT) {
		jv_free(amap);
		return res;
	}
	jv_object_keys_foreach(amap, k) {
		jv v = reg_get(jv_copy(amap), jv_copy(k));

		if (jv_get_kind(v) == JV_KIND_NUMBER &&
		    (long long)jv_number_value(v) == n)
			res = jv_array_append(res, jv_copy(k));
		jv_free(v);
		jv_free(k);
	}
	jv_free(amap);
	return jv_sort(res, jv_copy(res));
}

/* A stored version with its aliases filled in. */
static jv
present(jv model, jv ver)
{
	jv n = reg_get(jv_copy(ver), jv_string("version"));
	long long vn = (long long)jv_number_value(n);

	jv_free(n);
	return jv_object_set(ver, jv_string("aliases"), aliases_of(
	    reg_get(model, jv_string("aliases")), vn));
}

static jv
l_create(void *st, jv v, int *existed, char **err)
{
	struct local *l = st;
	jv db, model, vers, key, res, ev;
	const char *name;
	char ts[24];
	int i, n;

	if (lock(l, err) != 0) {
		jv_free(v);
		return jv_invalid();
	}
	db = load(l, err);
	if (!jv_is_valid(db)) {
		unlock(l);
		jv_free(v);
		return db;
	}
	key = reg_get(jv_copy(v), jv_string("name"));
	name = jv_string_value(key);
	model = model_of(jv_copy(db), name);
	if (jv_get_kind(model) != JV_KIND_OBJECT) {
		jv_free(model);
		model = jv_object_set(jv_object_set(jv_object_set(jv_object(),
		    jv_string("versions"), jv_array()), jv_string("aliases"),
		    jv_object()), jv_string("history"), jv_array());
	}
	vers = reg_get(jv_copy(model), jv_string("versions"));
	n = jv_array_length(jv_copy(vers));
	*existed = 0;
	for (i = 0; i < n; i++) {
		jv o = jv_array_get(jv_copy(vers), i);

		if (jv_equal(reg_get(jv_copy(o),
		    jv_string("content_key")), reg_get(jv_copy(v),
		    jv_string("content_key")))) {
			*existed = 1;
			res = present(jv_copy(model), o);
			jv_free(vers);
			jv_free(model);
			jv_free(db);
			jv_free(key);
			jv_free(v);
			unlock(l);
			return res;
		}
		jv_free(o);
	}
	reg_iso(reg_now(), ts);
	res = jv_object();
	res = jv_object_set(res, jv_string("name"), jv_copy(key));
	res = jv_object_set(res, jv_string("version"), jv_number(n + 1));
	res = jv_object_set(res, jv_string("created_at"), jv_string(ts));
	jv_object_foreach(v, k, val) {
		if (strcmp(jv_string_value(k), "name") == 0) {
			jv_free(k);
			jv_free(val);
			continue;
		}
		res = jv_object_set(res, k, val);
	}
	jv_free(v);
	res = jv_object_set(res, jv_string("status"), jv_string("active"));
	vers = jv_array_append(vers, jv_copy(res));
	model = jv_object_set(model, jv_string("versions"), vers);
	ev = jv_object();
	ev = jv_object_set(ev, jv_string("ts"), jv_string(ts));
	ev = jv_object_set(ev, jv_string("action"), jv_string("register"));
	ev = jv_object_set(ev, jv_string("name"), jv_copy(key));
	ev = jv_object_set(ev, jv_string("version"), jv_number(n + 1));
	ev = jv_object_set(ev, jv_string("by"), reg_get(jv_copy(res),
	    jv_string("registered_by")));
	model = jv_object_set(model, jv_string("history"), jv_array_append(
	    reg_get(jv_copy(model), jv_string("history")), ev));
	db = jv_object_set(db, jv_string("models"), jv_object_set(
	    reg_get(jv_copy(db), jv_string("models")), key,
	    jv_copy(model)));
	if (save(l, db, err) != 0) {
		jv_free(model);
		jv_free(res);
		unlock(l);
		return jv_invalid();
	}
	unlock(l);
	return present(model, res);
}

static int
all_digits(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

static jv
find(jv model, const char *ref)
{
	jv vers = reg_get(jv_copy(model), jv_string("versions"));
	int n = jv_array_length(jv_copy(vers));
	long long want = -1;

	if (strcmp(ref, "latest") == 0)
		want = n;
	else if (all_digits(ref)) {
		if (strlen(ref) > 15)
			want = 0;
		else
			want = strtoll(ref, NULL, 10);
	} else {
		jv a = reg_get(reg_get(jv_copy(model),
		    jv_string("aliases")), jv_string(ref));

		want = jv_get_kind(a) == JV_KIND_NUMBER ?
		    (long long)jv_number_value(a) : 0;
		jv_free(a);
	}
	if (want < 1 || want > n) {
		jv_free(vers);
		jv_free(model);
		return jv_null();
	}
	return present(model, jv_array_get(vers, (int)want - 1));
}

static jv
l_get(void *st, const char *name, const char *ref, char **err)
{
	struct local *l = st;
	jv db = load(l, err), model;

	if (!jv_is_valid(db))
		return db;
	model = model_of(db, name);
	if (jv_get_kind(model) != JV_KIND_OBJECT) {
		jv_free(model);
		return jv_null();
	}
	return find(model, ref);
}

static jv
l_list(void *st, const char *name, char **err)
{
	struct local *l = st;
	jv db = load(l, err), model, vers, res = jv_array();
	int i, n;

	if (!jv_is_valid(db)) {
		jv_free(res);
		return db;
	}
	model = model_of(db, name);
	if (jv_get_kind(model) != JV_KIND_OBJECT) {
		jv_free(model);
		return res;
	}
	vers = reg_get(jv_copy(model), jv_string("versions"));
	n = jv_array_length(jv_copy(vers));
	for (i = 0; i < n; i++)
		res = jv_array_append(res, present(jv_copy(model),
		    jv_array_get(jv_copy(vers), i)));
	jv_free(vers);
	jv_free(model);
	return res;
}

static int
l_promote(void *st, const char *name, long long version, const char *stage,
    long long prev, jv event, char **err)
{
	struct local *l = st;
	jv db, model, vers, cur, amap;
	char *palias;
	char ts[24];

	if (lock(l, err) != 0) {
		jv_free(event);
		return -1;
	}
	db = load(l, err);
	if (!jv_is_valid(db))
		goto fail;
	model = model_of(jv_copy(db), name);
	amap = reg_get(jv_copy(model), jv_string("aliases"));
	cur = reg_get(jv_copy(amap), jv_string(stage));
	/*
	 * The contract was checked without the lock; if another promoter
	 * moved the stage since, the check was against the wrong holder.
	 */
	if ((prev == 0 && jv_get_kind(cur) == JV_KIND_NUMBER) ||
	    (prev != 0 && (jv_get_kind(cur) != JV_KIND_NUMBER ||
	    (long long)jv_number_value(cur) != prev))) {
		*err = xasprintf("%s: %s changed while promoting; run the "
		    "promotion again", name, stage);
		jv_free(cur);
		jv_free(amap);
		jv_free(model);
		jv_free(db);
		goto fail;
	}
	jv_free(cur);
	amap = jv_object_set(amap, jv_string(stage), jv_number(
	    (double)version));
	vers = reg_get(jv_copy(model), jv_string("versions"));
	reg_iso(reg_now(), ts);
	if (prev != 0) {
		jv pv = jv_array_get(jv_copy(vers), (int)prev - 1);

		palias = xasprintf("%s-previous", stage);
		amap = jv_object_set(amap, jv_string(palias), jv_number(
		    (double)prev));
		free(palias);
		pv = jv_object_set(pv, jv_string("status"),
		    jv_string("archived"));
		pv = jv_object_set(pv, jv_string("archived_at"), jv_string(ts));
		vers = jv_array_set(vers, (int)prev - 1, pv);
	}
	{
		jv cv = jv_array_get(jv_copy(vers), (int)version - 1);

		cv = jv_object_set(cv, jv_string("status"),
		    jv_string("active"));
		vers = jv_array_set(vers, (int)version - 1, cv);
	}
	model = jv_object_set(model, jv_string("versions"), vers);
	model = jv_object_set(model, jv_string("aliases"), amap);
	model = jv_object_set(model, jv_string("history"), jv_array_append(
	    reg_get(jv_copy(model), jv_string("history")), event));
	db = jv_object_set(db, jv_string("models"), jv_object_set(
	    reg_get(jv_copy(db), jv_string("models")), jv_string(name),
	    model));
	if (save(l, db, err) != 0) {
		unlock(l);
		return -1;
	}
	unlock(l);
	return 0;
fail:
	unlock(l);
	jv_free(event);
	return -1;
}

static jv
l_history(void *st, const char *name, char **err)
{
	struct local *l = st;
	jv db = load(l, err), model, h;

	if (!jv_is_valid(db))
		return db;
	model = model_of(db, name);
	h = reg_get(model, jv_string("history"));
	if (jv_get_kind(h) != JV_KIND_ARRAY) {
		jv_free(h);
		return jv_array();
	}
	return h;
}

static void
l_close(void *st)
{
	struct local *l = st;

	unlock(l);
	free(l->path);
	free(l);
}

static const struct reg_backend local_backend = {
	l_create, l_get, l_list, l_promote, l_history, l_close
};

struct registry *
reg_open_local(const char *path)
{
	struct registry *r = xcalloc(1, sizeof *r);
	struct local *l = xcalloc(1, sizeof *l);

	l->path = xstrdup(path);
	l->lockfd = -1;
	r->be = &local_backend;
	r->state = l;
	return r;
}

int
reg_is_local(const struct registry *r)
{
	return r->be == &local_backend;
}
