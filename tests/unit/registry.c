/*
 * Unit tests of the registry engine's pure parts: signature checks and
 * the contract diff (common/regsig.c), NAME@REF parsing (registry.c),
 * MLflow metric names, content keys, and the URL helpers of rest.c.
 */
#include <stdlib.h>
#include <string.h>

#include "registry.h"
#include "tap.h"

static jv
sig(const char *text)
{
	char *err = NULL;
	jv v = sig_check(jv_parse(text), &err);

	if (!jv_is_valid(v)) {
		printf("# %s\n", err);
		free(err);
	}
	return v;
}

static void
diff_is(const char *a, const char *b, const char *want, int n,
    const char *what)
{
	struct buf msg;
	int got;
	jv sa = sig(a), sb = sig(b);

	buf_init(&msg);
	got = sig_diff(sa, sb, &msg);
	jv_free(sa);
	jv_free(sb);
	tap_str(msg.data ? msg.data : "", want, what);
	tap_ok(got == n, "  ... and the number of differences");
	buf_free(&msg);
}

static void
test_diff(void)
{
	const char *base = "{\"inputs\":[{\"name\":\"a\",\"type\":\"double\"},"
	    "{\"name\":\"b\",\"type\":\"long\"}],\"outputs\":[{\"name\":"
	    "\"s\",\"type\":\"double\"}]}";

	diff_is(base, base, "", 0, "the same signature: no difference");
	diff_is(base, "{\"inputs\":[{\"name\":\"a\",\"type\":\"double\"},"
	    "{\"name\":\"b\",\"type\":\"double\"},{\"name\":\"c\",\"type\":"
	    "\"string\"}],\"outputs\":[{\"name\":\"s\",\"type\":\"double\"}]}",
	    "retyped feature \"b\" (long -> double); added feature \"c\" "
	    "(string)", 2, "retyped and added");
	diff_is(base, "{\"inputs\":[{\"name\":\"b\",\"type\":\"long\"}],"
	    "\"outputs\":[{\"name\":\"s\",\"type\":\"double\"}]}",
	    "removed feature \"a\"", 1, "removed");
	diff_is(base, "{\"inputs\":[{\"name\":\"b\",\"type\":\"long\"},"
	    "{\"name\":\"a\",\"type\":\"double\"}],\"outputs\":[{\"name\":"
	    "\"s\",\"type\":\"double\"}]}",
	    "moved feature \"b\" (2 -> 1); moved feature \"a\" (1 -> 2)", 2,
	    "moved: order counts");
	diff_is(base, "{\"inputs\":[{\"name\":\"a\",\"type\":\"double\"},"
	    "{\"name\":\"b\",\"type\":\"long\"}],\"outputs\":[{\"name\":"
	    "\"s\",\"type\":\"float\"}]}", "output changed", 1,
	    "output changed");
}

static void
test_check(void)
{
	char *err = NULL;
	jv v;

	v = sig_check(jv_parse("{\"inputs\":[],\"outputs\":[]}"), &err);
	tap_ok(!jv_is_valid(v), "empty inputs refused");
	tap_str(err, "signature: \"inputs\" is empty", "  ... with its message");
	jv_free(v);
	free(err);
	err = NULL;
	v = sig_check(jv_parse("{\"inputs\":[{\"name\":\"a\",\"type\":"
	    "\"tensor\"}],\"outputs\":[]}"), &err);
	tap_ok(!jv_is_valid(v), "tensor specs refused");
	jv_free(v);
	free(err);
	err = NULL;
	v = sig_from_rank(jv_parse("{\"features\":[\"x\",\"n\",\"c\"],"
	    "\"types\":[\"number\",\"integer\",\"string\"]}"), &err);
	{
		jv s = jv_dump_string(v, 0);

		tap_str(jv_string_value(s), "{\"inputs\":[{\"name\":\"x\","
		    "\"type\":\"double\",\"required\":true},{\"name\":\"n\","
		    "\"type\":\"long\",\"required\":true},{\"name\":\"c\","
		    "\"type\":\"string\",\"required\":true}],\"outputs\":[{"
		    "\"name\":\"rank_score\",\"type\":\"double\",\"required\":"
		    "true}]}", "asin-rank types map to MLflow's");
		jv_free(s);
	}
}

static void
test_names(void)
{
	static const struct {
		const char *in, *want;
	} m[] = {
		{ "ndcg@10", "ndcg_at_10" }, { "recall@50", "recall_at_50" },
		{ "map@k_lgb", "map_at_k_lgb" }, { "lift(10)", "lift_10_" },
		{ "a.b-c/d e", "a.b-c/d e" }, { "", "" },
	};
	char *name, *ref, key[17], *s;
	size_t i;

	for (i = 0; i < sizeof m / sizeof m[0]; i++) {
		s = metric_mlflow_name(m[i].in);
		tap_str(s, m[i].want, m[i].in);
		free(s);
	}
	tap_ok(reg_parse_ref("rank@production", &name, &ref) == 0 &&
	    strcmp(name, "rank") == 0 && strcmp(ref, "production") == 0,
	    "NAME@ALIAS");
	free(name);
	free(ref);
	tap_ok(reg_parse_ref("rank", &name, &ref) == 0 &&
	    strcmp(ref, "latest") == 0, "NAME alone is NAME@latest");
	free(name);
	free(ref);
	tap_ok(reg_parse_ref("rank@", &name, &ref) == -1, "NAME@ refused");
	tap_ok(reg_parse_ref("ra nk@1", &name, &ref) == -1, "bad name refused");
	tap_ok(reg_parse_ref("rank@a'b", &name, &ref) == -1,
	    "quote in an alias refused");
	tap_ok(!reg_valid_name("..") && reg_valid_name("asin-rank.v2"),
	    "names: not all dots; dots, dashes allowed");
	content_key("", 0, key);
	tap_str(key, "cbf29ce484222325", "content key of nothing: FNV-1a basis");
	content_key("a", 1, key);
	tap_str(key, "af63dc4c8601ec8c", "content key of 'a'");
	s = rest_redact_url("https://u:secret@h:1/x?y=@");
	tap_str(s, "https://***@h:1/x?y=@", "userinfo cut from a URL");
	free(s);
	s = rest_redact_url("http://h/a@b");
	tap_str(s, "http://h/a@b", "an @ in the path is not userinfo");
	free(s);
	s = rest_escape("name='a b'&x");
	tap_str(s, "name%3D%27a%20b%27%26x", "query escaping");
	free(s);
}

int
main(void)
{
	test_diff();
	test_check();
	test_names();
	return tap_done();
}
