-- history.sql: the trailing fact rows asin-feat needs for one day, in
-- the order its --sorted mode reads (asin, marketplace, date).
-- Parameters: :from and :to, the first and last day (YYYY-MM-DD).
SELECT *
FROM facts
WHERE date BETWEEN :from AND :to
ORDER BY asin, marketplace, date
