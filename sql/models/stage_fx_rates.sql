CREATE TEMP TABLE fx_batch (
    day      date    NOT NULL,
    currency text    NOT NULL,
    rate     numeric NOT NULL
) ON COMMIT DROP;
