#!/usr/bin/python3
"""feat_oracle.py: an independent computation of asin-feat's features, for
the cross-check in tests/asin-feat-crosscheck.bats.

It shares no code or data layout with common/feat.c: rows stay in a dict
by date, every window is looked up day by day with datetime arithmetic,
sums go through math.fsum and medians through statistics.median.  The
definitions are read from reference/data-sources.md sections 3.3 and 3.4
and asin-feat(1).

  feat_oracle.py mutate SEED       stdin genfacts rows -> rows with gaps,
                                   category switches, deals, review purges
  feat_oracle.py features [--windows 7,30,90] [--label-horizon H]
                 [--top-q Q] [--min-coverage R] [--units A,B]  stdin -> rows
  feat_oracle.py compare A B       every feature of A and B within 1e-9
"""
import datetime
import json
import math
import random
import statistics
import sys

ONE = datetime.timedelta(days=1)
LQS_W = {"title": .20, "bullets": .10, "bullet_len": .05, "images": .20,
         "video": .05, "aplus": .10, "rating": .15, "reviews": .15}


def day(s):
    return datetime.date.fromisoformat(s)


def num(v):
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    return float(v)


def mutate(seed):
    """Gaps, category switches, deals, purges, Keepa counts, event drops."""
    rnd = random.Random(seed)
    rows = [json.loads(l) for l in sys.stdin if l.strip()]
    by = {}
    for r in rows:
        by.setdefault((r["asin"], r["marketplace"]), []).append(r)
    out = []
    for key in sorted(by):
        s = sorted(by[key], key=lambda r: r["date"])
        kind = rnd.random()
        switch = s[len(s) // 2]["date"] if kind < 0.15 else None
        purge = s[len(s) // 3]["date"] if 0.15 <= kind < 0.3 else None
        events = 0.3 <= kind < 0.5
        listed = (day(s[0]["date"]) - rnd.randint(0, 400) * ONE).isoformat()
        for r in s:
            if rnd.random() < 0.15:
                continue        # a gap
            if switch and r["date"] >= switch:
                r["category"] = "Switched " + str(r.get("category"))
            if purge and r["date"] >= purge and r.get("review_count"):
                r["review_count"] = max(0, r["review_count"] - 40)
            r["deal_active"] = rnd.random() < 0.05
            r["listed_since"] = listed
            if rnd.random() < 0.1:
                r["bsr"] = None
            if rnd.random() < 0.05:
                r["price"] = None
            if events:
                r["bsr_drops"] = rnd.randint(0, 6)
            if rnd.random() < 0.05:
                r["sales_rank_drops_30"] = rnd.randint(0, 90)
            r["offers_new"] = rnd.randint(1, 30)
            r["list_price"] = 99.5
            out.append(r)
    rnd.shuffle(out)
    for r in out:
        print(json.dumps(r, ensure_ascii=False))


def pstd(xs):
    m = math.fsum(xs) / len(xs)
    return math.sqrt(math.fsum((x - m) ** 2 for x in xs) / len(xs))


def lqs(r):
    s = {}
    L = num(r.get("title_len"))
    if L is None and isinstance(r.get("title"), str):
        L = float(len(r["title"]))
    if L is not None and L >= 0:
        s["title"] = min(L / 80, 1) if L <= 200 else max(0, 1 - (L - 200) / 100)
    b = num(r.get("bullet_count"))
    if b is not None and b >= 0:
        s["bullets"] = min(b, 5) / 5
    b = num(r.get("bullet_chars_mean"))
    if b is not None and b >= 0:
        s["bullet_len"] = min(b / 150, 1)
    b = num(r.get("image_count"))
    if b is not None and b >= 0:
        s["images"] = min(b, 7) / 7
    if isinstance(r.get("has_video"), bool):
        s["video"] = float(r["has_video"])
    ap, dc = r.get("has_aplus"), num(r.get("desc_chars"))
    if ap is True:
        s["aplus"] = 1.0
    elif dc is not None and dc >= 0:
        s["aplus"] = float(dc >= 1000)
    elif ap is False:
        s["aplus"] = 0.0
    x = num(r.get("rating"))
    if x is not None:
        s["rating"] = min(max((x - 3.5) / 1.3, 0), 1)
    x = num(r.get("review_count"))
    if x is not None and x >= 0:
        s["reviews"] = min(math.log10(1 + x) / 3, 1)
    den = math.fsum(LQS_W[k] for k in s)
    if not den:
        return None
    return 10 * math.fsum(LQS_W[k] * s[k] for k in s) / den


class Series:
    def __init__(self, rows):
        self.r = {day(x["date"]): x for x in rows}

    def bsr(self, d):
        x = num(self.r[d].get("bsr")) if d in self.r else None
        return x if x is not None and x > 0 else None

    def cat(self, d):
        x = self.r.get(d)
        if x is None:
            return None
        for k in ("bsr_cat", "category"):
            if x.get(k) is not None:
                return json.dumps(x[k], ensure_ascii=False)
        return None

    def price(self, d):
        x = self.r.get(d)
        if x is None:
            return None
        for k in ("price_buybox", "price_new", "price"):
            v = num(x.get(k))
            if v is not None and v > 0:
                return v
        return None

    def val(self, d, k, lo=None):
        x = self.r.get(d)
        v = num(x.get(k)) if x is not None else None
        if v is not None and lo is not None and v < lo:
            return None
        return v

    def days(self, D, N):
        return [D - (N - 1 - k) * ONE for k in range(N)]

    def changed(self, days):
        seen = {self.cat(d) for d in days if self.bsr(d) is not None}
        seen.discard(None)
        return len(seen) > 1

    def med7(self, D, cov):
        ds = self.days(D, 7)
        v = [self.bsr(d) for d in ds if self.bsr(d) is not None]
        if len(v) / 7 < cov or self.changed(ds):
            return None
        return statistics.median(v)

    def cat7(self, D):
        for d in self.days(D, 7):
            if self.bsr(d) is not None and self.cat(d) is not None:
                return self.cat(d)
        return None


def window(S, D, N, o, f):
    cov = o["cov"]
    ds = S.days(D, N)
    present = [d for d in ds if d in S.r]
    B = [(d, S.bsr(d)) for d in ds if S.bsr(d) is not None]
    P = [S.price(d) for d in ds if S.price(d) is not None]
    f[f"coverage_{N}"] = len(present) / N
    f[f"bsr_coverage_{N}"] = len(B) / N
    f[f"price_coverage_{N}"] = len(P) / N
    names = ["bsr_median", "bsr_log_slope", "bsr_log_mom", "bsr_cv",
             "rank_drops", "rank_drops_src", "drops_per_day", "price_mean",
             "price_cv", "price_range_pct", "price_changes", "oos_pct",
             "review_velocity", "review_growth_pct", "review_drop",
             "rating_delta", "offers_new_delta", "bsr_null"]
    if o["units"]:
        names.append("est_units")
    for n in names:
        if n == "bsr_log_mom" and N <= 7:
            continue
        f[f"{n}_{N}"] = None
    chg = S.changed(ds)
    if chg:
        f[f"bsr_null_{N}"] = "category_change"
    elif len(B) / N < cov:
        f[f"bsr_null_{N}"] = "coverage"
    else:
        ys = [math.log(b) for _, b in B]
        xs = [(d - D).days for d, _ in B]
        f[f"bsr_median_{N}"] = statistics.median([b for _, b in B])
        if len(B) >= 2:
            mx = math.fsum(xs) / len(xs)
            my = math.fsum(ys) / len(ys)
            sxx = math.fsum((x - mx) ** 2 for x in xs)
            if sxx > 0:
                f[f"bsr_log_slope_{N}"] = math.fsum(
                    (x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx
        f[f"bsr_cv_{N}"] = pstd(ys)
        if N > 7:
            a = [S.bsr(d) for d in ds[-7:] if S.bsr(d) is not None]
            b = [S.bsr(d) for d in ds[:7] if S.bsr(d) is not None]
            if len(a) / 7 >= cov and len(b) / 7 >= cov:
                f[f"bsr_log_mom_{N}"] = (math.log(statistics.median(a)) -
                                         math.log(statistics.median(b)))
        if o["units"]:
            a, b = o["units"]
            f[f"est_units_{N}"] = math.fsum(
                math.exp(a - b * math.log(x)) for _, x in B)
    kd = S.val(D, f"sales_rank_drops_{N}") if N in (30, 90) else None
    ev = [S.val(d, "bsr_drops") for d in ds if S.val(d, "bsr_drops") is not None]
    if kd is not None:
        f[f"rank_drops_{N}"], f[f"rank_drops_src_{N}"] = kd, "keepa"
    elif ev:
        if not chg and len(ev) / N >= cov:
            f[f"rank_drops_{N}"], f[f"rank_drops_src_{N}"] = sum(ev), "local"
    elif not chg and len(B) / N >= cov:
        k = 0
        for d in ds:
            a, b = S.bsr(d - ONE), S.bsr(d)
            if a is not None and b is not None and b < a * (1 - o["theta"]):
                k += 1
        f[f"rank_drops_{N}"], f[f"rank_drops_src_{N}"] = k, "daily"
    if f[f"rank_drops_{N}"] is not None:
        f[f"drops_per_day_{N}"] = f[f"rank_drops_{N}"] / N
    if P and len(P) / N >= cov:
        m = math.fsum(P) / len(P)
        f[f"price_mean_{N}"] = m
        f[f"price_cv_{N}"] = pstd(P) / m
        f[f"price_range_pct_{N}"] = (max(P) - min(P)) / statistics.median(P)
        f[f"price_changes_{N}"] = sum(
            1 for d in ds if S.price(d) is not None and
            S.price(d - ONE) is not None and S.price(d) != S.price(d - ONE))
    if present and len(present) / N >= cov:
        f[f"oos_pct_{N}"] = sum(
            1 for d in present if S.price(d) is None) / len(present)
    T = D - N * ONE
    for k, out, lo in (("review_count", "review", 0), ("rating", "rating", None),
                       ("offers_new", "offers_new", None)):
        have = [d for d in ds if S.val(d, k, lo) is not None]
        a, b = S.val(T, k, lo), S.val(D, k, lo)
        if a is None or b is None or len(have) / N < cov:
            continue
        if out == "review":
            f[f"review_drop_{N}"] = b - a < 0
            if b - a >= 0:
                f[f"review_velocity_{N}"] = (b - a) / N
                f[f"review_growth_pct_{N}"] = (b - a) / max(a, 1)
        else:
            f[f"{out}_delta_{N}"] = b - a


def features(S, D, o, xs):
    r = S.r[D]
    f = {}
    f["bsr_last"] = S.bsr(D)
    f["rating_last"] = S.val(D, "rating")
    f["offers_new_last"] = S.val(D, "offers_new")
    lp, p = S.val(D, "list_price"), S.price(D)
    f["discount_vs_list"] = 1 - p / lp if lp and lp > 0 and p else None
    for N in o["windows"]:
        window(S, D, N, o, f)
    if len(o["windows"]) >= 2:
        a = f[f"review_velocity_{o['windows'][0]}"]
        b = f[f"review_velocity_{o['windows'][1]}"]
        f["review_accel"] = a - b if a is not None and b is not None else None
    ls = r.get("listed_since")
    f["age_days"] = None
    if isinstance(ls, str) and (D - day(ls)).days >= 0:
        f["age_days"] = (D - day(ls)).days
    f["lqs"] = lqs(r)
    H = o["horizon"]
    if H:
        lab = dict.fromkeys(["gain", "breakout", "grade", "promo_driven",
                             "label_excluded"])
        now, fut = S.med7(D, o["cov"]), S.med7(D + H * ONE, o["cov"])
        if now is not None:
            lab["label_excluded"] = now > 500000
        span = [D - (6 - k) * ONE for k in range(7 + H)]
        if now is not None and fut is not None and not S.changed(span):
            g = math.log(now) - math.log(fut)
            lab["gain"] = g
            lab["grade"] = 0 if g < .2 else 1 if g < .5 else 2 if g < math.log(2) else 3
            c = S.cat7(D + H * ONE)
            if o["top_q"] >= 1:
                lab["breakout"] = g >= math.log(2)
            elif c is not None:
                lab["breakout"] = g >= math.log(2) and fut <= xs[(c, D + H * ONE)]
            pd = S.days(D, 30)
            pp = [S.price(d) for d in pd if S.price(d) is not None]
            pm = statistics.median(pp) if pp and len(pp) / 30 >= o["cov"] else None
            promo = False
            for k in range(1, H + 1):
                d = D + k * ONE
                if d in S.r and S.r[d].get("deal_active") is True:
                    promo = True
                if pm is not None and S.price(d) is not None and S.price(d) < 0.8 * pm:
                    promo = True
            lab["promo_driven"] = promo
        for k, v in lab.items():
            f[f"{k}_{H}"] = v
    f["feat_version"] = "1.0.0"
    return f


def quantile7(v, q):
    v = sorted(v)
    h = (len(v) - 1) * q
    lo = math.floor(h)
    return v[lo] + (h - lo) * (v[min(lo + 1, len(v) - 1)] - v[lo])


def run_features(args):
    o = {"windows": [7, 30, 90], "horizon": 0, "top_q": 0.2, "cov": 0.6,
         "theta": 0.0, "units": None}
    i = 0
    while i < len(args):
        a, v = args[i], args[i + 1]
        if a == "--windows":
            o["windows"] = [int(x) for x in v.split(",")]
        elif a == "--label-horizon":
            o["horizon"] = int(v)
        elif a == "--top-q":
            o["top_q"] = float(v)
        elif a == "--min-coverage":
            o["cov"] = float(v)
        elif a == "--units":
            o["units"] = tuple(float(x) for x in v.split(","))
        i += 2
    by = {}
    for l in sys.stdin:
        if l.strip():
            r = json.loads(l)
            by.setdefault((r["asin"], r["marketplace"]), []).append(r)
    series = {k: Series(v) for k, v in by.items()}
    xs = {}
    if o["horizon"] and o["top_q"] < 1:
        cs = {}
        for S in series.values():
            lo, hi = min(S.r), max(S.r) + 6 * ONE
            d = lo
            while d <= hi:
                m, c = S.med7(d, o["cov"]), S.cat7(d)
                if m is not None and c is not None:
                    cs.setdefault((c, d), []).append(m)
                d += ONE
        xs = {k: quantile7(v, o["top_q"]) for k, v in cs.items()}
    for k in sorted(series, key=lambda k: (k[0].encode(), k[1].encode())):
        S = series[k]
        for D in sorted(S.r):
            out = dict(S.r[D])
            out.update(features(S, D, o, xs))
            print(json.dumps(out, ensure_ascii=False))


def close(a, b):
    if isinstance(a, bool) or isinstance(b, bool) or isinstance(a, str) \
            or a is None or b is None:
        return a == b and type(a) is type(b) or (a is None and b is None)
    return abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))


def compare(pa, pb):
    A = [json.loads(l) for l in open(pa)]
    B = [json.loads(l) for l in open(pb)]
    if len(A) != len(B):
        sys.exit(f"{len(A)} rows against {len(B)}")
    bad = checked = 0
    for i, (a, b) in enumerate(zip(A, B)):
        if set(a) != set(b):
            sys.exit(f"row {i + 1}: keys differ: {sorted(set(a) ^ set(b))}")
        for k in a:
            checked += 1
            if not close(a[k], b[k]):
                bad += 1
                if bad <= 10:
                    print(f"row {i + 1} {a['asin']} {a['date']} {k}: "
                          f"{a[k]!r} != {b[k]!r}", file=sys.stderr)
    print(f"{len(A)} rows, {checked} values, {bad} differ")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    if sys.argv[1] == "mutate":
        mutate(int(sys.argv[2]))
    elif sys.argv[1] == "features":
        run_features(sys.argv[2:])
    elif sys.argv[1] == "compare":
        compare(sys.argv[2], sys.argv[3])
