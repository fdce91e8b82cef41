/*
 * gbexp.h - GrowthBook experiment definitions and the assignment-only path
 * of the SDK's runExperiment: filters or namespace, hash, ranges, first
 * matching range.  Definitions are read from JSON objects that use the
 * SDK's own field names, so an experiment can be pasted between a
 * GrowthBook feature and asin-split.
 */
#ifndef GBEXP_H
#define GBEXP_H

#include <jv.h>

#include "gbhash.h"

/*
 * How to look up a record's attributes (filter attributes, rule
 * conditions).  get() returns 1 and the value as a string (the form the
 * SDK hashes: String(value)) when the attribute is present and truthy,
 * else 0.  The string is borrowed until the next call.
 */
struct gb_lookup {
	int (*get)(void *ctx, const char *name, const char **s, size_t *n);
	void *ctx;
};

struct gb_filter {
	char *attribute;	/* NULL: the experiment's hash attribute */
	char *seed;
	int hash_version;
	struct gb_range *ranges;
	int nranges;
};

struct gb_experiment {
	char *key;
	char *seed;		/* the seed, or the key when none was given */
	char *hash_attribute;	/* "id" unless given */
	int hash_version;	/* as given, or the parse default */
	int active;
	int nvar;
	jv variations;		/* the SDK's values, owned */
	char **names;		/* nvar variant names (see gb_exp_parse) */
	double *weights;	/* nvar normalised weights as used */
	double coverage;
	int explicit_ranges;	/* ranges came from the definition */
	struct gb_range *ranges;	/* nvar effective ranges */
	int has_namespace;
	char *ns_id;
	double ns_lo;
	double ns_hi;
	struct gb_filter *filters;
	int nfilters;
	char *cond_attr;	/* rule condition attr == value; NULL: none */
	char *cond_value;
	enum gb_unicode mode;
	struct gb_hasher hasher;
};

struct gb_parse_opts {
	int default_version;	/* the SDK's default is 1 */
	int strict;		/* reject what the SDK would silently fix */
	const char *default_key;	/* for feature rules: the feature key */
	const char *default_attr;	/* hash attribute when none: "id" */
	enum gb_unicode mode;
};

/*
 * Read one experiment from a JSON object (consumed).  Fields: key,
 * variations, weights, coverage, seed, hashVersion, hashAttribute,
 * ranges, namespace [id, lo, hi], filters, active, meta, name.  Variant
 * names are meta[i].key, else variations[i] when it is a string or an
 * integer, else the index.  Leniently the SDK's rules apply (bad weights
 * mean equal weights, coverage is clamped, fewer than two variations
 * never assign); with opts->strict each of those is an error, as are
 * unknown fields.  Returns 1, or 0 with *err a fresh message the caller
 * frees (e is then left empty and needs no gb_exp_free()).
 */
int gb_exp_parse(struct gb_experiment *e, jv def,
    const struct gb_parse_opts *opts, char **err);
void gb_exp_free(struct gb_experiment *e);

/* Why a record is not in the experiment. */
enum gb_why {
	GB_IN = 0,
	GB_NO_ID,		/* hash attribute missing or falsy */
	GB_INACTIVE,		/* active false or fewer than two variations */
	GB_FILTER,
	GB_NAMESPACE,
	GB_BAD_VERSION,
	GB_COVERAGE,		/* hashed into no range */
	GB_NO_RULE		/* no rule's condition matched */
};

struct gb_result {
	int variation;		/* index, or -1 when not in the experiment */
	double bucket;		/* the hash, or -1 when not hashed */
	enum gb_why why;
};

/*
 * runExperiment for one unit.  id/idlen is the hash attribute's value as
 * a string (NULL or "" when missing or falsy); lk resolves the other
 * attributes filters name (may be NULL when there are none).
 */
void gb_exp_run(const struct gb_experiment *e, const char *id, size_t idlen,
    const struct gb_lookup *lk, struct gb_result *r);

/*
 * Feature semantics over experiment rules e[0..n-1] (all sharing one key
 * and seed, as one rule per category): the first rule whose condition
 * holds and which puts the unit in its experiment wins, otherwise the
 * unit falls through to the next rule.  Returns the deciding rule's
 * index, or -1 (r->why tells why; GB_NO_RULE when no condition held).
 */
int gb_rules_run(const struct gb_experiment *e, int n, const char *id,
    size_t idlen, const struct gb_lookup *lk, struct gb_result *r);

/*
 * Filters (the "filters" array of an experiment or rule): parse one
 * array (consumed) as gb_exp_parse() does, and test a unit against them.
 * gb_filters_pass() is 0 when any filter excludes the unit.
 */
int gb_filters_parse(jv arr, const struct gb_parse_opts *opts,
    struct gb_filter **out, int *n, char **err);
void gb_filters_free(struct gb_filter *f, int n);
int gb_filters_pass(const struct gb_filter *f, int n, const char *id,
    size_t idlen, const struct gb_lookup *lk, enum gb_unicode mode);

/* The name of a unicode mode ("utf16", ...) and its inverse (-1: none). */
const char *gb_unicode_name(enum gb_unicode);
int gb_unicode_parse(const char *s);

#endif
