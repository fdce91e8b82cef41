-- db-0001-tables.sql: asin-db schema version 1, the tables.
--
-- One table per record kind, named after it.  Every table has a key
-- (its PRIMARY KEY: asin-db load upserts by it) and an "extra" JSON
-- column that keeps the fields a row came with and the table has no
-- column for.  Declared types are what asin-db load checks and what
-- asin-db query prints: INTEGER, REAL, TEXT, BOOLEAN (0/1 stored,
-- true/false printed), JSON (JSON text, printed as JSON) and no type
-- at all (no affinity: an id that is a number or a string keeps its
-- type; "ANY" would be NUMERIC affinity outside STRICT tables).
-- Tables are WITHOUT ROWID: the rows live in the key's B-tree, so an
-- upsert touches one tree, not a table and an index.

CREATE TABLE marketplaces (
	marketplace TEXT NOT NULL PRIMARY KEY
	    CHECK (marketplace GLOB '[A-Z][A-Z]'),
	domain_id INTEGER,
	name TEXT,
	currency TEXT,
	extra JSON
) WITHOUT ROWID;

CREATE TABLE categories (
	marketplace TEXT NOT NULL CHECK (marketplace GLOB '[A-Z][A-Z]'),
	category_id NOT NULL,
	name TEXT,
	parent_id,
	extra JSON,
	PRIMARY KEY (marketplace, category_id)
) WITHOUT ROWID;

CREATE TABLE products (
	asin TEXT NOT NULL CHECK (length(asin) = 10 AND
	    asin NOT GLOB '*[^A-Z0-9]*'),
	marketplace TEXT NOT NULL CHECK (marketplace GLOB '[A-Z][A-Z]'),
	title TEXT,
	brand TEXT,
	category TEXT,
	bsr_cat,
	sub_cat,
	listed_since TEXT,
	first_seen TEXT,
	last_seen TEXT,
	extra JSON,
	PRIMARY KEY (asin, marketplace)
) WITHOUT ROWID;

-- One row per fetch envelope, without its payload: which ASIN came back
-- how on which day.
CREATE TABLE fetch_log (
	asin TEXT NOT NULL,
	marketplace TEXT NOT NULL,
	date TEXT NOT NULL CHECK (date GLOB
	    '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]'),
	provider TEXT NOT NULL,
	endpoint TEXT,
	fetched_at TEXT,
	status TEXT,
	reason TEXT,
	http_status INTEGER,
	attempts INTEGER,
	batch TEXT,
	extra JSON,
	PRIMARY KEY (asin, marketplace, date, provider)
) WITHOUT ROWID;

-- schemas/fact.schema.json
CREATE TABLE facts (
	asin TEXT NOT NULL CHECK (length(asin) = 10 AND
	    asin NOT GLOB '*[^A-Z0-9]*'),
	marketplace TEXT NOT NULL CHECK (marketplace GLOB '[A-Z][A-Z]'),
	date TEXT NOT NULL CHECK (date GLOB
	    '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]'),
	bsr INTEGER,
	bsr_cat,
	sub_bsr INTEGER,
	sub_cat,
	category TEXT,
	price REAL,
	price_buybox REAL,
	price_new REAL,
	price_amazon REAL,
	list_price REAL,
	currency TEXT,
	offers_new INTEGER,
	offers INTEGER,
	rating REAL,
	review_count INTEGER,
	monthly_sold INTEGER,
	deal_active BOOLEAN,
	bsr_events INTEGER,
	title TEXT,
	title_len INTEGER,
	bullet_count INTEGER,
	bullet_chars_mean REAL,
	image_count INTEGER,
	has_video BOOLEAN,
	has_aplus BOOLEAN,
	desc_chars INTEGER,
	listed_since TEXT,
	source_last_update TEXT,
	source TEXT,
	fetched_at TEXT,
	anomalies JSON,
	extra JSON,
	PRIMARY KEY (asin, marketplace, date)
) WITHOUT ROWID;

-- asin-feat rows: the features dashboards and scoring read most; every
-- other feature (and the fact fields a feature row carries) is in extra.
CREATE TABLE features (
	asin TEXT NOT NULL,
	marketplace TEXT NOT NULL,
	date TEXT NOT NULL,
	category TEXT,
	bsr_last INTEGER,
	bsr_median_30 REAL,
	bsr_log_slope_7 REAL,
	bsr_log_slope_30 REAL,
	bsr_log_mom_30 REAL,
	bsr_cv_30 REAL,
	rank_drops_30 INTEGER,
	price_mean_30 REAL,
	price_cv_30 REAL,
	review_velocity_7 REAL,
	review_velocity_30 REAL,
	review_growth_pct_30 REAL,
	review_accel REAL,
	rating_last REAL,
	age_days INTEGER,
	lqs REAL,
	coverage_7 REAL,
	coverage_30 REAL,
	label_gain REAL,
	label_breakout BOOLEAN,
	label_grade INTEGER,
	label_promo_driven BOOLEAN,
	extra JSON,
	PRIMARY KEY (asin, marketplace, date)
) WITHOUT ROWID;

-- asin-zscore rows (and later model scores): one score per ASIN and day.
CREATE TABLE scores (
	asin TEXT NOT NULL,
	marketplace TEXT NOT NULL,
	date TEXT NOT NULL,
	category TEXT,
	score REAL,
	group_n INTEGER,
	group_rank INTEGER,
	group_pct REAL,
	z_backoff INTEGER,
	z_flat BOOLEAN,
	extra JSON,
	PRIMARY KEY (asin, marketplace, date)
) WITHOUT ROWID;

-- asin-split rows.
CREATE TABLE assignments (
	experiment TEXT NOT NULL,
	asin TEXT NOT NULL,
	variant TEXT,
	variation_id INTEGER,
	in_experiment BOOLEAN,
	bucket REAL,
	hash_version INTEGER,
	extra JSON,
	PRIMARY KEY (experiment, asin)
) WITHOUT ROWID;

-- asin-uplift readout rows: one per experiment, record kind, variant
-- and metric.
CREATE TABLE uplift (
	experiment TEXT NOT NULL,
	record TEXT NOT NULL,
	variant TEXT NOT NULL DEFAULT '',
	metric TEXT NOT NULL DEFAULT '',
	control TEXT,
	control_value REAL,
	variant_value REAL,
	abs_uplift REAL,
	rel_uplift REAL,
	p_value REAL,
	significant BOOLEAN,
	extra JSON,
	PRIMARY KEY (experiment, record, variant, metric)
) WITHOUT ROWID;

-- One row per training or scoring run of a model.
CREATE TABLE model_runs (
	run_id TEXT NOT NULL PRIMARY KEY,
	model TEXT,
	started_at TEXT,
	finished_at TEXT,
	params JSON,
	metrics JSON,
	extra JSON
) WITHOUT ROWID;
