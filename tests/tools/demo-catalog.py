#!/usr/bin/env python3
"""demo-catalog.py - a deterministic demo catalogue for `make demo` and the
daily job's tests: Keepa-shaped /product answers, one file per product,
that tests/tools/fake-upstream serves with --files DIR.

Every product has DAYS days of history ending on --end: a log-normal
sales-rank walk (two points a day, as Keepa logs them) around the
product's level, sticky prices with occasional repricing and deals, a
new-offer count, a rating, and a review count that grows faster the
better the rank.  A few products per marketplace are planted breakouts:
over the last BREAKOUT_DAYS days their rank improves 15-40x, steadily,
and their reviews speed up, so a daily job on --end must put each at the
top of its category.

Writes into DIR: one <MKT>-<ASIN>.json per product ({"products":[...]}),
asins.ndjson (the watch list: asin and marketplace; one ASIN the
upstream does not know, one more that is not an ASIN) and
breakouts.ndjson (the planted ones: asin, marketplace, category).
Standard library only.
"""

import argparse
import json
import math
import os
import random
import sys
from datetime import date

KEEPA_EPOCH_MIN = 21564000
BREAKOUT_DAYS = 14

MARKETS = {
    # code: (domainId, currency, share of the catalogue)
    "US": (1, "USD", 0.5),
    "GB": (2, "GBP", 0.25),
    "DE": (3, "EUR", 0.25),
}

# name, root category id (the BSR is measured in it), leaf ids, nouns
CATEGORIES = [
    ("Toys & Games", 165793011, [166220011, 166359011, 166092011],
     ["Building Set", "Puzzle", "Plush Toy", "Board Game", "Kite"]),
    ("Home & Kitchen", 1055398, [289913, 3206324011, 13397451],
     ["Knife Set", "Storage Box", "Coffee Grinder", "Cutting Board", "Lamp"]),
    ("Sports & Outdoors", 3375251, [3400371, 3407731, 706814011],
     ["Yoga Mat", "Water Bottle", "Trail Shoes", "Resistance Band", "Tent"]),
    ("Electronics", 172282, [281407, 172541, 3015427011],
     ["Phone Charger", "Earbuds", "USB Hub", "Webcam", "Power Bank"]),
    ("Beauty & Personal Care", 3760911, [11060451, 11058281, 3778591],
     ["Face Serum", "Hair Dryer", "Nail Kit", "Lip Balm", "Shaving Set"]),
    ("Pet Supplies", 2619533011, [2975312011, 2975265011, 2975241011],
     ["Dog Bed", "Cat Tree", "Pet Brush", "Leash", "Feeder"]),
]

BRANDS = ["Acme", "Nordvik", "Calyx", "Zephra", "Emberly", "Lumora", "Tidewell",
          "Brightfold", "Kestrel", "Orvana", "Pinecrest", "Solace", "Vantor"]
ADJ = ["Compact", "Premium", "Foldable", "Waterproof", "Extra Large",
       "Eco-Friendly", "Wireless", "Heavy Duty", "Lightweight", "Deluxe"]


UNIX_ORD = date(1970, 1, 1).toordinal()


def km(day_ord, minute=0):
    """Keepa minutes of a day (proleptic ordinal) plus minute."""
    return (day_ord - UNIX_ORD) * 1440 + minute - KEEPA_EPOCH_MIN


def asin_of(rng, seen):
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    while True:
        a = "B0" + "".join(rng.choice(alphabet) for _ in range(8))
        if a not in seen and not a.startswith(("B0MISS", "B0INVL")):
            seen.add(a)
            return a


