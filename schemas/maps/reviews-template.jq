# asin-dedupe --map for the templated reviews provider
# (schemas/providers/reviews-template.json): one fact row per envelope.
# Input: the asin-fetch envelope; .payload is the upstream's item.
# asin, marketplace, date, source and fetched_at come from the envelope
# when the row does not set them.
.payload
| {
    review_count: (.review_count // null),
    rating: (.rating // null),
    reviews_7d: (.reviews_7d // null)
  }