def product(rng, asin, mkt, cat, end_ord, days, breakout):
    dom, _cur, _ = MARKETS[mkt]
    name, root, leaves, nouns = cat
    leaf = rng.choice(leaves)
    brand = rng.choice(BRANDS)
    title = "%s %s %s, %s" % (brand, rng.choice(ADJ), rng.choice(nouns),
                              rng.choice(["Pack of 2", "Gift Box", "2026 Edition",
                                          "Black", "Blue", "Large", "Set of 4"]))
    level = math.log(rng.uniform(800, 250000))
    lr = level
    price = round(rng.uniform(8, 120), 2)
    list_price = round(price * rng.uniform(1.1, 1.5), 2)
    offers = rng.randint(1, 25)
    rating = rng.uniform(3.6, 4.8)
    reviews = float(rng.randint(5, 6000))
    start = end_ord - days + 1
    listed = start - rng.randint(30, 900)
    sales, new, amazon, cnt_new, rat, revs, bb = [], [], [], [], [], [], []
    ranks_by_day = []
    last_price = None
    for d in range(start, end_ord + 1):
        i = d - start
        into = i - (days - BREAKOUT_DAYS)
        # Mean reversion around the level, day-to-day noise; a breakout
        # drifts down (better) every day of its window.
        drift = 0.0
        if breakout is not None and into >= 0:
            drift = -breakout
        lr += drift + 0.06 * rng.gauss(0, 1) + \
            (0.05 * (level - lr) if drift == 0 else 0)
        lr = max(lr, 0.0)
        base = km(d)
        for m in (60 + int(rng.random() * 540), 720 + int(rng.random() * 660)):
            r = int(math.exp(lr + 0.03 * rng.gauss(0, 1))) + 1
            sales += [base + m, r]
        ranks_by_day.append(sales[-1])
        if rng.random() < 0.04:
            price = round(price * rng.uniform(0.9, 1.1), 2)
        p = price
        if rng.random() < 0.03:
            p = round(price * 0.8, 2)
        cents = int(round(p * 100))
        if cents != last_price:
            new += [base + 300, cents]
            bb += [base + 300, cents, 0]
            last_price = cents
        if rng.random() < 0.05:
            offers = max(1, offers + rng.choice([-1, 1]))
            cnt_new += [base + 400, offers]
        # Reviews grow with sales: about 60 a day at rank 100.
        rate = math.exp(math.log(60) - 0.45 * (lr - math.log(100)))
        if breakout is not None and into >= 0:
            rate *= 1.5
        reviews += rate * rng.uniform(0.5, 1.5)
        revs += [base + 1200, int(reviews)]
        rating = min(5.0, max(1.0, rating + 0.01 * rng.gauss(0, 1)))
        if i % 7 == 0 or i == days - 1:
            rat += [base + 1210, int(round(rating * 10))]
    amazon += [km(start, 0), -1]
    cnt_new = [km(start, 0), offers] + cnt_new
    csv = [None] * 19
    csv[0], csv[1], csv[3] = amazon, new, sales
    csv[11], csv[16], csv[17], csv[18] = cnt_new, rat, revs, bb
    csv[4] = [km(start, 0), int(list_price * 100)]
    last_day_ranks = [x for j, x in enumerate(sales) if j % 2 == 1]
    drops30 = sum(1 for j in range(max(1, len(last_day_ranks) - 60),
                                   len(last_day_ranks))
                  if last_day_ranks[j] < last_day_ranks[j - 1])
    sub = [[t, max(1, v // 7)] for t, v in zip(sales[0::2], sales[1::2])]
    return {
        "asin": asin,
        "domainId": dom,
        "productType": 0,
        "title": title,
        "brand": brand,
        "manufacturer": brand + " Ltd",
        "productGroup": name,
        "rootCategory": root,
        "categories": [leaf],
        "categoryTree": [{"catId": root, "name": name},
                         {"catId": leaf, "name": "%s %d" % (name, leaf % 1000)}],
        "salesRankReference": root,
        "salesRanks": {str(leaf): [x for pair in sub for x in pair]},
        "lastUpdate": km(end_ord + 1, 240),
        "lastPriceChange": new[-2] if new else -1,
        "listedSince": km(listed, 0),
        "trackingSince": km(listed + 3, 0),
        "features": ["%s feature %d of %s" % (brand, k, asin)
                     for k in range(rng.randint(2, 6))],
        "description": "A %s by %s." % (title.lower(), brand),
        "imagesCSV": ",".join("%s-%d.jpg" % (asin, k)
                              for k in range(rng.randint(1, 8))),
        "hasReviews": True,
        "csv": csv,
        "stats": {
            "current": [-1, int(round(price * 100)), -1, ranks_by_day[-1]],
            "salesRankDrops30": drops30,
        },
        "monthlySold": 100 * int(rate * 3) if rate > 1 else 0,
        "reviews": {"lastUpdate": km(end_ord, 1200), "ratingCount": int(reviews)},
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, help="directory to write")
    ap.add_argument("--asins", type=int, default=3000)
    ap.add_argument("--days", type=int, default=120)
    ap.add_argument("--end", default="2026-05-10", help="last day (UTC)")
    ap.add_argument("--breakouts", type=int, default=6,
                    help="planted breakouts (each in its own category)")
    ap.add_argument("--seed", type=int, default=13)
    a = ap.parse_args()
    end_ord = date.fromisoformat(a.end).toordinal()
    rng = random.Random(a.seed)
    os.makedirs(a.out, exist_ok=True)
    seen = set()
    plan = []
    for mkt, (_d, _c, share) in MARKETS.items():
        n = max(len(CATEGORIES), int(round(a.asins * share)))
        for k in range(n):
            plan.append((mkt, CATEGORIES[k % len(CATEGORIES)]))
    # Breakouts: round-robin over markets and categories, no two alike.
    slots = []
    for k in range(a.breakouts):
        mkt = list(MARKETS)[k % len(MARKETS)]
        cat = CATEGORIES[(k * 5) % len(CATEGORIES)]
        slots.append((mkt, cat[0]))
    watch, planted = [], []
    for mkt, cat in plan:
        asin = asin_of(rng, seen)
        brk = None
        if (mkt, cat[0]) in slots:
            slots.remove((mkt, cat[0]))
            brk = rng.uniform(math.log(15), math.log(40)) / BREAKOUT_DAYS
            planted.append({"asin": asin, "marketplace": mkt,
                            "category": cat[0]})
        p = product(rng, asin, mkt, cat, end_ord, a.days, brk)
        body = json.dumps({"timestamp": (km(end_ord + 1, 240) +
                                         KEEPA_EPOCH_MIN) * 60000,
                           "tokensLeft": 1200, "products": [p]},
                          separators=(",", ":"))
        with open(os.path.join(a.out, "%s-%s.json" % (mkt, asin)), "w") as f:
            f.write(body)
        watch.append({"asin": asin, "marketplace": mkt})
    with open(os.path.join(a.out, "asins.ndjson"), "w") as f:
        for w in watch:
            f.write(json.dumps(w, separators=(",", ":")) + "\n")
        f.write('{"asin":"B0MISS0001","marketplace":"US"}\n')
        f.write('{"asin":"not-an-asin","marketplace":"US"}\n')
    with open(os.path.join(a.out, "breakouts.ndjson"), "w") as f:
        for p in planted:
            f.write(json.dumps(p, separators=(",", ":")) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
